package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/xoneharness/xoneharness/internal/xone"
)

// Demo credentials the sandbox's token endpoint accepts: public, not secrets.
const (
	// ClientID and ClientSecret get a token with scope offers:update (confirm allowed).
	ClientID     = "sandbox-client"
	ClientSecret = "sandbox-secret"
	// ReadOnlyClientID and ReadOnlyClientSecret get scope offers:view; confirm answers it 401.
	ReadOnlyClientID     = "sandbox-readonly"
	ReadOnlyClientSecret = "sandbox-readonly-secret"
	// PartnerID is the demo partner id. The sandbox accepts any partner id.
	PartnerID = "SANDBOX-PARTNER"
)

// TokenPath is the path of the sandbox's token endpoint.
const TokenPath = xone.TokenPath

// salts separate the random streams derived from one request sequence number.
const (
	saltFault uint64 = iota + 1
	saltBooking
	saltHeaders
	_ // 4 is not used: the streams of a seed stay what they were
	saltKey
	saltRay
)

// Stats counts what the sandbox has done since it was built, in requests or responses.
type Stats struct {
	TokensIssued      int64 // successful token endpoint responses (MintToken is not counted)
	Confirms          int64 // POST requests routed to the confirm endpoint, whatever the outcome
	Confirmed         int64 // 200 booking responses (including those forced by drift modes)
	DuplicateConfirms int64 // valid confirms of an offer that was already confirmed
	Unauthorized      int64 // confirms rejected for their token (401, or 403 under 401-as-403)
	Throttled         int64 // 429 responses
	Errors5xx         int64 // 5xx responses (injected faults and undocumented-500)
	Resets            int64 // connections reset on purpose
	// DoubleBookings counts bookings (200s) of an already booked offer: the server's own record
	// of double booking, which only the duplicate-booking and racy-double-book drift modes make.
	DoubleBookings int64
}

// Server is the embedded XONE sandbox. Build it with New (handler only) or Start (listening). All
// methods are safe for concurrent use.
type Server struct {
	cfg   config
	start time.Time
	idKey uint64 // key of the booking id permutation

	confirmSeq atomic.Uint64
	answerSeq  atomic.Uint64 // numbers every answer, for CF-RAY

	mu     sync.Mutex             // guards booked, tokens and stats
	booked map[uuid.UUID]struct{} // offers confirmed; pointer-free, so never scanned by the GC
	tokens map[string]grant       // tokens issued, kept for the life of the Server
	stats  Stats

	handler  http.Handler
	done     chan struct{}
	once     sync.Once
	tz       *time.Location
	products [2]product

	// set by Start
	srv      *http.Server
	url      string
	serveErr chan error
}

// New builds a sandbox without listening; serve its Handler yourself (httptest, an http.Server). It
// returns an error naming the offending option for an unknown drift mode, a ratio outside [0, 1], a
// negative duration or rates that sum to more than 1.
func New(opts ...Option) (*Server, error) {
	cfg := config{tokenTTL: time.Hour, retryAfter: time.Second, addr: "127.0.0.1:0", now: time.Now, seed: rand.Uint64()}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	sum := cfg.resetRate + cfg.throttleRate + cfg.errorRate
	cfg.check(sum <= 1+1e-9, "ResetRate+ThrottleRate+ErrorRate: sum %v exceeds 1", sum)
	if err := errors.Join(cfg.errs...); err != nil {
		return nil, fmt.Errorf("sandbox: new: %w", err)
	}
	idr := newRNG(cfg.seed, 0, saltKey)
	s := &Server{
		cfg:      cfg,
		idKey:    idr.next(),
		booked:   map[uuid.UUID]struct{}{},
		tokens:   map[string]grant{},
		done:     make(chan struct{}),
		tz:       time.FixedZone("AEST", 10*60*60),
		products: products(),
	}
	mux := http.NewServeMux()
	mux.HandleFunc(TokenPath, s.serveToken)
	mux.HandleFunc(xone.ConfirmPathTemplate, s.serveConfirm)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, `{"status":"ok"}`)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusNotFound, `{"message":"Not Found."}`)
	})
	s.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(&stamped{ResponseWriter: w, s: s, recv: s.cfg.now()}, r)
	})
	s.start = cfg.now()
	return s, nil
}

// Start builds a sandbox like New, listens on the Addr option's address (default "127.0.0.1:0") and
// serves in a background goroutine until Close.
func Start(opts ...Option) (*Server, error) {
	s, err := New(opts...)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", s.cfg.addr)
	if err != nil {
		return nil, fmt.Errorf("sandbox: listen %s: %w", s.cfg.addr, err)
	}
	s.url = "http://" + dialable(ln.Addr())
	s.srv = &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	s.serveErr = make(chan error, 1)
	s.start = s.cfg.now()
	go func() { s.serveErr <- s.srv.Serve(ln) }()
	return s, nil
}

