package load

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func TestParseRate(t *testing.T) {
	tests := []struct {
		in      string
		want    vegeta.Rate
		wantErr string
	}{
		{in: "50/s", want: vegeta.Rate{Freq: 50, Per: time.Second}},
		{in: "50", want: vegeta.Rate{Freq: 50, Per: time.Second}},
		{in: " 3000/1m ", want: vegeta.Rate{Freq: 3000, Per: time.Minute}},
		{in: "1/2s", want: vegeta.Rate{Freq: 1, Per: 2 * time.Second}},
		{in: "10/ms", want: vegeta.Rate{Freq: 10, Per: time.Millisecond}},
		{in: "0/s", wantErr: "positive whole number"},
		{in: "0.5/s", wantErr: "positive whole number"},
		{in: "", wantErr: "empty"},
		{in: "50/", wantErr: "missing period"},
		{in: "50/xs", wantErr: "bad period"},
		{in: "50/-1s", wantErr: "bad period"},
		{in: "50/0s", wantErr: "must be positive"},
		{in: "200000/s", wantErr: "above the maximum"},
		{in: "1/48h", wantErr: "longer than 24h"},
		{in: "-5/s", wantErr: "positive whole number"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRate(tt.in)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseStages(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Stage
		wantErr string
	}{
		{name: "k6 example", in: "30s:10/s,1m:50/s,30s:0/s",
			want: []Stage{{30 * time.Second, 10}, {time.Minute, 50}, {30 * time.Second, 0}}},
		{name: "spaces and bare numbers", in: " 10s : 5 , 5s:2.5/s ", want: []Stage{{10 * time.Second, 5}, {5 * time.Second, 2.5}}},
		{name: "per minute", in: "1m:600/1m", want: []Stage{{time.Minute, 10}}},
		{name: "empty", in: " ", wantErr: "empty"},
		{name: "no colon", in: "30s", wantErr: "want DURATION:RATE"},
		{name: "zero duration", in: "0s:10/s", wantErr: "positive Go duration"},
		{name: "bad target", in: "10s:abc", wantErr: "target must be a number"},
		{name: "exponent refused", in: "10s:1e3", wantErr: "target must be a number"},
		{name: "all zero", in: "10s:0,5s:0/s", wantErr: "every target is 0"},
		{name: "too fast", in: "10s:1000000/s", wantErr: "between 0 and"},
		{name: "too many", in: strings.Repeat("1s:1,", 100) + "1s:1", wantErr: "at most 100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseStages(tt.in)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestRampSchedule(t *testing.T) {
	// Ramp 0→10/s over 10 s (50 requests), hold 10/s for 10 s (100), down to 0 over 10 s (50).
	p, err := newRamp([]Stage{{10 * time.Second, 10}, {10 * time.Second, 10}, {10 * time.Second, 0}})
	require.NoError(t, err)
	assert.Equal(t, 30*time.Second, p.total)
	assert.Equal(t, uint64(200), p.count(p.total))

	tests := []struct {
		n    uint64
		want time.Duration
	}{
		{0, 0},
		{50, 10 * time.Second},             // end of the ramp up: ∫ = 50
		{12, 4898979485 * time.Nanosecond}, // 0.5·t² = 12 → t = √24
		{100, 15 * time.Second},            // 50 + 10·5
		{150, 20 * time.Second},
		{199, 30*time.Second - 1414213562*time.Nanosecond}, // 1 left: 0.5·τ² = 1 → τ = √2 before the end
	}
	for _, tt := range tests {
		got, ok := p.offset(tt.n)
		require.True(t, ok, "request %d", tt.n)
		assert.InDelta(t, tt.want.Seconds(), got.Seconds(), 1e-6, "request %d: got %v, want %v", tt.n, got, tt.want)
	}
	_, ok := p.offset(200)
	assert.False(t, ok, "request 200 is past the profile")

	// Monotonic, and the rate matches.
	var prev time.Duration
	for n := uint64(0); n < 200; n++ {
		got, _ := p.offset(n)
		require.GreaterOrEqual(t, got, prev, "request %d", n)
		prev = got
	}
	assert.InDelta(t, 5.0, p.rate(5*time.Second), 1e-9)
	assert.InDelta(t, 10.0, p.rate(15*time.Second), 1e-9)
	assert.InDelta(t, 0.0, p.rate(31*time.Second), 1e-9)
}

func TestConstSchedule(t *testing.T) {
	c := newConstSchedule(vegeta.Rate{Freq: 200, Per: time.Second})
	off, ok := c.offset(200)
	require.True(t, ok)
	assert.Equal(t, time.Second, off)
	assert.Equal(t, uint64(600), c.count(3*time.Second))
	assert.InDelta(t, 200.0, c.rate(0), 1e-9)
}

func TestParseThreshold(t *testing.T) {
	tests := []struct {
		in      string
		want    Threshold
		wantPos int
		wantErr string
	}{
		{in: "p99<800ms", want: Threshold{Expr: "p99<800ms", Metric: "p99", Op: "<", Value: 800, Unit: "ms"}},
		{in: "p95<=0.5s", want: Threshold{Expr: "p95<=0.5s", Metric: "p95", Op: "<=", Value: 500, Unit: "ms"}},
		{in: "p999 < 2s", want: Threshold{Expr: "p999 < 2s", Metric: "p99.9", Op: "<", Value: 2000, Unit: "ms"}},
		{in: "p99.9<250", want: Threshold{Expr: "p99.9<250", Metric: "p99.9", Op: "<", Value: 250, Unit: "ms"}},
		{in: "mean<1500us", want: Threshold{Expr: "mean<1500us", Metric: "mean", Op: "<", Value: 1.5, Unit: "ms"}},
		{in: "error_rate<1%", want: Threshold{Expr: "error_rate<1%", Metric: "error_rate", Op: "<", Value: 1, Unit: "%"}},
		{in: "error_rate<0.01", want: Threshold{Expr: "error_rate<0.01", Metric: "error_rate", Op: "<", Value: 0.01}},
		{in: "success_ratio>=99%", want: Threshold{Expr: "success_ratio>=99%", Metric: "success_ratio", Op: ">=", Value: 99, Unit: "%"}},
		{in: "throughput>=45", want: Threshold{Expr: "throughput>=45", Metric: "throughput", Op: ">=", Value: 45, Unit: "/s"}},
		{in: "throughput>=45/s", want: Threshold{Expr: "throughput>=45/s", Metric: "throughput", Op: ">=", Value: 45, Unit: "/s"}},
		{in: "schema_violations==0", want: Threshold{Expr: "schema_violations==0", Metric: "schema_violations", Op: "==", Value: 0}},
		{in: "late_sends<1%", want: Threshold{Expr: "late_sends<1%", Metric: "late_sends", Op: "<", Value: 1, Unit: "%"}},
		{in: "status_5xx==0", want: Threshold{Expr: "status_5xx==0", Metric: "status_5xx", Op: "==", Value: 0}},
		{in: "status_429<10", want: Threshold{Expr: "status_429<10", Metric: "status_429", Op: "<", Value: 10}},
		{in: "p100<2s", want: Threshold{Expr: "p100<2s", Metric: "p100", Op: "<", Value: 2000, Unit: "ms"}},
		{in: "p9999<2s", want: Threshold{Expr: "p9999<2s", Metric: "p99.99", Op: "<", Value: 2000, Unit: "ms"}},
		{in: "p5<2s", want: Threshold{Expr: "p5<2s", Metric: "p5", Op: "<", Value: 2000, Unit: "ms"}},
		{in: "p500<2s", wantPos: 1, wantErr: "unknown metric"},
		{in: "p123<2s", wantPos: 1, wantErr: "unknown metric"},
		{in: "p101<2s", wantPos: 1, wantErr: "unknown metric"},
		{in: "", wantPos: 1, wantErr: "missing metric"},
		{in: "p100.5<1s", wantPos: 1, wantErr: "unknown metric"},
		{in: "latency<1s", wantPos: 1, wantErr: "unknown metric"},
		{in: "status_999==0", wantPos: 1, wantErr: "unknown metric"},
		{in: "p99", wantPos: 4, wantErr: "missing operator"},
		{in: "p99=<1s", wantPos: 4, wantErr: "unknown operator"},
		{in: "p99!=1s", wantPos: 4, wantErr: "unknown operator"},
		{in: "p99<", wantPos: 5, wantErr: "missing number"},
		{in: "p99<1..2s", wantPos: 5, wantErr: "bad number"},
		{in: "p99<800xs", wantPos: 8, wantErr: "not a duration unit"},
		{in: "p99<80%", wantPos: 7, wantErr: "not a duration unit"},
		{in: "error_rate<5", wantPos: 12, wantErr: "above 1"},
		{in: "error_rate<500%", wantPos: 12, wantErr: "above 100"},
		{in: "throughput>=45%", wantPos: 15, wantErr: "per second"},
		{in: "status_5xx==0ms", wantPos: 14, wantErr: "count or a percentage"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseThreshold(tt.in)
			if tt.wantErr != "" {
				var te *ThresholdError
				require.True(t, errors.As(err, &te), "got %v, want a *ThresholdError", err)
				assert.Equal(t, tt.in, te.Expr)
				assert.Equal(t, tt.wantPos, te.Pos, "position in %q (%s)", tt.in, te.Msg)
				assert.Contains(t, te.Msg, tt.wantErr)
				assert.Contains(t, err.Error(), tt.in)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestEvaluateThresholds(t *testing.T) {
	r := &Result{
		Requests: 1000, SuccessRatio: 0.995, ErrorRate: 0.005, Throughput: 49.5, RateAchieved: 50, DurationSeconds: 20,
		Latency:     Latency{Min: 1, Mean: 20, P50: 18, P90: 40, P95: 60, P99: 750, P999: 900, Max: 1200},
		StatusCodes: map[string]uint64{"200": 995, "503": 3, "0": 2},
		Schema:      SchemaStats{Validated: 500, Violations: 1},
		LateSends:   LateSends{Count: 20},
	}
	tests := []struct {
		expr     string
		observed float64
		passed   bool
	}{
		{"p99<800ms", 750, true},
		{"p99<0.7s", 750, false},
		{"p95<=60", 60, true},
		{"p99.9<1s", 900, true},
		{"max<1s", 1200, false},
		{"error_rate<1%", 0.5, true},
		{"error_rate<0.001", 0.005, false},
		{"success_ratio>=99%", 99.5, true},
		{"throughput>=45", 49.5, true},
		{"rate_achieved>50", 50, false},
		{"schema_violations==0", 1, false},
		{"schema_violations<1%", 0.2, true},
		{"late_sends<1%", 2, false},
		{"late_sends<=20", 20, true},
		{"status_5xx==0", 3, false},
		{"status_2xx>=995", 995, true},
		{"status_503==3", 3, true},
		{"transport_errors<=2", 2, true},
		{"requests>=1000", 1000, true},
	}
	ts := make([]Threshold, len(tests))
	for i, tt := range tests {
		th, err := ParseThreshold(tt.expr)
		require.NoError(t, err, tt.expr)
		ts[i] = th
	}
	EvaluateThresholds(r, ts)
	require.Len(t, r.Thresholds, len(tests))
	for i, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got := r.Thresholds[i]
			assert.Equal(t, tt.expr, got.Expr)
			assert.InDelta(t, tt.observed, got.Observed, 1e-9)
			assert.Equal(t, tt.passed, got.Passed, "observed %v", got.Observed)
		})
	}
	assert.False(t, r.Passed())

	t.Run("unreported percentile without histogram", func(t *testing.T) {
		th, err := ParseThreshold("p75<1s")
		require.NoError(t, err)
		EvaluateThresholds(r, []Threshold{th})
		assert.False(t, r.Thresholds[0].Passed)
		assert.NotEmpty(t, r.Thresholds[0].Note)
	})
	t.Run("no thresholds pass", func(t *testing.T) {
		EvaluateThresholds(r, nil)
		assert.True(t, r.Passed())
	})
}

func TestOfferStreamRows(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Offer
		wantErr string
	}{
		{name: "header BOM CRLF blank lines", in: "\uFEFFoffer_id,quote_id\r\n\r\nO-1,Q-1\r\n  \r\n\"O-2\", Q-2 \r\n",
			want: []Offer{{OfferID: "O-1", QuoteID: "Q-1"}, {OfferID: "O-2", QuoteID: "Q-2"}}},
		{name: "no header", in: "a,b\nc,d", want: []Offer{{OfferID: "a", QuoteID: "b"}, {OfferID: "c", QuoteID: "d"}}},
		{name: "three columns", in: "offer_id,quote_id\na,b,c\n", wantErr: "f.csv:2: want 2 columns"},
		{name: "one column", in: "a\n", wantErr: "f.csv:1: want 2 columns"},
		{name: "duplicate", in: "a,b\nc,d\na,e\n", wantErr: "f.csv:3: duplicate offer_id a (first on line 1)"},
		{name: "empty", in: "\n\n", wantErr: "f.csv: no offers"},
		{name: "header only", in: "offer_id,quote_id\n", wantErr: "f.csv: no offers"},
		{name: "empty id", in: "a,\n", wantErr: "f.csv:1: quote_id: empty"},
		{name: "unsafe id", in: "a/../b,q\n", wantErr: "f.csv:1: offer_id: invalid character"},
		{name: "quote in id", in: "a,q\"x\n", wantErr: "f.csv:1: quote_id: invalid character"},
		{name: "huge line", in: "a,b\n" + strings.Repeat("x", 10<<20), wantErr: "f.csv:2: line longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := streamAll(t, tt.in, StreamOptions{})
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"1", time.Second, true},
		{" 30 ", 30 * time.Second, true},
		{"0", 0, true},
		{"3600", time.Minute, true},
		{"99999999999999999999999", time.Minute, true},
		{"Fri, 27 Nov 2026 10:00:05 GMT", 5 * time.Second, true},
		{"Fri, 27 Nov 2026 09:59:00 GMT", 0, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := parseRetryAfter(tt.in, now)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestPlanValidate(t *testing.T) {
	ok := Plan{Rate: "50/s", Duration: 10 * time.Second}
	tests := []struct {
		name  string
		edit  func(*Plan)
		field string
	}{
		{name: "valid", edit: func(*Plan) {}},
		{name: "stages valid", edit: func(p *Plan) { p.Rate, p.Duration = "", 0; p.Stages = []Stage{{time.Second, 5}} }},
		{name: "no rate", edit: func(p *Plan) { p.Rate = "" }, field: "rate"},
		{name: "both", edit: func(p *Plan) { p.Stages = []Stage{{time.Second, 5}} }, field: "stages"},
		{name: "bad rate", edit: func(p *Plan) { p.Rate = "fast" }, field: "rate"},
		{name: "unbounded", edit: func(p *Plan) { p.Duration = 0 }, field: "duration"},
		{name: "over max duration", edit: func(p *Plan) { p.Duration = 2 * time.Hour }, field: "max_duration"},
		{name: "raised max duration", edit: func(p *Plan) { p.Duration, p.MaxDuration = 2*time.Hour, 3*time.Hour }},
		{name: "workers above max", edit: func(p *Plan) { p.Workers, p.MaxWorkers = 20, 10 }, field: "workers"},
		{name: "too many workers", edit: func(p *Plan) { p.MaxWorkers = 1e6 }, field: "max_workers"},
		{name: "sample", edit: func(p *Plan) { p.ValidateSample = 1.5 }, field: "validate_sample"},
		{name: "header", edit: func(p *Plan) { p.IdempotencyHeader = "Bad Header" }, field: "idempotency_header"},
		{name: "threshold", edit: func(p *Plan) { p.Thresholds = []string{"p99<1s", "p99<<1s"} }, field: "thresholds"},
		{name: "one request", edit: func(p *Plan) { p.Duration = time.Nanosecond }, field: "duration"},
		{name: "two requests", edit: func(p *Plan) { p.Duration = 21 * time.Millisecond }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ok
			tt.edit(&p)
			err := p.Validate()
			if tt.field == "" {
				assert.NoError(t, err)
				return
			}
			var pe *PlanError
			require.True(t, errors.As(err, &pe), "got %v, want a *PlanError", err)
			assert.Equal(t, tt.field, pe.Field)
			assert.Contains(t, err.Error(), "plan: "+tt.field+": ")
			assert.NotContains(t, err.Error(), "--", "a library error names no flag")
		})
	}
}

func TestPlanJSON(t *testing.T) {
	p := Plan{Stages: []Stage{{30 * time.Second, 10}, {time.Minute, 2.5}}, Timeout: 5 * time.Second,
		Thresholds: []string{"p99<1s"}}.WithDefaults()
	b, err := json.Marshal(p)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"duration":"1m30s"`)
	assert.Contains(t, string(b), `{"duration":"30s","target_per_s":10}`)
	var back Plan
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, p, back)
	assert.InDelta(t, 10.0, p.PeakRate(), 1e-9)

	// Every field of Plan is in its JSON, none listed by hand: a field added
	// later cannot drop out of summary.json.
	full := Plan{Rate: "1/s", Duration: time.Second, MaxDuration: time.Hour, Timeout: time.Second, MaxRequests: 1,
		Workers: 1, MaxWorkers: 1, Connections: 1, ValidateSample: 1, IdempotencyHeader: "X", IgnoreRetryAfter: true,
		AbortOnFail: true, Thresholds: []string{"p99<1s"}, DefaultThresholds: true, GatesOff: true,
		Evidence: 5, EvidenceHeaders: []string{"X-Trace"}, Race: RacePlan{N: 5, Fraction: 0.5}}
	b, err = json.Marshal(full)
	require.NoError(t, err)
	var fields map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(b, &fields))
	typ := reflect.TypeOf(full)
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		if name == "stages" {
			continue // set only with a ramp
		}
		assert.Contains(t, fields, name, "Plan.%s is missing from its JSON", typ.Field(i).Name)
	}
}

func TestWithGates(t *testing.T) {
	tests := []struct {
		name  string
		given []string
		off   bool
		want  []string
	}{
		{"no threshold: the gates", nil, false, []string{"error_rate<1%", "schema_violations==0"}},
		{"a threshold adds to the gates", []string{"p99<800ms"}, false, []string{"error_rate<1%", "schema_violations==0", "p99<800ms"}},
		{"naming a gate's metric loosens it", []string{"error_rate<5%"}, false, []string{"schema_violations==0", "error_rate<5%"}},
		{"off", []string{"p99<800ms"}, true, []string{"p99<800ms"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Plan{Thresholds: tt.given}.WithGates(tt.off)
			assert.Equal(t, tt.want, p.Thresholds)
			assert.Equal(t, tt.off, p.GatesOff)
			assert.Equal(t, !tt.off, p.DefaultThresholds)
		})
	}
}

func TestRunPacer(t *testing.T) {
	var reasons []string
	stop := make(chan struct{})
	p := newRunPacer(newConstSchedule(vegeta.Rate{Freq: 1000, Per: time.Second}), time.Minute, 5, -1, stop,
		func(r string) { reasons = append(reasons, r) })
	for hits := uint64(0); hits < 5; hits++ {
		_, done := p.Pace(0, hits)
		require.False(t, done, "request %d", hits)
	}
	_, done := p.Pace(0, 5)
	assert.True(t, done)
	assert.Equal(t, []string{stopMaxRequests}, reasons)

	t.Run("pause shifts the rest of the schedule", func(t *testing.T) {
		p := newRunPacer(newConstSchedule(vegeta.Rate{Freq: 100, Per: time.Second}), time.Minute, 0, 3, stop, func(string) {})
		_, done := p.Pace(0, 0)
		require.False(t, done)
		now := time.Now()
		newWindow, added := p.pause(now, now.Add(50*time.Millisecond))
		assert.True(t, newWindow)
		assert.Equal(t, 50*time.Millisecond, added)
		again, _ := p.pause(now, now.Add(20*time.Millisecond))
		assert.False(t, again, "a shorter Retry-After inside the window adds nothing")
		start := time.Now()
		_, done = p.Pace(time.Since(p.start), 1)
		require.False(t, done)
		assert.GreaterOrEqual(t, time.Since(start), 40*time.Millisecond, "request 1 waits for the pause")
		planned := p.start.Add(10 * time.Millisecond)
		assert.Greater(t, p.intended(1, time.Time{}).Sub(planned), 40*time.Millisecond, "intended time includes the pause")
		assert.Equal(t, p.start, p.intended(0, time.Time{}), "request 0 was before the pause")
		_, _ = p.Pace(time.Since(p.start), 2)
		_, done = p.Pace(time.Since(p.start), 3)
		assert.True(t, done, "feed of 3 exhausted")
	})
	t.Run("late while a due send is behind its time", func(t *testing.T) {
		p := newRunPacer(newConstSchedule(vegeta.Rate{Freq: 1000, Per: time.Second}), time.Minute, 0, -1, stop, func(string) {})
		_, _ = p.Pace(0, 0)
		p.start = time.Now().Add(-50 * time.Millisecond) // request 1 was due 49 ms ago
		_, _ = p.Pace(0, 1)
		assert.True(t, p.late.Load(), "49 ms behind")
		p.start = time.Now() // request 2 is due in 2 ms: the pacer waits for it
		_, _ = p.Pace(0, 2)
		assert.False(t, p.late.Load(), "on time")
	})
	t.Run("stop wakes a waiting pacer", func(t *testing.T) {
		stop := make(chan struct{})
		p := newRunPacer(newConstSchedule(vegeta.Rate{Freq: 1, Per: time.Minute}), time.Hour, 0, -1, stop, func(string) {})
		_, _ = p.Pace(0, 0)
		time.AfterFunc(20*time.Millisecond, func() { close(stop) })
		start := time.Now()
		_, done := p.Pace(0, 1)
		assert.True(t, done)
		assert.Less(t, time.Since(start), time.Second)
	})
}
