package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/xoneharness/xoneharness/internal/auth"
	"github.com/xoneharness/xoneharness/internal/sandbox"
	"github.com/xoneharness/xoneharness/internal/xone"
	"github.com/xoneharness/xoneharness/ledger"
	"github.com/xoneharness/xoneharness/spec"
)

// expectedDrift are the cases the clean sandbox answers with an
// undocumented 4xx, as the real API does: drift, never fail (fail in strict).
var expectedDrift = []string{
	CaseMissingQuotes, CaseMissingPolicyholder, CaseEmptyQuotes, CaseQuoteWithoutID,
	CaseMalformedJSON, CaseWrongContentType, CaseDoubleConfirm, CaseConcurrentConfirm,
}

func loadSpec(t testing.TB, strict bool) *spec.Spec {
	t.Helper()
	var opts []spec.Option
	if strict {
		opts = append(opts, spec.Strict())
	}
	s, err := spec.Load(opts...)
	require.NoError(t, err, "load spec")
	return s
}

// sandboxConfig returns a Config for srv with both credentials, a minted
// expired token and a fresh offer.
func sandboxConfig(t testing.TB, srv *sandbox.Server, strict bool) Config {
	t.Helper()
	write, err := auth.New(auth.Config{TokenURL: srv.TokenURL(), ClientID: sandbox.ClientID, ClientSecret: sandbox.ClientSecret})
	require.NoError(t, err)
	ro, err := auth.New(auth.Config{TokenURL: srv.TokenURL(), ClientID: sandbox.ReadOnlyClientID, ClientSecret: sandbox.ReadOnlyClientSecret})
	require.NoError(t, err)
	return Config{
		BaseURL:        srv.URL(),
		PartnerID:      sandbox.PartnerID,
		OfferID:        xone.NewUUID(),
		QuoteID:        xone.NewUUID(),
		Tokens:         write,
		ReadOnlyTokens: ro,
		ExpiredToken:   srv.MintToken(sandbox.ClientID, -time.Hour),
		Spec:           loadSpec(t, strict),
		Strict:         strict,
		Embedded:       true,
		Redactor:       auth.NewRedactor(sandbox.ClientSecret, sandbox.ReadOnlyClientSecret),
	}
}

// caseNames lists the fixed cases in suite order.
func caseNames() []string {
	var out []string
	for _, d := range suite() {
		out = append(out, d.name)
	}
	return out
}

func mustRun(t testing.TB, cfg Config) *Result {
	t.Helper()
	res, err := Run(context.Background(), cfg)
	require.NoError(t, err, "run suite")
	require.NotNil(t, res)
	return res
}

func violationLine(v Violation) string {
	s := v.Rule
	if v.Path != "" {
		s += " " + v.Path
	}
	if v.Reason != "" {
		s += ": " + v.Reason
	}
	if v.Expected != "" || v.Observed != "" {
		s += fmt.Sprintf(" (expected %s, observed %s)", v.Expected, v.Observed)
	}
	return s
}

// eachCase runs check for every case in its own subtest, logging the
// outcome and violations, so go test -json shows one entry per case.
func eachCase(t *testing.T, res *Result, check func(t *testing.T, c CaseResult)) {
	t.Helper()
	for _, c := range res.Cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Logf("%s status=%d latency=%s security=%v: %s", c.Outcome, c.Status, c.Duration, c.Security, c.Reason)
			for _, v := range c.Violations {
				t.Log("  " + violationLine(v))
			}
			check(t, c)
		})
	}
}

func outcomes(res *Result) map[string]Outcome {
	m := map[string]Outcome{}
	for _, c := range res.Cases {
		m[c.Name] = c.Outcome
	}
	return m
}

func TestSandboxClean(t *testing.T) {
	srv := sandbox.StartTB(t)
	cfg := sandboxConfig(t, srv, false)
	var seen urlLog
	cfg.HTTPClient = &http.Client{Transport: &seen, Timeout: 5 * time.Second}
	start := time.Now()
	res := mustRun(t, cfg)
	wall := time.Since(start)
	t.Logf("wall time %s (pass %d, fail %d, drift %d, skip %d)", wall, res.Counts.Pass, res.Counts.Fail,
		res.Counts.Drift, res.Counts.Skip)

	require.Equal(t, caseNames(), names(res), "every case, in suite order")
	eachCase(t, res, func(t *testing.T, c CaseResult) {
		want := OutcomePass
		if slices.Contains(expectedDrift, c.Name) {
			want = OutcomeDrift
			if c.Name != CaseConcurrentConfirm { // its status is the one booking's
				assert.Equal(t, 422, c.Status, "the sandbox answers like the real API")
			}
			assert.Contains(t, c.Reason, "422")
		}
		assert.Equal(t, want, c.Outcome, "got %s, want %s", c.Outcome, want)
		assert.False(t, c.Security)
		require.NotNil(t, c.Exchange)
		assert.Greater(t, c.Duration, time.Duration(0))
	})
	assert.False(t, res.Failed())
	assert.Equal(t, Counts{Pass: len(caseNames()) - len(expectedDrift), Drift: len(expectedDrift)}, res.Counts)
	assert.True(t, res.Embedded)
	assert.Equal(t, srv.URL(), res.Target)
	assert.False(t, res.Finished.Before(res.Started))
	assert.Less(t, wall, time.Second, "the suite takes well under a second against the sandbox")
	assert.Contains(t, res.Case(CaseDoubleConfirm).Reason, "Booking already exists")
	assert.Contains(t, res.Case(CaseConfirmOK).Reason, "booking ")

	// The configured offer is confirmed exactly twice; every other case
	// used an offer of its own (the race check on connections of its own,
	// not through the client).
	st := srv.Stats()
	assert.Equal(t, int64(2), st.Confirmed, "bookings created: confirm-ok's and the race's")
	assert.Equal(t, int64(1+DefaultRace-1), st.DuplicateConfirms)
	assert.Zero(t, st.DoubleBookings)
	offers := seen.offers()
	assert.Equal(t, 2, offers[cfg.OfferID], "requests for the configured offer")
	assert.Len(t, offers, len(caseNames())-2, "a fresh offer for every other case")
	race := res.Case(CaseConcurrentConfirm).Race
	require.NotNil(t, race)
	assert.NotContains(t, offers, race.OfferID, "the race's offer is its own")
}

