package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xoneharness/xoneharness/ledger"
)

// ledgerAll reads every offer of dir's journal that may have booked:
// booked, unknown, and pending rows left by a killed process (which read as
// unknown).
func ledgerAll(t *testing.T, dir string) []string {
	t.Helper()
	rows, err := ledger.ReadFile(filepath.Join(dir, ledger.File))
	require.NoError(t, err, "the journal of a killed run reads")
	var out []string
	for _, r := range rows {
		out = append(out, strings.ToLower(r.OfferID))
	}
	return union(out, nil)
}

// killAt starts the CLI with args against s, waits until the server has
// received after confirms, waits moment more, and kills the process
// outright (SIGKILL), as the OOM killer or an evicted pod would.
func killAt(t *testing.T, s *standIn, after int64, moment time.Duration, args ...string) {
	t.Helper()
	cmd := command(t, args...)
	cmd.Env = append(cmd.Env, envList(s.env())...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	waitFor(t, 60*time.Second, "confirms at the server", func() bool { return s.confs.Load() >= after })
	t.Logf("SIGKILL %s after confirm %d", moment, after)
	time.Sleep(moment) // a random moment of the run, not a timing expectation
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
}

// TestJournalSurvivesSIGKILL: whatever moment a run is killed at, every
// offer the server booked is in the journal (booked, unknown or pending):
// a confirm is recorded before it leaves.
func TestJournalSurvivesSIGKILL(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 1))
	var mu sync.Mutex
	draw := func(n int64) time.Duration {
		mu.Lock()
		defer mu.Unlock()
		return time.Duration(rng.Int64N(n))
	}
	for i := range 5 {
		moment := draw(int64(2500 * time.Millisecond))
		t.Run(fmt.Sprintf("load kill %d", i), func(t *testing.T) {
			t.Parallel()
			// The server books at once and answers after 2 s.
			s, log := bookingStandIn(t, func(int64) time.Duration { return 2 * time.Second })
			dir := filepath.Join(t.TempDir(), "r")
			killAt(t, s, 1, moment,
				"load", "--offers", writeOffers(t, 100), "--rate", "5/s", "--duration", "4s", "--report-dir", dir)
			require.NotEmpty(t, log.offers(), "the server booked before the kill")
			assert.Subset(t, ledgerAll(t, dir), log.offers(), "booked by the server, missing from the journal")
		})
		t.Run(fmt.Sprintf("contract --generate kill %d", i), func(t *testing.T) {
			t.Parallel()
			s, log := bookingStandIn(t, func(int64) time.Duration { return 300 * time.Millisecond })
			dir := filepath.Join(t.TempDir(), "r")
			killAt(t, s, 2, moment/2,
				"contract", "--offers", writeOffers(t, 40), "--generate", "20", "--report-dir", dir)
			require.NotEmpty(t, log.offers(), "the server booked before the kill")
			assert.Subset(t, ledgerAll(t, dir), log.offers(), "booked by the server, missing from the journal")
		})
	}
}

// TestJournalSIGINTDuringGenerate: an interrupt while a generated case waits
// for its answer leaves that confirm in the journal.
func TestJournalSIGINTDuringGenerate(t *testing.T) {
	for i := range 3 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			// The fixed cases answer at once; generated ones after 3 s.
			s, log := bookingStandIn(t, func(n int64) time.Duration {
				if n > 14 {
					return 3 * time.Second
				}
				return 0
			})
			dir := filepath.Join(t.TempDir(), "r")
			code, stdout, stderr, after := runSubprocess(t, envList(s.env()), func() bool { return s.confs.Load() >= 15 },
				"contract", "--offers", writeOffers(t, 40), "--generate", "10", "--race", "0", "--report-dir", dir)
			assert.Equal(t, exitIncomplete, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
			assert.Less(t, after, 3*time.Second, "the suite stops at the signal")
			require.GreaterOrEqual(t, len(log.offers()), 2, "confirm-ok's booking and the generated one in flight")
			assert.Subset(t, ledgerAll(t, dir), log.offers(), "booked by the server, missing from the journal")
		})
	}
}

