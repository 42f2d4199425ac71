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
	// DefaultLifetime is assumed when the token response has no expires_in
	// (or 0).
	DefaultLifetime = 5 * time.Minute
	// DefaultFailureHold is how long a failed fetch is remembered, see
	// Config.FailureHold.
	DefaultFailureHold = time.Second
)

// maxResponseBytes is the largest token response accepted (1 MiB, as
// golang.org/x/oauth2 reads); a larger one is refused, not cut.
const maxResponseBytes = 1 << 20

// Config configures a [Source]. TokenURL, ClientID and ClientSecret are
// required; every other zero field gets the default named on it.
type Config struct {
	// TokenURL is the token endpoint, e.g. https://host/api/oauth/token.
	// Required; http or https.
	TokenURL string
	// ClientID is the client credential's id. Required.
	ClientID string
	// ClientSecret is the client credential's secret. Required. It never
	// appears in an error, log line or Stats.
	ClientSecret string
	// Scopes are optional; when set they are sent as "scope", space
	// separated.
	Scopes []string
	// Style says how the credentials are sent; default StyleJSON.
	Style Style
	// Redactor receives the client secret (kept for good) and every token
	// the Source learns (the most recent 32 kept), each before Token returns
	// it and before an error could carry it. Default: a new Redactor per
	// Source. Give every Source of a process the one Redactor its outputs
	// go through.
	Redactor *Redactor
	// HTTPClient sends the token requests. Default: a client whose transport
	// has a 5 s dial timeout, a 5 s TLS handshake timeout and a 10 s
	// response header timeout, and uses the environment's proxy settings
	// like http.DefaultTransport.
	HTTPClient *http.Client
	// FetchTimeout limits one fetch (request and body), default 10 s. It
	// matters: x/oauth2's reuse cache holds its lock during a fetch, so a
	// hung token endpoint would otherwise block every Token caller forever.
	FetchTimeout time.Duration
	// RefreshMargin is how long before the server's expiry a token stops
	// being handed out and is replaced, default 60 s. For short-lived tokens
	// the effective margin is capped at a quarter of the token's lifetime,
	// so a 30 s token is used for 22.5 s rather than refetched on every
	// call. To use tokens to their very end, set a tiny value (1ns).
	RefreshMargin time.Duration
	// DefaultLifetime is assumed when the response has no expires_in or
	// expires_in is 0, default 5 min.
	DefaultLifetime time.Duration
	// FailureHold is how long, after a failed fetch, Token returns that
	// same error without asking the endpoint again, default 1 s. Callers
	// queued on the cache behind a fetch that hung for FetchTimeout thus
	// fail together instead of each waiting another FetchTimeout.
	FailureHold time.Duration
	// Now is the clock that stamps token expiry and schedules Prefetch,
	// default time.Now. x/oauth2's cache compares expiry with the real
	// time.Now, so Now must track the wall clock (tests may shift it
	// slightly; a frozen clock makes every token look expired or fresh).
	Now func() time.Time
}

// withDefaults validates c and returns a copy with defaults filled in.
func (c Config) withDefaults() (Config, error) {
	if c.TokenURL == "" {
		return c, errors.New("auth: config: TokenURL is required")
	}
	u, err := url.Parse(c.TokenURL)
	if err != nil {
		return c, fmt.Errorf("auth: config: TokenURL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("auth: config: TokenURL %q: want an absolute http or https URL", u.Redacted())
	}
	if c.ClientID == "" {
		return c, errors.New("auth: config: ClientID is required")
	}
	if c.ClientSecret == "" {
		return c, errors.New("auth: config: ClientSecret is required")
	}
	if c.Style, err = ParseStyle(string(c.Style)); err != nil {
		return c, fmt.Errorf("auth: config: Style: %w", err)
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"FetchTimeout", &c.FetchTimeout, DefaultFetchTimeout},
		{"RefreshMargin", &c.RefreshMargin, DefaultRefreshMargin},
		{"DefaultLifetime", &c.DefaultLifetime, DefaultLifetime},
		{"FailureHold", &c.FailureHold, DefaultFailureHold},
	} {
		switch {
		case *d.v < 0:
			return c, fmt.Errorf("auth: config: %s must not be negative, got %s", d.name, *d.v)
		case *d.v == 0:
			*d.v = d.def
		}
	}
	if c.HTTPClient == nil {
		c.HTTPClient = defaultHTTPClient()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	c.Scopes = append([]string(nil), c.Scopes...)
	return c, nil
}

// defaultHTTPClient is the client used when Config.HTTPClient is nil. It has
// no overall Timeout: FetchTimeout bounds each fetch through its context.
func defaultHTTPClient() *http.Client {
	return &http.Client{CheckRedirect: noRedirect, Transport: &http.Transport{
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

// noRedirect makes a client return a 3xx as the answer: a token endpoint's
// redirect must never carry the client secret to another host.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
