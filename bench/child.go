package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// childResult is what a child process prints (one JSON line on stdout).
type childResult struct {
	Requests uint64  `json:"requests"`
	Errors   uint64  `json:"errors"`
	SpanS    float64 `json:"span_s"`     // first to last send (vegeta) or the whole run (closed loop)
	Achieved float64 `json:"achieved"`   // fraction of the requested rate achieved (vegeta)
	RatePerS float64 `json:"rate_per_s"` // requests per second over SpanS
}

// childFlags are the flags of the child modes.
type childFlags struct {
	url, token, partner string
	rate                int
	duration            time.Duration
	maxWorkers          uint64
	conns               int
}

func (c *childFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.url, "url", "", "sandbox base URL")
	fs.StringVar(&c.token, "token", "", "bearer token (the sandbox's; not a secret)")
	fs.StringVar(&c.partner, "partner", "SANDBOX-PARTNER", "partner id")
	fs.IntVar(&c.rate, "rate", 1000, "requests per second (vegeta)")
	fs.DurationVar(&c.duration, "duration", 3*time.Second, "attack length")
	fs.Uint64Var(&c.maxWorkers, "max-workers", 256, "vegeta MaxWorkers")
	fs.IntVar(&c.conns, "conns", 32, "closed-loop connections")
}

// fixedQuote is the quote id of the static body.
const fixedQuote = "7e6d5c4b-3a29-4187-a6b5-c4d3e2f1a0b9"

const policyholder = `{"first_name":"Ada","last_name":"Lovelace","email":"ada@example.com","phone":"+61400000000","country":"AU","address1":"1 Example St","city":"Sydney","region":"NSW","postcode":"2000"}`

// staticBody is the fixed confirm body of the bare clients.
var staticBody = []byte(`{"quotes":[{"id":"` + fixedQuote + `"}],"policyholder":` + policyholder + `}`)

// appendUUID appends a random version 4 UUID.
func appendUUID(b []byte, r *rand.Rand) []byte {
	const hexd = "0123456789abcdef"
	hi, lo := r.Uint64(), r.Uint64()
	hi = hi&^(0xf<<12) | 0x4<<12
	lo = lo&^(0x3<<62) | 0x2<<62
	var u [16]byte
	for i := range 8 {
		u[i] = byte(hi >> (56 - 8*i))
		u[8+i] = byte(lo >> (56 - 8*i))
	}
	for i, x := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hexd[x>>4], hexd[x&15])
	}
	return b
}

// runVegeta is the bare vegeta client: a static target (fixed bearer token and body, a fresh
// offer id per request), no validation, no histograms; it counts requests, non-2xx/transport
// errors and the send span.
func runVegeta(c childFlags, out io.Writer) error {
	prefix := c.url + "/api/partners/" + c.partner + "/offers/"
	hdr := http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"},
		"Authorization": {"Bearer " + c.token}}
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	targeter := func(t *vegeta.Target) error {
		b := make([]byte, 0, len(prefix)+36+8)
		b = append(b, prefix...)
		mu.Lock()
		b = appendUUID(b, rng)
		mu.Unlock()
		t.Method, t.URL, t.Body, t.Header = http.MethodPost, string(append(b, "/confirm"...)), staticBody, hdr
		return nil
	}
	atk := vegeta.NewAttacker(vegeta.Workers(10), vegeta.MaxWorkers(c.maxWorkers), vegeta.Connections(int(c.maxWorkers)),
		vegeta.Redirects(vegeta.NoFollow), vegeta.Timeout(30*time.Second))
	var res childResult
	var first, last time.Time
	for r := range atk.Attack(targeter, vegeta.Rate{Freq: c.rate, Per: time.Second}, c.duration, "bare") {
		if res.Requests == 0 || r.Timestamp.Before(first) {
			first = r.Timestamp
		}
		if r.Timestamp.After(last) {
			last = r.Timestamp
		}
		res.Requests++
		if r.Code < 200 || r.Code >= 300 {
			res.Errors++
		}
	}
	res.SpanS = last.Sub(first).Seconds()
	if res.SpanS > 0 {
		res.RatePerS = float64(res.Requests) / res.SpanS
	}
	planned := float64(c.rate) * c.duration.Seconds()
	res.Achieved = min(res.RatePerS/float64(c.rate), float64(res.Requests)/planned)
	return json.NewEncoder(out).Encode(res)
}

// runClosed is a closed-loop client on raw keep-alive connections (wrk-like: each connection
// sends the next request as soon as the previous response is read), to find how many confirms
// per second the sandbox answers. It parses only the status line and Content-Length.
func runClosed(c childFlags, out io.Writer) error {
	u, err := url.Parse(c.url)
	if err != nil {
		return fmt.Errorf("closed loop: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.duration)
	defer cancel()
	var ok, bad atomic.Uint64
	var wg sync.WaitGroup
	errc := make(chan error, c.conns)
	start := time.Now()
	for i := range c.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := closedConn(ctx, u.Host, c, uint64(i), &ok, &bad); err != nil {
				errc <- err
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	close(errc)
	if err := <-errc; err != nil {
		return err
	}
	res := childResult{Requests: ok.Load() + bad.Load(), Errors: bad.Load(), SpanS: elapsed}
	res.RatePerS = float64(ok.Load()) / elapsed
	return json.NewEncoder(out).Encode(res)
}

func closedConn(ctx context.Context, host string, c childFlags, seed uint64, ok, bad *atomic.Uint64) error {
	conn, err := net.Dial("tcp", host)
	if err != nil {
		return fmt.Errorf("closed loop: %w", err)
	}
	defer conn.Close()
	context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	rng := rand.New(rand.NewPCG(seed, uint64(time.Now().UnixNano())))
	head := "POST /api/partners/" + c.partner + "/offers/"
	tail := "/confirm HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + c.token +
		"\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: " +
		strconv.Itoa(len(staticBody)) + "\r\n\r\n"
	req := make([]byte, 0, len(head)+36+len(tail)+len(staticBody))
	br := bufio.NewReaderSize(conn, 16<<10)
	for ctx.Err() == nil {
		req = append(appendUUID(append(req[:0], head...), rng), tail...)
		req = append(req, staticBody...)
		if _, err := conn.Write(req); err != nil {
			break
		}
		code, err := readResponse(br)
		if err != nil {
			break
		}
		if code >= 200 && code < 300 {
			ok.Add(1)
		} else {
			bad.Add(1)
		}
	}
	return nil
}

// readResponse reads one HTTP/1.1 response with a Content-Length body and returns its status.
func readResponse(br *bufio.Reader) (int, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 12 {
		return 0, errors.New("short status line")
	}
	code, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, err
	}
	n := -1
	for {
		h, err := br.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		h = bytes.TrimRight(h, "\r\n")
		if len(h) == 0 {
			break
		}
		if k, v, found := bytes.Cut(h, []byte(":")); found && bytes.EqualFold(k, []byte("Content-Length")) {
			if n, err = strconv.Atoi(string(bytes.TrimSpace(v))); err != nil {
				return 0, err
			}
		}
	}
	if n < 0 {
		return 0, errors.New("no Content-Length")
	}
	_, err = br.Discard(n)
	return code, err
}
