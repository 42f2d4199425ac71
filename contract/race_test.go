package contract

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"pgregory.net/rapid"

	"github.com/xoneharness/xoneharness/internal/egress"
	"github.com/xoneharness/xoneharness/internal/race"
	"github.com/xoneharness/xoneharness/internal/sandbox"
	"github.com/xoneharness/xoneharness/internal/xone"
	"github.com/xoneharness/xoneharness/ledger"
	"github.com/xoneharness/xoneharness/spec"
)

// The gate is what the CLI passes as Config.Conns.
var _ race.Conns = (*egress.Gate)(nil)

const raceRuns = 20

// maxTail bounds the spread of a single race on loopback: the median stays
// well under 1 ms, but on a shared 2-core machine under the race detector
// the scheduler sometimes holds the writing goroutine for a few
// milliseconds between two writes.
const maxTail = 50 * time.Millisecond

// raceOnly runs concurrent-confirm alone the way Run does (credentials,
// plan, runner) and returns its result.
func raceOnly(t *testing.T, ctx context.Context, cfg Config) (CaseResult, *Result, error) {
	t.Helper()
	base, err := cfg.check()
	require.NoError(t, err)
	r := newRunner(&cfg)
	creds, err := fetchCredentials(ctx, &cfg, r.red, r.now())
	require.NoError(t, err)
	plans, err := plan(&cfg, base, r.policyholder, creds)
	require.NoError(t, err)
	i := slices.IndexFunc(plans, func(p planned) bool { return p.def.kind == kindRace })
	require.GreaterOrEqual(t, i, 0)
	res := &Result{contexts: map[string]caseContext{}}
	if err := r.runFixed(ctx, plans[i:i+1], res); err != nil {
		return CaseResult{}, res, err
	}
	res.finish()
	require.Len(t, res.Cases, 1)
	return res.Cases[0], res, nil
}

