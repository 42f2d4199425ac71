package reports

import (
	"fmt"
	"html/template"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/xoneharness/xoneharness/load"
)

// Charts are inline SVG drawn from the view's numbers: no JavaScript, no
// fonts, no network. Every chart has a title, axes with tick labels and a
// unit, and a legend, and draws an empty frame saying "no data" when there
// is nothing to plot. Series differ by dash pattern as well as colour so
// that a black-and-white print still tells them apart.

// Geometry of every chart, in SVG user units (the page scales the viewBox).
const (
	chartW, chartH                               = 760.0, 300.0
	chartLeft, chartRight, chartTop, chartBottom = 64.0, 20.0, 40.0, 52.0
	// maxBars is the most bars the throughput chart draws; longer timelines
	// are grouped into bins of several seconds.
	maxBars = 120
	// maxNines caps the distribution chart's x axis (99.99999 %).
	maxNines = 7.0
	// maxSecond bounds the seconds a chart accepts (about 194 days), so a
	// corrupt summary cannot make the time axis overflow.
	maxSecond = 1 << 24
	// minTimeSpan is the shortest time axis, in seconds, so that a
	// one-second run is a narrow bar rather than a wall.
	minTimeSpan = 5
)

// series is one line of a chart, or one entry of a legend; breaks[i] starts
// a new segment at points[i] (a gap in the data).
type series struct {
	name, color, dash string
	points            [][2]float64
	breaks            []bool
}

// frame maps data coordinates to the plot area.
type frame struct{ x0, x1, y0, y1 float64 }

func (f frame) px(x float64) float64 {
	return chartLeft + (x-f.x0)/(f.x1-f.x0)*(chartW-chartLeft-chartRight)
}

func (f frame) py(y float64) float64 {
	return chartH - chartBottom - (y-f.y0)/(f.y1-f.y0)*(chartH-chartTop-chartBottom)
}

// svg accumulates one chart. Every piece of text in it goes through esc;
// numbers are formatted by strconv.
type svg struct{ strings.Builder }

func (s *svg) f(format string, args ...any) { fmt.Fprintf(s, format, args...) }

