package egress

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
)

// ErrProxied is returned (wrapped) by Conn when a proxy would carry requests
// to the URL: the caller sends ordinary requests through a client instead.
var ErrProxied = errors.New("a proxy carries requests to this host")

// Conn opens a connection to rawURL's host the way the gate's transports
// would: the host rules apply (production refused, after IDNA mapping), the
// gate's resolver and Dial pick and open the address, and for https the TLS
// handshake is done with the gate's TLS configuration, offering only
// http/1.1 (ALPN). It is for a caller that writes requests itself
// (http.Request.Write). A URL that a proxy would carry fails with an error
// wrapping ErrProxied. The connection does not pass the rate ceiling: the
// caller counts its sends with Admit. Safe for concurrent use.
func (g *Gate) Conn(ctx context.Context, rawURL string) (net.Conn, error) {
	u, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	host, err := checkHost(u.Hostname(), g.cfg.AllowProduction)
	if err != nil {
		return nil, err
	}
	if p, err := g.cfg.Proxy(u); err != nil {
		return nil, fmt.Errorf("egress: connect %s: proxy: %w", host, err)
	} else if p != nil {
		return nil, fmt.Errorf("egress: connect %s: %w", host, ErrProxied)
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	conn, err := g.dialContext(ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
	if err != nil || u.Scheme == "http" {
		return conn, err
	}
	cfg := &tls.Config{}
	if g.cfg.TLS != nil {
		cfg = g.cfg.TLS.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	cfg.NextProtos = []string{"http/1.1"}
	hctx, cancel := context.WithTimeout(ctx, tlsHandshakeTimeout)
	defer cancel()
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(hctx); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("egress: connect %s: tls handshake: %w", host, err)
	}
	return tc, nil
}
