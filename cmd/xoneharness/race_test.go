package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xoneharness/xoneharness/ledger"
)

// raceCase is concurrent-confirm as summary.json has it.
type raceCase struct {
	Outcome   string `json:"outcome"`
	Integrity bool   `json:"integrity"`
	Reason    string `json:"reason"`
	Race      *struct {
		N        int     `json:"n"`
		SpreadMs float64 `json:"spread_ms"`
		Attempts []struct {
			Status    int    `json:"status"`
			BookingID string `json:"booking_id"`
		} `json:"attempts"`
	} `json:"race"`
}

func readRaceCase(t *testing.T, dir string) raceCase {
	t.Helper()
	var s struct {
		Contract struct {
			Cases []struct {
				Name string `json:"name"`
				raceCase
			} `json:"cases"`
		} `json:"contract"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &s))
	for _, c := range s.Contract.Cases {
		if c.Name == "concurrent-confirm" {
			return c.raceCase
		}
	}
	t.Fatalf("no concurrent-confirm case in %s", dir)
	return raceCase{}
}

// TestRaceCheck runs the race check through the CLI against the embedded
// sandbox: race-free it books the offer once (drift only: the sandbox's
// undocumented 422 refusals), with racy-double-book it fails as an integrity
// finding naming the bookings; a bad --race is refused before any traffic.
func TestRaceCheck(t *testing.T) {
	t.Run("race-free sandbox", func(t *testing.T) {
		dir := t.TempDir()
		r := invoke(t, nil, "contract", "--race", "7", "--report-dir", dir)
		require.Equal(t, exitOK, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		assert.Contains(t, r.stdout, "concurrent-confirm")
		rc := readRaceCase(t, dir)
		require.NotNil(t, rc.Race, "the race section")
		assert.Equal(t, 7, rc.Race.N)
		assert.Less(t, rc.Race.SpreadMs, 50.0, "final writes of one group on loopback")
		booked := 0
		for _, a := range rc.Race.Attempts {
			if a.Status == 200 {
				booked++
			}
		}
		assert.Equal(t, 1, booked, "one booking from 7 simultaneous confirms")
		assert.False(t, rc.Integrity)
	})
	t.Run("racy-double-book", func(t *testing.T) {
		dir := t.TempDir()
		r := invoke(t, nil, "contract", "--drift", "racy-double-book", "--report-dir", dir)
		require.Equal(t, exitFindings, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		rc := readRaceCase(t, dir)
		require.NotNil(t, rc.Race, "the race section")
		assert.True(t, rc.Integrity, "a double booking is an integrity finding")
		assert.Equal(t, "fail", rc.Outcome)
		line := ""
		for _, l := range strings.Split(r.stdout, "\n") {
			if strings.Contains(l, "concurrent-confirm") {
				line = l
			}
		}
		ids := map[string]bool{}
		for _, a := range rc.Race.Attempts {
			if a.BookingID != "" {
				ids[a.BookingID] = true
			}
		}
		assert.GreaterOrEqual(t, len(ids), 2, "distinct bookings of one offer")
		for id := range ids {
			assert.Contains(t, line, id, "the console names every booking")
		}
	})
	t.Run("bad --race", func(t *testing.T) {
		for _, v := range []string{"1", "21", "-3"} {
			r := invoke(t, nil, "contract", "--race", v, "--report-dir", t.TempDir())
			assert.Equal(t, exitUsage, r.code, "--race %s: %s", v, r.stderr)
			assert.Contains(t, r.stderr, "--race")
		}
	})
}

// TestRaceGroupInterrupted interrupts the CLI while a race group waits for
// its answers at a loopback stand-in: every confirm of the group is in the
// journal, and every offer the server booked is too.
func TestRaceGroupInterrupted(t *testing.T) {
	s, log := bookingStandIn(t, func(int64) time.Duration { return 0 })
	offers := writeOffers(t, 10)
	f, err := os.Open(offers)
	require.NoError(t, err)
	rows, err := csv.NewReader(f).ReadAll()
	_ = f.Close()
	require.NoError(t, err)
	log.hold = strings.ToLower(rows[2][0]) // row 1 is confirm-ok's, row 2 the race's
	dir := filepath.Join(t.TempDir(), "r")
	code, stdout, stderr, _ := runSubprocess(t, envList(s.env()), func() bool { return log.tries(log.hold) >= 5 },
		"contract", "--offers", offers, "--report-dir", dir)
	assert.Equal(t, exitIncomplete, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	all, err := ledger.ReadFile(filepath.Join(dir, ledger.File))
	require.NoError(t, err)
	group := 0
	for _, r := range all {
		if strings.EqualFold(r.OfferID, log.hold) {
			group++
			assert.NotEqual(t, ledger.Pending, r.Outcome, "a row the interrupted run left pending")
		}
	}
	assert.Equal(t, 5, group, "journal rows of the race group's 5 confirms")
	assert.Subset(t, ledgerAll(t, dir), log.offers(), "booked by the server, missing from the journal")
}

// TestLoadRaceFraction: groups of simultaneous confirms inside a load run,
// counted apart from the latencies; against racy-double-book the safety gate
// double_bookings==0 fails the run and the console names the bookings; bad
// values are refused before any traffic.
func TestLoadRaceFraction(t *testing.T) {
	type raceSummary struct {
		Load struct {
			Requests uint64 `json:"requests"`
			Race     *struct {
				Groups         uint64 `json:"groups"`
				Attempts       uint64 `json:"attempts"`
				DoubleBookings uint64 `json:"double_bookings"`
			} `json:"race"`
		} `json:"load"`
	}
	read := func(dir string) raceSummary {
		var s raceSummary
		b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, &s))
		require.NotNil(t, s.Load.Race, "the race section")
		return s
	}
	args := []string{"load", "--rate", "40/s", "--duration", "1s", "--race-fraction", "0.25", "--race", "3", "--threshold", "p90<2s"}
	t.Run("race-free sandbox", func(t *testing.T) {
		dir := t.TempDir()
		r := invoke(t, nil, append(args, "--report-dir", dir)...)
		require.Equal(t, exitOK, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		s := read(dir)
		assert.Equal(t, uint64(10), s.Load.Race.Groups, "a quarter of 40 planned confirms")
		assert.Equal(t, uint64(30), s.Load.Race.Attempts)
		assert.Equal(t, uint64(30), s.Load.Requests, "the ordinary confirms only")
		assert.Zero(t, s.Load.Race.DoubleBookings)
		assert.Contains(t, r.stdout, "double_bookings==0")
	})
	t.Run("racy-double-book", func(t *testing.T) {
		dir := t.TempDir()
		r := invoke(t, nil, append(args, "--drift", "racy-double-book", "--report-dir", dir)...)
		require.Equal(t, exitFindings, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		assert.Positive(t, read(dir).Load.Race.DoubleBookings)
		assert.Contains(t, r.stdout, "double booking of offer")
	})
	t.Run("refused", func(t *testing.T) {
		for _, tc := range [][]string{
			{"load", "--race-fraction", "1"},
			{"load", "--race-fraction", "-0.1"},
			{"load", "--race-fraction", "NaN"},
			{"load", "--race-fraction", "0.2", "--race", "1"},
			{"load", "--race-fraction", "0.2", "--race", "21"},
			{"run", "--race-fraction", "0.2", "--race", "0"},
		} {
			r := invoke(t, nil, append(tc, "--report-dir", t.TempDir())...)
			assert.Equal(t, exitUsage, r.code, "%v: %s", tc, r.stderr)
			assert.Contains(t, r.stderr, "--race", "%v", tc)
		}
	})
}