// urlLog is a RoundTripper that remembers the URLs sent.
type urlLog struct {
	mu   sync.Mutex
	urls []string
}

func (l *urlLog) RoundTrip(r *http.Request) (*http.Response, error) {
	l.mu.Lock()
	l.urls = append(l.urls, r.URL.Path)
	l.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

// offers counts requests per offer id.
func (l *urlLog) offers() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := map[string]int{}
	for _, u := range l.urls {
		parts := strings.Split(u, "/")
		if len(parts) == 7 && parts[4] == "offers" {
			m[parts[5]]++
		}
	}
	return m
}

func names(res *Result) []string {
	var out []string
	for _, c := range res.Cases {
		out = append(out, c.Name)
	}
	return out
}

func TestSandboxStrict(t *testing.T) {
	srv := sandbox.StartTB(t)
	res := mustRun(t, sandboxConfig(t, srv, true))
	eachCase(t, res, func(t *testing.T, c CaseResult) {
		if slices.Contains(expectedDrift, c.Name) {
			assert.Equal(t, OutcomeFail, c.Outcome, "strict turns the undocumented 4xx into a fail")
			assert.True(t, strings.HasPrefix(c.Reason, "strict: "), "reason %q", c.Reason)
			return
		}
		assert.Equal(t, OutcomePass, c.Outcome, "no undocumented field in the clean sandbox")
	})
	assert.True(t, res.Failed())
	assert.True(t, res.Strict)
	assert.Equal(t, Counts{Pass: len(caseNames()) - len(expectedDrift), Fail: len(expectedDrift)}, res.Counts)
}

// violationKeys identifies a case's findings independently of run-specific
// values (booking ids, timestamps).
func violationKeys(c *CaseResult) []string {
	var out []string
	for _, v := range c.Violations {
		out = append(out, v.Rule+" "+v.Path)
	}
	sort.Strings(out)
	return out
}

// caughtBy returns the cases whose outcome or findings differ from the
// clean run's.
func caughtBy(clean, got *Result) []string {
	var out []string
	for _, c := range got.Cases {
		b := clean.Case(c.Name)
		if b == nil || b.Outcome != c.Outcome || !slices.Equal(violationKeys(b), violationKeys(&c)) {
			out = append(out, c.Name)
		}
	}
	return out
}

func TestDriftModes(t *testing.T) {
	modes := sandbox.DriftModes()
	require.NotEmpty(t, modes)
	clean := map[bool]*Result{}
	for _, strict := range []bool{false, true} {
		clean[strict] = mustRun(t, sandboxConfig(t, sandbox.StartTB(t), strict))
	}
	var mu sync.Mutex
	table := map[string][]string{}
	for _, m := range modes {
		t.Run(m.Name, func(t *testing.T) {
			if m.Detect == "generate" {
				t.Skip("only generated cases find it: TestGenerateFindsDrift")
			}
			t.Parallel()
			// Only strict mode sees undocumented fields.
			strict := m.Detect == "strict"
			srv := sandbox.StartTB(t, sandbox.Drift(m.Name))
			res := mustRun(t, sandboxConfig(t, srv, strict))
			caught := caughtBy(clean[strict], res)
			var failed []string
			for _, name := range caught {
				c := res.Case(name)
				t.Logf("%s: %s %d: %s", name, c.Outcome, c.Status, c.Reason)
				for _, v := range c.Violations {
					t.Log("  " + violationLine(v))
				}
				if c.Outcome == OutcomeFail {
					failed = append(failed, name)
				}
			}
			mu.Lock()
			table[m.Name] = caught
			if strict {
				table[m.Name+" (strict)"] = caught
				delete(table, m.Name)
			}
			mu.Unlock()
			if m.DriftOnly {
				require.NotEmpty(t, caught, "drift-only mode %s: no case reported anything new", m.Name)
				for _, name := range caught {
					assert.Contains(t, []Outcome{OutcomeDrift, OutcomeFail}, res.Case(name).Outcome)
				}
				return
			}
			assert.NotEmpty(t, failed, "mode %s (%s) not caught: no case failed", m.Name, m.Description)
			if m.Detect == "race" {
				assert.Equal(t, []string{CaseConcurrentConfirm}, failed, "only simultaneous confirms find %s", m.Name)
				assert.NotContains(t, caught, CaseDoubleConfirm, "a confirm sent after the first was answered does not find it")
			}
		})
	}
	t.Cleanup(func() {
		keys := make([]string, 0, len(table))
		for k := range table {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, "\n  %-30s %s", k, strings.Join(table[k], ", "))
		}
		t.Logf("drift mode -> cases that caught it:%s", b.String())
	})
}

func TestSecurityFindingsFirst(t *testing.T) {
	srv := sandbox.StartTB(t, sandbox.Drift("accept-without-token"))
	res := mustRun(t, sandboxConfig(t, srv, false))
	var security []string
	for i, c := range res.Cases {
		if c.Security {
			security = append(security, c.Name)
			assert.Equal(t, len(security)-1, i, "security finding %s at position %d, want before every other case", c.Name, i)
			assert.Equal(t, OutcomeFail, c.Outcome)
			assert.Contains(t, c.Reason, "accepted without valid authentication")
		}
	}
	assert.ElementsMatch(t, []string{CaseNoToken, CaseMalformedToken, CaseExpiredToken, CaseWrongScopeToken}, security)
}

func TestSkips(t *testing.T) {
	srv := sandbox.StartTB(t)
	cfg := sandboxConfig(t, srv, false)
	cfg.OfferID, cfg.QuoteID, cfg.ReadOnlyTokens = "", "", nil
	res := mustRun(t, cfg)
	eachCase(t, res, func(t *testing.T, c CaseResult) {
		switch c.Name {
		case CaseConfirmOK, CaseDoubleConfirm:
			assert.Equal(t, OutcomeSkip, c.Outcome)
			assert.Contains(t, c.Reason, "XONE_OFFER_ID")
			assert.Contains(t, c.Reason, "XONE_QUOTE_ID")
			assert.Nil(t, c.Exchange)
		case CaseWrongScopeToken:
			assert.Equal(t, OutcomeSkip, c.Outcome)
			assert.Contains(t, c.Reason, "XONE_READONLY_CLIENT_ID")
			assert.Contains(t, c.Reason, "XONE_READONLY_CLIENT_SECRET")
		default:
			assert.NotEqual(t, OutcomeSkip, c.Outcome, "the 401 and negative cases still run")
		}
	})
	assert.Equal(t, 3, res.Counts.Skip)
	assert.Equal(t, int64(1), srv.Stats().Confirmed, "no booking without a configured offer but the race's fresh one")
	assert.NotNil(t, res.Case(CaseConcurrentConfirm).Race)
}