// TestJournalDiskFull fills a small disk under the report directory: the
// run stops at the first failed journal write with exit 3, and every offer
// the server booked is in the journal.
func TestJournalDiskFull(t *testing.T) {
	root := smallTmpfs(t, "256k")
	s, log := bookingStandIn(t, func(int64) time.Duration { return 0 })
	dir := filepath.Join(root, "run")
	start := time.Now()
	code, stdout, stderr, _ := runSubprocess(t, envList(s.env()), nil,
		"load", "--offers", writeOffers(t, 20000), "--rate", "300/s", "--duration", "30s", "--report-dir", dir, "--format", "json")
	assert.Equal(t, exitInfra, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	assert.Less(t, time.Since(start), 25*time.Second, "the full disk stops the run, not its plan")
	assert.Regexp(t, "no space left on device", stderr)
	booked := log.offers()
	require.NotEmpty(t, booked)
	assert.Subset(t, ledgerAll(t, dir), booked, "booked by the server, missing from the journal")
	assert.Equal(t, int64(len(ledgerAll(t, dir))), s.confs.Load(), "no confirm left after the journal failed")
}

// smallTmpfs mounts a tmpfs of size for the test, or skips.
func smallTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// TestOneClaimPerOffer: three processes started together under one reports
// root, two over copies of one offers file and one over the same rows on
// standard input: no offer is confirmed twice, and each refused run names
// the run that holds the offer.
func TestOneClaimPerOffer(t *testing.T) {
	s, log := bookingStandIn(t, func(int64) time.Duration { return 0 })
	offers := writeOffers(t, 30)
	rows, err := os.ReadFile(offers)
	require.NoError(t, err)
	copyPath := filepath.Join(t.TempDir(), "copy.csv")
	require.NoError(t, os.WriteFile(copyPath, rows, 0o644))
	root := t.TempDir()
	runs := []struct {
		name, offers string
		stdin        []byte
	}{{"a", offers, nil}, {"b", copyPath, nil}, {"c", "-", rows}}
	type outcome struct {
		code   int
		stderr string
	}
	got := make([]outcome, len(runs))
	var wg sync.WaitGroup
	for i, r := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := command(t, "load", "--offers", r.offers, "--rate", "20/s", "--duration", "1s",
				"--report-dir", filepath.Join(root, r.name))
			cmd.Env = append(cmd.Env, envList(s.env())...)
			cmd.Stdin = bytes.NewReader(r.stdin)
			var errOut bytes.Buffer
			cmd.Stderr = &errOut
			err := cmd.Run()
			got[i] = outcome{cmd.ProcessState.ExitCode(), errOut.String()}
			_ = err
		}()
	}
	wg.Wait()
	for offer, n := range log.attempts {
		assert.Equal(t, 1, n, "offer %s confirmed %d times", offer, n)
	}
	refused := 0
	for i, o := range got {
		if o.code == exitUsage {
			refused++
			assert.Contains(t, o.stderr, "was already claimed by the run in "+root, "run %s: %s", runs[i].name, o.stderr)
		}
	}
	assert.GreaterOrEqual(t, refused, 1, "runs: %+v", got)
}

// TestReportsRootNames: a reports root whose name holds glob characters, or
// "<", works; a dangling bookings.csv link under it is noted, not fatal.
func TestReportsRootNames(t *testing.T) {
	for _, name := range []string{"ci[1]", "a<b>*?"} {
		t.Run(name, func(t *testing.T) {
			s, _ := bookingStandIn(t, func(int64) time.Duration { return 0 })
			root := filepath.Join(t.TempDir(), name)
			old := filepath.Join(root, "old")
			require.NoError(t, os.MkdirAll(old, 0o755))
			require.NoError(t, os.Symlink(filepath.Join(root, "gone.csv"), filepath.Join(old, ledger.File)))
			offers := writeOffers(t, 40)
			r := invoke(t, s.env(), "load", "--offers", offers, "--rate", "20/s", "--duration", "1s",
				"--report-dir", filepath.Join(root, "first"))
			require.Equal(t, exitOK, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			assert.Contains(t, r.stderr, "note: claims store", "the dangling link is noted")
			r = invoke(t, s.env(), "load", "--offers", offers, "--rate", "20/s", "--duration", "1s",
				"--report-dir", filepath.Join(root, "second"))
			assert.Equal(t, exitUsage, r.code, "the same offers again under the same root")
			assert.Contains(t, r.stderr, "was already claimed by the run in "+filepath.Join(root, "first"))
		})
	}
}

// TestRecordDirRules: --record writes only into a new or empty directory of
// its own, never through a link, never over a file.
func TestRecordDirRules(t *testing.T) {
	base := t.TempDir()
	full := filepath.Join(base, "full")
	require.NoError(t, os.MkdirAll(full, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(full, "confirm-ok.json"), []byte("older"), 0o644))
	link := filepath.Join(base, "link")
	require.NoError(t, os.Symlink(filepath.Join(base, "elsewhere"), link))
	runDir := filepath.Join(base, "run")
	require.NoError(t, os.MkdirAll(runDir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(runDir, ledger.File), []byte("offer_id,quote_id\n"), 0o644))
	for _, tc := range []struct{ name, dir, want string }{
		{"not empty", full, "not empty"},
		{"a symbolic link", link, "symbolic link"},
		{"inside a run's report directory", filepath.Join(runDir, "rec"), "inside the report directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := invoke(t, nil, "contract", "--record", tc.dir, "--report-dir", filepath.Join(t.TempDir(), "r"))
			assert.Equal(t, exitUsage, r.code, r.stderr)
			assert.Contains(t, r.stderr, "--record")
			assert.Contains(t, r.stderr, tc.want)
		})
	}
	b, err := os.ReadFile(filepath.Join(full, "confirm-ok.json"))
	require.NoError(t, err)
	assert.Equal(t, "older", string(b), "an older recording is never replaced")
	_, err = os.Lstat(filepath.Join(base, "elsewhere"))
	assert.ErrorIs(t, err, os.ErrNotExist, "nothing written through the link")

	fresh := filepath.Join(base, "fresh")
	r := invoke(t, nil, "contract", "--record", fresh, "--report-dir", filepath.Join(t.TempDir(), "r"))
	require.Equal(t, exitOK, r.code, r.stdout+r.stderr)
	assert.FileExists(t, filepath.Join(fresh, "confirm-ok.json"))
}
