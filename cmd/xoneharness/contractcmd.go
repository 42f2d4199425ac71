package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/xoneharness/xoneharness/contract"
	"github.com/xoneharness/xoneharness/internal/auth"
	"github.com/xoneharness/xoneharness/internal/sandbox"
	"github.com/xoneharness/xoneharness/internal/xone"
	"github.com/xoneharness/xoneharness/load"
	"github.com/xoneharness/xoneharness/reports"
	"github.com/xoneharness/xoneharness/spec"
)

const contractUsage = `
Usage: xoneharness contract [flags]

Runs the contract suite: confirm-ok (with semantic invariants), the 401 cases
(no token, malformed, expired, wrong scope), negative inputs, and
double-confirm; every response is validated against the corrected OpenAPI
document. Prints a line per case and writes summary.json, report.md,
junit.xml and report.html. Exit 0 when nothing failed (drift is a warning),
1 on any fail, 2 for bad configuration, 3 when the target or token endpoint
cannot be reached.

Examples:
  xoneharness contract                                  # against the embedded sandbox
  xoneharness contract --strict --format json,junit --report-dir out/contract
  xoneharness contract --record recordings/nightly      # keep every exchange (redacted)
  xoneharness contract --replay recordings/nightly      # validate recordings offline
  XONE_BASE_URL=https://partner-sandbox.example XONE_CLIENT_ID=abc XONE_CLIENT_SECRET=… \
    XONE_PARTNER_ID=P-1 XONE_OFFER_ID=… XONE_QUOTE_ID=… xoneharness contract

Invariants (--skip-invariant NAME, repeatable): ` + "%s\n"

// contractFlags are the contract suite's own flags, shared with run.
type contractFlags struct {
	strict         bool
	offerID        string
	quoteID        string
	offersFile     string
	policyholder   string
	skipInvariants stringsFlag
	record         string
}

func (c *contractFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&c.strict, "strict", false, "make drift a failure and report undocumented response fields")
	fs.StringVar(&c.offerID, "offer-id", "", "offer for confirm-ok and double-confirm (env XONE_OFFER_ID; generated against the embedded sandbox)")
	fs.StringVar(&c.quoteID, "quote-id", "", "quote of that offer (env XONE_QUOTE_ID)")
	fs.StringVar(&c.offersFile, "offers", "", "CSV of offer_id,quote_id; the contract suite uses its first row")
	fs.StringVar(&c.policyholder, "policyholder", "", "JSON file with the policyholder to send (default: a demo policyholder)")
	fs.Var(&c.skipInvariants, "skip-invariant", "semantic invariant not to check (repeatable)")
	fs.StringVar(&c.record, "record", "", "write every exchange, redacted, one JSON file per case, into DIR")
}

// contractConfig builds the suite's configuration for a resolved target.
func (c *contractFlags) config(a *app, tg *target, s *spec.Spec, red *auth.Redactor) (contract.Config, error) {
	ph, err := readPolicyholder(c.policyholder)
	if err != nil {
		return contract.Config{}, err
	}
	for _, n := range c.skipInvariants {
		if !slices.Contains(contract.Invariants(), n) {
			return contract.Config{}, usagef("--skip-invariant: unknown invariant %q (known: %s)", n, strings.Join(contract.Invariants(), ", "))
		}
	}
	offer, quote := pickString(c.offerID, a.getenv("XONE_OFFER_ID")), pickString(c.quoteID, a.getenv("XONE_QUOTE_ID"))
	if offer == "" && quote == "" && c.offersFile != "" {
		offers, err := readOffersFile(c.offersFile)
		if err != nil {
			return contract.Config{}, err
		}
		first := offers.At(0)
		offer, quote = first.OfferID, first.QuoteID
	}
	if (offer == "") != (quote == "") {
		return contract.Config{}, usagef("--offer-id and --quote-id (XONE_OFFER_ID, XONE_QUOTE_ID): give both or neither")
	}
	if tg.Embedded && offer == "" {
		offer, quote = xone.NewUUID(), xone.NewUUID()
	}
	tokens, err := tg.newTokenSource()
	if err != nil {
		return contract.Config{}, err
	}
	cfg := contract.Config{
		BaseURL: tg.BaseURL, PartnerID: tg.PartnerID, OfferID: offer, QuoteID: quote,
		Policyholder: ph, Tokens: tokens, Spec: s, Strict: c.strict,
		SkipInvariants: c.skipInvariants, Embedded: tg.Embedded, HTTPClient: tg.HTTPClient(),
		Redactor: red, Now: a.now,
	}
	if tg.ReadOnlyClientID != "" && tg.ReadOnlySecret != "" {
		ro, err := auth.New(auth.Config{TokenURL: tg.TokenURL, ClientID: tg.ReadOnlyClientID,
			ClientSecret: tg.ReadOnlySecret, Style: tg.Style, HTTPClient: tg.HTTPClient()})
		if err != nil {
			return contract.Config{}, usagef("XONE_READONLY_CLIENT_ID: %v", err)
		}
		cfg.ReadOnlyTokens = ro
	}
	if tg.Sandbox != nil {
		cfg.ExpiredToken = tg.Sandbox.MintToken(sandbox.ClientID, -time.Hour)
	}
	return cfg, nil
}

