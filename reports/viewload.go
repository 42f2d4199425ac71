package reports

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/xoneharness/xoneharness/contract"
	"github.com/xoneharness/xoneharness/load"
)

// loadView is the load section. Timeline and Distribution are the numbers
// the HTML charts draw.
type loadView struct {
	Target, Started, StopReason, Plan, GatesNote, Schema string
	Interrupted                                          bool
	Timestamp, Secs                                      string
	Props, Figures, Details                              []field
	Thresholds                                           []thresholdRow
	Latency                                              []latencyRow
	Statuses                                             []statusRow
	Errors                                               []field
	Violations                                           []load.SchemaViolation
	Timeline                                             []load.Bucket
	Distribution                                         []load.Quantile
	Race                                                 *loadRaceView
}

// thresholdRow is one threshold: its result is "pass", "FAIL" or
// "no data"; Text is the observation with its note (JUnit).
type thresholdRow struct {
	Expr, Observed, Result, Note, Text string
	Failed, NoData                     bool
}

// latencyRow is one latency distribution: a name, a count and the cells
// min, mean, p50, p90, p95, p99, p99.9 and max in milliseconds.
type latencyRow struct {
	Name, Count string
	Cells       []string
}

type statusRow struct{ Code, Count, Share string }

// newLoadView is the load section; mergedP50 says that the race check's
// spread p50 is the largest shard median of a merge (see Merge).
func newLoadView(l *load.Result, mergedP50 bool) *loadView {
	lv := &loadView{Target: l.Target, Started: timeText(l.StartedAt), StopReason: l.StopReason, Plan: planText(l.Plan),
		Interrupted: l.Interrupted, Timestamp: stamp(l.StartedAt), Secs: strconv.FormatFloat(l.DurationSeconds, 'f', 3, 64),
		Violations: l.Schema.Details, Timeline: l.Timeline, Distribution: l.Distribution, Schema: schemaText(l.Schema)}
	if l.Plan.DefaultThresholds {
		lv.GatesNote = "Default gates (no --threshold given; --no-default-thresholds turns them off)."
	}
	u := func(n uint64) string { return strconv.FormatUint(n, 10) }
	lv.Props = []field{{"requests", u(l.Requests)}, {"rate_requested", fmtNum(l.RateRequested)},
		{"rate_achieved", fmtNum(l.RateAchieved)}, {"success_ratio", fmtNum(l.SuccessRatio)},
		{"latency_p50_ms", fmtMS(l.Latency.P50)}, {"latency_p95_ms", fmtMS(l.Latency.P95)},
		{"latency_p99_ms", fmtMS(l.Latency.P99)}, {"service_time_p99_ms", fmtMS(l.ServiceTime.P99)},
		{"schema_violations", u(l.Schema.Violations)}, {"stop_reason", l.StopReason}}
	lv.Figures = []field{{"requests", u(l.Requests)}, {"duration", fmtNum(l.DurationSeconds) + " s"},
		{"rate requested", fmtRate(l.RateRequested)}, {"rate achieved", fmtRate(l.RateAchieved)},
		{"throughput (2xx)", fmtRate(l.Throughput)}, {"success", fmtPct(l.SuccessRatio)},
		{"error rate", fmtPct(l.ErrorRate)}, {"p50 latency", fmtMS(l.Latency.P50) + " ms"},
		{"p99 latency", fmtMS(l.Latency.P99) + " ms"}, {"schema violations", u(l.Schema.Violations)}}
	if n := l.StatusUndocumented; n > 0 {
		lv.Figures = append(lv.Figures, field{"undocumented statuses", u(n)})
	}
	for _, t := range l.Thresholds {
		lv.Thresholds = append(lv.Thresholds, newThresholdRow(t))
	}
	lv.Latency = []latencyRow{
		newLatencyRow("overall, from intended send", l.Requests, l.Latency),
		newLatencyRow("service time, from actual send", l.Requests, l.ServiceTime)}
	for _, class := range classNamesOrdered(l.ByClass) {
		lv.Latency = append(lv.Latency, newLatencyRow("class "+class, l.ByClass[class].Count, l.ByClass[class].Latency))
	}
	lv.Statuses = statusRows(l.StatusCodes, "0 (transport error)")
	for _, e := range l.Errors {
		lv.Errors = append(lv.Errors, field{e.Message, u(e.Count)})
	}
	lv.Details = loadDetails(l)
	if l.Race != nil {
		lv.Race = newLoadRaceView(l.Race, mergedP50)
	}
	return lv
}

