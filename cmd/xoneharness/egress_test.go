package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xoneharness/xoneharness/internal/sandbox"
)

// logProxy is a loopback HTTP proxy that logs every request it is asked to
// carry, CONNECTs included, and tunnels nothing: it stands in for the world
// outside. Plain-HTTP requests for a host in serve are answered by that
// handler (a stand-in target behind a name that is not loopback); everything
// else gets 502. Requests arriving in the stall window are held until it ends.
type logProxy struct {
	srv   *httptest.Server
	serve map[string]http.HandlerFunc // host without port -> handler

	// stallFrom and stallFor: hold requests arriving in [first+stallFrom,
	// first+stallFrom+stallFor), first being the first request's arrival.
	stallFrom, stallFor time.Duration

	mu    sync.Mutex
	log   []string // "METHOD host"
	at    []time.Time
	first time.Time
}

func newLogProxy(t *testing.T, serve map[string]http.HandlerFunc) *logProxy {
	t.Helper()
	p := &logProxy{serve: serve}
	p.srv = httptest.NewServer(http.HandlerFunc(p.handle))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *logProxy) handle(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	p.mu.Lock()
	p.log = append(p.log, r.Method+" "+r.Host+" "+r.URL.Path)
	p.at = append(p.at, now)
	if p.first.IsZero() {
		p.first = now
	}
	from, to := p.first.Add(p.stallFrom), p.first.Add(p.stallFrom+p.stallFor)
	p.mu.Unlock()
	if p.stallFor > 0 && !now.Before(from) && now.Before(to) {
		select {
		case <-time.After(to.Sub(now)):
		case <-r.Context().Done():
			return
		}
	}
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	if h, ok := p.serve[host]; ok && r.Method != http.MethodConnect {
		h(w, r)
		return
	}
	http.Error(w, "log proxy: not carried", http.StatusBadGateway)
}

func (p *logProxy) requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.log...)
}

func (p *logProxy) times() []time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Time(nil), p.at...)
}

// proxyEnv points every proxy variable, in env and (for code that reads the
// process environment) in the process, at p.
func proxyEnv(t *testing.T, p *logProxy, env map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range env {
		out[k] = v
	}
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"} {
		out[k] = p.srv.URL
		t.Setenv(k, p.srv.URL)
	}
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
	return out
}

// jitterWindow is the window in which the proxy counts sends: one second less
// the jitter a loaded test machine adds between the gate letting a request go
// and the proxy reading it (a new connection's dial, scheduling). The gate's
// own ceiling is exact (internal/egress TestCeilingProperty); an uncapped
// catch-up after a stall puts many sends within milliseconds.
const jitterWindow = 900 * time.Millisecond

// maxPerSecond is the most timestamps any half-open window of jitterWindow
// holds.
func maxPerSecond(ts []time.Time) int {
	best := 0
	for i := range ts {
		n := 0
		for _, u := range ts {
			if !u.Before(ts[i]) && u.Sub(ts[i]) < jitterWindow {
				n++
			}
		}
		best = max(best, n)
	}
	return best
}

