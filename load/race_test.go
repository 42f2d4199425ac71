package load

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xoneharness/xoneharness/internal/egress"
	"github.com/xoneharness/xoneharness/internal/race"
	"github.com/xoneharness/xoneharness/internal/sandbox"
	"github.com/xoneharness/xoneharness/ledger"
)

// The gate is what the CLI passes as Config.Egress.
var _ Egress = (*egress.Gate)(nil)

// recordingEgress is the default gate with its race connections counted:
// every Admit (n of each) and every Conn; proxied makes Conn answer as if
// a proxy carried the requests.
type recordingEgress struct {
	*egress.Gate
	proxied bool

	mu     sync.Mutex
	admits []int
	conns  int
}

func (e *recordingEgress) Conn(ctx context.Context, rawURL string) (net.Conn, error) {
	e.mu.Lock()
	e.conns++
	e.mu.Unlock()
	if e.proxied {
		return nil, fmt.Errorf("egress: connect 127.0.0.1: %w", egress.ErrProxied)
	}
	return e.Gate.Conn(ctx, rawURL)
}

func (e *recordingEgress) Admit(ctx context.Context, rawURL string, n int) error {
	e.mu.Lock()
	e.admits = append(e.admits, n)
	e.mu.Unlock()
	return e.Gate.Admit(ctx, rawURL, n)
}

// front serves the sandbox's handler on a listener of its own and keeps
// the server's side of the story: the booking id of every 200 it sent, and
// the confirms that arrived per offer. arrived, when set, is told of each
// arrival with the offer's count so far.
type front struct {
	sb      *sandbox.Server
	arrived func(offer string, n int)

	mu      sync.Mutex
	booked  []string
	byOffer map[string]int
}

// capture records what the handler answers.
type capture struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (c *capture) WriteHeader(s int) {
	if c.status == 0 {
		c.status = s
	}
	c.ResponseWriter.WriteHeader(s)
}

func (c *capture) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	c.body.Write(b)
	return c.ResponseWriter.Write(b)
}

func (c *capture) Unwrap() http.ResponseWriter { return c.ResponseWriter }

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	offer := strings.TrimSuffix(r.URL.Path[strings.LastIndex(r.URL.Path, "/offers/")+len("/offers/"):], "/confirm")
	f.mu.Lock()
	f.byOffer[offer]++
	n := f.byOffer[offer]
	f.mu.Unlock()
	if f.arrived != nil {
		f.arrived(offer, n)
	}
	c := &capture{ResponseWriter: w}
	f.sb.Handler().ServeHTTP(c, r)
	if c.status == http.StatusOK {
		f.mu.Lock()
		f.booked = append(f.booked, ledger.BookingID(c.body.Bytes()))
		f.mu.Unlock()
	}
}