// bookingIDs are the distinct booking ids of a group's answers.
func bookingIDs(rc *Race) []string {
	var ids []string
	for _, a := range rc.Attempts {
		if a.BookingID != "" && !slices.Contains(ids, a.BookingID) {
			ids = append(ids, a.BookingID)
		}
	}
	return ids
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// TestRaceSandbox: against the clean embedded sandbox the race books its
// offer once in every run (outcome drift only for the undocumented 422 the
// sandbox refuses with, as double-confirm), the final writes within 1 ms
// (median; every run within maxTail);
// with racy-double-book it fails in every run, naming every booking, and
// the sandbox's own count of double bookings agrees.
func TestRaceSandbox(t *testing.T) {
	t.Run("clean", func(t *testing.T) {
		srv := sandbox.StartTB(t)
		cfg := sandboxConfig(t, srv, false)
		var spreads, server []time.Duration
		for run := range raceRuns {
			c, _, err := raceOnly(t, context.Background(), cfg)
			require.NoError(t, err)
			rc := c.Race
			require.NotNil(t, rc, "run %d: %s", run, c.Reason)
			assert.Equal(t, OutcomeDrift, c.Outcome, "run %d: %s", run, c.Reason)
			assert.False(t, c.Integrity)
			assert.Equal(t, []string{spec.RuleStatusUndocumented + " $"}, violationKeys(&c), "run %d: only the undocumented 422", run)
			assert.Len(t, bookingIDs(rc), 1, "run %d: got %v, want one booking", run, bookingIDs(rc))
			assert.Empty(t, rc.Fallback)
			assert.Equal(t, DefaultRace, rc.N)
			assert.Greater(t, rc.Spread, time.Duration(0), "run %d", run)
			assert.Less(t, rc.Spread, maxTail, "run %d: final writes spread over %s", run, rc.Spread)
			assert.True(t, rc.ServerTimed, "run %d: the sandbox sends Server-Timing recv", run)
			assert.GreaterOrEqual(t, rc.ServerSpread, time.Duration(0))
			for _, a := range rc.Attempts {
				assert.Regexp(t, `^[0-9a-f]{16}-SYD$`, a.CFRay)
			}
			spreads, server = append(spreads, rc.Spread), append(server, rc.ServerSpread)
		}
		over := slices.DeleteFunc(slices.Clone(spreads), func(d time.Duration) bool { return d < time.Millisecond })
		t.Logf("client final-write spread: median %s, max %s, %d of %d runs over 1 ms; server arrival spread: median %s, max %s",
			median(spreads), slices.Max(spreads), len(over), raceRuns, median(server), slices.Max(server))
		assert.Less(t, median(spreads), time.Millisecond, "got a median spread of %s, want under 1 ms on loopback", median(spreads))
		st := srv.Stats()
		assert.Equal(t, int64(raceRuns), st.Confirmed, "one booking per run")
		assert.Equal(t, int64(raceRuns*(DefaultRace-1)), st.DuplicateConfirms)
		assert.Zero(t, st.DoubleBookings)
	})
	t.Run("racy-double-book", func(t *testing.T) {
		srv := sandbox.StartTB(t, sandbox.Drift("racy-double-book"))
		cfg := sandboxConfig(t, srv, false)
		var rows func() []ledger.Row
		cfg.Journal, rows = testJournal(t)
		extra := 0
		for run := range raceRuns {
			c, _, err := raceOnly(t, context.Background(), cfg)
			require.NoError(t, err)
			require.NotNil(t, c.Race, "run %d: %s", run, c.Reason)
			ids := bookingIDs(c.Race)
			assert.Equal(t, OutcomeFail, c.Outcome, "run %d: %s", run, c.Reason)
			assert.True(t, c.Integrity, "run %d", run)
			assert.GreaterOrEqual(t, len(ids), 2, "run %d: got %d bookings, want the double booking found", run, len(ids))
			for _, id := range ids {
				assert.Contains(t, c.Reason, id, "run %d: every booking id is named", run)
			}
			assert.Contains(t, violationKeys(&c), RuleDuplicateBooking+" $.data.id")
			extra += max(len(ids)-1, 0)
			t.Logf("run %d: %d bookings, final writes within %s, server arrivals within %s", run, len(ids), c.Race.Spread, c.Race.ServerSpread)
		}
		st := srv.Stats()
		assert.Equal(t, int64(extra), st.DoubleBookings, "the sandbox's own count of double bookings")
		booked := 0
		for _, r := range rows() {
			if r.Outcome == ledger.Booked {
				booked++
			}
		}
		assert.Equal(t, int(st.Confirmed), booked, "every booking the server made is in the ledger")
	})
}

// fakeBooker is a confirm endpoint written for the test: it books an offer
// (200 with a new booking id) or refuses it (422), and keeps its own count of
// bookings per offer. With window > 0 it checks then acts: it looks the offer
// up, sleeps window, then books, so confirms that arrive within window of
// one another all book. With window 0 it looks up and books under one lock.
// With idempotent it answers a second confirm 200 with the first booking.
type fakeBooker struct {
	window     time.Duration
	idempotent bool

	mu     sync.Mutex
	booked map[string][]string // offer -> booking ids
	n      int
}

func (b *fakeBooker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.ReadAll(r.Body)
	offer := r.PathValue("offer_id")
	b.mu.Lock()
	seen := len(b.booked[offer]) > 0 // check ...
	if b.window > 0 {
		b.mu.Unlock()
		time.Sleep(b.window) // ... then act, without the lock in between
		b.mu.Lock()
	}
	id := ""
	switch {
	case !seen:
		b.n++
		id = fmt.Sprintf("BK%03d-RACE-INS", b.n)
		b.booked[offer] = append(b.booked[offer], id)
	case b.idempotent:
		id = b.booked[offer][0]
	}
	b.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if id == "" {
		w.WriteHeader(http.StatusUnprocessableEntity)
		_, _ = io.WriteString(w, `{"message":"Booking already exists for offer `+offer+`."}`)
		return
	}
	_, _ = fmt.Fprintf(w, `{"data":{"id":%q,"offer_id":%q}}`, id, offer)
}

func (b *fakeBooker) count(offer string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.booked[offer])
}

