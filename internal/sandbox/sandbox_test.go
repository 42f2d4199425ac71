package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestToken(t *testing.T) {
	jsonBody := func(grant, id, secret string) string {
		b, _ := json.Marshal(map[string]string{"grant_type": grant, "client_id": id, "client_secret": secret})
		return string(b)
	}
	form := func(grant, id, secret string) string {
		return url.Values{"grant_type": {grant}, "client_id": {id}, "client_secret": {secret}}.Encode()
	}
	tests := []struct {
		name       string
		ct         string
		body       string
		basic      [2]string
		wantStatus int
		wantScope  string
		wantMsg    string
	}{
		{"json", "application/json", jsonBody("client_credentials", ClientID, ClientSecret), [2]string{}, 200, ScopeUpdate, ""},
		{"json with charset", "application/json; charset=utf-8", jsonBody("client_credentials", ClientID, ClientSecret), [2]string{}, 200, ScopeUpdate, ""},
		{"form", "application/x-www-form-urlencoded", form("client_credentials", ClientID, ClientSecret), [2]string{}, 200, ScopeUpdate, ""},
		{"basic with form grant", "application/x-www-form-urlencoded", "grant_type=client_credentials", [2]string{ClientID, ClientSecret}, 200, ScopeUpdate, ""},
		{"basic with json grant", "application/json", `{"grant_type":"client_credentials"}`, [2]string{ReadOnlyClientID, ReadOnlyClientSecret}, 200, ScopeView, ""},
		{"read-only json", "application/json", jsonBody("client_credentials", ReadOnlyClientID, ReadOnlyClientSecret), [2]string{}, 200, ScopeView, ""},
		{"wrong secret", "application/json", jsonBody("client_credentials", ClientID, "nope"), [2]string{}, 401, "", "Invalid client credentials."},
		{"secret of other client", "application/json", jsonBody("client_credentials", ClientID, ReadOnlyClientSecret), [2]string{}, 401, "", "Invalid client credentials."},
		{"unknown client", "application/json", jsonBody("client_credentials", "who", ClientSecret), [2]string{}, 401, "", "Invalid client credentials."},
		{"wrong basic secret", "application/x-www-form-urlencoded", "grant_type=client_credentials", [2]string{ClientID, "bad"}, 401, "", "Invalid client credentials."},
		{"wrong grant type", "application/json", jsonBody("password", ClientID, ClientSecret), [2]string{}, 400, "", ""},
		{"missing grant type", "application/json", `{"client_id":"sandbox-client","client_secret":"sandbox-secret"}`, [2]string{}, 400, "", ""},
		{"malformed json", "application/json", `{"grant_type":`, [2]string{}, 400, "", ""},
		{"empty body", "application/json", ``, [2]string{}, 400, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTB(t)
			r := httptest.NewRequest(http.MethodPost, TokenPath, strings.NewReader(tt.body))
			r.Header.Set("Content-Type", tt.ct)
			if tt.basic[0] != "" {
				r.SetBasicAuth(tt.basic[0], tt.basic[1])
			}
			rec := serve(s, r)
			require.Equal(t, tt.wantStatus, rec.Code, "body: %s", rec.Body)
			assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			v := decode(t, rec.Body.Bytes())
			if tt.wantStatus != 200 {
				assert.NotContains(t, v, "access_token")
				if tt.wantMsg != "" {
					assert.Equal(t, tt.wantMsg, v["message"])
				}
				assert.Equal(t, int64(0), s.Stats().TokensIssued)
				return
			}
			assert.Equal(t, "Bearer", v["token_type"])
			assert.Equal(t, float64(3600), v["expires_in"])
			assert.Equal(t, tt.wantScope, v["scope"])
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			tok, _ := v["access_token"].(string)
			require.NotEmpty(t, tok)
			assert.Equal(t, int64(1), s.Stats().TokensIssued)

			// The issued token works for confirm exactly when its scope is offers:update.
			c := serve(s, confirmReq(offerID(1), tok, validBody(t)))
			if tt.wantScope == ScopeUpdate {
				assert.Equal(t, http.StatusOK, c.Code, "body: %s", c.Body)
			} else {
				assert.Equal(t, http.StatusUnauthorized, c.Code, "body: %s", c.Body)
			}
		})
	}
}

