package contract

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/xoneharness/xoneharness/internal/egress"
	"github.com/xoneharness/xoneharness/ledger"
	"github.com/xoneharness/xoneharness/spec"
)

// Sizes of the race check (Config.Race).
const (
	// DefaultRace is the number of simultaneous confirms concurrent-confirm
	// sends when Config.Race is 0.
	DefaultRace = 5
	// MaxRace is the largest Config.Race accepted.
	MaxRace = 20
)

// Conns opens the connections of the race check and counts its sends
// against the rate ceiling; *egress.Gate satisfies it. Conn returns a
// connection to rawURL's host, the TLS handshake done for https, or an
// error wrapping egress.ErrProxied when a proxy carries requests there;
// Admit returns when n sends to rawURL may leave at the same instant, or an
// error wrapping egress.ErrGroupTooLarge when they never can. Both are
// called concurrently.
type Conns interface {
	Conn(ctx context.Context, rawURL string) (net.Conn, error)
	Admit(ctx context.Context, rawURL string, n int) error
}

// raceSkip is why concurrent-confirm cannot run with cfg, or "".
func raceSkip(cfg *Config, loopback bool) string {
	switch {
	case cfg.Race < 0:
		return "race check disabled (negative race size)"
	case !cfg.Embedded && cfg.NextOffer == nil:
		return "no offer feed for the race check: --offers FILE supplies the offer it confirms several times at once"
	case cfg.Conns == nil && !loopback:
		return "no egress gate to open the race's connections off loopback"
	}
	return ""
}

// feedOffer points concurrent-confirm at an offer of the feed, or skips it
// when the feed has none left.
func (r *runner) feedOffer(p planned) planned {
	o, q, ok := r.cfg.NextOffer()
	if !ok {
		p.skip = "the offer feed (--offers) has no offer left for the race check"
		return p
	}
	p.context.OfferID, p.context.QuoteID = o, q
	p.url, p.body = confirmURL(r.cfg, o), p.def.body(q, r.policyholder)
	return p
}

// attempt is one confirm of a group: its exchange, or the error that left
// it without an answer, and when its final write returned (zero: never
// written).
type attempt struct {
	x    rawExchange
	err  error
	sent time.Time
}

// race runs concurrent-confirm: N confirms of p's offer, each on a
// connection of its own opened beforehand, counted against the rate ceiling
// as one group, recorded in the journal and released together by last-byte
// synchronisation (or, through a proxy, as ordinary requests released by a
// barrier). An error is the journal's, or a group the ceiling can never
// release (ErrConfig).
func (r *runner) race(ctx context.Context, p planned, res *Result) (CaseResult, error) {
	n := r.cfg.Race
	if n == 0 {
		n = DefaultRace
	}
	skip := func(why string) (CaseResult, error) {
		return CaseResult{Name: p.def.name, Outcome: OutcomeSkip, Reason: why}, nil
	}
	fallback := ""
	conns, err := r.raceConns(ctx, p.url, n)
	defer closeAll(conns)
	switch {
	case errors.Is(err, egress.ErrProxied):
		fallback = fmt.Sprintf("a proxy carries requests to the target: %d ordinary requests released by a barrier, not last-byte synchronisation", n)
	case err != nil && ctx.Err() != nil:
		res.Interrupted = true
		return skip("interrupted")
	case err != nil:
		return CaseResult{Name: p.def.name, Outcome: OutcomeError,
			Reason: "no connection for the race (nothing sent): " + r.red.String(err.Error())}, nil
	}
	if fallback == "" && r.cfg.Conns != nil {
		if err := r.cfg.Conns.Admit(ctx, p.url, n); err != nil {
			switch {
			case errors.Is(err, egress.ErrGroupTooLarge):
				return CaseResult{}, fmt.Errorf("contract: %s: %d simultaneous confirms: %w: %w", p.def.name, n, err, ErrConfig)
			case ctx.Err() != nil:
				res.Interrupted = true
				return skip("interrupted")
			}
			return CaseResult{}, fmt.Errorf("contract: %s: %w", p.def.name, err)
		}
	}
	for range n {
		if err := r.sender.journal.Begin(p.context.OfferID, p.context.QuoteID); err != nil {
			var ce *ledger.ClaimedError
			if errors.As(err, &ce) { // another run holds the feed's offer: nothing was sent
				return skip(ce.Error())
			}
			return CaseResult{}, fmt.Errorf("contract: %s: %w", p.def.name, err)
		}
	}
	var atts []attempt
	if fallback == "" {
		atts = lastByte(ctx, conns, p, r.timeout())
	} else {
		atts = barrier(ctx, r.sender.client, p, n)
	}
	for _, a := range atts {
		r.sender.resolve(p, a.x, a.err)
	}
	return r.judgeGroup(ctx, p, atts, fallback, res), nil
}