// fakeTarget serves h as the confirm endpoint on 127.0.0.1 and returns a
// Config for it whose offer feed hands out fresh offers (offers records
// them).
func fakeTarget(t *testing.T, h http.Handler) (cfg Config, offers func() []string) {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("POST /api/partners/{partner_id}/offers/{offer_id}/confirm", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	var mu sync.Mutex
	var drawn []string
	return Config{
			BaseURL: srv.URL, PartnerID: "PARTNER-1",
			Tokens: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "race-token-7f2e"}),
			Spec:   loadSpec(t, false),
			NextOffer: func() (string, string, bool) {
				mu.Lock()
				defer mu.Unlock()
				drawn = append(drawn, xone.NewUUID())
				return drawn[len(drawn)-1], xone.NewUUID(), true
			},
		}, func() []string {
			mu.Lock()
			defer mu.Unlock()
			return slices.Clone(drawn)
		}
}

// TestRaceIndependentServers proves the case against servers written here,
// not the sandbox, each with its own record of what it booked: one that
// books twice when confirms arrive within 5 ms of each other fails every run
// (integrity, every booking named), one that serialises passes every run,
// and one that answers every confirm with the first booking passes as
// idempotent. The server's own count is the oracle.
func TestRaceIndependentServers(t *testing.T) {
	tests := []struct {
		name       string
		booker     *fakeBooker
		want       Outcome
		integrity  bool
		wantReason string
	}{
		{"check-then-act", &fakeBooker{window: 5 * time.Millisecond}, OutcomeFail, true, "double booking"},
		{"serialised", &fakeBooker{}, OutcomeDrift, false, "one booking"},
		{"idempotent", &fakeBooker{idempotent: true}, OutcomePass, false, "idempotent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.booker.booked = map[string][]string{}
			cfg, offers := fakeTarget(t, tt.booker)
			for run := range raceRuns {
				c, _, err := raceOnly(t, context.Background(), cfg)
				require.NoError(t, err)
				require.NotNil(t, c.Race, "run %d: %s", run, c.Reason)
				offer := offers()[run]
				assert.Equal(t, offer, c.Race.OfferID)
				booked := tt.booker.count(offer)
				assert.Equal(t, tt.want, c.Outcome, "run %d: %s", run, c.Reason)
				assert.Equal(t, tt.integrity, c.Integrity, "run %d", run)
				assert.Equal(t, booked > 1, c.Integrity, "run %d: the server booked %d times", run, booked)
				assert.Contains(t, c.Reason, tt.wantReason, "run %d", run)
				assert.Len(t, bookingIDs(c.Race), booked, "run %d: the bookings the server made", run)
				for _, id := range bookingIDs(c.Race) {
					assert.Contains(t, c.Reason, id)
				}
				assert.False(t, c.Race.ServerTimed, "no Server-Timing from this server")
			}
			assert.Len(t, offers(), raceRuns, "one offer from the feed per run")
		})
	}
}

// journalLines reads the journal's raw rows: pending and outcome rows as
// written.
func journalLines(t *testing.T, path string) map[ledger.Outcome]int {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, recs)
	col := slices.Index(recs[0], "outcome")
	require.GreaterOrEqual(t, col, 0)
	out := map[ledger.Outcome]int{}
	for _, r := range recs[1:] {
		out[ledger.Outcome(r[col])]++
	}
	return out
}