func TestDoubleConfirmSkippedWhenFirstFails(t *testing.T) {
	srv := sandbox.StartTB(t)
	cfg := sandboxConfig(t, srv, false)
	cfg.Race = -1 // its confirms of an offer of its own would count too
	// The offer is already confirmed: confirm-ok gets 422 and must fail;
	// the suite must not confirm it a third time.
	first := mustRun(t, cfg)
	require.Equal(t, OutcomePass, first.Case(CaseConfirmOK).Outcome)
	res := mustRun(t, cfg)
	ok := res.Case(CaseConfirmOK)
	assert.Equal(t, OutcomeFail, ok.Outcome)
	assert.Equal(t, 422, ok.Status)
	assert.Contains(t, ok.Reason, "confirm rejected with 422")
	dbl := res.Case(CaseDoubleConfirm)
	assert.Equal(t, OutcomeSkip, dbl.Outcome)
	assert.Contains(t, dbl.Reason, "did not create a booking")
	assert.Equal(t, int64(2), srv.Stats().DuplicateConfirms, "one per run, no more")
}

func TestSkipInvariants(t *testing.T) {
	tests := []struct {
		name      string
		skip      []string
		wantOK    Outcome
		wantRule  string
		wantError bool
	}{
		{name: "checked", wantOK: OutcomeFail, wantRule: ruleInvariant + "offer-id-echoed"},
		{name: "skipped", skip: []string{"offer-id-echoed"}, wantOK: OutcomePass},
		{name: "skip-other", skip: []string{"currency-code", "urls-absolute-https"}, wantOK: OutcomeFail,
			wantRule: ruleInvariant + "offer-id-echoed"},
		{name: "unknown", skip: []string{"offer-id-echoes"}, wantError: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := sandbox.StartTB(t, sandbox.Drift("offer-id-not-echoed"))
			cfg := sandboxConfig(t, srv, false)
			cfg.SkipInvariants = tt.skip
			res, err := Run(context.Background(), cfg)
			if tt.wantError {
				require.Error(t, err)
				assert.ErrorIs(t, err, ErrConfig)
				assert.Contains(t, err.Error(), "offer-id-echoes")
				assert.Zero(t, srv.Stats().Confirms, "nothing sent on a config error")
				return
			}
			require.NoError(t, err)
			c := res.Case(CaseConfirmOK)
			assert.Equal(t, tt.wantOK, c.Outcome, "reason %s", c.Reason)
			if tt.wantRule != "" {
				assert.Contains(t, violationKeys(c), tt.wantRule+" $.data.offer_id")
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	srv := sandbox.StartTB(t)
	base := sandboxConfig(t, srv, false)
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"no-base-url", func(c *Config) { c.BaseURL = "" }, "base URL is empty"},
		{"relative-base-url", func(c *Config) { c.BaseURL = "api.example.com" }, "not an absolute"},
		{"no-partner", func(c *Config) { c.PartnerID = "" }, "partner id"},
		{"no-tokens", func(c *Config) { c.Tokens = nil }, "no token source"},
		{"no-spec", func(c *Config) { c.Spec = nil }, "no spec"},
		{"bad-policyholder-json", func(c *Config) { c.Policyholder = json.RawMessage(`{"first_name":`) }, "not valid JSON"},
		{"policyholder-not-object", func(c *Config) { c.Policyholder = json.RawMessage(`"Ada"`) }, "does not validate"},
		{"unknown-invariant", func(c *Config) { c.SkipInvariants = []string{"nope"} }, `unknown invariant "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			tt.mutate(&cfg)
			res, err := Run(context.Background(), cfg)
			require.Error(t, err)
			assert.Nil(t, res)
			assert.ErrorIs(t, err, ErrConfig)
			assert.Contains(t, err.Error(), tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), "contract: "), "error %q", err)
		})
	}
	assert.Zero(t, srv.Stats().Confirms, "nothing sent on a config error")
}

type failingTokens struct{}

func (failingTokens) Token() (*oauth2.Token, error) { return nil, errors.New("token endpoint down") }

func TestHarnessErrors(t *testing.T) {
	t.Run("token-fetch", func(t *testing.T) {
		srv := sandbox.StartTB(t)
		cfg := sandboxConfig(t, srv, false)
		cfg.Tokens = failingTokens{}
		_, err := Run(context.Background(), cfg)
		require.Error(t, err)
		assert.NotErrorIs(t, err, ErrConfig)
		assert.Contains(t, err.Error(), "contract: fetch token: token endpoint down")
	})
	t.Run("unreachable", func(t *testing.T) {
		srv := sandbox.StartTB(t)
		cfg := sandboxConfig(t, srv, false)
		_, err := cfg.Tokens.Token() // fetch while the sandbox is up (the sources cache)
		require.NoError(t, err)
		_, err = cfg.ReadOnlyTokens.Token()
		require.NoError(t, err)
		require.NoError(t, srv.Close())
		var rows func() []ledger.Row
		cfg.Journal, rows = testJournal(t)
		res, err := Run(context.Background(), cfg)
		require.Error(t, err, "a target that answers no case at all is unreachable")
		assert.NotErrorIs(t, err, ErrConfig)
		assert.Contains(t, err.Error(), "send request")
		assert.Equal(t, 1, strings.Count(err.Error(), "contract:"), "the step is named once: %v", err)
		require.NotNil(t, res, "the cases come back with the error")
		require.NotEmpty(t, res.Cases)
		for _, c := range res.Cases {
			if c.Outcome != OutcomeSkip {
				assert.Equal(t, OutcomeError, c.Outcome, c.Name)
			}
		}
		race := res.Case(CaseConcurrentConfirm)
		assert.Contains(t, race.Reason, "nothing sent", "its connections were refused before any confirm left")
		assert.Len(t, rows(), len(res.Cases)-res.Counts.Skip-1, "every confirm sent without an answer may have booked")
	})
	t.Run("cancelled", func(t *testing.T) {
		srv := sandbox.StartTB(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		res, err := Run(ctx, sandboxConfig(t, srv, false))
		require.NoError(t, err)
		assert.True(t, res.Interrupted)
		assert.Equal(t, len(res.Cases), res.Counts.Skip)
		assert.Contains(t, res.Incomplete(), "contract suite interrupted by a signal")
		assert.Zero(t, srv.Stats().Confirmed)
	})
}

// TestTransportErrorIsACase: a case whose request times out gets outcome
// error with the time it waited; the other cases still run and the suite
// fails.
func TestTransportErrorIsACase(t *testing.T) {
	srv := sandbox.StartTB(t)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if len(body) > 0 && !json.Valid(body) { // never answers a malformed body
			<-r.Context().Done()
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		srv.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	cfg := sandboxConfig(t, srv, false)
	cfg.BaseURL = front.URL
	cfg.HTTPClient = &http.Client{Timeout: 300 * time.Millisecond,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var rows func() []ledger.Row
	cfg.Journal, rows = testJournal(t)
	res, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	mj := res.Case(CaseMalformedJSON)
	require.NotNil(t, mj)
	assert.Equal(t, OutcomeError, mj.Outcome)
	assert.Contains(t, mj.Reason, "no answer after")
	assert.GreaterOrEqual(t, mj.Duration, 300*time.Millisecond, "the time it waited")
	assert.Equal(t, 1, res.Counts.Error)
	assert.True(t, res.Failed())
	assert.Equal(t, OutcomePass, res.Case(CaseConfirmOK).Outcome, "the other cases still ran")
	assert.Equal(t, 422, res.Case(CaseDoubleConfirm).Status)
	outcomes := map[string]ledger.Outcome{}
	for _, b := range rows() {
		switch {
		case b.OfferID == cfg.OfferID:
			outcomes[CaseConfirmOK] = b.Outcome
		case strings.Contains(b.Error, "contract case "+CaseMalformedJSON+":"):
			outcomes[CaseMalformedJSON] = b.Outcome
		}
	}
	assert.Equal(t, ledger.Booked, outcomes[CaseConfirmOK])
	assert.Equal(t, ledger.Unknown, outcomes[CaseMalformedJSON], "an unanswered confirm may have booked")
}

// testJournal opens a journal in a temporary directory; rows closes it and
// reads what it recorded (booked and unknown confirms).
func testJournal(t *testing.T) (*ledger.Journal, func() []ledger.Row) {
	t.Helper()
	dir := t.TempDir()
	j, err := ledger.Open(dir, ledger.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Close() })
	return j, func() []ledger.Row {
		require.NoError(t, j.Close())
		rows, err := ledger.ReadFile(filepath.Join(dir, ledger.File))
		require.NoError(t, err)
		return rows
	}
}

// TestInterruptKeepsTheBooking: an interrupt after confirm-ok booked keeps
// the booking and every case so far; the rest are skipped and the suite is
// incomplete.
func TestInterruptKeepsTheBooking(t *testing.T) {
	srv := sandbox.StartTB(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var n atomic.Int64
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/confirm") && n.Add(1) == 3 {
			_, _ = io.ReadAll(r.Body) // then the server notices the client leave
			cancel()                  // the signal arrives while the third confirm is in flight
			<-r.Context().Done()      // and the client gives up before any answer
			return
		}
		srv.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	cfg := sandboxConfig(t, srv, false)
	cfg.BaseURL = front.URL
	var rows func() []ledger.Row
	cfg.Journal, rows = testJournal(t)
	res, err := Run(ctx, cfg)
	require.NoError(t, err)
	bookings := rows()
	assert.True(t, res.Interrupted)
	assert.Len(t, res.Cases, len(suite()), "every case is in the result")
	assert.Positive(t, res.Counts.Skip)
	// confirm-ok's booking, and the request abandoned at the signal, which
	// may have booked.
	require.Len(t, bookings, 2)
	assert.Equal(t, cfg.OfferID, bookings[0].OfferID)
	assert.Equal(t, ledger.Booked, bookings[0].Outcome)
	assert.NotEmpty(t, bookings[0].BookingID)
	assert.Equal(t, ledger.Unknown, bookings[1].Outcome)
	assert.Contains(t, bookings[1].Error, "context canceled")
	assert.Equal(t, int64(1), srv.Stats().Confirmed)
	assert.NotEmpty(t, res.Incomplete())
}

// cloudflare401 writes a 401 as XONE's edge sends it.
func cloudflare401(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	h.Set("Content-Type", "application/json")
	h.Set("Connection", "keep-alive")
	h.Set("Cache-Control", "no-cache, private")
	h.Set("Vary", "Accept-Encoding")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-XSS-Protection", "1; mode=block")
	h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
	h.Set("CF-Cache-Status", "DYNAMIC")
	h.Set("Server", "cloudflare")
	h.Set("CF-RAY", "8a1b2c3d4e5f6789-SYD")
	h.Set("Server-Timing", `cfL4;desc="?proto=TCP&rtt=10374&min_rtt=9816&rtt_var=3979&sent=5&recv=6&lost=0&retrans=0&sent_bytes=3105&recv_bytes=1202&cwnd=252&unsent_bytes=0&cid=0&ts=0&x=0"`)
	h.Set("Cf-Team", "2b5f9c7e4a1d4c3e8f6a0b1c2d3e4f5a")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = io.WriteString(w, `{"message":"Unauthenticated."}`)
}

const standInToken = "standin-write-token-3c1d"

// standIn is a hand-written imitation of the live API: Cloudflare 401s,
// Laravel 422s, 400 for malformed JSON, 404 for unknown offers, and a 200
// booking for the one known offer.
func standIn(t *testing.T, offerID, quoteID string) *httptest.Server {
	t.Helper()
	tmpl, err := os.ReadFile("testdata/standin-200.json")
	require.NoError(t, err)
	booking := strings.NewReplacer("{{OFFER_ID}}", offerID, "{{QUOTE_ID}}", quoteID).Replace(string(tmpl))
	var mu sync.Mutex
	confirmed := false
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/partners/{partner_id}/offers/{offer_id}/confirm", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+standInToken {
			cloudflare401(w)
			return
		}
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-cache, private")
		unprocessable := func(field, msg string) {
			w.WriteHeader(http.StatusUnprocessableEntity)
			fmt.Fprintf(w, `{"message":%q,"errors":{%q:[%q]}}`, msg, field, msg)
		}
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			unprocessable("quotes", "The quotes field is required.")
			return
		}
		var req struct {
			Quotes       []map[string]any `json:"quotes"`
			Policyholder map[string]any   `json:"policyholder"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"message":"Malformed JSON body."}`)
			return
		}
		switch {
		case len(req.Quotes) == 0:
			unprocessable("quotes", "The quotes field is required.")
			return
		case req.Quotes[0]["id"] == nil:
			unprocessable("quotes.0.id", "The quotes.0.id field is required.")
			return
		case req.Policyholder == nil:
			unprocessable("policyholder", "The policyholder field is required.")
			return
		}
		if r.PathValue("offer_id") != offerID {
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"message":"Offer not found."}`)
			return
		}
		mu.Lock()
		again := confirmed
		confirmed = true
		mu.Unlock()
		if again {
			unprocessable("offer", "Booking already exists for offer "+offerID+".")
			return
		}
		_, _ = io.WriteString(w, booking)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestCloudflareStandIn(t *testing.T) {
	for _, strictSpec := range []bool{false, true} {
		t.Run(fmt.Sprintf("strict-spec=%v", strictSpec), func(t *testing.T) {
			offer, quote := xone.NewUUID(), xone.NewUUID()
			srv := standIn(t, offer, quote)
			res := mustRun(t, Config{
				BaseURL:        srv.URL,
				PartnerID:      "PARTNER-1",
				OfferID:        offer,
				QuoteID:        quote,
				Tokens:         oauth2.StaticTokenSource(&oauth2.Token{AccessToken: standInToken}),
				ReadOnlyTokens: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "standin-readonly-token"}),
				Spec:           loadSpec(t, strictSpec), // strict spec: undocumented fields would be drift
			})
			eachCase(t, res, func(t *testing.T, c CaseResult) {
				switch {
				case c.Name == CaseConcurrentConfirm:
					assert.Equal(t, OutcomeSkip, c.Outcome, "no offer feed off the sandbox")
					assert.Contains(t, c.Reason, "--offers")
				case slices.Contains(expectedDrift, c.Name):
					assert.Equal(t, OutcomeDrift, c.Outcome)
				default:
					assert.Equal(t, OutcomePass, c.Outcome)
				}
			})
			assert.False(t, res.Failed(), "realistic 401 headers and 422 answers are no failure")
			assert.Equal(t, 422, res.Case(CaseMissingQuotes).Status)
			assert.Equal(t, 400, res.Case(CaseMalformedJSON).Status)
			assert.NotContains(t, violationKeys(res.Case(CaseMalformedJSON)), RuleStatusUnexpected+" ",
				"400 is a known answer to malformed JSON")
			assert.Contains(t, res.Case(CaseDoubleConfirm).Reason, "Booking already exists")
		})
	}
}