// TestEgressProductionNeverReached configures the production host in every
// spelling, as base URL and as token URL, with a logging proxy in the
// environment: each run stops with exit 2 naming the setting, and the proxy
// sees nothing.
func TestEgressProductionNeverReached(t *testing.T) {
	p := newLogProxy(t, nil)
	offers := writeOffers(t, 5)
	s := newStandIn(t, standInOpts{})
	creds := map[string]string{"XONE_CLIENT_ID": standInClientID, "XONE_CLIENT_SECRET": standInSecret, "XONE_PARTNER_ID": sandbox.PartnerID}
	with := func(kv ...string) map[string]string {
		env := map[string]string{}
		for k, v := range creds {
			env[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			env[kv[i]] = kv[i+1]
		}
		return proxyEnv(t, p, env)
	}
	spellings := []string{
		"https://api．xone．xcover．com",
		"https://ａpi.xone.xcover.com",
		"https://API。XONE。XCOVER。COM",
		"https://api.xone.xcover.com.",
		"http://api.xone.xcover.com%E3%80%82",
	}
	type tc struct {
		name string
		env  map[string]string
		args []string
		want string
	}
	var cases []tc
	for _, sp := range spellings {
		cases = append(cases,
			tc{"env base " + sp, with("XONE_BASE_URL", sp), []string{"contract"}, "XONE_BASE_URL"},
			tc{"flag base " + sp, with(), []string{"load", "--base-url", sp, "--offers", offers, "--rate", "2/s", "--duration", "1s"}, "--base-url"},
			tc{"token flag " + sp, with("XONE_BASE_URL", s.srv.URL), []string{"contract", "--token-url", sp + "/api/oauth/token"}, "--token-url"},
			tc{"token env " + sp, with("XONE_BASE_URL", s.srv.URL, "XONE_TOKEN_URL", sp+"/api/oauth/token"),
				[]string{"load", "--offers", offers, "--rate", "2/s", "--duration", "1s"}, "XONE_TOKEN_URL"},
		)
	}
	cases = append(cases, tc{"token url with run", with("XONE_BASE_URL", s.srv.URL),
		[]string{"run", "--token-url", "https://api.xone.xcover.com/api/oauth/token", "--offers", offers, "--rate", "2/s", "--duration", "1s"}, "--token-url"})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := invoke(t, c.env, append(c.args, "--report-dir", t.TempDir())...)
			assert.Equal(t, exitUsage, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			assert.Contains(t, r.stderr, c.want)
			assert.Contains(t, r.stderr, "--allow-production")
		})
	}
	assert.Empty(t, p.requests(), "the proxy was asked to reach production")
	assert.Zero(t, s.hits.Load(), "the target was contacted although the configuration is refused")
}

// TestEgressRedirectsNeverFollowed has the target's confirm endpoint and its
// token endpoint answer each redirect status with a Location on a second
// loopback server standing in for production: contract and load record the
// answer, and the second server sees nothing (no re-sent confirm, no re-sent
// client secret).
func TestEgressRedirectsNeverFollowed(t *testing.T) {
	prod := newLogProxy(t, nil) // used as a plain server: it logs what reaches it
	offers := writeOffers(t, 40)
	for _, code := range []int{301, 302, 307, 308} {
		redirect := func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, prod.srv.URL+r.URL.Path, code)
		}
		confirmRedirects := newStandIn(t, standInOpts{confirm: func(w http.ResponseWriter, r *http.Request, _ int64) bool {
			redirect(w, r)
			return true
		}})
		tokenRedirects := newStandIn(t, standInOpts{token: func(w http.ResponseWriter, r *http.Request, _ int64) { redirect(w, r) }})
		for _, tgt := range []struct {
			name string
			s    *standIn
		}{{"confirm", confirmRedirects}, {"token", tokenRedirects}} {
			for _, args := range [][]string{
				{"contract"},
				{"load", "--offers", offers, "--rate", "10/s", "--duration", "500ms"},
			} {
				t.Run(fmt.Sprintf("%d/%s/%s", code, tgt.name, args[0]), func(t *testing.T) {
					r := invoke(t, tgt.s.env(), append(args, "--report-dir", t.TempDir())...)
					if args[0] == "contract" || tgt.name == "token" {
						assert.NotEqual(t, exitOK, r.code, "a redirect is not a pass: stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
					}
					assert.NotContains(t, r.stderr+r.stdout, standInSecret)
				})
			}
		}
		assert.Positive(t, confirmRedirects.confs.Load(), "%d: confirms were sent to the target", code)
		assert.Positive(t, tokenRedirects.tokenHits.Load(), "%d: token requests were sent to the target", code)
	}
	assert.Empty(t, prod.requests(), "a redirect was followed")
}

// TestEgressRateCeilingAfterStall sends load through a proxy to a target
// behind a name that is not loopback; the target stalls, then recovers, and
// the pacer tries to catch up: the proxy never sees more than --max-rate
// sends in any one-second window.
func TestEgressRateCeilingAfterStall(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 8 s")
	}
	s := newStandIn(t, standInOpts{})
	p := newLogProxy(t, map[string]http.HandlerFunc{"partner.example": s.serve})
	p.stallFrom, p.stallFor = 500*time.Millisecond, 5*time.Second
	env := proxyEnv(t, p, map[string]string{"XONE_BASE_URL": "http://partner.example", "XONE_CLIENT_ID": standInClientID,
		"XONE_CLIENT_SECRET": standInSecret, "XONE_PARTNER_ID": sandbox.PartnerID})
	r := invoke(t, env, "load", "--offers", writeOffers(t, 60), "--rate", "5/s", "--max-rate", "5",
		"--workers", "10", "--max-workers", "10", "--duration", "7s", "--report-dir", t.TempDir(), "--format", "json")
	require.NotEqual(t, exitUsage, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	ts := p.times()
	require.GreaterOrEqual(t, len(ts), 12, "the load reached the target through the proxy: %v", p.requests())
	got := maxPerSecond(ts)
	assert.LessOrEqual(t, got, 5, "got %d sends in one second, want at most --max-rate 5", got)
}

