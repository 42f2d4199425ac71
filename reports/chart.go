package reports

import (
	"fmt"
	"html/template"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/xoneharness/xoneharness/load"
)

// Charts are inline SVG written in Go: no JavaScript, no fonts, no network.
// Every chart has a title, axes with tick labels and a unit, and a legend,
// and draws an empty frame saying "no data" when there is nothing to plot.
// Series differ by dash pattern as well as colour so that a black-and-white
// print still tells them apart.

// Geometry of every chart, in SVG user units (the page scales the viewBox).
const (
	chartW      = 760.0
	chartH      = 300.0
	chartLeft   = 64.0
	chartRight  = 20.0
	chartTop    = 40.0
	chartBottom = 52.0
	// maxBars is the most bars the throughput chart draws; longer timelines
	// are grouped into bins of several seconds.
	maxBars = 120
	// maxNines caps the distribution chart's x axis (99.99999 %).
	maxNines = 7.0
)

// series is one line of a chart.
type series struct {
	name   string
	color  string
	dash   string // stroke-dasharray, "" for solid
	points [][2]float64
	// breaks[i] true starts a new segment at points[i] (a gap in the data).
	breaks []bool
}

// frame maps data coordinates to the plot area.
type frame struct {
	x0, x1, y0, y1 float64
}

func (f frame) px(x float64) float64 {
	return chartLeft + (x-f.x0)/(f.x1-f.x0)*(chartW-chartLeft-chartRight)
}

func (f frame) py(y float64) float64 {
	return chartH - chartBottom - (y-f.y0)/(f.y1-f.y0)*(chartH-chartTop-chartBottom)
}

// svgDoc accumulates one chart's SVG.
type svgDoc struct {
	b strings.Builder
}

func (s *svgDoc) printf(format string, args ...any) { fmt.Fprintf(&s.b, format, args...) }

func newSVG(id, title, desc string) *svgDoc {
	s := &svgDoc{}
	s.printf(`<svg class="chart" id="%s" viewBox="0 0 %g %g" width="%g" height="%g" role="img" aria-labelledby="%s-title %s-desc" font-family="sans-serif" font-size="12">`,
		id, chartW, chartH, chartW, chartH, id, id)
	s.printf(`<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, id, esc(title), id, esc(desc))
	s.printf(`<rect x="0" y="0" width="%g" height="%g" fill="#ffffff"/>`, chartW, chartH)
	s.printf(`<text x="%g" y="18" font-size="14" font-weight="bold" fill="#222222">%s</text>`, chartLeft, esc(title))
	return s
}

func (s *svgDoc) html() template.HTML {
	s.b.WriteString(`</svg>`)
	// Every piece of text in the document went through esc; numbers are
	// formatted by strconv.
	return template.HTML(s.b.String()) //nolint:gosec // built from escaped text
}

func esc(s string) string { return template.HTMLEscapeString(s) }

// axes draws the grid, the ticks and the axis labels. xTick formats x tick
// values.
func (s *svgDoc) axes(f frame, xticks, yticks []float64, xTick func(float64) string, yTick func(float64) string, xLabel, yLabel string) {
	bottom, top := f.py(f.y0), f.py(f.y1)
	left, right := f.px(f.x0), f.px(f.x1)
	s.printf(`<g class="grid" stroke="#dddddd" stroke-width="1">`)
	for _, y := range yticks {
		s.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s"/>`, n(left), n(f.py(y)), n(right), n(f.py(y)))
	}
	s.printf(`</g><g class="axis" stroke="#444444" stroke-width="1">`)
	s.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s"/>`, n(left), n(bottom), n(right), n(bottom))
	s.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s"/>`, n(left), n(bottom), n(left), n(top))
	for _, x := range xticks {
		s.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s"/>`, n(f.px(x)), n(bottom), n(f.px(x)), n(bottom+5))
	}
	s.printf(`</g><g class="ticks" fill="#333333">`)
	for _, x := range xticks {
		s.printf(`<text x="%s" y="%s" text-anchor="middle">%s</text>`, n(f.px(x)), n(bottom+18), esc(xTick(x)))
	}
	for _, y := range yticks {
		s.printf(`<text x="%s" y="%s" text-anchor="end">%s</text>`, n(left-6), n(f.py(y)+4), esc(yTick(y)))
	}
	s.printf(`</g>`)
	s.printf(`<text class="axis-label" x="%s" y="%s" text-anchor="middle" fill="#222222">%s</text>`,
		n((left+right)/2), n(chartH-10), esc(xLabel))
	s.printf(`<text class="axis-label" transform="translate(16 %s) rotate(-90)" text-anchor="middle" fill="#222222">%s</text>`,
		n((top+bottom)/2), esc(yLabel))
}

