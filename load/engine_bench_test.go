package load

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/xoneharness/xoneharness/internal/auth"
	"github.com/xoneharness/xoneharness/internal/sandbox"
	"github.com/xoneharness/xoneharness/internal/xone"
	"github.com/xoneharness/xoneharness/spec"
)

// BenchmarkRun measures the whole engine, every feature on (generated offer
// feed, cached token source, idempotency header, 100% schema validation, HDR
// histograms, results.bin and bookings.csv streaming), against an in-process
// sandbox as fast as 64 workers go: ns/op is wall time per request with the
// sandbox sharing the CPUs. Profile it with -cpuprofile / -memprofile.
func BenchmarkRun(b *testing.B) {
	s, err := spec.Load()
	require.NoError(b, err)
	cfg, _, _ := benchConfig(b, Plan{Rate: "100000/s", Duration: 10 * time.Minute, MaxWorkers: 64,
		IdempotencyHeader: "Idempotency-Key", ValidateSample: 1})
	cfg.Spec = s
	cfg.Plan.MaxRequests = uint64(max(b.N, 2))
	b.ReportAllocs()
	b.ResetTimer()
	res, err := Run(context.Background(), cfg)
	require.NoError(b, err)
	b.StopTimer()
	require.Zero(b, res.Schema.Violations, "schema: %+v", res.Schema)
	require.Equal(b, res.Requests, res.Offers.Confirmed, "errors: %+v", res.Errors)
}

// BenchmarkProcess measures the consumer's per-result work (statistics,
// results.bin, bookings.csv, booking id, sampling) for one 200 result, without
// validation.
func BenchmarkProcess(b *testing.B) {
	cfg, sb, _ := benchConfig(b, Plan{Rate: "100/s", Duration: time.Second})
	e, err := newEngine(cfg)
	require.NoError(b, err)
	body := confirmBody(b, sb)
	e.results, err = newResultsWriter(cfg.OutDir)
	require.NoError(b, err)
	e.bookings, err = newBookingsWriter(cfg.OutDir)
	require.NoError(b, err)
	e.stats = newStats(5)
	e.pacer = newRunPacer(e.sched, time.Hour, 0, -1, make(chan struct{}), func(string) {})
	e.pacer.start = time.Now()
	e.jobs = make(chan []validateJob)
	hdr := http.Header{"Content-Type": {"application/json"}}
	b.ReportAllocs()
	start := time.Now()
	for i := uint64(0); b.Loop(); i++ {
		var t vegeta.Target
		if err := e.target(&t); err != nil {
			b.Fatal(err)
		}
		r := &vegeta.Result{Attack: "xoneharness", Seq: i, Code: 200, Timestamp: start.Add(time.Duration(i) * time.Microsecond),
			Latency: time.Millisecond, BytesIn: uint64(len(body)), BytesOut: uint64(len(t.Body)), Method: t.Method,
			URL: t.URL, Body: body, Headers: hdr}
		e.process(r)
	}
	b.StopTimer()
	require.NoError(b, e.results.close())
	require.NoError(b, e.bookings.close())
}

// confirmBody fetches one real 200 body from sb.
func confirmBody(b *testing.B, sb *sandbox.Server) []byte {
	return confirmOffer(b, sb, "7e6d5c4b-3a29-4187-a6b5-c4d3e2f1a0b9")
}

// confirmOffer confirms offer on sb and returns the 200 body.
func confirmOffer(b *testing.B, sb *sandbox.Server, offer string) []byte {
	b.Helper()
	body := `{"quotes":[{"id":"7e6d5c4b-3a29-4187-a6b5-c4d3e2f1a0b9"}],"policyholder":` + xone.DemoPolicyholder + `}`
	req, err := http.NewRequest(http.MethodPost, sb.URL()+"/api/partners/"+sandbox.PartnerID+
		"/offers/"+offer+"/confirm", strings.NewReader(body))
	require.NoError(b, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+sb.MintToken(sandbox.ClientID, time.Hour))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(b, err)
	defer resp.Body.Close()
	require.Equal(b, http.StatusOK, resp.StatusCode)
	out, err := io.ReadAll(resp.Body)
	require.NoError(b, err)
	return out
}

