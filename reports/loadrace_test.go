package reports

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xoneharness/xoneharness/load"
)

// The booking ids of sampleLoadRace's double-booked groups: offer-0002
// booked three times, offer-0003 twice.
var loadRaceBookings = [][]string{
	{"EYYLD-22221-INS", "EYYLD-22222-INS", "EYYLD-22223-INS"},
	{"EYYLD-33331-INS", "EYYLD-33332-INS"},
}

// sampleLoadRace is a load report whose race check (groups of 3 confirms,
// a tenth of the planned ones) double-booked two offers, three bookings
// beyond the first; one group was not sent, one confirm got no answer
// (its error has text every format must escape), and the target reported
// its arrivals. The safety gates include double_bookings==0, which failed.
func sampleLoadRace() *Report {
	r := sampleSparse()
	r.Verdict = ""
	l := r.Load
	l.Requests, l.Schema.Validated = 36, 36
	l.Plan = load.Plan{Rate: "10/s", Duration: 4 * time.Second, ValidateSample: 1, Race: load.RacePlan{N: 3, Fraction: 0.1}}.WithGates(false)
	arrivals := 0.12
	l.Race = &load.RaceResult{N: 3, Groups: 4, Unsent: 1, UnsentReason: "race: open 3 connections: connection refused",
		Attempts: 12, Booked: 4, DoubleBookedGroups: 2, DoubleBookings: 3,
		Statuses: map[string]uint64{"200": 7, "409": 4, "0": 1},
		SpreadMs: load.RaceSpread{P50: 0.412, Max: 1.275}, ServerSpreadMs: &load.RaceSpread{P50: 0.18, Max: 0.9},
		Shown: []load.RaceGroup{
			{OfferID: "offer-0001", N: 3, SpreadMs: 0.3, ServerSpreadMs: &arrivals, Statuses: []int{200, 409, 409}, BookingIDs: []string{"EYYLD-11111-INS"}},
			{OfferID: "offer-0002", N: 3, SpreadMs: 1.275, Statuses: []int{200, 200, 200}, BookingIDs: loadRaceBookings[0]},
			{OfferID: "offer-0003", N: 3, SpreadMs: 0.5, Statuses: []int{200, 200, 0}, BookingIDs: loadRaceBookings[1],
				Error: "read: connection reset | <b>by peer</b>"},
		}}
	l.Thresholds = []load.ThresholdResult{
		{Expr: "error_rate<1%", Observed: 0, Unit: "%", Passed: true},
		{Expr: "schema_violations==0", Observed: 0, Passed: true},
		{Expr: "double_bookings==0", Observed: 3, Passed: false},
	}
	r.Decide()
	return r
}

// cleanLoadRace is sampleLoadRace with one booking per group.
func cleanLoadRace() *Report {
	r := sampleLoadRace()
	rc := r.Load.Race
	rc.DoubleBookedGroups, rc.DoubleBookings, rc.Statuses = 0, 0, map[string]uint64{"200": 4, "409": 7, "0": 1}
	rc.Shown[1].Statuses, rc.Shown[1].BookingIDs = []int{200, 409, 409}, loadRaceBookings[0][:1]
	rc.Shown[2].Statuses, rc.Shown[2].BookingIDs = []int{200, 409, 0}, loadRaceBookings[1][:1]
	r.Load.Thresholds[2].Observed, r.Load.Thresholds[2].Passed = 0, true
	r.Verdict = ""
	r.Decide()
	return r
}