// TestRaceJournal: every confirm of the group is in the journal before it
// leaves (the server sees N pending rows when each arrives) and resolved
// with its answer; an interrupt in the middle of the group leaves every
// confirm resolved unknown, never missing.
func TestRaceJournal(t *testing.T) {
	t.Run("answered", func(t *testing.T) {
		dir := t.TempDir()
		j, err := ledger.Open(dir, ledger.Options{})
		require.NoError(t, err)
		srv := sandbox.StartTB(t)
		var begun []int64
		var mu sync.Mutex
		front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			begun = append(begun, j.Begun())
			mu.Unlock()
			srv.Handler().ServeHTTP(w, r)
		}))
		t.Cleanup(front.Close)
		cfg := sandboxConfig(t, srv, false)
		cfg.BaseURL, cfg.Journal, cfg.Race = front.URL, j, 7
		c, _, err := raceOnly(t, context.Background(), cfg)
		require.NoError(t, err)
		require.NoError(t, j.Close())
		assert.Equal(t, []int64{7, 7, 7, 7, 7, 7, 7}, begun, "every confirm recorded before any left")
		assert.Equal(t, map[ledger.Outcome]int{ledger.Pending: 7, ledger.Booked: 1, ledger.Refused: 6},
			journalLines(t, filepath.Join(dir, ledger.File)))
		rows, err := ledger.ReadFile(filepath.Join(dir, ledger.File))
		require.NoError(t, err)
		require.Len(t, rows, 1)
		assert.Equal(t, bookingIDs(c.Race), []string{rows[0].BookingID})
	})
	t.Run("interrupted", func(t *testing.T) {
		const n = 5
		dir := t.TempDir()
		j, err := ledger.Open(dir, ledger.Options{})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var arrived atomic.Int64
		cfg, _ := fakeTarget(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.ReadAll(r.Body)
			if arrived.Add(1) == n {
				cancel() // the signal comes once the whole group has arrived
			}
			<-r.Context().Done() // no answer: each may have booked
		}))
		cfg.Journal, cfg.Race = j, n
		c, res, err := raceOnly(t, ctx, cfg)
		require.NoError(t, err)
		require.NoError(t, j.Close())
		assert.True(t, res.Interrupted)
		assert.Equal(t, OutcomeSkip, c.Outcome)
		assert.Contains(t, c.Reason, "interrupted while waiting for the answers")
		require.NotNil(t, c.Race)
		for _, a := range c.Race.Attempts {
			assert.Zero(t, a.Status)
			assert.NotEmpty(t, a.Error)
		}
		assert.Equal(t, map[ledger.Outcome]int{ledger.Pending: n, ledger.Unknown: n},
			journalLines(t, filepath.Join(dir, ledger.File)))
		rows, err := ledger.ReadFile(filepath.Join(dir, ledger.File))
		require.NoError(t, err)
		assert.Len(t, rows, n, "every confirm of the group may have booked")
		for _, r := range rows {
			assert.Equal(t, ledger.Unknown, r.Outcome)
			assert.Contains(t, r.Error, "contract case "+CaseConcurrentConfirm+":")
		}
	})
}

// fakeConns is a Conns that dials the target directly and records Admit.
type fakeConns struct {
	connErr  error
	admitErr error

	mu     sync.Mutex
	admits []int
	dials  int
}

func (f *fakeConns) Conn(ctx context.Context, rawURL string) (net.Conn, error) {
	f.mu.Lock()
	f.dials++
	f.mu.Unlock()
	if f.connErr != nil {
		return nil, f.connErr
	}
	return race.Direct(nil).Conn(ctx, rawURL)
}

func (f *fakeConns) Admit(_ context.Context, _ string, n int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.admits = append(f.admits, n)
	return f.admitErr
}

