package reports

import (
	"bytes"
	"errors"
	"io"
	"math"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/xoneharness/xoneharness/contract"
	"github.com/xoneharness/xoneharness/load"
)

// has checks that page contains s without dumping the whole page on failure.
func has(t *testing.T, page, s string, msg ...any) {
	t.Helper()
	if !strings.Contains(page, s) {
		t.Errorf("page does not contain %q %v", s, msg)
	}
}

// hasNot checks that page does not contain s.
func hasNot(t *testing.T, page, s string, msg ...any) {
	t.Helper()
	if i := strings.Index(page, s); i >= 0 {
		t.Errorf("page contains %q at byte %d: …%s… %v", s, i, page[max(0, i-80):min(len(page), i+80)], msg)
	}
}

func renderHTML(t *testing.T, r *Report) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, HTML(&buf, r))
	return buf.String()
}

// networkRef matches anything that would make a browser fetch a resource.
var networkRef = regexp.MustCompile(`(?i)(\s(src|href|srcset|action|poster|data|xlink:href)\s*=\s*["']?\s*(https?:|//))|url\(|@import|<link|<iframe|<object|<embed|<img|<base`)

func TestHTMLSelfContained(t *testing.T) {
	for name, build := range samples() {
		t.Run(name, func(t *testing.T) {
			page := renderHTML(t, build())
			lower := strings.ToLower(page)
			hasNot(t, lower, "<script", "the page must not contain a script element")
			assert.NotRegexp(t, `(?i)\son[a-z]+\s*=`, page, "the page must not contain event handler attributes")
			assert.Empty(t, networkRef.FindAllString(page, -1), "the page must not reference network resources")
			r := build()
			want := 0
			if r.Load != nil {
				want = 3
			}
			assert.Equal(t, want, strings.Count(page, `<svg class="chart"`), "charts (placeholders included)")
			assert.True(t, strings.HasPrefix(page, "<!DOCTYPE html>"))
			has(t, page, "<style>")
		})
	}
}

func TestHTMLContent(t *testing.T) {
	r := sampleRun()
	page := renderHTML(t, r)

	t.Run("charts", func(t *testing.T) {
		for _, id := range []string{"chart-latency", "chart-distribution", "chart-throughput"} {
			has(t, page, `<svg class="chart" id="`+id+`"`)
		}
		has(t, page, "<polyline", "latency lines drawn")
		has(t, page, "99.9%", "distribution axis in nines")
		has(t, page, `fill="#c62828"`, "5xx bars drawn")
		hasNot(t, page, "no timeline data")
		hasNot(t, page, "NaN")
		hasNot(t, page, "Inf")
	})
	t.Run("escaping", func(t *testing.T) {
		has(t, page, "&lt;script&gt;alert(1)&lt;/script&gt;")
		hasNot(t, page, "<b>bold</b>")
		has(t, page, "&lt;b&gt;bold&lt;/b&gt;")
	})
	t.Run("verdict and meta", func(t *testing.T) {
		has(t, page, `class="verdict verdict-fail"`)
		has(t, page, "✖ FAIL")
		has(t, page, "2026-11-03 02:00:00Z")
		has(t, page, "(embedded sandbox)")
		has(t, page, "load stage ran with --continue-on-fail")
	})
	t.Run("contract", func(t *testing.T) {
		for _, o := range []string{"o-pass", "o-fail", "o-drift", "o-skip", "o-security"} {
			has(t, page, `class="badge `+o+`"`)
		}
		has(t, page, "got object | want array")
		_, section, _ := strings.Cut(page, `<section id="contract">`)
		section, _, _ = strings.Cut(section, "</section>")
		assert.Equal(t, 4, strings.Count(section, "<details"), "one expandable exchange per case with an exchange")
		assert.Equal(t, 2, strings.Count(section, "<details open>"), "failed cases are expanded")
		has(t, page, `-H &#34;Authorization: Bearer $XONE_TOKEN&#34;`)
		hasNot(t, page, "Bearer [REDACTED]\"", "curl must use the placeholder")
	})
	t.Run("load", func(t *testing.T) {
		for _, want := range []string{"p99&lt;500ms", "error_rate&lt;1%", "✖ FAIL", "service time, from actual send",
			"class transport_error", "0 (transport error)", "first at seq 77", "status-undocumented"} {
			has(t, page, want)
		}
	})
	t.Run("baseline", func(t *testing.T) {
		has(t, page, `id="baseline"`)
		has(t, page, "baseline/summary.json")
		has(t, page, "latency_p99_ms")
		has(t, page, "✖ regression")
		has(t, page, "&#43;100.06%", "p99 155.4 → 310.9 ms")
	})
}

