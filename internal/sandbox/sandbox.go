package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xoneharness/xoneharness/internal/xone"
)

// Demo credentials accepted by the sandbox's token endpoint. They are not secrets: the
// sandbox exists only for tests and demos.
const (
	// ClientID and ClientSecret get a token with scope offers:update (confirm allowed).
	ClientID     = "sandbox-client"
	ClientSecret = "sandbox-secret"
	// ReadOnlyClientID and ReadOnlyClientSecret get a token with scope offers:view;
	// confirm answers 401 to it.
	ReadOnlyClientID     = "sandbox-readonly"
	ReadOnlyClientSecret = "sandbox-readonly-secret"
	// PartnerID is the demo partner id. The sandbox accepts any partner id.
	PartnerID = "SANDBOX-PARTNER"
)

// Paths served by the sandbox.
const (
	TokenPath   = xone.TokenPath
	ConfirmPath = xone.ConfirmPathTemplate // ServeMux pattern
)

// salts separate the random streams derived from one request sequence number.
const (
	saltFault uint64 = iota + 1
	saltBooking
	saltHeaders
	saltToken
	saltTokenFault
	saltKey
)

// offerShards is the number of shards of the confirmed-offer set.
const offerShards = 64

// offerShard is one shard of the set of confirmed offers. The map has pointer-free keys
// and values, so the garbage collector never scans it, however many offers it holds
// (a sync.Map of boxed keys made GC dominate the confirm cost under load).
type offerShard struct {
	mu sync.Mutex
	m  map[[16]byte]struct{}
	_  [40]byte // keep shards on separate cache lines
}

// markConfirmed records offer as confirmed and reports whether it already was.
func (s *Server) markConfirmed(offer [16]byte) (already bool) {
	h := (binary.LittleEndian.Uint64(offer[:8]) ^ binary.LittleEndian.Uint64(offer[8:])) * golden
	sh := &s.confirmed[h>>58]
	sh.mu.Lock()
	_, already = sh.m[offer]
	if !already {
		if sh.m == nil {
			sh.m = make(map[[16]byte]struct{})
		}
		sh.m[offer] = struct{}{}
	}
	sh.mu.Unlock()
	return already
}

// Stats counts what the sandbox has done since it was built. Every field is a count of
// requests or responses; see each field for what it counts.
type Stats struct {
	// TokensIssued counts successful token endpoint responses (MintToken is not counted).
	TokensIssued int64
	// Confirms counts POST requests routed to the confirm endpoint, whatever the outcome.
	Confirms int64
	// Confirmed counts 200 booking responses (including those forced by drift modes).
	Confirmed int64
	// DuplicateConfirms counts valid confirms of an offer that was already confirmed.
	DuplicateConfirms int64
	// Unauthorized counts confirms rejected for their token (401, or 403 under 401-as-403).
	Unauthorized int64
	// Throttled counts 429 responses.
	Throttled int64
	// Errors5xx counts 5xx responses from either endpoint (injected faults and
	// undocumented-500).
	Errors5xx int64
	// Resets counts connections reset on purpose.
	Resets int64
}

// Server is the embedded XONE sandbox: a token endpoint and the Confirm offer endpoint
// with fault and drift injection. Build it with New (handler only) or Start (listening).
// All methods are safe for concurrent use.
type Server struct {
	cfg       config
	start     time.Time
	seed      uint64 // randomness for ids, values and faults (Seed option or random)
	keySeed   uint64 // randomness for token nonces, always random
	idKey     uint64 // key of the booking id permutation
	ipad      [64]byte
	opad      [64]byte
	expiresIn int64

	confirmSeq  atomic.Uint64
	tokenSeq    atomic.Uint64
	tokenReqSeq atomic.Uint64
	confirmed   [offerShards]offerShard

	stats struct {
		tokensIssued, confirms, confirmed, duplicates, unauthorized,
		throttled, errors5xx, resets atomic.Int64
	}

	handler http.Handler
	bufs    sync.Pool // *[]byte
	done    chan struct{}
	once    sync.Once

	// pre-rendered header values (shared read-only slices with len == cap, so an
	// append by a caller copies instead of writing into them)
	jsonCT, htmlCT, hdrNoStore, hdrNoCache, hdrCacheControl, hdrVary, hdrNosniff,
	hdrXSS, hdrHSTS, hdrCFCache, hdrServer []string
	retryAfter []string
	throttled  []byte
	tz         *time.Location
	products   [2]product

	// set by Start
	srv      *http.Server
	ln       net.Listener
	url      string
	serveErr chan error
}