// timeout bounds each confirm of the race: the client's timeout, else
// DefaultTimeout.
func (r *runner) timeout() time.Duration {
	if t := r.sender.client.Timeout; t > 0 {
		return t
	}
	return DefaultTimeout
}

// raceConns opens n connections to rawURL's host at once, through
// Config.Conns, else directly (a loopback target). On error none is left
// open.
func (r *runner) raceConns(ctx context.Context, rawURL string, n int) ([]net.Conn, error) {
	var dial func(context.Context, string) (net.Conn, error)
	if r.cfg.Conns != nil {
		dial = r.cfg.Conns.Conn
	} else {
		var tlsCfg *tls.Config
		if tr, ok := r.sender.client.Transport.(*http.Transport); ok {
			tlsCfg = tr.TLSClientConfig
		}
		dial = direct{tlsCfg}.Conn
	}
	conns, errs := make([]net.Conn, n), make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { conns[i], errs[i] = dial(ctx, rawURL) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			closeAll(conns)
			return nil, err // they share a cause: the first says it
		}
	}
	return conns, nil
}

func closeAll(conns []net.Conn) {
	for _, c := range conns {
		if c != nil {
			_ = c.Close()
		}
	}
}

// direct dials a loopback target without a gate (Config.Conns nil).
type direct struct{ tls *tls.Config }

func (d direct) Conn(ctx context.Context, rawURL string) (net.Conn, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	addr := net.JoinHostPort(u.Hostname(), port)
	nd := &net.Dialer{Timeout: DefaultTimeout}
	if u.Scheme != "https" {
		return nd.DialContext(ctx, "tcp", addr)
	}
	cfg := &tls.Config{}
	if d.tls != nil {
		cfg = d.tls.Clone()
	}
	cfg.ServerName, cfg.NextProtos = u.Hostname(), []string{"http/1.1"}
	return (&tls.Dialer{NetDialer: nd, Config: cfg}).DialContext(ctx, "tcp", addr)
}

// settle is the pause between the partial requests and their last bytes,
// so that the target has read the headers and waits for each body's last
// byte when they come: its header parsing is not part of the arrival
// spread. On loopback under load it cut the tail of the spread from
// milliseconds to about 0.1 ms.
const settle = 5 * time.Millisecond

// lastByte sends p once on each connection by last-byte synchronisation:
// the request, serialised by net/http, is written to every connection but
// for its last byte; once every connection holds its request and has a
// reader waiting for its answer (the barrier), and settle has passed, the
// last bytes are written together, in one tight loop, and each answer is
// read with http.ReadResponse. Each connection is given timeout; ctx ending
// cuts every read short.
func lastByte(ctx context.Context, conns []net.Conn, p planned, timeout time.Duration) []attempt {
	out := make([]attempt, len(conns))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(p.body))
	var wire bytes.Buffer
	if err == nil {
		req.Header = p.header.Clone()
		err = req.Write(&wire)
	}
	deadline := time.Now().Add(timeout)
	for i := range out {
		out[i].x = rawExchange{method: http.MethodPost, url: p.url, reqHeader: p.header.Clone(), reqBody: p.body}
		if err != nil {
			out[i].err = fmt.Errorf("build request: %w", err)
		}
	}
	if err != nil {
		return out
	}
	for i, c := range conns {
		_ = c.SetDeadline(deadline)
		if _, err := c.Write(wire.Bytes()[:wire.Len()-1]); err != nil {
			out[i].err = fmt.Errorf("send request: %w", err)
		}
	}
	stop := context.AfterFunc(ctx, func() {
		for _, c := range conns {
			_ = c.SetDeadline(time.Now())
		}
	})
	defer stop()
	var ready, done sync.WaitGroup
	release := make(chan struct{})
	for i, c := range conns {
		if out[i].err != nil {
			continue
		}
		ready.Add(1)
		done.Go(func() {
			ready.Done()
			<-release // every last byte is written
			a := &out[i]
			if a.err == nil {
				a.err = readAnswer(c, req, &a.x)
				a.x.duration = time.Since(a.sent)
			}
		})
	}
	ready.Wait()
	time.Sleep(settle)
	last := wire.Bytes()[wire.Len()-1:]
	for i, c := range conns {
		if out[i].err == nil {
			_, err := c.Write(last)
			out[i].sent = time.Now()
			if err != nil {
				out[i].err = fmt.Errorf("send request: %w", err)
			}
		}
	}
	close(release)
	done.Wait()
	return out
}