// legendItem is one entry of a legend: a line (dash) or a box (fill).
type legendItem struct {
	name, color, dash string
	box               bool
}

// legend draws the items right-aligned on the title line.
func (s *svgDoc) legend(items []legendItem) {
	const charW, swatch, gap = 6.6, 22.0, 14.0
	total := 0.0
	for _, it := range items {
		total += swatch + 4 + float64(len(it.name))*charW + gap
	}
	x := chartW - chartRight - total
	if x < chartLeft+200 {
		x = chartLeft + 200
	}
	s.printf(`<g class="legend">`)
	for _, it := range items {
		if it.box {
			s.printf(`<rect x="%s" y="22" width="14" height="10" fill="%s"/>`, n(x+4), it.color)
		} else {
			s.printf(`<line x1="%s" y1="27" x2="%s" y2="27" stroke="%s" stroke-width="2.5"%s/>`, n(x), n(x+swatch), it.color, dashAttr(it.dash))
		}
		s.printf(`<text x="%s" y="31" fill="#222222">%s</text>`, n(x+swatch+4), esc(it.name))
		x += swatch + 4 + float64(len(it.name))*charW + gap
	}
	s.printf(`</g>`)
}

func dashAttr(d string) string {
	if d == "" {
		return ""
	}
	return ` stroke-dasharray="` + d + `"`
}

// noData writes a centred message in an empty chart.
func (s *svgDoc) noData(msg string) {
	s.printf(`<text class="no-data" x="%s" y="%s" text-anchor="middle" fill="#666666" font-size="14">%s</text>`,
		n((chartLeft+chartW-chartRight)/2), n((chartTop+chartH-chartBottom)/2), esc(msg))
}

// lines draws each series as polylines (split at breaks), with a dot on
// points that have no neighbour in their segment so one-point data shows.
func (s *svgDoc) lines(f frame, ss []series) {
	for _, se := range ss {
		s.printf(`<g class="series" fill="none" stroke="%s" stroke-width="2"%s>`, se.color, dashAttr(se.dash))
		var seg []string
		flush := func() {
			switch len(seg) {
			case 0:
			case 1:
				xy := strings.Split(seg[0], ",")
				s.printf(`<circle cx="%s" cy="%s" r="3" fill="%s" stroke="none"/>`, xy[0], xy[1], se.color)
			default:
				s.printf(`<polyline points="%s"/>`, strings.Join(seg, " "))
			}
			seg = seg[:0]
		}
		for i, p := range se.points {
			if i < len(se.breaks) && se.breaks[i] {
				flush()
			}
			seg = append(seg, n(f.px(p[0]))+","+n(f.py(p[1])))
		}
		flush()
		s.printf(`</g>`)
	}
}

