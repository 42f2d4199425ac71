package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/xoneharness/xoneharness/internal/sandbox"
	"github.com/xoneharness/xoneharness/internal/xone"
)

// step is one constant-rate run of a load generator.
type step struct {
	rate      int
	achieved  float64 // fraction of the requested rate: the lower of send rate ÷ rate and requests ÷ planned
	errRate   float64 // fraction of requests not answered 2xx
	validated float64 // fraction of requests validated (xoneharness)
	cpuUs     float64 // the process's CPU per request, µs, start-up included
	rssMB     float64 // the process's peak RSS, MiB
}

// pass reports whether the step is clean: at least 99% of the rate achieved, under 0.1% errors.
func (t step) pass() bool { return t.achieved >= 0.99 && t.errRate < 0.001 }

// measured fills the figures a finished process gives.
func (t step) measured(ps *os.ProcessState, requests uint64) step {
	if requests > 0 {
		t.cpuUs = float64((ps.UserTime() + ps.SystemTime()).Microseconds()) / float64(requests)
	}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		t.rssMB = float64(ru.Maxrss) / 1024 // KiB on Linux
	}
	return t
}

// maxRate finds the highest clean rate of probe: from the previous run's result (else start) it
// steps ×1.5 up or down until the verdict flips, then bisects geometrically until the bounds are
// within 6% of each other; at most 10 steps.
func (b *bencher) maxRate(name string, start int, probe func(int, time.Duration) (step, error)) (step, error) {
	var lo step // the highest pass
	hi := 0     // the lowest failing rate
	rate := max(cond(b.next[name] > 0, b.next[name], start), 100)
	for range 10 {
		t, err := probe(rate, b.step)
		if err != nil {
			return t, err
		}
		b.steps++
		b.logf("%s %d/s: achieved %s, errors %s, validated %s, client %s µs/request, pass %v",
			name, rate, pct(t.achieved), pct(t.errRate), pct(t.validated), f1(t.cpuUs), t.pass())
		if t.pass() {
			lo = t
		} else {
			hi = rate
		}
		switch {
		case hi == 0:
			rate = rate * 3 / 2
		case lo.rate == 0:
			rate = rate * 2 / 3
		case float64(hi)/float64(lo.rate) < 1.06:
			rate = 0
		default:
			rate = int(math.Sqrt(float64(lo.rate) * float64(hi)))
		}
		if rate < 50 {
			break
		}
	}
	b.next[name] = cond(lo.rate > 0, lo.rate, max(start/4, 100))
	return lo, nil
}

// vegeta runs bare vegeta (this program's vegeta mode) at rate for d.
func (b *bencher) vegeta(rate int, d time.Duration) (step, error) {
	out, ps, err := b.child(b.self, "vegeta", "-url", b.url, "-rate", strconv.Itoa(rate), "-duration", d.String(),
		"-max-workers", maxWorkers)
	if err != nil {
		return step{}, err
	}
	var r vegetaResult
	if err := json.Unmarshal(out, &r); err != nil {
		return step{}, fmt.Errorf("vegeta: %w", err)
	}
	return step{rate: rate, achieved: r.Achieved, errRate: frac(r.Errors, r.Requests)}.measured(ps, r.Requests), nil
}

// load runs `xoneharness load` with every feature on at rate for d: a fresh offers file, the
// token source, an idempotency header, 100% validation, evidence, results.bin and the journal
// with its claims, under a reports root of its own.
func (b *bencher) load(rate int, d time.Duration) (step, error) { return b.loadSampled(rate, d, "1") }

// unvalidated is load with --validate-sample 0: the harness's own cost beside vegeta's.
func (b *bencher) unvalidated(rate int, d time.Duration) (step, error) {
	return b.loadSampled(rate, d, "0")
}

// loadSampled is load validating the fraction sample of the responses.
func (b *bencher) loadSampled(rate int, d time.Duration, sample string) (step, error) {
	dir, err := os.MkdirTemp(b.tmp, "load-")
	if err != nil {
		return step{}, err
	}
	defer os.RemoveAll(dir)
	offers, report := filepath.Join(dir, "offers.csv"), filepath.Join(dir, "report")
	planned := float64(rate) * d.Seconds()
	if err := writeOffers(offers, int(planned*1.05)+100); err != nil {
		return step{}, err
	}
	_, ps, err := b.child(b.bin, "load", "--base-url", b.url, "--client-id", sandbox.ClientID,
		"--client-secret-file", b.secret, "--partner-id", sandbox.PartnerID, "--rate", strconv.Itoa(rate)+"/s",
		"--duration", d.String(), "--max-workers", maxWorkers, "--offers", offers,
		"--idempotency-header", "Idempotency-Key", "--validate-sample", sample, "--evidence", "20",
		"--report-dir", report, "--format", "json", "--quiet")
	if err != nil {
		return step{}, err
	}
	var s struct {
		Load struct {
			Requests     uint64
			RateAchieved float64 `json:"rate_achieved"`
			ErrorRate    float64 `json:"error_rate"`
			Schema       struct {
				Validated uint64
			}
		}
	}
	raw, err := os.ReadFile(filepath.Join(report, "summary.json"))
	if err == nil {
		err = json.Unmarshal(raw, &s)
	}
	if err != nil {
		return step{}, fmt.Errorf("summary: %w", err)
	}
	l := s.Load
	return step{rate: rate, achieved: min(l.RateAchieved/float64(rate), float64(l.Requests)/planned), errRate: l.ErrorRate,
		validated: frac(l.Schema.Validated, l.Requests)}.measured(ps, l.Requests), nil
}

