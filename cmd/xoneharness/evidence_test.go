package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRunCoverage: run reports which documented response fields its answers
// exercised. The default embedded sandbox leaves some never exercised, and
// says so in summary.json and report.md; with --every-member none is left.
func TestRunCoverage(t *testing.T) {
	for _, tc := range []struct {
		name      string
		extra     []string
		wantNever bool
	}{
		{"default sandbox", nil, true},
		{"every member", []string{"--every-member"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"run", "--rate", "20/s", "--duration", "1s", "--threshold", "p90<2s", "--report-dir", dir}, tc.extra...)
			r := invoke(t, nil, args...)
			require.Equal(t, exitOK, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			var s struct {
				Coverage *struct {
					Responses  int64 `json:"responses"`
					Documented int   `json:"documented"`
					Exercised  int   `json:"exercised"`
					Schemas    []struct {
						NeverExercised []string `json:"never_exercised"`
					} `json:"schemas"`
				} `json:"coverage"`
			}
			b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(b, &s))
			require.NotNil(t, s.Coverage, "top-level coverage in summary.json")
			assert.Greater(t, s.Coverage.Responses, int64(20), "the contract's and the load's answers")
			var never []string
			for _, sc := range s.Coverage.Schemas {
				never = append(never, sc.NeverExercised...)
			}
			md, err := os.ReadFile(filepath.Join(dir, "report.md"))
			require.NoError(t, err)
			assert.Contains(t, string(md), fmt.Sprintf("%d of %d documented response fields exercised", s.Coverage.Exercised, s.Coverage.Documented))
			if tc.wantNever {
				require.NotEmpty(t, never, "fields the default sandbox never sends")
				assert.Contains(t, string(md), "not checked by this run")
				assert.Contains(t, string(md), never[0])
			} else {
				assert.Empty(t, never, "every documented field exercised")
				assert.Equal(t, s.Coverage.Documented, s.Coverage.Exercised)
			}
		})
	}
}

// evidenceRows reads evidence.csv: the CF-RAY of each row, by kind.
func evidenceRows(t *testing.T, dir string) map[string][]string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "evidence.csv"))
	require.NoError(t, err, "evidence.csv in %s", dir)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, recs)
	kind, ray := -1, -1
	for i, h := range recs[0] {
		switch strings.ToLower(h) {
		case "kind":
			kind = i
		case "cf-ray":
			ray = i
		}
	}
	require.True(t, kind >= 0 && ray >= 0, "kind and CF-RAY columns in %v", recs[0])
	out := map[string][]string{}
	for _, rec := range recs[1:] {
		out[rec[kind]] = append(out[rec[kind]], rec[ray])
	}
	return out
}

// TestEvidenceCSV runs a load against a loopback stand-in that stalls 10
// known offers for a second and fails 5 others with 500, each answer
// carrying a CF-RAY of its own: evidence.csv lists exactly the 10 stalled
// requests as the slowest and the 5 failures, with their CF-RAYs; three
// shards merged by report give the same rows.
func TestEvidenceCSV(t *testing.T) {
	var wantSlow, wantFail []string
	for i := range 15 {
		if i < 10 {
			wantSlow = append(wantSlow, fmt.Sprintf("stall-%02d-AMS", i))
		} else {
			wantFail = append(wantFail, fmt.Sprintf("fail-%02d-AMS", i))
		}
	}
	check := func(t *testing.T, dir string) {
		t.Helper()
		got := evidenceRows(t, dir)
		assert.ElementsMatch(t, wantSlow, got["slowest"], "the 10 slowest are the stalled requests")
		assert.ElementsMatch(t, wantFail, got["failure"], "the failures are the 500s")
	}
	args := []string{"--rate", "20/s", "--duration", "3s", "--evidence", "10", "--format", "json"}
	t.Run("one process", func(t *testing.T) {
		s, offers := evidenceStandIn(t)
		dir := filepath.Join(t.TempDir(), "whole")
		r := invoke(t, s.env(), append([]string{"load", "--offers", offers, "--report-dir", dir}, args...)...)
		require.Equal(t, exitFindings, r.code, "5 of 60 failed: stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		check(t, dir)
	})
	t.Run("three shards merged", func(t *testing.T) {
		s, offers := evidenceStandIn(t)
		root := t.TempDir()
		dirs, runs := make([]string, 3), make([]result, 3)
		var wg sync.WaitGroup
		for i := range 3 { // started together, as the shards of one job
			dirs[i] = filepath.Join(root, fmt.Sprintf("shard-%d", i))
			wg.Go(func() {
				runs[i] = invoke(t, s.env(), append([]string{"load", "--offers", offers, "--shard", fmt.Sprintf("%d/3", i), "--report-dir", dirs[i]}, args...)...)
			})
		}
		wg.Wait()
		for i, r := range runs {
			require.Equal(t, exitFindings, r.code, "shard %d: stdout:\n%s\nstderr:\n%s", i, r.stdout, r.stderr)
		}
		merged := filepath.Join(root, "merged")
		r := invoke(t, nil, append([]string{"report", "--out", merged}, dirs...)...)
		require.Equal(t, exitFindings, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		check(t, merged)
	})
}

// evidenceStandIn starts a stand-in for TestEvidenceCSV and writes its 60
// offers: the first 10 stall for a second, the next 5 fail with 500, each
// answer with a CF-RAY naming its row.
func evidenceStandIn(t *testing.T) (*standIn, string) {
	offers := writeOffers(t, 60)
	f, err := os.Open(offers)
	require.NoError(t, err)
	rows, err := csv.NewReader(f).ReadAll()
	_ = f.Close()
	require.NoError(t, err)
	index := map[string]int{}
	for i, row := range rows[1:] {
		index[strings.ToLower(row[0])] = i
	}
	var s *standIn
	s = newStandIn(t, standInOpts{confirm: func(w http.ResponseWriter, r *http.Request, _ int64) bool {
		rest := r.URL.Path[strings.Index(r.URL.Path, "/offers/")+len("/offers/"):]
		i, ok := index[strings.ToLower(strings.TrimSuffix(rest, "/confirm"))]
		switch {
		case ok && i < 10:
			w.Header().Set("CF-RAY", fmt.Sprintf("stall-%02d-AMS", i))
			select {
			case <-time.After(time.Second):
			case <-r.Context().Done():
			}
		case ok && i < 15:
			w.Header().Set("CF-RAY", fmt.Sprintf("fail-%02d-AMS", i))
			writeJSONBody(w, http.StatusInternalServerError, `{"message":"Server Error"}`)
			return true
		default:
			w.Header().Set("CF-RAY", "ok-AMS")
		}
		if tok, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); found && s.issued(tok) {
			r.Header.Set("Authorization", s.sbAuth)
		}
		rec := httptest.NewRecorder()
		s.sb.Handler().ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			if k != "Cf-Ray" {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		return true
	}})
	return s, offers
}