// TestEgressShardsShareTheCeiling runs four shards of one job, started at
// random moments within a second, against one target behind a name that is
// not loopback, through a logging proxy: shards take turns in wall-clock
// slots, so no one-second window of the proxy's log holds more than the
// job's --max-rate (before, they all started their windows at once). A
// shard plan above its share is refused up front.
func TestEgressShardsShareTheCeiling(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 5 s")
	}
	s := newStandIn(t, standInOpts{})
	p := newLogProxy(t, map[string]http.HandlerFunc{"partner.example": s.serve})
	env := proxyEnv(t, p, map[string]string{"XONE_BASE_URL": "http://partner.example", "XONE_CLIENT_ID": standInClientID,
		"XONE_CLIENT_SECRET": standInSecret, "XONE_PARTNER_ID": sandbox.PartnerID})
	offers := writeOffers(t, 60)
	const shards, maxRate = 4, 4
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	t.Logf("seed %d", seed)
	var wg sync.WaitGroup
	for i := range shards {
		delay := time.Duration(rng.Int64N(int64(time.Second)))
		wg.Go(func() {
			time.Sleep(delay) // a random start, as pods of a Job start
			var out, errOut bytes.Buffer
			code := run(context.Background(), []string{"load", "--offers", offers, "--shard", fmt.Sprintf("%d/%d", i, shards),
				"--rate", "4/s", "--max-rate", fmt.Sprint(maxRate), "--duration", "4s",
				"--report-dir", t.TempDir(), "--format", "json"}, func(k string) string { return env[k] }, &out, &errOut)
			if code == exitUsage {
				t.Errorf("shard %d: exit 2: %s", i, errOut.String())
			}
		})
	}
	wg.Wait()
	var confirms []time.Time
	for i, r := range p.requests() {
		if strings.HasSuffix(r, "/confirm") {
			confirms = append(confirms, p.times()[i])
		}
	}
	require.GreaterOrEqual(t, len(confirms), 12, "the shards reached the target through the proxy")
	got := maxInWindow(confirms, time.Second)
	assert.LessOrEqual(t, got, maxRate, "got %d confirms in one second from %d shards, want at most --max-rate %d", got, shards, maxRate)

	// Above the share: 10 shards of a 200/s job with the default ceiling.
	r := invoke(t, env, "load", "--dry-run", "--offers", offers, "--shard", "0/10", "--rate", "200/s", "--duration", "1s")
	assert.Equal(t, exitUsage, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	assert.Contains(t, r.stderr, "--max-rate")
}

// maxInWindow is the most timestamps any half-open window of length w holds.
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

