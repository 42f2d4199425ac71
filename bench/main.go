package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// config is the benchmark's flags.
type config struct {
	quick      bool
	runs       int
	step       time.Duration
	capDur     time.Duration
	conns      int
	maxWorkers uint64
	fiveKDur   time.Duration
	memory     bool
	memoryOnly bool
	noValidate bool
	fiveKRuns  int
	memRate    int
	bin        string
	verbose    bool
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "child" {
		if err := child(args[1:], stdout); err != nil {
			fmt.Fprintln(stderr, "bench child:", err)
			return 1
		}
		return 0
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.BoolVar(&c.quick, "quick", false, "short version (about 2 minutes in all): -runs 3 -step 1.5s -cap-duration 1s -5k-duration 10s -5k-runs 1 -no-validate-row=false")
	fs.BoolVar(&c.noValidate, "no-validate-row", true, "also search the max rate of xoneharness with --validate-sample 0 (row 3b, a diagnostic)")
	fs.IntVar(&c.fiveKRuns, "5k-runs", 0, "runs at 5000/s (default -runs)")
	fs.IntVar(&c.runs, "runs", 5, "runs per figure; the table shows medians")
	fs.DurationVar(&c.step, "step", 3*time.Second, "length of each constant-rate step of the max-rate search")
	fs.DurationVar(&c.capDur, "cap-duration", 3*time.Second, "length of each closed-loop sandbox capacity run")
	fs.IntVar(&c.conns, "conns", 32, "closed-loop connections for the sandbox capacity")
	fs.Uint64Var(&c.maxWorkers, "max-workers", 256, "MaxWorkers of vegeta and xoneharness (the cap on concurrent requests)")
	fs.DurationVar(&c.fiveKDur, "5k-duration", 20*time.Second, "length of each 5000/s run with 100% validation")
	fs.BoolVar(&c.memory, "memory", false, "also run the 100k and 1M request memory runs (several minutes)")
	fs.BoolVar(&c.memoryOnly, "memory-only", false, "run only the memory runs (needs -mem-rate)")
	fs.IntVar(&c.memRate, "mem-rate", 0, "rate of the memory runs (default: 90% of the measured xoneharness max)")
	fs.StringVar(&c.bin, "xoneharness", "", "use this xoneharness binary instead of building one")
	fs.BoolVar(&c.verbose, "v", false, "log every step")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if c.quick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["runs"] {
			c.runs = 3
		}
		if !set["step"] {
			c.step = 1500 * time.Millisecond
		}
		if !set["cap-duration"] {
			c.capDur = time.Second
		}
		if !set["5k-runs"] {
			c.fiveKRuns = 1
		}
		if !set["no-validate-row"] {
			c.noValidate = false
		}
		if !set["5k-duration"] {
			c.fiveKDur = 10 * time.Second
		}
	}
	if c.fiveKRuns <= 0 {
		c.fiveKRuns = c.runs
	}
	if err := bench(context.Background(), c, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	return 0
}

func child(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("child: want vegeta or closed")
	}
	fs := flag.NewFlagSet("child", flag.ContinueOnError)
	var c childFlags
	c.register(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	switch args[0] {
	case "vegeta":
		return runVegeta(c, stdout)
	case "closed":
		return runClosed(c, stdout)
	}
	return fmt.Errorf("child: unknown mode %q", args[0])
}

// bencher holds what the measurements share.
type bencher struct {
	c      config
	self   string // this program, for the child processes
	bin    string // xoneharness
	root   string // module root
	tmp    string
	url    string
	token  string
	sbPID  int
	stderr io.Writer
	steps  int
}

// try is one constant-rate step.
type try struct {
	rate       int
	achieved   float64 // fraction of the requested rate
	errRate    float64
	cpuUsPerRq float64 // client CPU per request (whole process)
	sbUsPerRq  float64 // sandbox CPU per request
	validated  float64 // fraction of responses validated (xoneharness)
	requests   uint64
}

func (t try) pass() bool { return t.achieved >= 0.99 && t.errRate < 0.001 }

func bench(ctx context.Context, c config, stdout, stderr io.Writer) error {
	b := &bencher{c: c, stderr: stderr}
	var err error
	if b.self, err = os.Executable(); err != nil {
		return err
	}
	if b.tmp, err = os.MkdirTemp("", "xoneharness-bench-"); err != nil {
		return err
	}
	defer os.RemoveAll(b.tmp)
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || len(bytes.TrimSpace(out)) == 0 {
		return fmt.Errorf("find module root (run from the repository): %v", err)
	}
	b.root = filepath.Dir(string(bytes.TrimSpace(out)))
	b.bin = c.bin
	if b.bin == "" {
		b.bin = filepath.Join(b.tmp, "xoneharness")
		b.logf("building xoneharness")
		cmd := exec.Command("go", "build", "-o", b.bin, "./cmd/xoneharness")
		cmd.Dir, cmd.Stderr = b.root, stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("build xoneharness: %w", err)
		}
	}
	stop, err := b.startSandbox()
	if err != nil {
		return err
	}
	defer stop()
	if b.token, err = fetchToken(b.url); err != nil {
		return err
	}
	load0, _ := os.ReadFile("/proc/loadavg")
	began := time.Now()

	if c.memoryOnly {
		if c.memRate <= 0 {
			return errors.New("-memory-only needs -mem-rate")
		}
		for _, n := range []int{100_000, 1_000_000} {
			m, err := b.memoryRun(n, c.memRate)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "| 6 | memory, %s requests at %d/s (peak RSS) | %s MB | 1 run | < 150 MB | %s; achieved %s; `--dry-run` reading the same offers: %s MB |\n",
				count(m.requests), m.rate, f0(m.rssMB), verdict(m.rssMB < 150), pct(m.achieved), f0(m.feedMB))
		}
		return nil
	}
	var caps, capCPU, vmax, xmax, nmax, ratios, nratios, vcpu, xcpu, ncpu, xval, vsb, xsb []float64
	vStart, xStart, nStart := 0, 0, 0
	for i := range c.runs {
		cp, err := b.capacity()
		if err != nil {
			return err
		}
		caps, capCPU = append(caps, cp.achieved), append(capCPU, cp.sbUsPerRq)
		if vStart == 0 {
			vStart, xStart, nStart = int(cp.achieved*0.6), int(cp.achieved*0.4), int(cp.achieved*0.5)
		}
		v, err := b.search("vegeta", vStart, b.vegeta)
		if err != nil {
			return err
		}
		x, err := b.search("xoneharness", xStart, b.xoneharness)
		if err != nil {
			return err
		}
		var n try
		if c.noValidate {
			if n, err = b.search("xoneharness-novalidate", nStart, func(rate int, d time.Duration) (try, error) {
				return b.xoneharnessSample(rate, d, "0")
			}); err != nil {
				return err
			}
			nmax, nratios, ncpu = append(nmax, float64(n.rate)), append(nratios, float64(n.rate)/float64(max(v.rate, 1))), append(ncpu, n.cpuUsPerRq)
		}
		next := func(found try, prev int) int { // a run that found nothing keeps its start, lowered
			if found.rate == 0 {
				return max(prev/4, 100)
			}
			return found.rate
		}
		vStart, xStart, nStart = next(v, vStart), next(x, xStart), next(n, nStart)
		vmax, xmax = append(vmax, float64(v.rate)), append(xmax, float64(x.rate))
		ratios = append(ratios, float64(x.rate)/float64(max(v.rate, 1)))
		vcpu, xcpu, xval = append(vcpu, v.cpuUsPerRq), append(xcpu, x.cpuUsPerRq), append(xval, x.validated)
		vsb, xsb = append(vsb, v.sbUsPerRq), append(xsb, x.sbUsPerRq)
		b.logf("run %d/%d: sandbox %.0f/s, vegeta %d/s, xoneharness %d/s, ratio %.2f", i+1, c.runs, cp.achieved, v.rate, x.rate, ratios[i])
	}

	var fiveK []try
	for range c.fiveKRuns {
		t, err := b.xoneharness(5000, c.fiveKDur)
		if err != nil {
			return err
		}
		fiveK = append(fiveK, t)
	}

	var contractWall []float64
	for range c.runs {
		d, err := b.contract()
		if err != nil {
			return err
		}
		contractWall = append(contractWall, d.Seconds())
	}

	micro, err := b.micro()
	if err != nil {
		return err
	}

	var mem []memRun
	if c.memory {
		rate := c.memRate
		if rate == 0 {
			rate = int(median(xmax) * 0.9)
		}
		for _, n := range []int{100_000, 1_000_000} {
			m, err := b.memoryRun(n, rate)
			if err != nil {
				return err
			}
			mem = append(mem, m)
		}
	}
	load1, _ := os.ReadFile("/proc/loadavg")

	w := bufio.NewWriter(stdout)
	defer w.Flush()
	fmt.Fprintf(w, "xoneharness benchmark: %d runs (medians), steps of %s, %d CPUs (GOMAXPROCS %d), MaxWorkers %d, %s\n",
		c.runs, c.step, runtime.NumCPU(), runtime.GOMAXPROCS(0), c.maxWorkers, time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "load average before %s, after %s; %d steps in %s\n\n", strings.Fields(string(load0))[0],
		strings.Fields(string(load1))[0], b.steps, time.Since(began).Round(time.Second))
	fmt.Fprintln(w, "| # | figure | median | runs (min–max) | target | note |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	row := func(n, name, med, spread, target, note string) {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", n, name, med, spread, target, note)
	}
	row("1", "sandbox capacity, closed loop ("+strconv.Itoa(c.conns)+" conns, 200 only)", f0(median(caps))+"/s", span(caps, f0),
		"", "sandbox CPU "+f1(median(capCPU))+" µs/request")
	row("2", "bare vegeta, max clean rate", f0(median(vmax))+"/s", span(vmax, f0), "",
		"client CPU "+f1(median(vcpu))+" µs/req, sandbox "+f1(median(vsb))+" µs/req")
	row("3", "xoneharness load, all features, max clean rate", f0(median(xmax))+"/s", span(xmax, f0), "",
		"client CPU "+f1(median(xcpu))+" µs/req, sandbox "+f1(median(xsb))+" µs/req, validated "+pct(median(xval)))
	row("3/2", "ratio xoneharness / vegeta (per run)", f2(median(ratios)), span(ratios, f2), "≥ 0.90", verdict(median(ratios) >= 0.90))
	if c.noValidate {
		row("3b", "xoneharness load, validation off (--validate-sample 0), max clean rate", f0(median(nmax))+"/s", span(nmax, f0), "",
			"client CPU "+f1(median(ncpu))+" µs/req; diagnostic: what validation costs")
		row("3b/2", "ratio without validation / vegeta (per run)", f2(median(nratios)), span(nratios, f2), "", "")
	}
	for _, m := range micro {
		row("4", m.name, f1(m.nsOp/1e3)+" µs/op, "+f0(m.allocs)+" allocs/op", span(m.all, func(v float64) string { return f1(v / 1e3) }),
			m.target, m.note)
	}
	row("5", "contract suite, embedded sandbox (process wall time)", f2(median(contractWall))+" s", span(contractWall, f2), "< 1 s",
		verdict(median(contractWall) < 1))
	for _, m := range mem {
		row("6", fmt.Sprintf("memory, %s requests at %d/s (peak RSS)", count(m.requests), m.rate), f0(m.rssMB)+" MB", "1 run",
			"< 150 MB", fmt.Sprintf("%s; achieved %s; `--dry-run` reading the same offers: %s MB", verdict(m.rssMB < 150), pct(m.achieved), f0(m.feedMB)))
	}
	if len(mem) == 0 {
		row("6", "memory (run with -memory)", "—", "", "< 150 MB", "not run")
	}
	var ach, errs, val []float64
	for _, t := range fiveK {
		ach, errs, val = append(ach, t.achieved), append(errs, t.errRate), append(val, t.validated)
	}
	row("7", fmt.Sprintf("5000/s for %s, 100%% validation: achieved", c.fiveKDur), pct(median(ach)), span(ach, pct), "≥ 99%",
		fmt.Sprintf("%s; errors %s, validated %s", verdict(median(ach) >= 0.99), pct(median(errs)), pct(median(val))))
	return nil
}