func newThresholdRow(t load.ThresholdResult) thresholdRow {
	row := thresholdRow{Expr: t.Expr, Observed: fmtNum(t.Observed) + t.Unit, Result: "pass", Note: t.Note,
		Failed: !t.Passed && !t.NoData, NoData: t.NoData}
	row.Text = "observed " + row.Observed
	if t.Note != "" {
		row.Text += " (" + t.Note + ")"
	}
	switch {
	case t.NoData:
		row.Observed, row.Result, row.Text = "–", "no data", "no data: "+t.Note
	case row.Failed:
		row.Result = "FAIL"
	}
	return row
}

func newLatencyRow(name string, count uint64, x load.Latency) latencyRow {
	return latencyRow{Name: name, Count: strconv.FormatUint(count, 10), Cells: []string{fmtMS(x.Min), fmtMS(x.Mean),
		fmtMS(x.P50), fmtMS(x.P90), fmtMS(x.P95), fmtMS(x.P99), fmtMS(x.P999), fmtMS(x.Max)}}
}

// statusRows lists the status codes in numeric order with their share of
// all responses; zero labels the code "0".
func statusRows(codes map[string]uint64, zero string) []statusRow {
	var total uint64
	for _, c := range codes {
		total += c
	}
	keys := sortedKeys(codes)
	sort.SliceStable(keys, func(i, j int) bool {
		a, ea := strconv.Atoi(keys[i])
		b, eb := strconv.Atoi(keys[j])
		if ea == nil && eb == nil {
			return a < b
		}
		return ea == nil && eb != nil
	})
	var out []statusRow
	for _, code := range keys {
		label := code
		if code == "0" {
			label = zero
		}
		out = append(out, statusRow{label, strconv.FormatUint(codes[code], 10), fmtPct(float64(codes[code]) / float64(total))})
	}
	return out
}

// schemaText is the one line about schema validation.
func schemaText(s load.SchemaStats) string {
	t := fmt.Sprintf("%d responses validated · %d violations", s.Validated, s.Violations)
	if s.Skipped > 0 {
		t += fmt.Sprintf(" · %d skipped (%s)", s.Skipped, orDefault(s.SkipReason, "the validators were behind"))
	}
	if s.TruncatedBodies > 0 {
		t += fmt.Sprintf(" · %d bodies cut at xoneharness's own read limit, not validated", s.TruncatedBodies)
	}
	return t
}

// loadDetails are the run's other figures, one line each.
func loadDetails(l *load.Result) []field {
	o, t, p := l.Offers, l.Tokens, l.RetryAfterPauses
	left := strconv.Itoa(o.Left)
	if o.Left < 0 {
		left = "unbounded"
	}
	pauses := "none"
	if p.Count > 0 || p.Unsent > 0 {
		pauses = pausesText(p)
	}
	if p.Ignored > 0 {
		pauses += fmt.Sprintf("; %d ignored", p.Ignored)
	}
	out := []field{
		{"started", timeText(l.StartedAt)},
		{"finished", timeText(l.FinishedAt)},
		{"bytes in / out", fmt.Sprintf("%d / %d", l.BytesIn, l.BytesOut)},
		{"late sends", fmt.Sprintf("%d (worst %s ms)", l.LateSends.Count, fmtMS(l.LateSends.MaxMs))},
		{"offers", fmt.Sprintf("%d used, %d confirmed, %d failed, %s left", o.Used, o.Confirmed, o.Failed, left)},
		{"tokens", fmt.Sprintf("%d fetched, %d failed, mean %s ms, max %s ms, %d invalidated",
			t.Fetches, t.Failures, fmtMS(t.MeanMs), fmtMS(t.MaxMs), t.Invalidations)},
		{"Retry-After pauses", pauses},
	}
	if f := l.FeedStarved; f.Waits > 0 {
		out = append(out, field{"offer feed starved", fmt.Sprintf("%.0f ms: %d sends waited, %d were late for it", f.Ms, f.Waits, f.LateSends)})
	}
	return out
}

