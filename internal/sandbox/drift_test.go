package sandbox

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDriftModesList(t *testing.T) {
	modes := DriftModes()
	require.GreaterOrEqual(t, len(modes), 12)
	names := make([]string, len(modes))
	for i, m := range modes {
		names[i] = m.Name
		assert.NotEmpty(t, m.Description, m.Name)
		assert.Contains(t, []string{"schema", "format", "check", "strict", "drift", "generate", "race"}, m.Detect, m.Name)
		if m.Detect != "generate" {
			assert.Equal(t, m.Detect == "strict" || m.Detect == "drift", m.DriftOnly, "%s: DriftOnly agrees with Detect", m.Name)
		}
		_, err := New(Drift(m.Name))
		assert.NoError(t, err, m.Name)
	}
	assert.True(t, sort.StringsAreSorted(names), "sorted by name: %v", names)
	uniq := map[string]bool{}
	for _, n := range names {
		assert.False(t, uniq[n], "duplicate %s", n)
		uniq[n] = true
	}
	for _, want := range []string{"undocumented-field", "422-as-400"} {
		for _, m := range modes {
			if m.Name == want {
				assert.True(t, m.DriftOnly, want)
			}
		}
	}
	modes[0].Name = "mutated"
	assert.NotEqual(t, "mutated", DriftModes()[0].Name, "DriftModes returns a copy")
}

// driftCase describes how to provoke a drift mode and what must differ from clean.
type driftCase struct {
	scenario string // ok | noauth | invalid | dup | race | ...
	check    func(t *testing.T, code int, h http.Header, body []byte)
}

// driftResponse runs scenario against s and returns the response that shows the drift.
func driftResponse(t *testing.T, s *Server, scenario string, offer string) (int, http.Header, []byte) {
	t.Helper()
	tok := s.MintToken(ClientID, 0)
	var r *http.Request
	switch scenario {
	case "ok":
		r = confirmReq(offer, tok, validBody(t))
	case "noauth":
		r = confirmReq(offer, "", validBody(t))
	case "invalid":
		r = confirmReq(offer, tok, []byte(`{"quotes":[]}`))
	case "nonascii":
		r = confirmReq(offer, tok, []byte(`{"quotes":[{"id":"`+offerID(2)+`"}],"policyholder":{"first_name":"Ada","last_name":"Łukasiewicz","email":"ada@example.com"}}`))
	case "wrongtype":
		r = confirmReq(offer, tok, []byte(`{"quotes":[{"id":12345}],"policyholder":{"first_name":"Ada","last_name":"Lovelace","email":"ada@example.com"}}`))
	case "insured":
		r = confirmReq(offer, tok, []byte(`{"quotes":[{"id":"`+offerID(2)+`","insured":[]}],"policyholder":{"first_name":"Ada","last_name":"Lovelace","email":"ada@example.com"}}`))
	case "dup":
		first := serve(s, confirmReq(offer, tok, validBody(t)))
		require.Equal(t, http.StatusOK, first.Code)
		r = confirmReq(offer, tok, validBody(t))
	case "race":
		rec := raceResponse(s, tok, offer, validBody(t))
		return rec.Code, rec.Result().Header, rec.Body.Bytes()
	default:
		t.Fatalf("unknown scenario %q", scenario)
	}
	rec := serve(s, r)
	return rec.Code, rec.Result().Header, rec.Body.Bytes()
}

// raceResponse confirms offer 5 times at once, and again with fresh offers until one
// books more than once (10 tries at most). It returns a second booking when one was
// made, and otherwise a refused confirm.
func raceResponse(s *Server, tok, offer string, body []byte) *httptest.ResponseRecorder {
	var refused *httptest.ResponseRecorder
	for try := range 10 {
		var booked []*httptest.ResponseRecorder
		for _, rec := range together(5, func(int) *httptest.ResponseRecorder { return serve(s, confirmReq(offer, tok, body)) }) {
			if rec.Code == http.StatusOK {
				booked = append(booked, rec)
			} else {
				refused = rec
			}
		}
		if len(booked) > 1 {
			return booked[1]
		}
		offer = offerID(5000 + try)
	}
	return refused
}

func data(t *testing.T, body []byte) map[string]any {
	t.Helper()
	d, ok := decode(t, body)["data"].(map[string]any)
	require.True(t, ok, "data is an object: %s", body)
	return d
}

