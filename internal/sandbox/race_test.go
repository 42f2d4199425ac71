package sandbox

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSimultaneousConfirmsBookOnce releases 50 confirms of one offer together, over 40
// offers: the clean sandbox books each offer exactly once and refuses every other confirm
// with its usual second-confirm answer. (TestRacyDoubleBook shows the same barrier finds
// a check-then-act window.)
func TestSimultaneousConfirmsBookOnce(t *testing.T) {
	const offers, callers = 40, 50
	s := newTB(t)
	tok := s.MintToken(ClientID, 0)
	body := validBody(t)
	for i := range offers {
		offer := offerID(1000 + i)
		recs := together(callers, func(int) *httptest.ResponseRecorder { return serve(s, confirmReq(offer, tok, body)) })
		booked := 0
		for _, rec := range recs {
			switch rec.Code {
			case http.StatusOK:
				booked++
			case http.StatusUnprocessableEntity:
				assert.JSONEq(t, `{"message":"Booking already exists for offer `+offer+`."}`, rec.Body.String())
			default:
				t.Errorf("offer %s: got status %d, want 200 or 422: %s", offer, rec.Code, rec.Body)
			}
		}
		assert.Equal(t, 1, booked, "offer %s: got %d bookings from %d simultaneous confirms, want 1", offer, booked, callers)
	}
	assert.Equal(t, Stats{Confirms: offers * callers, Confirmed: offers, DuplicateConfirms: offers * (callers - 1)}, s.Stats())
}

// raceClient is one caller of the network race tests: its own keep-alive connection,
// opened before the race so that the barrier releases requests, not dials.
type raceClient struct {
	c   *http.Client
	tok string
	url string
}

func newRaceClients(t *testing.T, s *Server, n int) []raceClient {
	t.Helper()
	out := make([]raceClient, n)
	for i := range out {
		tr := &http.Transport{MaxIdleConnsPerHost: 1}
		t.Cleanup(tr.CloseIdleConnections)
		out[i] = raceClient{&http.Client{Transport: tr, Timeout: 10 * time.Second}, s.MintToken(ClientID, 0), s.URL()}
		resp, err := out[i].c.Get(s.URL() + "/healthz")
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
	return out
}

// raceAnswer is what one confirm of a race got back.
type raceAnswer struct {
	status    int
	bookingID string
	recv      time.Time
	err       error
}

func (c raceClient) confirm(t *testing.T, offer string) raceAnswer {
	r := confirmReq(offer, c.tok, validBody(t))
	req, err := http.NewRequest(http.MethodPost, c.url+r.URL.Path, r.Body)
	if err != nil {
		return raceAnswer{err: err}
	}
	req.Header = r.Header
	resp, err := c.c.Do(req)
	if err != nil {
		return raceAnswer{err: err}
	}
	defer resp.Body.Close()
	var env struct{ Data struct{ ID string } }
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK && err == nil {
		err = json.Unmarshal(b, &env)
	}
	recv, _ := serverTiming(t, resp.Header)
	return raceAnswer{resp.StatusCode, env.Data.ID, recv, err}
}

// TestRacyDoubleBook shows racy-double-book's check-then-act window over the network: 5
// confirms of one offer released together by a barrier book it more than once in nearly
// every try, each booking with its own id and counted by the server as a double booking,
// while confirms sent one after another never book twice.
func TestRacyDoubleBook(t *testing.T) {
	const tries, callers = 20, 5
	s := StartTB(t, Drift("racy-double-book"))
	clients := newRaceClients(t, s, callers)
	doubled, extra := 0, 0
	for try := range tries {
		offer := offerID(2000 + try)
		answers := together(callers, func(i int) raceAnswer { return clients[i].confirm(t, offer) })
		ids := map[string]bool{}
		first, last := answers[0].recv, answers[0].recv
		for _, a := range answers {
			require.NoError(t, a.err)
			assert.Contains(t, []int{http.StatusOK, http.StatusUnprocessableEntity}, a.status)
			if a.status == http.StatusOK {
				assert.False(t, ids[a.bookingID], "booking id %s given twice", a.bookingID)
				ids[a.bookingID] = true
			}
			if a.recv.Before(first) {
				first = a.recv
			}
			if a.recv.After(last) {
				last = a.recv
			}
		}
		t.Logf("try %d: %d bookings, arrivals spread over %v", try, len(ids), last.Sub(first))
		if len(ids) > 1 {
			doubled++
			extra += len(ids) - 1
		}
	}
	assert.GreaterOrEqual(t, doubled, tries*8/10, "got %d of %d tries double-booked, want nearly all", doubled, tries)
	assert.Equal(t, int64(extra), s.Stats().DoubleBookings, "the server's own count of double bookings")

	t.Run("sequential confirms never double-book", func(t *testing.T) {
		before := s.Stats()
		for i := range 10 {
			offer := offerID(3000 + i)
			assert.Equal(t, http.StatusOK, clients[0].confirm(t, offer).status)
			second := clients[1].confirm(t, offer)
			require.NoError(t, second.err)
			assert.Equal(t, http.StatusUnprocessableEntity, second.status, "got %d for a second confirm, want 422", second.status)
		}
		assert.Equal(t, before.DoubleBookings, s.Stats().DoubleBookings)
	})
	t.Run("clean sandbox under the same barrier", func(t *testing.T) {
		clean := StartTB(t)
		clients := newRaceClients(t, clean, callers)
		for try := range 5 {
			offer := offerID(4000 + try)
			booked := 0
			for _, a := range together(callers, func(i int) raceAnswer { return clients[i].confirm(t, offer) }) {
				require.NoError(t, a.err)
				if a.status == http.StatusOK {
					booked++
				}
			}
			assert.Equal(t, 1, booked, "try %d: got %d bookings, want 1", try, booked)
		}
		assert.Zero(t, clean.Stats().DoubleBookings)
	})
}