func TestTokenTTL(t *testing.T) {
	tests := []struct {
		name string
		ttl  time.Duration
		want float64
	}{
		{"whole seconds", 90 * time.Second, 90},
		{"rounded up", 1500 * time.Millisecond, 2},
		{"sub-second", time.Millisecond, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTB(t, TokenTTL(tt.ttl))
			r := httptest.NewRequest(http.MethodPost, TokenPath, strings.NewReader(
				`{"grant_type":"client_credentials","client_id":"sandbox-client","client_secret":"sandbox-secret"}`))
			r.Header.Set("Content-Type", "application/json")
			rec := serve(s, r)
			require.Equal(t, http.StatusOK, rec.Code)
			assert.Equal(t, tt.want, decode(t, rec.Body.Bytes())["expires_in"])
		})
	}
}

// TestTokenExpiry moves an injected clock past the TTL and checks the token stops working.
func TestTokenExpiry(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := newTB(t, withClock(clock), TokenTTL(time.Minute))
	tok := s.MintToken(ClientID, 0)
	assert.Equal(t, http.StatusOK, serve(s, confirmReq(offerID(1), tok, validBody(t))).Code)
	mu.Lock()
	now = now.Add(59 * time.Second)
	mu.Unlock()
	assert.Equal(t, http.StatusOK, serve(s, confirmReq(offerID(2), tok, validBody(t))).Code)
	mu.Lock()
	now = now.Add(time.Second)
	mu.Unlock()
	assert.Equal(t, http.StatusUnauthorized, serve(s, confirmReq(offerID(3), tok, validBody(t))).Code)
}

func TestUnauthorized(t *testing.T) {
	s := newTB(t)
	other := newTB(t)
	good := s.MintToken(ClientID, 0)
	tampered := []byte(good)
	if tampered[10] == 'A' {
		tampered[10] = 'B'
	} else {
		tampered[10] = 'A'
	}
	tests := []struct {
		name string
		auth string // full Authorization header; "" sends none
	}{
		{"missing", ""},
		{"basic scheme", "Basic c2FuZGJveC1jbGllbnQ6c2FuZGJveC1zZWNyZXQ="},
		{"bearer without token", "Bearer "},
		{"malformed", "Bearer not-a-token"},
		{"tampered", "Bearer " + string(tampered)},
		{"expired", "Bearer " + s.MintToken(ClientID, -time.Minute)},
		{"read-only scope", "Bearer " + s.MintToken(ReadOnlyClientID, 0)},
		{"unknown client", "Bearer " + s.MintToken("someone-else", 0)},
		{"other server's key", "Bearer " + other.MintToken(ClientID, 0)},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := s.Stats().Unauthorized
			r := confirmReq(offerID(i), "", validBody(t))
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			rec := serve(s, r)
			require.Equal(t, http.StatusUnauthorized, rec.Code, "body: %s", rec.Body)
			assert.JSONEq(t, `{"message":"Unauthenticated."}`, rec.Body.String())
			assertEdgeHeaders(t, rec.Header())
			assert.Equal(t, before+1, s.Stats().Unauthorized)
		})
	}
	t.Run("good token is accepted", func(t *testing.T) {
		rec := serve(s, confirmReq(offerID(100), good, validBody(t)))
		assert.Equal(t, http.StatusOK, rec.Code, "body: %s", rec.Body)
		assert.Equal(t, int64(1), s.Stats().Confirmed)
	})
	t.Run("lower-case bearer", func(t *testing.T) {
		r := confirmReq(offerID(101), "", validBody(t))
		r.Header.Set("Authorization", "bearer "+good)
		assert.Equal(t, http.StatusOK, serve(s, r).Code)
	})
}

func assertEdgeHeaders(t *testing.T, h http.Header) {
	t.Helper()
	assert.Equal(t, "application/json", h.Get("Content-Type"))
	assert.Equal(t, "no-cache, private", h.Get("Cache-Control"))
	assert.Equal(t, "Origin", h.Get("Vary"))
	assert.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
	assert.Equal(t, "1; mode=block", h.Get("X-XSS-Protection"))
	assert.Contains(t, h.Get("Strict-Transport-Security"), "max-age=")
	assert.Equal(t, "DYNAMIC", h.Get("CF-Cache-Status"))
	assert.Equal(t, "cloudflare", h.Get("Server"))
	assert.Regexp(t, reCFRay, h.Get("CF-RAY"))
	assert.Regexp(t, reCfTeam, h.Get("Cf-Team"))
	assert.Regexp(t, reServerTiming, h.Get("Server-Timing"))
	_, err := http.ParseTime(h.Get("Date"))
	assert.NoError(t, err, "Date %q", h.Get("Date"))
}