// raceConfig is a Config for plan against a sandbox with opts, reached
// through a front that records what it booked.
func raceConfig(t *testing.T, plan Plan, opts ...sandbox.Option) (Config, *sandbox.Server, *front) {
	t.Helper()
	cfg, sb, _ := sandboxConfig(t, plan.WithGates(false), opts...)
	f := &front{sb: sb, byOffer: map[string]int{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	cfg.BaseURL = srv.URL
	return cfg, sb, f
}

// journal is the raw journal of a run: per offer, its pending rows and its
// outcome rows as written.
type journal map[string]struct {
	pending  int
	outcomes []ledger.Outcome
}

func readJournal(t *testing.T, dir string) journal {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, ledger.File))
	require.NoError(t, err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Equal(t, ledger.Header, recs[0])
	offerCol, outcomeCol := slices.Index(recs[0], "offer_id"), slices.Index(recs[0], "outcome")
	j := journal{}
	for _, rec := range recs[1:] {
		e := j[rec[offerCol]]
		if o := ledger.Outcome(rec[outcomeCol]); o == ledger.Pending {
			e.pending++
		} else {
			e.outcomes = append(e.outcomes, o)
		}
		j[rec[offerCol]] = e
	}
	return j
}

// TestRaceRun runs 40/s for 1 s with a quarter of the hits race groups of
// 3, against the sandbox and against its racy-double-book drift. The
// groups are the plan's quarter exactly, each admitted once by the ceiling
// with its 3 sends, and none is in the latency statistics or results.bin;
// every booking the server answered is in the ledger, and the run's count
// of double bookings is the server's own: 0 and the default gate passes,
// or more and the gate fails.
func TestRaceRun(t *testing.T) {
	tests := []struct {
		name  string
		drift []sandbox.Option
	}{
		{"clean", nil},
		{"racy-double-book", []sandbox.Option{sandbox.Drift("racy-double-book")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, sb, f := raceConfig(t, Plan{Rate: "40/s", Duration: time.Second, Race: RacePlan{N: 3, Fraction: 0.25}}, tt.drift...)
			eg := &recordingEgress{Gate: egress.Default(nil)}
			cfg.Egress = eg
			res, err := Run(context.Background(), cfg)
			require.NoError(t, err)
			require.Equal(t, stopCompleted, res.StopReason)
			rc := res.Race
			require.NotNil(t, rc)
			hits := res.Requests + rc.Groups

			// The plan's groups, each admitted as one.
			assert.Equal(t, uint64(40), hits, "every planned hit sent")
			assert.Equal(t, RacePlan{N: 3, Fraction: 0.25}.groupsIn(hits), rc.Groups, "groups of %d hits", hits)
			assert.Zero(t, rc.Unsent, rc.UnsentReason)
			assert.Equal(t, slices.Repeat([]int{3}, int(rc.Groups)), eg.admits, "one Admit of 3 per group")
			assert.Equal(t, 3*int(rc.Groups), eg.conns)
			assert.Equal(t, 3*rc.Groups, rc.Attempts)
			assert.Empty(t, rc.Fallback)
			assert.Less(t, rc.SpreadMs.P50, 50.0, "median spread of the final writes, ms")
			require.NotNil(t, rc.ServerSpreadMs, "the sandbox sends Server-Timing recv")
			assert.Equal(t, 30.0, res.RateRequested, "the ordinary share of 40/s")

			// Race answers stay out of the ordinary statistics.
			st := sb.Stats()
			assert.Equal(t, res.Requests+rc.Attempts, uint64(st.Confirms), "confirms the server saw")
			assert.Equal(t, res.Requests, res.StatusCodes["200"], "ordinary confirms, all booked")
			assert.NotContains(t, res.StatusCodes, "422", "the groups' refusals")
			assert.Equal(t, res.Requests, res.ByClass["2xx"].Count)
			assert.Len(t, readResults(t, cfg.OutDir), int(res.Requests), "results.bin holds the ordinary confirms")
			assert.Equal(t, hits, res.Offers.Used)

			// The ledger holds every booking the server made.
			j := readJournal(t, cfg.OutDir)
			for offer, e := range j {
				assert.Len(t, e.outcomes, e.pending, "offer %s: an outcome per confirm", offer)
			}
			rows, err := ledger.ReadFile(filepath.Join(cfg.OutDir, ledger.File))
			require.NoError(t, err)
			var ids []string
			for _, r := range rows {
				if r.Outcome == ledger.Booked {
					ids = append(ids, r.BookingID)
				}
			}
			assert.ElementsMatch(t, f.booked, ids, "the server's bookings, each in the ledger")
			assert.Len(t, ids, int(st.Confirmed))

			// Double bookings, counted as the server counts them, gate the run.
			assert.Equal(t, uint64(st.DoubleBookings), rc.DoubleBookings, "the server's own count")
			assert.Equal(t, uint64(len(ids))-hits, rc.DoubleBookings, "bookings beyond one per offer")
			gate := slices.IndexFunc(res.Thresholds, func(t ThresholdResult) bool { return t.Expr == "double_bookings==0" })
			require.GreaterOrEqual(t, gate, 0, "the default gate of a race fraction: %+v", res.Thresholds)
			assert.False(t, res.Thresholds[gate].NoData)
			assert.Equal(t, float64(rc.DoubleBookings), res.Thresholds[gate].Observed)
			var shown uint64
			for _, g := range rc.Shown {
				if len(g.BookingIDs) > 1 {
					shown++
				}
			}
			if tt.drift == nil {
				assert.Zero(t, rc.DoubleBookings)
				assert.Equal(t, rc.Groups, rc.Booked)
				assert.Equal(t, map[string]uint64{"200": rc.Groups, "422": 2 * rc.Groups}, rc.Statuses)
				assert.True(t, res.Thresholds[gate].Passed)
				assert.False(t, res.Failed(), "%+v", res.Thresholds)
				assert.Len(t, rc.Shown, firstShown, "the first groups")
				return
			}
			assert.Positive(t, rc.DoubleBookings, "racy-double-book double-books simultaneous confirms")
			assert.True(t, res.Failed(), "the double_bookings==0 gate fails")
			assert.False(t, res.Thresholds[gate].Passed)
			assert.Equal(t, rc.DoubleBookedGroups, shown, "every double-booked group is shown")
			t.Logf("%d groups, %d double-booked, %d bookings beyond the first; spread p50 %.3f ms, server %.3f ms",
				rc.Groups, rc.DoubleBookedGroups, rc.DoubleBookings, rc.SpreadMs.P50, rc.ServerSpreadMs.P50)
		})
	}
}

// TestRaceRunProxied: where a proxy carries the requests, each group is
// sent as ordinary requests released by a barrier, through the run's
// client (its ceiling paces them: no Admit), and the result says so.
func TestRaceRunProxied(t *testing.T) {
	cfg, sb, _ := raceConfig(t, Plan{Rate: "20/s", Duration: time.Second, Race: RacePlan{Fraction: 0.2}})
	eg := &recordingEgress{Gate: egress.Default(nil), proxied: true}
	cfg.Egress = eg
	res, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	rc := res.Race
	require.NotNil(t, rc)
	assert.Equal(t, race.DefaultN, rc.N)
	assert.Equal(t, uint64(4), rc.Groups)
	assert.Contains(t, rc.Fallback, "ordinary requests released by a barrier")
	assert.Empty(t, eg.admits)
	assert.Equal(t, uint64(race.DefaultN)*rc.Groups, rc.Statuses["200"]+rc.Statuses["422"])
	assert.Equal(t, rc.Groups, rc.Booked)
	assert.Equal(t, res.Requests+rc.Attempts, uint64(sb.Stats().Confirms))
	assert.False(t, res.Failed(), "%+v", res.Thresholds)
}

// TestRaceRunInterrupted: every confirm of a group is in the journal before
// any arrives, and an interrupt while groups wait for their answers (the
// sandbox answers after 2 s, the grace is 0.4 s) leaves each of them
// pending then resolved (unknown, for the ones cut off), none missing.
func TestRaceRunInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg, sb, f := raceConfig(t, Plan{Rate: "40/s", Duration: 2 * time.Second, Race: RacePlan{N: 4, Fraction: 0.25}},
		sandbox.Latency(2*time.Second))
	var mu sync.Mutex
	seen := map[string][]int{} // offer -> its pending rows in the journal file as each confirm arrived
	f.arrived = func(offer string, n int) {
		raw, _ := os.ReadFile(filepath.Join(cfg.OutDir, ledger.File))
		pending := 0
		for _, line := range strings.Split(string(raw), "\n") {
			if strings.HasPrefix(line, offer+",") && strings.Contains(line, ",pending,") {
				pending++
			}
		}
		mu.Lock()
		seen[offer] = append(seen[offer], pending)
		mu.Unlock()
		if n == 4 {
			cancel() // a whole group is at the server
		}
	}
	res, err := Run(ctx, cfg)
	require.NoError(t, err)
	assert.True(t, res.Interrupted)
	rc := res.Race
	require.NotNil(t, rc)
	require.Positive(t, rc.Groups)
	j := readJournal(t, cfg.OutDir)
	groups := 0
	for offer, e := range j {
		assert.Len(t, e.outcomes, e.pending, "offer %s: an outcome per confirm, none missing", offer)
		if e.pending == 1 {
			continue
		}
		groups++
		assert.Equal(t, 4, e.pending, "offer %s: the group's confirms", offer)
		mu.Lock()
		for _, p := range seen[offer] {
			assert.Equal(t, 4, p, "offer %s: every confirm of the group in the journal before any arrived", offer)
		}
		mu.Unlock()
		for _, o := range e.outcomes {
			assert.Contains(t, []ledger.Outcome{ledger.Unknown, ledger.Refused}, o, "offer %s", offer)
		}
	}
	assert.Equal(t, int(rc.Groups+rc.Unsent), groups)
	assert.Equal(t, rc.Attempts, rc.Statuses["0"], "every sent group was cut off unanswered")
	assert.Zero(t, sb.Stats().Confirmed, "nothing booked")
	rows, err := ledger.ReadFile(filepath.Join(cfg.OutDir, ledger.File))
	require.NoError(t, err)
	unknown := 0
	for _, r := range rows {
		assert.NotContains(t, r.Error, "process killed", "no orphaned pending row")
		if r.Outcome == ledger.Unknown && strings.HasPrefix(r.Error, "race group: ") {
			unknown++
		}
	}
	assert.Equal(t, int(rc.Attempts), unknown, "each confirm of a group cut off reads unknown")
}