func driftCases() map[string]driftCase {
	offer := offerID(77)
	return map[string]driftCase{
		"price-as-string": {"ok", func(t *testing.T, code int, _ http.Header, body []byte) {
			p, ok := data(t, body)["price"].(string)
			assert.True(t, ok, "price is a string")
			assert.Regexp(t, `^\d+\.\d\d$`, p)
		}},
		"bad-date-time": {"ok", func(t *testing.T, code int, _ http.Header, body []byte) {
			s, _ := data(t, body)["created_at"].(string)
			_, err := time.Parse(time.RFC3339, s)
			assert.Error(t, err, "created_at %q", s)
			assert.NotEmpty(t, s)
		}},
		"bad-email": {"ok", func(t *testing.T, code int, _ http.Header, body []byte) {
			e, _ := data(t, body)["policyholder"].(map[string]any)["email"].(string)
			assert.NotContains(t, e, "@")
			assert.False(t, validEmail(e), e)
		}},
		"bad-uri": {"ok", func(t *testing.T, code int, _ http.Header, body []byte) {
			u, _ := data(t, body)["coi"].(map[string]any)["url"].(string)
			parsed, err := url.Parse(u)
			require.NoError(t, err)
			assert.False(t, parsed.IsAbs(), "coi.url %q is relative", u)
		}},
		"missing-content-type": {"ok", func(t *testing.T, code int, h http.Header, body []byte) {
			assert.Equal(t, http.StatusOK, code)
			assert.Empty(t, h.Get("Content-Type"))
			assert.True(t, json.Valid(body))
		}},
		"html-401": {"noauth", func(t *testing.T, code int, h http.Header, body []byte) {
			assert.Equal(t, http.StatusUnauthorized, code)
			assert.True(t, strings.HasPrefix(h.Get("Content-Type"), "text/html"), h.Get("Content-Type"))
			assert.False(t, json.Valid(body))
		}},
		"message-as-number": {"noauth", func(t *testing.T, code int, h http.Header, body []byte) {
			assert.Equal(t, http.StatusUnauthorized, code)
			assert.JSONEq(t, `{"message":401}`, string(body))
		}},
		"empty-200": {"ok", func(t *testing.T, code int, h http.Header, body []byte) {
			assert.Equal(t, http.StatusOK, code)
			assert.Equal(t, "application/json", h.Get("Content-Type"))
			assert.Empty(t, body)
		}},
		"null-200": {"ok", func(t *testing.T, code int, h http.Header, body []byte) {
			assert.Equal(t, http.StatusOK, code)
			assert.Equal(t, "null", string(body))
		}},
		"undocumented-500": {"noauth", func(t *testing.T, code int, h http.Header, body []byte) {
			assert.Equal(t, http.StatusInternalServerError, code)
			assert.JSONEq(t, `{"message":"Server Error"}`, string(body))
		}},
		"policies-as-object": {"ok", func(t *testing.T, code int, h http.Header, body []byte) {
			p, ok := data(t, body)["policies"].(map[string]any)
			assert.True(t, ok, "policies is an object")
			assert.Contains(t, p, "policy_type")
		}},
		"data-as-array": {"ok", func(t *testing.T, code int, h http.Header, body []byte) {
			arr, ok := decode(t, body)["data"].([]any)
			require.True(t, ok, "data is an array")
			require.Len(t, arr, 1)
			assert.Equal(t, offer, arr[0].(map[string]any)["offer_id"])
		}},
		"accept-without-token": {"noauth", func(t *testing.T, code int, h http.Header, body []byte) {
			assert.Equal(t, http.StatusOK, code)
			assert.Equal(t, offer, data(t, body)["offer_id"])
		}},
		"offer-id-not-echoed": {"ok", func(t *testing.T, code int, h http.Header, body []byte) {
			got, _ := data(t, body)["offer_id"].(string)
			assert.NotEqual(t, offer, got)
			assert.Regexp(t, reUUID, got)
		}},
		"undocumented-field": {"ok", func(t *testing.T, code int, h http.Header, body []byte) {
			assert.Contains(t, data(t, body), "surprise_field")
		}},
		"duplicate-booking": {"dup", func(t *testing.T, code int, h http.Header, body []byte) {
			assert.Equal(t, http.StatusOK, code)
			assert.Regexp(t, reBookingID, data(t, body)["id"])
		}},
		"non-ascii-500": {"nonascii", func(t *testing.T, code int, h http.Header, body []byte) {
			assert.Equal(t, http.StatusInternalServerError, code)
			assert.JSONEq(t, bodyServerError, string(body))
		}},
		"wrong-types-booked": {"wrongtype", func(t *testing.T, code int, h http.Header, body []byte) {
			assert.Equal(t, http.StatusOK, code)
			assert.Equal(t, "12345", data(t, body)["quote"].(map[string]any)["uuid"], "the coerced id is echoed")
		}},
		"insured-refused": {"insured", func(t *testing.T, code int, h http.Header, body []byte) {
			assert.Equal(t, http.StatusUnprocessableEntity, code)
			assert.Contains(t, string(body), "quotes.0.insured")
		}},
		"racy-double-book": {"race", func(t *testing.T, code int, h http.Header, body []byte) {
			assert.Equal(t, http.StatusOK, code, "a second confirm of the offer booked: %s", body)
			assert.Regexp(t, reBookingID, data(t, body)["id"])
		}},
		"422-as-400": {"invalid", func(t *testing.T, code int, h http.Header, body []byte) {
			assert.Equal(t, http.StatusBadRequest, code)
			assert.Equal(t, "validation_error", decode(t, body)["type"])
		}},
		"401-as-403": {"noauth", func(t *testing.T, code int, h http.Header, body []byte) {
			assert.Equal(t, http.StatusForbidden, code)
			assert.JSONEq(t, bodyUnauthenticated, string(body))
		}},
	}
}

