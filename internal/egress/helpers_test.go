package egress

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"sync"
	"testing"
	"time"
)

// recorder is a loopback server that logs every request it gets, CONNECTs
// included: as a proxy it stands in for the world outside, as a redirect
// target for production. It answers CONNECT with 502 (it tunnels nowhere)
// and everything else with 200.
type recorder struct {
	srv *httptest.Server
	mu  sync.Mutex
	log []string // "METHOD host"
	at  []time.Time
}

func newRecorder(t *testing.T) *recorder {
	t.Helper()
	r := &recorder{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.log = append(r.log, req.Method+" "+req.Host)
		r.at = append(r.at, time.Now())
		r.mu.Unlock()
		if req.Method == http.MethodConnect {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		_, _ = fmt.Fprint(w, "recorder")
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *recorder) URL() *url.URL {
	u, _ := url.Parse(r.srv.URL)
	return u
}

func (r *recorder) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.log...)
}

func (r *recorder) times() []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.at...)
}

// viaProxy returns a Proxy that sends everything to p.
func viaProxy(p *url.URL) func(*url.URL) (*url.URL, error) {
	return func(*url.URL) (*url.URL, error) { return p, nil }
}

// fakeResolver answers from a fixed table; any other name fails, so no test
// ever asks a real DNS server.
type fakeResolver map[string][]string

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	ips, ok := f[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host (test resolver)", Name: host, IsNotFound: true}
	}
	var out []netip.Addr
	for _, s := range ips {
		out = append(out, netip.MustParseAddr(s))
	}
	return out, nil
}

// testDialer dials loopback addresses for real, routes the addresses in
// route to a loopback address, and refuses (and logs) everything else.
type testDialer struct {
	route   map[string]string // "192.0.2.10:80" -> "127.0.0.1:PORT"
	mu      sync.Mutex
	refused []string
}

func (d *testDialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if to, ok := d.route[addr]; ok {
		addr = to
	} else if ap, err := netip.ParseAddrPort(addr); err != nil || !ap.Addr().IsLoopback() {
		d.mu.Lock()
		d.refused = append(d.refused, addr)
		d.mu.Unlock()
		return nil, fmt.Errorf("test dialer: %s is not local", addr)
	}
	var nd net.Dialer
	return nd.DialContext(ctx, network, addr)
}

func (d *testDialer) refusedAddrs() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.refused...)
}

// maxInWindow is the most timestamps any half-open window [t, t+w) holds.
func maxInWindow(ts []time.Time, w time.Duration) int {
	best := 0
	for i := range ts {
		n := 0
		for _, u := range ts {
			if !u.Before(ts[i]) && u.Sub(ts[i]) < w {
				n++
			}
		}
		best = max(best, n)
	}
	return best
}