// staticResolver resolves every name to addr.
type staticResolver struct{ addr netip.Addr }

func (r staticResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return []netip.Addr{r.addr}, nil
}

// TestRacePlan: a race check's size and fraction are checked, a plan too
// short for a group (or for an ordinary measurement beside its groups) is
// refused, a group the rate ceiling can never release is refused before
// anything is sent, and a race fraction adds double_bookings==0 to the
// safety gates under their rules.
func TestRacePlan(t *testing.T) {
	tests := []struct {
		name  string
		rate  string
		race  RacePlan
		field string
		says  string
	}{
		{"negative-fraction", "40/s", RacePlan{Fraction: -0.1}, "race.fraction", "not a fraction"},
		{"fraction-above-1", "40/s", RacePlan{Fraction: 1.5}, "race.fraction", "not a fraction"},
		{"fraction-nan", "40/s", RacePlan{Fraction: math.NaN()}, "race.fraction", "not a fraction"},
		{"group-of-1", "40/s", RacePlan{N: 1, Fraction: 0.25}, "race.n", "want 2 to 20"},
		{"group-of-21", "40/s", RacePlan{N: 21, Fraction: 0.25}, "race.n", "want 2 to 20"},
		{"too-short-for-a-group", "3/s", RacePlan{Fraction: 0.25}, "race.fraction", "none is a race group (one needs at least 4 requests)"},
		{"no-ordinary-confirm", "40/s", RacePlan{Fraction: 1}, "race.fraction", "0 ordinary confirms are left"},
		{"ok", "40/s", RacePlan{Fraction: 0.25}, "", ""},
		{"off", "40/s", RacePlan{}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Plan{Rate: tt.rate, Duration: time.Second, Race: tt.race}.Validate()
			if tt.field == "" {
				assert.NoError(t, err)
				return
			}
			var pe *PlanError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tt.field, pe.Field)
			assert.Contains(t, err.Error(), tt.says)
			assert.NotContains(t, err.Error(), "--", "a library error names no flag")
		})
	}
	t.Run("defaults", func(t *testing.T) {
		assert.Equal(t, RacePlan{N: race.DefaultN, Fraction: 0.5}, Plan{Race: RacePlan{Fraction: 0.5}}.WithDefaults().Race)
		assert.Equal(t, RacePlan{}, Plan{}.WithDefaults().Race)
	})
	t.Run("run-refuses", func(t *testing.T) {
		cfg, sb, _ := raceConfig(t, Plan{Rate: "40/s", Duration: time.Second, Race: RacePlan{N: 21, Fraction: 0.25}})
		_, err := Run(context.Background(), cfg)
		var pe *PlanError
		assert.ErrorAs(t, err, &pe)
		assert.Zero(t, sb.Stats().Confirms)
	})
	t.Run("group-too-large-for-the-ceiling", func(t *testing.T) {
		cfg, sb, _ := raceConfig(t, Plan{Rate: "40/s", Duration: time.Second, Race: RacePlan{N: 5, Fraction: 0.25}})
		g, err := egress.New(egress.Config{MaxRate: 2, Resolver: staticResolver{netip.MustParseAddr("192.0.2.10")}})
		require.NoError(t, err)
		cfg.Egress, cfg.BaseURL = g, "http://race.test:8080" // never dialled
		_, err = Run(context.Background(), cfg)
		var pe *PlanError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, "race.n", pe.Field)
		assert.Contains(t, err.Error(), "at most 2 at once")
		assert.Zero(t, sb.Stats().TokensIssued, "nothing sent, not even for a token")
	})
}

