package reports

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/xoneharness/xoneharness/load"
)

// Geometry of every chart in SVG user units; report.html's "chart" template draws the fixed parts.
const (
	chartW, chartH                               = 760.0, 300.0
	chartLeft, chartRight, chartTop, chartBottom = 64.0, 20.0, 40.0, 52.0
)

const (
	maxBars     = 120     // the throughput chart's most bars: longer timelines are binned
	maxNines    = 7.0     // the distribution chart's x axis ends by 99.99999 %
	maxSecond   = 1 << 24 // a chart's last second (194 days): a corrupt summary cannot overflow an axis
	minTimeSpan = 5       // the shortest time axis (s): a one-second run is a narrow bar, not a wall
)

// chart is one chart as the "chart" template draws it, positions formatted (n), or NoData said.
type chart struct {
	ID, Title, Desc, XLabel, YLabel, NoData string
	XTicks, YTicks                          []tick
	Box                                     bool
	Legend                                  []legendItem
	Series                                  []series
	Bars                                    []bar
}

// tick is a tick of an axis: its position, its label's, and the label.
type tick struct{ Pos, LabelPos, Label string }

// legendItem is an entry of a legend: a box at Box or a line from X1 to X2, and its name at TextX.
type legendItem struct{ Box, X1, X2, TextX, Color, Dash, Name string }

// series is one line of a chart: runs of points without a gap in the data, and their segments.
type series struct {
	Name, Color, Dash string
	runs              [][][2]float64
	Segs              []segment
}

// segment is a polyline through Points, or a dot at (CX, CY) for a point alone in its segment.
type segment struct{ Points, CX, CY string }

// bar is one stacked bar of the throughput chart and its tooltip.
type bar struct {
	X, Y, W, H, Color, Class, Rate string
	Sec                            int
}

// frame maps data coordinates to the plot area.
type frame struct{ x0, x1, y0, y1 float64 }

func (f frame) px(x float64) float64 {
	return chartLeft + (x-f.x0)/(f.x1-f.x0)*(chartW-chartLeft-chartRight)
}

func (f frame) py(y float64) float64 {
	return chartH - chartBottom - (y-f.y0)/(f.y1-f.y0)*(chartH-chartTop-chartBottom)
}

