// Package target resolves where a run sends its confirms: a partner's
// target named by settings (a base URL, a token URL, the client credential
// and the partner id), or the embedded sandbox when no base URL is set.
// Every request to it goes through one egress gate (production refused,
// rate ceiling, TLS settings, proxies); Resolve checks the configured URLs
// against the gate's host rules before anything is sent. A Setting names
// where its value came from (FlagOrEnv), so errors can say which flag or
// variable to fix.
//
//	tg, err := target.Resolve(target.Settings{BaseURL: target.Setting{Value: u, From: "XONE_BASE_URL"}, ...}, gate, true)
//	if errors.Is(err, target.ErrConfig) { ... } // a setting is wrong: the message names where it came from
//	defer tg.Close()
//	tokens, err := tg.TokenSource(red, tg.ClientID, tg.Secret)
package target

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/xoneharness/xoneharness/internal/auth"
	"github.com/xoneharness/xoneharness/internal/egress"
	"github.com/xoneharness/xoneharness/internal/sandbox"
	"github.com/xoneharness/xoneharness/internal/xone"
)

// ErrConfig is wrapped by every error that names a setting the target
// cannot be resolved with (a malformed URL, a missing credential, a partner
// setting without a base URL). Other errors (the embedded sandbox not
// starting) are the machine's.
var ErrConfig = errors.New("target configuration")

// configError is an error about the settings: its message is the error's
// own, and errors.Is finds ErrConfig in it.
type configError struct{ error }

func (e configError) Unwrap() []error { return []error{e.error, ErrConfig} }

func configf(format string, args ...any) error {
	return configError{fmt.Errorf(format, args...)}
}

// Setting is one value of the settings and where it came from (a flag or an
// environment variable), which every message about it names.
type Setting struct{ Value, From string }

// FlagOrEnv is the setting of a flag when its value is set, else of the
// environment variable getenv reads (surrounding white space trimmed). From
// names where the value came from, or both places when neither is set (the
// flag alone without envName, the variable alone without flagName).
func FlagOrEnv(getenv func(string) string, flagVal, flagName, envName string) Setting {
	switch {
	case flagVal != "":
		return Setting{flagVal, flagName}
	case envName == "":
		return Setting{"", flagName}
	}
	if v := strings.TrimSpace(getenv(envName)); v != "" || flagName == "" {
		return Setting{v, envName}
	}
	return Setting{"", flagName + " / " + envName}
}

// Settings name a target. Without BaseURL the target is the embedded
// sandbox, unless a partner setting is given (ClientID, the secret,
// PartnerID, TokenURL, or one of Partner) and Sandbox is not: a job that
// lost its base URL must not test the sandbox instead. A Setting is given
// when its Value is not empty.
type Settings struct {
	BaseURL, TokenURL, ClientID, PartnerID Setting
	// SecretFile names a file holding the client secret (auth.ReadSecretFile),
	// else Secret is the secret itself; either is read only for a partner
	// target, and no message holds its value.
	SecretFile, Secret               Setting
	ReadOnlyClientID, ReadOnlySecret string
	// Style is the token request style (auth.ParseStyle); empty is
	// auth.StyleJSON.
	Style Setting
	// Timeout bounds each request of the target's HTTP client.
	Timeout time.Duration
	// Partner are more partner settings (an offer id, an offers file).
	Partner []Setting
	// Sandbox says the embedded sandbox is meant although partner settings
	// are given. Drift (the embedded sandbox's drift modes, comma-separated)
	// and EveryMember (answer with every documented member) are its
	// options. A base URL with any of the three is an error.
	Sandbox, Drift, EveryMember Setting
}

// Target is a resolved target: the embedded sandbox or a partner's host.
type Target struct {
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
	// for the wrong-scope case.
	ReadOnlyClientID string
	ReadOnlySecret   string
	// Gate is the egress gate every request of the run goes through.
	Gate    *egress.Gate
	Timeout time.Duration
	// Sandbox is the embedded sandbox when Embedded and started; Close
	// stops it.
	Sandbox *sandbox.Server
}

