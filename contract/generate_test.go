package contract

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/xoneharness/xoneharness/internal/auth"
	"github.com/xoneharness/xoneharness/internal/sandbox"
	"github.com/xoneharness/xoneharness/internal/xone"
	"github.com/xoneharness/xoneharness/ledger"
)

func generated(res *Result) []CaseResult {
	var out []CaseResult
	for _, c := range res.Cases {
		if c.Generated != nil {
			out = append(out, c)
		}
	}
	return out
}

var uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// sentBodies lists name, mutation and request body of every generated
// case, with offer and quote ids (fresh per run) masked.
func sentBodies(res *Result) []string {
	var out []string
	for _, c := range generated(res) {
		out = append(out, c.Name+" "+c.Generated.Mutation+" "+uuidRE.ReplaceAllString(c.Exchange.RequestBody, "UUID"))
	}
	return out
}

func TestGenerateCleanSandboxPassesAndReplays(t *testing.T) {
	srv := sandbox.StartTB(t)
	var runs [][]string
	for range 2 {
		cfg := sandboxConfig(t, srv, false)
		cfg.Generate, cfg.Seed = 60, 1
		res := mustRun(t, cfg)
		require.NotNil(t, res.Generation)
		assert.Equal(t, uint64(1), res.Generation.Seed)
		assert.Equal(t, 60, res.Generation.Run)
		gs := generated(res)
		require.Len(t, gs, 60)
		kinds := map[string]int{}
		for _, c := range gs {
			kinds[c.Generated.Kind]++
			assert.Equal(t, OutcomePass, c.Outcome, "%s %s: %s\n%s", c.Name, c.Generated.Mutation, c.Reason, c.Exchange.RequestBody)
			assert.True(t, strings.HasPrefix(c.Name, GeneratedPrefix+c.Generated.Kind+"-"), c.Name)
		}
		assert.Equal(t, map[string]int{KindPositive: 30, KindNegative: 30}, kinds)
		assert.False(t, res.Failed())
		assert.Empty(t, res.Incomplete())
		runs = append(runs, sentBodies(res))
	}
	assert.Equal(t, runs[0], runs[1], "same seed, same cases")

	cfg := sandboxConfig(t, srv, false)
	cfg.Generate, cfg.Seed = 60, 2
	assert.NotEqual(t, runs[0], sentBodies(mustRun(t, cfg)), "another seed, other cases")
}

// TestGenerateCoverage checks the coverage phase reaches every optional
// member and every coverage string.
func TestGenerateCoverage(t *testing.T) {
	cfg := sandboxConfig(t, sandbox.StartTB(t), false)
	cfg.Generate, cfg.Seed = 2*len(coverageStrings()), 7
	res := mustRun(t, cfg)
	var all strings.Builder
	for _, c := range generated(res) {
		if c.Generated.Kind == KindPositive {
			all.WriteString(c.Exchange.RequestBody)
		}
	}
	for _, want := range []string{`"insured":[{`, `"brightwrite_details":{`, `"bw_device_id"`, `"postcode"`, `"region"`} {
		assert.Contains(t, all.String(), want)
	}
	for _, s := range coverageStrings() {
		b, _ := json.Marshal(s)
		assert.Contains(t, all.String(), strings.Trim(string(b), `"`), "coverage string %q sent", s)
	}
}

// TestGeneratedBodiesKeepTheirPromise checks, over rapid-generated bodies,
// that every positive body validates and every mutation invalidates it.
func TestGeneratedBodiesKeepTheirPromise(t *testing.T) {
	s := loadSpec(t, false)
	root, err := requestSchema(s)
	require.NoError(t, err)
	g := &generator{cfg: &Config{Spec: s}}
	gen := positiveBody(root, 3)
	rapid.Check(t, func(rt *rapid.T) {
		body := gen.Draw(rt, "body")
		require.NoError(rt, g.checkBody(genCase{name: "p", kind: KindPositive}, body))
		for _, m := range mutations(root, body) {
			require.NoError(rt, g.checkBody(genCase{name: "n", kind: KindNegative, mut: m}, m.apply(body)))
		}
	})
}