// TestLoadRaceEveryFormat: a load run's race check is shown in every
// format with its figures (groups, the unsent reason, attempts, booked,
// statuses, both spreads); a double booking names every booking id of the
// double-booked groups and is marked as an integrity finding, a clean check
// names none of the extra ids and is not marked.
func TestLoadRaceEveryFormat(t *testing.T) {
	tests := []struct {
		name   string
		build  func() *Report
		double bool
	}{
		{"double-booked", sampleLoadRace, true},
		{"clean", cleanLoadRace, false},
	}
	for _, tt := range tests {
		for _, f := range []string{FormatMarkdown, FormatHTML, FormatJUnit} {
			t.Run(tt.name+"/"+f, func(t *testing.T) {
				out := render(t, tt.build(), f)
				for _, want := range []string{"4 groups of 3 simultaneous confirms sent, 12 confirms in all; 4 groups booked their offer",
					"1 group not sent: race: open 3 connections: connection refused",
					"final writes released within p50 0.41 ms, max 1.27 ms",
					"arrivals as the target saw them within p50 0.18 ms, max 0.90 ms", "offer-0001", "EYYLD-11111-INS"} {
					assert.Contains(t, out, want)
				}
				for _, id := range append(loadRaceBookings[0][1:], loadRaceBookings[1][1:]...) {
					assert.Equal(t, tt.double, strings.Contains(out, id), "booking id %s shown: got %v, want %v", id, !tt.double, tt.double)
				}
				assert.Equal(t, tt.double, strings.Contains(out, "3 double bookings in 2 groups"), "double bookings counted")
				if f != FormatJUnit {
					assert.Equal(t, tt.double, strings.Contains(out, "integrity"), "marked integrity: got %v, want %v", !tt.double, tt.double)
					assert.Contains(t, out, "0 (no answer: may have booked)")
				}
			})
		}
	}
	t.Run("markdown", func(t *testing.T) {
		md := render(t, sampleLoadRace(), FormatMarkdown)
		assert.Contains(t, md, "#### Race check · **✖ double booking (integrity)**")
		assert.Contains(t, md, "Double bookings: **3 double bookings in 2 groups**")
		assert.Contains(t, md, "| `offer-0002` | 200, 200, 200 | **`EYYLD-22221-INS`, `EYYLD-22222-INS`, `EYYLD-22223-INS`** | 1.27 |  |")
		assert.Contains(t, md, `| read: connection reset \| <b>by peer</b> |`, "the error cell escaped")
		assert.Less(t, strings.Index(md, "`offer-0003`"), strings.Index(md, "`offer-0001`"), "double-booked groups first")
		assert.Contains(t, md, "| 409 | 4 | 33.33% |")
	})
	t.Run("html", func(t *testing.T) {
		page := render(t, sampleLoadRace(), FormatHTML)
		assert.Contains(t, page, `<h3 id="race">Race check <span class="badge o-security">integrity</span></h3>`)
		assert.Contains(t, page, `<td class="fail"><code>EYYLD-33331-INS</code>, <code>EYYLD-33332-INS</code></td>`)
		assert.Contains(t, page, "&lt;b&gt;by peer&lt;/b&gt;")
		assert.Contains(t, page, `<a href="#race">Race check</a>`)
		assert.NotContains(t, render(t, sampleSparse(), FormatHTML), `id="race"`, "no race section without a race check")
	})
}

// loadSuiteCase is the test case name of junit.xml's load suite.
func loadSuiteCase(t *testing.T, r *Report, name string) junitCase {
	t.Helper()
	var doc junitSuites
	require.NoError(t, xml.Unmarshal([]byte(render(t, r, FormatJUnit)), &doc))
	for _, s := range doc.Suites {
		for _, tc := range s.Cases {
			if s.Name == "load" && tc.Name == name {
				return tc
			}
		}
	}
	require.Failf(t, "no such case", "no case %q in the load suite", name)
	return junitCase{}
}

