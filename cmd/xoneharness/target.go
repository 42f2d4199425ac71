package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/xoneharness/xoneharness/internal/auth"
	"github.com/xoneharness/xoneharness/internal/sandbox"
	"github.com/xoneharness/xoneharness/internal/xone"
)

// productionHost is refused unless --allow-production is given.
const productionHost = "api.xone.xcover.com"

// targetFlags are the flags shared by every command that sends traffic.
// Flags override the XONE_* environment variables.
type targetFlags struct {
	baseURL          string
	tokenURL         string
	clientID         string
	clientSecretFile string
	partnerID        string
	tokenStyle       string
	caFile           string
	insecure         bool
	allowProduction  bool
	timeout          time.Duration
}

func (t *targetFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&t.baseURL, "base-url", "", "target base URL, e.g. https://sandbox.example.com (env XONE_BASE_URL; empty: start the embedded sandbox)")
	fs.StringVar(&t.tokenURL, "token-url", "", "OAuth2 token endpoint (env XONE_TOKEN_URL; default {base}/api/oauth/token)")
	fs.StringVar(&t.clientID, "client-id", "", "OAuth2 client id (env XONE_CLIENT_ID)")
	fs.StringVar(&t.clientSecretFile, "client-secret-file", "", "file holding the OAuth2 client secret (or env XONE_CLIENT_SECRET); never echoed")
	fs.StringVar(&t.partnerID, "partner-id", "", "XONE partner id (env XONE_PARTNER_ID)")
	fs.StringVar(&t.tokenStyle, "token-style", "", "token request style: json (XONE), form or basic (env XONE_TOKEN_STYLE; default json)")
	fs.StringVar(&t.caFile, "ca-file", "", "PEM file of extra CA certificates to trust for the target and token endpoint")
	fs.BoolVar(&t.insecure, "insecure-skip-verify", false, "DANGEROUS: accept any TLS certificate (testing only; loudly warned)")
	fs.BoolVar(&t.allowProduction, "allow-production", false, "allow traffic to the production host "+productionHost)
	fs.DurationVar(&t.timeout, "http-timeout", 30*time.Second, "per-request HTTP timeout for contract checks and token fetches")
}

// target is a resolved target: either the embedded sandbox or a live host.
type target struct {
	Embedded  bool
	BaseURL   string
	TokenURL  string
	ClientID  string
	Secret    string
	PartnerID string
	Style     auth.Style
	Loopback  bool
	// ReadOnlyClientID and ReadOnlySecret are the optional second credential
	// for the wrong-scope case (XONE_READONLY_CLIENT_ID/SECRET).
	ReadOnlyClientID string
	ReadOnlySecret   string
	// Transport carries the TLS settings (CA file, insecure flag).
	Transport *http.Transport
	Timeout   time.Duration
	// Sandbox is the embedded sandbox when Embedded; the caller closes it.
	Sandbox *sandbox.Server
}

// Close stops the embedded sandbox, if any.
func (t *target) Close() {
	if t.Sandbox != nil {
		_ = t.Sandbox.Close()
	}
}

// Describe says which target a run measured, for every report and verdict.
func (t *target) Describe() string {
	if t.Embedded && t.Sandbox == nil {
		return "embedded sandbox (not started)"
	}
	if t.Embedded {
		return "embedded sandbox at " + t.BaseURL
	}
	return t.BaseURL
}

// HTTPClient returns a client with the target's TLS settings and timeout.
func (t *target) HTTPClient() *http.Client {
	return &http.Client{Transport: t.Transport, Timeout: t.Timeout}
}

// resolve applies flags over env, validates everything, and starts the
// embedded sandbox when no base URL is configured. sandboxOpts are passed to
// the sandbox when it is started.
func (t *targetFlags) resolve(a *app, sandboxOpts ...sandbox.Option) (*target, error) {
	return t.resolveTarget(a, true, sandboxOpts...)
}

// resolveDry is resolve without starting the embedded sandbox (--dry-run).
func (t *targetFlags) resolveDry(a *app) (*target, error) {
	return t.resolveTarget(a, false)
}