// TestEgressConfigRefused covers settings that would route traffic around
// the rules or build malformed requests: each is exit 2 naming where the
// value came from, and none is echoed with a password.
func TestEgressConfigRefused(t *testing.T) {
	offers := writeOffers(t, 5)
	s := newStandIn(t, standInOpts{})
	live := func(kv ...string) map[string]string {
		env := s.env()
		for i := 0; i < len(kv); i += 2 {
			env[kv[i]] = kv[i+1]
		}
		return env
	}
	loadArgs := func(extra ...string) []string {
		return append([]string{"load", "--offers", offers, "--rate", "2/s", "--duration", "1s"}, extra...)
	}
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"max-rate NaN", nil, []string{"load", "--dry-run", "--max-rate", "NaN"}, "--max-rate"},
		{"max-rate Inf", nil, []string{"load", "--dry-run", "--max-rate", "+Inf"}, "--max-rate"},
		{"max-rate negative", nil, []string{"load", "--dry-run", "--max-rate", "-1"}, "--max-rate"},
		{"max-rate zero", nil, []string{"load", "--dry-run", "--max-rate", "0"}, "--max-rate"},
		{"max-rate absurd", nil, []string{"load", "--dry-run", "--max-rate", "1e9"}, "--max-rate"},
		{"max-rate NaN in run", nil, []string{"run", "--max-rate", "NaN"}, "--max-rate"},
		{"partner flag dot-dot", live(), []string{"contract", "--partner-id", ".."}, "--partner-id"},
		{"partner env dot", live("XONE_PARTNER_ID", "."), []string{"contract"}, "XONE_PARTNER_ID"},
		{"partner env slash", live("XONE_PARTNER_ID", "a/b"), loadArgs(), "XONE_PARTNER_ID"},
		{"partner env percent", live("XONE_PARTNER_ID", "a%2e"), loadArgs(), "XONE_PARTNER_ID"},
		{"partner env control", live("XONE_PARTNER_ID", "a\x01b"), loadArgs(), "XONE_PARTNER_ID"},
		{"base query", live("XONE_BASE_URL", s.srv.URL+"?x=1"), []string{"contract"}, "XONE_BASE_URL"},
		{"base fragment", live(), []string{"contract", "--base-url", s.srv.URL + "#frag"}, "--base-url"},
		{"base userinfo", live("XONE_BASE_URL", strings.Replace(s.srv.URL, "//", "//user:pa55word-x@", 1)), []string{"contract"}, "XONE_BASE_URL"},
		{"token userinfo", live(), []string{"contract", "--token-url", strings.Replace(s.srv.URL, "//", "//user:pa55word-x@", 1) + "/api/oauth/token"}, "--token-url"},
		{"base userinfo unparsable", live("XONE_BASE_URL", "http://user:pa55word-x@host:port/"), []string{"contract"}, "XONE_BASE_URL"},
	}
	for _, h := range []string{"Authorization", "Content-Type", "content-length", "Host", "Connection", "Keep-Alive",
		"Proxy-Authorization", "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Cookie", "Accept", "User-Agent"} {
		cases = append(cases, struct {
			name string
			env  map[string]string
			args []string
			want string
		}{"idempotency header " + h, nil, []string{"load", "--dry-run", "--idempotency-header", h}, "--idempotency-header"})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := invoke(t, c.env, append(c.args, "--report-dir", t.TempDir())...)
			assert.Equal(t, exitUsage, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			assert.Contains(t, r.stderr, c.want)
			assert.NotContains(t, r.stderr+r.stdout, "pa55word")
		})
	}
	assert.Zero(t, s.confs.Load(), "no confirm was sent with a refused setting")

	// A valid idempotency header still works.
	r := invoke(t, nil, "load", "--dry-run", "--idempotency-header", "Idempotency-Key")
	assert.Equal(t, exitOK, r.code, r.stderr)
}

// TestSandboxKnobsRefused: the sandbox refuses knobs it would otherwise
// ignore or misapply, and an address that would listen on more than the one
// it prints. A run that is wrongly accepted ends when its context does.
func TestSandboxKnobsRefused(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--error-rate", "NaN"}, "--error-rate"},
		{[]string{"--reset-rate", "NaN"}, "--reset-rate"},
		{[]string{"--throttle-rate", "NaN"}, "--throttle-rate"},
		{[]string{"--retry-after", "-1s"}, "--retry-after"},
		{[]string{"--drift", ","}, "--drift"},
		{[]string{"--drift", "price-as-string,"}, "--drift"},
		{[]string{"--addr", "0.0.0.0:0"}, "--addr"},
		{[]string{"--addr", "[::]:0"}, "--addr"},
		{[]string{"--addr", ":18099"}, "--addr"}, // an empty host is every interface: refused before any bind
		{[]string{"--addr", "0.0.0.0:0", "--allow-remote"}, "--addr"},
		{[]string{"--addr", "192.0.2.1:0"}, "--addr"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			args := append([]string{"sandbox"}, c.args...)
			if !strings.HasPrefix(c.args[0], "--addr") {
				args = append(args, "--addr", "127.0.0.1:0")
			}
			r := invokeCtx(t, ctx, nil, args...)
			assert.Equal(t, exitUsage, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			assert.Contains(t, r.stderr, c.want)
		})
	}

	// A loopback address is served, and printed as bound.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := invokeCtx(t, ctx, nil, "sandbox", "--addr", "127.0.0.1:0")
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "listening on http://127.0.0.1:")
}