func newSVG(id, title, desc string) *svg {
	s := &svg{}
	s.f(`<svg class="chart" id="%s" viewBox="0 0 %g %g" width="%g" height="%g" role="img" aria-labelledby="%s-title %s-desc" font-family="sans-serif" font-size="12">`,
		id, chartW, chartH, chartW, chartH, id, id)
	s.f(`<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, id, esc(title), id, esc(desc))
	s.f(`<rect x="0" y="0" width="%g" height="%g" fill="#ffffff"/>`, chartW, chartH)
	s.f(`<text x="%g" y="18" font-size="14" font-weight="bold" fill="#222222">%s</text>`, chartLeft, esc(title))
	return s
}

func (s *svg) html() template.HTML {
	s.WriteString(`</svg>`)
	return template.HTML(s.String()) //nolint:gosec // built from escaped text
}

func esc(s string) string { return template.HTMLEscapeString(s) }

// n formats a coordinate with at most one decimal.
func n(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

// axes draws the grid, the ticks and the axis labels.
func (s *svg) axes(f frame, xticks, yticks []float64, xTick, yTick func(float64) string, xLabel, yLabel string) {
	bottom, top, left, right := f.py(f.y0), f.py(f.y1), f.px(f.x0), f.px(f.x1)
	line := func(x1, y1, x2, y2 float64) {
		s.f(`<line x1="%s" y1="%s" x2="%s" y2="%s"/>`, n(x1), n(y1), n(x2), n(y2))
	}
	s.f(`<g class="grid" stroke="#dddddd" stroke-width="1">`)
	for _, y := range yticks {
		line(left, f.py(y), right, f.py(y))
	}
	s.f(`</g><g class="axis" stroke="#444444" stroke-width="1">`)
	line(left, bottom, right, bottom)
	line(left, bottom, left, top)
	for _, x := range xticks {
		line(f.px(x), bottom, f.px(x), bottom+5)
	}
	s.f(`</g><g class="ticks" fill="#333333">`)
	for _, x := range xticks {
		s.f(`<text x="%s" y="%s" text-anchor="middle">%s</text>`, n(f.px(x)), n(bottom+18), esc(xTick(x)))
	}
	for _, y := range yticks {
		s.f(`<text x="%s" y="%s" text-anchor="end">%s</text>`, n(left-6), n(f.py(y)+4), esc(yTick(y)))
	}
	s.f(`</g><text class="axis-label" x="%s" y="%s" text-anchor="middle" fill="#222222">%s</text>`,
		n((left+right)/2), n(chartH-10), esc(xLabel))
	s.f(`<text class="axis-label" transform="translate(16 %s) rotate(-90)" text-anchor="middle" fill="#222222">%s</text>`,
		n((top+bottom)/2), esc(yLabel))
}

// legend draws the items right-aligned on the title line, as boxes or as
// lines.
func (s *svg) legend(items []series, box bool) {
	const charW, swatch, gap = 6.6, 22.0, 14.0
	width := func(it series) float64 { return swatch + 4 + float64(len(it.name))*charW + gap }
	total := 0.0
	for _, it := range items {
		total += width(it)
	}
	x := max(chartW-chartRight-total, chartLeft+200)
	s.f(`<g class="legend">`)
	for _, it := range items {
		if box {
			s.f(`<rect x="%s" y="22" width="14" height="10" fill="%s"/>`, n(x+4), it.color)
		} else {
			s.f(`<line x1="%s" y1="27" x2="%s" y2="27" stroke="%s" stroke-width="2.5"%s/>`, n(x), n(x+swatch), it.color, dashAttr(it.dash))
		}
		s.f(`<text x="%s" y="31" fill="#222222">%s</text>`, n(x+swatch+4), esc(it.name))
		x += width(it)
	}
	s.f(`</g>`)
}

func dashAttr(d string) string {
	if d == "" {
		return ""
	}
	return ` stroke-dasharray="` + d + `"`
}

// noData writes a centred message in an empty chart.
func (s *svg) noData(msg string) {
	s.f(`<text class="no-data" x="%s" y="%s" text-anchor="middle" fill="#666666" font-size="14">%s</text>`,
		n((chartLeft+chartW-chartRight)/2), n((chartTop+chartH-chartBottom)/2), esc(msg))
}

// lines draws each series as polylines (split at breaks), with a dot on
// points that have no neighbour in their segment so one-point data shows.
func (s *svg) lines(f frame, ss []series) {
	for _, se := range ss {
		s.f(`<g class="series" fill="none" stroke="%s" stroke-width="2"%s>`, se.color, dashAttr(se.dash))
		var seg [][2]float64
		flush := func() {
			switch len(seg) {
			case 0:
			case 1:
				s.f(`<circle cx="%s" cy="%s" r="3" fill="%s" stroke="none"/>`, n(f.px(seg[0][0])), n(f.py(seg[0][1])), se.color)
			default:
				pts := make([]string, len(seg))
				for i, p := range seg {
					pts[i] = n(f.px(p[0])) + "," + n(f.py(p[1]))
				}
				s.f(`<polyline points="%s"/>`, strings.Join(pts, " "))
			}
			seg = seg[:0]
		}
		for i, p := range se.points {
			if i < len(se.breaks) && se.breaks[i] {
				flush()
			}
			seg = append(seg, p)
		}
		flush()
		s.f(`</g>`)
	}
}

// niceTicks returns about count ticks covering [lo, hi] at a "nice" step
// (1, 2 or 5 times a power of ten, Heckbert's nice numbers) and the
// rounded-out range. A degenerate or non-finite range becomes [lo, lo+1].
func niceTicks(lo, hi float64, count int) (ticks []float64, nlo, nhi, step float64) {
	if !finite(lo) {
		lo = 0
	}
	if !finite(hi) || hi <= lo {
		hi = lo + 1
	}
	step = 1
	if x := (hi - lo) / float64(max(count-1, 1)); x > 0 && finite(x) {
		exp := math.Pow(10, math.Floor(math.Log10(x)))
		switch f := x / exp; {
		case f < 1.5:
			step = exp
		case f < 3:
			step = 2 * exp
		case f < 7:
			step = 5 * exp
		default:
			step = 10 * exp
		}
	}
	nlo, nhi = math.Floor(lo/step)*step, math.Ceil(hi/step)*step
	if nhi <= nlo {
		nhi = nlo + step
	}
	for i := 0; i <= 100 && nlo+float64(i)*step <= nhi+step/2; i++ {
		ticks = append(ticks, nlo+float64(i)*step)
	}
	return ticks, nlo, nhi, step
}

// tickFormatter formats ticks with as many decimals as step needs.
func tickFormatter(step float64) func(float64) string {
	dec := 0
	if step > 0 && step < 1 {
		dec = int(math.Ceil(-math.Log10(step) - 1e-9))
	}
	return func(v float64) string {
		if math.Abs(v) < step/1e6 {
			v = 0
		}
		return strconv.FormatFloat(v, 'f', dec, 64)
	}
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// timeFrame sorts the timeline's plausible buckets (not modifying tl) and
// returns them with the time axis, in whole seconds from the first bucket
// to one past the last (at least minTimeSpan), and the value axis for
// values in [0, maxY] with a little headroom.
func timeFrame(tl []load.Bucket, maxY float64) (f frame, xticks, yticks []float64, xstep, ystep float64) {
	first, last := 0.0, 1.0
	if len(tl) > 0 {
		first, last = float64(tl[0].Second), float64(tl[len(tl)-1].Second)+1
	}
	xticks, f.x0, f.x1, xstep = niceTicks(first, max(last, first+minTimeSpan), 8)
	yticks, f.y0, f.y1, ystep = niceTicks(0, maxY*1.05, 6)
	return f, xticks, yticks, xstep, ystep
}

func sortedBuckets(tl []load.Bucket) []load.Bucket {
	out := slices.DeleteFunc(slices.Clone(tl), func(b load.Bucket) bool { return b.Second < 0 || b.Second > maxSecond })
	sort.SliceStable(out, func(i, j int) bool { return out[i].Second < out[j].Second })
	return out
}

// LatencyChart draws the p50, p90 and p99 latency of each second of the run
// (from the timeline) as an SVG line chart. Seconds without responses leave
// a gap in the lines.
func LatencyChart(tl []load.Bucket) template.HTML {
	tl = sortedBuckets(tl)
	s := newSVG("chart-latency", "Latency percentiles over time",
		"p50, p90 and p99 latency from the intended send time, per second of the run, in milliseconds")
	ss := []series{{name: "p50", color: "#1f77b4"}, {name: "p90", color: "#ff7f0e", dash: "7 4"}, {name: "p99", color: "#d62728", dash: "2 3"}}
	maxY, prev := 0.0, math.MinInt
	for _, b := range tl {
		vals := [3]float64{b.P50Ms, b.P90Ms, b.P99Ms}
		if b.Requests == 0 || !finite(vals[0]) || !finite(vals[1]) || !finite(vals[2]) {
			prev = math.MinInt
			continue
		}
		for i := range ss {
			ss[i].points = append(ss[i].points, [2]float64{float64(b.Second) + 0.5, vals[i]})
			ss[i].breaks = append(ss[i].breaks, prev != b.Second-1)
			maxY = max(maxY, vals[i])
		}
		prev = b.Second
	}
	f, xticks, yticks, xstep, ystep := timeFrame(tl, maxY)
	s.axes(f, xticks, yticks, tickFormatter(xstep), tickFormatter(ystep), "time since start (s)", "latency (ms)")
	s.legend(ss, false)
	if len(ss[0].points) > 0 {
		s.lines(f, ss)
	} else {
		s.noData("no timeline data")
	}
	return s.html()
}

// nines maps a percentile (0..100) to the distribution chart's x axis:
// -log10(1 - p/100), so 90 % is 1, 99 % is 2, 99.9 % is 3.
func nines(p float64) float64 {
	if p >= 100 {
		return maxNines
	}
	return min(-math.Log10(1-p/100), maxNines)
}

// ninesLabel is the percentile at k nines: 0 → "0%", 1 → "90%", 3 → "99.9%".
func ninesLabel(k float64) string {
	if k == 0 {
		return "0%"
	}
	if math.Abs(k-math.Log10(2)) < 1e-9 {
		return "50%"
	}
	return strconv.FormatFloat(100*(1-math.Pow(10, -k)), 'f', max(int(math.Round(k))-2, 0), 64) + "%"
}

// DistributionChart draws the latency distribution as an HDR percentile
// curve: latency (ms) against percentile on a log scale in "nines" (50 %,
// 90 %, 99 %, 99.9 %, …). The 100th percentile (the maximum) is drawn at the
// right edge, whose tick then reads "max".
func DistributionChart(d []load.Quantile) template.HTML {
	s := newSVG("chart-distribution", "Latency distribution",
		"latency in milliseconds below which a given percentile of requests completed, percentile axis in nines")
	var pts [][2]float64
	maxFinite, maxY, hasMax := 0.0, 0.0, false
	for _, q := range d {
		if !finite(q.Percentile) || !finite(q.LatencyMs) || q.Percentile < 0 {
			continue
		}
		if q.Percentile >= 100 {
			hasMax = true
		} else {
			maxFinite = max(maxFinite, nines(q.Percentile))
		}
		pts = append(pts, [2]float64{q.Percentile, q.LatencyMs})
		maxY = max(maxY, q.LatencyMs)
	}
	sort.SliceStable(pts, func(i, j int) bool { return pts[i][0] < pts[j][0] })
	// The x axis ends at the first whole number of nines past the data (at
	// least 2, i.e. 99 %); the maximum, if given, sits there.
	xMax := min(max(math.Ceil(maxFinite+1e-9), 2), maxNines)
	if hasMax && xMax <= maxFinite {
		xMax = min(xMax+1, maxNines)
	}
	for i := range pts {
		pts[i][0] = min(nines(pts[i][0]), xMax)
	}
	xticks := []float64{0, math.Log10(2)}
	for k := 1.0; k <= xMax; k++ {
		xticks = append(xticks, k)
	}
	yticks, y0, y1, ystep := niceTicks(0, maxY*1.05, 6)
	f := frame{0, xMax, y0, y1}
	xTick := func(k float64) string {
		if hasMax && k == xMax {
			return "max"
		}
		return ninesLabel(k)
	}
	s.axes(f, xticks, yticks, xTick, tickFormatter(ystep), "percentile (log scale)", "latency (ms)")
	s.legend([]series{{name: "latency from intended send", color: "#1f77b4"}}, false)
	if len(pts) > 0 {
		s.lines(f, []series{{name: "latency", color: "#1f77b4", points: pts}})
	} else {
		s.noData("no distribution data")
	}
	return s.html()
}

// classColors are the load outcome classes in stacking order with their
// colours; other classes follow in name order in the extra colours.
func classColors() []series {
	return []series{{name: "2xx", color: "#2e7d32"}, {name: "401", color: "#ef6c00"}, {name: "429", color: "#f9a825"},
		{name: "other_4xx", color: "#8e24aa"}, {name: "5xx", color: "#c62828"},
		{name: "transport_error", color: "#37474f"}, {name: "other", color: "#1565c0"}}
}

// classNamesOrdered lists the classes of m in the charts' order, then any
// others by name.
func classNamesOrdered[V any](m map[string]V) []string {
	var known, other []string
	for _, c := range classColors() {
		if _, ok := m[c.name]; ok {
			known = append(known, c.name)
		}
	}
	for _, k := range sortedKeys(m) {
		if !slices.ContainsFunc(classColors(), func(c series) bool { return c.name == k }) {
			other = append(other, k)
		}
	}
	return append(known, other...)
}

// ThroughputChart draws the responses per second by outcome class as
// stacked bars (2xx at the bottom). Timelines longer than 120 seconds are
// grouped into bins of several seconds, each showing the bin's mean rate.
func ThroughputChart(tl []load.Bucket) template.HTML {
	tl = sortedBuckets(tl)
	s := newSVG("chart-throughput", "Throughput and status classes over time",
		"responses per second by outcome class, stacked, per second of the run")
	present := map[string]float64{}
	first, width, bins := binned(tl)
	maxY := 0.0
	for _, bin := range bins {
		sum := 0.0
		for c, v := range bin {
			present[c], sum = present[c]+v, sum+v
		}
		maxY = max(maxY, sum)
	}
	var classes []series
	extra := []string{"#90a4ae", "#a1887f", "#4db6ac", "#f06292"}
	nx := 0 // classes with an extra colour
	for _, name := range classNamesOrdered(present) {
		c := series{name: name}
		if j := slices.IndexFunc(classColors(), func(k series) bool { return k.name == name }); j >= 0 {
			c = classColors()[j]
		} else {
			c.color, nx = extra[nx%len(extra)], nx+1
		}
		if present[name] > 0 {
			classes = append(classes, c)
		}
	}
	f, xticks, yticks, xstep, ystep := timeFrame(tl, maxY)
	ylabel := "responses/s"
	if width > 1 {
		ylabel = fmt.Sprintf("responses/s (mean per %d s)", width)
	}
	s.axes(f, xticks, yticks, tickFormatter(xstep), tickFormatter(ystep), "time since start (s)", ylabel)
	s.legend(classes, true)
	if maxY == 0 {
		s.noData("no timeline data")
		return s.html()
	}
	s.f(`<g class="bars">`)
	for i, bin := range bins {
		left := float64(first + i*width)
		xa, xb := f.px(left), f.px(left+float64(width))
		gap, base := min(1, (xb-xa)/4), 0.0
		for _, c := range classes {
			if v := bin[c.name]; v > 0 {
				ya, yb := f.py(base+v), f.py(base)
				s.f(`<rect x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%d s: %s %s/s</title></rect>`,
					n(xa+gap), n(ya), n(max(xb-xa-2*gap, 0.5)), n(max(yb-ya, 0.5)), c.color, int(left), esc(c.name), fmtNum(v))
				base += v
			}
		}
	}
	s.f(`</g>`)
	return s.html()
}

// binned groups a sorted timeline into at most maxBars bins of width
// seconds from the first second, each holding the mean responses per
// second of each class.
func binned(tl []load.Bucket) (first, width int, bins []map[string]float64) {
	if len(tl) == 0 {
		return 0, 1, nil
	}
	first = tl[0].Second
	span := tl[len(tl)-1].Second - first + 1
	width = max(1, (span+maxBars-1)/maxBars)
	bins = make([]map[string]float64, (span+width-1)/width)
	for _, b := range tl {
		i := (b.Second - first) / width
		if bins[i] == nil {
			bins[i] = map[string]float64{}
		}
		for c, v := range b.Classes {
			bins[i][c] += float64(v) / float64(width)
		}
	}
	return first, width, bins
}