// BenchmarkValidateSandboxBodies validates 256 distinct sandbox 200 bodies in turn, as the
// validators see them under load: every booking has its own id, URLs and timestamps, so the
// check's memo of format values hits only for what bodies share.
func BenchmarkValidateSandboxBodies(b *testing.B) {
	s, err := spec.Load()
	require.NoError(b, err)
	_, sb, _ := benchConfig(b, Plan{Rate: "1/s", Duration: time.Second})
	bodies := make([][]byte, 256)
	size := 0
	for i := range bodies {
		bodies[i] = confirmOffer(b, sb, xone.NewUUID())
		size += len(bodies[i])
	}
	hdr := http.Header{"Content-Type": {"application/json"}}
	require.Empty(b, s.ValidateResponse(nil, spec.Response{Status: 200, Header: hdr, Body: bodies[0]}))
	b.SetBytes(int64(size / len(bodies)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if vs := s.ValidateResponse(nil, spec.Response{Status: 200, Header: hdr, Body: bodies[i%len(bodies)]}); vs != nil {
			b.Fatal(vs)
		}
	}
}

// benchConfig is sandboxConfig for benchmarks.
func benchConfig(b *testing.B, plan Plan, opts ...sandbox.Option) (Config, *sandbox.Server, *auth.Source) {
	b.Helper()
	sb := sandbox.StartTB(b, opts...)
	src, err := auth.New(auth.Config{TokenURL: sb.TokenURL(), ClientID: sandbox.ClientID, ClientSecret: sandbox.ClientSecret})
	require.NoError(b, err)
	return Config{
		Plan: plan, BaseURL: sb.URL(), PartnerID: sandbox.PartnerID, Tokens: src, TokenStats: src.Stats,
		Feed: GeneratedFeed(1), OutDir: b.TempDir(),
	}, sb, src
}

// refBookingID is bookingID as it was: encoding/json alone.
func refBookingID(body []byte) string {
	var b struct {
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &b) != nil {
		return ""
	}
	return b.Data.ID
}

// TestBookingIDMatchesEncodingJSON proves the scanner reads booking ids as encoding/json does,
// up to the id: what comes after it (malformed JSON, a repeated key) is not read.
func TestBookingIDMatchesEncodingJSON(t *testing.T) {
	tests := []struct {
		name, body, want string
		fast             bool // answered by the scanner
		differs          bool // encoding/json answers otherwise: only for what follows the id
	}{
		{"plain", `{"data":{"id":"EYYLD-F8LDV-INS","x":[1,{"y":null}]},"z":"é"}`, "EYYLD-F8LDV-INS", true, false},
		{"id after other members", `{"message":"ok","data":{"x":{"id":"no"},"list":[{"id":"no"}],"id":"A"}}`, "A", true, false},
		{"nested keys not plain", `{"data":{"m":{"\u00e9":1,"é":[true]},"id":"A"}}`, "A", true, false},
		{"no data", `{"message":"x"}`, "", true, false},
		{"data without id", `{"data":{"x":1}}`, "", true, false},
		{"case variant of data", `{"DATA":{"id":"A"}}`, "A", false, false},
		{"case variant of id", `{"data":{"Id":"A"}}`, "A", false, false},
		{"two data objects merge", `{"data":{"x":1},"data":{"id":"A"}}`, "A", false, false},
		{"data null", `{"data":null}`, "", false, false},
		{"id number", `{"data":{"id":1}}`, "", false, false},
		{"id escaped", `{"data":{"id":"A\u0042"}}`, "AB", false, false},
		{"escaped key", `{"d\u0061ta":{"id":"A"}}`, "A", false, false},
		{"bad escape before the id", `{"x":"\q","data":{"id":"A"}}`, "", false, false},
		{"array", `[{"data":{"id":"A"}}]`, "", false, false},
		{"empty", ``, "", false, false},
		// After the id nothing is read.
		{"invalid JSON after id", `{"data":{"id":"A"},}`, "A", true, true},
		{"trailing data", `{"data":{"id":"A"}} x`, "A", true, true},
		{"truncated after id", `{"data":{"id":"A","policies":[{"pri`, "A", true, true},
		{"bad number after id", `{"data":{"id":"A"},"x":01}`, "A", true, true},
		{"repeated id: the first wins", `{"data":{"id":"A","id":"B"}}`, "A", true, true},
		{"repeated data after the id", `{"data":{"id":"A"},"data":{"id":"B"}}`, "A", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, bookingID([]byte(tt.body)))
			_, fast := scanBookingID([]byte(tt.body))
			assert.Equal(t, tt.fast, fast, "got fast=%v, want %v", fast, tt.fast)
			if ref := refBookingID([]byte(tt.body)); tt.differs {
				assert.NotEqual(t, tt.want, ref, "encoding/json reads this otherwise, or the case proves nothing")
			} else {
				assert.Equal(t, tt.want, ref, "reference")
			}
		})
	}
}

// FuzzBookingID: for a body without escapes whose "data" and "id" keys are not repeated (in any
// case), bookingID agrees with encoding/json; any id it finds is a string in the body.
func FuzzBookingID(f *testing.F) {
	for _, s := range []string{`{"data":{"id":"EYYLD-F8LDV-INS","a":[1,2.5e3,-0,true,null,{"b":"\u00e9\n"}]}}`,
		`{"Data":{"ID":"x"}}`, `{"data":{"id":"x"},"data":{"id":"y"}}`, `{"message":"Unauthenticated."}`,
		`{"data":{"id":"x"},`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got := bookingID(b)
		if got != "" && !bytes.Contains(b, []byte(`"`+got+`"`)) && !bytes.Contains(b, []byte(`\`)) {
			t.Errorf("body %q: got %q, which is not a string in it", b, got)
		}
		lower := bytes.ToLower(b)
		if bytes.Contains(b, []byte(`\`)) || bytes.Count(lower, []byte(`"data"`)) > 1 || bytes.Count(lower, []byte(`"id"`)) > 1 {
			return
		}
		if want := refBookingID(b); want != "" && got != want {
			t.Errorf("body %q: got %q, want %q", b, got, want)
		}
	})
}

// BenchmarkBookingID compares the scanner with encoding/json (what bookingID was) on a real
// 200 body, side by side.
func BenchmarkBookingID(b *testing.B) {
	_, sb, _ := benchConfig(b, Plan{Rate: "1/s", Duration: time.Second})
	body := confirmBody(b, sb)
	want := refBookingID(body)
	require.NotEmpty(b, want)
	for _, bc := range []struct {
		name string
		f    func([]byte) string
	}{{"scanner", bookingID}, {"encoding-json", refBookingID}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if got := bc.f(body); got != want {
					b.Fatalf("got %q, want %q", got, want)
				}
			}
		})
	}
}
