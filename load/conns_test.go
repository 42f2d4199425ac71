package load

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConnTrackerStops: stopping the tracker fails the request in flight at once, with an error
// that says why, and refuses new connections.
func TestConnTrackerStops(t *testing.T) {
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
	}))
	defer srv.Close()
	defer close(release)

	tr := http.DefaultTransport.(*http.Transport).Clone()
	conns := newConnTracker()
	conns.track(tr)
	client := &http.Client{Transport: tr}

	done := make(chan error, 1)
	go func() {
		resp, err := client.Get(srv.URL)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	<-arrived
	assert.Equal(t, 1, conns.open())
	start := time.Now()
	conns.stop()
	select {
	case err := <-done:
		require.Error(t, err)
		assert.ErrorIs(t, err, errStopped)
		assert.Less(t, time.Since(start), time.Second)
	case <-time.After(5 * time.Second):
		t.Fatal("the request in flight was not stopped")
	}
	assert.Zero(t, conns.open())

	_, err := client.Get(srv.URL)
	assert.ErrorIs(t, err, errStopped, "no new connection after stop")
}

// TestConnTrackerForgetsClosed: connections the transport closes leave the tracker.
func TestConnTrackerForgetsClosed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	conns := newConnTracker()
	conns.track(tr)
	resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 1, conns.open(), "the idle connection is kept")
	tr.CloseIdleConnections()
	assert.Zero(t, conns.open())
}

// open is the number of connections t tracks.
func (t *connTracker) open() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.conns)
}
