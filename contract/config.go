package contract

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/oauth2"

	"github.com/xoneharness/xoneharness/internal/auth"
	"github.com/xoneharness/xoneharness/internal/race"
	"github.com/xoneharness/xoneharness/ledger"
	"github.com/xoneharness/xoneharness/spec"
)

// ErrConfig marks an error from [Run] caused by its [Config] (missing base
// URL, unknown invariant, invalid policyholder), not by the target: test
// with errors.Is; cmd maps it to exit code 2, other errors from Run to 3.
var ErrConfig = errors.New("invalid configuration")

// defaultTimeout bounds each request when Config.HTTPClient is nil.
const defaultTimeout = 10 * time.Second

// Config says which target to check and with which credentials. Only
// BaseURL, PartnerID, Tokens and Spec are required.
type Config struct {
	// BaseURL is the target's origin, such as the embedded sandbox's URL. Required.
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
	// Tokens is the write credential (scope offers:update), normally an
	// *auth.Source; Run calls Token once, before the first request. Required.
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
	// Embedded is copied into Result.Embedded: set it when BaseURL is the embedded sandbox.
	Embedded bool
	// HTTPClient sends the requests; nil uses a client with a 10 s timeout
	// that does not follow redirects (a 3xx is judged as the answer).
	HTTPClient *http.Client
	// Redactor scrubs every Exchange; nil is a fresh auth.NewRedactor(). Run
	// adds the tokens it sends to it: do not use it concurrently with Run.
	Redactor *auth.Redactor
	// Journal records every confirm before it leaves, and its outcome (the
	// run's bookings.csv, and the claims that refuse an offer another run
	// confirmed). nil records nothing: a caller confirming real offers must set it.
	Journal *ledger.Journal
	// Generate is the number of generated cases sent after the fixed ones
	// (half positive, half negative); 0 sends none.
	Generate int
	// Seed replays the generated cases (same seed and target, same cases); 0
	// picks a random seed. The seed used is in Result.Generation.
	Seed uint64
	// MaxShrinks bounds the requests spent shrinking each failing generated
	// case; 0 is DefaultMaxShrinks, a negative value disables shrinking.
	MaxShrinks int
	// NextOffer supplies unconfirmed offers, called from Run's goroutine; only
	// a confirm that booked or may have booked consumes one. nil: fresh random
	// offer ids, which only the embedded sandbox (Embedded) accepts; off the
	// sandbox no case is generated and the race check is skipped without it.
	NextOffer func() (offerID, quoteID string, ok bool)
	// GenerateOffers is the most offers generated cases may take from
	// NextOffer; 0 means Generate.
	GenerateOffers int
	// GenerateRate caps generated requests per second off loopback; 0 is
	// DefaultGenerateRate. Loopback targets are not paced.
	GenerateRate float64
	// Race is the number of simultaneous confirms of one offer (a fresh one on
	// the sandbox, else from NextOffer) that concurrent-confirm sends: 0 is
	// DefaultRace, at most MaxRace; a negative value skips the case.
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
	u, err := url.Parse(cfg.BaseURL)
	invErr := unknownInvariant(cfg.SkipInvariants)
	for _, c := range []struct {
		bad bool
		msg string
	}{
		{cfg.BaseURL == "", "base URL is empty"},
		{err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "",
			fmt.Sprintf("base URL %q is not an absolute http(s) URL", cfg.BaseURL)},
		{cfg.PartnerID == "", "partner id is empty"},
		{cfg.Tokens == nil, "no token source"},
		{cfg.Spec == nil, "no spec"},
		{cfg.Race > MaxRace, fmt.Sprintf("race of %d simultaneous confirms: at most %d", cfg.Race, MaxRace)},
		{cfg.Generate < 0, fmt.Sprintf("generate %d is negative", cfg.Generate)},
		{invErr != nil, fmt.Sprint(invErr)},
		{cfg.Policyholder != nil && !json.Valid(cfg.Policyholder), "policyholder is not valid JSON"},
	} {
		if c.bad {
			return nil, fmt.Errorf("contract: config: %s: %w", c.msg, ErrConfig)
		}
	}
	return u, nil
}