func (b *bencher) logf(format string, args ...any) {
	fmt.Fprintf(b.stderr, "bench: "+format+"\n", args...)
}

// startSandbox serves the embedded sandbox in its own process on a free loopback port.
func (b *bencher) startSandbox() (func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	cmd := exec.Command(b.bin, "sandbox", "--addr", addr)
	cmd.SysProcAttr = dieWithParent()
	cmd.Stdout, cmd.Stderr = io.Discard, b.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start sandbox: %w", err)
	}
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
		}
	}
	b.url, b.sbPID = "http://"+addr, cmd.Process.Pid
	for deadline := time.Now().Add(10 * time.Second); ; {
		if conn, err := net.Dial("tcp", addr); err == nil {
			_ = conn.Close()
			return stop, nil
		}
		if time.Now().After(deadline) {
			stop()
			return nil, errors.New("sandbox did not start listening within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fetchToken gets a bearer token from the sandbox's token endpoint (demo credentials).
func fetchToken(base string) (string, error) {
	body := `{"grant_type":"client_credentials","client_id":"sandbox-client","client_secret":"sandbox-secret"}`
	resp, err := http.Post(base+"/api/oauth/token", "application/json", strings.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("token: status %d: %v", resp.StatusCode, err)
	}
	return tok.AccessToken, nil
}

// sandboxCPU is the sandbox process's CPU time so far.
func (b *bencher) sandboxCPU() time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", b.sbPID))
	if err != nil {
		return 0
	}
	s := string(raw)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+2:]
	}
	f := strings.Fields(s) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

// childJSON runs this program as a child and decodes its result line.
func (b *bencher) childJSON(args ...string) (childResult, time.Duration, error) {
	cmd := exec.Command(b.self, append([]string{"child"}, args...)...)
	cmd.SysProcAttr = dieWithParent()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, b.stderr
	if err := cmd.Run(); err != nil {
		return childResult{}, 0, fmt.Errorf("child %s: %w", args[0], err)
	}
	var r childResult
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		return r, 0, fmt.Errorf("child %s: %w", args[0], err)
	}
	return r, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), nil
}