// TestLoadRaceJUnit: the race check is one case of the load suite; a
// double booking fails it with every booking id of the double-booked
// groups in the message, a clean check passes, and a check no group
// answered is skipped, never green.
func TestLoadRaceJUnit(t *testing.T) {
	tc := loadSuiteCase(t, sampleLoadRace(), "race check")
	require.NotNil(t, tc.Failure, "a double booking fails the race check case")
	assert.Equal(t, "integrity", tc.Failure.Type)
	assert.Equal(t, "double booking: 3 double bookings in 2 groups; booking ids: "+
		"EYYLD-22221-INS, EYYLD-22222-INS, EYYLD-22223-INS (offer offer-0002); EYYLD-33331-INS, EYYLD-33332-INS (offer offer-0003)",
		tc.Failure.Message)
	assert.Contains(t, tc.Failure.Text, "offer offer-0003: HTTP 200, 200, –; booking ids EYYLD-33331-INS, EYYLD-33332-INS; spread ms 0.50; read: connection reset")
	assert.Contains(t, tc.Failure.Text, "statuses: 0 (no answer: may have booked) ×1, 200 ×7, 409 ×4")

	tc = loadSuiteCase(t, cleanLoadRace(), "race check")
	assert.Nil(t, tc.Failure, "got a failure for a clean race check")
	assert.Nil(t, tc.Skipped)
	assert.Contains(t, tc.SystemOut, "double bookings: no double booking")

	r := cleanLoadRace()
	r.Load.Race.Statuses = map[string]uint64{"0": 12}
	tc = loadSuiteCase(t, r, "race check")
	assert.Nil(t, tc.Failure)
	require.NotNil(t, tc.Skipped, "a race check no group answered passed")
	assert.Equal(t, "no group was answered: double bookings not measured", tc.Skipped.Message)
}

// TestLoadRaceSummary: summary.json carries plan.race and load.race, both
// described by the strict schema; a race section the schema does not
// describe, or a status that is not a number, is refused.
func TestLoadRaceSummary(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, JSON(&buf, sampleLoadRace()))
	var doc struct {
		Load struct {
			Plan struct {
				Race *load.RacePlan `json:"race"`
			} `json:"plan"`
			Race *load.RaceResult `json:"race"`
		} `json:"load"`
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &doc))
	require.NotNil(t, doc.Load.Plan.Race, "no plan.race")
	require.NotNil(t, doc.Load.Race, "no load.race")
	assert.Equal(t, load.RacePlan{N: 3, Fraction: 0.1}, *doc.Load.Plan.Race)
	assert.Equal(t, sampleLoadRace().Load.Race, doc.Load.Race)

	strict := compileSummarySchema(t, true)
	tests := []struct {
		name   string
		mutate func(race map[string]any)
		valid  bool
	}{
		{"as written", func(map[string]any) {}, true},
		{"undocumented field", func(race map[string]any) { race["surprise"] = 1 }, false},
		{"undocumented group field", func(race map[string]any) { race["shown"].([]any)[0].(map[string]any)["surprise"] = 1 }, false},
		{"status not a number", func(race map[string]any) { race["statuses"].(map[string]any)["ok"] = 1 }, false},
		{"no spread", func(race map[string]any) { delete(race, "spread_ms") }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inst := summaryInstance(t, sampleLoadRace())
			tt.mutate(inst.(map[string]any)["load"].(map[string]any)["race"].(map[string]any))
			err := strict.Validate(inst)
			assert.Equal(t, tt.valid, err == nil, "valid: got %v, want %v", err, tt.valid)
		})
	}
}

// TestGatesOffNamesRaceGate: with the gates off, a plan with a race
// check names double_bookings==0 among them; without one it does not.
func TestGatesOffNamesRaceGate(t *testing.T) {
	tests := []struct {
		name string
		race load.RacePlan
		want string
	}{
		{"race check", load.RacePlan{N: 3, Fraction: 0.1},
			"the safety gates error_rate<1%, schema_violations==0 and double_bookings==0 were off (--no-default-thresholds)"},
		{"none", load.RacePlan{}, "the safety gates error_rate<1% and schema_violations==0 were off (--no-default-thresholds)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := sampleSparse()
			r.Load.Plan.GatesOff, r.Load.Plan.Race = true, tt.race
			for _, f := range []string{FormatMarkdown, FormatHTML, FormatJUnit} {
				want := tt.want
				if f != FormatMarkdown {
					want = html.EscapeString(want)
				}
				assert.True(t, strings.Contains(render(t, r, f), want), "format %s does not say %q", f, want)
			}
		})
	}
}