func TestHTMLOmitsAbsentSections(t *testing.T) {
	page := renderHTML(t, sampleError())
	has(t, page, `class="verdict verdict-error"`)
	has(t, page, "401 Unauthorized &lt;html&gt;denied&lt;/html&gt;")
	for _, id := range []string{`id="contract"`, `id="load"`, `id="baseline"`} {
		hasNot(t, page, id)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestHTMLWriteError(t *testing.T) {
	err := HTML(failWriter{}, sampleRun())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "disk full")
	assert.True(t, strings.HasPrefix(err.Error(), "reports: "), "got %q", err)
}

func TestCurl(t *testing.T) {
	tests := []struct {
		name string
		x    *contract.Exchange
		want string
	}{
		{"token placeholder and quoting", &contract.Exchange{Method: "POST", URL: "http://h/x?a=1&b=2",
			RequestHeader: map[string][]string{"Authorization": {"Bearer [REDACTED]"}, "Content-Type": {"application/json"},
				"User-Agent": {"skipped"}, "Content-Length": {"9"}},
			RequestBody: `{"n":"O'Brien"}`},
			"curl -sS -i -X 'POST' 'http://h/x?a=1&b=2' \\\n  -H \"Authorization: Bearer $XONE_TOKEN\" \\\n  -H 'Content-Type: application/json' \\\n  --data-raw '{\"n\":\"O'\\''Brien\"}'"},
		{"no auth header stays absent", &contract.Exchange{Method: "GET", URL: "http://h/"}, "curl -sS -i -X 'GET' 'http://h/'"},
		{"shell metacharacters stay quoted", &contract.Exchange{Method: "POST", URL: "http://h/$(id)", RequestBody: "`rm -rf`"},
			"curl -sS -i -X 'POST' 'http://h/$(id)' \\\n  --data-raw '`rm -rf`'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := text("curl", tt.x)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestChartsEdgeCases(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name  string
		chart func() string
		want  []string
	}{
		{"latency empty", func() string { return drawChart(latencyChart(nil)) }, []string{"no timeline data"}},
		{"latency one point", func() string {
			return drawChart(latencyChart([]load.Bucket{{Second: 3, Requests: 1, P50Ms: 5, P90Ms: 5, P99Ms: 5}}))
		}, []string{"<circle"}},
		{"latency all zero", func() string {
			return drawChart(latencyChart([]load.Bucket{{Second: 0, Requests: 2}, {Second: 1, Requests: 2}}))
		}, []string{"<polyline"}},
		{"latency NaN skipped", func() string {
			return drawChart(latencyChart([]load.Bucket{{Second: 0, Requests: 1, P50Ms: nan, P90Ms: 1, P99Ms: 1}}))
		}, []string{"no timeline data"}},
		{"distribution empty", func() string { return drawChart(distributionChart(nil)) }, []string{"no distribution data"}},
		{"distribution max only", func() string {
			return drawChart(distributionChart([]load.Quantile{{Percentile: 100, LatencyMs: 3}}))
		}, []string{"<circle", ">max</text>"}},
		{"distribution bad points", func() string {
			return drawChart(distributionChart([]load.Quantile{{Percentile: -1, LatencyMs: 1}, {Percentile: nan, LatencyMs: 2}, {Percentile: 50, LatencyMs: math.Inf(1)}}))
		}, []string{"no distribution data"}},
		{"throughput empty", func() string { return drawChart(throughputChart(nil)) }, []string{"no timeline data"}},
		{"throughput zero counts", func() string {
			return drawChart(throughputChart([]load.Bucket{{Second: 0, Classes: map[string]uint64{"2xx": 0}}}))
		}, []string{"no timeline data"}},
		{"throughput unknown class escaped", func() string {
			return drawChart(throughputChart([]load.Bucket{{Second: 0, Requests: 1, Classes: map[string]uint64{"<i>x</i>": 1}}}))
		}, []string{"&lt;i&gt;x&lt;/i&gt;", "#90a4ae"}},
		{"throughput long run binned", func() string {
			tl := make([]load.Bucket, 3600)
			for i := range tl {
				tl[i] = load.Bucket{Second: i, Requests: 10, Classes: map[string]uint64{"2xx": 10}}
			}
			return drawChart(throughputChart(tl))
		}, []string{"mean per 30 s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svg := tt.chart()
			assert.True(t, strings.HasPrefix(svg, `<svg class="chart"`))
			assert.True(t, strings.HasSuffix(svg, `</svg>`))
			assert.NotContains(t, svg, "NaN")
			assert.NotContains(t, svg, "Inf")
			assert.NotContains(t, svg, "<i>")
			assert.Contains(t, svg, `class="axis-label"`)
			assert.Contains(t, svg, `class="legend"`)
			for _, w := range tt.want {
				assert.Contains(t, svg, w)
			}
		})
	}
}

func TestChartBinning(t *testing.T) {
	tl := make([]load.Bucket, 3600)
	for i := range tl {
		tl[i] = load.Bucket{Second: i, Requests: 10, Classes: map[string]uint64{"2xx": 10}}
	}
	svg := drawChart(throughputChart(tl))
	assert.Equal(t, maxBars, strings.Count(svg, "<rect x=")-1-1, "bars (minus background and legend swatch)")
}

func TestNiceTicks(t *testing.T) {
	tests := []struct {
		name       string
		lo, hi     float64
		wantLo     float64
		wantHi     float64
		wantTicksN [2]int // range
	}{
		{"zero range", 0, 0, 0, 1, [2]int{2, 12}},
		{"unit", 0, 1, 0, 1, [2]int{4, 8}},
		{"latency", 0, 321, 0, 350, [2]int{4, 9}},
		{"seconds", 0, 20, 0, 20, [2]int{4, 9}},
		{"NaN", math.NaN(), math.NaN(), 0, 1, [2]int{2, 8}},
		{"inverted", 5, 1, 5, 6, [2]int{2, 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ticks, lo, hi, step := niceTicks(tt.lo, tt.hi, 6)
			assert.InDelta(t, tt.wantLo, lo, 1e-9)
			assert.InDelta(t, tt.wantHi, hi, 1e-9)
			assert.Greater(t, step, 0.0)
			assert.GreaterOrEqual(t, len(ticks), tt.wantTicksN[0])
			assert.LessOrEqual(t, len(ticks), tt.wantTicksN[1])
		})
	}
}

func TestNinesLabel(t *testing.T) {
	for k, want := range map[float64]string{0: "0%", math.Log10(2): "50%", 1: "90%", 2: "99%", 3: "99.9%", 5: "99.999%"} {
		assert.Equal(t, want, ninesLabel(k), "k=%v", k)
	}
	assert.InDelta(t, 2, nines(99), 1e-9)
	assert.Equal(t, maxNines, nines(100))
}

// TestHTMLWellFormed: every sample page closes each element it opens, in
// order (void elements aside), so that a section such as the coverage tree's
// <details> or a race table never swallows what follows it.
func TestHTMLWellFormed(t *testing.T) {
	void := map[string]bool{"meta": true, "br": true, "link": true, "img": true, "hr": true, "input": true}
	for name, build := range samples() {
		t.Run(name, func(t *testing.T) {
			z := html.NewTokenizer(strings.NewReader(renderHTML(t, build())))
			var open []string
			for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
				tag, _ := z.TagName()
				switch {
				case tt == html.StartTagToken && !void[string(tag)]:
					open = append(open, string(tag))
				case tt == html.EndTagToken:
					require.NotEmpty(t, open, "got </%s> with nothing open", tag)
					require.Equal(t, open[len(open)-1], string(tag), "got </%s>, want </%s>", tag, open[len(open)-1])
					open = open[:len(open)-1]
				}
			}
			assert.ErrorIs(t, z.Err(), io.EOF)
			assert.Empty(t, open, "elements left open")
		})
	}
}

// drawChart draws c as report.html does.
func drawChart(c chart) string {
	var b strings.Builder
	if err := htmlTemplate.ExecuteTemplate(&b, "chart", c); err != nil {
		return "error: " + err.Error()
	}
	return b.String()
}
