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