// TestGenerateFindsDrift: for each generative drift mode the fixed suite
// passes and the generated cases report it with a shrunk body.
func TestGenerateFindsDrift(t *testing.T) {
	plain := func(v string) bool {
		return v == plainString || v == auth.Redacted || uuidRE.MatchString(v)
	}
	for _, tc := range []struct {
		mode    string
		outcome Outcome
		kind    string
		check   func(t *testing.T, body map[string]any, leaves []string)
	}{
		{"non-ascii-500", OutcomeFail, KindPositive, func(t *testing.T, body map[string]any, leaves []string) {
			var unusual []string
			for _, l := range leaves {
				if !plain(l) {
					unusual = append(unusual, l)
				}
			}
			require.Len(t, unusual, 1, "one unusual value: %v", leaves)
			assert.False(t, isASCII(unusual[0]), "got %q, want a non-ASCII string", unusual[0])
			assert.NotContains(t, body["quotes"].([]any)[0], "insured")
		}},
		{"wrong-types-booked", OutcomeFail, KindNegative, func(t *testing.T, body map[string]any, leaves []string) {
			ph := body["policyholder"].(map[string]any)
			assert.LessOrEqual(t, len(ph), 4, "the members the API requires and at most the mutated one: %v", ph)
			assert.NotContains(t, body["quotes"].([]any)[0], "insured")
		}},
		{"insured-refused", OutcomeDrift, KindPositive, func(t *testing.T, body map[string]any, leaves []string) {
			q := body["quotes"].([]any)
			require.Len(t, q, 1)
			assert.Contains(t, q[0], "insured")
			assert.NotContains(t, q[0], "brightwrite_details")
			assert.Len(t, body["policyholder"], 3)
		}},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			srv := sandbox.StartTB(t, sandbox.Drift(tc.mode))
			fixed := mustRun(t, sandboxConfig(t, srv, false))
			for _, c := range fixed.Cases {
				assert.Contains(t, []Outcome{OutcomePass, OutcomeDrift}, c.Outcome, "fixed case %s: %s", c.Name, c.Reason)
			}
			assert.False(t, fixed.Failed(), "the fixed suite does not fail")
			cfg := sandboxConfig(t, srv, false)
			cfg.Generate, cfg.Seed = 40, 3
			res := mustRun(t, cfg)
			var found *CaseResult
			for _, c := range generated(res) {
				if c.Outcome == tc.outcome && c.Generated.Kind == tc.kind {
					found = &c
					break
				}
			}
			require.NotNil(t, found, "no %s %s case", tc.kind, tc.outcome)
			g := found.Generated
			t.Logf("%s %s: %s\nminimal: %s\n%s", found.Name, g.Mutation, found.Reason, g.MinimalBody, g.Curl)
			require.NotEmpty(t, g.MinimalBody)
			assert.LessOrEqual(t, len(g.MinimalBody), len(found.Exchange.RequestBody))
			assert.Greater(t, g.ShrinkRequests, 0)
			assert.Contains(t, g.Curl, `-H "Authorization: Bearer $TOKEN"`)
			assert.Contains(t, g.Curl, "/confirm'")
			var body map[string]any
			require.NoError(t, json.Unmarshal([]byte(g.MinimalBody), &body))
			tc.check(t, body, stringLeaves(body))
			if tc.outcome == OutcomeFail {
				assert.True(t, res.Failed())
			}
		})
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func stringLeaves(v any) []string {
	switch v := v.(type) {
	case map[string]any:
		var out []string
		for _, x := range v {
			out = append(out, stringLeaves(x)...)
		}
		return out
	case []any:
		var out []string
		for _, x := range v {
			out = append(out, stringLeaves(x)...)
		}
		return out
	case string:
		return []string{v}
	}
	return nil
}