func (b *bencher) capacity() (try, error) {
	sb0 := b.sandboxCPU()
	r, cpu, err := b.childJSON("closed", "-url", b.url, "-token", b.token, "-duration", b.c.capDur.String(),
		"-conns", strconv.Itoa(b.c.conns))
	if err != nil {
		return try{}, err
	}
	b.steps++
	t := try{achieved: r.RatePerS, requests: r.Requests, errRate: frac(r.Errors, r.Requests),
		cpuUsPerRq: perReq(cpu, r.Requests), sbUsPerRq: perReq(b.sandboxCPU()-sb0, r.Requests)}
	if b.c.verbose {
		b.logf("capacity %.0f/s (errors %d, sandbox %.1f µs/req, client %.1f µs/req)", t.achieved, r.Errors, t.sbUsPerRq, t.cpuUsPerRq)
	}
	return t, nil
}

func (b *bencher) vegeta(rate int, d time.Duration) (try, error) {
	sb0 := b.sandboxCPU()
	r, cpu, err := b.childJSON("vegeta", "-url", b.url, "-token", b.token, "-rate", strconv.Itoa(rate),
		"-duration", d.String(), "-max-workers", strconv.FormatUint(b.c.maxWorkers, 10))
	if err != nil {
		return try{}, err
	}
	return try{rate: rate, achieved: r.Achieved, errRate: frac(r.Errors, r.Requests), requests: r.Requests,
		cpuUsPerRq: perReq(cpu, r.Requests), sbUsPerRq: perReq(b.sandboxCPU()-sb0, r.Requests)}, nil
}