// TestRaceConns: the group's connections come from Config.Conns and the
// group is admitted as one; where a proxy is in the way the case sends
// ordinary requests released by a barrier and says so; a group the ceiling
// can never release is a configuration error that says what limits it, and
// nothing is sent.
func TestRaceConns(t *testing.T) {
	t.Run("admitted", func(t *testing.T) {
		srv := sandbox.StartTB(t)
		cfg := sandboxConfig(t, srv, false)
		conns := &fakeConns{}
		cfg.Conns, cfg.Race = conns, 3
		c, _, err := raceOnly(t, context.Background(), cfg)
		require.NoError(t, err)
		assert.Equal(t, []int{3}, conns.admits, "one group of 3")
		assert.Equal(t, 3, conns.dials)
		assert.Empty(t, c.Race.Fallback)
		assert.Equal(t, int64(3), srv.Stats().Confirms)
	})
	t.Run("proxied", func(t *testing.T) {
		srv := sandbox.StartTB(t)
		cfg := sandboxConfig(t, srv, false)
		conns := &fakeConns{connErr: fmt.Errorf("egress: connect 127.0.0.1: %w", egress.ErrProxied)}
		cfg.Conns = conns
		c, _, err := raceOnly(t, context.Background(), cfg)
		require.NoError(t, err)
		require.NotNil(t, c.Race)
		assert.Contains(t, c.Race.Fallback, "proxy")
		assert.Contains(t, c.Reason, "ordinary requests released by a barrier")
		assert.Empty(t, conns.admits, "the client's own ceiling paces ordinary requests")
		assert.Equal(t, int64(DefaultRace), srv.Stats().Confirms, "the N confirms went through the client")
		assert.Len(t, bookingIDs(c.Race), 1)
		assert.Equal(t, OutcomeDrift, c.Outcome, c.Reason)
	})
	t.Run("group-too-large", func(t *testing.T) {
		srv := sandbox.StartTB(t)
		cfg := sandboxConfig(t, srv, false)
		var rows func() []ledger.Row
		cfg.Journal, rows = testJournal(t)
		cfg.Conns = &fakeConns{admitErr: fmt.Errorf("egress: admit 5 sends at once: %w (at most 2 at 2 sends per second)", egress.ErrGroupTooLarge)}
		_, _, err := raceOnly(t, context.Background(), cfg)
		require.Error(t, err)
		assert.ErrorIs(t, err, ErrConfig)
		assert.ErrorIs(t, err, egress.ErrGroupTooLarge)
		assert.Contains(t, err.Error(), "at most 2 at 2 sends per second")
		assert.True(t, strings.HasPrefix(err.Error(), "contract: concurrent-confirm: "), err.Error())
		assert.Zero(t, srv.Stats().Confirms, "nothing sent")
		assert.Empty(t, rows(), "nothing recorded")
	})
	t.Run("connection-refused", func(t *testing.T) {
		srv := sandbox.StartTB(t)
		cfg := sandboxConfig(t, srv, false)
		cfg.Conns = &fakeConns{connErr: errors.New("connect: connection refused")}
		c, _, err := raceOnly(t, context.Background(), cfg)
		require.NoError(t, err)
		assert.Equal(t, OutcomeError, c.Outcome)
		assert.Contains(t, c.Reason, "nothing sent")
		assert.Zero(t, srv.Stats().Confirms)
	})
}

// staticResolver resolves every name to addr.
type staticResolver struct{ addr netip.Addr }

func (r staticResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return []netip.Addr{r.addr}, nil
}

// TestRaceThroughGate runs the race through a real egress gate on a route
// the gate holds under its ceiling (a name it resolves to a documentation
// address; its dialer leads to a local server): the group is admitted and
// released together, and a ceiling too low for the group is refused as a
// configuration error before anything is sent.
func TestRaceThroughGate(t *testing.T) {
	srv := sandbox.StartTB(t)
	local := strings.TrimPrefix(srv.URL(), "http://")
	gate := func(rate float64) *egress.Gate {
		g, err := egress.New(egress.Config{MaxRate: rate,
			Resolver: staticResolver{netip.MustParseAddr("192.0.2.10")},
			Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, local) // never the documentation address
			}})
		require.NoError(t, err)
		return g
	}
	_, port, err := net.SplitHostPort(local)
	require.NoError(t, err)
	cfg := sandboxConfig(t, srv, false)
	cfg.BaseURL = "http://race.test:" + port
	require.False(t, gate(20).Loopback(cfg.BaseURL), "the route must be held by the ceiling")

	cfg.Conns = gate(20)
	c, _, err := raceOnly(t, context.Background(), cfg)
	require.NoError(t, err)
	require.NotNil(t, c.Race, c.Reason)
	assert.Len(t, bookingIDs(c.Race), 1)
	assert.Less(t, c.Race.Spread, maxTail)
	t.Logf("through the gate: %s", c.Reason)

	cfg.Conns = gate(2)
	before := srv.Stats().Confirms
	_, _, err = raceOnly(t, context.Background(), cfg)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrConfig)
	assert.ErrorIs(t, err, egress.ErrGroupTooLarge)
	assert.Contains(t, err.Error(), "at most 2")
	assert.Equal(t, before, srv.Stats().Confirms, "nothing sent")
}

