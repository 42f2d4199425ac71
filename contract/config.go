package contract

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/xoneharness/xoneharness/internal/auth"
	"github.com/xoneharness/xoneharness/internal/race"
	"github.com/xoneharness/xoneharness/ledger"
	"github.com/xoneharness/xoneharness/spec"
)

// ErrConfig marks an error from [Run] caused by its [Config] (missing base
// URL or token source, unknown invariant name, invalid policyholder): the
// caller's mistake, not the target's. Test with errors.Is; cmd maps it to
// exit code 2, other errors from Run to 3.
var ErrConfig = errors.New("invalid configuration")

// defaultTimeout bounds each request when Config.HTTPClient is nil.
const defaultTimeout = 10 * time.Second

// Config says which target to check and with which credentials. Only
// BaseURL, PartnerID, Tokens and Spec are required.
type Config struct {
	// BaseURL is the target's origin, e.g. https://api.xone.xcover.com or
	// the embedded sandbox's URL. Required.
	BaseURL string
	// PartnerID fills {partner_id} in the confirm path. Required.
	PartnerID string
	// OfferID and QuoteID are one unconfirmed offer for confirm-ok and
	// double-confirm. Either empty: both cases are skipped with a reason and
	// the other cases still run. The offer is confirmed at most twice.
	OfferID, QuoteID string
	// Policyholder is the policyholder object sent with every confirm; nil
	// sends a demo policyholder. It must validate against the request schema.
	Policyholder json.RawMessage
	// Tokens is the write credential (scope offers:update), an
	// *auth.Source normally. Run calls Token once, before the first
	// request. Required.
	Tokens oauth2.TokenSource
	// ReadOnlyTokens is a credential without offers:update, for
	// wrong-scope-token; nil skips that case with a reason.
	ReadOnlyTokens oauth2.TokenSource
	// ExpiredToken is sent by expired-token; "" sends an expired-looking
	// JWT-shaped token (exp an hour before Now).
	ExpiredToken string
	// Spec validates requests and responses: spec.Load() normally,
	// spec.Load(spec.Strict()) together with Strict. Required.
	Spec *spec.Spec
	// Strict turns every drift into a fail.
	Strict bool
	// SkipInvariants names invariants (see Invariants) not to check; an
	// unknown name makes Run return an error wrapping ErrConfig.
	SkipInvariants []string
	// Embedded is copied into Result.Embedded: set it when BaseURL is the
	// embedded sandbox.
	Embedded bool
	// HTTPClient sends the requests; nil uses a client with a 10 s timeout
	// that does not follow redirects (a 3xx is judged as the answer).
	HTTPClient *http.Client
	// Redactor scrubs every Exchange; Run adds the tokens it sends to it (so
	// it is modified, and must not be used concurrently with Run). nil uses
	// a fresh auth.NewRedactor().
	Redactor *auth.Redactor
	// Journal records every confirm the suite sends before it leaves, and
	// its outcome (ledger.Journal: the run's bookings.csv, and the claims
	// store that refuses an offer another run confirmed). nil records
	// nothing: a caller that confirms real offers must set it.
	Journal *ledger.Journal
	// Generate is the number of generated cases sent after the fixed ones
	// (half positive, half negative); 0 sends none.
	Generate int
	// Seed replays the generated cases: the same seed against the same
	// target gives the same cases. 0 picks a random seed; the seed used is
	// in Result.Generation.
	Seed uint64
	// MaxShrinks bounds the requests spent shrinking each failing generated
	// case; 0 is DefaultMaxShrinks, a negative value disables shrinking.
	MaxShrinks int
	// NextOffer supplies an unconfirmed offer for generated cases; only a
	// confirm that booked or may have booked consumes one. nil: fresh
	// random offer ids, which only the embedded sandbox (Embedded) accepts;
	// off the sandbox no case is generated without it. It is called from
	// Run's goroutine.
	NextOffer func() (offerID, quoteID string, ok bool)
	// GenerateOffers is the most offers generated cases may take from
	// NextOffer; 0 means Generate.
	GenerateOffers int
	// GenerateRate caps generated requests per second off loopback; 0 is
	// DefaultGenerateRate. Loopback targets are not paced.
	GenerateRate float64
	// Race is the number of simultaneous confirms of one offer that
	// concurrent-confirm sends: 0 is DefaultRace, at most MaxRace; a
	// negative value skips the case. Its offer is a fresh one against the
	// embedded sandbox (Embedded), else one taken from NextOffer (none: the
	// case is skipped).
	Race int
	// Conns opens the race check's connections and counts its sends
	// against the rate ceiling: the run's *egress.Gate. nil dials directly,
	// which only a loopback target allows (the case is skipped otherwise).
	Conns race.Conns
	// Now is the clock for Started, Finished and the expired token; nil is
	// time.Now. Latencies always use the monotonic clock.
	Now func() time.Time
}

// check validates cfg and returns the parsed base URL.
func (cfg *Config) check() (*url.URL, error) {
	if cfg.BaseURL == "" {
		return nil, fmt.Errorf("contract: config: base URL is empty: %w", ErrConfig)
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("contract: config: base URL %q is not an absolute http(s) URL: %w", cfg.BaseURL, ErrConfig)
	}
	if cfg.PartnerID == "" {
		return nil, fmt.Errorf("contract: config: partner id is empty: %w", ErrConfig)
	}
	if cfg.Tokens == nil {
		return nil, fmt.Errorf("contract: config: no token source: %w", ErrConfig)
	}
	if cfg.Spec == nil {
		return nil, fmt.Errorf("contract: config: no spec: %w", ErrConfig)
	}
	if cfg.Race > MaxRace {
		return nil, fmt.Errorf("contract: config: race of %d simultaneous confirms: at most %d: %w", cfg.Race, MaxRace, ErrConfig)
	}
	if cfg.Generate < 0 {
		return nil, fmt.Errorf("contract: config: generate %d is negative: %w", cfg.Generate, ErrConfig)
	}
	for _, n := range cfg.SkipInvariants {
		if known := Invariants(); !slices.Contains(known, n) {
			return nil, fmt.Errorf("contract: config: unknown invariant %q (known: %s): %w",
				n, strings.Join(known, ", "), ErrConfig)
		}
	}
	if cfg.Policyholder != nil && !json.Valid(cfg.Policyholder) {
		return nil, fmt.Errorf("contract: config: policyholder is not valid JSON: %w", ErrConfig)
	}
	return u, nil
}
