package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xoneharness/xoneharness/internal/sandbox"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// config is the benchmark's flags.
type config struct {
	runs        int
	step, fixed time.Duration
	memory      bool
	bin         string
}

// Fixed settings of the measurements.
const (
	firstRate  = 4000  // where the first run's vegeta search starts; later runs start at the previous result
	maxWorkers = "256" // MaxWorkers of vegeta and xoneharness: the cap on concurrent requests
)

// run runs the benchmark, or this program's vegeta or spin mode (child processes of the benchmark).
func run(args []string, stdout, stderr io.Writer) int {
	mode := ""
	if len(args) > 0 {
		mode = args[0]
	}
	var err error
	switch mode {
	case "spin":
		spin()
	case "vegeta":
		err = vegetaChild(args[1:], stdout)
	default:
		var c config
		quick := slices.Contains(args, "-quick") || slices.Contains(args, "--quick")
		fs := flag.NewFlagSet("bench", flag.ContinueOnError)
		fs.SetOutput(stderr)
		fs.Bool("quick", false, "short version, about 2 minutes: -runs 3 -step 1.5s -fixed 5s")
		fs.IntVar(&c.runs, "runs", cond(quick, 3, 5), "runs per figure; the table shows medians")
		fs.DurationVar(&c.step, "step", cond(quick, 1500*time.Millisecond, 3*time.Second), "length of each step of the max-rate searches")
		fs.DurationVar(&c.fixed, "fixed", cond(quick, 5*time.Second, 20*time.Second), "length of each 2000/s run")
		fs.BoolVar(&c.memory, "memory", false, "also measure the peak RSS of 200/s for 60 s and for 10 s (70 s more per run)")
		fs.StringVar(&c.bin, "xoneharness", "", "use this xoneharness binary instead of building one")
		if fs.Parse(args) != nil {
			return 2
		}
		err = bench(c, stdout, stderr)
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	return 0
}

// bencher holds what the measurements share.
type bencher struct {
	config
	self, bin, tmp string
	secret         string         // file holding the sandbox's client secret
	url            string         // this run's sandbox
	log            io.Writer      // progress
	next           map[string]int // where each search starts: the previous run's result
	steps          int
}

// bench measures the micro-benchmarks, then every other figure run after run, and prints the table.
func bench(c config, stdout, stderr io.Writer) error {
	b := &bencher{config: c, log: stderr, next: map[string]int{}}
	defer func() { _ = os.RemoveAll(b.tmp) }()
	if err := b.setup(); err != nil {
		return err
	}
	load0, began, f := loadavg(), time.Now(), figures{}
	if err := b.micro(f); err != nil {
		return err
	}
	for i := range c.runs {
		b.logf("run %d/%d", i+1, c.runs)
		if err := b.runOnce(f); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "xoneharness benchmark: %d runs (medians), steps of %s, 2000/s for %s, %d CPUs, MaxWorkers %s, %s\n",
		c.runs, c.step, c.fixed, runtime.NumCPU(), maxWorkers, time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(stdout, "load average before %s, after %s; %d search steps in %s\n\n", load0, loadavg(), b.steps,
		time.Since(began).Round(time.Second))
	b.table(stdout, f)
	return nil
}

// setup builds xoneharness (unless given) and writes the sandbox's client secret to a file.
func (b *bencher) setup() error {
	var err error
	if b.self, err = os.Executable(); err != nil {
		return err
	}
	if b.tmp, err = os.MkdirTemp("", "xoneharness-bench-"); err != nil {
		return err
	}
	b.secret = filepath.Join(b.tmp, "secret")
	if err := os.WriteFile(b.secret, []byte(sandbox.ClientSecret), 0o600); err != nil {
		return err
	}
	if b.bin = b.config.bin; b.bin == "" {
		b.bin = filepath.Join(b.tmp, "xoneharness")
		b.logf("go build ./cmd/xoneharness")
		_, err = b.goCmd("build", "-o", b.bin, "./cmd/xoneharness")
	}
	return err
}

// runOnce measures one run's figures side by side against a fresh sandbox process.
func (b *bencher) runOnce(f figures) error {
	stop, err := b.startSandbox()
	if err != nil {
		return err
	}
	defer stop()
	v, err := b.maxRate("vegeta", firstRate, b.vegeta)
	if err != nil {
		return err
	}
	x, err := b.maxRate("xoneharness", v.rate, b.load)
	if err != nil {
		return err
	}
	u, err := b.maxRate("unvalidated", v.rate, b.unvalidated)
	if err != nil {
		return err
	}
	f.add(map[string]float64{"vegeta": float64(v.rate), "vegeta.cpu": v.cpuUs, "load": float64(x.rate), "load.cpu": x.cpuUs,
		"load.validated": x.validated, "ratio": float64(x.rate) / float64(max(v.rate, 1)),
		"unvalidated": float64(u.rate), "unvalidated.cpu": u.cpuUs, "unvalidated.ratio": float64(u.rate) / float64(max(v.rate, 1))})
	for _, busy := range []int{0, 2} {
		t, err := b.fixedRate(busy)
		if err != nil {
			return err
		}
		key := "busy" + strconv.Itoa(busy)
		f.add(map[string]float64{key + ".achieved": t.achieved, key + ".validated": t.validated, key + ".errors": t.errRate})
	}
	if b.memory {
		long, err := b.load(200, time.Minute)
		if err != nil {
			return err
		}
		short, err := b.load(200, 10*time.Second)
		if err != nil {
			return err
		}
		f.add(map[string]float64{"rss60": long.rssMB, "rss10": short.rssMB, "rss.ratio": long.rssMB / short.rssMB})
	}
	d, err := b.contract()
	if err != nil {
		return err
	}
	f.add(map[string]float64{"contract": d})
	return nil
}

// figures holds each figure's samples (one per run) by key.
type figures map[string][]float64

// add appends one sample to each figure of m.
func (f figures) add(m map[string]float64) {
	for k, v := range m {
		f[k] = append(f[k], v)
	}
}

// table prints the figures as Markdown; a figure without samples has no row.
func (b *bencher) table(w io.Writer, f figures) {
	fmt.Fprintln(w, "| # | figure | median | runs (min–max) | target | note |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	row := func(n, name, key string, num func(float64) string, unit, target string, ok func(float64) bool, note string) {
		v := f[key]
		if len(v) == 0 {
			return
		}
		if ok != nil {
			note = strings.TrimSuffix(cond(ok(median(v)), "met", "**missed**")+"; "+note, "; ")
		}
		fmt.Fprintf(w, "| %s | %s | %s%s | %s–%s | %s | %s |\n", n, name, num(median(v)), unit, num(slices.Min(v)), num(slices.Max(v)), target, note)
	}
	atLeast := func(t float64) func(float64) bool { return func(v float64) bool { return v >= t } }
	row("1", "bare vegeta, max clean rate", "vegeta", f0, "/s", "", nil, "client CPU "+f1(median(f["vegeta.cpu"]))+" µs/request")
	row("2", "xoneharness load, every feature on, max clean rate", "load", f0, "/s", "", nil, "client CPU "+f1(median(f["load.cpu"]))+" µs/request")
	row("2", "xoneharness load: responses validated at that rate", "load.validated", pct, "", "", nil, "")
	row("2/1", "ratio xoneharness / vegeta (per run)", "ratio", f2, "", "≥ 0.90", atLeast(0.9), "")
	row("2b", "xoneharness load as row 2 with --validate-sample 0, max clean rate", "unvalidated", f0, "/s", "", nil,
		"client CPU "+f1(median(f["unvalidated.cpu"]))+" µs/request")
	row("2b/1", "ratio without validation / vegeta (per run)", "unvalidated.ratio", f2, "", "", nil, "")
	fixed := func(n, key, name string) {
		name = "2000/s for " + b.fixed.String() + ", " + name
		row(n, name+": achieved", key+".achieved", pct, "", "≥ 99%", atLeast(0.99), "errors "+pct(median(f[key+".errors"])))
		row(n, name+": validated", key+".validated", pct, "", "100%", atLeast(1), "")
	}
	fixed("3", "busy0", "quiet")
	fixed("4", "busy2", "two CPU-bound processes beside it")
	row("5", "peak RSS, 200/s for 60 s", "rss60", f1, " MiB", "", nil, "")
	row("5", "peak RSS, 200/s for 10 s", "rss10", f1, " MiB", "", nil, "")
	row("5", "ratio 60 s / 10 s (per run)", "rss.ratio", f2, "", "0.90–1.10", func(v float64) bool { return v > 0.9 && v < 1.1 }, "")
	row("6", "contract suite, embedded sandbox (process wall time)", "contract", f2, " s", "< 1 s", func(v float64) bool { return v < 1 }, "")
	for _, m := range micros {
		row("7", m.label, "µ"+m.name, func(v float64) string { return f1(v / 1e3) }, " µs/op", "", nil,
			f0(median(f["µ"+m.name+".allocs"]))+" allocs/op")
	}
}

func (b *bencher) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "bench: "+format+"\n", args...)
}

// goCmd runs the go command (in the working directory: the repository root) and returns its stdout.
func (b *bencher) goCmd(args ...string) ([]byte, error) {
	cmd := exec.Command("go", args...)
	cmd.Stderr = b.log
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s: %w", args[0], err)
	}
	return out, nil
}

func loadavg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(raw)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(v))
	return (s[(len(s)-1)/2] + s[len(s)/2]) / 2
}

func cond[T any](c bool, yes, no T) T {
	if c {
		return yes
	}
	return no
}

func frac(n, of uint64) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

func f0(v float64) string  { return strconv.FormatFloat(v, 'f', 0, 64) }
func f1(v float64) string  { return strconv.FormatFloat(v, 'f', 1, 64) }
func f2(v float64) string  { return strconv.FormatFloat(v, 'f', 2, 64) }
func pct(v float64) string { return strconv.FormatFloat(100*v, 'f', 1, 64) + "%" }
