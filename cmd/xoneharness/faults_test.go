package main

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xoneharness/xoneharness/internal/sandbox"
	"github.com/xoneharness/xoneharness/internal/xone"
	"github.com/xoneharness/xoneharness/ledger"
)

// Stand-in credentials: the stand-in's token endpoint accepts only these.
const (
	standInClientID = "standin-client"
	standInSecret   = "standin-secret-5b2e"
)

// standInOpts chooses a stand-in target's behaviour. Hooks run in handler
// goroutines: they must not call require or t.Fatal.
type standInOpts struct {
	// token answers the n-th (1-based) token request; nil issues
	// "standin-token-N" to the stand-in credentials.
	token func(w http.ResponseWriter, r *http.Request, n int64)
	// confirm may answer the n-th (1-based) confirm itself and return true;
	// otherwise the confirm goes to the embedded sandbox handler, with the
	// bearer token swapped for a sandbox token when it is one the stand-in
	// issued and accepts.
	confirm func(w http.ResponseWriter, r *http.Request, n int64) bool
	// accept decides whether an issued token is (still) accepted on the n-th
	// confirm; nil accepts every issued token.
	accept func(token string, n int64) bool
	// secret is the client secret the default token endpoint accepts
	// (default standInSecret); issue is the token it issues for request n
	// (default "standin-token-N").
	secret string
	issue  func(n int64) string
	// rewrite, when set, edits the body of every sandbox answer to a confirm.
	rewrite func(body []byte) []byte
	// sandbox options (faults) for the handler behind the stand-in.
	sandbox []sandbox.Option
	// tls serves HTTPS with httptest's self-signed certificate.
	tls bool
}

// standIn is a stand-in XONE target on loopback: a token endpoint and a
// confirm endpoint whose faults a test chooses, backed by the embedded
// sandbox's handler for realistic answers. It counts every request.
type standIn struct {
	srv                    *httptest.Server
	sb                     *sandbox.Server
	sbAuth                 string // "Bearer <sandbox token>"
	opts                   standInOpts
	hits, tokenHits, confs atomic.Int64
}

func newStandIn(t *testing.T, opts standInOpts) *standIn {
	t.Helper()
	sb, err := sandbox.New(opts.sandbox...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = sb.Close() })
	if opts.secret == "" {
		opts.secret = standInSecret
	}
	if opts.issue == nil {
		opts.issue = func(n int64) string { return fmt.Sprintf("standin-token-%d", n) }
	}
	s := &standIn{sb: sb, opts: opts, sbAuth: "Bearer " + sb.MintToken(sandbox.ClientID, 2*time.Hour)}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	if opts.tls {
		// Refused handshakes are the point of TLS tests: keep their log quiet.
		s.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		s.srv.StartTLS()
	} else {
		s.srv.Start()
	}
	t.Cleanup(s.srv.Close)
	return s
}

// issued reports whether tok is a token this stand-in's default endpoint hands out.
func (s *standIn) issued(tok string) bool {
	for n := int64(1); n <= s.tokenHits.Load(); n++ {
		if s.opts.issue(n) == tok {
			return true
		}
	}
	return false
}

