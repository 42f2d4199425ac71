package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testHolder is the policyholder sent by valid test requests.
func testHolder() map[string]string {
	return map[string]string{
		"first_name": "Ada", "last_name": "O'Brien \"Jr\" Lövelace", "email": "ada.lovelace+xone@example.com",
		"phone": "+61 400 000 000", "country": "AU", "address1": "1 George St", "city": "Sydney",
		"region": "NSW", "postcode": "2000",
	}
}

// offerID returns a deterministic version 4 UUID for test i.
func offerID(i int) string { return fmt.Sprintf("%08x-1111-4222-8333-%012x", i, i*7919) }

const testQuoteID = "5f1d7c8e-3b2a-4c6d-9e0f-1a2b3c4d5e6f"

func validBody(tb testing.TB) []byte {
	tb.Helper()
	b, err := json.Marshal(map[string]any{
		"quotes":       []map[string]any{{"id": testQuoteID}},
		"policyholder": testHolder(),
	})
	require.NoError(tb, err)
	return b
}

func confirmPath(offer string) string {
	return "/api/partners/" + PartnerID + "/offers/" + offer + "/confirm"
}

// confirmReq builds a confirm request; tok "" sends no Authorization header.
func confirmReq(offer, tok string, body []byte) *http.Request {
	r := httptest.NewRequest(http.MethodPost, confirmPath(offer), bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if tok != "" {
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	return r
}

// serve runs r through s's handler.
func serve(s *Server, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, r)
	return rec
}

func newTB(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s, err := New(opts...)
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// withClock replaces time.Now for token expiry, timestamps, Date and Server-Timing headers
// and the Stall window.
func withClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// decode parses a JSON body into a generic value.
func decode(tb testing.TB, body []byte) map[string]any {
	tb.Helper()
	var v map[string]any
	require.NoError(tb, json.Unmarshal(body, &v), "body: %s", body)
	return v
}

func readAll(tb testing.TB, r io.Reader) []byte {
	tb.Helper()
	b, err := io.ReadAll(r)
	require.NoError(tb, err)
	return b
}

var (
	reBookingID     = regexp.MustCompile(`^[A-Z0-9]{5}-[A-Z0-9]{5}-INS$`)
	reSecurityToken = regexp.MustCompile(`^[A-Za-z0-9]{5}-[A-Za-z0-9]{5}-[A-Za-z0-9]{5}-[A-Za-z0-9]{5}$`)
	reUUID          = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	reCFRay         = regexp.MustCompile(`^[0-9a-f]{16}-SYD$`)
	reCfTeam        = regexp.MustCompile(`^[0-9a-f]{32}$`)
	reServerTiming  = regexp.MustCompile(`^recv;desc="(\d+)", app;dur=(\d+\.\d{3})$`)
)

// serverTiming reads the arrival time (recv) and the server's time (app) off a
// Server-Timing header.
func serverTiming(tb testing.TB, h http.Header) (recv time.Time, app time.Duration) {
	tb.Helper()
	m := reServerTiming.FindStringSubmatch(h.Get("Server-Timing"))
	require.NotNil(tb, m, "Server-Timing %q", h.Get("Server-Timing"))
	us, err := strconv.ParseInt(m[1], 10, 64)
	require.NoError(tb, err)
	ms, err := strconv.ParseFloat(m[2], 64)
	require.NoError(tb, err)
	return time.UnixMicro(us), time.Duration(ms * float64(time.Millisecond))
}

// together runs f(0) ... f(n-1) in n goroutines released at once by a barrier and
// returns their results.
func together[T any](n int, f func(i int) T) []T {
	out := make([]T, n)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	for i := range out {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			out[i] = f(i)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return out
}
