package egress

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/http/httpproxy"
)

// productionSpellings all map to the production host under UTS #46.
var productionSpellings = []string{
	"https://api.xone.xcover.com/api/oauth/token",
	"https://api．xone．xcover．com/x",           // full-width dots
	"https://ａpi.xone.xcover.com/x",           // full-width a
	"https://API。XONE。XCOVER。COM/x",           // ideographic full stops, upper case
	"https://api.xone.xcover.com./x",          // trailing dot
	"https://Api.Xone.Xcover.Com:443/x",       // case and port
	"http://api.xone.xcover.com%E3%80%82/x",   // percent-encoded ideographic full stop
	"https://api.xone.xcover.com\u200b/x",     // zero-width space (deleted by the mapping)
	"https://eu.api.xone.xcover.com/x",        // a subdomain
	"http://api.xone.xcover.com/api/partners", // plain HTTP
}

func TestCanonicalHost(t *testing.T) {
	tests := []struct{ in, want string }{
		{"api．xone．xcover．com", "api.xone.xcover.com"},
		{"ａpi.xone.xcover.com", "api.xone.xcover.com"},
		{"API。XONE。XCOVER。COM", "api.xone.xcover.com"},
		{"api.xone.xcover.com.", "api.xone.xcover.com"},
		{"Sandbox.Example.COM", "sandbox.example.com"},
		{"my_host.internal", "my_host.internal"}, // ASCII is left to DNS, as net/http does
		{"127.0.0.1", "127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := CanonicalHost(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got, "got %q, want %q", got, tt.want)
		})
	}
	_, err := CanonicalHost("a\u0000b.例え")
	assert.ErrorIs(t, err, ErrBadHost)
}

// TestProductionRefusedPerRequest sends to every spelling of the production
// host, directly and through a proxy: the gate refuses each request before
// any connection, so neither the proxy nor the dialer sees anything. With
// AllowProduction the same setup does reach the proxy, which shows that the
// recorder would have seen a leak.
func TestProductionRefusedPerRequest(t *testing.T) {
	for _, viaProxyToo := range []bool{false, true} {
		for _, raw := range productionSpellings {
			t.Run(fmt.Sprintf("proxy=%v/%s", viaProxyToo, raw), func(t *testing.T) {
				rec := newRecorder(t)
				d := &testDialer{}
				cfg := Config{Dial: d.dial, Resolver: fakeResolver{"api.xone.xcover.com": {"192.0.2.80"}, "eu.api.xone.xcover.com": {"192.0.2.81"}}}
				if viaProxyToo {
					cfg.Proxy = viaProxy(rec.URL())
				}
				g, err := New(cfg)
				require.NoError(t, err)
				assert.ErrorIs(t, g.Check(raw), ErrProduction)
				for _, c := range []*http.Client{g.Client(5 * time.Second), {Transport: g.Transport()}} {
					resp, err := c.Post(raw, "application/json", strings.NewReader(`{"client_secret":"x"}`))
					if resp != nil {
						resp.Body.Close()
					}
					assert.ErrorIs(t, err, ErrProduction)
				}
				assert.Empty(t, rec.requests(), "the proxy saw requests")
				assert.Empty(t, d.refusedAddrs(), "the dialer was asked to dial")
			})
		}
	}

	t.Run("control: allowed production reaches the proxy", func(t *testing.T) {
		rec := newRecorder(t)
		g, err := New(Config{AllowProduction: true, Proxy: viaProxy(rec.URL())})
		require.NoError(t, err)
		resp, err := g.Client(5 * time.Second).Get("https://api．xone．xcover．com/x")
		if resp != nil {
			resp.Body.Close()
		}
		require.Error(t, err) // the recorder refuses to tunnel
		assert.Equal(t, []string{"CONNECT api.xone.xcover.com:443"}, rec.requests())
	})
}

// TestRedirectsNeverFollowed answers every redirect status with a Location on
// a second server standing in for production: the caller gets the 3xx, the
// second server nothing.
func TestRedirectsNeverFollowed(t *testing.T) {
	rec := newRecorder(t)
	for _, code := range []int{301, 302, 303, 307, 308} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, rec.srv.URL+"/api/oauth/token", code)
			}))
			t.Cleanup(target.Close)
			g, err := New(Config{})
			require.NoError(t, err)
			resp, err := g.Client(5*time.Second).Post(target.URL+"/api/oauth/token", "application/json",
				strings.NewReader(`{"client_secret":"x"}`))
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, code, resp.StatusCode, "got %d, want %d", resp.StatusCode, code)
			assert.Empty(t, rec.requests())
		})
	}
}

