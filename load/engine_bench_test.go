package load

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

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

// BenchmarkProcess measures one confirm's work besides the request itself:
// the targeter (offer, journal's pending row, token, body) and the
// collector (statistics, results.bin, the outcome row, booking id,
// sampling), for one 200 result, without validation.
func BenchmarkProcess(b *testing.B) {
	cfg, sb, _ := benchConfig(b, Plan{Rate: "100/s", Duration: time.Second})
	r, err := newRun(cfg)
	require.NoError(b, err)
	require.NoError(b, r.bearer.first(context.Background()))
	require.NoError(b, r.assemble(context.Background()))
	defer func() { require.NoError(b, r.close()) }()
	body := confirmBody(b, sb)
	r.pacer.start = time.Now()
	hdr := http.Header{"Content-Type": {"application/json"}}
	b.ReportAllocs()
	start := time.Now()
	for i := uint64(0); b.Loop(); i++ {
		var t vegeta.Target
		if err := r.targeter.target(&t); err != nil {
			b.Fatal(err)
		}
		res := &vegeta.Result{Attack: "xoneharness", Seq: i, Code: 200, Timestamp: start.Add(time.Duration(i) * time.Microsecond),
			Latency: time.Millisecond, BytesIn: uint64(len(body)), BytesOut: uint64(len(t.Body)), Method: t.Method,
			URL: t.URL, Body: body, Headers: hdr}
		r.collector.add(res)
	}
	b.StopTimer()
	r.hardStop()
}

// confirmBody fetches one real 200 body from sb.
func confirmBody(b *testing.B, sb *sandbox.Server) []byte {
	return confirmOffer(b, sb, "7e6d5c4b-3a29-4187-a6b5-c4d3e2f1a0b9")
}

// confirmOffer confirms offer on sb and returns the 200 body.
func confirmOffer(b *testing.B, sb *sandbox.Server, offer string) []byte {
	b.Helper()
	body := `{"quotes":[{"id":"7e6d5c4b-3a29-4187-a6b5-c4d3e2f1a0b9"}],"policyholder":` + xone.DemoPolicyholder + `}`
	req, err := http.NewRequest(http.MethodPost, sb.URL()+xone.ConfirmPath(sandbox.PartnerID, offer),
		strings.NewReader(body))
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
		Plan: plan, BaseURL: sb.URL(), PartnerID: sandbox.PartnerID, Tokens: src,
		Offers: GeneratedFeed(1), OutDir: b.TempDir(),
	}, sb, src
}