// fixedRate runs xoneharness at 2000/s for b.fixed with busy CPU-bound processes beside it.
func (b *bencher) fixedRate(busy int) (step, error) {
	for i := 0; i < busy; i++ {
		c := command(nil, b.log, b.self, "spin")
		if err := c.Start(); err != nil {
			return step{}, fmt.Errorf("start a busy process: %w", err)
		}
		defer kill(c)
	}
	t, err := b.load(2000, b.fixed)
	b.logf("2000/s with %d busy processes: achieved %s, validated %s, errors %s", busy, pct(t.achieved),
		pct(t.validated), pct(t.errRate))
	return t, err
}

// contract times the `xoneharness contract` process against its embedded sandbox, in seconds.
func (b *bencher) contract() (float64, error) {
	dir, err := os.MkdirTemp(b.tmp, "contract-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	began := time.Now()
	_, _, err = b.child(b.bin, "contract", "--report-dir", filepath.Join(dir, "report"), "--format", "json")
	return time.Since(began).Seconds(), err
}

// micros are the micro-benchmarks in the table: name (without "Benchmark") and label.
var micros = []struct{ name, label string }{
	{"ValidateResponse200", "spec validation of a 200 (2.4 KB body, libopenapi-validator)"},
	{"ValidateResponse401", "spec validation of a 401 (Cloudflare headers)"},
	{"Process", "load engine per request besides HTTP: targeter (offer, journal row, token, body), collector"},
}

// micro runs the micro-benchmarks, -runs counts of 2000 iterations each, and adds "µNAME" (ns/op)
// and "µNAME.allocs" samples.
func (b *bencher) micro(f figures) error {
	names := make([]string, len(micros))
	for i, m := range micros {
		names[i] = m.name
	}
	b.logf("go test -bench ./spec/ ./load/")
	out, err := b.goCmd("test", "-run", "^$", "-bench", "^Benchmark("+strings.Join(names, "|")+")$", "-benchmem",
		"-benchtime", "2000x", "-count", strconv.Itoa(b.runs), "./spec/", "./load/")
	if err != nil {
		return err
	}
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		name := strings.TrimPrefix(fields[0], "Benchmark")
		if i := strings.LastIndexByte(name, '-'); i > 0 { // the GOMAXPROCS suffix
			name = name[:i]
		}
		for i := 1; i < len(fields); i++ {
			v, _ := strconv.ParseFloat(fields[i-1], 64)
			switch fields[i] {
			case "ns/op":
				f.add(map[string]float64{"µ" + name: v})
			case "allocs/op":
				f.add(map[string]float64{"µ" + name + ".allocs": v})
			}
		}
	}
	return nil
}

// startSandbox serves the embedded sandbox in its own process on a free loopback port (b.url).
func (b *bencher) startSandbox() (stop func(), err error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := command(w, b.log, b.bin, "sandbox", "--addr", "127.0.0.1:0")
	err = cmd.Start()
	_ = w.Close()
	if err != nil {
		_ = r.Close()
		return nil, fmt.Errorf("start sandbox: %w", err)
	}
	br := bufio.NewReader(r)
	line, _ := br.ReadString('\n') // "XONE sandbox listening on http://127.0.0.1:PORT"
	go func() {                    // the rest of its output, until it ends
		_, _ = io.Copy(io.Discard, br)
		_ = r.Close()
	}()
	_, url, ok := strings.Cut(strings.TrimSpace(line), " listening on ")
	if !ok {
		kill(cmd)
		return nil, fmt.Errorf("start sandbox: got %q, want the address it listens on", line)
	}
	b.url = url
	return func() { kill(cmd) }, nil
}

// command is a child process that gets SIGKILL should this program die (Linux): an interrupted
// benchmark leaves no sandbox, load or busy process behind.
func command(stdout, stderr io.Writer, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}

// kill ends a child process this program started, and reaps it.
func kill(cmd *exec.Cmd) {
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}

// child runs a process to its end and returns its stdout. The exit codes 1 (findings) and 4
// (incomplete) of xoneharness still come with a report to read.
func (b *bencher) child(name string, args ...string) ([]byte, *os.ProcessState, error) {
	var out, errOut bytes.Buffer
	cmd := command(&out, &errOut, name, args...)
	err := cmd.Run()
	if code := cmd.ProcessState.ExitCode(); err != nil && (name != b.bin || code != 1 && code != 4) {
		return nil, nil, fmt.Errorf("%s %s: %w: %s", filepath.Base(name), args[0], err, errOut.String())
	}
	return out.Bytes(), cmd.ProcessState, nil
}

// writeOffers writes n fresh offer_id,quote_id rows: a confirmed offer is never sent twice.
func writeOffers(name string, n int) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 256<<10)
	for range n {
		_, _ = w.WriteString(xone.NewUUID() + "," + xone.NewUUID() + "\n")
	}
	return errors.Join(w.Flush(), f.Close())
}