func TestRaceGates(t *testing.T) {
	on := RacePlan{Fraction: 0.25}
	tests := []struct {
		name  string
		race  RacePlan
		given []string
		off   bool
		want  []string
	}{
		{"no race: the two gates", RacePlan{}, nil, false, []string{"error_rate<1%", "schema_violations==0"}},
		{"race: three gates", on, nil, false, []string{"error_rate<1%", "schema_violations==0", "double_bookings==0"}},
		{"naming the metric loosens it", on, []string{"double_bookings<=2"}, false, []string{"error_rate<1%", "schema_violations==0", "double_bookings<=2"}},
		{"off", on, []string{"p99<1s"}, true, []string{"p99<1s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Plan{Race: tt.race, Thresholds: tt.given}.WithGates(tt.off)
			assert.Equal(t, tt.want, p.Thresholds)
			assert.Equal(t, tt.off, p.GatesOff)
		})
	}
	t.Run("no-data", func(t *testing.T) {
		th, err := ParseThreshold("double_bookings==0")
		require.NoError(t, err)
		for _, r := range []*Result{{Requests: 10}, {Requests: 10, Race: &RaceResult{Groups: 2, Attempts: 10, Statuses: map[string]uint64{"0": 10}}}} {
			EvaluateThresholds(r, []Threshold{th})
			assert.True(t, r.Thresholds[0].NoData, "%+v", r.Race)
			assert.False(t, r.Thresholds[0].Passed)
		}
	})
}