// Resolve checks s and returns its target. With no base URL it is the
// embedded sandbox, started when start is set (a dry run leaves it
// stopped). Errors about the settings wrap ErrConfig.
func Resolve(s Settings, gate *egress.Gate, start bool) (*Target, error) {
	if s.Timeout <= 0 {
		return nil, configf("timeout: must be positive, got %s", s.Timeout)
	}
	style, err := auth.ParseStyle(s.Style.Value)
	if err != nil {
		return nil, configf("%s: %w", s.Style.From, err)
	}
	if s.BaseURL.Value == "" {
		return embedded(s, style, gate, start)
	}
	var sandboxOnly []string
	for _, o := range []Setting{s.Drift, s.EveryMember, s.Sandbox} {
		if o.Value != "" {
			sandboxOnly = append(sandboxOnly, o.From)
		}
	}
	if len(sandboxOnly) > 0 {
		return nil, configf("%s: for the embedded sandbox, but a base URL is set (%s)", strings.Join(sandboxOnly, ", "), s.BaseURL.From)
	}
	u, err := checkURL(gate, s.BaseURL, true)
	if err != nil {
		return nil, err
	}
	tg := &Target{
		BaseURL: strings.TrimRight(u.String(), "/"), TokenURL: s.TokenURL.Value, ClientID: s.ClientID.Value,
		PartnerID: s.PartnerID.Value, Style: style, Loopback: egress.LiteralLoopback(u.Hostname()),
		Gate: gate, Timeout: s.Timeout, ReadOnlyClientID: s.ReadOnlyClientID, ReadOnlySecret: s.ReadOnlySecret,
	}
	if tg.TokenURL == "" {
		tg.TokenURL = tg.BaseURL + xone.TokenPath
	} else if _, err := checkURL(gate, s.TokenURL, false); err != nil {
		return nil, err
	}
	if tg.ClientID == "" {
		return nil, configf("%s: required when a target is set (%s)", s.ClientID.From, tg.BaseURL)
	}
	if tg.Secret, err = s.secret(); err != nil {
		return nil, err
	}
	if tg.PartnerID == "" {
		return nil, configf("%s: required when a target is set (%s)", s.PartnerID.From, tg.BaseURL)
	}
	if err := xone.CheckID(tg.PartnerID); err != nil {
		return nil, configf("%s: %w", s.PartnerID.From, err)
	}
	return tg, nil
}

// secret reads the client secret from SecretFile, else Secret.
func (s Settings) secret() (string, error) {
	if s.SecretFile.Value != "" {
		v, err := auth.ReadSecretFile(s.SecretFile.Value)
		if err != nil {
			return "", configf("%s: %w", s.SecretFile.From, err)
		}
		return v, nil
	}
	if s.Secret.Value == "" {
		return "", configf("%s (or %s): required when a target is set", s.Secret.From, s.SecretFile.From)
	}
	if err := auth.CheckSecret(s.Secret.Value); err != nil {
		return "", configf("%s: %w", s.Secret.From, err)
	}
	return s.Secret.Value, nil
}

// embedded resolves the embedded sandbox (started when start is set).
func embedded(s Settings, style auth.Style, gate *egress.Gate, start bool) (*Target, error) {
	for _, p := range append([]Setting{s.ClientID, s.SecretFile, s.Secret, s.PartnerID, s.TokenURL}, s.Partner...) {
		if p.Value != "" && s.Sandbox.Value == "" {
			return nil, configf("%s is set but no base URL is (%s): set the target, or add %s to run against the embedded sandbox on purpose", p.From, s.BaseURL.From, s.Sandbox.From)
		}
	}
	tg := &Target{
		Embedded: true, BaseURL: "http://127.0.0.1 (embedded sandbox, not started)",
		ClientID: sandbox.ClientID, Secret: sandbox.ClientSecret, PartnerID: sandbox.PartnerID,
		ReadOnlyClientID: sandbox.ReadOnlyClientID, ReadOnlySecret: sandbox.ReadOnlyClientSecret,
		Style: style, Loopback: true, Gate: gate, Timeout: s.Timeout,
	}
	if !start {
		return tg, nil
	}
	var opts []sandbox.Option
	if s.Drift.Value != "" {
		opts = append(opts, sandbox.Drift(strings.Split(s.Drift.Value, ",")...))
	}
	if s.EveryMember.Value != "" {
		opts = append(opts, sandbox.EveryMember())
	}
	srv, err := sandbox.Start(opts...)
	if err != nil {
		if s.Drift.Value != "" {
			return nil, configf("%s: %w", s.Drift.From, err)
		}
		return nil, fmt.Errorf("start embedded sandbox: %w", err)
	}
	tg.BaseURL, tg.TokenURL, tg.Sandbox = srv.URL(), srv.TokenURL(), srv
	return tg, nil
}

