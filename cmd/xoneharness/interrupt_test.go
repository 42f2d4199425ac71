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

	"github.com/xoneharness/xoneharness/load"
)

// runAsMain makes the test binary act as the xoneharness command when set in
// its environment: the subprocess tests run the same (race-instrumented)
// code as the CLI without a second build.
const runAsMain = "XONEHARNESS_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runAsMain) == "1" {
		main() // exits
	}
	os.Exit(m.Run())
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
// sandbox with a signal after about 1.5 s. The process exits 0: the partial
// result has no threshold to fail (the verdict of an interrupted run is that
// of its partial result), and it is marked "interrupted". The partial report
// is complete, every 200 in results.bin has its row in bookings.csv, and no
// temporary file is left behind.
func TestInterruptedLoadLosesNothing(t *testing.T) {
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "report")
			cmd := command(t, "load", "--rate", "100/s", "--duration", "20s", "--report-dir", dir)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			require.NoError(t, cmd.Start())
			time.Sleep(1500 * time.Millisecond)
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
			assert.Less(t, time.Since(sent), 6*time.Second, "the attack stops at once; in-flight requests get at most 2 s")
			var exitErr *exec.ExitError
			if errors.As(err, &exitErr) {
				t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", exitErr.ExitCode(), stdout.String(), stderr.String())
			}
			require.NoError(t, err)
			assert.Contains(t, stdout.String(), "(interrupted)")
			assert.NotContains(t, stderr.String(), "goroutine ")

			// summary.json: complete, valid, interrupted.
			sum := readLoadSummary(t, dir)
			assert.True(t, sum.Load.Interrupted)
			assert.Equal(t, "interrupted", sum.Load.StopReason)
			assert.Greater(t, sum.Load.Requests, uint64(50), "about 150 requests in 1.5 s at 100/s")
			assert.Less(t, sum.Load.Requests, uint64(1000), "stopped long before 20 s")
			for _, f := range []string{"report.md", "junit.xml", "report.html"} {
				assert.FileExists(t, filepath.Join(dir, f))
			}

			// Every 200 in results.bin has its row in bookings.csv.
			f, err := os.Open(filepath.Join(dir, load.BookingsFile))
			require.NoError(t, err)
			bookings, err := load.ReadBookings(f, load.BookingsFile)
			f.Close()
			require.NoError(t, err)
			booked := map[string]bool{}
			for _, b := range bookings {
				booked[b.OfferID] = true
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
				if res.Code != 200 {
					continue
				}
				ok200++
				offer := strings.TrimSuffix(res.URL[strings.LastIndex(res.URL, "/offers/")+len("/offers/"):], "/confirm")
				assert.True(t, booked[offer], "200 for offer %s has no row in bookings.csv", offer)
			}
			assert.Equal(t, int(sum.Load.Requests), results, "results.bin holds every request")
			assert.Equal(t, ok200, len(bookings), "one row per booking, no more")
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