// checkBooking asserts the semantic properties of a clean 200 booking.
func checkBooking(t *testing.T, body []byte, offer string) (bookingID string) {
	t.Helper()
	var env struct {
		Data map[string]any `json:"data"`
	}
	require.NoError(t, json.Unmarshal(body, &env), "body: %s", body)
	d := env.Data
	require.NotNil(t, d, "body: %s", body)
	id, _ := d["id"].(string)
	assert.Regexp(t, reBookingID, id)
	assert.Equal(t, offer, d["offer_id"])
	assert.Equal(t, "CONFIRMED", d["status"])
	assert.Equal(t, "AUD", d["currency"])
	assert.Regexp(t, reSecurityToken, d["security_token"])
	price, ok := d["price"].(float64)
	assert.True(t, ok && price >= 0, "price %v", d["price"])
	created := parseStamp(t, d["created_at"])
	updated := parseStamp(t, d["updated_at"])
	assert.False(t, updated.Before(created), "updated_at %v before created_at %v", updated, created)
	assert.Equal(t, map[string]any{"uuid": testQuoteID}, d["quote"])

	ph, _ := d["policyholder"].(map[string]any)
	for k, v := range testHolder() {
		assert.Equal(t, v, ph[k], "policyholder.%s", k)
	}
	assert.Regexp(t, reUUID, ph["id"])
	parseStamp(t, ph["created_at"])
	parseStamp(t, ph["updated_at"])

	pols, _ := d["policies"].([]any)
	require.True(t, len(pols) == 1 || len(pols) == 2, "got %d policies, want 1 or 2", len(pols))
	var sum float64
	for _, p := range pols {
		pol := p.(map[string]any)
		start := parseStamp(t, pol["policy_start_date"])
		end := parseStamp(t, pol["policy_end_date"])
		assert.False(t, end.Before(start), "policy end %v before start %v", end, start)
		for _, k := range []string{"price", "tax", "commission"} {
			v, ok := pol[k].(float64)
			assert.True(t, ok && v >= 0, "policy %s = %v", k, pol[k])
		}
		sum += pol["price"].(float64)
		assertHTTPS(t, pol["pds_url"])
		pc := pol["policy_content"].(map[string]any)
		assert.NotEmpty(t, pc["inclusions"])
		assert.NotEmpty(t, pc["exclusions"])
		assert.Contains(t, pol, "extra_fields")
		assert.Regexp(t, reUUID, pol["id"])
	}
	assert.InDelta(t, sum, price, 0.001, "booking price is the sum of policy prices")
	coi := d["coi"].(map[string]any)
	assertHTTPS(t, coi["url"])
	assertHTTPS(t, coi["pdf"])
	for _, k := range []string{"account_url", "fnol_link", "sign_up_url"} {
		assertHTTPS(t, d[k])
	}
	for _, k := range []string{"provider_reference", "language", "provider_customer_id", "is_instant_booking", "payment_status"} {
		assert.Contains(t, d, k)
	}
	return id
}

func parseStamp(t *testing.T, v any) time.Time {
	t.Helper()
	s, _ := v.(string)
	ts, err := time.Parse(time.RFC3339Nano, s)
	assert.NoError(t, err, "date-time %q", s)
	return ts
}

func assertHTTPS(t *testing.T, v any) {
	t.Helper()
	s, _ := v.(string)
	u, err := url.Parse(s)
	if assert.NoError(t, err, "url %q", s) {
		assert.Equal(t, "https", u.Scheme, "url %q", s)
		assert.NotEmpty(t, u.Host, "url %q", s)
	}
}

func TestConfirmOK(t *testing.T) {
	seen := map[string]bool{}
	npol := map[int]int{}
	for seed := int64(0); seed < 200; seed++ {
		s := newTB(t, Seed(seed))
		tok := s.MintToken(ClientID, 0)
		offer := offerID(int(seed))
		rec := serve(s, confirmReq(offer, tok, validBody(t)))
		require.Equal(t, http.StatusOK, rec.Code, "seed %d: %s", seed, rec.Body)
		assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
		assertEdgeHeaders(t, rec.Header())
		id := checkBooking(t, rec.Body.Bytes(), offer)
		assert.False(t, seen[id], "seed %d: booking id %s repeated", seed, id)
		seen[id] = true
		var env struct {
			Data struct{ Policies []any } `json:"data"`
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &env))
		npol[len(env.Data.Policies)]++
		assert.Equal(t, Stats{Confirms: 1, Confirmed: 1}, s.Stats())
	}
	assert.Positive(t, npol[1], "some bookings have one policy")
	assert.Positive(t, npol[2], "some bookings have two policies")
}

func TestConfirmDeterministic(t *testing.T) {
	run := func() []string {
		s := newTB(t, Seed(42), withClock(func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }))
		tok := s.MintToken(ClientID, 0)
		var out []string
		for i := range 5 {
			out = append(out, serve(s, confirmReq(offerID(i), tok, validBody(t))).Body.String())
		}
		return out
	}
	a, b := run(), run()
	assert.Equal(t, a, b, "same seed and clock give the same bookings")
	c := newTB(t, Seed(43))
	other := serve(c, confirmReq(offerID(0), c.MintToken(ClientID, 0), validBody(t))).Body.String()
	assert.NotEqual(t, a[0], other)
}

