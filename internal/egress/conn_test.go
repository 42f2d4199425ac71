package egress

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/http/httpproxy"
)

// TestConn writes a request on a connection from Conn, as a caller that
// releases requests itself does, to a plain and a TLS server (which also
// offers HTTP/2): by loopback address, and by a name that the gate's
// resolver and Dial route to the server.
func TestConn(t *testing.T) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprintf(w, "%s %s", r.Proto, r.Host)
	})
	plain := httptest.NewServer(handler)
	t.Cleanup(plain.Close)
	secure := httptest.NewUnstartedServer(handler)
	secure.EnableHTTP2 = true
	secure.TLS = &tls.Config{NextProtos: []string{"h2", "http/1.1"}} // h2 preferred
	secure.StartTLS()
	t.Cleanup(secure.Close)
	roots := x509.NewCertPool()
	roots.AddCert(secure.Certificate())
	d := &testDialer{route: map[string]string{ // the test certificate is for example.com
		"192.0.2.10:443": secure.Listener.Addr().String(),
		"192.0.2.10:80":  plain.Listener.Addr().String(),
	}}
	g, err := New(Config{TLS: &tls.Config{RootCAs: roots}, Resolver: fakeResolver{"example.com": {"192.0.2.10"}}, Dial: d.dial})
	require.NoError(t, err)

	tests := []struct {
		name, url string
		tls       bool
	}{
		{"plain loopback", plain.URL + "/x", false},
		{"tls loopback", secure.URL + "/x", true},
		{"plain by name", "http://example.com/x", false},
		{"tls by name", "https://example.com/api/partners/P/offers/o/confirm", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := g.Conn(context.Background(), tt.url)
			require.NoError(t, err)
			defer conn.Close()
			tc, isTLS := conn.(*tls.Conn)
			require.Equal(t, tt.tls, isTLS, "got TLS %v, want %v", isTLS, tt.tls)
			if isTLS {
				got := tc.ConnectionState().NegotiatedProtocol
				assert.Equal(t, "http/1.1", got, "got ALPN %q, want http/1.1", got)
			}
			req, err := http.NewRequest(http.MethodGet, tt.url, nil)
			require.NoError(t, err)
			require.NoError(t, req.Write(conn))
			resp, err := http.ReadResponse(bufio.NewReader(conn), req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			want := "HTTP/1.1 " + req.Host
			assert.Equal(t, want, string(body), "got %q, want %q", body, want)
		})
	}
	assert.Empty(t, d.refusedAddrs())
}

func TestConnRefused(t *testing.T) {
	rec := newRecorder(t)
	secure := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(secure.Close)
	ctx := context.Background()

	t.Run("proxied", func(t *testing.T) {
		g, err := New(Config{Proxy: viaProxy(rec.URL()), Resolver: fakeResolver{"partner.test": {"192.0.2.10"}}})
		require.NoError(t, err)
		for _, u := range []string{"http://partner.test/x", "https://partner.test/x"} {
			_, err := g.Conn(ctx, u)
			assert.ErrorIs(t, err, ErrProxied, u)
		}
		assert.Empty(t, rec.requests(), "the proxy was contacted")
	})
	t.Run("an environment proxy never carries a loopback literal", func(t *testing.T) {
		env := (&httpproxy.Config{HTTPProxy: rec.srv.URL, HTTPSProxy: rec.srv.URL}).ProxyFunc()
		g, err := New(Config{Proxy: env})
		require.NoError(t, err)
		conn, err := g.Conn(ctx, rec.srv.URL)
		require.NoError(t, err)
		conn.Close()
	})
	t.Run("certificate not trusted", func(t *testing.T) {
		g, err := New(Config{})
		require.NoError(t, err)
		_, err = g.Conn(ctx, secure.URL)
		var verr *tls.CertificateVerificationError
		assert.ErrorAs(t, err, &verr)
	})
	t.Run("production", func(t *testing.T) {
		d := &testDialer{}
		g, err := New(Config{Dial: d.dial, Resolver: fakeResolver{"api.xone.xcover.com": {"192.0.2.80"}, "eu.api.xone.xcover.com": {"192.0.2.81"}}})
		require.NoError(t, err)
		for _, u := range productionSpellings {
			_, err := g.Conn(ctx, u)
			assert.ErrorIs(t, err, ErrProduction, u)
		}
		assert.Empty(t, d.refusedAddrs(), "the dialer was asked to dial")
	})
	t.Run("not an http(s) URL", func(t *testing.T) {
		g, err := New(Config{})
		require.NoError(t, err)
		for _, u := range []string{"ftp://127.0.0.1/x", "/relative", "http://"} {
			_, err := g.Conn(ctx, u)
			assert.Error(t, err, u)
		}
	})
}
