package race

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/xoneharness/xoneharness/internal/egress"
)

// Sizes of a group.
const (
	// DefaultN is the number of simultaneous sends of a group when the
	// caller asks for none in particular.
	DefaultN = 5
	// MaxN is the largest group accepted.
	MaxN = 20
)

// maxBody bounds how much of each answer's body is read (8 MiB).
const maxBody = 8 << 20

// Conns opens the connections of a group and counts its sends against the
// rate ceiling; *egress.Gate satisfies it. Conn returns a connection to
// rawURL's host, the TLS handshake done for https, or an error wrapping
// egress.ErrProxied when a proxy carries requests there; Admit returns when
// n sends to rawURL may leave at the same instant, or an error wrapping
// egress.ErrGroupTooLarge when they never can. Both are called
// concurrently.
type Conns interface {
	Conn(ctx context.Context, rawURL string) (net.Conn, error)
	Admit(ctx context.Context, rawURL string, n int) error
}

// Direct returns Conns that dial rawURL's host themselves, for a loopback
// target reached without a gate: TLS with tlsCfg (nil: the defaults),
// offering http/1.1 only; its Admit returns at once.
func Direct(tlsCfg *tls.Config) Conns { return direct{tlsCfg} }

type direct struct{ tls *tls.Config }

func (d direct) Admit(context.Context, string, int) error { return nil }

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
	nd := &net.Dialer{Timeout: 10 * time.Second}
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

// Group is a group of n sends made ready by Open: n connections opened and
// admitted by the rate ceiling, or, where a proxy carries the requests, a
// client that sends n ordinary requests (Outcome.Fallback says so). Send
// uses it once; Close releases it unused. Not safe for concurrent use.
type Group struct {
	conns    []net.Conn
	client   *http.Client
	n        int
	fallback string // why ordinary requests, or "" for last-byte synchronisation
}

// Open makes a group of n sends to rawURL ready: n connections opened at
// once through conns, then admitted as one group (conns.Admit). Where conns
// refuses with egress.ErrProxied the group falls back to n ordinary requests
// through client, released by a barrier and paced by the client's own
// ceiling. An error (a failed connection, the ceiling refusing, ctx ending)
// leaves nothing open and nothing sent; errors.Is finds its cause
// (egress.ErrGroupTooLarge, the context's error).
func Open(ctx context.Context, conns Conns, client *http.Client, rawURL string, n int) (*Group, error) {
	g := &Group{client: client, n: n}
	cs, errs := make([]net.Conn, n), make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { cs[i], errs[i] = conns.Conn(ctx, rawURL) })
	}
	wg.Wait()
	if first := cmp.Or(errs...); first != nil {
		closeAll(cs)
		if errors.Is(errors.Join(errs...), egress.ErrProxied) {
			g.fallback = fmt.Sprintf("a proxy carries requests to the target: %d ordinary requests released by a barrier, not last-byte synchronisation", n)
			return g, nil
		}
		return nil, fmt.Errorf("race: open %d connections: %w", n, first) // they share a cause: the first says it
	}
	if err := conns.Admit(ctx, rawURL, n); err != nil {
		closeAll(cs)
		return nil, fmt.Errorf("race: rate ceiling: %w", err)
	}
	g.conns = cs
	return g, nil
}

// Close closes the group's connections; Send closes them itself.
func (g *Group) Close() {
	closeAll(g.conns)
	g.conns = nil
}

func closeAll(conns []net.Conn) {
	for _, c := range conns {
		if c != nil {
			_ = c.Close()
		}
	}
}

// Request is what every send of a group carries: a POST of Body to URL with
// Header (net/http adds Host, Content-Length and, if absent, User-Agent).
type Request struct {
	URL    string
	Header http.Header
	Body   []byte
}

// Attempt is one send of a group.
type Attempt struct {
	// Response is the answer, its body read into Body and closed; nil when
	// Err is set.
	Response *http.Response
	Body     []byte
	// Err is why the send has no answer: it may still have reached the
	// target.
	Err error
	// Sent is when the send's final write returned (zero: nothing was
	// written); Duration runs from Sent to the end of the answer.
	Sent     time.Time
	Duration time.Duration
	// ServerRecv is the target's arrival time of the whole request from a
	// Server-Timing recv metric (Unix microseconds), or 0.
	ServerRecv int64
}

// Outcome is what a group's sends got back.
type Outcome struct {
	// Attempts holds one entry per send, in connection order.
	Attempts []Attempt
	// Fallback is why the group was sent as ordinary requests released by a
	// barrier, or "" for last-byte synchronisation.
	Fallback string
	// Spread is the time between the first and the last final write.
	Spread time.Duration
	// Duration runs from the first final write to the end of the last
	// answer.
	Duration time.Duration
	// ServerTimed is true when every send was answered with a
	// Server-Timing recv metric; ServerSpread is then the spread of those
	// arrival times, as the target saw them.
	ServerTimed  bool
	ServerSpread time.Duration
}