func TestConfirmUniqueIDsConcurrent(t *testing.T) {
	s := newTB(t)
	tok := s.MintToken(ClientID, 0)
	const workers, per = 8, 100
	var mu sync.Mutex
	ids := map[string]bool{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				rec := serve(s, confirmReq(offerID(w*per+i), tok, validBody(t)))
				if !assert.Equal(t, http.StatusOK, rec.Code) {
					return
				}
				var env struct{ Data struct{ ID string } }
				assert.NoError(t, json.Unmarshal(rec.Body.Bytes(), &env))
				mu.Lock()
				ids[env.Data.ID] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	assert.Len(t, ids, workers*per)
	assert.Equal(t, int64(workers*per), s.Stats().Confirmed)
}

func TestInvalidBody(t *testing.T) {
	holder := testHolder()
	mk := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	withHolder := func(k string, v any) map[string]any {
		h := map[string]any{}
		for k, v := range holder {
			h[k] = v
		}
		if v == nil {
			delete(h, k)
		} else {
			h[k] = v
		}
		return h
	}
	quotes := []map[string]any{{"id": testQuoteID}}
	tests := []struct {
		name       string
		ct         string
		body       string
		wantFields []string
	}{
		{"malformed json", "application/json", `{"quotes":[`, []string{"quotes", "policyholder"}},
		{"empty body", "application/json", ``, []string{"quotes", "policyholder"}},
		{"json array", "application/json", `[1,2]`, []string{"quotes", "policyholder"}},
		{"wrong content type", "text/plain", mk(map[string]any{"quotes": quotes, "policyholder": holder}), []string{"quotes", "policyholder"}},
		{"no content type", "", mk(map[string]any{"quotes": quotes, "policyholder": holder}), []string{"quotes", "policyholder"}},
		{"missing quotes", "application/json", mk(map[string]any{"policyholder": holder}), []string{"quotes"}},
		{"empty quotes", "application/json", mk(map[string]any{"quotes": []any{}, "policyholder": holder}), []string{"quotes"}},
		{"quotes not array", "application/json", mk(map[string]any{"quotes": map[string]any{"id": "x"}, "policyholder": holder}), []string{"quotes"}},
		{"quote without id", "application/json", mk(map[string]any{"quotes": []any{map[string]any{}}, "policyholder": holder}), []string{"quotes.0.id"}},
		{"second quote empty id", "application/json", mk(map[string]any{"quotes": []any{map[string]any{"id": "a"}, map[string]any{"id": ""}}, "policyholder": holder}), []string{"quotes.1.id"}},
		{"quote id number", "application/json", mk(map[string]any{"quotes": []any{map[string]any{"id": 7}}, "policyholder": holder}), []string{"quotes.0.id"}},
		{"missing policyholder", "application/json", mk(map[string]any{"quotes": quotes}), []string{"policyholder"}},
		{"null policyholder", "application/json", mk(map[string]any{"quotes": quotes, "policyholder": nil}), []string{"policyholder"}},
		{"policyholder string", "application/json", mk(map[string]any{"quotes": quotes, "policyholder": "Ada"}), []string{"policyholder"}},
		{"empty policyholder", "application/json", mk(map[string]any{"quotes": quotes, "policyholder": map[string]any{}}), []string{"policyholder.first_name", "policyholder.last_name", "policyholder.email"}},
		{"missing email", "application/json", mk(map[string]any{"quotes": quotes, "policyholder": withHolder("email", nil)}), []string{"policyholder.email"}},
		{"bad email", "application/json", mk(map[string]any{"quotes": quotes, "policyholder": withHolder("email", "ada at example.com")}), []string{"policyholder.email"}},
		{"first name number", "application/json", mk(map[string]any{"quotes": quotes, "policyholder": withHolder("first_name", 3)}), []string{"policyholder.first_name"}},
		{"city too long", "application/json", mk(map[string]any{"quotes": quotes, "policyholder": withHolder("city", strings.Repeat("x", 256))}), []string{"policyholder.city"}},
	}
	s := newTB(t)
	tok := s.MintToken(ClientID, 0)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := confirmReq(offerID(i), tok, []byte(tt.body))
			r.Header.Set("Content-Type", tt.ct)
			if tt.ct == "" {
				r.Header.Del("Content-Type")
			}
			rec := serve(s, r)
			require.Equal(t, http.StatusUnprocessableEntity, rec.Code, "body: %s", rec.Body)
			v := decode(t, rec.Body.Bytes())
			assert.Equal(t, "validation_error", v["type"])
			assert.Equal(t, "The given data was invalid.", v["message"])
			errs, _ := v["errors"].(map[string]any)
			var got []string
			for k, msgs := range errs {
				got = append(got, k)
				list, _ := msgs.([]any)
				assert.NotEmpty(t, list, "errors.%s", k)
			}
			want := slices.Clone(tt.wantFields)
			sort.Strings(got)
			sort.Strings(want)
			assert.Equal(t, want, got)
		})
	}
	assert.Equal(t, int64(0), s.Stats().Confirmed, "no invalid body books")
	t.Run("required message", func(t *testing.T) {
		rec := serve(s, confirmReq(offerID(999), tok, []byte(`{}`)))
		assert.JSONEq(t, `{"type":"validation_error","message":"The given data was invalid.","errors":{`+
			`"quotes":["The quotes field is required."],"policyholder":["The policyholder field is required."]}}`, rec.Body.String())
	})
	t.Run("too large", func(t *testing.T) {
		big := `{"quotes":[{"id":"` + strings.Repeat("x", maxConfirmBody) + `"}]}`
		rec := serve(s, confirmReq(offerID(998), tok, []byte(big)))
		assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
	})
}

