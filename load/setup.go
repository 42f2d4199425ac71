package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Sizes of a feed that OffersFor returns besides a row count.
const (
	OffersGenerated = -1 // generated offers (GeneratedFeed), unbounded
	OffersStream    = -2 // a named pipe or stdin, whose size is known only at its end
)

// ErrOffersRequired is OffersFor without a path for a target that needs
// real offers: a confirmed offer is consumed, none can be invented.
var ErrOffersRequired = errors.New("offers: required")

// OffersFor opens the offers of a load run: path's rows through OpenOffers
// (an error if it holds none for opt.Shard), or without a path generated
// ones (GeneratedFeed, seeded from the clock) when generate says the target
// takes any offer, as the embedded sandbox does, else ErrOffersRequired.
// size is the rows the shard takes, OffersStream or OffersGenerated. Once
// ctx has ended (a named pipe's writer awaited, say) the error is ctx's.
func OffersFor(ctx context.Context, path string, stdin io.Reader, generate bool, opt OfferOptions) (feed Feed, size int, err error) {
	if path == "" {
		if !generate {
			return nil, 0, ErrOffersRequired
		}
		return GeneratedFeed(time.Now().UnixNano()), OffersGenerated, nil
	}
	s, total, err := OpenOffers(ctx, path, stdin, opt)
	switch {
	case err != nil:
		return nil, 0, err
	case ctx.Err() != nil:
		_ = s.Close()
		return nil, 0, fmt.Errorf("offers: %w", ctx.Err())
	case total < 0:
		return s, OffersStream, nil
	}
	return s, total, nil
}

// MetricsServer serves Registry's metrics on Addr, on any path (a scraper
// asks for /metrics), until Close; Registry is for Config.Registerer.
type MetricsServer struct {
	Addr     net.Addr
	Registry *prometheus.Registry
	srv      *http.Server
}

// ServeMetrics listens on addr and serves a new registry. A bare ":PORT"
// binds 127.0.0.1 (":0" a free port): another interface only when addr
// spells out its host. The error is net.Listen's.
func ServeMetrics(addr string) (*MetricsServer, error) {
	if host, port, err := net.SplitHostPort(addr); err == nil && host == "" {
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	m := &MetricsServer{Addr: ln.Addr(), Registry: prometheus.NewRegistry()}
	m.srv = &http.Server{Handler: promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = m.srv.Serve(ln) }()
	return m, nil
}

// Loopback reports whether only this machine can reach the server.
func (m *MetricsServer) Loopback() bool { return m.Addr.(*net.TCPAddr).IP.IsLoopback() }

// Close stops serving and closes the listener and open connections.
func (m *MetricsServer) Close() error { return m.srv.Close() }