func (s *standIn) serve(w http.ResponseWriter, r *http.Request) {
	s.hits.Add(1)
	if r.URL.Path == sandbox.TokenPath {
		n := s.tokenHits.Add(1)
		if s.opts.token != nil {
			s.opts.token(w, r, n)
			return
		}
		var req struct {
			ClientID     string `json:"client_id"`
			ClientSecret string `json:"client_secret"`
		}
		if json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req) != nil ||
			req.ClientID != standInClientID || req.ClientSecret != s.opts.secret {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":"invalid_client","message":"Invalid client credentials."}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":3600,"access_token":%q}`, s.opts.issue(n))
		return
	}
	n := s.confs.Add(1)
	if s.opts.confirm != nil && s.opts.confirm(w, r, n) {
		return
	}
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && s.issued(tok) &&
		(s.opts.accept == nil || s.opts.accept(tok, n)) {
		r.Header.Set("Authorization", s.sbAuth)
	}
	if s.opts.rewrite == nil {
		s.sb.Handler().ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	s.sb.Handler().ServeHTTP(rec, r)
	body := s.opts.rewrite(rec.Body.Bytes())
	for k, v := range rec.Header() {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(body)
}

// env is the environment that points the CLI at the stand-in.
func (s *standIn) env() map[string]string {
	return map[string]string{
		"XONE_BASE_URL": s.srv.URL, "XONE_CLIENT_ID": standInClientID,
		"XONE_CLIENT_SECRET": standInSecret, "XONE_PARTNER_ID": sandbox.PartnerID,
	}
}

// writeOffers writes an offers CSV of n fresh rows and returns its path.
func writeOffers(t *testing.T, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("offer_id,quote_id\n")
	for range n {
		fmt.Fprintf(&b, "%s,%s\n", xone.NewUUID(), xone.NewUUID())
	}
	p := filepath.Join(t.TempDir(), "offers.csv")
	require.NoError(t, os.WriteFile(p, []byte(b.String()), 0o644))
	return p
}

// loadSummary is the part of summary.json the fault tests read.
type loadSummary struct {
	Verdict string `json:"verdict"`
	Load    struct {
		Requests    uint64            `json:"requests"`
		StatusCodes map[string]uint64 `json:"status_codes"`
		ByClass     map[string]struct {
			Count uint64 `json:"count"`
		} `json:"by_class"`
		Errors []struct {
			Message string `json:"message"`
			Count   uint64 `json:"count"`
		} `json:"errors"`
		Schema struct {
			Validated       uint64 `json:"validated"`
			Violations      uint64 `json:"violations"`
			TruncatedBodies uint64 `json:"truncated_bodies"`
		} `json:"schema"`
		Tokens struct {
			Fetches       int64 `json:"fetches"`
			Failures      int64 `json:"failures"`
			Invalidations int64 `json:"invalidations"`
		} `json:"tokens"`
		RetryAfterPauses struct {
			Count   uint64  `json:"count"`
			TotalMs float64 `json:"total_ms"`
			MaxMs   float64 `json:"max_ms"`
			Unsent  uint64  `json:"unsent"`
		} `json:"retry_after_pauses"`
		Offers struct {
			Used      uint64 `json:"used"`
			Confirmed uint64 `json:"confirmed"`
			Failed    uint64 `json:"failed"`
		} `json:"offers"`
		Thresholds []struct {
			Expr   string `json:"expr"`
			Passed bool   `json:"passed"`
		} `json:"thresholds"`
		StopReason  string `json:"stop_reason"`
		Interrupted bool   `json:"interrupted"`
	} `json:"load"`
}

func readLoadSummary(t *testing.T, dir string) loadSummary {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	require.NoError(t, err)
	var s loadSummary
	require.NoError(t, json.Unmarshal(b, &s), "summary.json is not valid JSON")
	return s
}

// errorText joins the summary's error messages.
func (s loadSummary) errorText() string {
	var b strings.Builder
	for _, e := range s.Load.Errors {
		b.WriteString(e.Message + "\n")
	}
	return b.String()
}

func writeJSONBody(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// TestFaultsTokenEndpoint: every token endpoint fault is an infrastructure
// failure (exit 3) that names the token URL, before any confirm is sent, for
// both commands that fetch tokens.
func TestFaultsTokenEndpoint(t *testing.T) {
	cases := []struct {
		name  string
		token func(w http.ResponseWriter, r *http.Request, n int64)
		args  []string // extra flags
		want  []string // in stderr
	}{
		{name: "refuses connections", want: []string{"unreachable", "connection refused"}},
		{name: "answers 500", token: func(w http.ResponseWriter, _ *http.Request, _ int64) {
			writeJSONBody(w, http.StatusInternalServerError, `{"message":"Server Error"}`)
		}, want: []string{"status 500"}},
		{name: "invalid JSON", token: func(w http.ResponseWriter, _ *http.Request, _ int64) {
			writeJSONBody(w, http.StatusOK, `{"access_token": "abc", `)
		}, want: []string{"invalid JSON"}},
		{name: "no access_token", token: func(w http.ResponseWriter, _ *http.Request, _ int64) {
			writeJSONBody(w, http.StatusOK, `{"token_type":"Bearer","expires_in":3600}`)
		}, want: []string{"missing access_token"}},
		{name: "slower than its timeout", token: func(w http.ResponseWriter, r *http.Request, _ int64) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			writeJSONBody(w, http.StatusOK, `{"access_token":"late","expires_in":3600}`)
		}, args: []string{"--http-timeout", "300ms"}, want: []string{"timed out"}},
	}
	for _, c := range cases {
		for _, cmd := range []string{"contract", "load"} {
			t.Run(c.name+"/"+cmd, func(t *testing.T) {
				s := newStandIn(t, standInOpts{token: c.token})
				env := s.env()
				tokenURL := s.srv.URL + sandbox.TokenPath
				if c.token == nil {
					tokenURL = "http://" + closedAddr(t) + sandbox.TokenPath
					env["XONE_TOKEN_URL"] = tokenURL
				}
				dir := filepath.Join(t.TempDir(), "out")
				args := []string{cmd, "--report-dir", dir}
				if cmd == "load" {
					args = append(args, "--rate", "20/s", "--duration", "1s", "--offers", writeOffers(t, 30))
				}
				start := time.Now()
				r := invoke(t, env, append(args, c.args...)...)
				assert.Equal(t, exitInfra, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
				assert.Less(t, time.Since(start), 4*time.Second, "a token fault must fail fast")
				assert.Contains(t, r.stderr, tokenURL, "the message names the token URL")
				for _, w := range c.want {
					assert.Contains(t, r.stderr, w)
				}
				assert.Zero(t, s.confs.Load(), "no confirm may be sent without a token")
				assert.NotContains(t, r.stdout+r.stderr, standInSecret)
				assert.NotContains(t, r.stderr, "goroutine ")
			})
		}
	}
}

// TestFaultsTarget: faults of the confirm endpoint during a load run. The run
// completes, its summary.json classifies what happened, and the exit code
// follows the thresholds.
func TestFaultsTarget(t *testing.T) {
	t.Run("token revoked mid-load", func(t *testing.T) {
		// The first token stops working after 10 confirms: its 401s make the
		// engine invalidate it once, the source fetches a second token and
		// the run recovers.
		s := newStandIn(t, standInOpts{accept: func(tok string, n int64) bool {
			return tok != "standin-token-1" || n <= 10
		}})
		dir := t.TempDir()
		r := invoke(t, s.env(), "load", "--rate", "50/s", "--duration", "1500ms", "--report-dir", dir,
			"--offers", writeOffers(t, 100), "--format", "json", "--threshold", "error_rate<10%")
		require.Equal(t, exitOK, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		sum := readLoadSummary(t, dir)
		assert.Equal(t, int64(1), sum.Load.Tokens.Invalidations, "one refresh for the revoked token")
		assert.Equal(t, int64(2), sum.Load.Tokens.Fetches, "first token + one refresh")
		assert.Equal(t, int64(2), s.tokenHits.Load())
		n401 := sum.Load.StatusCodes["401"]
		assert.GreaterOrEqual(t, n401, uint64(1))
		assert.LessOrEqual(t, n401, uint64(5), "the refresh happens at once, not after the run")
		assert.Equal(t, sum.Load.Requests-n401, sum.Load.StatusCodes["200"], "every other confirm succeeded")
		assert.Greater(t, sum.Load.StatusCodes["200"], uint64(50), "confirms succeed after the refresh")
		assert.Equal(t, "completed", sum.Load.StopReason)
	})

	t.Run("target resets connections", func(t *testing.T) {
		s := newStandIn(t, standInOpts{sandbox: []sandbox.Option{sandbox.ResetRate(0.3), sandbox.Seed(7)}})
		dir := t.TempDir()
		r := invoke(t, s.env(), "load", "--rate", "50/s", "--duration", "1s", "--report-dir", dir,
			"--offers", writeOffers(t, 60), "--format", "json", "--threshold", "error_rate<1%")
		assert.Equal(t, exitFindings, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		sum := readLoadSummary(t, dir)
		assert.Equal(t, "fail", sum.Verdict)
		assert.Greater(t, sum.Load.StatusCodes["0"], uint64(3), "resets are transport errors (status 0)")
		assert.Equal(t, sum.Load.StatusCodes["0"], sum.Load.ByClass["transport_error"].Count)
		assert.Equal(t, sum.Load.Requests, sum.Load.StatusCodes["0"]+sum.Load.StatusCodes["200"])
		assert.NotEmpty(t, sum.errorText())
		require.Len(t, sum.Load.Thresholds, 2, "the gate schema_violations==0, then error_rate<1%")
		assert.False(t, sum.Load.Thresholds[1].Passed)

		// Without a threshold the default gate error_rate<1% fails them;
		// with no gate at all they are reported but do not fail.
		s = newStandIn(t, standInOpts{sandbox: []sandbox.Option{sandbox.ResetRate(0.3), sandbox.Seed(7)}})
		dir = t.TempDir()
		r = invoke(t, s.env(), "load", "--rate", "50/s", "--duration", "1s", "--report-dir", dir,
			"--offers", writeOffers(t, 60), "--format", "json")
		assert.Equal(t, exitFindings, r.code, r.stderr)
		dir = t.TempDir()
		r = invoke(t, s.env(), "load", "--rate", "50/s", "--duration", "1s", "--report-dir", dir,
			"--offers", writeOffers(t, 60), "--format", "json", "--no-default-thresholds")
		assert.Equal(t, exitOK, r.code, r.stderr)
		assert.Greater(t, readLoadSummary(t, dir).Load.StatusCodes["0"], uint64(3))
	})

	t.Run("target slower than --timeout", func(t *testing.T) {
		s := newStandIn(t, standInOpts{sandbox: []sandbox.Option{sandbox.Latency(time.Second)}})
		dir := t.TempDir()
		start := time.Now()
		r := invoke(t, s.env(), "load", "--rate", "20/s", "--duration", "1s", "--timeout", "150ms",
			"--report-dir", dir, "--offers", writeOffers(t, 30), "--format", "json", "--threshold", "error_rate<1%")
		assert.Equal(t, exitFindings, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		assert.Less(t, time.Since(start), 4*time.Second, "timeouts bound the run")
		sum := readLoadSummary(t, dir)
		assert.Equal(t, sum.Load.Requests, sum.Load.ByClass["transport_error"].Count, "every request timed out")
		assert.Regexp(t, `Timeout|deadline exceeded`, sum.errorText())
		// A confirm the harness gave up on may still be booked by the target
		// (the sandbox, like a real backend, finishes it): such offers are
		// counted as used and failed, and each has an "unknown" ledger row.
		assert.Equal(t, sum.Load.Requests, sum.Load.Offers.Used)
		assert.Equal(t, sum.Load.Requests, sum.Load.Offers.Failed)
		rows, err := ledger.ReadFile(filepath.Join(dir, ledger.File))
		require.NoError(t, err)
		require.Len(t, rows, int(sum.Load.Requests), "a row per timed-out confirm")
		for _, row := range rows {
			assert.Equal(t, ledger.Unknown, row.Outcome)
		}
	})

	t.Run("bursts of 5xx", func(t *testing.T) {
		s := newStandIn(t, standInOpts{confirm: func(w http.ResponseWriter, _ *http.Request, n int64) bool {
			if (n > 5 && n <= 10) || (n > 20 && n <= 25) { // two bursts of five
				writeJSONBody(w, http.StatusServiceUnavailable, `{"message":"Service Unavailable"}`)
				return true
			}
			return false
		}})
		dir := t.TempDir()
		r := invoke(t, s.env(), "load", "--rate", "40/s", "--duration", "1s", "--report-dir", dir,
			"--offers", writeOffers(t, 50), "--format", "json", "--threshold", "status_5xx==0", "--threshold", "error_rate<50%")
		assert.Equal(t, exitFindings, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		sum := readLoadSummary(t, dir)
		assert.Equal(t, uint64(10), sum.Load.StatusCodes["503"])
		assert.Equal(t, uint64(10), sum.Load.ByClass["5xx"].Count)
		assert.Equal(t, uint64(10), sum.Load.Offers.Failed)
		require.Len(t, sum.Load.Thresholds, 3, "the gate schema_violations==0, then the two given (error_rate<50% loosens its gate)")
		assert.False(t, sum.Load.Thresholds[1].Passed, "status_5xx==0")
		assert.True(t, sum.Load.Thresholds[2].Passed, "error_rate<50%")
	})

	retryAfter := func(value func() string) func(http.ResponseWriter, *http.Request, int64) bool {
		return func(w http.ResponseWriter, _ *http.Request, n int64) bool {
			if n != 3 {
				return false
			}
			w.Header().Set("Retry-After", value())
			writeJSONBody(w, http.StatusTooManyRequests, `{"message":"Request was throttled. Expected available in 1 second."}`)
			return true
		}
	}
	for _, c := range []struct {
		name     string
		value    func() string
		min, max float64 // pause, ms
	}{
		{"429 Retry-After seconds", func() string { return "1" }, 900, 1300},
		// An HTTP-date has whole seconds: now+2s is a pause of 1 to 2 s.
		{"429 Retry-After HTTP-date", func() string { return time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat) }, 700, 2200},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newStandIn(t, standInOpts{confirm: retryAfter(c.value)})
			dir := t.TempDir()
			r := invoke(t, s.env(), "load", "--rate", "20/s", "--duration", "2s", "--report-dir", dir,
				"--offers", writeOffers(t, 50), "--format", "json", "--threshold", "error_rate<50%")
			// The pause left requests of the plan unsent: never a pass.
			assert.Equal(t, exitIncomplete, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			assert.Contains(t, r.stderr, "pause: 429 with Retry-After", "the pause is printed as it happens")
			assert.Contains(t, r.stdout, "retry-after pauses cut the plan short")
			sum := readLoadSummary(t, dir)
			assert.Equal(t, uint64(1), sum.Load.StatusCodes["429"])
			assert.Equal(t, uint64(1), sum.Load.RetryAfterPauses.Count, "one pause window")
			assert.Positive(t, sum.Load.RetryAfterPauses.Unsent)
			assert.GreaterOrEqual(t, sum.Load.RetryAfterPauses.TotalMs, c.min)
			assert.LessOrEqual(t, sum.Load.RetryAfterPauses.TotalMs, c.max)
			// The pause shifts the schedule: fewer requests than 2 s at 20/s.
			assert.Less(t, sum.Load.Requests, uint64(35))
		})
	}

	t.Run("200 with malformed JSON", func(t *testing.T) {
		s := newStandIn(t, standInOpts{confirm: func(w http.ResponseWriter, _ *http.Request, _ int64) bool {
			writeJSONBody(w, http.StatusOK, `{"data": {"id": "EYYLD-F8LDV-INS", "status": `)
			return true
		}})
		dir := t.TempDir()
		r := invoke(t, s.env(), "load", "--rate", "20/s", "--duration", "1s", "--report-dir", dir,
			"--offers", writeOffers(t, 30), "--format", "json", "--threshold", "schema_violations==0")
		assert.Equal(t, exitFindings, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		sum := readLoadSummary(t, dir)
		assert.Equal(t, sum.Load.Requests, sum.Load.StatusCodes["200"])
		assert.Equal(t, sum.Load.Requests, sum.Load.Schema.Validated)
		assert.GreaterOrEqual(t, sum.Load.Schema.Violations, sum.Load.Requests, "every body is a violation")
		require.Len(t, sum.Load.Thresholds, 2, "the gate error_rate<1%, then schema_violations==0")
		assert.False(t, sum.Load.Thresholds[1].Passed)
		// The booking is still in the ledger (the offer was consumed), with no id.
		rows, err := ledger.ReadFile(filepath.Join(dir, ledger.File))
		require.NoError(t, err)
		assert.Len(t, rows, int(sum.Load.Requests))
	})

	t.Run("200 with a body over the size limit", func(t *testing.T) {
		const bodySize = 16 << 20 // 16 MiB per response; the engine reads 1 MiB
		chunk := []byte(strings.Repeat("a", 64<<10))
		s := newStandIn(t, standInOpts{confirm: func(w http.ResponseWriter, _ *http.Request, _ int64) bool {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", fmt.Sprint(bodySize))
			w.WriteHeader(http.StatusOK)
			n, _ := io.WriteString(w, `{"data":{"id":"EYYLD-F8LDV-INS","pad":"`)
			for n < bodySize {
				m, err := w.Write(chunk[:min(len(chunk), bodySize-n)])
				if err != nil {
					return true
				}
				n += m
			}
			return true
		}})
		dir := t.TempDir()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		r := invoke(t, s.env(), "load", "--rate", "10/s", "--duration", "1s", "--report-dir", dir,
			"--offers", writeOffers(t, 20), "--format", "json", "--threshold", "error_rate<1%")
		runtime.ReadMemStats(&after)
		// A body cut at the tool's own 1 MiB limit cannot be validated: the
		// gate schema_violations==0 has no data, and the run is incomplete.
		assert.Equal(t, exitIncomplete, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		sum := readLoadSummary(t, dir)
		require.NotZero(t, sum.Load.Requests)
		assert.Equal(t, sum.Load.Requests, sum.Load.Schema.TruncatedBodies, "every body is reported truncated")
		// Reading whole bodies would allocate at least requests × 16 MiB.
		allocated := after.TotalAlloc - before.TotalAlloc
		assert.Less(t, allocated, sum.Load.Requests*bodySize/2,
			"allocated %d MiB for %d responses of 16 MiB: body reads are not capped", allocated>>20, sum.Load.Requests)
	})
}

// TestFaultsTLS: a self-signed target is refused with a message that says what
// to do, accepted with --ca-file, and with --insecure-skip-verify only with a
// loud warning.
func TestFaultsTLS(t *testing.T) {
	s := newStandIn(t, standInOpts{tls: true})
	require.True(t, strings.HasPrefix(s.srv.URL, "https://"))
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw}), 0o644))
	load := func(extra ...string) (result, string) {
		dir := t.TempDir()
		args := append([]string{"load", "--rate", "20/s", "--duration", "1s", "--report-dir", dir,
			"--offers", writeOffers(t, 30), "--format", "json"}, extra...)
		return invoke(t, s.env(), args...), dir
	}

	t.Run("refused", func(t *testing.T) {
		for _, cmd := range []string{"load", "contract"} {
			var r result
			if cmd == "load" {
				r, _ = load()
			} else {
				r = invoke(t, s.env(), "contract", "--report-dir", t.TempDir())
			}
			assert.Equal(t, exitInfra, r.code, "%s: stdout:\n%s\nstderr:\n%s", cmd, r.stdout, r.stderr)
			assert.Contains(t, r.stderr, "certificate", cmd)
			assert.Contains(t, r.stderr, "--ca-file", cmd)
		}
		assert.Zero(t, s.tokenHits.Load()+s.confs.Load(), "no request completes over an untrusted connection")
	})

	t.Run("--ca-file", func(t *testing.T) {
		r, dir := load("--ca-file", caFile)
		require.Equal(t, exitOK, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		sum := readLoadSummary(t, dir)
		assert.Equal(t, sum.Load.Requests, sum.Load.StatusCodes["200"])
		assert.NotZero(t, sum.Load.Requests)
		assert.NotContains(t, r.stderr, "WARNING")
	})

	t.Run("--insecure-skip-verify", func(t *testing.T) {
		r, dir := load("--insecure-skip-verify")
		require.Equal(t, exitOK, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		assert.Contains(t, r.stderr, "WARNING")
		assert.Contains(t, r.stderr, "NOT verified")
		assert.NotZero(t, readLoadSummary(t, dir).Load.StatusCodes["200"])
	})

	t.Run("--ca-file not a certificate", func(t *testing.T) {
		r, _ := load("--ca-file", writeOffers(t, 1))
		assert.Equal(t, exitUsage, r.code)
		assert.Contains(t, r.stderr, "--ca-file")
	})
}

// TestFaultsReportDirNotWritable: an unwritable report directory is a usage
// error found before a single request is sent, and nothing is written.
func TestFaultsReportDirNotWritable(t *testing.T) {
	s := newStandIn(t, standInOpts{})
	root := t.TempDir()
	file := filepath.Join(root, "a-file")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))
	dirs := map[string]string{"under a file": filepath.Join(file, "report")}
	if os.Geteuid() != 0 { // root writes into read-only directories
		ro := filepath.Join(root, "read-only")
		require.NoError(t, os.Mkdir(ro, 0o555))
		dirs["read-only directory"] = filepath.Join(ro, "report")
	}
	offers := writeOffers(t, 30)
	for name, dir := range dirs {
		for _, args := range [][]string{
			{"contract"},
			{"load", "--rate", "20/s", "--duration", "1s", "--offers", offers},
			{"run", "--rate", "2/s", "--duration", "1s", "--offers", offers},
		} {
			t.Run(name+"/"+args[0], func(t *testing.T) {
				r := invoke(t, s.env(), append(args, "--report-dir", dir)...)
				assert.Equal(t, exitUsage, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
				assert.Contains(t, r.stderr, "--report-dir")
				assert.Zero(t, s.hits.Load(), "preflight: no request before the report directory is known to be writable")
				assert.NoDirExists(t, dir)
			})
		}
	}
	entries, err := os.ReadDir(root)
	require.NoError(t, err)
	for _, e := range entries {
		assert.Contains(t, []string{"a-file", "read-only"}, e.Name(), "nothing half-written")
	}
}
