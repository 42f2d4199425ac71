package auth

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Defaults applied by [New] to zero fields of [Config].
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

// maxResponseBytes is the largest token response accepted (1 MiB, as golang.org/x/oauth2 reads); a
// larger one is refused, not cut.
const maxResponseBytes = 1 << 20

// Config configures a [Source]. TokenURL, ClientID and ClientSecret are required; every other zero
// field gets the default named on it.
type Config struct {
	// TokenURL is the token endpoint (http or https), e.g. https://host/api/oauth/token.
	TokenURL string
	// ClientID is the client credential's id.
	ClientID string
	// ClientSecret is the client credential's secret. It never appears in an error, log line or
	// Stats.
	ClientSecret string
	// Style says how the credentials are sent; default StyleJSON.
	Style Style
	// Redactor receives the client secret (kept for good) and every token the Source learns (the
	// most recent 32 kept), each before Token returns it and before an error could carry it.
	// Default: a new Redactor per Source. Give every Source of a process the one Redactor its
	// outputs go through.
	Redactor *Redactor
	// HTTPClient sends the token requests. Default: a client that follows no redirect, with a 5 s
	// dial timeout, a 5 s TLS handshake timeout, a 10 s response header timeout and the
	// environment's proxy settings.
	HTTPClient *http.Client
	// FetchTimeout limits one fetch (request and body), default 10 s. It matters: x/oauth2's reuse
	// cache holds its lock during a fetch, so a hung token endpoint would otherwise block every
	// Token caller forever.
	FetchTimeout time.Duration
	// RefreshMargin is how long before the server's expiry a token stops being handed out and is
	// replaced, default 60 s, capped at a quarter of the token's lifetime (a 30 s token is used for
	// 22.5 s rather than refetched on every call). 1ns uses tokens to their end.
	RefreshMargin time.Duration
	// FailureHold is how long, after a failed fetch, Token returns that same error without asking
	// the endpoint again, default 1 s: callers queued behind a fetch that hung for FetchTimeout
	// fail together instead of each waiting another FetchTimeout.
	FailureHold time.Duration
	// Now is the clock that stamps token expiry and schedules Prefetch, default time.Now.
	// x/oauth2's cache compares expiry with the real time.Now, so Now must track the wall clock
	// (tests may shift it slightly).
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
		// A token endpoint's redirect must never carry the client secret to another host: a 3xx is
		// the answer.
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
		}} // no overall Timeout: FetchTimeout bounds each fetch through its context
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
}
