package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSpecBombRefusedByEveryCommand: a 15 KB YAML alias bomb given as
// --spec is refused in under a second, with the process staying under
// 200 MB, by every command that loads a document.
func TestSpecBombRefusedByEveryCommand(t *testing.T) {
	bomb := filepath.Join(t.TempDir(), "bomb.yaml")
	require.NoError(t, os.WriteFile(bomb, []byte(aliasBomb("openapi: 3.0.3\ninfo: {title: bomb, version: '1'}\npaths: {}\n")), 0o600))
	st, err := os.Stat(bomb)
	require.NoError(t, err)
	require.Less(t, st.Size(), int64(20<<10), "a small document")
	for _, args := range [][]string{
		{"contract", "--spec", bomb},
		{"load", "--spec", bomb},
		{"run", "--spec", bomb},
		{"spec", "lint", "--spec", bomb},
	} {
		t.Run(args[0]+" "+args[1], func(t *testing.T) {
			if args[0] != "spec" {
				args = append(args, "--report-dir", filepath.Join(t.TempDir(), "r"))
			}
			code, stderr, elapsed, maxRSS := measured(t, args...)
			assert.Equal(t, exitUsage, code, stderr)
			assert.Contains(t, stderr, "--spec")
			assert.Contains(t, stderr, "alias expansion")
			assert.Less(t, elapsed, time.Second, "refused in under a second")
			assert.Less(t, maxRSS, int64(200<<10), "peak RSS %d KiB, want under 200 MB", maxRSS)
		})
	}
}

// peakRSSMode makes the test binary run xoneharness as a child of its own
// and write the child's exit code, wall time and peak RSS (KiB) to stdout.
// On Linux a child's peak RSS includes that of the process it was started
// from (the memory it shared until exec), so the command is started from
// this small, fresh process rather than from the test process itself.
const peakRSSMode = "peak-rss"

// runMeasured is the peak-rss mode: it runs os.Args[1:] as xoneharness.
func runMeasured() int {
	cmd := exec.Command(os.Args[0], os.Args[1:]...)
	cmd.Env = append(os.Environ(), runAsMain+"=1")
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Run(); cmd.ProcessState == nil {
		fmt.Fprintln(os.Stderr, "peak-rss:", err)
		return 1
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		fmt.Fprintln(os.Stderr, "peak-rss: no rusage on this platform")
		return 1
	}
	fmt.Printf("%d %d %d\n", cmd.ProcessState.ExitCode(), time.Since(start), ru.Maxrss)
	return 0
}

// measured runs xoneharness with args and returns its exit code, stderr,
// wall time and peak RSS in KiB.
func measured(t *testing.T, args ...string) (code int, stderr string, elapsed time.Duration, maxRSS int64) {
	t.Helper()
	cmd := command(t, args...)
	// The last value of a variable wins; the race detector's 1 s sleep at
	// exit is not wanted for the measuring process.
	cmd.Env = append(cmd.Env, runAsMain+"="+peakRSSMode, "GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0")
	var errOut strings.Builder
	cmd.Stderr = &errOut
	out, err := cmd.Output()
	require.NoError(t, err, errOut.String())
	_, err = fmt.Sscan(string(out), &code, &elapsed, &maxRSS)
	require.NoError(t, err, "%q", out)
	return code, errOut.String(), elapsed, maxRSS
}

// TestOfferIDChecked: --offer-id is checked like every other id before
// anything is sent.
func TestOfferIDChecked(t *testing.T) {
	for _, id := range []string{"..", ".", "a/b", "x%2Fy"} {
		r := invoke(t, nil, "contract", "--offer-id", id, "--quote-id", "q-1", "--sandbox")
		assert.Equal(t, exitUsage, r.code, "offer id %q: %s", id, r.stderr)
		assert.Contains(t, r.stderr, "--offer-id")
	}
	r := invoke(t, nil, "contract", "--offer-id", "o-1", "--quote-id", "..", "--sandbox")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "--quote-id")
}

// TestMetricsAddrLoopback: a bare --metrics-addr :PORT binds loopback and
// says so.
func TestMetricsAddrLoopback(t *testing.T) {
	cmd := command(t, "load", "--rate", "20/s", "--duration", "3s", "--metrics-addr", ":0", "--report-dir", filepath.Join(t.TempDir(), "r"))
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "metrics: ") {
			assert.Contains(t, line, "http://127.0.0.1:")
			assert.Contains(t, line, "loopback only")
			return
		}
	}
	t.Fatal("no metrics line on stderr")
}

// TestOffersPipeWithoutWriter: --offers on a named pipe that nobody writes
// says what it waits for within a few seconds, and an interrupt ends the
// wait.
func TestOffersPipeWithoutWriter(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "offers.csv")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	s := newStandIn(t, standInOpts{})
	cmd := command(t, "load", "--offers", fifo, "--rate", "5/s", "--duration", "1s", "--report-dir", filepath.Join(t.TempDir(), "r"))
	cmd.Env = append(cmd.Env, envList(s.env())...)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	sc := bufio.NewScanner(stderr)
	said := false
	for !said && sc.Scan() {
		said = strings.Contains(sc.Text(), "waiting for a writer")
	}
	require.True(t, said, "the wait is explained")
	sent := time.Now()
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the interrupt did not end the wait")
	}
	assert.Less(t, time.Since(sent), 3*time.Second)
	assert.Equal(t, exitIncomplete, cmd.ProcessState.ExitCode())
	assert.Zero(t, s.confs.Load(), "nothing was sent")
}
