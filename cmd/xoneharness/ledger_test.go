package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
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

// bookingLog is a stand-in's own record of what it booked: every confirm it
// received with a valid token counts as booked before it answers, as a real
// backend that books and then answers slowly.
type bookingLog struct {
	mu       sync.Mutex
	booked   map[string]bool
	attempts map[string]int // confirms received, per offer
	delay    func(n int64) time.Duration
	hold     string // confirms of this offer are answered only when the client gives up
}

func newBookingLog(delay func(n int64) time.Duration) *bookingLog {
	return &bookingLog{booked: map[string]bool{}, attempts: map[string]int{}, delay: delay}
}

// confirm is a standInOpts.confirm hook: the sandbox decides, and what it
// answers 2xx is booked at once; the answer then waits for the delay (or
// for the client to give up).
func (l *bookingLog) confirm(s **standIn) func(w http.ResponseWriter, r *http.Request, n int64) bool {
	return func(w http.ResponseWriter, r *http.Request, n int64) bool {
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && (*s).issued(tok) {
			r.Header.Set("Authorization", (*s).sbAuth)
		}
		rec := httptest.NewRecorder()
		(*s).sb.Handler().ServeHTTP(rec, r)
		rest := r.URL.Path[strings.Index(r.URL.Path, "/offers/")+len("/offers/"):]
		offer := strings.ToLower(strings.TrimSuffix(rest, "/confirm"))
		l.mu.Lock()
		l.attempts[offer]++
		if rec.Code >= 200 && rec.Code < 300 {
			l.booked[offer] = true
		}
		l.mu.Unlock()
		d := l.delay(n)
		if offer == l.hold {
			d = time.Minute
		}
		if d > 0 {
			select {
			case <-r.Context().Done():
				return true
			case <-time.After(d):
			}
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		return true
	}
}

// tries is the number of confirms of offer received so far.
func (l *bookingLog) tries(offer string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.attempts[strings.ToLower(offer)]
}

func (l *bookingLog) offers() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for o := range l.booked {
		out = append(out, o)
	}
	slices.Sort(out)
	return out
}

// ledgerOffers reads dir's bookings.csv: the offers per outcome.
func ledgerOffers(t *testing.T, dir string) (booked, unknown []string) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, ledger.File))
	require.NoError(t, err)
	defer f.Close()
	rows, err := ledger.Read(f, ledger.File)
	require.NoError(t, err)
	for _, b := range rows {
		switch b.Outcome {
		case ledger.Booked:
			booked = append(booked, strings.ToLower(b.OfferID))
		case ledger.Unknown:
			unknown = append(unknown, strings.ToLower(b.OfferID))
		default:
			t.Errorf("row for %s has outcome %q", b.OfferID, b.Outcome)
		}
	}
	return booked, unknown
}

// assertLedgerCovers checks the ledger against what the server booked:
// every offer the server booked has a row, and every "booked" row is one the
// server booked. An "unknown" row may name an offer the server refused (the
// harness could not know): it is there to be looked up.
func assertLedgerCovers(t *testing.T, server, booked, unknown []string) {
	t.Helper()
	rows := union(booked, unknown)
	for _, o := range server {
		assert.Contains(t, rows, o, "the server booked %s; the ledger has no row for it", o)
	}
	for _, o := range booked {
		assert.Contains(t, server, o, "ledger row %s is booked; the server never booked it", o)
	}
}