// readAnswer reads the answer to req from c into x.
func readAnswer(c net.Conn, req *http.Request, x *rawExchange) error {
	resp, err := http.ReadResponse(bufio.NewReader(c), req)
	if err != nil {
		return fmt.Errorf("read response: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseRead))
	if err != nil {
		return fmt.Errorf("read response (status %d): %w", resp.StatusCode, err)
	}
	x.status, x.respHeader, x.respBody = resp.StatusCode, spec.WireHeader(resp), body
	return nil
}

// barrier sends p n times through client, released together: n goroutines
// wait on one channel and send when it closes.
func barrier(ctx context.Context, client *http.Client, p planned, n int) []attempt {
	out := make([]attempt, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range out {
		wg.Go(func() {
			<-start
			out[i].sent = time.Now()
			out[i].x, out[i].err = send(ctx, client, p)
		})
	}
	close(start)
	wg.Wait()
	return out
}

// judgeGroup turns a group's answers into the case's result: the Race
// section, the verdict, and the exchange that best shows it.
func (r *runner) judgeGroup(ctx context.Context, p planned, atts []attempt, fallback string, res *Result) CaseResult {
	rc := &Race{N: len(atts), OfferID: p.context.OfferID, Fallback: fallback, Attempts: make([]RaceAttempt, len(atts))}
	var first, last, end time.Time
	timed, lost := true, 0
	for i, a := range atts {
		ra := &rc.Attempts[i]
		if !a.sent.IsZero() {
			first, last = earliest(first, a.sent), latest(last, a.sent)
			end = latest(end, a.sent.Add(a.x.duration))
		}
		if a.err != nil {
			lost++
			ra.Error = r.red.String(a.err.Error())
			r.lastErr, timed = a.err, false
			continue
		}
		addResponseSecrets(r.red, a.x.respBody)
		ra.Status, ra.CFRay, ra.ServerRecv = a.x.status, a.x.respHeader.Get("CF-RAY"), serverRecv(a.x.respHeader)
		if ra.Status >= 200 && ra.Status < 300 {
			ra.BookingID = ledger.BookingID(a.x.respBody)
		}
		timed = timed && ra.ServerRecv != 0
	}
	r.sent += len(atts)
	r.answered += len(atts) - lost
	rc.Spread = last.Sub(first)
	if timed {
		lo, hi := rc.Attempts[0].ServerRecv, rc.Attempts[0].ServerRecv
		for _, a := range rc.Attempts {
			lo, hi = min(lo, a.ServerRecv), max(hi, a.ServerRecv)
		}
		rc.ServerTimed, rc.ServerSpread = true, time.Duration(hi-lo)*time.Microsecond
	}
	cr, pick := judgeRace(p.def, rc, r.cfg.Spec.Documents, r.cfg.Strict)
	cr.Race, cr.Duration = rc, end.Sub(first)
	x := atts[pick].x
	if atts[pick].err != nil {
		x.status = 0
	}
	cr.Exchange = redactExchange(r.red, x)
	if lost > 0 && ctx.Err() != nil && !cr.Integrity {
		res.Interrupted = true
		cr.Outcome, cr.Reason = OutcomeSkip, "interrupted while waiting for the answers: "+cr.Reason
	}
	scrubResult(r.red, &cr)
	return cr
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// reRecv finds the recv metric of a Server-Timing header: the Unix
// microseconds at which the whole request had arrived.
var reRecv = regexp.MustCompile(`(?:^|,)\s*recv\s*;\s*desc="?(\d+)"?`)

// serverRecv is the arrival time in a Server-Timing recv metric (Unix
// microseconds), or 0.
func serverRecv(h http.Header) int64 {
	m := reRecv.FindStringSubmatch(strings.Join(h.Values("Server-Timing"), ","))
	if m == nil {
		return 0
	}
	us, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0
	}
	return us
}