func TestLoopback(t *testing.T) {
	rec := newRecorder(t)
	envProxy := (&httpproxy.Config{HTTPProxy: rec.srv.URL, HTTPSProxy: rec.srv.URL}).ProxyFunc()
	res := fakeResolver{
		"localhost":     {"127.0.0.1", "::1"},
		"foo.localhost": {"127.0.0.1"},
		"partner.test":  {"192.0.2.10"},
		"mixed.test":    {"127.0.0.1", "192.0.2.11"},
	}
	tests := []struct {
		url   string
		proxy bool
		want  bool
	}{
		{"http://127.0.0.1:8080", false, true},
		{"http://[::1]:8080", false, true},
		{"http://127.0.0.1:8080", true, true}, // an environment proxy never carries loopback literals
		{"http://localhost:8080", false, true},
		{"http://foo.localhost:8080", false, true},
		{"http://foo.localhost:8080", true, false}, // the proxy carries it
		{"http://partner.test", false, false},
		{"http://mixed.test", false, false},
		{"http://unknown.test", false, false},
		{"http://192.0.2.1", false, false},
		{"http://api.xone.xcover.com", false, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/proxy=%v", tt.url, tt.proxy), func(t *testing.T) {
			cfg := Config{Resolver: res}
			if tt.proxy {
				cfg.Proxy = envProxy
			}
			g, err := New(cfg)
			require.NoError(t, err)
			got := g.Loopback(tt.url)
			assert.Equal(t, tt.want, got, "got %v, want %v", got, tt.want)
		})
	}
}

// TestCeilingOffLoopback fires a burst at a local server reached through a
// test address that is not loopback: no one-second window at the server
// holds more than the ceiling. The same burst to a loopback address is not
// held.
func TestCeilingOffLoopback(t *testing.T) {
	const maxRate, burst = 10, 25
	rec := newRecorder(t)
	d := &testDialer{route: map[string]string{"192.0.2.10:80": rec.srv.Listener.Addr().String()}}
	g, err := New(Config{MaxRate: maxRate, Dial: d.dial, Resolver: fakeResolver{"partner.test": {"192.0.2.10"}}})
	require.NoError(t, err)
	fire := func(u string) {
		c := g.Client(10 * time.Second)
		var wg sync.WaitGroup
		for range burst {
			wg.Go(func() {
				resp, err := c.Get(u)
				if assert.NoError(t, err) {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
		}
		wg.Wait()
	}

	start := time.Now()
	fire("http://partner.test/api/partners/P/offers/o/confirm")
	elapsed := time.Since(start)
	ts := rec.times()
	require.Len(t, ts, burst)
	// The server sees the sends with the jitter of new connections and
	// scheduling: it counts in a window 100 ms shorter than the ceiling's
	// (which TestCeilingProperty checks exactly).
	got := maxInWindow(ts, 900*time.Millisecond)
	assert.LessOrEqual(t, got, maxRate, "got %d sends in one second, want at most %d", got, maxRate)
	assert.GreaterOrEqual(t, elapsed, 2*time.Second, "25 sends at 10/s take at least 2 s")

	// Control: loopback is not held, so the same burst lands within a second.
	fire(rec.srv.URL + "/x")
	ts = rec.times()[burst:]
	require.Len(t, ts, burst)
	assert.Greater(t, maxInWindow(ts, time.Second), maxRate, "a loopback burst is not held")
}

func TestCeilingWaitRespectsContext(t *testing.T) {
	rec := newRecorder(t)
	d := &testDialer{route: map[string]string{"192.0.2.10:80": rec.srv.Listener.Addr().String()}}
	g, err := New(Config{MaxRate: 1, Dial: d.dial, Resolver: fakeResolver{"partner.test": {"192.0.2.10"}}})
	require.NoError(t, err)
	c := g.Client(0)
	resp, err := c.Get("http://partner.test/1")
	require.NoError(t, err)
	resp.Body.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://partner.test/2", nil)
	require.NoError(t, err)
	start := time.Now()
	_, err = c.Do(req)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 900*time.Millisecond, "the wait ends with the context")

	stop, stopNow := context.WithCancel(context.Background())
	stopNow()
	_, err = g.ClientFor(g.Transport(), 0, stop).Get("http://partner.test/3")
	assert.ErrorIs(t, err, context.Canceled)
	assert.Len(t, rec.requests(), 1)
}

func TestMaxRate(t *testing.T) {
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), -1, 1e6, 100000.5} {
		_, err := New(Config{MaxRate: bad})
		assert.Error(t, err, "MaxRate %v", bad)
		assert.Error(t, CheckMaxRate(bad), "CheckMaxRate(%v)", bad)
	}
	g, err := New(Config{})
	require.NoError(t, err)
	assert.Equal(t, DefaultMaxRate, g.cfg.MaxRate)
	assert.NoError(t, CheckMaxRate(MaxRateLimit))
	assert.NoError(t, CheckMaxRate(0.5))
}

func TestCheckURL(t *testing.T) {
	g, err := New(Config{})
	require.NoError(t, err)
	assert.NoError(t, g.Check("https://sandbox.example.com"))
	assert.Error(t, g.Check("ftp://x"))
	err = g.Check("https://user:hunter2@api.xone.xcover.com")
	assert.ErrorIs(t, err, ErrProduction)
	assert.NotContains(t, err.Error(), "hunter2")
	allowed, err := New(Config{AllowProduction: true})
	require.NoError(t, err)
	assert.NoError(t, allowed.Check("https://api．xone．xcover．com"))
	assert.True(t, errors.Is(g.Check("https://api．xone．xcover．com"), ErrProduction))
	u, _ := url.Parse("https://api．xone．xcover．com")
	assert.False(t, g.Loopback(u.String()))
}