// n formats a coordinate with at most one decimal.
func n(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

// niceTicks returns about count ticks covering [lo, hi] at a "nice" step
// (1, 2 or 5 times a power of ten) and the rounded-out range. A degenerate or
// non-finite range becomes [lo, lo+1].
func niceTicks(lo, hi float64, count int) (ticks []float64, nlo, nhi, step float64) {
	if math.IsNaN(lo) || math.IsInf(lo, 0) {
		lo = 0
	}
	if math.IsNaN(hi) || math.IsInf(hi, 0) || hi <= lo {
		hi = lo + 1
	}
	step = niceNum((hi-lo)/float64(max(count-1, 1)), true)
	nlo = math.Floor(lo/step) * step
	nhi = math.Ceil(hi/step) * step
	if nhi <= nlo {
		nhi = nlo + step
	}
	for i := 0; ; i++ {
		v := nlo + float64(i)*step
		if v > nhi+step/2 || i > 100 {
			break
		}
		ticks = append(ticks, v)
	}
	return ticks, nlo, nhi, step
}

// niceNum is Heckbert's nice number: 1, 2, 5 or 10 times a power of ten
// close to x (rounded) or at least x.
func niceNum(x float64, round bool) float64 {
	if x <= 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return 1
	}
	exp := math.Floor(math.Log10(x))
	f := x / math.Pow(10, exp)
	var nf float64
	switch {
	case round && f < 1.5, !round && f <= 1:
		nf = 1
	case round && f < 3, !round && f <= 2:
		nf = 2
	case round && f < 7, !round && f <= 5:
		nf = 5
	default:
		nf = 10
	}
	return nf * math.Pow(10, exp)
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

// maxSecond bounds the seconds a chart accepts (about 194 days); buckets
// outside [0, maxSecond] are dropped so a corrupt summary cannot make the
// time axis overflow.
const maxSecond = 1 << 24

// sortedBuckets returns the timeline's plausible buckets sorted by second
// (not modifying tl).
func sortedBuckets(tl []load.Bucket) []load.Bucket {
	out := make([]load.Bucket, 0, len(tl))
	for _, b := range tl {
		if b.Second >= 0 && b.Second <= maxSecond {
			out = append(out, b)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Second < out[j].Second })
	return out
}

// minTimeSpan is the shortest time axis, in seconds, so that a one-second
// run is a narrow bar rather than a wall.
const minTimeSpan = 5

// timeAxis returns the x frame bounds and ticks, in whole seconds, for a
// timeline spanning seconds [first, last+1] (at least minTimeSpan).
func timeAxis(tl []load.Bucket) (ticks []float64, x0, x1, step float64) {
	first, last := 0.0, 1.0
	if len(tl) > 0 {
		first, last = float64(tl[0].Second), float64(tl[len(tl)-1].Second)+1
	}
	last = max(last, first+minTimeSpan)
	ticks, x0, x1, step = niceTicks(first, last, 8)
	return ticks, x0, x1, step
}

// valueAxis returns the y frame bounds and ticks for values in [0, maxY],
// with a little headroom so the highest point does not sit on the frame.
func valueAxis(maxY float64) (ticks []float64, y0, y1, step float64) {
	return niceTicks(0, maxY*1.05, 6)
}

// LatencyChart draws the p50, p90 and p99 latency of each second of the run
// (from the timeline) as an SVG line chart. Seconds without responses leave
// a gap in the lines.
func LatencyChart(tl []load.Bucket) template.HTML {
	tl = sortedBuckets(tl)
	s := newSVG("chart-latency", "Latency percentiles over time",
		"p50, p90 and p99 latency from the intended send time, per second of the run, in milliseconds")
	ss := []series{
		{name: "p50", color: "#1f77b4"},
		{name: "p90", color: "#ff7f0e", dash: "7 4"},
		{name: "p99", color: "#d62728", dash: "2 3"},
	}
	maxY := 0.0
	have := false
	prev := math.MinInt
	for _, b := range tl {
		if b.Requests == 0 {
			prev = math.MinInt
			continue
		}
		vals := [3]float64{b.P50Ms, b.P90Ms, b.P99Ms}
		ok := true
		for _, v := range vals {
			ok = ok && finite(v)
		}
		if !ok {
			prev = math.MinInt
			continue
		}
		x := float64(b.Second) + 0.5
		for i := range ss {
			ss[i].points = append(ss[i].points, [2]float64{x, vals[i]})
			ss[i].breaks = append(ss[i].breaks, prev != b.Second-1)
			maxY = max(maxY, vals[i])
		}
		prev = b.Second
		have = true
	}
	xticks, x0, x1, xstep := timeAxis(tl)
	yticks, y0, y1, ystep := valueAxis(maxY)
	f := frame{x0, x1, y0, y1}
	s.axes(f, xticks, yticks, tickFormatter(xstep), tickFormatter(ystep), "time since start (s)", "latency (ms)")
	items := make([]legendItem, len(ss))
	for i, se := range ss {
		items[i] = legendItem{name: se.name, color: se.color, dash: se.dash}
	}
	s.legend(items)
	if have {
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
	p := 100 * (1 - math.Pow(10, -k))
	return strconv.FormatFloat(p, 'f', max(int(math.Round(k))-2, 0), 64) + "%"
}

// DistributionChart draws the latency distribution as an HDR percentile
// curve: latency (ms) against percentile on a log scale in "nines" (50 %,
// 90 %, 99 %, 99.9 %, …). The 100th percentile (the maximum) is drawn at the
// right edge, whose tick then reads "max".
func DistributionChart(d []load.Quantile) template.HTML {
	s := newSVG("chart-distribution", "Latency distribution",
		"latency in milliseconds below which a given percentile of requests completed, percentile axis in nines")
	pts := make([][2]float64, 0, len(d))
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
	yticks, y0, y1, ystep := valueAxis(maxY)
	f := frame{0, xMax, y0, y1}
	xTick := ninesLabel
	if hasMax {
		xTick = func(k float64) string {
			if k == xMax {
				return "max"
			}
			return ninesLabel(k)
		}
	}
	s.axes(f, xticks, yticks, xTick, tickFormatter(ystep), "percentile (log scale)", "latency (ms)")
	s.legend([]legendItem{{name: "latency from intended send", color: "#1f77b4"}})
	if len(pts) > 0 {
		s.lines(f, []series{{name: "latency", color: "#1f77b4", points: pts}})
	} else {
		s.noData("no distribution data")
	}
	return s.html()
}

// classOrder is the stacking order and colour of the load outcome classes;
// classes not listed follow in name order in extraColors.
func classOrder() []struct{ name, color string } {
	return []struct{ name, color string }{
		{"2xx", "#2e7d32"},
		{"401", "#ef6c00"},
		{"429", "#f9a825"},
		{"other_4xx", "#8e24aa"},
		{"5xx", "#c62828"},
		{"transport_error", "#37474f"},
		{"other", "#1565c0"},
	}
}

func extraColors() []string { return []string{"#90a4ae", "#a1887f", "#4db6ac", "#f06292"} }

// ThroughputChart draws the responses per second by outcome class as
// stacked bars (2xx at the bottom). Timelines longer than 120 seconds are
// grouped into bins of several seconds, each showing the bin's mean rate.
func ThroughputChart(tl []load.Bucket) template.HTML {
	tl = sortedBuckets(tl)
	s := newSVG("chart-throughput", "Throughput and status classes over time",
		"responses per second by outcome class, stacked, per second of the run")
	present := map[string]bool{}
	for _, b := range tl {
		for c, v := range b.Classes {
			if v > 0 {
				present[c] = true
			}
		}
	}
	type cls struct{ name, color string }
	var classes []cls
	for _, c := range classOrder() {
		if present[c.name] {
			classes = append(classes, cls{c.name, c.color})
			delete(present, c.name)
		}
	}
	extra := extraColors()
	for i, name := range sortedKeys(present) {
		classes = append(classes, cls{name, extra[i%len(extra)]})
	}

	first, width := 0, 1
	var bins []map[string]float64
	if len(tl) > 0 {
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
	}
	maxY := 0.0
	for _, bin := range bins {
		sum := 0.0
		for _, v := range bin {
			sum += v
		}
		maxY = max(maxY, sum)
	}
	xticks, x0, x1, xstep := timeAxis(tl)
	yticks, y0, y1, ystep := valueAxis(maxY)
	f := frame{x0, x1, y0, y1}
	ylabel := "responses/s"
	if width > 1 {
		ylabel = fmt.Sprintf("responses/s (mean per %d s)", width)
	}
	s.axes(f, xticks, yticks, tickFormatter(xstep), tickFormatter(ystep), "time since start (s)", ylabel)
	items := make([]legendItem, len(classes))
	for i, c := range classes {
		items[i] = legendItem{name: c.name, color: c.color, box: true}
	}
	s.legend(items)
	if maxY == 0 {
		s.noData("no timeline data")
		return s.html()
	}
	s.printf(`<g class="bars">`)
	for i, bin := range bins {
		left := float64(first + i*width)
		xa, xb := f.px(left), f.px(left+float64(width))
		gap := min(1, (xb-xa)/4)
		base := 0.0
		for _, c := range classes {
			v := bin[c.name]
			if v <= 0 {
				continue
			}
			ya, yb := f.py(base+v), f.py(base)
			s.printf(`<rect x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s s: %s %s/s</title></rect>`,
				n(xa+gap), n(ya), n(max(xb-xa-2*gap, 0.5)), n(max(yb-ya, 0.5)), c.color,
				strconv.Itoa(int(left)), esc(c.name), strconv.FormatFloat(v, 'f', -1, 64))
			base += v
		}
	}
	s.printf(`</g>`)
	return s.html()
}
