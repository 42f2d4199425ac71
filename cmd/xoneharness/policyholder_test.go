package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRunPolicyholderBothStages: run's --policyholder is sent by the load
// stage as well as by the contract suite, not only by the contract.
func TestRunPolicyholderBothStages(t *testing.T) {
	const email = "grace.hopper@example.org"
	ph := filepath.Join(t.TempDir(), "ph.json")
	require.NoError(t, os.WriteFile(ph, []byte(`{"first_name":"Grace","last_name":"Hopper","email":"`+email+`"}`), 0o644))
	var (
		mu     sync.Mutex
		bodies []string // confirm bodies in arrival order
	)
	s := newStandIn(t, standInOpts{confirm: func(w http.ResponseWriter, r *http.Request, n int64) bool {
		b, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(strings.NewReader(string(b)))
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		return false // the sandbox answers
	}})
	dir := filepath.Join(t.TempDir(), "out")
	r := invoke(t, s.env(), "run", "--offers", writeOffers(t, 40), "--policyholder", ph,
		"--rate", "2/s", "--duration", "1s", "--report-dir", dir)
	require.NotEqual(t, exitUsage, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	requests := int(dig(t, readSummary(t, filepath.Join(dir, "summary.json")), "load")["requests"].(float64))
	require.Positive(t, requests, "the load stage ran: %s", r.stdout)
	mu.Lock()
	defer mu.Unlock()
	require.GreaterOrEqual(t, len(bodies), requests)
	for i, b := range bodies[len(bodies)-requests:] {
		assert.Contains(t, b, email, "load confirm %d of %d: got body %s, want the --policyholder", i+1, requests, b)
	}
}