func TestOfferNotFound(t *testing.T) {
	s := newTB(t)
	tok := s.MintToken(ClientID, 0)
	for _, id := range []string{"not-a-uuid", "12345678-1234-1234-1234-12345678901g", "123456781234-1234-1234-1234567890123", "00000000-0000-0000-0000-0000000000000"} {
		t.Run(id, func(t *testing.T) {
			rec := serve(s, confirmReq(id, tok, validBody(t)))
			assert.Equal(t, http.StatusNotFound, rec.Code)
			assert.JSONEq(t, `{"message":"Offer not found."}`, rec.Body.String())
		})
	}
	t.Run("upper-case uuid is an offer", func(t *testing.T) {
		rec := serve(s, confirmReq(strings.ToUpper(offerID(5)), tok, validBody(t)))
		assert.Equal(t, http.StatusOK, rec.Code)
	})
	assert.Equal(t, int64(1), s.Stats().Confirmed)
}

func TestDuplicateConfirm(t *testing.T) {
	s := newTB(t)
	tok := s.MintToken(ClientID, 0)
	offer := offerID(1)
	first := serve(s, confirmReq(offer, tok, validBody(t)))
	require.Equal(t, http.StatusOK, first.Code)
	second := serve(s, confirmReq(offer, tok, validBody(t)))
	assert.Equal(t, http.StatusUnprocessableEntity, second.Code)
	assert.JSONEq(t, `{"message":"Booking already exists for offer `+offer+`."}`, second.Body.String())
	third := serve(s, confirmReq(strings.ToUpper(offer), tok, validBody(t)))
	assert.Equal(t, http.StatusUnprocessableEntity, third.Code, "offer ids compare as UUIDs")
	other := serve(s, confirmReq(offerID(2), tok, validBody(t)))
	assert.Equal(t, http.StatusOK, other.Code)
	st := s.Stats()
	assert.Equal(t, int64(2), st.DuplicateConfirms)
	assert.Equal(t, int64(2), st.Confirmed)
	assert.Equal(t, int64(4), st.Confirms)

	t.Run("invalid body does not consume the offer", func(t *testing.T) {
		offer := offerID(3)
		assert.Equal(t, http.StatusUnprocessableEntity, serve(s, confirmReq(offer, tok, []byte(`{}`))).Code)
		assert.Equal(t, http.StatusOK, serve(s, confirmReq(offer, tok, validBody(t))).Code)
	})
}

func TestRoutes(t *testing.T) {
	s := newTB(t)
	tests := []struct {
		name, method, path string
		want               int
	}{
		{"healthz", http.MethodGet, "/healthz", 200},
		{"unknown path", http.MethodGet, "/api/nothing", 404},
		{"confirm GET", http.MethodGet, confirmPath(offerID(1)), 405},
		{"token GET", http.MethodGet, TokenPath, 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(s, httptest.NewRequest(tt.method, tt.path, nil))
			assert.Equal(t, tt.want, rec.Code)
			assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			assert.True(t, json.Valid(rec.Body.Bytes()), "body %s", rec.Body)
			if tt.want == 405 {
				assert.Equal(t, "POST", rec.Header().Get("Allow"))
			}
		})
	}
	assert.Equal(t, int64(0), s.Stats().Confirms)

	t.Run("non-canonical path still routes through the mux", func(t *testing.T) {
		tok := s.MintToken(ClientID, 0)
		r := confirmReq(offerID(1), tok, validBody(t))
		r.URL.Path = "/api/partners/" + PartnerID + "/offers/" + offerID(1) + "/./confirm"
		rec := serve(s, r)
		assert.Equal(t, http.StatusTemporaryRedirect, rec.Code, "the mux redirects to the clean path")
		assert.Equal(t, confirmPath(offerID(1)), rec.Header().Get("Location"))
	})
}