// New builds a sandbox without listening; serve its Handler yourself (httptest, an
// http.Server). It returns an error naming the offending option for an unknown drift mode,
// a ratio outside [0, 1], a negative duration or rates that sum to more than 1.
func New(opts ...Option) (*Server, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if sum := cfg.resetRate + cfg.throttleRate + cfg.errorRate; sum > 1+1e-9 {
		cfg.fail("ResetRate+ThrottleRate+ErrorRate: sum %v exceeds 1", sum)
	}
	if err := errors.Join(cfg.errs...); err != nil {
		return nil, fmt.Errorf("sandbox: new: %w", err)
	}
	var key [48]byte
	if _, err := rand.Read(key[:]); err != nil {
		return nil, fmt.Errorf("sandbox: new: token key: %w", err)
	}
	s := &Server{
		cfg:             cfg,
		keySeed:         binary.LittleEndian.Uint64(key[32:40]),
		done:            make(chan struct{}),
		jsonCT:          []string{"application/json"},
		htmlCT:          []string{"text/html; charset=UTF-8"},
		hdrNoStore:      []string{"no-store"},
		hdrNoCache:      []string{"no-cache"},
		hdrCacheControl: []string{"no-cache, private"},
		hdrVary:         []string{"Origin"},
		hdrNosniff:      []string{"nosniff"},
		hdrXSS:          []string{"1; mode=block"},
		hdrHSTS:         []string{"max-age=31536000; includeSubDomains"},
		hdrCFCache:      []string{"DYNAMIC"},
		hdrServer:       []string{"cloudflare"},
		tz:              time.FixedZone("AEST", 10*60*60),
	}
	if cfg.seeded {
		s.seed = uint64(cfg.seed)
	} else {
		s.seed = binary.LittleEndian.Uint64(key[40:48])
	}
	for i := range s.ipad {
		k := byte(0)
		if i < 32 {
			k = key[i]
		}
		s.ipad[i], s.opad[i] = k^0x36, k^0x5c
	}
	idr := newRNG(s.seed, 0, saltKey)
	s.idKey = idr.next()
	s.expiresIn = int64((cfg.tokenTTL + time.Second - 1) / time.Second)
	secs := int64((cfg.retryAfter + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	s.retryAfter = []string{strconv.FormatInt(secs, 10)}
	unit := "seconds"
	if secs == 1 {
		unit = "second"
	}
	s.throttled = fmt.Appendf(nil, `{"message":"Request was throttled. Expected available in %d %s."}`, secs, unit)
	s.products = products()
	s.bufs.New = func() any { b := make([]byte, 0, 4096); return &b }

	mux := http.NewServeMux()
	mux.HandleFunc(TokenPath, s.serveToken)
	mux.HandleFunc(ConfirmPath, func(w http.ResponseWriter, r *http.Request) {
		s.serveConfirm(w, r, r.PathValue("offer_id"))
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, s.jsonCT, http.StatusOK, bodyHealthy)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, s.jsonCT, http.StatusNotFound, bodyNotFound)
	})
	s.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Fast path for canonical confirm paths: ServeMux's pattern matching costs two
		// allocations and ~8% of a confirm. Everything else, including confirm paths that
		// need cleaning, goes through the mux, which has the same confirm route.
		if offer, ok := confirmOfferID(r.URL.Path); ok {
			s.serveConfirm(w, r, offer)
			return
		}
		mux.ServeHTTP(w, r)
	})
	s.start = cfg.now()
	return s, nil
}

