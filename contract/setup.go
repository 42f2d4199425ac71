package contract

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/xoneharness/xoneharness/internal/egress"
	"github.com/xoneharness/xoneharness/internal/xone"
)

// MaxGenerateRate is the highest Options.GenerateRate, in requests per
// second: a partner's confirm limit is 50/s (testing keys allow 2/s).
const MaxGenerateRate = 50

// ErrNoOffer is returned by Options.Apply when neither the options nor the
// offer feed name an offer for confirm-ok.
var ErrNoOffer = errors.New("contract: the offer feed has no offer for the contract suite")

// Options are the choices a user makes about a suite, as a command line
// states them: zero means none, never a default. Race 0 skips the race
// check and MaxShrinks 0 disables shrinking; GenerateRate must be set, so
// the zero Options is not valid (a command line's defaults are DefaultRace,
// DefaultMaxShrinks and DefaultGenerateRate). Validate checks them and Apply
// puts them into a Config.
type Options struct {
	// SkipInvariants name invariants (see Invariants) not to check.
	SkipInvariants []string
	// Policyholder names a file holding the policyholder object
	// (xone.ReadPolicyholder); "" sends the demo policyholder.
	Policyholder string
	// OfferID and QuoteID are the offer for confirm-ok: both or neither.
	OfferID, QuoteID string
	// Race is the number of simultaneous confirms of the race check, 2 to
	// MaxRace, or 0.
	Race int
	// Record is the directory the caller will Record the result into ("":
	// none); it must pass CheckRecordDir.
	Record string
	// Generate, GenerateRate, MaxShrinks, GenerateOffers and Seed are the
	// generated cases' Config fields; GenerateOffers 0 means Generate.
	Generate                   int
	GenerateRate               float64
	MaxShrinks, GenerateOffers int
	Seed                       uint64
}

// FieldError is an Options field with a value Validate or Apply refuses.
// Field is the field's name ("Race"), or two joined by " and " for a rule
// about both; Err says what is wrong, without the field. errors.Is finds
// ErrConfig in it.
type FieldError struct {
	Field string
	Err   error
}

// Error implements error: "contract: FIELD: problem".
func (e *FieldError) Error() string { return "contract: " + e.Field + ": " + e.Err.Error() }

// Unwrap returns Err and ErrConfig.
func (e *FieldError) Unwrap() []error { return []error{e.Err, ErrConfig} }

// Validate returns the first field of o, in the order of the Options
// fields, that Run or Record could not use, as a *FieldError. It reads the
// policyholder file and looks at the record directory.
func (o Options) Validate() error {
	known := Invariants()
	for _, n := range o.SkipInvariants {
		if !slices.Contains(known, n) {
			return &FieldError{"SkipInvariants", fmt.Errorf("unknown invariant %q (known: %s)", n, strings.Join(known, ", "))}
		}
	}
	if _, err := xone.ReadPolicyholder(o.Policyholder); err != nil {
		return &FieldError{"Policyholder", err}
	}
	if (o.OfferID == "") != (o.QuoteID == "") {
		return &FieldError{"OfferID and QuoteID", errors.New("give both or neither")}
	}
	for _, id := range []struct{ field, val string }{{"OfferID", o.OfferID}, {"QuoteID", o.QuoteID}} {
		if err := xone.CheckID(id.val); id.val != "" && err != nil {
			return &FieldError{id.field, err}
		}
	}
	if o.Race != 0 && (o.Race < 2 || o.Race > MaxRace) {
		return &FieldError{"Race", fmt.Errorf("want 2 to %d simultaneous confirms, or 0 to skip the race check, got %d", MaxRace, o.Race)}
	}
	if o.Record != "" {
		if err := CheckRecordDir(o.Record); err != nil {
			return &FieldError{"Record", err}
		}
	}
	switch {
	case o.Generate < 0:
		return &FieldError{"Generate", fmt.Errorf("want a number of cases, 0 or more, got %d", o.Generate)}
	case math.IsNaN(o.GenerateRate) || o.GenerateRate <= 0 || o.GenerateRate > MaxGenerateRate:
		return &FieldError{"GenerateRate", fmt.Errorf("want requests per second above 0 and at most %d, got %v", MaxGenerateRate, o.GenerateRate)}
	case o.MaxShrinks < 0:
		return &FieldError{"MaxShrinks", fmt.Errorf("want 0 or more, got %d", o.MaxShrinks)}
	case o.GenerateOffers < 0:
		return &FieldError{"GenerateOffers", fmt.Errorf("want 0 or more, got %d", o.GenerateOffers)}
	}
	return nil
}

// Apply validates o and puts it (Record aside) into cfg, whose BaseURL,
// Embedded and Conns are set, with the offers of next (nil: none), a feed
// of unconfirmed offers called from the caller's goroutine: without o's
// offer, confirm-ok takes next's first (ErrNoOffer when it has none); on
// the embedded sandbox without either, fresh ids; off it, the race check
// and generated cases draw from next. A race group that cfg.Conns (an
// *egress.Gate) could never release off loopback is a *FieldError wrapping
// egress.ErrGroupTooLarge.
func (o Options) Apply(cfg *Config, next func() (offerID, quoteID string, ok bool)) error {
	if err := o.Validate(); err != nil {
		return err
	}
	var err error
	if cfg.Policyholder, err = xone.ReadPolicyholder(o.Policyholder); err != nil {
		return &FieldError{"Policyholder", err}
	}
	cfg.OfferID, cfg.QuoteID, cfg.SkipInvariants, cfg.Race = o.OfferID, o.QuoteID, o.SkipInvariants, cmp.Or(o.Race, -1)
	if o.Generate > 0 {
		cfg.Generate, cfg.Seed, cfg.MaxShrinks = o.Generate, o.Seed, cmp.Or(o.MaxShrinks, -1)
		cfg.GenerateOffers, cfg.GenerateRate = o.GenerateOffers, o.GenerateRate
	}
	if cfg.OfferID == "" && next != nil {
		var ok bool
		if cfg.OfferID, cfg.QuoteID, ok = next(); !ok {
			return ErrNoOffer
		}
	}
	if cfg.Embedded && cfg.OfferID == "" {
		cfg.OfferID, cfg.QuoteID = xone.NewUUID(), xone.NewUUID()
	}
	u, err := url.Parse(cfg.BaseURL)
	loopback := err == nil && egress.LiteralLoopback(u.Hostname())
	if g, ok := cfg.Conns.(interface{ MaxGroup() int }); ok && !loopback && cfg.Race > g.MaxGroup() {
		return &FieldError{"Race", fmt.Errorf("%d simultaneous confirms exceed what the rate ceiling lets leave at once (%d): %w",
			cfg.Race, g.MaxGroup(), egress.ErrGroupTooLarge)}
	}
	if !cfg.Embedded && next != nil {
		cfg.NextOffer = next
	}
	return nil
}

// setupRapid prepares pgregory.net/rapid, whose shrinker the generated
// cases use, once per process: outside go test, rapid.Check consults
// testing.Short, which needs testing.Init and parsed command-line flags,
// and it would write fail files under ./testdata/rapid.
var setupRapid = sync.OnceFunc(prepareRapid)

func prepareRapid() {
	testing.Init()
	if !flag.Parsed() {
		_ = flag.CommandLine.Parse(nil)
	}
	_ = flag.Set("rapid.nofailfile", "true")
}
