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
junit.xml, report.html and bookings.csv (every confirm that booked or may
have booked). Exit 0 when nothing failed (drift is a warning) and
confirm-ok ran, 1 on any fail or error case, 2 for bad configuration or
refused credentials, 3 when the target or token endpoint cannot be reached,
4 when the suite is incomplete (no offer configured, so confirm-ok was
skipped; or interrupted).

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
	gen            generateFlags
	// reportDir is the run's report directory, named in the lock an
	// --offers file takes.
	reportDir string
	// nextOffer, set by run, hands generated cases offers from the stream the
	// load stage reads next.
	nextOffer func() (load.Offer, bool)
	// release, set by config when it opened --offers, closes the stream and
	// drops its lock; the command calls it when the suite is over.
	release func()
}

func (c *contractFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&c.strict, "strict", false, "make drift a failure and report undocumented response fields")
	fs.StringVar(&c.offerID, "offer-id", "", "offer for confirm-ok and double-confirm (env XONE_OFFER_ID; generated against the embedded sandbox)")
	fs.StringVar(&c.quoteID, "quote-id", "", "quote of that offer (env XONE_QUOTE_ID)")
	fs.StringVar(&c.offersFile, "offers", "", "CSV of offer_id,quote_id; the contract suite uses its first row")
	fs.StringVar(&c.policyholder, "policyholder", "", "JSON file with the policyholder to send (default: a demo policyholder)")
	fs.Var(&c.skipInvariants, "skip-invariant", "semantic invariant not to check (repeatable)")
	fs.StringVar(&c.record, "record", "", "write every exchange, redacted, one JSON file per case, into DIR")
	c.gen.register(fs)
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
	next := c.nextOffer
	if c.offersFile != "" && (offer == "" && quote == "" || c.gen.n > 0) {
		// The same rules as load: the file is locked for the run, and an
		// offer an earlier run's ledger holds is refused.
		st, release, err := openOfferStream(a, c.offersFile, c.reportDir, load.Shard{Index: 0, Count: 1})
		if err != nil {
			return contract.Config{}, err
		}
		c.release = release
		if offer == "" && quote == "" {
			first, ok := st.Next()
			if !ok {
				if err := st.Err(); err != nil {
					return contract.Config{}, usagef("--offers: %v", err)
				}
				return contract.Config{}, usagef("--offers: %s holds no offer", c.offersFile)
			}
			offer, quote = first.OfferID, first.QuoteID
		}
		next = st.Next
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
	c.gen.apply(&cfg, next)
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
	var sf specFlags
	sf.register(fs)
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
	s, err := sf.load(cf.strict)
	if err != nil {
		return err
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
		cf.reportDir = dir
		cfg, err := cf.config(a, tg, s, red)
		if cf.release != nil {
			defer cf.release()
		}
		if err != nil {
			return err
		}
		ledger, err := openLedger(dir)
		if err != nil {
			return err
		}
		defer closeLedger(a, ledger)
		cfg.OnBooking = ledgerSink(ledger)
		fmt.Fprintf(a.stdout, "contract suite against %s\n", tg.Describe())
		res, err = contract.Run(ctx, cfg)
		if err != nil {
			return contractError(tg, err)
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
	rep.Spec = specInfo(s)
	return finishReport(a, dir, formats, rep)
}

// contractError maps a harness error from the suite: configuration mistakes
// and refused credentials are usage errors, the rest (unreachable target,
// unreachable or failing token endpoint) are infrastructure failures. The
// suite's errors already name their step.
func contractError(tg *target, err error) error {
	if errors.Is(err, contract.ErrConfig) {
		return usageError{err}
	}
	if refused := credentialsRefused(tg, err); refused != nil {
		return refused
	}
	return tlsHint(err)
}

// credentialsRefused turns a token fetch the endpoint refused with a 4xx
// (invalid_client, a wrong secret) into a configuration error naming the
// client id and the token URL, never the secret; nil for any other error.
func credentialsRefused(tg *target, err error) error {
	var fe *auth.FetchError
	if !errors.As(err, &fe) || !errors.Is(err, auth.ErrRejected) || fe.Status < 400 || fe.Status >= 500 || fe.Status == 429 {
		return nil
	}
	return usagef("credentials refused: the token endpoint %s answered %d for client id %q (check XONE_CLIENT_ID and the client secret): %w",
		tg.TokenURL, fe.Status, tg.ClientID, err)
}

// openLedger creates the run's bookings.csv in dir; an existing ledger is
// never overwritten.
func openLedger(dir string) (*load.Ledger, error) {
	l, err := load.OpenLedger(dir)
	if err != nil {
		return nil, usagef("--report-dir: %v (a run's ledger of confirmed offers is never overwritten: choose a new directory)", err)
	}
	return l, nil
}

// closeLedger closes l, warning when the last rows could not be written.
func closeLedger(a *app, l *load.Ledger) {
	if err := l.Close(); err != nil {
		fmt.Fprintf(a.stderr, "xoneharness: warning: %s: %v\n", l.Path(), err)
	}
}

// ledgerSink writes the contract suite's bookings to the ledger as they
// happen.
func ledgerSink(l *load.Ledger) func(contract.Booking) {
	return func(b contract.Booking) {
		why := b.Error
		if why != "" {
			why = "contract case " + b.Case + ": " + why
		}
		l.Add(load.Booking{OfferID: b.OfferID, QuoteID: b.QuoteID, Outcome: b.Outcome, BookingID: b.BookingID,
			Status: b.Status, Error: why, At: b.At})
		_ = l.Flush() // an error is kept and reported by Close
	}
}