// planText is a one-line description of a plan: rate or stages, duration,
// bounds.
func planText(p load.Plan) string {
	var parts []string
	if p.Rate != "" {
		parts = append(parts, "rate "+p.Rate)
	}
	if len(p.Stages) > 0 {
		parts = append(parts, fmt.Sprintf("%d stages", len(p.Stages)))
	}
	if p.Duration > 0 {
		parts = append(parts, "for "+p.Duration.String())
	}
	if p.MaxRequests > 0 {
		parts = append(parts, fmt.Sprintf("at most %d requests", p.MaxRequests))
	}
	if p.MaxWorkers > 0 {
		parts = append(parts, fmt.Sprintf("max %d workers", p.MaxWorkers))
	}
	return strings.Join(parts, ", ")
}

// baselineView is the comparison with a baseline.
type baselineView struct {
	Against, Tolerance, Result, Timestamp string
	Regression                            bool
	Notes                                 []string
	Metrics, Cases                        []deltaRow
}

// deltaRow is one compared figure or changed case; Text says it in one
// line (JUnit).
type deltaRow struct {
	Name, Baseline, Current, Change, Result, Text string
	Regression                                    bool
}

func newBaselineView(c *Comparison) *baselineView {
	bv := &baselineView{Against: c.Baseline, Tolerance: fmtPct(c.Tolerance), Result: baselineResult(c),
		Timestamp: stamp(c.BaselineStartedAt), Regression: c.Regressions > 0, Notes: c.Notes}
	result := func(regression bool, otherwise string) string {
		if regression {
			return "regression"
		}
		return otherwise
	}
	for _, m := range c.Metrics {
		row := deltaRow{Name: m.Name, Baseline: fmtNum(m.Baseline) + " " + m.Unit, Current: fmtNum(m.Current) + " " + m.Unit,
			Change: fmtSignedPct(m.Change), Result: result(m.Regression, "ok"), Regression: m.Regression}
		row.Text = fmt.Sprintf("baseline %s, current %s (%s)", row.Baseline, row.Current, row.Change)
		bv.Metrics = append(bv.Metrics, row)
	}
	for _, cs := range c.Cases {
		row := deltaRow{Name: cs.Name, Baseline: outcomeOrDash(cs.Baseline), Current: outcomeOrDash(cs.Current),
			Result: result(cs.Regression, "changed"), Regression: cs.Regression}
		row.Text = fmt.Sprintf("baseline %s, current %s", row.Baseline, row.Current)
		bv.Cases = append(bv.Cases, row)
	}
	return bv
}

// baselineResult is the comparison's outcome in a few words.
func baselineResult(c *Comparison) string {
	switch {
	case c.Regressions > 0:
		return fmt.Sprintf("%d regression(s)", c.Regressions)
	case c.NothingComparable:
		return "nothing comparable"
	}
	return "no regression"
}

func outcomeOrDash(o contract.Outcome) string { return orDefault(string(o), "–") }

// loadRaceView is the race check of a load run: what was sent and booked
// (Summary), the double bookings (Doubles; Double marks them, an integrity
// finding, NoData a check no group answered), how tightly the groups were
// released (Spread), the statuses and the groups shown, double-booked ones
// first. Text says it all one line each and Bookings names the double
// bookings' ids (JUnit).
type loadRaceView struct {
	Summary, Doubles, Spread, Fallback, Shown, Text, Bookings string
	Double, NoData                                            bool
	Statuses                                                  []statusRow
	Groups                                                    []raceGroupRow
}

// raceGroupRow is one group of load.RaceResult.Shown; Statuses and Spread
// as shown.
type raceGroupRow struct {
	OfferID, Statuses, Spread, Error string
	Bookings                         []string
	Double                           bool
}

// mergedRaceNote is the note Merge adds when the race check's spread p50
// is the largest of the shards' medians rather than the run's median.
const mergedRaceNote = "race check of merged shards: its spread p50 is the largest shard median, an upper bound of the run's median"