// n formats a coordinate with at most one decimal.
func n(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

// axes sets the axes of c, x from x0 to x1, y from 0 to above maxY, and returns their frame.
func (c *chart) axes(x0, x1 float64, xticks []float64, xTick func(float64) string, maxY float64, xLabel, yLabel string) frame {
	yticks, y0, y1, ystep := niceTicks(0, maxY*1.05, 6)
	f, yTick := frame{x0, x1, y0, y1}, tickFormatter(ystep)
	for _, x := range xticks {
		c.XTicks = append(c.XTicks, tick{Pos: n(f.px(x)), Label: xTick(x)})
	}
	for _, y := range yticks {
		c.YTicks = append(c.YTicks, tick{Pos: n(f.py(y)), LabelPos: n(f.py(y) + 4), Label: yTick(y)})
	}
	c.XLabel, c.YLabel = xLabel, yLabel
	return f
}

// timeAxes sets the axes of c for the sorted timeline tl: whole seconds from its first bucket to
// one past its last (at least minTimeSpan), and values up to maxY.
func (c *chart) timeAxes(tl []load.Bucket, maxY float64, yLabel string) frame {
	first, last := 0.0, 1.0
	if len(tl) > 0 {
		first, last = float64(tl[0].Second), float64(tl[len(tl)-1].Second)+1
	}
	xticks, x0, x1, step := niceTicks(first, max(last, first+minTimeSpan), 8)
	return c.axes(x0, x1, xticks, tickFormatter(step), maxY, "time since start (s)", yLabel)
}

// legend lays the items out right-aligned on the title line, as boxes or as lines.
func (c *chart) legend(items []series, box bool) {
	const charW, swatch, gap = 6.6, 22.0, 14.0
	width := func(it series) float64 { return swatch + 4 + float64(len(it.Name))*charW + gap }
	total := 0.0
	for _, it := range items {
		total += width(it)
	}
	x := max(chartW-chartRight-total, chartLeft+200)
	c.Box = box
	for _, it := range items {
		c.Legend = append(c.Legend, legendItem{n(x + 4), n(x), n(x + swatch), n(x + swatch + 4), it.Color, it.Dash, it.Name})
		x += width(it)
	}
}

// plot sets the legend and the series of c drawn in f; noData when the first series has no point.
func (c *chart) plot(f frame, ss []series, noData string) chart {
	c.legend(ss, false)
	if len(slices.Concat(ss[0].runs...)) == 0 {
		c.NoData = noData
		return *c
	}
	for _, se := range ss {
		for _, run := range se.runs {
			se.Segs = append(se.Segs, newSegment(f, run))
		}
		c.Series = append(c.Series, se)
	}
	return *c
}

func newSegment(f frame, pts [][2]float64) segment {
	if len(pts) == 1 {
		return segment{CX: n(f.px(pts[0][0])), CY: n(f.py(pts[0][1]))}
	}
	out := make([]string, len(pts))
	for i, p := range pts {
		out[i] = n(f.px(p[0])) + "," + n(f.py(p[1]))
	}
	return segment{Points: strings.Join(out, " ")}
}

// niceTicks returns about count ticks covering [lo, hi] at a "nice" step (1, 2 or 5 times a power
// of ten, Heckbert's nice numbers) and the rounded-out range. A degenerate or non-finite range
// becomes [lo, lo+1].
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
		f := x / exp // in [1, 10): the step is 1, 2, 5 or 10 times exp (Heckbert)
		step = exp * [...]float64{1, 2, 5, 10}[b2i(f >= 1.5)+b2i(f >= 3)+b2i(f >= 7)]
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

// sortedBuckets is the timeline's plausible buckets, sorted by second (tl is not modified).
func sortedBuckets(tl []load.Bucket) []load.Bucket {
	out := slices.DeleteFunc(slices.Clone(tl), func(b load.Bucket) bool { return b.Second < 0 || b.Second > maxSecond })
	sort.SliceStable(out, func(i, j int) bool { return out[i].Second < out[j].Second })
	return out
}

// latencyChart draws the p50, p90 and p99 latency of each second of the run, with a gap in the
// lines at seconds without responses.
func latencyChart(tl []load.Bucket) chart {
	tl = sortedBuckets(tl)
	c := &chart{ID: "chart-latency", Title: "Latency percentiles over time",
		Desc: "p50, p90 and p99 latency from the intended send time, per second of the run, in milliseconds"}
	ss := []series{{Name: "p50", Color: "#1f77b4"}, {Name: "p90", Color: "#ff7f0e", Dash: "7 4"}, {Name: "p99", Color: "#d62728", Dash: "2 3"}}
	maxY, prev := 0.0, math.MinInt
	for _, b := range tl {
		vals := [3]float64{b.P50Ms, b.P90Ms, b.P99Ms}
		if b.Requests == 0 || !finite(vals[0]) || !finite(vals[1]) || !finite(vals[2]) {
			prev = math.MinInt
			continue
		}
		for i := range ss {
			if prev != b.Second-1 {
				ss[i].runs = append(ss[i].runs, nil)
			}
			run := &ss[i].runs[len(ss[i].runs)-1]
			*run, maxY = append(*run, [2]float64{float64(b.Second) + 0.5, vals[i]}), max(maxY, vals[i])
		}
		prev = b.Second
	}
	return c.plot(c.timeAxes(tl, maxY, "latency (ms)"), ss, "no timeline data")
}

// nines maps a percentile (0..100) to the distribution chart's x axis: -log10(1 - p/100).
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

// distributionChart draws latency (ms) against percentile on a log scale in nines (an HDR curve),
// the maximum at the right edge, whose tick then reads "max".
func distributionChart(d []load.Quantile) chart {
	c := &chart{ID: "chart-distribution", Title: "Latency distribution",
		Desc: "latency in milliseconds below which a given percentile of requests completed, percentile axis in nines"}
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
	// The x axis ends at the first whole number of nines past the data (at least 2, i.e. 99 %); the
	// maximum, if given, sits there.
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
	xTick := func(k float64) string {
		if hasMax && k == xMax {
			return "max"
		}
		return ninesLabel(k)
	}
	f := c.axes(0, xMax, xticks, xTick, maxY, "percentile (log scale)", "latency (ms)")
	return c.plot(f, []series{{Name: "latency from intended send", Color: "#1f77b4", runs: [][][2]float64{pts}}}, "no distribution data")
}

// classes are the load outcome classes of m with their colours: the known ones in stacking order,
// then any others by name in the extra colours.
func classes[V any](m map[string]V) []series {
	known := []series{{Name: "2xx", Color: "#2e7d32"}, {Name: "401", Color: "#ef6c00"}, {Name: "429", Color: "#f9a825"},
		{Name: "other_4xx", Color: "#8e24aa"}, {Name: "5xx", Color: "#c62828"},
		{Name: "transport_error", Color: "#37474f"}, {Name: "other", Color: "#1565c0"}}
	extra := []string{"#90a4ae", "#a1887f", "#4db6ac", "#f06292"}
	out := slices.DeleteFunc(slices.Clone(known), func(c series) bool { _, ok := m[c.Name]; return !ok })
	nk := len(out)
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !slices.ContainsFunc(known, func(c series) bool { return c.Name == k }) {
			out = append(out, series{Name: k, Color: extra[(len(out)-nk)%len(extra)]})
		}
	}
	return out
}

// throughputChart draws the responses per second by outcome class as stacked bars, a longer
// timeline than maxBars seconds in bins of several seconds at their mean rate.
func throughputChart(tl []load.Bucket) chart {
	tl = sortedBuckets(tl)
	c := &chart{ID: "chart-throughput", Title: "Throughput and status classes over time",
		Desc: "responses per second by outcome class, stacked, per second of the run"}
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
	shown := slices.DeleteFunc(classes(present), func(k series) bool { return present[k.Name] <= 0 })
	ylabel := "responses/s"
	if width > 1 {
		ylabel = fmt.Sprintf("responses/s (mean per %d s)", width)
	}
	f := c.timeAxes(tl, maxY, ylabel)
	c.legend(shown, true)
	if maxY == 0 {
		c.NoData = "no timeline data"
		return *c
	}
	for i, bin := range bins {
		left := float64(first + i*width)
		xa, xb := f.px(left), f.px(left+float64(width))
		gap, base := min(1, (xb-xa)/4), 0.0
		for _, k := range shown {
			if v := bin[k.Name]; v > 0 {
				ya, yb := f.py(base+v), f.py(base)
				c.Bars = append(c.Bars, bar{n(xa + gap), n(ya), n(max(xb-xa-2*gap, 0.5)), n(max(yb-ya, 0.5)), k.Color, k.Name, fmtNum(v), int(left)})
				base += v
			}
		}
	}
	return *c
}

// binned groups a sorted timeline into at most maxBars bins of each class's mean rate.
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