// capture is a RoundTripper that keeps every secret it sees: bearer tokens
// sent and security tokens received.
type capture struct {
	mu      sync.Mutex
	secrets []string
}

func (c *capture) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	c.mu.Lock()
	defer c.mu.Unlock()
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		c.secrets = append(c.secrets, tok)
	}
	var b struct {
		Data struct {
			SecurityToken string `json:"security_token"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &b) == nil && b.Data.SecurityToken != "" {
		c.secrets = append(c.secrets, b.Data.SecurityToken)
	}
	return resp, nil
}

func TestRecordReplay(t *testing.T) {
	const (
		canaryEmail = "canary.7f3a9c@example.org"
		canaryPhone = "+61491570156"
	)
	policyholder := json.RawMessage(`{"first_name":"Grace","last_name":"Hopper","country":"AU",` +
		`"email":"` + canaryEmail + `","phone":"` + canaryPhone + `","address1":"2 Canary Lane",` +
		`"city":"Melbourne","region":"VIC","postcode":"3000"}`)
	for _, mode := range []string{"", "bad-email", "price-as-string", "accept-without-token", "html-401", "duplicate-booking"} {
		name := mode
		if name == "" {
			name = "clean"
		}
		t.Run(name, func(t *testing.T) {
			var opts []sandbox.Option
			if mode != "" {
				opts = append(opts, sandbox.Drift(mode))
			}
			srv := sandbox.StartTB(t, opts...)
			cfg := sandboxConfig(t, srv, false)
			cfg.Policyholder = policyholder
			var capt capture
			cfg.HTTPClient = &http.Client{Transport: &capt, Timeout: 5 * time.Second}
			res := mustRun(t, cfg)
			dir := t.TempDir()
			require.NoError(t, Record(dir, res))
			require.NoError(t, srv.Close(), "no network from here on")

			files, err := filepath.Glob(filepath.Join(dir, "*.json"))
			require.NoError(t, err)
			assert.Len(t, files, len(caseNames()), "one file per case")
			canaries := append([]string{canaryEmail, canaryPhone, sandbox.ClientSecret, sandbox.ReadOnlyClientSecret}, capt.secrets...)
			require.Greater(t, len(capt.secrets), 4, "the capture saw tokens")
			summary, err := json.Marshal(res)
			require.NoError(t, err)
			for _, f := range append(files, "result") {
				b := summary
				if f != "result" {
					b, err = os.ReadFile(f)
					require.NoError(t, err)
				}
				for _, c := range canaries {
					if c == malformedToken {
						continue
					}
					assert.NotContains(t, string(b), c, "%s leaks a secret", filepath.Base(f))
				}
				assert.NotRegexp(t, `(?i)bearer [^\[]`, string(b), "%s leaks a bearer token", filepath.Base(f))
			}

			replayed, err := Replay(dir, loadSpec(t, false), false)
			require.NoError(t, err)
			assert.True(t, replayed.Replay)
			assert.Equal(t, dir, replayed.Target)
			assert.Equal(t, names(res), names(replayed))
			assert.Equal(t, res.Counts, replayed.Counts)
			for _, c := range res.Cases {
				r := replayed.Case(c.Name)
				require.NotNil(t, r, c.Name)
				assert.Equal(t, c.Outcome, r.Outcome, "%s: replayed outcome (reason %s / %s)", c.Name, c.Reason, r.Reason)
				assert.Equal(t, c.Status, r.Status, c.Name)
				assert.Equal(t, c.Security, r.Security, c.Name)
				assert.Equal(t, violationKeys(&c), violationKeys(r), c.Name)
			}

			// The same recordings under strict: every drift becomes a fail.
			strict, err := Replay(dir, loadSpec(t, true), true)
			require.NoError(t, err)
			for _, c := range res.Cases {
				want := c.Outcome
				if want == OutcomeDrift {
					want = OutcomeFail
				}
				assert.Equal(t, want, strict.Case(c.Name).Outcome, c.Name)
			}

			// A recording of a recording is the same recording.
			dir2 := t.TempDir()
			require.NoError(t, Record(dir2, replayed))
			again, err := Replay(dir2, loadSpec(t, false), false)
			require.NoError(t, err)
			assert.Equal(t, outcomes(replayed), outcomes(again))
		})
	}
}

func TestReplayErrors(t *testing.T) {
	s := loadSpec(t, false)
	write := func(t *testing.T, files map[string]string) string {
		dir := t.TempDir()
		for n, b := range files {
			require.NoError(t, os.WriteFile(filepath.Join(dir, n), []byte(b), 0o644))
		}
		return dir
	}
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"empty", map[string]string{"notes.txt": "x"}, "no recordings"},
		{"not-json", map[string]string{"a.json": "{"}, "decode recording"},
		{"version", map[string]string{"a.json": `{"version":2,"case":{"name":"no-token","outcome":"skip"}}`}, "version 2"},
		{"unknown-case", map[string]string{"a.json": `{"version":1,"case":{"name":"nope","outcome":"skip"}}`}, `unknown case "nope"`},
		{"no-exchange", map[string]string{"a.json": `{"version":1,"case":{"name":"no-token","outcome":"pass"}}`}, "no exchange"},
		{"duplicate", map[string]string{
			"a.json": `{"version":1,"case":{"name":"no-token","outcome":"skip"}}`,
			"b.json": `{"version":1,"case":{"name":"no-token","outcome":"skip"}}`,
		}, "second recording"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Replay(write(t, tt.files), s, false)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	_, err := Replay(filepath.Join(t.TempDir(), "missing"), s, false)
	assert.Error(t, err)
	_, err = Replay(t.TempDir(), nil, false)
	assert.ErrorIs(t, err, ErrConfig)
}

func TestInvariants(t *testing.T) {
	good := func() map[string]any {
		return map[string]any{
			"offer_id": "o-1", "currency": "AUD", "price": 12.5,
			"created_at": "2026-11-20T03:14:15Z", "updated_at": "2026-11-20T03:14:16Z",
			"quote":        map[string]any{"uuid": "q-1"},
			"coi":          map[string]any{"url": "https://x.example/coi", "pdf": "https://x.example/coi.pdf"},
			"account_url":  "https://x.example/account",
			"policyholder": map[string]any{"created_at": "2026-11-20T03:14:15Z", "updated_at": "2026-11-20T03:14:15Z"},
			"policies": []any{map[string]any{
				"policy_start_date": "2026-12-05T09:00:00+10:00", "policy_end_date": "2026-12-05T23:59:59+10:00",
				"price": 12.5, "tax": 1.1, "commission": 0.0, "pds_url": "https://x.example/pds",
				"created_at": "2026-11-20T03:14:15Z", "updated_at": "2026-11-20T03:14:15Z",
			}},
		}
	}
	policy := func(d map[string]any) map[string]any { return d["policies"].([]any)[0].(map[string]any) }
	tests := []struct {
		name     string
		mutate   func(map[string]any)
		loopback bool
		want     []string // rule path
	}{
		{"all-hold", func(map[string]any) {}, false, nil},
		{"offer-id-other", func(d map[string]any) { d["offer_id"] = "o-2" }, false, []string{"invariant:offer-id-echoed $.data.offer_id"}},
		{"offer-id-missing", func(d map[string]any) { delete(d, "offer_id") }, false, []string{"invariant:offer-id-echoed $.data.offer_id"}},
		{"quote-id-other", func(d map[string]any) { d["quote"] = map[string]any{"uuid": "q-2"} }, false, []string{"invariant:quote-id-echoed $.data.quote.uuid"}},
		{"quote-absent-ok", func(d map[string]any) { delete(d, "quote") }, false, nil},
		{"policy-ends-first", func(d map[string]any) { policy(d)["policy_end_date"] = "2026-12-05T08:00:00+10:00" }, false,
			[]string{"invariant:policy-dates-ordered $.data.policies[0]"}},
		{"policy-dates-other-zones", func(d map[string]any) { policy(d)["policy_end_date"] = "2026-12-04T23:30:00Z" }, false, nil},
		{"negative-price", func(d map[string]any) { d["price"] = -1.0 }, false, []string{"invariant:amounts-non-negative $.data.price"}},
		{"negative-tax-commission", func(d map[string]any) { policy(d)["tax"] = -0.1; policy(d)["commission"] = -2.0 }, false,
			[]string{"invariant:amounts-non-negative $.data.policies[0].commission", "invariant:amounts-non-negative $.data.policies[0].tax"}},
		{"currency-lower", func(d map[string]any) { d["currency"] = "aud" }, false, []string{"invariant:currency-code $.data.currency"}},
		{"currency-long", func(d map[string]any) { d["currency"] = "AUDD" }, false, []string{"invariant:currency-code $.data.currency"}},
		{"updated-before-created", func(d map[string]any) { d["updated_at"] = "2026-11-20T03:00:00Z" }, false,
			[]string{"invariant:timestamps-ordered $.data"}},
		{"policyholder-updated-first", func(d map[string]any) {
			d["policyholder"].(map[string]any)["updated_at"] = "2025-01-01T00:00:00Z"
		}, false, []string{"invariant:timestamps-ordered $.data.policyholder"}},
		{"http-url", func(d map[string]any) { d["account_url"] = "http://x.example/account" }, false,
			[]string{"invariant:urls-absolute-https $.data.account_url"}},
		{"http-url-on-loopback", func(d map[string]any) { d["account_url"] = "http://127.0.0.1:8080/account" }, true, nil},
		{"relative-url", func(d map[string]any) { d["coi"].(map[string]any)["pdf"] = "/coi.pdf" }, true,
			[]string{"invariant:urls-absolute-https $.data.coi.pdf"}},
		{"ftp-pds", func(d map[string]any) { policy(d)["pds_url"] = "ftp://x.example/pds" }, true,
			[]string{"invariant:urls-absolute-https $.data.policies[0].pds_url"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := good()
			tt.mutate(d)
			var got []string
			vs := checkInvariants(d, caseContext{OfferID: "o-1", QuoteID: "q-1", Loopback: tt.loopback})
			for _, v := range vs {
				got = append(got, v.Rule+" "+v.Path)
				assert.NotEmpty(t, v.Reason)
				assert.NotEmpty(t, v.Expected)
			}
			sort.Strings(got)
			assert.Equal(t, tt.want, got)
			// Skipping every invariant silences them all.
			assert.Empty(t, checkInvariants(d, caseContext{OfferID: "o-1", QuoteID: "q-1", SkipInvariants: Invariants()}))
		})
	}
}

func TestResultJSON(t *testing.T) {
	r := &Result{Target: "http://127.0.0.1:1", Cases: []CaseResult{
		{Name: CaseNoToken, Outcome: OutcomePass, Status: 401, Duration: 1500 * time.Microsecond,
			Exchange: &Exchange{Method: "POST", URL: "http://127.0.0.1:1/x", Status: 401, Duration: 2 * time.Millisecond}},
		{Name: CaseConfirmOK, Outcome: OutcomeSkip, Reason: "no offer"},
	}}
	r.finish()
	b, err := json.Marshal(r)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	c := m["cases"].([]any)[0].(map[string]any)
	for _, k := range []string{"name", "outcome", "status", "duration_ms", "violations", "reason", "security", "exchange"} {
		if k == "reason" {
			continue // omitted when empty
		}
		assert.Contains(t, c, k)
	}
	assert.InDelta(t, 1.5, c["duration_ms"], 1e-9)
	assert.Equal(t, []any{}, c["violations"], "violations is [] not null")
	assert.InDelta(t, 2.0, c["exchange"].(map[string]any)["duration_ms"], 1e-9)
	assert.Equal(t, map[string]any{"pass": 1.0, "fail": 0.0, "drift": 0.0, "skip": 1.0, "error": 0.0}, m["counts"])

	var back Result
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, 1500*time.Microsecond, back.Cases[0].Duration)
	assert.Equal(t, 2*time.Millisecond, back.Cases[0].Exchange.Duration)
	assert.False(t, back.Failed())
	back.Cases[1].Outcome = OutcomeFail
	assert.True(t, back.Failed())

	// A violation is written as {rule, path, expected, observed, message}:
	// Reason as "message", without spec's Keyword and Status.
	v := Violation{Rule: "schema", Path: "$.data.price", Keyword: "type", Reason: "got string, want number",
		Expected: "number", Observed: "string", Status: 200}
	b, err = json.Marshal(CaseResult{Name: CaseConfirmOK, Violations: []Violation{v}})
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &m))
	assert.Equal(t, []any{map[string]any{"rule": "schema", "path": "$.data.price", "expected": "number",
		"observed": "string", "message": "got string, want number"}}, m["violations"])
	var c2 CaseResult
	require.NoError(t, json.Unmarshal(b, &c2))
	v.Keyword, v.Status = "", 0
	assert.Equal(t, []Violation{v}, c2.Violations)
}

func TestLive(t *testing.T) {
	base := os.Getenv("XONE_BASE_URL")
	const vars = "XONE_BASE_URL, XONE_CLIENT_ID, XONE_CLIENT_SECRET, XONE_PARTNER_ID " +
		"(optional: XONE_TOKEN_URL, XONE_OFFER_ID + XONE_QUOTE_ID, XONE_READONLY_CLIENT_ID + XONE_READONLY_CLIENT_SECRET)"
	if base == "" {
		if os.Getenv("XONE_REQUIRE_LIVE") == "1" {
			t.Fatalf("XONE_REQUIRE_LIVE=1 but no live target: set %s", vars)
		}
		t.Skipf("live contract suite: set %s; XONE_REQUIRE_LIVE=1 makes this skip a failure", vars)
	}
	var missing []string
	for _, v := range []string{"XONE_CLIENT_ID", "XONE_CLIENT_SECRET", "XONE_PARTNER_ID"} {
		if os.Getenv(v) == "" {
			missing = append(missing, v)
		}
	}
	require.Empty(t, missing, "XONE_BASE_URL is set but these are not")
	tokenURL := os.Getenv("XONE_TOKEN_URL")
	if tokenURL == "" {
		tokenURL = strings.TrimRight(base, "/") + "/api/oauth/token"
	}
	red := auth.NewRedactor(os.Getenv("XONE_CLIENT_SECRET"), os.Getenv("XONE_READONLY_CLIENT_SECRET"))
	write, err := auth.New(auth.Config{TokenURL: tokenURL, ClientID: os.Getenv("XONE_CLIENT_ID"),
		ClientSecret: os.Getenv("XONE_CLIENT_SECRET")})
	require.NoError(t, err)
	cfg := Config{
		BaseURL:   base,
		PartnerID: os.Getenv("XONE_PARTNER_ID"),
		OfferID:   os.Getenv("XONE_OFFER_ID"),
		QuoteID:   os.Getenv("XONE_QUOTE_ID"),
		Tokens:    write,
		Spec:      loadSpec(t, false),
		Redactor:  red,
	}
	if id := os.Getenv("XONE_READONLY_CLIENT_ID"); id != "" {
		ro, err := auth.New(auth.Config{TokenURL: tokenURL, ClientID: id, ClientSecret: os.Getenv("XONE_READONLY_CLIENT_SECRET")})
		require.NoError(t, err)
		cfg.ReadOnlyTokens = ro
	}
	res := mustRun(t, cfg)
	eachCase(t, res, func(t *testing.T, c CaseResult) {
		if c.Outcome == OutcomeSkip {
			t.Skip(c.Reason)
		}
		assert.NotEqual(t, OutcomeFail, c.Outcome, "%s", c.Reason)
	})
}

func FuzzDecodeRecording(f *testing.F) {
	f.Add([]byte(`{"version":1,"case":{"name":"no-token","outcome":"skip","reason":"x"}}`))
	f.Add([]byte(`{"version":1,"case":{"name":"no-token","outcome":"pass","status":401,"exchange":{"method":"POST",` +
		`"url":"http://127.0.0.1:1/api/partners/P/offers/O/confirm","status":401,"response_body":"{}","duration_ms":1.5}},` +
		`"context":{"offer_id":"O","loopback":true}}`))
	f.Add([]byte(`{"version":1,"case":{"name":"confirm-ok","outcome":"fail","exchange":{"method":"bad method","url":"::","status":200}}}`))
	f.Add([]byte(`[]`))
	s := loadSpec(f, false)
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := decodeRecording(b)
		if err != nil {
			return
		}
		d, ok := lookup(rec.Case.Name)
		if !ok {
			t.Fatalf("decodeRecording accepted unknown case %q", rec.Case.Name)
		}
		cr := replayCase(d, s, false, rec, s.NewCoverage())
		if cr.Name != d.name {
			t.Fatalf("got case %q, want %q", cr.Name, d.name)
		}
	})
}

func TestErrorMessage(t *testing.T) {
	tests := []struct{ body, want string }{
		{`{"message":"Unauthenticated."}`, "Unauthenticated."},
		{`{"message":"The given data was invalid.","errors":{"quotes":["The quotes field is required."],"policyholder":["x"]}}`,
			"The given data was invalid. (quotes: The quotes field is required.)"},
		{`{"message":"Invalid.","errors":{"quotes.0.id":"The id is required."}}`, "Invalid. (quotes.0.id: The id is required.)"},
		{`{"message":"Invalid.","errors":[{"field":"quotes"}]}`, "Invalid."},
		{`{"message":401}`, "401"},
		{"<html>\n<body>401   Unauthorized</body></html>", "<html> <body>401 Unauthorized</body></html>"},
		{"", ""},
		{`{"other":1}`, `{"other":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			assert.Equal(t, tt.want, errorMessage([]byte(tt.body)))
		})
	}
	long := errorMessage([]byte(`{"message":"` + strings.Repeat("é", 300) + `"}`))
	assert.LessOrEqual(t, len(long), 200+len("…"))
	assert.True(t, utf8.ValidString(long))
}

