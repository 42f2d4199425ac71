package deploy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/xoneharness/xoneharness/ledger"
	"github.com/xoneharness/xoneharness/load"
)

// The demo: total rate and duration of every run, and the sandbox's fixed
// confirm latency. The latency gives every run the same floor (p50 cannot be
// below it) so that runs can be compared on this noisy machine.
const (
	demoRate       = "150/s"
	demoRequests   = 300 // demoRate for demoDuration
	demoDuration   = "2s"
	demoLatency    = 10 * time.Millisecond
	offersPerRun   = 450 // 1.5x the requests: no shard runs out of offers
	sandboxClient  = "sandbox-client"
	sandboxSecret  = "sandbox-secret"
	sandboxPartner = "SANDBOX-PARTNER"
)

// sandboxProc is a standalone `xoneharness sandbox` process.
type sandboxProc struct {
	cmd  *exec.Cmd
	url  string
	mu   sync.Mutex
	out  bytes.Buffer // stdout after the listening line
	done chan struct{}
}

// startSandbox starts the sandbox on a free loopback port and waits for its
// listening line. The test's cleanup interrupts it if stop was not called.
func startSandbox(t *testing.T, args ...string) *sandboxProc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cmd := exec.CommandContext(ctx, harnessPath(t), append([]string{"sandbox", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = []string{}
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	sb := &sandboxProc{cmd: cmd, done: make(chan struct{})}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-sb.done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
		cancel()
	})
	lines := bufio.NewScanner(stdout)
	listening := regexp.MustCompile(`listening on (http://127\.0\.0\.1:[0-9]+)`)
	urlc := make(chan string, 1)
	go func() {
		defer close(sb.done)
		found := false
		for lines.Scan() {
			if m := listening.FindStringSubmatch(lines.Text()); m != nil && !found {
				found = true
				urlc <- m[1]
				continue
			}
			sb.mu.Lock()
			sb.out.WriteString(lines.Text() + "\n")
			sb.mu.Unlock()
		}
		_ = cmd.Wait()
	}()
	select {
	case sb.url = <-urlc:
	case <-sb.done:
		t.Fatal("sandbox exited before listening")
	case <-time.After(30 * time.Second):
		t.Fatal("sandbox: no listening line within 30s")
	}
	return sb
}

// sandboxStats are the counts the sandbox prints when it stops.
type sandboxStats struct {
	tokens, confirms, confirmed, duplicates int
}

// stop interrupts the sandbox and parses the counts it prints on SIGINT.
func (sb *sandboxProc) stop(t *testing.T) sandboxStats {
	t.Helper()
	require.NoError(t, sb.cmd.Process.Signal(os.Interrupt))
	select {
	case <-sb.done:
	case <-time.After(15 * time.Second):
		t.Fatal("sandbox did not stop within 15s of SIGINT")
	}
	sb.mu.Lock()
	out := sb.out.String()
	sb.mu.Unlock()
	m := regexp.MustCompile(`([0-9]+) tokens issued, ([0-9]+) confirms \(([0-9]+) confirmed, ([0-9]+) duplicate\)`).FindStringSubmatch(out)
	require.NotNil(t, m, "sandbox stop line missing from %q", out)
	n := func(s string) int { v, _ := strconv.Atoi(s); return v }
	return sandboxStats{tokens: n(m[1]), confirms: n(m[2]), confirmed: n(m[3]), duplicates: n(m[4])}
}

// writeOffers writes a CSV of n fresh offer rows and returns the offer ids in
// row order.
func writeOffers(t *testing.T, path string, n int) []string {
	t.Helper()
	var b strings.Builder
	b.WriteString("offer_id,quote_id\n")
	ids := make([]string, n)
	for i := range n {
		ids[i] = uuid(t)
		fmt.Fprintf(&b, "%s,%s\n", ids[i], uuid(t))
	}
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o600))
	return ids
}

func uuid(t *testing.T) string {
	t.Helper()
	var u [16]byte
	_, err := rand.Read(u[:])
	require.NoError(t, err)
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:])
}

// summary is the part of summary.json (reports' schema) the demo reads.
type summary struct {
	Verdict         string       `json:"verdict"`
	Shard           string       `json:"shard"`
	Notes           []string     `json:"notes"`
	DuplicateOffers []string     `json:"duplicate_offers"`
	Load            *load.Result `json:"load"`
}

func readSummary(t *testing.T, dir string) summary {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	require.NoError(t, err)
	var s summary
	require.NoError(t, json.Unmarshal(b, &s), "%s/summary.json", dir)
	require.NotNil(t, s.Load, "%s/summary.json has no load result", dir)
	return s
}

// proc is a started harness process.
type proc struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
}

func startHarness(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.CommandContext(t.Context(), harnessPath(t), args...)}
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	require.NoError(t, p.cmd.Start())
	return p
}