// dialable turns a listen address into one a client can dial: an unspecified IP (0.0.0.0, ::)
// becomes loopback.
func dialable(a net.Addr) string {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil || !ap.Addr().IsUnspecified() {
		return a.String()
	}
	lo := netip.IPv6Loopback()
	if ap.Addr().Is4() {
		lo = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	return netip.AddrPortFrom(lo, ap.Port()).String()
}

// StartTB starts a sandbox for a test or benchmark, fails tb if that is impossible and closes the
// sandbox in tb.Cleanup.
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

// Handler returns the sandbox's HTTP handler (token, confirm, GET /healthz, JSON 404 otherwise).
func (s *Server) Handler() http.Handler { return s.handler }

// URL returns the base URL of a started sandbox, e.g. "http://127.0.0.1:41234" (an unspecified
// listen IP is reported as loopback), or "" for a sandbox built with New.
func (s *Server) URL() string { return s.url }

// TokenURL returns URL() + "/api/oauth/token", or "" for a sandbox built with New.
func (s *Server) TokenURL() string {
	if s.url == "" {
		return ""
	}
	return s.url + TokenPath
}

// WriteBanner writes what a started sandbox serves and the demo credentials to w, as the sandbox
// command prints them after start.
func (s *Server) WriteBanner(w io.Writer) error {
	if _, err := fmt.Fprintf(w, `XONE sandbox listening on %s
  token:    POST %s   (JSON body)
  confirm:  POST %s/api/partners/%s/offers/{offer_id}/confirm
  client:   %s / %s   (scope offers:update)
  readonly: %s / %s   (scope offers:view)
Try:
  xoneharness run --base-url %s --client-id %s   (secret via XONE_CLIENT_SECRET=%s)
Ctrl-C stops it.
`, s.URL(), s.TokenURL(), s.URL(), PartnerID, ClientID, ClientSecret, ReadOnlyClientID, ReadOnlyClientSecret,
		s.URL(), ClientID, ClientSecret); err != nil {
		return fmt.Errorf("sandbox: write banner: %w", err)
	}
	return nil
}

// Close stops a started sandbox (listener and connections) and wakes every request held by latency
// or a stall (answered 503). Close is idempotent.
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

// Stats returns a snapshot of the sandbox's counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// add counts one more in c, a counter of s.stats.
func (s *Server) add(c *int64) {
	s.mu.Lock()
	*c++
	s.mu.Unlock()
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

// stamped is the ResponseWriter every answer goes through: it adds the correlation headers CF-RAY
// and Server-Timing just before the status line.
type stamped struct {
	http.ResponseWriter
	s       *Server
	recv    time.Time // when the whole request had arrived
	written bool
}

func (w *stamped) WriteHeader(status int) {
	if !w.written {
		w.written = true
		now := w.s.cfg.now()
		r := newRNG(w.s.cfg.seed, w.s.answerSeq.Add(1), saltRay) // distinct numbers, distinct rays
		h := w.Header()
		h.Set("CF-RAY", fmt.Sprintf("%016x-SYD", r.next()))
		h.Set("Server-Timing", fmt.Sprintf(`recv;desc="%d", app;dur=%.3f`,
			w.recv.UnixMicro(), float64(now.Sub(w.recv))/float64(time.Millisecond)))
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *stamped) Write(b []byte) (int, error) {
	if !w.written {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (ResetRate hijacks it).
func (w *stamped) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// received records that w's request had fully arrived at now: handlers call it after reading the
// body, so a request whose last byte was held back counts as arriving when that byte did.
func received(w http.ResponseWriter, now time.Time) {
	if st, ok := w.(*stamped); ok {
		st.recv = now
	}
}

func (s *Server) writeMethodNotAllowed(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", http.MethodPost)
	msg := "The " + r.Method + " method is not supported for this route. Supported methods: POST."
	if strings.Trim(r.Method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" { // not echoed: it could be anything
		msg = "The method is not supported for this route. Supported methods: POST."
	}
	writeJSON(w, http.StatusMethodNotAllowed, messageBody(msg))
}

// writeBody writes a complete response with an explicit Content-Length (so a body over net/http's 2
// KiB buffer is not chunked). ct "" sends no Content-Type, and net/http sniffs none.
func writeBody(w http.ResponseWriter, ct string, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = nil // present but empty: suppresses net/http's content sniffing
	if ct != "" {
		h.Set("Content-Type", ct)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body) // a write error means the client has gone; nothing to do
}

// writeJSON writes a complete application/json response.
func writeJSON(w http.ResponseWriter, status int, body string) {
	writeBody(w, "application/json", status, []byte(body))
}

// messageBody is the JSON body {"message": msg}.
func messageBody(msg string) string {
	return string(marshal(struct {
		Message string `json:"message"`
	}{msg}))
}

var errBodyTooLarge = errors.New("body too large")

// readBody reads r to EOF; more than limit bytes is errBodyTooLarge.
func readBody(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err == nil && int64(len(b)) > limit {
		err = errBodyTooLarge
	}
	return b, err
}

// Static bodies.
const (
	bodyUnauthenticated  = `{"message":"Unauthenticated."}`
	bodyServerError      = `{"message":"Server Error"}`
	bodyBadGateway       = `{"message":"Bad Gateway"}`
	bodyUnavailable      = `{"message":"Service Unavailable"}`
	bodyInvalidClient    = `{"error":"invalid_client","error_description":"Client authentication failed","message":"Invalid client credentials."}`
	bodyInvalidRequest   = `{"error":"invalid_request","error_description":"The request is missing a required parameter, includes an invalid parameter value, or is otherwise malformed.","message":"The request is malformed."}`
	bodyUnsupportedGrant = `{"error":"unsupported_grant_type","error_description":"The authorization grant type is not supported by the authorization server.","message":"The authorization grant type is not supported by the authorization server."}`
	bodyHTML401          = "<html>\n<head><title>401 Unauthorized</title></head>\n<body>\n<center><h1>401 Unauthorized</h1></center>\n<hr><center>cloudflare</center>\n</body>\n</html>\n"
)
