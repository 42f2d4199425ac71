package egress

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"sync"
	"time"

	"golang.org/x/net/http/httpproxy"
)

// DefaultMaxRate is the default ceiling, in sends per second, on traffic that
// is not loopback (XCover's testing keys allow 2/s, create/confirm 50/s).
const DefaultMaxRate = 20.0

// MaxRateLimit is the highest ceiling a Gate accepts, in sends per second.
const MaxRateLimit = 100000.0

// tlsHandshakeTimeout bounds a TLS handshake of the gate's transports and
// of Conn.
const tlsHandshakeTimeout = 10 * time.Second

// Resolver looks up the addresses of a host name; *net.Resolver implements
// it. network is "ip", "ip4" or "ip6".
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Config configures a Gate. The zero value is a gate that refuses the
// production host family, caps non-loopback sends at DefaultMaxRate, uses no
// proxy, the system resolver and a plain dialer.
type Config struct {
	// AllowProduction lets requests reach the production host family.
	AllowProduction bool
	// MaxRate is the ceiling, in sends per second, on requests that do not
	// go to a loopback address, for the whole job (see the package doc). 0
	// means DefaultMaxRate; otherwise it must pass CheckMaxRate.
	MaxRate float64
	// Shard is this process's part of the job: with Count > 1 the gate sends
	// only in the shard's slots of the wall clock (see the package doc). The
	// zero value means not sharded.
	Shard Shard
	// Proxy picks the proxy for a request URL, like
	// httpproxy.Config.ProxyFunc; nil, or a nil URL, means a direct
	// connection. A proxied request is never loopback.
	Proxy func(*url.URL) (*url.URL, error)
	// TLS is the TLS client configuration (extra roots, the insecure flag);
	// nil means the defaults. The gate keeps a clone.
	TLS *tls.Config
	// Resolver resolves host names for dialling and for the loopback
	// decision; nil means net.DefaultResolver. Each name is resolved once per
	// gate, so the loopback decision and the addresses dialled always agree.
	Resolver Resolver
	// Dial opens a connection to an IP address and port (the gate resolves
	// names itself); nil means a net.Dialer with a 30 s timeout and 30 s
	// keep-alive. Tests use it to route a test address to a local server.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Now is the clock of the rate ceiling; a sharded gate places its slots
	// by its Unix time. nil means time.Now.
	Now func() time.Time
}

// Gate is the one way out of the harness (see the package doc): every HTTP
// request and connection goes through a client or transport it makes, or
// through Conn. A Gate is safe for concurrent use; the ceiling is shared by
// every client it makes.
type Gate struct {
	cfg     Config
	ceiling *ceiling
	shared  *http.Transport

	mu     sync.Mutex
	addrs  map[string][]netip.Addr // canonical host -> resolved addresses
	routes sync.Map                // scheme "://" host -> route
}

// route is the gate's decision for a scheme and host.
type route struct {
	err      error
	loopback bool
}

// CheckMaxRate reports whether r is an acceptable ceiling in sends per
// second: finite, positive and at most MaxRateLimit.
func CheckMaxRate(r float64) error {
	if math.IsNaN(r) || math.IsInf(r, 0) || r <= 0 || r > MaxRateLimit {
		return fmt.Errorf("want sends per second above 0 and at most %g, got %v", MaxRateLimit, r)
	}
	return nil
}

