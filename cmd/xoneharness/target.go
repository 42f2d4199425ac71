package main

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/xoneharness/xoneharness/internal/auth"
	"github.com/xoneharness/xoneharness/internal/egress"
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
	// The egress gate: the TLS choices of the command line, the proxies of
	// the app's environment and the process's rate ceiling.
	tc, err := egress.TLSConfig(t.caFile, t.insecure)
	if err != nil {
		return nil, usagef("--ca-file: %v", err)
	}
	if t.insecure {
		fmt.Fprintln(a.stderr, "xoneharness: WARNING: --insecure-skip-verify: TLS certificates are NOT verified; anyone on the path can read the client secret and bookings")
	}
	gate, err := egress.New(egress.Config{AllowProduction: t.allowProduction, MaxRate: t.maxRate, Shard: t.shard, Proxy: egress.ProxyFromEnv(a.getenv), TLS: tc})
	if err != nil {
		return nil, usagef("--max-rate: %v", err)
	}
	set := func(v, flag, env string) targetpkg.Setting { return targetpkg.FlagOrEnv(a.getenv, v, flag, env) }
	on := func(b bool, flag string) targetpkg.Setting { return set(map[bool]string{true: "on"}[b], flag, "") }
	tg, err := targetpkg.Resolve(targetpkg.Settings{
		BaseURL: set(t.baseURL, "--base-url", "XONE_BASE_URL"), TokenURL: set(t.tokenURL, "--token-url", "XONE_TOKEN_URL"),
		ClientID: set(t.clientID, "--client-id", "XONE_CLIENT_ID"), PartnerID: set(t.partnerID, "--partner-id", "XONE_PARTNER_ID"),
		SecretFile: set(t.clientSecretFile, "--client-secret-file", ""), Secret: set("", "", "XONE_CLIENT_SECRET"),
		Style:            targetpkg.Setting{Value: set(t.tokenStyle, "", "XONE_TOKEN_STYLE").Value, From: "--token-style / XONE_TOKEN_STYLE"},
		Partner:          []targetpkg.Setting{set(t.partnerInputs["--offer-id"], "--offer-id", "XONE_OFFER_ID"), set(t.partnerInputs["--offers"], "--offers", "")},
		ReadOnlyClientID: set("", "", "XONE_READONLY_CLIENT_ID").Value, ReadOnlySecret: set("", "", "XONE_READONLY_CLIENT_SECRET").Value,
		Timeout: t.timeout, Sandbox: on(t.sandbox, "--sandbox"), Drift: set(t.drift, "--drift", ""), EveryMember: on(t.everyMember, "--every-member"),
	}, gate, start)
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

// tlsHint adds what to do to an error caused by an untrusted TLS
// certificate (self-signed, unknown CA, wrong host name).
func tlsHint(err error) error {
	if egress.UntrustedCert(err) {
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