func TestDrift(t *testing.T) {
	cases := driftCases()
	offer := offerID(77)
	for _, m := range DriftModes() {
		t.Run(m.Name, func(t *testing.T) {
			c, ok := cases[m.Name]
			require.True(t, ok, "drift mode %s has no test case", m.Name)

			clean := newTB(t, Seed(1))
			cc, _, cb := driftResponse(t, clean, c.scenario, offer)
			drifted := newTB(t, Seed(1), Drift(m.Name))
			dc, dh, db := driftResponse(t, drifted, c.scenario, offer)
			assert.False(t, cc == dc && string(cb) == string(db), "drift changes the response")
			c.check(t, dc, dh, db)
		})
	}
	assert.Len(t, cases, len(DriftModes()), "every test case names a known mode")
}

func TestDriftDuplicateCounts(t *testing.T) {
	s := newTB(t, Drift("duplicate-booking"))
	tok := s.MintToken(ClientID, 0)
	a := serve(s, confirmReq(offerID(1), tok, validBody(t)))
	b := serve(s, confirmReq(offerID(1), tok, validBody(t)))
	require.Equal(t, http.StatusOK, a.Code)
	require.Equal(t, http.StatusOK, b.Code)
	assert.NotEqual(t, data(t, a.Body.Bytes())["id"], data(t, b.Body.Bytes())["id"], "a new booking id")
	assert.Equal(t, int64(1), s.Stats().DuplicateConfirms)
	assert.Equal(t, int64(2), s.Stats().Confirmed)
}

func TestDriftAcceptsAnyToken(t *testing.T) {
	s := newTB(t, Drift("accept-without-token"))
	for i, tok := range []string{"", "garbage", s.MintToken(ClientID, -time.Minute), s.MintToken(ReadOnlyClientID, 0)} {
		assert.Equal(t, http.StatusOK, serve(s, confirmReq(offerID(i), tok, validBody(t))).Code, "token %d", i)
	}
}

func TestDriftsCombine(t *testing.T) {
	s := newTB(t, Drift("price-as-string", "bad-email"), Drift("html-401", "401-as-403"))
	tok := s.MintToken(ClientID, 0)
	rec := serve(s, confirmReq(offerID(1), tok, validBody(t)))
	d := data(t, rec.Body.Bytes())
	assert.IsType(t, "", d["price"])
	assert.NotContains(t, d["policyholder"].(map[string]any)["email"], "@")
	rec = serve(s, confirmReq(offerID(2), "", validBody(t)))
	assert.Equal(t, http.StatusForbidden, rec.Code)
	assert.Contains(t, rec.Header().Get("Content-Type"), "text/html")
}

// TestDriftMissingContentTypeOverNetwork checks net/http does not sniff a Content-Type in.
func TestDriftMissingContentTypeOverNetwork(t *testing.T) {
	s := StartTB(t, Drift("missing-content-type"))
	r := confirmReq(offerID(1), s.MintToken(ClientID, 0), validBody(t))
	req, err := http.NewRequest(http.MethodPost, s.URL()+r.URL.Path, r.Body)
	require.NoError(t, err)
	req.Header = r.Header
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body := readAll(t, resp.Body)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.NotContains(t, resp.Header, "Content-Type")
	assert.True(t, json.Valid(body))
}