func TestFaults(t *testing.T) {
	t.Run("ErrorRate(1)", func(t *testing.T) {
		s := newTB(t, ErrorRate(1))
		tok := s.MintToken(ClientID, 0)
		codes := map[int]int{}
		for i := range 60 {
			rec := serve(s, confirmReq(offerID(i), tok, validBody(t)))
			codes[rec.Code]++
			assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			assert.Contains(t, decode(t, rec.Body.Bytes()), "message")
		}
		for c := range codes {
			assert.Contains(t, []int{500, 502, 503}, c)
		}
		assert.Len(t, codes, 3, "500, 502 and 503 all occur: %v", codes)
		assert.Equal(t, Stats{Confirms: 60, Errors5xx: 60}, s.Stats())
	})
	t.Run("ThrottleRate(1, 2s)", func(t *testing.T) {
		s := newTB(t, ThrottleRate(1, 2*time.Second))
		rec := serve(s, confirmReq(offerID(1), s.MintToken(ClientID, 0), validBody(t)))
		assert.Equal(t, http.StatusTooManyRequests, rec.Code)
		assert.Equal(t, "2", rec.Header().Get("Retry-After"))
		assert.JSONEq(t, `{"message":"Request was throttled. Expected available in 2 seconds."}`, rec.Body.String())
		assert.Equal(t, int64(1), s.Stats().Throttled)
	})
	t.Run("ThrottleRate(1, 0) says 1 second", func(t *testing.T) {
		s := newTB(t, ThrottleRate(1, 0))
		rec := serve(s, confirmReq(offerID(1), s.MintToken(ClientID, 0), validBody(t)))
		assert.Equal(t, "1", rec.Header().Get("Retry-After"))
		assert.JSONEq(t, `{"message":"Request was throttled. Expected available in 1 second."}`, rec.Body.String())
	})
	t.Run("faults come after authentication", func(t *testing.T) {
		s := newTB(t, ErrorRate(0.5), ThrottleRate(0.5, time.Second))
		rec := serve(s, confirmReq(offerID(1), "", validBody(t)))
		assert.Equal(t, http.StatusUnauthorized, rec.Code)
	})
	t.Run("rates are fractions", func(t *testing.T) {
		s := newTB(t, Seed(3), ErrorRate(0.2), ThrottleRate(0.1, time.Second))
		tok := s.MintToken(ClientID, 0)
		const n = 3000
		for i := range n {
			serve(s, confirmReq(offerID(i), tok, validBody(t)))
		}
		st := s.Stats()
		assert.InDelta(t, 0.2, float64(st.Errors5xx)/n, 0.03, "5xx share")
		assert.InDelta(t, 0.1, float64(st.Throttled)/n, 0.03, "429 share")
		assert.Equal(t, int64(n)-st.Errors5xx-st.Throttled, st.Confirmed, "faults never book")
	})
	t.Run("same seed, same faults", func(t *testing.T) {
		codes := func() []int {
			s := newTB(t, Seed(9), ErrorRate(0.3), ThrottleRate(0.3, time.Second))
			tok := s.MintToken(ClientID, 0)
			var out []int
			for i := range 50 {
				out = append(out, serve(s, confirmReq(offerID(i), tok, validBody(t))).Code)
			}
			return out
		}
		assert.Equal(t, codes(), codes())
	})
}

func TestTokenFaults(t *testing.T) {
	req := func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, TokenPath, strings.NewReader(
			`{"grant_type":"client_credentials","client_id":"sandbox-client","client_secret":"sandbox-secret"}`))
		r.Header.Set("Content-Type", "application/json")
		return r
	}
	t.Run("confirm knobs leave token fast", func(t *testing.T) {
		s := newTB(t, Latency(time.Second), ErrorRate(1))
		start := time.Now()
		assert.Equal(t, http.StatusOK, serve(s, req()).Code)
		assert.Less(t, time.Since(start), 200*time.Millisecond)
	})
}