// TestRaceSkips: the case runs only with an offer of its own and a way to
// open its connections, and says what is missing.
func TestRaceSkips(t *testing.T) {
	offCfg := func(t *testing.T) Config {
		cfg, _ := fakeTarget(t, &fakeBooker{booked: map[string][]string{}})
		return cfg
	}
	tests := []struct {
		name   string
		cfg    func(t *testing.T) Config
		reason string
	}{
		{"disabled", func(t *testing.T) Config {
			cfg := offCfg(t)
			cfg.Race = -1
			return cfg
		}, "disabled"},
		{"no-feed", func(t *testing.T) Config {
			cfg := offCfg(t)
			cfg.NextOffer = nil
			return cfg
		}, "--offers"},
		{"feed-empty", func(t *testing.T) Config {
			cfg := offCfg(t)
			cfg.NextOffer = func() (string, string, bool) { return "", "", false }
			return cfg
		}, "no offer left"},
		{"no-gate-off-loopback", func(t *testing.T) Config {
			cfg := offCfg(t)
			cfg.BaseURL = "https://partner-sandbox.example"
			return cfg
		}, "egress gate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := raceOnly(t, context.Background(), tt.cfg(t))
			require.NoError(t, err)
			assert.Equal(t, OutcomeSkip, c.Outcome)
			assert.Contains(t, c.Reason, tt.reason)
			assert.Nil(t, c.Race)
		})
	}
	t.Run("too-large", func(t *testing.T) {
		cfg := offCfg(t)
		cfg.Race = MaxRace + 1
		_, err := Run(context.Background(), cfg)
		assert.ErrorIs(t, err, ErrConfig)
		assert.Contains(t, err.Error(), "at most 20")
	})
}