// Start builds a sandbox like New, listens on the Addr option's address (default
// "127.0.0.1:0") and serves in a background goroutine until Close. The Stall window is
// measured from the moment listening starts.
func Start(opts ...Option) (*Server, error) {
	s, err := New(opts...)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", s.cfg.addr)
	if err != nil {
		return nil, fmt.Errorf("sandbox: listen %s: %w", s.cfg.addr, err)
	}
	s.ln = ln
	s.url = "http://" + dialable(ln.Addr())
	s.srv = &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	s.serveErr = make(chan error, 1)
	s.start = s.cfg.now()
	go func() { s.serveErr <- s.srv.Serve(ln) }()
	return s, nil
}

// dialable turns a listen address into one a client can dial: an unspecified IP
// (0.0.0.0, ::) becomes loopback.
func dialable(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	ip := ta.IP
	if ip.IsUnspecified() {
		if ip.To4() != nil {
			ip = net.IPv4(127, 0, 0, 1)
		} else {
			ip = net.IPv6loopback
		}
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(ta.Port))
}

// StartTB starts a sandbox for a test or benchmark, fails tb if that is impossible and
// closes the sandbox in tb.Cleanup.
func StartTB(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s, err := Start(opts...)
	if err != nil {
		tb.Fatalf("sandbox: start: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("sandbox: close: %v", err)
		}
	})
	return s
}

// Handler returns the sandbox's HTTP handler (token, confirm, GET /healthz, JSON 404 for
// everything else). It is safe for concurrent use.
func (s *Server) Handler() http.Handler { return s.handler }

// URL returns the base URL of a started sandbox, e.g. "http://127.0.0.1:41234" (an
// unspecified listen IP is reported as loopback), or "" for a sandbox built with New.
func (s *Server) URL() string { return s.url }

// TokenURL returns URL() + "/api/oauth/token", or "" for a sandbox built with New.
func (s *Server) TokenURL() string {
	if s.url == "" {
		return ""
	}
	return s.url + TokenPath
}

// Close stops a started sandbox: it closes the listener and every connection and wakes
// every request held by latency or a stall. For a sandbox built with New it only wakes
// held requests (they are answered 503). Close is idempotent.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() {
		close(s.done)
		if s.srv == nil {
			return
		}
		err = s.srv.Close()
		if serr := <-s.serveErr; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
		if err != nil {
			err = fmt.Errorf("sandbox: close: %w", err)
		}
	})
	return err
}

// Stats returns a snapshot of the sandbox's counters. Counters are read one by one, so a
// snapshot taken under load may be off by in-flight requests.
func (s *Server) Stats() Stats {
	return Stats{
		TokensIssued:      s.stats.tokensIssued.Load(),
		Confirms:          s.stats.confirms.Load(),
		Confirmed:         s.stats.confirmed.Load(),
		DuplicateConfirms: s.stats.duplicates.Load(),
		Unauthorized:      s.stats.unauthorized.Load(),
		Throttled:         s.stats.throttled.Load(),
		Errors5xx:         s.stats.errors5xx.Load(),
		Resets:            s.stats.resets.Load(),
	}
}

// sleep waits d, returning false when the request context ends or the sandbox closes.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.done:
		return false
	}
}

// writeAborted answers a request whose wait was cut short (the client has usually gone).
func (s *Server) writeAborted(w http.ResponseWriter) {
	writeJSON(w, s.jsonCT, http.StatusServiceUnavailable, bodyUnavailable)
}

func (s *Server) writeMethodNotAllowed(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", http.MethodPost)
	if !validMethod(r.Method) {
		writeJSON(w, s.jsonCT, http.StatusMethodNotAllowed, `{"message":"The method is not supported for this route. Supported methods: POST."}`)
		return
	}
	writeJSON(w, s.jsonCT, http.StatusMethodNotAllowed,
		`{"message":"The `+r.Method+` method is not supported for this route. Supported methods: POST."}`)
}