func TestRequestPrechecks(t *testing.T) {
	// A vendor document that no longer requires quotes: missing-quotes would
	// not test what it claims, so Run refuses before sending anything.
	doc := strings.Replace(string(spec.Vendor()), `"required":["quotes","policyholder"]`, `"required":["policyholder"]`, 1)
	require.NotEqual(t, string(spec.Vendor()), doc, "the vendor document changed: adapt this test")
	lax, err := spec.Load(spec.FromDocument([]byte(doc)))
	require.NoError(t, err)
	srv := sandbox.StartTB(t)
	cfg := sandboxConfig(t, srv, false)
	cfg.Spec = lax
	_, err = Run(context.Background(), cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "contract: missing-quotes: request is not invalid for the intended reason")
	assert.Zero(t, srv.Stats().Confirms, "nothing sent")

	v := func(rule, path, kw string) spec.Violation { return spec.Violation{Rule: rule, Path: path, Keyword: kw} }
	check := invalidAt("$.quotes", "required")
	assert.Empty(t, check([]spec.Violation{v(spec.RuleRequestBody, "$.quotes", "required")}))
	assert.NotEmpty(t, check(nil), "valid request")
	assert.NotEmpty(t, check([]spec.Violation{v(spec.RuleRequestBody, "$.policyholder", "required")}), "wrong reason")
	assert.NotEmpty(t, check([]spec.Violation{v(spec.RuleRequestBody, "$.quotes", "required"),
		v(spec.RuleRequestBody, "header:Content-Type", "")}), "a second, unintended reason")
	gap := validOrInvalidAt("$.quotes", "minItems")
	assert.Empty(t, gap(nil))
	assert.Empty(t, gap([]spec.Violation{v(spec.RuleRequestBody, "$.quotes", "minItems")}))
	assert.NotEmpty(t, gap([]spec.Violation{v(spec.RuleRequestBody, "$.quotes[0].id", "required")}))
}