func (p *proc) wait(t *testing.T) {
	t.Helper()
	err := p.cmd.Wait()
	require.NoError(t, err, "xoneharness %s:\n%s%s", strings.Join(p.cmd.Args[1:], " "), p.stdout.String(), p.stderr.String())
}

// runResult is one row of the 1/2/3-shard table.
type runResult struct {
	shards   int
	report   summary // the merged report, or the single run's
	wall     time.Duration
	bookings int
}

// runSharded runs n concurrent shard processes (one plain process when n is
// 1) at the total demo rate with fresh offers, merges their directories, and
// checks what must hold of every sharded run.
func runSharded(t *testing.T, env []string, n int) runResult {
	t.Helper()
	dir := t.TempDir()
	offersFile := filepath.Join(dir, "offers.csv")
	ids := writeOffers(t, offersFile, offersPerRun)
	row := map[string]int{}
	for k, id := range ids {
		row[id] = k
	}

	dirs := make([]string, n)
	procs := make([]*proc, n)
	start := time.Now()
	for i := range n {
		dirs[i] = filepath.Join(dir, fmt.Sprintf("shard-%d", i))
		args := []string{"load", "--rate", demoRate, "--duration", demoDuration, "--offers", offersFile,
			"--report-dir", dirs[i], "--quiet"}
		if n > 1 {
			args = append(args, "--shard", fmt.Sprintf("%d/%d", i, n))
		}
		procs[i] = startHarness(t, env, args...)
	}
	for _, p := range procs {
		p.wait(t)
	}
	wall := time.Since(start)

	// Every shard: its label, a full run, and bookings only from its own
	// partition (row k mod n == i), never an offer another shard booked.
	var requests, confirmed uint64
	bookedBy := map[string]int{}
	var resultFiles []string
	for i, d := range dirs {
		sum := readSummary(t, d)
		if n > 1 {
			assert.Equal(t, fmt.Sprintf("%d/%d", i, n), sum.Shard, "shard label")
		}
		assert.Equal(t, "completed", sum.Load.StopReason, "shard %d/%d", i, n)
		requests += sum.Load.Requests
		confirmed += sum.Load.Offers.Confirmed
		resultFiles = append(resultFiles, filepath.Join(d, load.ResultsFile))

		f, err := os.Open(filepath.Join(d, ledger.File))
		require.NoError(t, err)
		bs, err := ledger.Read(f, ledger.File)
		f.Close()
		require.NoError(t, err)
		for _, b := range bs {
			k, ok := row[b.OfferID]
			if !assert.True(t, ok, "shard %d booked %s, which is not in the feed", i, b.OfferID) {
				continue
			}
			assert.Equal(t, i, k%n, "shard %d/%d booked row %d, another shard's row", i, n, k)
			if prev, dup := bookedBy[b.OfferID]; dup {
				t.Errorf("offer %s booked by shards %d and %d", b.OfferID, prev, i)
			}
			bookedBy[b.OfferID] = i
		}
	}
	assert.EqualValues(t, confirmed, len(bookedBy), "every confirmed offer is in a bookings.csv")

	out := dirs[0]
	if n > 1 {
		out = filepath.Join(dir, "merged")
		p := startHarness(t, env, append([]string{"report", "--out", out}, dirs...)...)
		p.wait(t)
	}
	merged := readSummary(t, out)
	ml := merged.Load

	assert.Equal(t, requests, ml.Requests, "merged requests == sum of the shards'")
	assert.InDelta(t, demoRequests, float64(ml.Requests), 0.1*demoRequests, "requests of %s for %s", demoRate, demoDuration)
	assert.Equal(t, confirmed, ml.Offers.Confirmed, "merged confirmed == sum of the shards'")
	assert.Empty(t, merged.DuplicateOffers)
	assert.Equal(t, "pass", merged.Verdict)
	if n > 1 {
		var labels []string
		for i := range n {
			labels = append(labels, fmt.Sprintf("%d/%d", i, n))
		}
		assert.Contains(t, merged.Notes, fmt.Sprintf("merged from %d inputs; shards %s", n, strings.Join(labels, ", ")))
		for _, note := range merged.Notes {
			assert.NotContains(t, note, "missing shards")
		}
	}

	// The merged percentiles are those of the pooled raw results (not, say,
	// an average of the shards' percentiles): recomputed here from every
	// results.bin, they agree to HDR precision (3 significant digits) plus
	// the summary's rounding to 1 us.
	p50, p99 := pooledPercentiles(t, resultFiles)
	assert.InDelta(t, p50, ml.Latency.P50, 0.001*p50+0.0011, "p50 of the pooled results")
	assert.InDelta(t, p99, ml.Latency.P99, 0.001*p99+0.0011, "p99 of the pooled results")
	// Every confirm waits demoLatency in the sandbox.
	assert.GreaterOrEqual(t, ml.Latency.P50, float64(demoLatency.Milliseconds()), "p50 below the sandbox's fixed latency")

	return runResult{shards: n, report: merged, wall: wall, bookings: len(bookedBy)}
}