// union is the sorted set of a and b.
func union(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

// bookingStandIn starts a stand-in that records what it booked.
func bookingStandIn(t *testing.T, delay func(n int64) time.Duration) (*standIn, *bookingLog) {
	log := newBookingLog(delay)
	var s *standIn
	s = newStandIn(t, standInOpts{confirm: log.confirm(&s)})
	return s, log
}

func envList(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return out
}

// TestLedgerMatchesWhatTheServerBooked: whatever ends a run, the offers the
// server booked are the ledger's booked and unknown rows (an unknown row
// for a confirm abandoned at an interrupt may name an offer the server
// refused: that is what unknown means).
func TestLedgerMatchesWhatTheServerBooked(t *testing.T) {
	t.Run("timeouts", func(t *testing.T) {
		s, log := bookingStandIn(t, func(int64) time.Duration { return time.Second })
		dir := filepath.Join(t.TempDir(), "r")
		r := invoke(t, s.env(), "load", "--offers", writeOffers(t, 30), "--rate", "20/s", "--duration", "1s",
			"--timeout", "300ms", "--report-dir", dir)
		require.Equal(t, exitFindings, r.code, "every confirm timed out: stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		booked, unknown := ledgerOffers(t, dir)
		assert.Empty(t, booked)
		assert.NotEmpty(t, unknown)
		assert.Equal(t, log.offers(), union(booked, unknown))
	})
	t.Run("run with contract bookings", func(t *testing.T) {
		s, log := bookingStandIn(t, func(int64) time.Duration { return 0 })
		env := s.env()
		dir := filepath.Join(t.TempDir(), "r")
		r := invoke(t, env, "run", "--offers", writeOffers(t, 40), "--rate", "10/s", "--duration", "1s", "--threshold", "p90<1s", "--report-dir", dir)
		require.Contains(t, []int{exitOK, exitFindings}, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		booked, unknown := ledgerOffers(t, dir)
		assert.Equal(t, log.offers(), union(booked, unknown))
		b, err := os.ReadFile(filepath.Join(dir, ledger.File))
		require.NoError(t, err)
		assert.Contains(t, string(b), ",booked,", "confirm-ok's booking is in the run's ledger")
		assert.GreaterOrEqual(t, len(booked), 2, "the contract stage's and the load stage's bookings")
	})
	t.Run("interrupt in the contract stage", func(t *testing.T) {
		// confirm-ok books at once; every later confirm is slow, so the
		// signal lands while the suite waits.
		s, log := bookingStandIn(t, func(n int64) time.Duration {
			if n == 1 {
				return 0
			}
			return 3 * time.Second
		})
		env := s.env()
		dir := filepath.Join(t.TempDir(), "r")
		code, stdout, stderr, after := runSubprocess(t, envList(env), func() bool { return s.confs.Load() >= 3 },
			"run", "--offers", writeOffers(t, 40), "--rate", "10/s", "--duration", "1s", "--report-dir", dir)
		require.Equal(t, exitIncomplete, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
		assert.Less(t, after, 3*time.Second, "the suite stops at the signal")
		booked, unknown := ledgerOffers(t, dir)
		assert.Len(t, booked, 1, "confirm-ok's booking survives the interrupt")
		assertLedgerCovers(t, log.offers(), booked, unknown)
		sum := assertVerdictEverywhere(t, dir, "incomplete")
		assert.NotNil(t, sum["contract"], "the contract section is written, not null")
	})
	t.Run("interrupt in the load stage", func(t *testing.T) {
		s, log := bookingStandIn(t, func(int64) time.Duration { return 3 * time.Second })
		dir := filepath.Join(t.TempDir(), "r")
		code, stdout, stderr, after := runSubprocess(t, envList(s.env()), func() bool { return s.confs.Load() >= 30 },
			"load", "--offers", writeOffers(t, 400), "--rate", "50/s", "--duration", "8s", "--report-dir", dir)
		require.Equal(t, exitIncomplete, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
		assert.Less(t, after, 3*time.Second, "in-flight answers are abandoned, not awaited")
		booked, unknown := ledgerOffers(t, dir)
		assert.Empty(t, booked, "no answer came back before the signal")
		assert.Equal(t, log.offers(), union(booked, unknown), "every abandoned confirm has its unknown row")
	})
	t.Run("SIGKILL loses nothing", func(t *testing.T) {
		s, log := bookingStandIn(t, func(int64) time.Duration { return 0 })
		dir := filepath.Join(t.TempDir(), "r")
		cmd := command(t, "load", "--offers", writeOffers(t, 2000), "--rate", "100/s", "--duration", "15s", "--report-dir", dir)
		cmd.Env = append(cmd.Env, envList(s.env())...)
		require.NoError(t, cmd.Start())
		waitFor(t, 60*time.Second, "ledger rows", func() bool { return ledgerRows(dir) >= 100 })
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		_ = cmd.Wait()
		booked, unknown := ledgerOffers(t, dir)
		inLedger := map[string]bool{}
		for _, o := range union(booked, unknown) {
			inLedger[o] = true
		}
		var missing int
		for _, o := range log.offers() {
			if !inLedger[o] {
				missing++
			}
		}
		// Every confirm was in the journal before it left.
		assert.Zero(t, missing, "booked by the server, not in the ledger: %d of %d", missing, len(log.offers()))
		for _, o := range booked {
			assert.True(t, slices.Contains(log.offers(), o), "ledger row %s the server never booked", o)
		}
		results, err := load.MergeResults(filepath.Join(dir, load.ResultsFile))
		if err == nil {
			assert.InDelta(t, len(booked)+len(unknown), int(results.Requests), 10,
				"results.bin keeps up with the ledger (same flush cadence)")
		}
	})
}

// TestOffersFileConsumedOnce: two loads started together over one offers
// file: the second is refused (exit 2) naming the first's report directory,
// and what the server booked is the first one's ledger.
func TestOffersFileConsumedOnce(t *testing.T) {
	s, log := bookingStandIn(t, func(int64) time.Duration { return 0 })
	offers := writeOffers(t, 100)
	root := t.TempDir()
	first := filepath.Join(root, "first")
	cmd := command(t, "load", "--offers", offers, "--rate", "20/s", "--duration", "3s", "--report-dir", first)
	cmd.Env = append(cmd.Env, envList(s.env())...)
	require.NoError(t, cmd.Start())
	waitFor(t, 60*time.Second, "the first run's first booking", func() bool { return ledgerRows(first) >= 1 })
	second := filepath.Join(root, "second")
	r := invoke(t, s.env(), "load", "--offers", offers, "--rate", "20/s", "--duration", "1s", "--report-dir", second)
	assert.Equal(t, exitUsage, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	assert.Contains(t, r.stderr, first, "the refusal names the other run's report directory")
	require.NoError(t, cmd.Wait())
	booked, unknown := ledgerOffers(t, first)
	assert.Equal(t, log.offers(), union(booked, unknown), "every booking is the first run's")

	// Once the first run is over, its ledger keeps the same offers from
	// being confirmed again by a later run under the same reports root.
	r = invoke(t, s.env(), "load", "--offers", offers, "--rate", "20/s", "--duration", "1s", "--report-dir", filepath.Join(root, "third"))
	assert.Equal(t, exitUsage, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	assert.Contains(t, r.stderr, "was already claimed by the run in "+first)
}