// Send sends req once per connection of the group, released together, and
// returns the answers; each send is given timeout (the barrier fallback:
// the client's own). ctx ending cuts every wait short. It closes the group.
func (g *Group) Send(ctx context.Context, req Request, timeout time.Duration) Outcome {
	var atts []Attempt
	if g.fallback == "" {
		atts = lastByte(ctx, g.conns, req, timeout)
	} else {
		atts = barrier(ctx, g.client, req, g.n)
	}
	g.Close()
	return summarise(atts, g.fallback)
}

// summarise computes the spreads of a group's attempts.
func summarise(atts []Attempt, fallback string) Outcome {
	o := Outcome{Attempts: atts, Fallback: fallback, ServerTimed: len(atts) > 0}
	var sent, ends []time.Time
	lo, hi := int64(math.MaxInt64), int64(0)
	for _, a := range atts {
		if !a.Sent.IsZero() {
			sent, ends = append(sent, a.Sent), append(ends, a.Sent.Add(a.Duration))
		}
		o.ServerTimed = o.ServerTimed && a.ServerRecv != 0
		lo, hi = min(lo, a.ServerRecv), max(hi, a.ServerRecv)
	}
	if len(sent) > 0 {
		first := slices.MinFunc(sent, time.Time.Compare)
		o.Spread = slices.MaxFunc(sent, time.Time.Compare).Sub(first)
		o.Duration = slices.MaxFunc(ends, time.Time.Compare).Sub(first)
	}
	if o.ServerTimed {
		o.ServerSpread = time.Duration(hi-lo) * time.Microsecond
	}
	return o
}

// settle is the pause between the partial requests and their last bytes,
// so that the target has read the headers and waits for each body's last
// byte when they come: its header parsing is not part of the arrival
// spread. On loopback under load it cut the tail of the spread from
// milliseconds to about 0.1 ms.
const settle = 5 * time.Millisecond

// lastByte sends req once on each connection by last-byte synchronisation
// (see the package doc): once every connection holds all of its request but
// the last byte and has a reader waiting for its answer, and settle has
// passed, the last bytes are written in one tight loop. Each connection is
// given timeout; ctx ending cuts every read short.
func lastByte(ctx context.Context, conns []net.Conn, r Request, timeout time.Duration) []Attempt {
	out := make([]Attempt, len(conns))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(r.Body))
	var wire bytes.Buffer
	if err == nil {
		req.Header = r.Header.Clone()
		err = req.Write(&wire)
	}
	if err != nil {
		for i := range out {
			out[i].Err = fmt.Errorf("build request: %w", err)
		}
		return out
	}
	deadline := time.Now().Add(timeout)
	for i, c := range conns {
		_ = c.SetDeadline(deadline)
		if _, err := c.Write(wire.Bytes()[:wire.Len()-1]); err != nil {
			out[i].Err = fmt.Errorf("send request: %w", err)
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
		if out[i].Err != nil {
			continue
		}
		ready.Add(1)
		done.Go(func() {
			ready.Done()
			<-release // every last byte is written
			if a := &out[i]; a.Err == nil {
				resp, err := http.ReadResponse(bufio.NewReader(c), req)
				if err != nil {
					a.Err = fmt.Errorf("read response: %w", err)
				} else {
					a.Err = a.body(resp)
				}
				a.Duration = time.Since(a.Sent)
			}
		})
	}
	ready.Wait()
	time.Sleep(settle)
	last := wire.Bytes()[wire.Len()-1:]
	for i, c := range conns {
		if out[i].Err == nil {
			_, err := c.Write(last)
			out[i].Sent = time.Now()
			if err != nil {
				out[i].Err = fmt.Errorf("send request: %w", err)
			}
		}
	}
	close(release)
	done.Wait()
	return out
}

// barrier sends r n times through client, released together: n goroutines
// wait on one channel and send when it closes.
func barrier(ctx context.Context, client *http.Client, r Request, n int) []Attempt {
	out := make([]Attempt, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range out {
		wg.Go(func() {
			a := &out[i]
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(r.Body))
			if err != nil {
				a.Err = fmt.Errorf("build request: %w", err)
				return
			}
			req.Header = r.Header.Clone()
			<-start
			a.Sent = time.Now()
			resp, err := client.Do(req)
			if err != nil {
				a.Err = fmt.Errorf("send request: %w", err)
			} else {
				a.Err = a.body(resp)
			}
			a.Duration = time.Since(a.Sent)
		})
	}
	close(start)
	wg.Wait()
	return out
}

// body reads resp's body into a.
func (a *Attempt) body(resp *http.Response) error {
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("read response (status %d): %w", resp.StatusCode, err)
	}
	a.Response, a.Body, a.ServerRecv = resp, body, ServerRecv(resp.Header)
	return nil
}

// reRecv finds the recv metric of a Server-Timing header: the Unix
// microseconds at which the whole request had arrived.
var reRecv = regexp.MustCompile(`(?:^|,)\s*recv\s*;\s*desc="?(\d+)"?`)

// ServerRecv is the arrival time in a Server-Timing recv metric (Unix
// microseconds), or 0.
func ServerRecv(h http.Header) int64 {
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