// pooledPercentiles reads results.bin files and returns the p50 and p99, in
// ms, of their latency from the intended send time, as one histogram.
func pooledPercentiles(t *testing.T, files []string) (float64, float64) {
	t.Helper()
	h := hdrhistogram.New(1, int64(2*time.Hour/time.Microsecond), 3)
	for _, name := range files {
		f, err := os.Open(name)
		require.NoError(t, err)
		dec := vegeta.NewDecoder(f)
		for {
			var r vegeta.Result
			if err := dec.Decode(&r); err != nil {
				require.ErrorIs(t, err, io.EOF, "%s", name)
				break
			}
			intended := r.Timestamp
			if v := r.Headers.Get(load.IntendedHeader); v != "" {
				ns, err := strconv.ParseInt(v, 10, 64)
				require.NoError(t, err)
				intended = time.Unix(0, ns)
			}
			lat := max(r.Timestamp.Add(r.Latency).Sub(intended), r.Latency)
			require.NoError(t, h.RecordValue(max(lat.Microseconds(), 1)))
		}
		f.Close()
	}
	require.Positive(t, h.TotalCount())
	return float64(h.ValueAtQuantile(50)) / 1e3, float64(h.ValueAtQuantile(99)) / 1e3
}

// TestShardsOnOneMachine proves sharding on one machine: one standalone
// sandbox; runs of 1 (a plain process), 2 and 3 concurrent shard processes at
// the same total rate, each merged with `xoneharness report`; then the
// sandbox's own count of duplicate confirms.
//
// What is compared, and how strictly:
//   - requests, confirmed offers and bookings add up exactly, and no offer is
//     booked by two shards or confirmed twice (the sandbox counts it);
//   - the merged p50/p99 equal the percentiles of the pooled raw results to
//     HDR precision (runSharded);
//   - the merged p50/p99 of 2 and 3 shards against the single process: these
//     are different runs on a 2-core machine shared with other work, where 3
//     load processes and the sandbox compete for the CPUs, so agreement to
//     HDR precision is not to be had. The sandbox's fixed 10 ms confirm
//     latency sets a common floor, and p50 is checked within 50% + 10 ms of
//     the single run. p99 is not compared run to run: one scheduling stall of
//     a shard process (seen here: 300 ms under `go test -race` with the
//     machine loaded) moves it far more than any merge error would, so it is
//     only bounded at 1 s, which still catches the errors a merge can make
//     (latency from the wrong clock or lost intended send times give seconds
//     or more, a unit slip a factor of 1000).
func TestShardsOnOneMachine(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a sandbox and 6 load processes (about 15 s); run without -short")
	}
	sb := startSandbox(t, "--latency", demoLatency.String())
	env := []string{
		"XONE_BASE_URL=" + sb.url, "XONE_CLIENT_ID=" + sandboxClient,
		"XONE_CLIENT_SECRET=" + sandboxSecret, "XONE_PARTNER_ID=" + sandboxPartner,
	}
	var runs []runResult
	for _, n := range []int{1, 2, 3} {
		ok := t.Run(fmt.Sprintf("%d shards", n), func(t *testing.T) {
			runs = append(runs, runSharded(t, env, n))
		})
		require.True(t, ok, "%d shards", n)
	}
	st := sb.stop(t)
	assert.Zero(t, st.duplicates, "the sandbox saw offers confirmed twice")
	total := 0
	for _, r := range runs {
		total += r.bookings
	}
	assert.Equal(t, total, st.confirmed, "the sandbox confirmed what the bookings ledgers record")

	var b strings.Builder
	fmt.Fprintf(&b, "\n%-7s %9s %10s %9s %9s %9s %7s\n", "shards", "requests", "achieved", "p50 ms", "p99 ms", "max ms", "wall")
	for _, r := range runs {
		l := r.report.Load
		fmt.Fprintf(&b, "%-7d %9d %8.1f/s %9.2f %9.2f %9.2f %6.1fs\n", r.shards, l.Requests, l.RateAchieved,
			l.Latency.P50, l.Latency.P99, l.Latency.Max, r.wall.Seconds())
	}
	fmt.Fprintf(&b, "sandbox: %d tokens, %d confirms, %d confirmed, %d duplicate", st.tokens, st.confirms, st.confirmed, st.duplicates)
	t.Log(b.String())

	single := runs[0].report.Load.Latency
	for _, r := range runs[1:] {
		l := r.report.Load.Latency
		assert.InDelta(t, single.P50, l.P50, 0.5*single.P50+10, "%d shards: p50 against the single process", r.shards)
		assert.GreaterOrEqual(t, l.P99, l.P50, "%d shards: p99 below p50", r.shards)
		assert.Less(t, l.P99, 1000.0, "%d shards: p99 of a 10 ms sandbox", r.shards)
	}
}
