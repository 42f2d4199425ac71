package main

import (
	"flag"
	"math"
	"testing"

	"github.com/xoneharness/xoneharness/contract"
)

// generateFlags are the flags of generated contract cases (contract, run).
type generateFlags struct {
	n          int
	seed       uint64
	maxShrinks int
	offers     int
	rate       float64
}

func (g *generateFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&g.n, "generate", 0, "after the fixed cases, send up to N generated requests (positive and negative bodies from the request schema)")
	fs.Uint64Var(&g.seed, "seed", 0, "seed of the generated cases; the same seed replays the same cases (0: random, printed and stored)")
	fs.IntVar(&g.maxShrinks, "max-shrinks", contract.DefaultMaxShrinks, "requests spent shrinking each failing generated case to a minimal body (0: no shrinking)")
	fs.IntVar(&g.offers, "generate-offers", 0, "most offers generated cases may book off the embedded sandbox (default: N)")
	fs.Float64Var(&g.rate, "generate-rate", contract.DefaultGenerateRate, "generated requests per second off loopback")
}

// maxGenerateRate is the highest --generate-rate: a partner's confirm limit
// is 50/s, and testing keys allow 2/s.
const maxGenerateRate = 50

// check refuses flag values that mean nothing.
func (g *generateFlags) check() error {
	switch {
	case g.n < 0:
		return usagef("--generate: want a number of cases, 0 or more, got %d", g.n)
	case math.IsNaN(g.rate) || g.rate <= 0 || g.rate > maxGenerateRate:
		return usagef("--generate-rate: want requests per second above 0 and at most %d, got %v", maxGenerateRate, g.rate)
	case g.maxShrinks < 0:
		return usagef("--max-shrinks: want 0 or more, got %d", g.maxShrinks)
	case g.offers < 0:
		return usagef("--generate-offers: want 0 or more, got %d", g.offers)
	}
	return nil
}

// apply copies the checked flags into cfg. Off the embedded sandbox,
// generated cases draw offers from cfg.NextOffer; without it none are
// generated there.
func (g *generateFlags) apply(cfg *contract.Config) {
	if g.n == 0 {
		return
	}
	// pgregory.net/rapid, whose shrinker the generated cases use, consults
	// testing.Short (which needs testing.Init and parsed command-line flags)
	// and would write fail files under ./testdata/rapid.
	testing.Init()
	if !flag.Parsed() {
		_ = flag.CommandLine.Parse(nil)
	}
	_ = flag.Set("rapid.nofailfile", "true")
	cfg.Generate, cfg.Seed, cfg.GenerateOffers, cfg.GenerateRate = g.n, g.seed, g.offers, g.rate
	cfg.MaxShrinks = g.maxShrinks
	if g.maxShrinks == 0 {
		cfg.MaxShrinks = -1
	}
}
