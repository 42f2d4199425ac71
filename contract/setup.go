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

// MaxGenerateRate is the highest GenerateRate Explicit accepts, in requests
// per second: a partner's confirm limit is 50/s (testing keys allow 2/s).
const MaxGenerateRate = 50

// ErrNoOffer is returned by Config.TakeOffers when neither the config nor its
// offer feed has an offer for confirm-ok.
var ErrNoOffer = errors.New("contract: the offer feed has no offer for the contract suite")

// FieldError is a Config field with a value Explicit or TakeOffers refuses.
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

// Explicit reads c as a command line gives it: zero means none, never a
// default (a command line's defaults are DefaultRace, DefaultMaxShrinks and
// DefaultGenerateRate). It refuses with a *FieldError the first of: an unknown
// SkipInvariants name, OfferID without QuoteID or either not an id, Race not 0
// or 2 to MaxRace, Generate < 0, GenerateRate not in (0, MaxGenerateRate],
// MaxShrinks or GenerateOffers < 0; and returns c with Race and MaxShrinks 0 as -1.
func (c Config) Explicit() (Config, error) {
	invErr := unknownInvariant(c.SkipInvariants)
	offerErr, quoteErr := xone.CheckID(c.OfferID), xone.CheckID(c.QuoteID)
	switch {
	case invErr != nil:
		return c, &FieldError{"SkipInvariants", invErr}
	case (c.OfferID == "") != (c.QuoteID == ""):
		return c, &FieldError{"OfferID and QuoteID", errors.New("give both or neither")}
	case c.OfferID != "" && offerErr != nil:
		return c, &FieldError{"OfferID", offerErr}
	case c.QuoteID != "" && quoteErr != nil:
		return c, &FieldError{"QuoteID", quoteErr}
	case c.Race != 0 && (c.Race < 2 || c.Race > MaxRace):
		return c, &FieldError{"Race", fmt.Errorf("want 2 to %d simultaneous confirms, or 0 to skip the race check, got %d", MaxRace, c.Race)}
	case c.Generate < 0:
		return c, &FieldError{"Generate", fmt.Errorf("want a number of cases, 0 or more, got %d", c.Generate)}
	case math.IsNaN(c.GenerateRate) || c.GenerateRate <= 0 || c.GenerateRate > MaxGenerateRate:
		return c, &FieldError{"GenerateRate", fmt.Errorf("want requests per second above 0 and at most %d, got %v", MaxGenerateRate, c.GenerateRate)}
	case c.MaxShrinks < 0:
		return c, &FieldError{"MaxShrinks", fmt.Errorf("want 0 or more, got %d", c.MaxShrinks)}
	case c.GenerateOffers < 0:
		return c, &FieldError{"GenerateOffers", fmt.Errorf("want 0 or more, got %d", c.GenerateOffers)}
	}
	c.Race, c.MaxShrinks = cmp.Or(c.Race, -1), cmp.Or(c.MaxShrinks, -1)
	return c, nil
}

// TakeOffers gives c, whose BaseURL, Embedded, Conns and Race are set, its
// offers from next (nil: none), a feed of unconfirmed offers called from the
// caller's goroutine: without c's OfferID, confirm-ok takes next's first
// (ErrNoOffer when it has none); on the embedded sandbox without either,
// fresh ids; off it, the race check and generated cases draw from next
// (NextOffer). A race group that c.Conns (an *egress.Gate) could never
// release off loopback is a *FieldError wrapping egress.ErrGroupTooLarge.
func (c *Config) TakeOffers(next func() (offerID, quoteID string, ok bool)) error {
	if c.OfferID == "" && next != nil {
		var ok bool
		if c.OfferID, c.QuoteID, ok = next(); !ok {
			return ErrNoOffer
		}
	}
	if c.Embedded && c.OfferID == "" {
		c.OfferID, c.QuoteID = xone.NewUUID(), xone.NewUUID()
	}
	u, err := url.Parse(c.BaseURL)
	g, gated := c.Conns.(interface{ MaxGroup() int })
	if n := cmp.Or(c.Race, DefaultRace); gated && n > g.MaxGroup() && (err != nil || !egress.LiteralLoopback(u.Hostname())) {
		return &FieldError{"Race", fmt.Errorf("%d simultaneous confirms exceed what the rate ceiling lets leave at once (%d): %w", n, g.MaxGroup(), egress.ErrGroupTooLarge)}
	}
	if !c.Embedded && next != nil {
		c.NextOffer = next
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

// unknownInvariant refuses the first of names that is not one of Invariants.
func unknownInvariant(names []string) error {
	known := Invariants()
	for _, n := range names {
		if !slices.Contains(known, n) {
			return fmt.Errorf("unknown invariant %q (known: %s)", n, strings.Join(known, ", "))
		}
	}
	return nil
}
