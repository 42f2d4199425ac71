package load

import (
	"errors"
	"math"
	"testing"
	"time"
)

func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"50/s", "50", "3000/1m", "1/2s", "0", "1/0s", "9999999999/ns", "5/.s", "1/-s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRate(s)
		if err != nil {
			return
		}
		if r.Freq <= 0 || r.Per <= 0 || r.Per > 24*time.Hour {
			t.Fatalf("ParseRate(%q) = %+v: want positive freq and period", s, r)
		}
		if perSec := float64(r.Freq) / r.Per.Seconds(); perSec > maxRate {
			t.Fatalf("ParseRate(%q) = %v/s: above maxRate", s, perSec)
		}
	})
}

func FuzzParseStages(f *testing.F) {
	for _, s := range []string{"30s:10/s,1m:50/s,30s:0/s", "1s:1", "1h:0.001/s", "1ns:100000", "10s:5/1m,1s:0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		st, err := ParseStages(s)
		if err != nil {
			return
		}
		p, err := newRamp(st)
		if err != nil {
			t.Fatalf("ParseStages(%q) accepted stages newRamp refuses: %v", s, err)
		}
		total := p.count(p.total)
		var prev time.Duration
		for n := uint64(0); n < min(total, 200); n++ {
			at, ok := p.offset(n)
			if !ok {
				break
			}
			if at < prev || at > p.total {
				t.Fatalf("%q: request %d at %v (previous %v, total %v)", s, n, at, prev, p.total)
			}
			prev = at
		}
		if _, ok := p.offset(total + 1); ok {
			t.Fatalf("%q: request %d scheduled past the %d the profile holds", s, total+1, total)
		}
	})
}

func FuzzParseThreshold(f *testing.F) {
	for _, s := range []string{"p99<800ms", "p95<=500ms", "error_rate<1%", "success_ratio>=99%", "throughput>=45",
		"schema_violations==0", "late_sends<1%", "status_5xx==0", "p999 < 2 s", "p99<", "mean<1..2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		th, err := ParseThreshold(s)
		if err != nil {
			var te *ThresholdError
			if !errors.As(err, &te) {
				t.Fatalf("ParseThreshold(%q): %T, want *ThresholdError", s, err)
			}
			if te.Pos < 1 || te.Pos > len(s)+1 {
				t.Fatalf("ParseThreshold(%q): position %d outside 1..%d", s, te.Pos, len(s)+1)
			}
			return
		}
		if math.IsNaN(th.Value) || math.IsInf(th.Value, 0) || th.Value < 0 {
			t.Fatalf("ParseThreshold(%q): value %v", s, th.Value)
		}
		again, err := ParseThreshold(th.Expr)
		if err != nil || again != th {
			t.Fatalf("ParseThreshold(%q) = %+v, but its Expr parses to %+v, %v", s, th, again, err)
		}
		EvaluateThresholds(&Result{Requests: 1, StatusCodes: map[string]uint64{"200": 1}}, []Threshold{th})
	})
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"1", "120", "Fri, 27 Nov 2026 10:00:05 GMT", "Friday, 27-Nov-26 10:00:05 GMT", "Fri Nov 27 10:00:05 2026", "-1", ""} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := parseRetryAfter(s, now)
		if d < 0 || d > maxRetryAfter || (!ok && d != 0) {
			t.Fatalf("parseRetryAfter(%q) = %v, %v", s, d, ok)
		}
	})
}