func validMethod(m string) bool {
	for i := 0; i < len(m); i++ {
		if c := m[i]; c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// writeBody writes a complete response with an explicit Content-Length (so a body over
// net/http's 2 KiB buffer is not chunked). ct nil means no Content-Type and no sniffing.
func writeBody(w http.ResponseWriter, ct []string, status int, body []byte) {
	writeHead(w, ct, status, len(body))
	_, _ = w.Write(body) // a write error means the client has gone; nothing to do
}

// writeJSON is writeBody for a constant body.
func writeJSON(w http.ResponseWriter, ct []string, status int, body string) {
	writeHead(w, ct, status, len(body))
	_, _ = io.WriteString(w, body) // a write error means the client has gone
}

func writeHead(w http.ResponseWriter, ct []string, status, n int) {
	h := w.Header()
	h["Content-Type"] = ct // nil suppresses net/http's content sniffing
	h["Content-Length"] = []string{strconv.Itoa(n)}
	w.WriteHeader(status)
}

var errBodyTooLarge = errors.New("body too large")

// confirmOfferID matches "/api/partners/{partner_id}/offers/{offer_id}/confirm" with
// non-empty, slash-free segments and returns offer_id.
func confirmOfferID(path string) (string, bool) {
	const prefix, suffix = "/api/partners/", "/confirm"
	if !strings.HasPrefix(path, prefix) || !strings.HasSuffix(path, suffix) {
		return "", false
	}
	mid := path[len(prefix) : len(path)-len(suffix)] // {partner_id}/offers/{offer_id}
	partner, rest, ok := strings.Cut(mid, "/offers/")
	if !ok || partner == "" || rest == "" || strings.IndexByte(partner, '/') >= 0 || strings.IndexByte(rest, '/') >= 0 {
		return "", false
	}
	return rest, true
}

// readBody reads r to EOF into b (reusing its capacity); more than limit bytes is
// errBodyTooLarge.
func readBody(r io.Reader, b []byte, limit int) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if len(b) > limit {
			return b, errBodyTooLarge
		}
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// getBuf takes a request/response buffer from the server's pool.
func (s *Server) getBuf() *[]byte { return s.bufs.Get().(*[]byte) }

// putBuf returns b to the pool unless it grew huge.
func (s *Server) putBuf(b *[]byte) {
	if cap(*b) > 64<<10 {
		return
	}
	*b = (*b)[:0]
	s.bufs.Put(b)
}

// Static bodies.
const (
	bodyHealthy          = `{"status":"ok"}`
	bodyNotFound         = `{"message":"Not Found."}`
	bodyOfferNotFound    = `{"message":"Offer not found."}`
	bodyUnauthenticated  = `{"message":"Unauthenticated."}`
	bodyMessageAsNumber  = `{"message":401}`
	bodyServerError      = `{"message":"Server Error"}`
	bodyBadGateway       = `{"message":"Bad Gateway"}`
	bodyUnavailable      = `{"message":"Service Unavailable"}`
	bodyTooLarge         = `{"message":"The request body is too large."}`
	bodyInvalidClient    = `{"error":"invalid_client","error_description":"Client authentication failed","message":"Invalid client credentials."}`
	bodyInvalidRequest   = `{"error":"invalid_request","error_description":"The request is missing a required parameter, includes an invalid parameter value, or is otherwise malformed.","message":"The request is malformed."}`
	bodyUnsupportedGrant = `{"error":"unsupported_grant_type","error_description":"The authorization grant type is not supported by the authorization server.","message":"The authorization grant type is not supported by the authorization server."}`
	bodyHTML401          = "<html>\n<head><title>401 Unauthorized</title></head>\n<body>\n<center><h1>401 Unauthorized</h1></center>\n<hr><center>cloudflare</center>\n</body>\n</html>\n"
)
