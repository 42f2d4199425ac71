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
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpproxy"

	"github.com/xoneharness/xoneharness/internal/auth"
	"github.com/xoneharness/xoneharness/internal/egress"
	"github.com/xoneharness/xoneharness/internal/sandbox"
	"github.com/xoneharness/xoneharness/internal/xone"
	"github.com/xoneharness/xoneharness/load"
)

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
	// sandbox is --sandbox: the embedded sandbox is meant even though
	// partner settings are present; drift is --drift, its drift modes.
	sandbox     bool
	drift       string
	everyMember bool
	// maxRate and shard are the egress gate's ceiling (the whole job's, in
	// sends per second off loopback) and this process's shard: load and run
	// set them from --max-rate and --shard before resolving; 0 means
	// egress.DefaultMaxRate.
	maxRate float64
	shard   egress.Shard
	// partnerInputs are the command's own partner settings (--offer-id,
	// --offers), by flag name, for the check that a partner setting
	// without a base URL is a mistake.
	partnerInputs map[string]string
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
	fs.BoolVar(&t.allowProduction, "allow-production", false, "allow traffic to the production host "+xone.ProductionHost+" (in any spelling)")
	fs.DurationVar(&t.timeout, "http-timeout", 30*time.Second, "per-request HTTP timeout for contract checks and token fetches")
	fs.StringVar(&t.drift, "drift", "", "embedded sandbox only: drift modes that break the contract on purpose, comma-separated (list them: xoneharness sandbox --drift list)")
	fs.BoolVar(&t.everyMember, "every-member", false, "embedded sandbox only: answer with every member the document lists, so the run's response coverage is complete")
	fs.BoolVar(&t.sandbox, "sandbox", false, "run against the embedded sandbox even though partner settings (XONE_CLIENT_ID, XONE_OFFER_ID, --offers, ...) are present; without a base URL they are otherwise an error")
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
	// Loopback is the plan-time view: the base URL's host is a loopback IP
	// literal or localhost. At run time the gate decides per request, on the
	// addresses it dials and the proxy in use.
	Loopback bool
	// ReadOnlyClientID and ReadOnlySecret are the optional second credential
	// for the wrong-scope case (XONE_READONLY_CLIENT_ID/SECRET).
	ReadOnlyClientID string
	ReadOnlySecret   string
	// Gate is the egress gate every request of the run goes through.
	Gate *egress.Gate
	// Transport is a transport of Gate (TLS settings, proxy, dial checks).
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

// HTTPClient returns a client of the target's egress gate (TLS settings,
// production refused, rate ceiling, no redirects) with the target's timeout.
func (t *target) HTTPClient() *http.Client {
	return t.Gate.Client(t.Timeout)
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
		v, _ := pickSource(a, flagVal, "", envName)
		return v
	}
	gate, err := t.gate(a)
	if err != nil {
		return nil, err
	}
	tr := gate.Transport()
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
		return t.embedded(a, start, gate, style, sandboxOpts)
	}
	if t.sandbox || t.drift != "" || t.everyMember {
		return nil, usagef("--sandbox, --drift, --every-member: for the embedded sandbox, but a base URL is set (--base-url / XONE_BASE_URL)")
	}
	_, baseSrc := pickSource(a, t.baseURL, "--base-url", "XONE_BASE_URL")
	u, err := parseHTTPURL(base, true)
	if err != nil {
		return nil, usagef("%s: %v", baseSrc, err)
	}
	if err := checkEgress(gate, baseSrc, u); err != nil {
		return nil, err
	}
	tokenURL, tokenSrc := pickSource(a, t.tokenURL, "--token-url", "XONE_TOKEN_URL")
	if tokenURL == "" {
		tokenURL = strings.TrimRight(u.String(), "/") + xone.TokenPath
	} else {
		tu, err := parseHTTPURL(tokenURL, false)
		if err != nil {
			return nil, usagef("%s: %v", tokenSrc, err)
		}
		if err := checkEgress(gate, tokenSrc, tu); err != nil {
			return nil, err
		}
	}
	partnerID, partnerSrc := pickSource(a, t.partnerID, "--partner-id", "XONE_PARTNER_ID")
	tg := &target{
		BaseURL: strings.TrimRight(u.String(), "/"), TokenURL: tokenURL,
		ClientID:  pick(t.clientID, "XONE_CLIENT_ID"),
		PartnerID: partnerID,
		Style:     style, Loopback: egress.LiteralLoopback(u.Hostname()), Gate: gate, Transport: tr, Timeout: t.timeout,
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
	if err := xone.CheckID(tg.PartnerID); err != nil {
		return nil, usagef("%s: %v", partnerSrc, err)
	}
	a.red.Add(tg.Secret)
	a.red.Add(tg.ReadOnlySecret)
	return tg, nil
}

