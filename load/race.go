package load

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/xoneharness/xoneharness/internal/race"
	"github.com/xoneharness/xoneharness/ledger"
)

// RacePlan is the race check within a load run: Fraction (0..1) of the
// planned confirms are each a group of N (2 to race.MaxN; 0: race.DefaultN)
// simultaneous confirms of one offer, so a plan of R requests makes
// floor(R·Fraction) groups. The zero value is no race check.
type RacePlan struct {
	N        int     `json:"n"`
	Fraction float64 `json:"fraction"`
}

// groupsIn is the number of groups among the first n hits.
func (p RacePlan) groupsIn(n uint64) uint64 {
	return uint64(math.Floor(float64(n) * p.Fraction))
}

// isGroup reports whether hit i (from 0) is a group: the groups spread evenly.
func (p RacePlan) isGroup(i uint64) bool { return p.groupsIn(i+1) > p.groupsIn(i) }

// RaceResult is the race check of a load run, counted in no other figure
// but Offers and double_bookings. Groups were sent, Unsent never left
// (UnsentReason says why the first did not), Attempts counts their
// confirms, Booked the groups that booked. DoubleBookedGroups got two or
// more distinct booking ids; DoubleBookings counts the bookings beyond the
// first of each group. Statuses tallies the answers ("0": none, may have
// booked). SpreadMs is the spread of the groups' final writes,
// ServerSpreadMs of their arrivals when the target sent Server-Timing recv.
// Fallback says why groups went as ordinary requests behind a barrier.
// Shown lists every double-booked group (at most 20), else the first few.
type RaceResult struct {
	N                  int               `json:"n"`
	Groups             uint64            `json:"groups"`
	Unsent             uint64            `json:"unsent,omitempty"`
	UnsentReason       string            `json:"unsent_reason,omitempty"`
	Attempts           uint64            `json:"attempts"`
	Booked             uint64            `json:"booked"`
	DoubleBookedGroups uint64            `json:"double_booked_groups"`
	DoubleBookings     uint64            `json:"double_bookings"`
	Statuses           map[string]uint64 `json:"statuses"`
	SpreadMs           RaceSpread        `json:"spread_ms"`
	ServerSpreadMs     *RaceSpread       `json:"server_spread_ms,omitempty"`
	Fallback           string            `json:"fallback,omitempty"`
	Shown              []RaceGroup       `json:"shown,omitempty"`
}

// RaceSpread is the median and the largest spread of the groups, in ms.
type RaceSpread struct {
	P50 float64 `json:"p50"`
	Max float64 `json:"max"`
}

// RaceGroup is one group of a run: its offer, size, spreads, the status of
// each confirm (0: no answer, Error says why for the first) and the
// distinct booking ids it got.
type RaceGroup struct {
	OfferID        string   `json:"offer_id"`
	N              int      `json:"n"`
	SpreadMs       float64  `json:"spread_ms"`
	ServerSpreadMs *float64 `json:"server_spread_ms,omitempty"`
	Statuses       []int    `json:"statuses"`
	BookingIDs     []string `json:"booking_ids,omitempty"`
	Error          string   `json:"error,omitempty"`
}

// Merge adds another shard's race check o to r (nil: none yet), changing r,
// and returns the sum: counts add up, each spread is the shards' largest (for
// the median an upper bound, never an average), Shown double-booked first.
func (r *RaceResult) Merge(o *RaceResult) *RaceResult {
	if o == nil {
		return r
	}
	if r == nil {
		r = &RaceResult{N: o.N}
	}
	r.Groups, r.Unsent, r.Attempts, r.Booked = r.Groups+o.Groups, r.Unsent+o.Unsent, r.Attempts+o.Attempts, r.Booked+o.Booked
	r.DoubleBookedGroups, r.DoubleBookings = r.DoubleBookedGroups+o.DoubleBookedGroups, r.DoubleBookings+o.DoubleBookings
	r.UnsentReason, r.Fallback = cmp.Or(r.UnsentReason, o.UnsentReason), cmp.Or(r.Fallback, o.Fallback)
	if r.Statuses == nil {
		r.Statuses = map[string]uint64{}
	}
	for code, n := range o.Statuses {
		r.Statuses[code] += n
	}
	r.SpreadMs = r.SpreadMs.widest(o.SpreadMs)
	if s := o.ServerSpreadMs; s != nil {
		m := s.widest(*cmp.Or(r.ServerSpreadMs, s))
		r.ServerSpreadMs = &m
	}
	r.Shown = slices.Concat(r.Shown, o.Shown)
	slices.SortStableFunc(r.Shown, func(x, y RaceGroup) int { return y.doubles() - x.doubles() })
	r.Shown = r.Shown[:min(len(r.Shown), maxShownGroups)]
	return r
}

