package reports

import (
	"maps"
	"slices"
	"sort"
	"strconv"

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

// latencyRow is one latency distribution: a name, a count and the cells min, mean, p50, p90, p95,
// p99, p99.9 and max in milliseconds.
type latencyRow struct {
	Name  string
	Count uint64
	Cells []string
}

type statusRow struct{ Code, Count, Share string }

// newLoadView is the load section; mergedP50 says that the race check's spread p50 is the largest
// shard median of a merge (see Merge).
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
	for _, class := range classNamesOrdered(l.ByClass) {
		lv.Latency = append(lv.Latency, newLatencyRow("class "+class, l.ByClass[class].Count, l.ByClass[class].Latency))
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

// statusRows lists the status codes in numeric order with their share of all responses; zero labels
// the code "0".
func statusRows(codes map[string]uint64, zero string) []statusRow {
	var total uint64
	for _, c := range codes {
		total += c
	}
	keys := slices.Sorted(maps.Keys(codes))
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

// loadRaceView is the race check of a load run: Double marks a double booking (an integrity
// finding), NoData a check no group answered; MergedP50 says the spread p50 is the largest shard
// median of a merge (see Merge). Rows are the groups shown, double-booked ones first.
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

// mergedRaceNote is the note Merge adds when the race check's spread p50 is the largest of the
// shards' medians rather than the run's median.
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
