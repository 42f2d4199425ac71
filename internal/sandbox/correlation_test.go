package sandbox

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCorrelationHeaders checks that every kind of answer, of both endpoints and of the
// routes around them, carries a CF-RAY of the real shape, unique per answer, and a
// Server-Timing whose recv is the request's arrival and whose app is the time the server
// took.
func TestCorrelationHeaders(t *testing.T) {
	tokenReq := func(secret string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, TokenPath, strings.NewReader(
			`{"grant_type":"client_credentials","client_id":"`+ClientID+`","client_secret":"`+secret+`"}`))
		r.Header.Set("Content-Type", "application/json")
		return r
	}
	clean := newTB(t)
	dup := offerID(9)
	require.Equal(t, http.StatusOK, serve(clean, confirmReq(dup, clean.MintToken(ClientID, 0), validBody(t))).Code)
	confirm := func(offer string, body []byte) func(*Server) *http.Request {
		return func(s *Server) *http.Request { return confirmReq(offer, s.MintToken(ClientID, 0), body) }
	}
	fixed := func(r *http.Request) func(*Server) *http.Request { return func(*Server) *http.Request { return r } }
	tests := []struct {
		name   string
		s      *Server
		req    func(*Server) *http.Request
		status int // 0: any 5xx
	}{
		{"200", clean, confirm(offerID(1), validBody(t)), http.StatusOK},
		{"401", clean, fixed(confirmReq(offerID(2), "", validBody(t))), http.StatusUnauthorized},
		{"401 every member", newTB(t, EveryMember()), fixed(confirmReq(offerID(2), "", validBody(t))), http.StatusUnauthorized},
		{"404 offer", clean, confirm("not-a-uuid", validBody(t)), http.StatusNotFound},
		{"422 invalid", clean, confirm(offerID(3), []byte(`{}`)), http.StatusUnprocessableEntity},
		{"422 second confirm", clean, confirm(dup, validBody(t)), http.StatusUnprocessableEntity},
		{"429", newTB(t, ThrottleRate(1, time.Second)), confirm(offerID(4), validBody(t)), http.StatusTooManyRequests},
		{"5xx", newTB(t, ErrorRate(1)), confirm(offerID(5), validBody(t)), 0},
		{"undocumented 500", newTB(t, Drift("undocumented-500")), confirm(offerID(6), validBody(t)), http.StatusInternalServerError},
		{"token 200", clean, fixed(tokenReq(ClientSecret)), http.StatusOK},
		{"token 401", clean, fixed(tokenReq("wrong")), http.StatusUnauthorized},
		{"token 400", clean, fixed(httptest.NewRequest(http.MethodPost, TokenPath, strings.NewReader("{"))), http.StatusBadRequest},
		{"healthz", clean, fixed(httptest.NewRequest(http.MethodGet, "/healthz", nil)), http.StatusOK},
		{"unknown route", clean, fixed(httptest.NewRequest(http.MethodGet, "/nothing", nil)), http.StatusNotFound},
		{"wrong method", clean, fixed(httptest.NewRequest(http.MethodGet, confirmPath(offerID(7)), nil)), http.StatusMethodNotAllowed},
	}
	rays := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.req(tt.s)
			before := time.Now()
			rec := serve(tt.s, r)
			after := time.Now()
			if tt.status != 0 {
				require.Equal(t, tt.status, rec.Code, "body: %s", rec.Body)
			} else {
				require.GreaterOrEqual(t, rec.Code, 500, "body: %s", rec.Body)
			}
			ray := rec.Header().Get("CF-RAY")
			assert.Regexp(t, reCFRay, ray)
			if prev, seen := rays[ray]; seen {
				t.Errorf("CF-RAY %s given to both %q and %q", ray, prev, tt.name)
			}
			rays[ray] = tt.name
			recv, app := serverTiming(t, rec.Header())
			assert.False(t, recv.Before(before.Truncate(time.Microsecond)) || recv.After(after),
				"got recv %v, want between %v and %v", recv, before, after)
			assert.GreaterOrEqual(t, app, time.Duration(0))
			assert.LessOrEqual(t, app, after.Sub(before)+time.Millisecond, "got app %v for an answer that took %v", app, after.Sub(before))
		})
	}
	t.Run("unique over many answers", func(t *testing.T) {
		s := newTB(t, Seed(7))
		seen := map[string]bool{}
		for i := range 2000 {
			ray := serve(s, httptest.NewRequest(http.MethodGet, "/healthz", nil)).Header().Get("CF-RAY")
			require.False(t, seen[ray], "answer %d repeats CF-RAY %s", i, ray)
			seen[ray] = true
		}
	})
}

// TestServerTimingArrivalIsLastByte holds back the last byte of a confirm for a while:
// recv is when that byte arrived, not when the headers did, so that a client using
// last-byte synchronisation reads the true arrival spread of its requests.
func TestServerTimingArrivalIsLastByte(t *testing.T) {
	s := StartTB(t)
	body := validBody(t)
	var req bytes.Buffer
	r := confirmReq(offerID(1), s.MintToken(ClientID, 0), body)
	r.Host = strings.TrimPrefix(s.URL(), "http://")
	r.RequestURI = ""
	require.NoError(t, r.Write(&req))
	raw := req.Bytes()

	conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL(), "http://"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
	_, err = conn.Write(raw[:len(raw)-1])
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond) // the hold-back whose effect is measured, not waited for
	last := time.Now()
	_, err = conn.Write(raw[len(raw)-1:])
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	done := time.Now()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	recv, _ := serverTiming(t, resp.Header)
	assert.False(t, recv.Before(last.Truncate(time.Microsecond)) || recv.After(done),
		"got recv %v, want between the last byte's send %v and the answer %v", recv, last, done)
}