// TestJudgeRace: statuses and booking ids of a group -> verdict.
func TestJudgeRace(t *testing.T) {
	documents := func(s int) bool { return s == 200 || s == 401 }
	a := func(status int, id string) RaceAttempt { return RaceAttempt{Status: status, BookingID: id} }
	lost := RaceAttempt{Error: "read response: i/o timeout"}
	tests := []struct {
		name      string
		attempts  []RaceAttempt
		want      Outcome
		integrity bool
		rules     []string
		reason    string
		status    int
	}{
		{"one-booking-401s", []RaceAttempt{a(401, ""), a(200, "B1"), a(401, "")}, OutcomePass, false, nil, "one booking B1", 200},
		{"one-booking-422s", []RaceAttempt{a(200, "B1"), a(422, ""), a(422, "")}, OutcomeDrift, false,
			[]string{"status-undocumented $"}, "undocumented 422×2", 200},
		{"unknown-refusal", []RaceAttempt{a(200, "B1"), a(418, "")}, OutcomeDrift, false,
			[]string{"status-undocumented $", "status-unexpected "}, "418×1", 200},
		{"idempotent", []RaceAttempt{a(200, "B1"), a(200, "B1"), a(401, "")}, OutcomePass, false, nil, "idempotent", 200},
		{"double-booking", []RaceAttempt{a(200, "B1"), a(401, ""), a(200, "B2"), a(200, "B3")}, OutcomeFail, true,
			[]string{"duplicate-booking $.data.id"}, "B1, B2, B3", 200},
		{"double-booking-with-lost", []RaceAttempt{a(200, "B1"), a(200, "B2"), lost}, OutcomeFail, true,
			[]string{"duplicate-booking $.data.id"}, "created 2 bookings", 200},
		{"two-2xx-one-without-id", []RaceAttempt{a(200, "B1"), a(200, "")}, OutcomeFail, false,
			[]string{"duplicate-booking $.data.id"}, "without a booking id", 200},
		{"no-booking", []RaceAttempt{a(422, ""), a(422, "")}, OutcomeFail, false,
			[]string{"status ", "status-undocumented $"}, "no booking", 422},
		{"server-error", []RaceAttempt{a(200, "B1"), a(503, ""), a(401, "")}, OutcomeFail, false,
			[]string{"server-error "}, "503×1", 503},
		{"redirect", []RaceAttempt{a(200, "B1"), a(302, "")}, OutcomeFail, false, []string{"status "}, "302×1", 302},
		{"lost", []RaceAttempt{a(200, "B1"), lost}, OutcomeError, false, nil, "no answer to 1 of 2", 200},
		{"all-lost", []RaceAttempt{lost, lost}, OutcomeError, false, nil, "i/o timeout", 0},
	}
	d, ok := lookup(CaseConcurrentConfirm)
	require.True(t, ok)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := &Race{N: len(tt.attempts), OfferID: "O-1", Attempts: tt.attempts, Spread: 40 * time.Microsecond}
			cr, pick := judgeRace(d, rc, documents, false)
			assert.Equal(t, tt.want, cr.Outcome, "got %s, want %s: %s", cr.Outcome, tt.want, cr.Reason)
			assert.Equal(t, tt.integrity, cr.Integrity)
			var rules []string
			for _, v := range cr.Violations {
				rules = append(rules, v.Rule+" "+v.Path)
			}
			slices.Sort(rules)
			assert.Equal(t, tt.rules, rules)
			assert.Contains(t, cr.Reason, tt.reason)
			assert.Contains(t, cr.Reason, "final writes within 40µs")
			assert.Equal(t, tt.status, cr.Status)
			assert.Equal(t, tt.attempts[pick].Status, cr.Status)
			if tt.integrity {
				assert.Equal(t, "B2", tt.attempts[pick].BookingID, "the exchange shown is the second booking")
			}
			strict, _ := judgeRace(d, rc, documents, true)
			if tt.want == OutcomeDrift {
				assert.Equal(t, OutcomeFail, strict.Outcome)
				assert.True(t, strings.HasPrefix(strict.Reason, "strict: "), strict.Reason)
			} else {
				assert.Equal(t, tt.want, strict.Outcome)
			}
		})
	}
}