func (t *targetFlags) resolveTarget(a *app, start bool, sandboxOpts ...sandbox.Option) (*target, error) {
	pick := func(flagVal, envName string) string {
		if flagVal != "" {
			return flagVal
		}
		return strings.TrimSpace(a.getenv(envName))
	}
	tr, err := t.transport(a)
	if err != nil {
		return nil, err
	}
	styleText := pick(t.tokenStyle, "XONE_TOKEN_STYLE")
	style := auth.StyleJSON
	if styleText != "" {
		if style, err = auth.ParseStyle(styleText); err != nil {
			return nil, usagef("--token-style / XONE_TOKEN_STYLE: %v", err)
		}
	}
	if t.timeout <= 0 {
		return nil, usagef("--http-timeout: must be positive, got %s", t.timeout)
	}
	base := pick(t.baseURL, "XONE_BASE_URL")
	if base == "" {
		if pick(t.clientID, "XONE_CLIENT_ID") != "" {
			fmt.Fprintln(a.stderr, "xoneharness: note: XONE_CLIENT_ID is set but no --base-url / XONE_BASE_URL: running against the embedded sandbox with its demo credentials")
		}
		tg := &target{
			Embedded: true, BaseURL: "http://127.0.0.1 (embedded sandbox, not started)",
			ClientID: sandbox.ClientID, Secret: sandbox.ClientSecret, PartnerID: sandbox.PartnerID,
			ReadOnlyClientID: sandbox.ReadOnlyClientID, ReadOnlySecret: sandbox.ReadOnlyClientSecret,
			Style: style, Loopback: true, Transport: tr, Timeout: t.timeout,
		}
		if !start {
			return tg, nil
		}
		srv, err := sandbox.Start(sandboxOpts...)
		if err != nil {
			return nil, fmt.Errorf("start embedded sandbox: %w", err)
		}
		tg.BaseURL, tg.TokenURL, tg.Sandbox = srv.URL(), srv.TokenURL(), srv
		return tg, nil
	}

	u, err := parseHTTPURL(base)
	if err != nil {
		return nil, usagef("--base-url / XONE_BASE_URL: %v", err)
	}
	if strings.EqualFold(strings.TrimSuffix(u.Hostname(), "."), productionHost) && !t.allowProduction {
		return nil, usagef("--base-url: %s is the production host; add --allow-production if you really mean to confirm real offers there", productionHost)
	}
	tokenURL := pick(t.tokenURL, "XONE_TOKEN_URL")
	if tokenURL == "" {
		tokenURL = strings.TrimRight(u.String(), "/") + "/api/oauth/token"
	} else if _, err := parseHTTPURL(tokenURL); err != nil {
		return nil, usagef("--token-url / XONE_TOKEN_URL: %v", err)
	}
	tg := &target{
		BaseURL: strings.TrimRight(u.String(), "/"), TokenURL: tokenURL,
		ClientID:  pick(t.clientID, "XONE_CLIENT_ID"),
		PartnerID: pick(t.partnerID, "XONE_PARTNER_ID"),
		Style:     style, Loopback: xone.IsLoopback(u.Hostname()), Transport: tr, Timeout: t.timeout,
		ReadOnlyClientID: strings.TrimSpace(a.getenv("XONE_READONLY_CLIENT_ID")),
		ReadOnlySecret:   strings.TrimSpace(a.getenv("XONE_READONLY_CLIENT_SECRET")),
	}
	if tg.ClientID == "" {
		return nil, usagef("--client-id / XONE_CLIENT_ID: required when a target is set (%s)", tg.BaseURL)
	}
	if tg.Secret, err = t.secret(a); err != nil {
		return nil, err
	}
	if tg.PartnerID == "" {
		return nil, usagef("--partner-id / XONE_PARTNER_ID: required when a target is set (%s)", tg.BaseURL)
	}
	if err := checkPartnerID(tg.PartnerID); err != nil {
		return nil, usagef("--partner-id / XONE_PARTNER_ID: %v", err)
	}
	return tg, nil
}

// secret reads the client secret from --client-secret-file or
// XONE_CLIENT_SECRET. The value is never part of any message.
func (t *targetFlags) secret(a *app) (string, error) {
	if t.clientSecretFile != "" {
		b, err := os.ReadFile(t.clientSecretFile)
		if err != nil {
			return "", usagef("--client-secret-file: %v", err)
		}
		s := strings.TrimSpace(string(b))
		if s == "" {
			return "", usagef("--client-secret-file: %s is empty", t.clientSecretFile)
		}
		return s, nil
	}
	s := strings.TrimSpace(a.getenv("XONE_CLIENT_SECRET"))
	if s == "" {
		return "", usagef("XONE_CLIENT_SECRET (or --client-secret-file): required when a target is set")
	}
	return s, nil
}

// transport builds the HTTP transport with the TLS choices made on the
// command line.
func (t *targetFlags) transport(a *app) (*http.Transport, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 100
	if t.caFile == "" && !t.insecure {
		return tr, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if t.caFile != "" {
		pem, err := os.ReadFile(t.caFile)
		if err != nil {
			return nil, usagef("--ca-file: %v", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, usagef("--ca-file: %s holds no PEM certificate", t.caFile)
		}
		cfg.RootCAs = pool
	}
	if t.insecure {
		fmt.Fprintln(a.stderr, "xoneharness: WARNING: --insecure-skip-verify: TLS certificates are NOT verified; anyone on the path can read the client secret and bookings")
		cfg.InsecureSkipVerify = t.insecure // behind the explicit flag only
	}
	tr.TLSClientConfig = cfg
	return tr, nil
}

// checkPartnerID accepts what the load engine accepts in the confirm path:
// letters, digits and -._~ (at most 128 bytes). The value is not secret.
func checkPartnerID(id string) error {
	if len(id) > 128 {
		return fmt.Errorf("%q is longer than 128 bytes", id[:32]+"…")
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0) {
			return fmt.Errorf("%q: invalid character %q at byte %d (want letters, digits and -._~)", id, rune(c), i+1)
		}
	}
	return nil
}

// tlsHint adds what to do to an error caused by an untrusted TLS
// certificate (self-signed, unknown CA, wrong host name).
func tlsHint(err error) error {
	var (
		cv *tls.CertificateVerificationError
		ua x509.UnknownAuthorityError
		hn x509.HostnameError
		ci x509.CertificateInvalidError
	)
	if errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci) {
		return fmt.Errorf("%w (the server's TLS certificate is not trusted: give its CA with --ca-file, or --insecure-skip-verify for testing only)", err)
	}
	return err
}

// parseHTTPURL accepts absolute http(s) URLs with a host.
func parseHTTPURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a URL: %w", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%q: want an http:// or https:// URL", s)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%q: no host", s)
	}
	return u, nil
}

// newTokenSource builds the cached token source for the target's write
// credential.
func (t *target) newTokenSource() (*auth.Source, error) {
	src, err := auth.New(auth.Config{
		TokenURL: t.TokenURL, ClientID: t.ClientID, ClientSecret: t.Secret, Style: t.Style,
		HTTPClient: t.HTTPClient(),
	})
	if err != nil {
		return nil, usageError{fmt.Errorf("token source: %w", err)}
	}
	return src, nil
}
