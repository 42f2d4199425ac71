package main

import (
	"crypto/sha256"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/xoneharness/xoneharness/internal/auth"
	"github.com/xoneharness/xoneharness/internal/sandbox"
	"github.com/xoneharness/xoneharness/internal/xone"
)

// vegetaResult is what the vegeta mode prints: one JSON line on stdout.
type vegetaResult struct {
	Requests uint64  `json:"requests"`
	Errors   uint64  `json:"errors"`   // non-2xx responses and transport errors
	Achieved float64 `json:"achieved"` // the lower of send rate ÷ rate and requests ÷ planned
}

// vegetaChild is bare vegeta against the sandbox at -url: a static target (the bearer token
// fetched once, a fixed body, a fresh offer id per request), no validation, no histograms, no
// files; it counts requests and errors and the span from the first send to the last.
func vegetaChild(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("vegeta", flag.ContinueOnError)
	base := fs.String("url", "", "sandbox base URL")
	rate := fs.Int("rate", 1000, "requests per second")
	d := fs.Duration("duration", 3*time.Second, "attack length")
	workers := fs.Uint64("max-workers", 256, "MaxWorkers and Connections")
	if err := fs.Parse(args); err != nil {
		return err
	}
	src, err := auth.New(auth.Config{TokenURL: *base + xone.TokenPath, ClientID: sandbox.ClientID, ClientSecret: sandbox.ClientSecret})
	if err != nil {
		return err
	}
	token, err := src.Token()
	if err != nil {
		return err
	}
	hdr := http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}, "Authorization": {"Bearer " + token.AccessToken}}
	body := []byte(`{"quotes":[{"id":"` + xone.NewUUID() + `"}],"policyholder":` + xone.DemoPolicyholder + `}`)
	targeter := func(t *vegeta.Target) error {
		t.Method, t.URL, t.Body, t.Header = http.MethodPost, *base+xone.ConfirmPath(sandbox.PartnerID, xone.NewUUID()), body, hdr
		return nil
	}
	atk := vegeta.NewAttacker(vegeta.MaxWorkers(*workers), vegeta.Connections(int(*workers)),
		vegeta.Redirects(vegeta.NoFollow), vegeta.Timeout(30*time.Second))
	var r vegetaResult
	var first, last time.Time
	for res := range atk.Attack(targeter, vegeta.Rate{Freq: *rate, Per: time.Second}, *d, "bare") {
		if r.Requests == 0 || res.Timestamp.Before(first) {
			first = res.Timestamp
		}
		if res.Timestamp.After(last) {
			last = res.Timestamp
		}
		r.Requests++
		if res.Code < 200 || res.Code >= 300 {
			r.Errors++
		}
	}
	planned := float64(*rate) * d.Seconds()
	if span := last.Sub(first).Seconds(); span > 0 { // the same definition as xoneharness's rate_achieved
		r.Achieved = min(float64(r.Requests-1)/span/float64(*rate), float64(r.Requests)/planned)
	}
	return json.NewEncoder(out).Encode(r)
}

// spin burns one CPU until it is killed: a busy process beside a measurement.
func spin() {
	var sum [sha256.Size]byte
	for {
		sum = sha256.Sum256(sum[:])
	}
}