func TestReplayTruncated(t *testing.T) {
	dir := t.TempDir()
	rec := recording{Version: recordingVersion, Target: "http://127.0.0.1:1",
		Case: CaseResult{Name: CaseConfirmOK, Outcome: OutcomePass, Status: 200, Reason: "booking X",
			Exchange: &Exchange{Method: "POST", URL: "http://127.0.0.1:1/api/partners/P/offers/O/confirm",
				Status: 200, ResponseBody: `{"data":{"id":"X"`, ResponseBodyTruncated: true}}}
	b, err := json.Marshal(rec)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "confirm-ok.json"), b, 0o644))
	res, err := Replay(dir, loadSpec(t, false), false)
	require.NoError(t, err)
	c := res.Case(CaseConfirmOK)
	assert.Equal(t, OutcomePass, c.Outcome, "a cut body is not judged again")
	assert.Contains(t, c.Reason, "truncated")

	e := redactExchange(nil, rawExchange{respBody: []byte(strings.Repeat("é", MaxExchangeBody)), reqBody: []byte("{}")})
	assert.True(t, e.ResponseBodyTruncated)
	assert.LessOrEqual(t, len(e.ResponseBody), MaxExchangeBody)
	assert.True(t, utf8.ValidString(e.ResponseBody))
	assert.False(t, e.RequestBodyTruncated)
	assert.Equal(t, "{}", e.RequestBody)
}

func TestRedirectIsAnAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/login", http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	res := mustRun(t, Config{
		BaseURL: srv.URL, PartnerID: "P", OfferID: xone.NewUUID(), QuoteID: xone.NewUUID(),
		Tokens: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "tok-redirect"}),
		Spec:   loadSpec(t, false),
	})
	eachCase(t, res, func(t *testing.T, c CaseResult) {
		switch c.Name {
		case CaseWrongScopeToken, CaseDoubleConfirm, CaseConcurrentConfirm:
			assert.Equal(t, OutcomeSkip, c.Outcome)
		default:
			assert.Equal(t, OutcomeFail, c.Outcome)
			assert.Equal(t, http.StatusFound, c.Status, "the redirect is not followed")
			assert.Contains(t, violationKeys(&c), RuleStatus+" ")
		}
	})
}