// newLoadRaceView formats r; mergedP50 labels the spread p50 as the
// largest shard median.
func newLoadRaceView(r *load.RaceResult, mergedP50 bool) *loadRaceView {
	v := &loadRaceView{Summary: fmt.Sprintf("%s of %d simultaneous confirms sent, %s in all; %s booked their offer",
		nOf(r.Groups, "group"), r.N, nOf(r.Attempts, "confirm"), nOf(r.Booked, "group")), Fallback: r.Fallback, Double: r.DoubleBookings > 0,
		NoData: r.Attempts == r.Statuses["0"], Statuses: statusRows(r.Statuses, "0 (no answer: may have booked)")}
	if r.Unsent > 0 {
		v.Summary += fmt.Sprintf("; %s not sent: %s", nOf(r.Unsent, "group"), orUnknown(r.UnsentReason))
	}
	switch {
	case v.Double:
		v.Doubles = nOf(r.DoubleBookings, "double booking") + " in " + nOf(r.DoubleBookedGroups, "group")
	case v.NoData:
		v.Doubles = "no group was answered: double bookings not measured"
	default:
		v.Doubles = "no double booking"
	}
	spread := func(s load.RaceSpread) string {
		if mergedP50 {
			return fmt.Sprintf("p50 at most %s ms (the largest shard median), max %s ms", fmtMS(s.P50), fmtMS(s.Max))
		}
		return fmt.Sprintf("p50 %s ms, max %s ms", fmtMS(s.P50), fmtMS(s.Max))
	}
	v.Spread = "final writes released within " + spread(r.SpreadMs)
	if s := r.ServerSpreadMs; s != nil {
		v.Spread += "; arrivals as the target saw them within " + spread(*s)
	}
	lines := []string{"race check: " + v.Summary, "double bookings: " + v.Doubles, v.Spread}
	if r.Fallback != "" {
		lines = append(lines, "fallback: "+r.Fallback)
	}
	var tally []string
	for _, s := range v.Statuses {
		tally = append(tally, s.Code+" ×"+s.Count)
	}
	lines = append(lines, "statuses: "+orDefault(strings.Join(tally, ", "), "none"))
	for _, g := range r.Shown {
		v.Groups = append(v.Groups, newRaceGroupRow(g))
	}
	slices.SortStableFunc(v.Groups, func(a, b raceGroupRow) int { return b2i(b.Double) - b2i(a.Double) })
	var ids []string
	for _, row := range v.Groups {
		lines = append(lines, fmt.Sprintf("offer %s: HTTP %s; booking ids %s; spread ms %s%s", row.OfferID, row.Statuses,
			orDefault(strings.Join(row.Bookings, ", "), "none"), row.Spread, prefixed("; ", row.Error)))
		if row.Double {
			ids = append(ids, strings.Join(row.Bookings, ", ")+" (offer "+row.OfferID+")")
		}
	}
	if len(v.Groups) > 0 {
		v.Shown = fmt.Sprintf("%d of %d groups shown, double-booked ones first.", len(v.Groups), r.Groups)
	}
	v.Text = strings.Join(lines, "\n") + "\n"
	v.Bookings = "double booking: " + v.Doubles + "; booking ids: " + orDefault(strings.Join(ids, "; "), "none shown")
	return v
}

func newRaceGroupRow(g load.RaceGroup) raceGroupRow {
	row := raceGroupRow{OfferID: g.OfferID, Spread: fmtMS(g.SpreadMs), Error: g.Error, Bookings: g.BookingIDs,
		Double: len(g.BookingIDs) > 1}
	var st []string
	for _, s := range g.Statuses {
		st = append(st, statusText(s))
	}
	row.Statuses = strings.Join(st, ", ")
	if s := g.ServerSpreadMs; s != nil {
		row.Spread += " (arrivals " + fmtMS(*s) + ")"
	}
	return row
}

// nOf is n and the noun, plural unless n is 1.
func nOf(n uint64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.FormatUint(n, 10) + " " + noun + "s"
}

// prefixed is s after sep, or "" when s is.
func prefixed(sep, s string) string {
	if s == "" {
		return ""
	}
	return sep + s
}
