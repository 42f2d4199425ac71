package main

import (
	"flag"
	"fmt"
	"testing"

	"github.com/xoneharness/xoneharness/contract"
	"github.com/xoneharness/xoneharness/load"
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

// apply copies the flags into cfg. Off the embedded sandbox, generated cases
// draw offers from next (the --offers feed after the row confirm-ok uses); a
// nil next means none are generated there.
func (g *generateFlags) apply(cfg *contract.Config, next func() (load.Offer, bool)) {
	if g.n <= 0 {
		return
	}
	prepareRapid()
	cfg.Generate, cfg.Seed, cfg.GenerateOffers, cfg.GenerateRate = g.n, g.seed, g.offers, g.rate
	cfg.MaxShrinks = g.maxShrinks
	if g.maxShrinks == 0 {
		cfg.MaxShrinks = -1
	}
	if !cfg.Embedded && next != nil {
		cfg.NextOffer = func() (string, string, bool) {
			o, ok := next()
			return o.OfferID, o.QuoteID, ok
		}
	}
}

// prepareRapid readies pgregory.net/rapid, whose shrinker the generated
// cases use, for a program that is not a test binary: rapid consults
// testing.Short (which needs testing.Init and parsed command-line flags)
// and would write fail files under ./testdata/rapid.
func prepareRapid() {
	testing.Init()
	if !flag.Parsed() {
		_ = flag.CommandLine.Parse(nil)
	}
	_ = flag.Set("rapid.nofailfile", "true")
}

// printGeneration prints the seed of the generated cases (to replay them)
// and the minimal body and curl line of each that did not pass.
func printGeneration(a *app, res *contract.Result) {
	g := res.Generation
	if g == nil {
		return
	}
	for _, c := range res.Cases {
		if c.Generated != nil && c.Generated.MinimalBody != "" {
			fmt.Fprintf(a.stdout, "%s %s minimal body (%d shrink requests): %s\n  %s\n", c.Name, c.Outcome,
				c.Generated.ShrinkRequests, c.Generated.MinimalBody, c.Generated.Curl)
		}
	}
	fmt.Fprintf(a.stdout, "generated: %d of %d cases, %d requests, %d offers, seed %d (replay: --generate %d --seed %d)\n",
		g.Run, g.Requested, g.Requests, g.OffersUsed, g.Seed, g.Requested, g.Seed)
	if g.Stopped != "" {
		fmt.Fprintf(a.stdout, "generated cases stopped: %s\n", g.Stopped)
	}
}
