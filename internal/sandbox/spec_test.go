package sandbox

import (
	"net/http"
	"sort"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xoneharness/xoneharness/spec"
)

// specs loads the corrected document once per test binary run (Load takes milliseconds,
// and one Spec is safe for concurrent use).
var specs = sync.OnceValues(func() ([2]*spec.Spec, error) {
	plain, err := spec.Load()
	if err != nil {
		return [2]*spec.Spec{}, err
	}
	strict, err := spec.Load(spec.Strict())
	return [2]*spec.Spec{plain, strict}, err
})

func loadSpecs(t *testing.T) (plain, strict *spec.Spec) {
	t.Helper()
	s, err := specs()
	require.NoError(t, err)
	return s[0], s[1]
}

func specReq(offer string) *http.Request {
	r, _ := http.NewRequest(http.MethodPost, "http://sandbox.test"+confirmPath(offer), nil)
	r.Header.Set("Content-Type", "application/json")
	return r
}

func rules(vs []spec.Violation) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range vs {
		if !seen[v.Rule] {
			seen[v.Rule] = true
			out = append(out, v.Rule)
		}
	}
	sort.Strings(out)
	return out
}

// TestBookingValidatesAgainstSpec checks 200 bookings over 200 seeds against the corrected
// document (format assertions on, and strict mode) with zero violations.
func TestBookingValidatesAgainstSpec(t *testing.T) {
	plain, strict := loadSpecs(t)
	for seed := int64(0); seed < 200; seed++ {
		s := newTB(t, Seed(seed))
		offer := offerID(int(seed))
		req := confirmReq(offer, s.MintToken(ClientID, 0), validBody(t))
		assert.Empty(t, plain.ValidateRequest(specReq(offer), validBody(t)), "the test request conforms")
		rec := serve(s, req)
		require.Equal(t, http.StatusOK, rec.Code)
		resp := spec.Response{Status: rec.Code, Header: rec.Result().Header, Body: rec.Body.Bytes()}
		assert.Empty(t, plain.ValidateResponse(specReq(offer), resp), "seed %d", seed)
		assert.Empty(t, strict.ValidateResponse(specReq(offer), resp), "seed %d (strict)", seed)
		checkBooking(t, rec.Body.Bytes(), offer)
		if t.Failed() {
			t.Logf("seed %d body: %s", seed, rec.Body)
			return
		}
	}
}

func TestUnauthorizedValidatesAgainstSpec(t *testing.T) {
	plain, strict := loadSpecs(t)
	s := newTB(t)
	for name, tok := range map[string]string{
		"missing":   "",
		"expired":   s.MintToken(ClientID, -1),
		"read-only": s.MintToken(ReadOnlyClientID, 0),
	} {
		t.Run(name, func(t *testing.T) {
			rec := serve(s, confirmReq(offerID(1), tok, validBody(t)))
			require.Equal(t, http.StatusUnauthorized, rec.Code)
			resp := spec.Response{Status: rec.Code, Header: rec.Result().Header, Body: rec.Body.Bytes()}
			assert.Empty(t, plain.ValidateResponse(specReq(offerID(1)), resp))
			assert.Empty(t, strict.ValidateResponse(specReq(offerID(1)), resp))
		})
	}
}

// TestDriftViolations checks each drift mode against the document: modes the validator
// catches produce exactly their documented rule; the others produce the same rules as
// the clean sandbox does for the same scenario.
func TestDriftViolations(t *testing.T) {
	plain, strict := loadSpecs(t)
	cases := driftCases()
	offer := offerID(77)
	validate := func(sp *spec.Spec, s *Server, scenario string) []spec.Violation {
		code, h, body := driftResponse(t, s, scenario, offer)
		return sp.ValidateResponse(specReq(offer), spec.Response{Status: code, Header: h, Body: body})
	}
	for _, m := range DriftModes() {
		t.Run(m.Name, func(t *testing.T) {
			c, ok := cases[m.Name]
			require.True(t, ok)
			cleanPlain := validate(plain, newTB(t, Seed(1)), c.scenario)
			got := validate(plain, newTB(t, Seed(1), Drift(m.Name)), c.scenario)
			gotStrict := validate(strict, newTB(t, Seed(1), Drift(m.Name)), c.scenario)
			switch m.Detect {
			case "schema", "format":
				require.NotEmpty(t, got, "the validator catches %s", m.Name)
				assert.Equal(t, []string{m.Rule}, rules(got), "exactly one kind of violation")
				assert.Equal(t, m.Rule == spec.RuleFormat, m.Detect == "format")
			case "strict":
				assert.Equal(t, rules(cleanPlain), rules(got), "invisible without strict mode")
				assert.Equal(t, []string{m.Rule}, rules(gotStrict))
			case "generate": // judged by the generated cases' policy, not by one response
				assert.Empty(t, m.Rule)
				return
			case "check", "race":
				assert.Empty(t, m.Rule)
				assert.Empty(t, got, "the document alone does not catch %s", m.Name)
				assert.Empty(t, gotStrict)
			default: // "drift"
				assert.Empty(t, m.Rule)
				assert.Equal(t, rules(cleanPlain), rules(got), "the document cannot tell %s from clean", m.Name)
			}
			if !m.DriftOnly && (c.scenario == "ok" || c.scenario == "noauth") && m.Detect != "check" {
				assert.NotEmpty(t, got, "a failing 200/401 mode has a violation")
			}
		})
	}
	t.Run("rule names match the spec package", func(t *testing.T) {
		known := map[string]bool{spec.RuleSchema: true, spec.RuleFormat: true, spec.RuleContentType: true,
			spec.RuleEmptyBody: true, spec.RuleStatusUndocumented: true, spec.RuleUndocumentedField: true}
		for _, m := range DriftModes() {
			if m.Rule != "" {
				assert.True(t, known[m.Rule], "%s: rule %q", m.Name, m.Rule)
			}
		}
	})
}