// xoneharness runs `xoneharness load` with every feature on against the sandbox process.
func (b *bencher) xoneharness(rate int, d time.Duration) (try, error) {
	return b.xoneharnessSample(rate, d, "1")
}

// xoneharnessSample is xoneharness with --validate-sample sample.
func (b *bencher) xoneharnessSample(rate int, d time.Duration, sample string) (try, error) {
	dir, err := os.MkdirTemp(b.tmp, "load-")
	if err != nil {
		return try{}, err
	}
	defer os.RemoveAll(dir)
	offers := filepath.Join(dir, "offers.csv")
	if err := writeOffers(offers, int(float64(rate)*d.Seconds()*1.05)+100); err != nil {
		return try{}, err
	}
	sb0 := b.sandboxCPU()
	cmd := exec.Command(b.bin, append(b.loadArgs(rate, d, 0, offers, filepath.Join(dir, "report")), "--validate-sample", sample)...)
	cmd.SysProcAttr = dieWithParent()
	cmd.Env = append(os.Environ(), "XONE_CLIENT_SECRET=sandbox-secret")
	var errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &errOut
	if err := cmd.Run(); err != nil && !resultExit(cmd.ProcessState.ExitCode()) {
		return try{}, fmt.Errorf("xoneharness load: %w: %s", err, errOut.String())
	}
	s, err := readSummary(filepath.Join(dir, "report", "summary.json"))
	if err != nil {
		return try{}, err
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	planned := float64(rate) * d.Seconds()
	return try{rate: rate, achieved: min(s.RateAchieved/float64(rate), float64(s.Requests)/planned), errRate: s.ErrorRate,
		requests: s.Requests, cpuUsPerRq: perReq(cpu, s.Requests), sbUsPerRq: perReq(b.sandboxCPU()-sb0, s.Requests),
		validated: frac(s.Schema.Validated, s.Requests)}, nil
}

func (b *bencher) loadArgs(rate int, d time.Duration, maxReq int, offers, report string) []string {
	args := []string{"load", "--base-url", b.url, "--client-id", "sandbox-client", "--partner-id", "SANDBOX-PARTNER",
		"--rate", strconv.Itoa(rate) + "/s", "--duration", d.String(), "--max-workers", strconv.FormatUint(b.c.maxWorkers, 10),
		"--offers", offers, "--idempotency-header", "Idempotency-Key", "--validate-sample", "1",
		"--report-dir", report, "--format", "json", "--quiet", "--no-default-thresholds"}
	if maxReq > 0 {
		args = append(args, "--max-requests", strconv.Itoa(maxReq))
	}
	return args
}

type summary struct {
	Requests     uint64  `json:"requests"`
	RateAchieved float64 `json:"rate_achieved"`
	ErrorRate    float64 `json:"error_rate"`
	Schema       struct {
		Validated uint64 `json:"validated"`
		Skipped   uint64 `json:"skipped"`
	} `json:"schema"`
}

func readSummary(name string) (summary, error) {
	raw, err := os.ReadFile(name)
	if err != nil {
		return summary{}, fmt.Errorf("summary: %w", err)
	}
	var s struct {
		Load summary `json:"load"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return summary{}, fmt.Errorf("summary: %w", err)
	}
	return s.Load, nil
}

// writeOffers writes n fresh offer_id,quote_id rows: a confirmed offer is never sent twice.
func writeOffers(name string, n int) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 256<<10)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	line := make([]byte, 0, 80)
	for range n {
		line = appendUUID(line[:0], rng)
		line = append(line, ',')
		line = append(appendUUID(line, rng), '\n')
		_, _ = w.Write(line)
	}
	return errors.Join(w.Flush(), f.Close())
}

// search finds the highest rate that passes (≥ 99% achieved, < 0.1% errors), starting from
// start: up by 20% or down by 33% until the verdict flips, then two geometric bisections.
func (b *bencher) search(name string, start int, step func(int, time.Duration) (try, error)) (try, error) {
	const up, down, maxSteps = 1.2, 1.5, 8
	probe := func(rate int) (try, error) {
		t, err := step(rate, b.c.step)
		b.steps++
		if err == nil && b.c.verbose {
			b.logf("%s %d/s: achieved %s, errors %s, client %.1f µs/req, sandbox %.1f µs/req, validated %s, pass %v",
				name, rate, pct(t.achieved), pct(t.errRate), t.cpuUsPerRq, t.sbUsPerRq, pct(t.validated), t.pass())
		}
		return t, err
	}
	rate := max(start, 100)
	t, err := probe(rate)
	if err != nil {
		return t, err
	}
	var lo try // highest pass
	hi := 0    // lowest fail
	if t.pass() {
		lo = t
		for n := 1; n < maxSteps-2 && hi == 0; n++ {
			r := int(float64(lo.rate) * up)
			if t, err = probe(r); err != nil {
				return t, err
			}
			if t.pass() {
				lo = t
			} else {
				hi = r
			}
		}
	} else {
		hi = rate
		for n := 1; n < maxSteps-2 && lo.rate == 0; n++ {
			r := int(float64(hi) / down)
			if r < 50 {
				return try{rate: 0}, nil
			}
			if t, err = probe(r); err != nil {
				return t, err
			}
			if t.pass() {
				lo = t
			} else {
				hi = r
			}
		}
	}
	for range 2 {
		if lo.rate == 0 || hi == 0 {
			break
		}
		mid := int(math.Sqrt(float64(lo.rate) * float64(hi)))
		if mid <= lo.rate || mid >= hi {
			break
		}
		if t, err = probe(mid); err != nil {
			return t, err
		}
		if t.pass() {
			lo = t
		} else {
			hi = mid
		}
	}
	return lo, nil
}

// contract times `xoneharness contract` against its embedded sandbox.
func (b *bencher) contract() (time.Duration, error) {
	dir, err := os.MkdirTemp(b.tmp, "contract-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	cmd := exec.Command(b.bin, "contract", "--report-dir", dir, "--format", "json")
	var errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &errOut
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("xoneharness contract: %w: %s", err, errOut.String())
	}
	return time.Since(start), nil
}

// microResult is one go test benchmark, over -count runs.
type microResult struct {
	name, target, note string
	nsOp, allocs       float64
	all                []float64
}

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(?:\s+[\d.]+ MB/s)?(?:\s+(\d+) B/op\s+(\d+) allocs/op)?`)

// micro runs the validation and consumer micro-benchmarks.
func (b *bencher) micro() ([]microResult, error) {
	type spec struct {
		pkg, pattern string
	}
	var out []microResult
	for _, s := range []spec{
		{"./spec/", "^BenchmarkValidateResponse(200|401|200Validator)$"},
		{"./load/", "^Benchmark(Process|Targeter|BookingID)$"},
	} {
		b.logf("go test -bench %s %s", s.pattern, s.pkg)
		cmd := exec.Command("go", "test", "-run", "^$", "-bench", s.pattern, "-benchtime", "2000x",
			"-count", strconv.Itoa(b.c.runs), s.pkg)
		cmd.Dir, cmd.Stderr = b.root, b.stderr
		raw, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("go test -bench %s: %w", s.pkg, err)
		}
		byName := map[string]*microResult{}
		var order []string
		for _, line := range strings.Split(string(raw), "\n") {
			m := benchLine.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			r := byName[m[1]]
			if r == nil {
				r = &microResult{name: m[1]}
				byName[m[1]] = r
				order = append(order, m[1])
			}
			ns, _ := strconv.ParseFloat(m[2], 64)
			r.all = append(r.all, ns)
			r.allocs, _ = strconv.ParseFloat(m[4], 64)
		}
		for _, name := range order {
			r := byName[name]
			r.nsOp = median(r.all)
			switch name {
			case "BenchmarkValidateResponse200":
				r.name, r.target = "spec validation, 200 (2.4 KB body)", "≤ 40 µs"
				r.note = verdict(r.nsOp <= 40e3)
			case "BenchmarkValidateResponse401":
				r.name, r.target = "spec validation, 401 (Cloudflare headers)", "≤ 40 µs"
				r.note = verdict(r.nsOp <= 40e3)
			case "BenchmarkValidateResponse200Validator":
				r.name, r.note = "spec validation, 200, libopenapi-validator alone", "before: the path every response took"
			case "BenchmarkProcess":
				r.name, r.note = "load consumer per result (stats, results.bin, bookings.csv)", "targeter included"
			case "BenchmarkBookingID/scanner":
				r.name, r.note = "load booking id from a 200 body, scanner", "per 2xx result, consumer goroutine"
			case "BenchmarkBookingID/encoding-json":
				r.name, r.note = "load booking id from a 200 body, encoding/json", "before"
			case "BenchmarkTargeter":
				r.name, r.note = "load targeter per request", "generated feed, idempotency key"
			}
			out = append(out, *r)
		}
	}
	return out, nil
}

type memRun struct {
	requests uint64
	rate     int
	rssMB    float64
	feedMB   float64
	achieved float64
}

// memoryRun runs n requests under /usr/bin/time -v and reads the peak RSS; feedMB is the peak
// RSS of a dry run that only reads the same offers file (the feed's own share).
func (b *bencher) memoryRun(n, rate int) (memRun, error) {
	dir, err := os.MkdirTemp(b.tmp, "mem-")
	if err != nil {
		return memRun{}, err
	}
	defer os.RemoveAll(dir)
	offers := filepath.Join(dir, "offers.csv")
	if err := writeOffers(offers, n); err != nil {
		return memRun{}, err
	}
	d := time.Duration(float64(n)/float64(rate)*1.5*float64(time.Second)) + 10*time.Second
	b.logf("memory: %d requests at %d/s", n, rate)
	rss, err := b.timed(b.loadArgs(rate, d, n, offers, filepath.Join(dir, "report"))...)
	if err != nil {
		return memRun{}, err
	}
	s, err := readSummary(filepath.Join(dir, "report", "summary.json"))
	if err != nil {
		return memRun{}, err
	}
	feed, err := b.timed("load", "--dry-run", "--base-url", b.url, "--client-id", "sandbox-client", "--partner-id",
		"SANDBOX-PARTNER", "--rate", strconv.Itoa(rate)+"/s", "--duration", d.String(), "--offers", offers)
	if err != nil {
		return memRun{}, err
	}
	return memRun{requests: s.Requests, rate: rate, rssMB: rss, feedMB: feed, achieved: s.RateAchieved / float64(rate)}, nil
}

var maxRSS = regexp.MustCompile(`Maximum resident set size \(kbytes\): (\d+)`)

// timed runs xoneharness under /usr/bin/time -v and returns its peak RSS in MB.
func (b *bencher) timed(args ...string) (float64, error) {
	cmd := exec.Command("/usr/bin/time", append([]string{"-v", b.bin}, args...)...)
	cmd.SysProcAttr = dieWithParent()
	cmd.Env = append(os.Environ(), "XONE_CLIENT_SECRET=sandbox-secret")
	var errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &errOut
	if err := cmd.Run(); err != nil && !resultExit(cmd.ProcessState.ExitCode()) {
		return 0, fmt.Errorf("/usr/bin/time -v xoneharness %s: %w: %s", args[0], err, errOut.String())
	}
	m := maxRSS.FindStringSubmatch(errOut.String())
	if m == nil {
		return 0, errors.New("/usr/bin/time printed no maximum resident set size (apt-get install time)")
	}
	kb, _ := strconv.ParseFloat(m[1], 64)
	return kb / 1024, nil
}

// dieWithParent makes a child process get SIGKILL when this program dies (Linux), so an
// interrupted benchmark leaves no sandbox or load process behind.
func dieWithParent() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func span(v []float64, f func(float64) string) string {
	if len(v) == 0 {
		return ""
	}
	return f(slices.Min(v)) + "–" + f(slices.Max(v))
}

func frac(n, of uint64) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

func perReq(d time.Duration, n uint64) float64 {
	if n == 0 {
		return 0
	}
	return float64(d.Microseconds()) / float64(n)
}

func f0(v float64) string  { return strconv.FormatFloat(v, 'f', 0, 64) }
func f1(v float64) string  { return strconv.FormatFloat(v, 'f', 1, 64) }
func f2(v float64) string  { return strconv.FormatFloat(v, 'f', 2, 64) }
func pct(v float64) string { return strconv.FormatFloat(100*v, 'f', 1, 64) + "%" }

func count(n uint64) string {
	if n >= 1_000_000 && n%1_000_000 == 0 {
		return strconv.FormatUint(n/1_000_000, 10) + "M"
	}
	if n >= 1000 && n%1000 == 0 {
		return strconv.FormatUint(n/1000, 10) + "k"
	}
	return strconv.FormatUint(n, 10)
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

// resultExit reports whether a load run's exit code still comes with a
// result to read: 1 (findings) and 4 (incomplete, e.g. a run that could not
// keep the rate) write their summary like 0 does.
func resultExit(code int) bool { return code == 1 || code == 4 }