// New returns a gate for cfg. It fails only for an invalid MaxRate or
// Shard.
func New(cfg Config) (*Gate, error) {
	if cfg.MaxRate == 0 {
		cfg.MaxRate = DefaultMaxRate
	}
	if err := CheckMaxRate(cfg.MaxRate); err != nil {
		return nil, fmt.Errorf("egress: max rate: %w", err)
	}
	if sh := cfg.Shard; sh.Count < 0 || sh.Index < 0 || sh.Index >= max(sh.Count, 1) {
		return nil, fmt.Errorf("egress: shard: want 0 <= index < count, got %d/%d", sh.Index, sh.Count)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c, err := newCeiling(cfg.MaxRate, cfg.Shard, cfg.Now)
	if err != nil {
		return nil, fmt.Errorf("egress: max rate: %w", err)
	}
	if cfg.Proxy == nil {
		cfg.Proxy = func(*url.URL) (*url.URL, error) { return nil, nil }
	}
	if cfg.Resolver == nil {
		cfg.Resolver = net.DefaultResolver
	}
	if cfg.Dial == nil {
		cfg.Dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	if cfg.TLS != nil {
		cfg.TLS = cfg.TLS.Clone()
	}
	g := &Gate{cfg: cfg, ceiling: c, addrs: map[string][]netip.Addr{}}
	g.shared = g.Transport()
	return g, nil
}

// Default returns a gate with the defaults of Config, the proxies of the
// process environment (HTTP_PROXY, HTTPS_PROXY, NO_PROXY) and tlsConfig
// (nil: the defaults). It is for library callers that were given no gate.
func Default(tlsConfig *tls.Config) *Gate {
	g, err := New(Config{Proxy: httpproxy.FromEnvironment().ProxyFunc(), TLS: tlsConfig})
	if err != nil {
		panic(err) // unreachable: the default rate is valid
	}
	return g
}

// Transport returns a new transport whose every connection passes the gate:
// its proxy choice refuses a request for the production host family, and its
// dialer refuses to dial one (proxy or target) and dials only the addresses
// the gate resolved. Callers may tune its limits and wrap its DialContext,
// then must send through ClientFor so that the ceiling applies.
func (g *Gate) Transport() *http.Transport {
	tr := &http.Transport{
		Proxy:                 g.proxyFor,
		DialContext:           g.dialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   tlsHandshakeTimeout,
		ExpectContinueTimeout: time.Second,
	}
	if g.cfg.TLS != nil {
		tr.TLSClientConfig = g.cfg.TLS.Clone()
	}
	return tr
}

// Client returns a client on the gate's shared transport with the given
// overall timeout (0: none). See ClientFor.
func (g *Gate) Client(timeout time.Duration) *http.Client {
	return g.ClientFor(g.shared, timeout, nil)
}

// ClientFor returns a client that sends through tr, which must be one of
// the gate's transports (Transport, possibly tuned). Every request is
// checked (host after IDNA mapping) before it is sent; a request that does
// not go to a loopback address first waits for the rate ceiling (the wait
// respects the request's context and ends with an error when stop, if not
// nil, is done). The client never follows a redirect: a 3xx is returned as
// the response.
func (g *Gate) ClientFor(tr *http.Transport, timeout time.Duration, stop context.Context) *http.Client {
	return &http.Client{
		Transport: &gated{g: g, base: tr, stop: stop},
		Timeout:   timeout,
		// A redirect is an answer to record and judge, never followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Check applies the host rules to a configured URL, before any traffic: an
// error wraps ErrProduction or ErrBadHost, or says the URL is not an
// absolute http(s) URL. The message does not repeat the URL (it may hold
// credentials).
func (g *Gate) Check(rawURL string) error {
	u, err := parseURL(rawURL)
	if err != nil {
		return err
	}
	_, err = checkHost(u.Hostname(), g.cfg.AllowProduction)
	return err
}

// Loopback reports whether requests to rawURL go to a loopback address with
// no proxy in between: the only traffic the rate ceiling does not hold. A
// name counts only if every address it resolves to is loopback (the gate
// dials no other address for it).
func (g *Gate) Loopback(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return false
	}
	r, err := g.route(context.Background(), u)
	return err == nil && r.loopback
}

// route decides a request URL: refused, or loopback or not. Decisions that
// cannot change (refusals, proxied, IP literals, resolved names) are cached.
func (g *Gate) route(ctx context.Context, u *url.URL) (route, error) {
	key := u.Scheme + "://" + u.Host
	if v, ok := g.routes.Load(key); ok {
		r := v.(route)
		return r, r.err
	}
	r, final := g.decide(ctx, u)
	if final {
		g.routes.Store(key, r)
	}
	return r, r.err
}

func (g *Gate) decide(ctx context.Context, u *url.URL) (route, bool) {
	host, err := checkHost(u.Hostname(), g.cfg.AllowProduction)
	if err != nil {
		return route{err: err}, true
	}
	if p, err := g.cfg.Proxy(u); err != nil || p != nil {
		return route{}, err == nil // a proxy error is the transport's to report
	}
	if ip, err := netip.ParseAddr(u.Hostname()); err == nil {
		return route{loopback: ip.Unmap().IsLoopback()}, true
	}
	addrs, err := g.resolve(ctx, "tcp", host)
	if err != nil {
		return route{}, false
	}
	for _, a := range addrs {
		if !a.Unmap().IsLoopback() {
			return route{}, true
		}
	}
	return route{loopback: len(addrs) > 0}, true
}

// resolve returns host's addresses, resolved once per gate.
func (g *Gate) resolve(ctx context.Context, network, host string) ([]netip.Addr, error) {
	g.mu.Lock()
	addrs, ok := g.addrs[host]
	g.mu.Unlock()
	if ok {
		return filterFamily(addrs, network), nil
	}
	addrs, err := g.cfg.Resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, fmt.Errorf("egress: resolve %s: %w", host, err)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("egress: resolve %s: no address", host)
	}
	g.mu.Lock()
	if prev, ok := g.addrs[host]; ok {
		addrs = prev // the first answer stands: decisions were made on it
	} else {
		g.addrs[host] = addrs
	}
	g.mu.Unlock()
	return filterFamily(addrs, network), nil
}

// filterFamily keeps the addresses a network ("tcp", "tcp4", "tcp6") can
// dial.
func filterFamily(addrs []netip.Addr, network string) []netip.Addr {
	if network != "tcp4" && network != "tcp6" {
		return addrs
	}
	return slices.DeleteFunc(slices.Clone(addrs), func(a netip.Addr) bool { return a.Unmap().Is4() != (network == "tcp4") })
}

// proxyFor is the transports' Proxy: it refuses the production host family
// (also for a clone used without ClientFor) and asks Config.Proxy.
func (g *Gate) proxyFor(req *http.Request) (*url.URL, error) {
	if _, err := checkHost(req.URL.Hostname(), g.cfg.AllowProduction); err != nil {
		return nil, err
	}
	return g.cfg.Proxy(req.URL)
}

// dialContext is the transports' dialer: addr is a target or a proxy.
func (g *Gate) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("egress: dial %s: %w", addr, err)
	}
	canon, err := checkHost(host, g.cfg.AllowProduction)
	if err != nil {
		return nil, err
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return g.cfg.Dial(ctx, network, addr)
	}
	addrs, err := g.resolve(ctx, network, canon)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("egress: dial %s: no %s address", addr, network)
	}
	var errs []error
	for _, a := range addrs {
		c, err := g.cfg.Dial(ctx, network, net.JoinHostPort(a.String(), port))
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// gated is the RoundTripper of the gate's clients.
type gated struct {
	g    *Gate
	base http.RoundTripper
	stop context.Context
}

func (t *gated) RoundTrip(req *http.Request) (*http.Response, error) {
	r, err := t.g.route(req.Context(), req.URL)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	if !r.loopback {
		if err := t.g.ceiling.wait(req.Context(), t.stop, 1); err != nil {
			closeBody(req)
			return nil, fmt.Errorf("egress: waiting for the rate ceiling: %w", err)
		}
	}
	return t.base.RoundTrip(req)
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}