func cmdContract(ctx context.Context, a *app, args []string) (err error) {
	fs := newFlagSet(a, "contract", fmt.Sprintf(contractUsage, strings.Join(contract.Invariants(), ", ")))
	var tf targetFlags
	var cf contractFlags
	var rf reportFlags
	tf.register(fs)
	cf.register(fs)
	rf.register(fs, reports.KindContract)
	replay := fs.String("replay", "", "validate the recordings in DIR offline (no network) instead of calling a target")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if *replay != "" && cf.record != "" {
		return usagef("--record and --replay: give one or the other")
	}
	var opts []spec.Option
	if cf.strict {
		opts = append(opts, spec.Strict())
	}
	s, err := spec.Load(opts...)
	if err != nil {
		return fmt.Errorf("load spec: %w", err)
	}
	dir, formats, cleanup, err := rf.prepare(a, reports.KindContract)
	if err != nil {
		return err
	}
	defer cleanup()
	started := a.now()
	failure := &failureRecord{a: a, kind: reports.KindContract, dir: dir, formats: formats, started: started}
	defer func() { err = failure.report(err) }()
	var res *contract.Result
	var tgt reports.Target
	if *replay != "" {
		if st, err := os.Stat(*replay); err != nil || !st.IsDir() {
			return usagef("--replay: %s is not a directory of recordings", *replay)
		}
		res, err = contract.Replay(*replay, s, cf.strict)
		if err != nil {
			return usagef("--replay: %v", err)
		}
		tgt = reports.Target{URL: "replay of " + *replay}
	} else {
		tg, err := tf.resolve(a)
		if err != nil {
			return err
		}
		defer tg.Close()
		failure.target = reports.Target{URL: tg.BaseURL, Embedded: tg.Embedded}
		red := auth.NewRedactor(tg.Secret)
		cfg, err := cf.config(a, tg, s, red)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "contract suite against %s\n", tg.Describe())
		res, err = contract.Run(ctx, cfg)
		if err != nil {
			return contractError(err)
		}
		if cf.record != "" {
			if err := contract.Record(cf.record, res); err != nil {
				return usagef("--record: %v", err)
			}
		}
		tgt = reports.Target{URL: tg.BaseURL, Embedded: tg.Embedded}
	}
	printContract(a, res)
	rep := reports.New(reports.KindContract, version(), tgt)
	rep.StartedAt, rep.FinishedAt = started, a.now()
	rep.Contract = res
	return finishReport(a, dir, formats, rep)
}

// contractError maps a harness error from the suite: configuration mistakes
// are usage errors, the rest (unreachable target, token failures) are
// infrastructure failures.
func contractError(err error) error {
	if errors.Is(err, contract.ErrConfig) {
		return usageError{err}
	}
	return tlsHint(fmt.Errorf("contract: %w", err))
}

// readOffersFile reads an --offers CSV into a compact list (33 bytes per row
// of two UUIDs: a feed of millions of rows is never expanded into strings);
// errors name the file and line.
func readOffersFile(path string) (*load.OfferList, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usagef("--offers: %v", err)
	}
	defer f.Close()
	offers, err := load.ReadOfferList(f, path)
	if err != nil {
		return nil, usagef("--offers: %v", err)
	}
	return offers, nil
}
