package auth

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Defaults [New] gives the zero fields of [Config].
const (
	// DefaultFetchTimeout bounds one request to the token endpoint.
	DefaultFetchTimeout = 10 * time.Second
	// DefaultRefreshMargin is how long before expiry a token is replaced.
	DefaultRefreshMargin = 60 * time.Second
	// DefaultLifetime is assumed when the token response has no expires_in (or 0).
	DefaultLifetime = 5 * time.Minute
	// DefaultFailureHold is how long a failed fetch is remembered, see Config.FailureHold.
	DefaultFailureHold = time.Second
)

// maxResponseBytes is the largest token response accepted, as x/oauth2 reads; a larger one is refused.
const maxResponseBytes = 1 << 20

// Config configures a [Source]. TokenURL, ClientID and ClientSecret are required; every other zero
// field gets the default named on it.
type Config struct {
	TokenURL     string // the token endpoint, an absolute http or https URL
	ClientID     string // the client credential's id
	ClientSecret string // never appears in an error, log line or Stats
	Style        Style  // how the credentials are sent; default StyleJSON
	// Redactor receives the client secret and every token the Source learns (the latest 32), before
	// Token returns them or an error could carry them. Default: a new one per Source; give every
	// Source the Redactor its process's outputs go through.
	Redactor *Redactor
	// HTTPClient sends the token requests. Default: no redirect followed, 5 s dial and TLS
	// handshake timeouts, a 10 s response header timeout, the environment's proxy.
	HTTPClient *http.Client
	// FetchTimeout limits one fetch (request and body), default 10 s: x/oauth2's cache holds its
	// lock during a fetch, so a hung endpoint would otherwise block every Token caller.
	FetchTimeout time.Duration
	// RefreshMargin is how long before the server's expiry a token is replaced, default 60 s,
	// capped at a quarter of its lifetime; 1ns uses tokens to their end.
	RefreshMargin time.Duration
	// FailureHold is how long Token returns a failed fetch's error without asking again, default
	// 1 s, so that callers queued behind a hung fetch fail together.
	FailureHold time.Duration
	// Now stamps token expiry and schedules Prefetch, default time.Now. It must track the wall
	// clock: x/oauth2 compares expiry with time.Now.
	Now func() time.Time
}

// withDefaults validates c and returns a copy with defaults filled in.
func (c Config) withDefaults() (Config, error) {
	u, err := url.Parse(c.TokenURL)
	switch {
	case c.TokenURL == "":
		return c, errors.New("auth: config: TokenURL is required")
	case err != nil:
		return c, fmt.Errorf("auth: config: TokenURL: %w", err)
	case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return c, fmt.Errorf("auth: config: TokenURL %q: want an absolute http or https URL", u.Redacted())
	case c.ClientID == "":
		return c, errors.New("auth: config: ClientID is required")
	case c.ClientSecret == "":
		return c, errors.New("auth: config: ClientSecret is required")
	}
	if c.Style, err = ParseStyle(string(c.Style)); err != nil {
		return c, fmt.Errorf("auth: config: Style: %w", err)
	}
	for _, d := range []struct {
		name   string
		v      *time.Duration
		orElse time.Duration
	}{
		{"FetchTimeout", &c.FetchTimeout, DefaultFetchTimeout},
		{"RefreshMargin", &c.RefreshMargin, DefaultRefreshMargin},
		{"FailureHold", &c.FailureHold, DefaultFailureHold},
	} {
		if *d.v < 0 {
			return c, fmt.Errorf("auth: config: %s must not be negative, got %s", d.name, *d.v)
		}
		if *d.v == 0 {
			*d.v = d.orElse
		}
	}
	if c.HTTPClient == nil {
		// A redirect must never carry the client secret to another host: a 3xx is the answer. No
		// overall Timeout: FetchTimeout bounds each fetch through its context.
		noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		c.HTTPClient = &http.Client{CheckRedirect: noRedirect, Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: 10 * time.Second,
			ExpectContinueTimeout: time.Second,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConnsPerHost:   2,
		}}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
}