func (s RaceSpread) widest(o RaceSpread) RaceSpread {
	return RaceSpread{P50: max(s.P50, o.P50), Max: max(s.Max, o.Max)}
}

// doubles is 1 when g double-booked, else 0.
func (g RaceGroup) doubles() int { return min(max(len(g.BookingIDs)-1, 0), 1) }

// Bounds of RaceResult.Shown.
const (
	maxShownGroups = 20 // double-booked groups listed
	firstShown     = 3  // groups listed when none double-booked
)

// raceHeader marks a hit the targeter made a race group; the run's client
// hands such a request to the race sender and the header never leaves.
const raceHeader = "X-Xoneharness-Race-Group"

// raceSender runs a run's race groups (see the package doc) for vegeta's
// workers; offers and the statistics are under mu.
type raceSender struct {
	plan     RacePlan
	timeout  time.Duration
	targeter *targeter
	journal  *ledger.Journal
	stop     *stopper
	conns    race.Conns
	next     http.RoundTripper // the transport of ordinary hits
	plain    *http.Client      // the barrier fallback's client
	hard     context.Context   // cuts the groups in flight off, like the ordinary requests

	hits   atomic.Uint64
	landed uint64 // race hits vegeta returned; the collector's goroutine only

	mu     sync.Mutex
	offers map[string]Offer // hit number -> its offer, from the targeter to RoundTrip
	stats  raceStats
}

// newRaceSender wraps client's transport so that race hits go to the sender.
func newRaceSender(plan Plan, t *targeter, j *ledger.Journal, st *stopper, conns race.Conns, client *http.Client, hard context.Context) *raceSender {
	plain := *client
	s := &raceSender{plan: plan.Race, timeout: plan.Timeout, targeter: t, journal: j, stop: st, conns: conns,
		next: client.Transport, plain: &plain, hard: hard, offers: map[string]Offer{},
		stats: raceStats{res: RaceResult{N: plan.Race.N, Statuses: map[string]uint64{}}, spread: newHist()}}
	client.Transport = s
	return s
}

// target is the targeter of a run with race groups: a group's hit records
// the group's other N-1 confirms in the journal and is marked for RoundTrip.
func (s *raceSender) target(tg *vegeta.Target) error {
	i := s.hits.Add(1) - 1
	o, err := s.targeter.hit(tg)
	if err != nil || !s.plan.isGroup(i) {
		return err
	}
	for range s.plan.N - 1 {
		if err := s.journal.Begin(o.OfferID, o.QuoteID); err != nil {
			err = fmt.Errorf("%w: %w", ErrJournal, err)
			s.stop.end(stopJournal, err)
			return err
		}
	}
	key := strconv.FormatUint(i, 10)
	s.mu.Lock()
	s.offers[key] = o
	s.mu.Unlock()
	tg.Header[raceHeader] = []string{key}
	return nil
}

// RoundTrip sends a race hit as a group, answering an empty 204 with the
// mark, and an ordinary hit through the transport.
func (s *raceSender) RoundTrip(req *http.Request) (*http.Response, error) {
	key := req.Header.Get(raceHeader)
	if key == "" {
		return s.next.RoundTrip(req)
	}
	s.mu.Lock()
	o := s.offers[key]
	delete(s.offers, key)
	s.mu.Unlock()
	body, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	h := req.Header.Clone()
	h.Del(raceHeader)
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	defer context.AfterFunc(s.hard, cancel)()
	if err != nil {
		s.unsent(o, fmt.Errorf("read request body: %w", err))
	} else {
		s.send(ctx, o, race.Request{URL: req.URL.String(), Header: h, Body: body})
	}
	return &http.Response{StatusCode: http.StatusNoContent, Status: "204 No Content", Proto: "HTTP/1.1",
		ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{raceHeader: {key}}, Body: http.NoBody, Request: req}, nil
}