// raceGroups are n groups of offers prefix-0..., double-booked when
// double.
func raceGroups(prefix string, n int, double bool) []load.RaceGroup {
	var out []load.RaceGroup
	for i := range n {
		g := load.RaceGroup{OfferID: fmt.Sprintf("%s-%d", prefix, i), N: 2, Statuses: []int{200, 409}, BookingIDs: []string{prefix + "-A" + strconv.Itoa(i)}}
		if double {
			g.Statuses, g.BookingIDs = []int{200, 200}, append(g.BookingIDs, prefix+"-B"+strconv.Itoa(i))
		}
		out = append(out, g)
	}
	return out
}

// TestMergeRaceShards: merging shards whose summaries hold race checks adds
// them up into the merged report, evaluates double_bookings==0 on the sum,
// and labels the spread p50 as the largest shard median in every format.
func TestMergeRaceShards(t *testing.T) {
	root := t.TempDir()
	var dirs []string
	for i, label := range []string{"0/2", "1/2"} {
		d := filepath.Join(root, strconv.Itoa(i))
		writeResults(t, d, 10, 1)
		r := sampleLoadRace()
		r.Shard, r.Load.Thresholds = label, nil
		r.Load.Race.SpreadMs.P50 = 1
		if i == 1 {
			r.Load.Race = &load.RaceResult{N: 3, Groups: 2, Attempts: 6, Booked: 2, Statuses: map[string]uint64{"200": 2, "409": 4},
				SpreadMs: load.RaceSpread{P50: 2, Max: 0.5}, Shown: raceGroups("shard1", 2, false)}
		}
		writeSummary(t, d, r)
		dirs = append(dirs, d)
	}
	r, err := Merge(dirs, MergeOptions{})
	require.NoError(t, err)
	r.Decide()
	rc := r.Load.Race
	require.NotNil(t, rc, "the merged report lost the race check")
	assert.Equal(t, uint64(6), rc.Groups)
	assert.Equal(t, uint64(18), rc.Attempts)
	assert.Equal(t, uint64(3), rc.DoubleBookings)
	assert.Equal(t, map[string]uint64{"200": 9, "409": 8, "0": 1}, rc.Statuses)
	assert.Equal(t, load.RaceSpread{P50: 2, Max: 1.275}, rc.SpreadMs, "the largest shard median and maximum")
	assert.Len(t, rc.Shown, 5)
	assert.Equal(t, VerdictFail, r.Verdict, "a double booking in a shard")
	assert.Contains(t, r.Notes, mergedRaceNote)
	var gate *load.ThresholdResult
	for i := range r.Load.Thresholds {
		if r.Load.Thresholds[i].Expr == "double_bookings==0" {
			gate = &r.Load.Thresholds[i]
		}
	}
	require.NotNil(t, gate, "the race gate was not evaluated: %v", r.Load.Thresholds)
	assert.False(t, gate.Passed, "double_bookings==0 passed with 3 double bookings")
	for _, f := range []string{FormatMarkdown, FormatHTML, FormatJUnit} {
		assert.Contains(t, render(t, r, f), "p50 at most 2.00 ms (the largest shard median)", "format %s", f)
	}

	p99, err := load.ParseThreshold("p99<1s")
	require.NoError(t, err)
	again, err := Merge([]string{dirs[0]}, MergeOptions{Thresholds: []load.Threshold{p99}})
	require.NoError(t, err)
	var exprs []string
	for _, th := range again.Load.Thresholds {
		exprs = append(exprs, th.Expr)
	}
	assert.Contains(t, exprs, "double_bookings==0", "thresholds given anew dropped the race gate")
	assert.NotContains(t, render(t, again, FormatMarkdown), "largest shard median", "one run's median labelled as a merge's")
}
