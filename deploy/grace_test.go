package deploy

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
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
	"github.com/xoneharness/xoneharness/load"
)

// confirmWatch is a reverse proxy in front of the sandbox that closes seen
// when the first confirm request passes through it.
type confirmWatch struct {
	srv  *httptest.Server
	seen chan struct{}
}

func startConfirmWatch(t *testing.T, target string) *confirmWatch {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(u)
	// A request the harness gives up on is cancelled here too: not an error.
	rp.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) }
	w := &confirmWatch{seen: make(chan struct{})}
	var once sync.Once
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/confirm") {
			once.Do(func() { close(w.seen) })
		}
		rp.ServeHTTP(rw, r)
	}))
	t.Cleanup(w.srv.Close)
	return w
}

// TestShardStopsWithinGrace starts shard 0 of the Job's pod as the kubelet
// would (its own arguments, env and mounted files), against a sandbox that
// holds every confirm so that requests are in flight, and sends it SIGTERM as
// the kubelet does when the Job fails or is deleted. The shard must exit by
// itself, with its partial report and bookings ledger written, well inside
// terminationGracePeriodSeconds, after which the kubelet would kill it and
// the report would be lost.
func TestShardStopsWithinGrace(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a sandbox and a load process (about 5 s); run without -short")
	}
	m := loadManifests(t)
	job := m.jobRunning(t, "load")
	gp := job.Spec.Template.Spec.TerminationGracePeriodSeconds
	require.NotNil(t, gp, "terminationGracePeriodSeconds")
	grace := time.Duration(*gp) * time.Second

	sb := startSandbox(t, "--stall", "0s-2m")
	watch := startConfirmWatch(t, sb.url)

	args, env := m.shardCommand(t, job, 0)
	env["XONE_BASE_URL"] = watch.srv.URL
	env["XONE_CLIENT_ID"] = sandboxClient
	env["XONE_PARTNER_ID"] = sandboxPartner
	require.NoError(t, os.WriteFile(flagValue(t, args, "client-secret-file"), []byte(sandboxSecret), 0o600))
	// Enough fresh offers that the feed never runs out before the signal.
	writeOffers(t, flagValue(t, args, "offers"), 200)
	reportDir := flagValue(t, args, "report-dir")

	p := startHarness(t, environ(env), args...)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case <-watch.seen:
	case err := <-done:
		t.Fatalf("shard exited before its first confirm: %v\n%s%s", err, p.stdout.String(), p.stderr.String())
	case <-time.After(time.Minute):
		t.Fatal("no confirm within 1 minute of the shard's start")
	}

	sent := time.Now()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	var err error
	select {
	case err = <-done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-done
		t.Fatalf("shard still running %v after SIGTERM (terminationGracePeriodSeconds): the kubelet kills it and its report is lost\n%s%s",
			grace, p.stdout.String(), p.stderr.String())
	}
	took := time.Since(sent)
	t.Logf("shard stopped %v after SIGTERM (grace period %v)", took.Round(time.Millisecond), grace)
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		require.True(t, exitErr.Exited(), "got %v, want the shard to exit by itself", err)
	}
	// A results volume slower than this machine's temporary directory still
	// fits: the stop takes at most half the grace period here.
	assert.Less(t, took, grace/2, "got %v from SIGTERM to exit, want under half of terminationGracePeriodSeconds (%v)", took, grace)

	sum := readSummary(t, reportDir)
	assert.True(t, sum.Load.Interrupted, "summary.json: got interrupted=false, want true")
	assert.Equal(t, "interrupted", sum.Load.StopReason)
	assert.Positive(t, sum.Load.Requests, "summary.json counts the requests in flight at the signal")
	for _, f := range []string{ledger.File, load.ResultsFile} {
		assert.FileExists(t, filepath.Join(reportDir, f))
	}
}
