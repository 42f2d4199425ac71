package auth

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const (
	testID     = "client-id-42"
	testSecret = "s3cr3t-Th1s-Must-N3ver-Leak"
)

// tokenServer is a loopback token endpoint that counts its hits.
type tokenServer struct {
	*httptest.Server
	hits atomic.Int64
}

// newTokenServer starts h on 127.0.0.1 (httptest's default) and counts hits.
func newTokenServer(t *testing.T, h http.HandlerFunc) *tokenServer {
	t.Helper()
	ts := &tokenServer{}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts
}

// issue answers with a fresh token "tok-N" after delay; expiresIn is written
// as given (nil leaves it out).
func issue(expiresIn any, delay time.Duration) http.HandlerFunc {
	var n atomic.Int64
	return func(w http.ResponseWriter, r *http.Request) {
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		body := map[string]any{
			"access_token": fmt.Sprintf("tok-%d", n.Add(1)),
			"token_type":   "Bearer",
			"scope":        "offers:update quotes:view",
		}
		if expiresIn != nil {
			body["expires_in"] = expiresIn
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body)
	}
}

// newIssuer starts a server that issues tokens with issue().
func newIssuer(t *testing.T, expiresIn any, delay time.Duration) *tokenServer {
	t.Helper()
	return newTokenServer(t, issue(expiresIn, delay))
}

// newSource builds a Source for url with cfg's other fields.
func newSource(t *testing.T, url string, cfg Config) *Source {
	t.Helper()
	cfg.TokenURL = url
	if cfg.ClientID == "" {
		cfg.ClientID = testID
	}
	if cfg.ClientSecret == "" {
		cfg.ClientSecret = testSecret
	}
	src, err := New(cfg)
	require.NoError(t, err)
	return src
}