// checkURL parses a configured URL (see ParseURL) and applies the gate's
// host rules to it; the error names where the URL came from.
func checkURL(g *egress.Gate, s Setting, base bool) (*url.URL, error) {
	u, err := ParseURL(s.Value, base)
	if err != nil {
		return nil, configf("%s: %w", s.From, err)
	}
	if err := g.Check(u.String()); errors.Is(err, egress.ErrProduction) {
		return nil, configf("%s: %s is the XONE production API (%s): %w", s.From, u.Hostname(), xone.ProductionHost, err)
	} else if err != nil {
		return nil, configf("%s: %w", s.From, err)
	}
	return u, nil
}

// Close stops the embedded sandbox, if any.
func (t *Target) Close() {
	if t.Sandbox != nil {
		_ = t.Sandbox.Close()
	}
}

// Describe says which target a run measured, for every report and verdict.
func (t *Target) Describe() string {
	switch {
	case t.Embedded && t.Sandbox == nil:
		return "embedded sandbox (not started)"
	case t.Embedded:
		return "embedded sandbox at " + t.BaseURL
	}
	return t.BaseURL
}

// HTTPClient returns a client of the target's egress gate with the
// target's timeout.
func (t *Target) HTTPClient() *http.Client {
	return t.Gate.Client(t.Timeout)
}

// TokenSource builds a cached token source for one credential of the
// target, registering what it learns with red.
func (t *Target) TokenSource(red *auth.Redactor, id, secret string) (*auth.Source, error) {
	src, err := auth.New(auth.Config{
		TokenURL: t.TokenURL, ClientID: id, ClientSecret: secret, Style: t.Style,
		HTTPClient: t.HTTPClient(), Redactor: red,
	})
	if err != nil {
		return nil, configf("token source: %w", err)
	}
	return src, nil
}

// ParseURL accepts absolute http(s) URLs with a host and no user info
// (credentials never go in a URL that every report prints). base also
// refuses a query and a fragment, which would end up glued before the API
// path. Messages never repeat user info.
func ParseURL(s string, base bool) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		shown := fmt.Sprintf("%q", s)
		if strings.Contains(s, "@") {
			shown = "the URL (not shown: it may hold credentials)"
		}
		return nil, fmt.Errorf("%s is not a URL: %w", shown, err)
	}
	port, _ := strconv.Atoi(u.Port()) // url.Parse allows digits only
	switch {
	case u.User != nil:
		return nil, fmt.Errorf("%s://%s: user info (user:password@) in a URL is refused; the client id and secret are settings of their own", u.Scheme, u.Host)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%q: want an http:// or https:// URL", s)
	case u.Host == "":
		return nil, fmt.Errorf("%q: no host", s)
	case u.Port() != "" && (port < 1 || port > 65535):
		return nil, fmt.Errorf("%q: port %s: want 1 to 65535", s, u.Port())
	case base && (u.RawQuery != "" || u.ForceQuery):
		return nil, fmt.Errorf("%q: a base URL has no query (it would be glued before the API path)", s)
	case base && strings.Contains(s, "#"):
		return nil, fmt.Errorf("%q: a base URL has no fragment (it would be glued before the API path)", s)
	}
	return u, nil
}