// TestRaceShown: every double-booked group is listed, up to the cap, in
// place of clean ones; clean groups only the first few.
func TestRaceShown(t *testing.T) {
	st := raceStats{res: RaceResult{Statuses: map[string]uint64{}}, spread: newHist()}
	group := func(ids ...string) race.Outcome {
		var out race.Outcome
		for _, id := range ids {
			out.Attempts = append(out.Attempts, race.Attempt{Response: &http.Response{StatusCode: 200},
				Body: []byte(`{"data":{"id":"` + id + `"}}`)})
		}
		return out
	}
	for i := range 10 {
		st.add(fmt.Sprintf("clean-%d", i), group("B"+fmt.Sprint(i), "B"+fmt.Sprint(i)))
	}
	for i := range maxShownGroups + 5 {
		st.add(fmt.Sprintf("double-%d", i), group(fmt.Sprintf("D%d-1", i), fmt.Sprintf("D%d-2", i), fmt.Sprintf("D%d-3", i)))
	}
	r := st.result()
	assert.Len(t, r.Shown, maxShownGroups)
	for i, g := range r.Shown {
		assert.Equal(t, fmt.Sprintf("double-%d", i), g.OfferID)
		assert.Len(t, g.BookingIDs, 3)
	}
	assert.Equal(t, uint64(maxShownGroups+5), r.DoubleBookedGroups)
	assert.Equal(t, uint64(2*(maxShownGroups+5)), r.DoubleBookings)
	assert.Equal(t, uint64(10+maxShownGroups+5), r.Booked)
}