// send opens, releases and records one group of o's confirms.
func (s *raceSender) send(ctx context.Context, o Offer, req race.Request) {
	g, err := race.Open(ctx, s.conns, s.plain, req.URL, s.plan.N)
	if err != nil {
		s.unsent(o, err)
		return
	}
	out := g.Send(ctx, req, s.timeout)
	for _, a := range out.Attempts {
		var row ledger.Row
		if a.Err != nil {
			row = outcomeRow(o, 0, a.Err.Error(), nil)
		} else {
			row = outcomeRow(o, a.Response.StatusCode, "", a.Body)
		}
		if row.Error != "" {
			row.Error = "race group: " + row.Error
		}
		s.journal.Resolve(row)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.add(o.OfferID, out)
}

// unsent records a group that never left: its N confirms refused.
func (s *raceSender) unsent(o Offer, err error) {
	for range s.plan.N {
		s.journal.Resolve(ledger.Row{OfferID: o.OfferID, QuoteID: o.QuoteID, Outcome: ledger.Refused,
			Error: "not sent: " + err.Error()})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.res.Unsent++
	if s.stats.res.UnsentReason == "" {
		s.stats.res.UnsentReason = err.Error()
	}
}

// owns reports whether r is a race hit's, forgetting its offer in flight.
func (s *raceSender) owns(r *vegeta.Result) bool {
	if s == nil || r.Headers.Get(raceHeader) == "" {
		return false
	}
	s.targeter.landed(r.URL)
	s.landed++
	return true
}

// fill adds the race check to a finished result and returns the race hits
// vegeta returned.
func (s *raceSender) fill(res *Result, planned uint64, requested float64) uint64 {
	if s == nil {
		return 0
	}
	s.mu.Lock()
	res.Race = s.stats.result()
	s.mu.Unlock()
	if planned > 0 {
		res.RateRequested = round(requested*float64(planned-s.plan.groupsIn(planned))/float64(planned), 3)
	}
	res.Offers.Used += s.landed
	res.Offers.Confirmed += res.Race.Booked
	res.Offers.Failed += s.landed - res.Race.Booked
	return s.landed
}

func (s *raceSender) doubleBookings() uint64 {
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats.res.DoubleBookings
}

// raceStats accumulates the groups in bounded memory.
type raceStats struct {
	res          RaceResult
	spread       *hdrhistogram.Histogram
	serverSpread *hdrhistogram.Histogram // nil until a group is server-timed
	clean        int                     // groups in res.Shown that did not double-book
}

// add accounts for one group of offerID.
func (st *raceStats) add(offerID string, out race.Outcome) {
	g := RaceGroup{OfferID: offerID, N: len(out.Attempts), SpreadMs: ms(out.Spread)}
	booked := false
	for _, a := range out.Attempts {
		status := 0
		if a.Response != nil {
			status = a.Response.StatusCode
		} else if g.Error == "" {
			g.Error = normaliseError(a.Err.Error())
		}
		g.Statuses = append(g.Statuses, status)
		st.res.Statuses[strconv.Itoa(status)]++
		if status/100 != 2 {
			continue
		}
		booked = true
		if id := ledger.BookingID(a.Body); id != "" && !slices.Contains(g.BookingIDs, id) {
			g.BookingIDs = append(g.BookingIDs, id)
		}
	}
	st.res.Groups++
	if booked {
		st.res.Booked++
	}
	st.res.Attempts += uint64(len(out.Attempts))
	st.res.Fallback = out.Fallback
	record(st.spread, out.Spread)
	if out.ServerTimed {
		if st.serverSpread == nil {
			st.serverSpread = newHist()
		}
		record(st.serverSpread, out.ServerSpread)
		v := ms(out.ServerSpread)
		g.ServerSpreadMs = &v
	}
	double := len(g.BookingIDs) > 1
	if double {
		st.res.DoubleBookedGroups++
		st.res.DoubleBookings += uint64(len(g.BookingIDs) - 1)
	}
	st.show(g, double)
}

// show lists every double-booked group (replacing a clean one when the list
// is full), and the first few clean ones.
func (st *raceStats) show(g RaceGroup, double bool) {
	switch {
	case !double && st.clean < firstShown && len(st.res.Shown) < maxShownGroups:
		st.clean++
	case !double:
		return
	case len(st.res.Shown) == maxShownGroups && st.clean > 0:
		i := slices.IndexFunc(st.res.Shown, func(s RaceGroup) bool { return len(s.BookingIDs) < 2 })
		st.res.Shown = slices.Delete(st.res.Shown, i, i+1)
		st.clean--
	case len(st.res.Shown) == maxShownGroups:
		return
	}
	st.res.Shown = append(st.res.Shown, g)
}

func (st *raceStats) result() *RaceResult {
	r := st.res
	r.Statuses, r.Shown = maps.Clone(st.res.Statuses), slices.Clone(st.res.Shown)
	if r.Groups > 0 {
		r.SpreadMs = RaceSpread{P50: usToMs(st.spread.ValueAtQuantile(50)), Max: usToMs(st.spread.Max())}
	}
	if st.serverSpread != nil {
		r.ServerSpreadMs = &RaceSpread{P50: usToMs(st.serverSpread.ValueAtQuantile(50)), Max: usToMs(st.serverSpread.Max())}
	}
	return &r
}

// checkRaceCeiling refuses a group larger than eg's ceiling ever releases.
func checkRaceCeiling(eg Egress, p Plan, baseURL string) error {
	g, ok := eg.(interface {
		MaxGroup() int
		Loopback(rawURL string) bool
	})
	if !ok || p.Race.Fraction == 0 || p.Race.N <= g.MaxGroup() || g.Loopback(baseURL) {
		return nil
	}
	return planErr("race.n", "%d simultaneous confirms: the rate ceiling releases at most %d at once", p.Race.N, g.MaxGroup())
}