func TestLatency(t *testing.T) {
	s := StartTB(t, Latency(20*time.Millisecond))
	tok := s.MintToken(ClientID, 0)
	c := &http.Client{Timeout: 5 * time.Second}
	warm, err := c.Get(s.URL() + "/healthz") // establish the connection first
	require.NoError(t, err)
	readAll(t, warm.Body)
	_ = warm.Body.Close()
	for i := range 3 {
		r := confirmReq(offerID(i), tok, validBody(t))
		req, err := http.NewRequest(http.MethodPost, s.URL()+r.URL.Path, r.Body)
		require.NoError(t, err)
		req.Header = r.Header
		start := time.Now()
		resp, err := c.Do(req)
		require.NoError(t, err)
		readAll(t, resp.Body)
		_ = resp.Body.Close()
		took := time.Since(start)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.GreaterOrEqual(t, took, 20*time.Millisecond)
		assert.Less(t, took, 60*time.Millisecond)
	}
}

func TestLatencyDist(t *testing.T) {
	s := newTB(t, Seed(1), LatencyDist(2*time.Millisecond, 10*time.Millisecond))
	const n = 20000
	samples := make([]time.Duration, n)
	for i := range samples {
		fr := newRNG(s.cfg.seed, uint64(i+1), saltFault)
		fr.float()
		samples[i] = s.delay(&fr)
	}
	slices.Sort(samples)
	median, p99 := samples[n/2], samples[n*99/100]
	assert.InDelta(t, float64(2*time.Millisecond), float64(median), float64(200*time.Microsecond), "median %v", median)
	assert.InDelta(t, float64(10*time.Millisecond), float64(p99), float64(1500*time.Microsecond), "p99 %v", p99)
	assert.LessOrEqual(t, samples[n-1], 100*time.Millisecond, "samples are capped at 10×p99")
	assert.Positive(t, samples[0])
}

func TestStall(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	s := newTB(t, withClock(clock), Stall(time.Second, 2*time.Second))
	tok := s.MintToken(ClientID, 0)
	fr := rng{}
	assert.Equal(t, time.Duration(0), s.delay(&fr), "before the window")
	advance(time.Second)
	assert.Equal(t, time.Second, s.delay(&fr), "at the window start: held for the whole window")
	advance(900 * time.Millisecond)
	assert.Equal(t, 100*time.Millisecond, s.delay(&fr), "near the end: held until the end")
	advance(100 * time.Millisecond)
	assert.Equal(t, time.Duration(0), s.delay(&fr), "window end is exclusive")

	t.Run("held requests are released at the window end", func(t *testing.T) {
		s := StartTB(t, Stall(0, 150*time.Millisecond))
		tok := s.MintToken(ClientID, 0)
		var wg sync.WaitGroup
		took := make([]time.Duration, 4)
		for i := range took {
			wg.Add(1)
			go func() {
				defer wg.Done()
				start := time.Now()
				code, err := post(s.URL(), offerID(i), tok, validBody(t))
				took[i] = time.Since(start)
				assert.NoError(t, err)
				assert.Equal(t, http.StatusOK, code)
			}()
		}
		wg.Wait()
		for _, d := range took {
			assert.GreaterOrEqual(t, d, 80*time.Millisecond)
			assert.Less(t, d, 600*time.Millisecond)
		}
		time.Sleep(10 * time.Millisecond)
		start := time.Now()
		code, err := post(s.URL(), offerID(99), tok, validBody(t))
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, code)
		assert.Less(t, time.Since(start), 100*time.Millisecond, "after the window")
	})
	_ = tok
}