// raceGroups makes n groups of offers prefix-0, prefix-1, ..., each
// double-booked or not.
func raceGroups(prefix string, n int, double bool) []RaceGroup {
	var out []RaceGroup
	for i := range n {
		g := RaceGroup{OfferID: fmt.Sprintf("%s-%d", prefix, i), N: 2, Statuses: []int{200, 409}, BookingIDs: []string{fmt.Sprintf("%s-A%d", prefix, i)}}
		if double {
			g.Statuses, g.BookingIDs = []int{200, 200}, append(g.BookingIDs, fmt.Sprintf("%s-B%d", prefix, i))
		}
		out = append(out, g)
	}
	return out
}

// TestRaceResultMerge: the race checks of shards add up, spreads take the
// largest, the shown groups list every shard's double-booked groups first
// (at most maxShownGroups), inputs are never changed, and a lone race check
// is kept as it is.
func TestRaceResultMerge(t *testing.T) {
	a := &RaceResult{N: 2, Groups: 10, Unsent: 1, UnsentReason: "rate ceiling", Attempts: 20, Booked: 9,
		DoubleBookedGroups: 1, DoubleBookings: 1, Statuses: map[string]uint64{"200": 10, "409": 9, "0": 1},
		SpreadMs: RaceSpread{P50: 0.4, Max: 2}, Shown: append(raceGroups("a", 2, false), raceGroups("ad", 1, true)...)}
	b := &RaceResult{N: 2, Groups: 6, Attempts: 12, Booked: 6, DoubleBookedGroups: 2, DoubleBookings: 2,
		Statuses: map[string]uint64{"200": 8, "409": 4}, SpreadMs: RaceSpread{P50: 0.7, Max: 1},
		ServerSpreadMs: &RaceSpread{P50: 0.2, Max: 0.5}, Fallback: "HTTPS_PROXY is set",
		Shown: append(raceGroups("b", 1, false), raceGroups("bd", 2, true)...)}
	got := (*RaceResult)(nil).Merge(a).Merge(b)
	assert.Equal(t, uint64(16), got.Groups, "groups")
	assert.Equal(t, uint64(1), got.Unsent, "unsent")
	assert.Equal(t, uint64(32), got.Attempts, "attempts")
	assert.Equal(t, uint64(15), got.Booked, "booked")
	assert.Equal(t, uint64(3), got.DoubleBookedGroups, "double-booked groups")
	assert.Equal(t, uint64(3), got.DoubleBookings, "double bookings")
	assert.Equal(t, map[string]uint64{"200": 18, "409": 13, "0": 1}, got.Statuses)
	assert.Equal(t, RaceSpread{P50: 0.7, Max: 2}, got.SpreadMs, "the largest median and maximum")
	assert.Equal(t, &RaceSpread{P50: 0.2, Max: 0.5}, got.ServerSpreadMs)
	assert.Equal(t, "rate ceiling", got.UnsentReason)
	assert.Equal(t, "HTTPS_PROXY is set", got.Fallback)
	var order []string
	for _, g := range got.Shown {
		order = append(order, g.OfferID)
	}
	assert.Equal(t, []string{"ad-0", "bd-0", "bd-1", "a-0", "a-1", "b-0"}, order, "double-booked groups first, then the others")
	assert.Equal(t, map[string]uint64{"200": 10, "409": 9, "0": 1}, a.Statuses, "an input changed")
	assert.Len(t, a.Shown, 3, "an input changed")

	many := (*RaceResult)(nil).Merge(&RaceResult{Shown: append(raceGroups("c", 3, false), raceGroups("cd", 15, true)...)}).
		Merge(&RaceResult{Shown: raceGroups("dd", 10, true)})
	require.Len(t, many.Shown, maxShownGroups)
	assert.Equal(t, "dd-4", many.Shown[maxShownGroups-1].OfferID, "got %s last, want the fifth double of the second shard", many.Shown[maxShownGroups-1].OfferID)
	assert.Nil(t, (*RaceResult)(nil).Merge(nil))
	assert.Same(t, a, a.Merge(nil), "merging nothing keeps the result")
}