// embedded resolves the embedded sandbox as the target (started when start
// is set). Partner settings without a base URL are a configuration error
// unless --sandbox says the sandbox is meant: a nightly job that lost its
// base URL must not go green against the sandbox.
func (t *targetFlags) embedded(a *app, start bool, gate *egress.Gate, style auth.Style, opts []sandbox.Option) (*target, error) {
	if !t.sandbox {
		if name := t.partnerSetting(a); name != "" {
			return nil, usagef("%s is set but no base URL is (--base-url / XONE_BASE_URL): set the target, or add --sandbox to run against the embedded sandbox on purpose", name)
		}
	}
	tg := &target{
		Embedded: true, BaseURL: "http://127.0.0.1 (embedded sandbox, not started)",
		ClientID: sandbox.ClientID, Secret: sandbox.ClientSecret, PartnerID: sandbox.PartnerID,
		ReadOnlyClientID: sandbox.ReadOnlyClientID, ReadOnlySecret: sandbox.ReadOnlyClientSecret,
		Style: style, Loopback: true, Gate: gate, Transport: gate.Transport(), Timeout: t.timeout,
	}
	if !start {
		return tg, nil
	}
	srv, err := sandbox.Start(opts...)
	if err != nil {
		if t.drift != "" {
			return nil, usagef("--drift: %v", err)
		}
		return nil, fmt.Errorf("start embedded sandbox: %w", err)
	}
	tg.BaseURL, tg.TokenURL, tg.Sandbox = srv.URL(), srv.TokenURL(), srv
	return tg, nil
}

// sandboxOptions are the embedded sandbox's options from the flags.
func (t *targetFlags) sandboxOptions() []sandbox.Option {
	var opts []sandbox.Option
	if t.drift != "" {
		opts = append(opts, sandbox.Drift(strings.Split(t.drift, ",")...))
	}
	if t.everyMember {
		opts = append(opts, sandbox.EveryMember())
	}
	return opts
}

// partnerSetting names the first partner setting given (a flag or an
// environment variable), or "".
func (t *targetFlags) partnerSetting(a *app) string {
	for _, f := range []struct{ flag, val, env string }{
		{"--client-id", t.clientID, "XONE_CLIENT_ID"},
		{"--client-secret-file", t.clientSecretFile, "XONE_CLIENT_SECRET"},
		{"--partner-id", t.partnerID, "XONE_PARTNER_ID"},
		{"--token-url", t.tokenURL, "XONE_TOKEN_URL"},
		{"--offer-id", t.partnerInputs["--offer-id"], "XONE_OFFER_ID"},
		{"--offers", t.partnerInputs["--offers"], ""},
	} {
		switch {
		case f.val != "":
			return f.flag
		case f.env != "" && strings.TrimSpace(a.getenv(f.env)) != "":
			return f.env
		}
	}
	return ""
}

// secret reads the client secret from --client-secret-file or
// XONE_CLIENT_SECRET. The value is never part of any message.
func (t *targetFlags) secret(a *app) (string, error) {
	if t.clientSecretFile != "" {
		// At most 4 KiB, BOM and surrounding whitespace stripped, at least 8
		// characters; the error never holds the secret.
		s, err := auth.ReadSecretFile(t.clientSecretFile)
		if err != nil {
			return "", usagef("--client-secret-file: %v", err)
		}
		return s, nil
	}
	s := strings.TrimSpace(a.getenv("XONE_CLIENT_SECRET"))
	if s == "" {
		return "", usagef("XONE_CLIENT_SECRET (or --client-secret-file): required when a target is set")
	}
	if err := auth.CheckSecret(s); err != nil {
		return "", usagef("XONE_CLIENT_SECRET: %v", err)
	}
	return s, nil
}

// gate builds the egress gate with the TLS choices made on the command line,
// the proxies of the app's environment (HTTP_PROXY, HTTPS_PROXY, NO_PROXY,
// read through the app's getenv) and the process's rate ceiling.
func (t *targetFlags) gate(a *app) (*egress.Gate, error) {
	cfg := egress.Config{AllowProduction: t.allowProduction, MaxRate: t.maxRate, Shard: t.shard, Proxy: envProxy(a.getenv)}
	if t.caFile != "" || t.insecure {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
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
			tc.RootCAs = pool
		}
		if t.insecure {
			fmt.Fprintln(a.stderr, "xoneharness: WARNING: --insecure-skip-verify: TLS certificates are NOT verified; anyone on the path can read the client secret and bookings")
			tc.InsecureSkipVerify = t.insecure // behind the explicit flag only
		}
		cfg.TLS = tc
	}
	g, err := egress.New(cfg)
	if err != nil {
		return nil, usagef("--max-rate: %v", err)
	}
	return g, nil
}