// TestJudgeRaceProperties checks the verdict on any group against what it
// must mean: an integrity finding exactly when two booking ids differ, and
// no pass or drift unless every confirm was answered 2xx or 4xx and the
// offer was booked once.
func TestJudgeRaceProperties(t *testing.T) {
	d, ok := lookup(CaseConcurrentConfirm)
	require.True(t, ok)
	documents := func(s int) bool { return s == 200 || s == 401 }
	attempt := rapid.Custom(func(t *rapid.T) RaceAttempt {
		a := RaceAttempt{Status: rapid.SampledFrom([]int{0, 200, 201, 302, 401, 409, 418, 422, 429, 500, 503}).Draw(t, "status")}
		switch a.Status / 100 {
		case 0:
			a.Error = "read response: i/o timeout"
		case 2:
			a.BookingID = rapid.SampledFrom([]string{"", "B1", "B2", "B3"}).Draw(t, "booking")
		}
		return a
	})
	rapid.Check(t, func(t *rapid.T) {
		at := rapid.SliceOfN(attempt, 1, MaxRace).Draw(t, "attempts")
		cr, pick := judgeRace(d, &Race{N: len(at), OfferID: "O-1", Attempts: at}, documents, false)
		var ids []string
		booked, noID, other := 0, 0, 0
		for _, a := range at {
			switch a.Status / 100 {
			case 2:
				booked++
				if a.BookingID == "" {
					noID++
				} else if !slices.Contains(ids, a.BookingID) {
					ids = append(ids, a.BookingID)
				}
			case 4:
			default:
				other++ // no answer, 3xx, 5xx
			}
		}
		if cr.Integrity != (len(ids) > 1) {
			t.Fatalf("got integrity %v, want %v for booking ids %v", cr.Integrity, len(ids) > 1, ids)
		}
		once := booked == 1 || (booked > 1 && noID == 0 && len(ids) == 1)
		if ok := cr.Outcome == OutcomePass || cr.Outcome == OutcomeDrift; ok != (once && other == 0) {
			t.Fatalf("got %s (%s), want pass or drift only when booked once and all refused: %+v", cr.Outcome, cr.Reason, at)
		}
		if pick < 0 || pick >= len(at) || at[pick].Status != cr.Status {
			t.Fatalf("got pick %d, status %d", pick, cr.Status)
		}
	})
}

func TestRaceJSON(t *testing.T) {
	rc := Race{N: 2, OfferID: "O-1", Spread: 41 * time.Microsecond, Fallback: "",
		Attempts: []RaceAttempt{{Status: 200, BookingID: "B1", CFRay: "8a1b2c3d4e5f6789-SYD", ServerRecv: 17}, {Status: 422}}}
	for _, timed := range []bool{false, true} {
		t.Run(fmt.Sprintf("server-timed=%v", timed), func(t *testing.T) {
			rc.ServerTimed, rc.ServerSpread = timed, 0
			if timed {
				rc.ServerSpread = 120 * time.Microsecond
			}
			b, err := json.Marshal(CaseResult{Name: CaseConcurrentConfirm, Race: &rc, Integrity: true})
			require.NoError(t, err)
			var m map[string]any
			require.NoError(t, json.Unmarshal(b, &m))
			assert.Equal(t, true, m["integrity"])
			race := m["race"].(map[string]any)
			assert.InDelta(t, 0.041, race["spread_ms"], 1e-9)
			_, has := race["server_spread_ms"]
			assert.Equal(t, timed, has, "server_spread_ms only when known")
			assert.Equal(t, map[string]any{"status": 200.0, "booking_id": "B1", "cf_ray": "8a1b2c3d4e5f6789-SYD", "server_recv_us": 17.0},
				race["attempts"].([]any)[0])
			var back CaseResult
			require.NoError(t, json.Unmarshal(b, &back))
			got := *back.Race
			got.Spread, got.ServerSpread = got.Spread.Round(time.Microsecond), got.ServerSpread.Round(time.Microsecond)
			assert.Equal(t, rc, got)
		})
	}
	b, err := json.Marshal(CaseResult{Name: CaseNoToken})
	require.NoError(t, err)
	assert.NotContains(t, string(b), "integrity")
	assert.NotContains(t, string(b), "race")
}

// TestIntegrityFindingsFirst: a double booking is listed first, after
// security findings, like them.
func TestIntegrityFindingsFirst(t *testing.T) {
	r := &Result{Cases: []CaseResult{
		{Name: CaseConfirmOK, Outcome: OutcomePass},
		{Name: CaseConcurrentConfirm, Outcome: OutcomeFail, Integrity: true},
		{Name: CaseMalformedJSON, Outcome: OutcomeDrift},
		{Name: CaseNoToken, Outcome: OutcomeFail, Security: true},
	}}
	r.finish()
	assert.Equal(t, []string{CaseNoToken, CaseConcurrentConfirm, CaseConfirmOK, CaseMalformedJSON}, names(r))
}
