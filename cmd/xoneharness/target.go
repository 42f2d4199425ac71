package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/http/httpproxy"

	"github.com/xoneharness/xoneharness/internal/auth"
	"github.com/xoneharness/xoneharness/internal/egress"
	"github.com/xoneharness/xoneharness/internal/sandbox"
	targetpkg "github.com/xoneharness/xoneharness/internal/target"
	"github.com/xoneharness/xoneharness/internal/xone"
)

// targetFlags are the flags shared by every command that sends traffic.
// Flags override the XONE_* environment variables.
type targetFlags struct {
	baseURL, tokenURL, clientID, clientSecretFile, partnerID string
	tokenStyle, caFile                                       string
	insecure, allowProduction                                bool
	timeout                                                  time.Duration
	sandbox                                                  bool   // the embedded sandbox is meant despite partner settings
	drift                                                    string // the embedded sandbox's drift modes
	everyMember                                              bool
	// maxRate and shard are the egress gate's ceiling (the whole job's, in
	// sends per second off loopback; 0 is egress.DefaultMaxRate) and this
	// process's shard, which load and run set before resolving.
	maxRate float64
	shard   egress.Shard
	// partnerInputs are the command's own partner settings (--offer-id,
	// --offers) by flag name: without a base URL they are a mistake.
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

// target is a resolved target: the embedded sandbox or a partner's host.
type target = targetpkg.Target

// resolve applies flags over env, validates everything, and without a base
// URL resolves the embedded sandbox, started when start is set (a dry run
// does not).
func (t *targetFlags) resolve(a *app, start bool) (*target, error) {
	if t.timeout <= 0 {
		return nil, usagef("--http-timeout: must be positive, got %s", t.timeout)
	}
	gate, err := t.gate(a)
	if err != nil {
		return nil, err
	}
	style := auth.StyleJSON
	if v, _ := pickSource(a, t.tokenStyle, "", "XONE_TOKEN_STYLE"); v != "" {
		if style, err = auth.ParseStyle(v); err != nil {
			return nil, usagef("--token-style / XONE_TOKEN_STYLE: %v", err)
		}
	}
	// A setting names where its value came from, or both places when unset.
	set := func(flagVal, flagName, envName string) targetpkg.Setting {
		v, from := pickSource(a, flagVal, flagName, envName)
		if v == "" && envName != "" {
			from = flagName + " / " + envName
		}
		return targetpkg.Setting{Value: v, From: from}
	}
	s := targetpkg.Settings{
		BaseURL: set(t.baseURL, "--base-url", "XONE_BASE_URL"), TokenURL: set(t.tokenURL, "--token-url", "XONE_TOKEN_URL"),
		ClientID: set(t.clientID, "--client-id", "XONE_CLIENT_ID"), PartnerID: set(t.partnerID, "--partner-id", "XONE_PARTNER_ID"),
		Secret:           func() (string, error) { return t.secret(a) },
		ReadOnlyClientID: strings.TrimSpace(a.getenv("XONE_READONLY_CLIENT_ID")),
		ReadOnlySecret:   strings.TrimSpace(a.getenv("XONE_READONLY_CLIENT_SECRET")),
		Style:            style, Timeout: t.timeout, Sandbox: t.sandbox, SandboxFrom: "--sandbox",
	}
	if t.clientSecretFile != "" {
		s.SecretFrom = "--client-secret-file"
	} else if strings.TrimSpace(a.getenv("XONE_CLIENT_SECRET")) != "" {
		s.SecretFrom = "XONE_CLIENT_SECRET"
	}
	s.Partner = []targetpkg.Setting{set(t.partnerInputs["--offer-id"], "--offer-id", "XONE_OFFER_ID"),
		set(t.partnerInputs["--offers"], "--offers", "")}
	for name, on := range map[string]bool{"--sandbox": t.sandbox, "--drift": t.drift != "", "--every-member": t.everyMember} {
		if on {
			s.SandboxOnly = append(s.SandboxOnly, name)
		}
	}
	slices.Sort(s.SandboxOnly)
	if t.drift != "" {
		s.DriftFrom = "--drift"
		s.SandboxOptions = append(s.SandboxOptions, sandbox.Drift(strings.Split(t.drift, ",")...))
	}
	if t.everyMember {
		s.SandboxOptions = append(s.SandboxOptions, sandbox.EveryMember())
	}
	tg, err := targetpkg.Resolve(s, gate, start)
	switch {
	case errors.Is(err, egress.ErrProduction):
		return nil, usagef("%v; add --allow-production if you really mean to confirm real offers there", err)
	case errors.Is(err, targetpkg.ErrConfig):
		return nil, usageError{err}
	case err != nil:
		return nil, err
	}
	a.red.Add(tg.Secret)
	a.red.Add(tg.ReadOnlySecret)
	return tg, nil
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

// pickSource returns the flag's value when set, else the trimmed environment
// variable's, with the name of where it came from (flagName, or envName when
// the flag is empty or unset).
func pickSource(a *app, flagVal, flagName, envName string) (string, string) {
	if flagVal != "" {
		return flagVal, flagName
	}
	return strings.TrimSpace(a.getenv(envName)), envName
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

// newTokenSource builds the cached token source for the target's write
// credential.
func newTokenSource(tg *target, red *auth.Redactor) (*auth.Source, error) {
	src, err := tg.TokenSource(red, tg.ClientID, tg.Secret)
	if err != nil {
		return nil, usageError{err}
	}
	return src, nil
}