// envProxy is the proxy choice of the app's environment, like
// http.ProxyFromEnvironment but read through getenv (which tests control)
// rather than once from the process environment.
func envProxy(getenv func(string) string) func(*url.URL) (*url.URL, error) {
	first := func(names ...string) string {
		for _, n := range names {
			if v := getenv(n); v != "" {
				return v
			}
		}
		return ""
	}
	return (&httpproxy.Config{
		HTTPProxy:  first("HTTP_PROXY", "http_proxy"),
		HTTPSProxy: first("HTTPS_PROXY", "https_proxy"),
		NoProxy:    first("NO_PROXY", "no_proxy"),
		CGI:        getenv("REQUEST_METHOD") != "",
	}).ProxyFunc()
}

// checkEgress applies the gate's host rules to a configured URL; the error
// names where the URL came from.
func checkEgress(g *egress.Gate, src string, u *url.URL) error {
	err := g.Check(u.String())
	switch {
	case err == nil:
		return nil
	case errors.Is(err, egress.ErrProduction):
		return usagef("%s: %s is the XONE production API (%s); add --allow-production if you really mean to confirm real offers there",
			src, u.Hostname(), xone.ProductionHost)
	default:
		return usagef("%s: %v", src, err)
	}
}

// pickSource returns the flag's value when set, else the trimmed environment
// variable's, with the name of where it came from (flagName, or envName when
// the flag is empty or unset).
func pickSource(a *app, flagVal, flagName, envName string) (string, string) {
	if flagVal != "" {
		return flagVal, flagName
	}
	return strings.TrimSpace(a.getenv(envName)), envName
}

// checkMaxRate validates --max-rate: a finite number of sends per second
// above 0 and at most egress.MaxRateLimit.
func (l *loadFlags) checkMaxRate() error {
	if err := egress.CheckMaxRate(l.maxRate); err != nil {
		return usagef("--max-rate: %v", err)
	}
	return nil
}

// checkTarget applies the plan-time safety rules of the load stage: the
// production host family and the shard's share of --max-rate off loopback.
func (l *loadFlags) checkTarget(tg *target, p load.Plan, allowProduction bool) error {
	if err := l.checkMaxRate(); err != nil {
		return err
	}
	sh, err := l.parseShard()
	if err != nil {
		return err
	}
	err = load.CheckTarget(tg.BaseURL, p.PeakRate(), l.maxRate, sh.Count, allowProduction)
	switch {
	case errors.Is(err, load.ErrProduction):
		return usagef("%v: add --allow-production if you really mean to confirm real offers there", err)
	case errors.Is(err, load.ErrMaxRate):
		return usagef("--max-rate: %v", err)
	case errors.Is(err, load.ErrAboveCeiling):
		return usagef("--rate above --max-rate %g/s: %v (--max-rate)", l.maxRate, err)
	case err != nil:
		return usageError{err}
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

// parseHTTPURL accepts absolute http(s) URLs with a host and no user info
// (credentials go in --client-id and the secret, never in a URL that every
// report prints). base also refuses a query and a fragment, which would end
// up glued before the API path. Messages never repeat user info.
func parseHTTPURL(s string, base bool) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("%s is not a URL: %w", showURL(s), err)
	}
	switch {
	case u.User != nil:
		return nil, fmt.Errorf("%s://%s: user info (user:password@) in a URL is refused; give the client id and secret with --client-id and XONE_CLIENT_SECRET or --client-secret-file", u.Scheme, u.Host)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%q: want an http:// or https:// URL", s)
	case u.Host == "":
		return nil, fmt.Errorf("%q: no host", s)
	case u.Port() != "" && !validPort(u.Port()):
		return nil, fmt.Errorf("%q: port %s: want 1 to 65535", s, u.Port())
	case base && (u.RawQuery != "" || u.ForceQuery):
		return nil, fmt.Errorf("%q: a base URL has no query (it would be glued before the API path)", s)
	case base && strings.Contains(s, "#"):
		return nil, fmt.Errorf("%q: a base URL has no fragment (it would be glued before the API path)", s)
	}
	return u, nil
}

// validPort reports whether p is a port number from 1 to 65535.
func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535
}

// showURL is s for a message: as parsed with any password masked, or a
// placeholder when s does not parse and may hold credentials.
func showURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		return fmt.Sprintf("%q", u.Redacted())
	}
	if strings.Contains(s, "@") {
		return "the URL (not shown: it may hold credentials)"
	}
	return fmt.Sprintf("%q", s)
}

// newTokenSource builds the cached token source for the target's write
// credential.
func (t *target) newTokenSource(red *auth.Redactor) (*auth.Source, error) {
	return t.tokenSource(red, t.ClientID, t.Secret)
}

// tokenSource builds a cached token source for one credential of the
// target, registering what it learns with red.
func (t *target) tokenSource(red *auth.Redactor, id, secret string) (*auth.Source, error) {
	src, err := auth.New(auth.Config{
		TokenURL: t.TokenURL, ClientID: id, ClientSecret: secret, Style: t.Style,
		HTTPClient: t.HTTPClient(), Redactor: red,
	})
	if err != nil {
		return nil, usageError{fmt.Errorf("token source: %w", err)}
	}
	return src, nil
}