// post sends a confirm over the network and returns the status code.
func post(base, offer, tok string, body []byte) (int, error) {
	r := confirmReq(offer, tok, body)
	req, err := http.NewRequest(http.MethodPost, base+r.URL.Path, r.Body)
	if err != nil {
		return 0, err
	}
	req.Header = r.Header
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

func TestReset(t *testing.T) {
	s := StartTB(t, ResetRate(1))
	tok := s.MintToken(ClientID, 0)
	_, err := post(s.URL(), offerID(1), tok, validBody(t))
	require.Error(t, err, "the client sees a connection error")
	var ne net.Error
	var oe *net.OpError
	assert.True(t, errors.As(err, &ne) || errors.As(err, &oe) || strings.Contains(err.Error(), "EOF") ||
		strings.Contains(err.Error(), "reset"), "got %v", err)
	assert.Equal(t, int64(1), s.Stats().Resets)
	assert.Equal(t, int64(0), s.Stats().Confirmed)

	t.Run("recorder aborts", func(t *testing.T) {
		s := newTB(t, ResetRate(1))
		assert.PanicsWithValue(t, http.ErrAbortHandler, func() {
			serve(s, confirmReq(offerID(1), "", validBody(t)))
		})
	})
}

func TestCloseReleasesHeldRequests(t *testing.T) {
	s, err := Start(Latency(10 * time.Second))
	require.NoError(t, err)
	tok := s.MintToken(ClientID, 0)
	errc := make(chan error, 1)
	go func() {
		_, err := post(s.URL(), offerID(1), tok, validBody(t))
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	require.NoError(t, s.Close())
	select {
	case <-errc:
	case <-time.After(2 * time.Second):
		t.Fatal("request still held 2s after Close")
	}
	assert.Less(t, time.Since(start), time.Second)
	assert.NoError(t, s.Close(), "Close is idempotent")

	t.Run("handler-only server answers 503", func(t *testing.T) {
		s := newTB(t, Latency(10*time.Second))
		go func() { time.Sleep(20 * time.Millisecond); _ = s.Close() }()
		rec := serve(s, confirmReq(offerID(1), "", validBody(t)))
		assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	})
	t.Run("request context cancel", func(t *testing.T) {
		s := newTB(t, Latency(10*time.Second))
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		start := time.Now()
		serve(s, confirmReq(offerID(1), "", validBody(t)).WithContext(ctx))
		assert.Less(t, time.Since(start), time.Second)
	})
}

func TestStart(t *testing.T) {
	s := StartTB(t)
	u, err := url.Parse(s.URL())
	require.NoError(t, err)
	assert.Equal(t, "http", u.Scheme)
	assert.Equal(t, "127.0.0.1", u.Hostname())
	assert.NotEqual(t, "0", u.Port())
	assert.Equal(t, s.URL()+"/api/oauth/token", s.TokenURL())
	code, err := post(s.URL(), offerID(1), s.MintToken(ClientID, 0), validBody(t))
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)

	t.Run("explicit addr", func(t *testing.T) {
		s := StartTB(t, Addr("127.0.0.1:0"))
		assert.True(t, strings.HasPrefix(s.URL(), "http://127.0.0.1:"), s.URL())
	})
	t.Run("New does not listen", func(t *testing.T) {
		s := newTB(t)
		assert.Empty(t, s.URL())
		assert.Empty(t, s.TokenURL())
	})
	t.Run("bad addr", func(t *testing.T) {
		_, err := Start(Addr("127.0.0.1:notaport"))
		assert.ErrorContains(t, err, "sandbox: listen")
	})
	t.Run("dialable unspecified", func(t *testing.T) {
		assert.Equal(t, "127.0.0.1:80", dialable(&net.TCPAddr{IP: net.IPv4zero, Port: 80}))
		assert.Equal(t, "[::1]:80", dialable(&net.TCPAddr{IP: net.IPv6unspecified, Port: 80}))
	})
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		opt  Option
		want []string
	}{
		{"unknown drift", Drift("price-as-string", "no-such-mode"), []string{"Drift", "no-such-mode"}},
		{"error rate above 1", ErrorRate(1.5), []string{"ErrorRate", "1.5"}},
		{"negative throttle", ThrottleRate(-0.1, time.Second), []string{"ThrottleRate"}},
		{"negative retry-after", ThrottleRate(0.1, -time.Second), []string{"ThrottleRate"}},
		{"NaN reset", ResetRate(math.NaN()), []string{"ResetRate"}},
		{"negative latency", Latency(-time.Second), []string{"Latency"}},
		{"dist median zero", LatencyDist(0, time.Second), []string{"LatencyDist"}},
		{"dist p99 below median", LatencyDist(time.Second, time.Millisecond), []string{"LatencyDist"}},
		{"stall reversed", Stall(2*time.Second, time.Second), []string{"Stall"}},
		{"ttl zero", TokenTTL(0), []string{"TokenTTL"}},
		{"empty addr", Addr(""), []string{"Addr"}},
		{"rates sum above 1", func(c *config) { ErrorRate(0.6)(c); ThrottleRate(0.3, time.Second)(c); ResetRate(0.2)(c) }, []string{"ResetRate+ThrottleRate+ErrorRate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.opt)
			require.Error(t, err)
			assert.Nil(t, s)
			assert.True(t, strings.HasPrefix(err.Error(), "sandbox: new: "), err.Error())
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			_, err = Start(tt.opt)
			assert.Error(t, err, "Start validates too")
		})
	}
	t.Run("valid options", func(t *testing.T) {
		_, err := New(Latency(time.Millisecond), LatencyDist(time.Millisecond, 5*time.Millisecond),
			Stall(time.Second, 2*time.Second), ErrorRate(0.3), ThrottleRate(0.3, time.Second), ResetRate(0.4),
			TokenTTL(time.Minute), Seed(1), Drift("price-as-string", "html-401"), Drift("bad-uri"), Addr("127.0.0.1:0"), nil)
		assert.NoError(t, err)
	})
}
