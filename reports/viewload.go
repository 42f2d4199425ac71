package reports

import (
	"cmp"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/xoneharness/xoneharness/load"
)

// loadView is the load section: the figures, the run's details and its tables, as text.
type loadView struct {
	*load.Result
	Fails, NoData    int // thresholds failed, and without data
	Figures, Details []field
	Latency          []latencyRow
	Statuses         []statusRow
	Race             *loadRaceView
}

// latencyRow is one latency distribution: min, mean, p50, p90, p95, p99, p99.9 and max in ms.
type latencyRow struct {
	Name  string
	Count uint64
	Cells []string
}

type statusRow struct{ Code, Count, Share string }

// newLoadView is the load section; mergedP50 says the race check's spread p50 is a merge's.
func newLoadView(l *load.Result, mergedP50 bool, t *texter) *loadView {
	lv := &loadView{Result: l, Statuses: statusRows(l.StatusCodes, "0 (transport error)")}
	lv.Figures = t.fields("figure ", []string{"requests", "duration", "rate requested", "rate achieved", "throughput (2xx)",
		"success", "error rate", "p50 latency", "p99 latency", "schema violations", "undocumented statuses"}, l)
	lv.Details = t.fields("detail ", []string{"started", "finished", "bytes in / out", "late sends", "offers", "tokens",
		"Retry-After pauses", "offer feed starved"}, l)
	for _, th := range l.Thresholds {
		lv.Fails, lv.NoData = lv.Fails+b2i(!th.Passed && !th.NoData), lv.NoData+b2i(th.NoData)
	}
	lv.Latency = []latencyRow{newLatencyRow("overall, from intended send", l.Requests, l.Latency),
		newLatencyRow("service time, from actual send", l.Requests, l.ServiceTime)}
	for _, class := range classes(l.ByClass) {
		lv.Latency = append(lv.Latency, newLatencyRow("class "+class.Name, l.ByClass[class.Name].Count, l.ByClass[class.Name].Latency))
	}
	if l.Race != nil {
		lv.Race = newLoadRaceView(l.Race, mergedP50)
	}
	return lv
}

func newLatencyRow(name string, count uint64, x load.Latency) latencyRow {
	return latencyRow{Name: name, Count: count, Cells: []string{fmtMS(x.Min), fmtMS(x.Mean),
		fmtMS(x.P50), fmtMS(x.P90), fmtMS(x.P95), fmtMS(x.P99), fmtMS(x.P999), fmtMS(x.Max)}}
}

// statusRows lists the status codes in numeric order with their shares, "0" labelled zero.
func statusRows(codes map[string]uint64, zero string) []statusRow {
	var total uint64
	for _, c := range codes {
		total += c
	}
	var out []statusRow
	for _, code := range slices.SortedFunc(maps.Keys(codes), func(a, b string) int {
		x, ea := strconv.Atoi(a)
		y, eb := strconv.Atoi(b)
		return cmp.Or(b2i(ea != nil)-b2i(eb != nil), cmp.Compare(x, y), strings.Compare(a, b))
	}) {
		label := code
		if code == "0" {
			label = zero
		}
		out = append(out, statusRow{label, strconv.FormatUint(codes[code], 10), fmtPct(float64(codes[code]) / float64(total))})
	}
	return out
}

// loadRaceView is the race check of a load: Double marks a double booking, NoData a check no group
// answered, MergedP50 a merge's spread p50; Rows are the groups shown, double-booked ones first.
type loadRaceView struct {
	*load.RaceResult
	Double, NoData, MergedP50 bool
	Statuses                  []statusRow
	Rows                      []raceGroupRow
}

// raceGroupRow is one group of load.RaceResult.Shown.
type raceGroupRow struct {
	load.RaceGroup
	Double bool
}

// mergedRaceNote is the note Merge adds when the race check's spread p50 is the largest shard median.
const mergedRaceNote = "race check of merged shards: its spread p50 is the largest shard median, an upper bound of the run's median"

func newLoadRaceView(r *load.RaceResult, mergedP50 bool) *loadRaceView {
	v := &loadRaceView{RaceResult: r, Double: r.DoubleBookings > 0, NoData: r.Attempts == r.Statuses["0"], MergedP50: mergedP50,
		Statuses: statusRows(r.Statuses, "0 (no answer: may have booked)")}
	for _, g := range r.Shown {
		v.Rows = append(v.Rows, raceGroupRow{g, len(g.BookingIDs) > 1})
	}
	slices.SortStableFunc(v.Rows, func(a, b raceGroupRow) int { return b2i(b.Double) - b2i(a.Double) })
	return v
}
