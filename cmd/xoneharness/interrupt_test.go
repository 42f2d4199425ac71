package main

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/xoneharness/xoneharness/ledger"
	"github.com/xoneharness/xoneharness/load"
)

// runAsMain makes the test binary act as the xoneharness command when set in
// its environment: the subprocess tests run the same (race-instrumented)
// code as the CLI without a second build.
const runAsMain = "XONEHARNESS_TEST_RUN_MAIN"

// repoRoot is the repository's root, for tests that read its files: the
// tests run in a temporary working directory, so that a run with the
// default report directory (reports/...) leaves nothing in the source tree.
var repoRoot string

func TestMain(m *testing.M) {
	switch os.Getenv(runAsMain) {
	case "1":
		main() // exits
	case peakRSSMode:
		os.Exit(runMeasured())
	}
	os.Exit(runInTempDir(m))
}

func runInTempDir(m *testing.M) int {
	wd, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	repoRoot = filepath.Join(wd, "..", "..")
	tmp, err := os.MkdirTemp("", "xoneharness-cmd-test-")
	if err != nil {
		panic(err)
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	if err := os.Chdir(tmp); err != nil {
		panic(err)
	}
	return m.Run()
}

// command returns the test binary set up to run as xoneharness with args,
// with no XONE_* variable from the caller's environment.
func command(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "XONE_") && !strings.HasPrefix(kv, "GITHUB_STEP_SUMMARY=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, runAsMain+"=1")
	return cmd
}

// TestInterruptedLoadLosesNothing stops a 20 s load run against the embedded
// sandbox with a signal once its ledger has rows. The process exits 4
// (incomplete: an interrupted run is never a pass) and the result is marked
// "interrupted". The partial report is complete, every 200 in results.bin has
// its booked row in bookings.csv, every request abandoned at the signal its
// unknown row, and no temporary file is left behind.
func TestInterruptedLoadLosesNothing(t *testing.T) {
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "report")
			cmd := command(t, "load", "--rate", "100/s", "--duration", "20s", "--report-dir", dir)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			require.NoError(t, cmd.Start())
			waitFor(t, 60*time.Second, "bookings.csv rows", func() bool { return ledgerRows(dir) >= 50 })
			sent := time.Now()
			require.NoError(t, cmd.Process.Signal(sig))
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			var err error
			select {
			case err = <-done:
			case <-time.After(15 * time.Second):
				_ = cmd.Process.Kill()
				<-done
				t.Fatalf("no exit 15 s after %v\nstdout:\n%s\nstderr:\n%s", sig, stdout.String(), stderr.String())
			}
			assert.Less(t, time.Since(sent), 3*time.Second, "the attack stops at once; in-flight requests get at most 400 ms")
			var exitErr *exec.ExitError
			require.True(t, errors.As(err, &exitErr), "exit 0, want 4\nstdout:\n%s", stdout.String())
			require.Equal(t, exitIncomplete, exitErr.ExitCode(), "stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
			assert.Contains(t, stdout.String(), "stop: interrupted")
			assert.Contains(t, stdout.String(), "verdict: INCOMPLETE")
			assert.NotContains(t, stderr.String(), "goroutine ")

			// summary.json: complete, valid, interrupted.
			sum := readLoadSummary(t, dir)
			assert.True(t, sum.Load.Interrupted)
			assert.Equal(t, "interrupted", sum.Load.StopReason)
			assert.GreaterOrEqual(t, sum.Load.Requests, uint64(50), "the ledger had 50 rows before the signal")
			assert.Less(t, sum.Load.Requests, uint64(1000), "stopped long before 20 s")
			for _, f := range []string{"report.md", "junit.xml", "report.html"} {
				assert.FileExists(t, filepath.Join(dir, f))
			}

			// Every 200 in results.bin has its row in bookings.csv.
			f, err := os.Open(filepath.Join(dir, ledger.File))
			require.NoError(t, err)
			bookings, err := ledger.Read(f, ledger.File)
			f.Close()
			require.NoError(t, err)
			booked, unknown := map[string]bool{}, map[string]bool{}
			for _, b := range bookings {
				switch b.Outcome {
				case ledger.Booked:
					booked[b.OfferID] = true
				case ledger.Unknown:
					unknown[b.OfferID] = true
				}
			}
			f, err = os.Open(filepath.Join(dir, load.ResultsFile))
			require.NoError(t, err)
			defer f.Close()
			dec := vegeta.NewDecoder(f)
			var results, ok200 int
			for {
				var res vegeta.Result
				if err := dec.Decode(&res); err != nil {
					require.ErrorIs(t, err, io.EOF, "results.bin is complete")
					break
				}
				results++
				if res.Code == 0 || res.Code >= 500 {
					offer := strings.TrimSuffix(res.URL[strings.LastIndex(res.URL, "/offers/")+len("/offers/"):], "/confirm")
					assert.True(t, unknown[offer], "abandoned offer %s (%s) has no unknown row", offer, res.Error)
				}
				if res.Code != 200 {
					continue
				}
				ok200++
				offer := strings.TrimSuffix(res.URL[strings.LastIndex(res.URL, "/offers/")+len("/offers/"):], "/confirm")
				assert.True(t, booked[offer], "200 for offer %s has no row in bookings.csv", offer)
			}
			assert.Equal(t, int(sum.Load.Requests), results, "results.bin holds every request")
			assert.Equal(t, ok200, len(booked), "one booked row per booking, no more")
			assert.Equal(t, len(bookings), len(booked)+len(unknown), "every row is booked or unknown")
			assert.Positive(t, ok200)

			// No temporary file left behind.
			require.NoError(t, filepath.WalkDir(filepath.Dir(dir), func(path string, d fs.DirEntry, err error) error {
				if err == nil {
					assert.NotContains(t, d.Name(), ".tmp-", "temporary file left: %s", path)
					assert.False(t, strings.HasPrefix(d.Name(), ".writable-"), "probe file left: %s", path)
				}
				return err
			}))
		})
	}
}