// TestGenerateOfferBudget: off the embedded sandbox generated cases draw
// offers from NextOffer (after the race check took the first), only bookings
// consume them, every booking is in the journal, and an empty feed stops
// generation and makes the run incomplete.
func TestGenerateOfferBudget(t *testing.T) {
	srv := sandbox.StartTB(t)
	cfg := sandboxConfig(t, srv, false)
	cfg.Embedded = false
	feed := []string{}
	for range 5 {
		feed = append(feed, xone.NewUUID())
	}
	drawn := 0
	cfg.NextOffer = func() (string, string, bool) {
		if drawn == len(feed) {
			return "", "", false
		}
		drawn++
		return feed[drawn-1], xone.NewUUID(), true
	}
	var rows func() []ledger.Row
	cfg.Journal, rows = testJournal(t)
	cfg.Generate, cfg.Seed = 30, 5
	res := mustRun(t, cfg)
	booked := map[string]int{}
	for _, b := range rows() {
		if slices.Contains(feed, b.OfferID) {
			booked[b.OfferID]++
		}
	}
	g := res.Generation
	require.NotNil(t, g)
	assert.Equal(t, 4, g.OffersUsed)
	assert.Less(t, g.Run, 30)
	assert.NotEmpty(t, g.Stopped)
	assert.Len(t, booked, 5, "every drawn offer booked once")
	for o, n := range booked {
		assert.Equal(t, 1, n, "offer %s confirmed %d times", o, n)
	}
	negatives := 0
	for _, c := range generated(res) {
		if c.Generated.Kind == KindNegative {
			negatives++
		}
	}
	assert.Greater(t, negatives, 0, "refused negative cases reuse the offer")
	require.NotEmpty(t, res.Incomplete())
	assert.Contains(t, strings.Join(res.Incomplete(), "\n"), "generated cases stopped")

	cfg.NextOffer, cfg.Journal = nil, nil
	res = mustRun(t, cfg)
	assert.Equal(t, 0, res.Generation.Run)
	assert.Contains(t, strings.Join(res.Incomplete(), "\n"), "no offer feed")
}

func TestCurlLineQuotes(t *testing.T) {
	got := curlLine("http://127.0.0.1:1/api/partners/p/offers/o/confirm", []byte(`{"a":"O'Brien"}`))
	want := `curl -sS -X POST 'http://127.0.0.1:1/api/partners/p/offers/o/confirm' -H "Authorization: Bearer $TOKEN"` +
		` -H 'Content-Type: application/json' -H 'Accept: application/json' --data-binary '{"a":"O'\''Brien"}'`
	assert.Equal(t, want, got)
}

// TestShrinkRequestsCountWhatWasSent: a shrink that runs out of offers
// (each booked body consumes one) reports the requests it sent, not the
// ones it meant to send: the generated cases' first sends and shrink
// requests add up to Generation.Requests and to what the server received.
func TestShrinkRequestsCountWhatWasSent(t *testing.T) {
	srv := sandbox.StartTB(t, sandbox.Drift("non-ascii-500"))
	cfg := sandboxConfig(t, srv, false)
	cfg.Embedded, cfg.Race = false, -1
	left := 12
	cfg.NextOffer = func() (string, string, bool) {
		if left == 0 {
			return "", "", false
		}
		left--
		return xone.NewUUID(), xone.NewUUID(), true
	}
	cfg.Generate, cfg.Seed, cfg.MaxShrinks = 40, 11, 50
	res := mustRun(t, cfg)
	fixed, shrinks, gen := 0, 0, 0
	for _, c := range res.Cases {
		switch {
		case c.Generated != nil:
			gen++
			shrinks += c.Generated.ShrinkRequests
		case c.Outcome != OutcomeSkip:
			fixed++
		}
	}
	require.NotNil(t, res.Generation)
	require.Positive(t, shrinks, "a failing generated case was shrunk")
	assert.NotEmpty(t, res.Generation.Stopped, "the offers ran out")
	assert.Equal(t, res.Generation.Requests, gen+shrinks, "generated sends plus shrink requests")
	assert.Equal(t, int64(fixed+gen+shrinks), srv.Stats().Confirms, "confirms the server received")
}
