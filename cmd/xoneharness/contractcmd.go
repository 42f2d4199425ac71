package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/xoneharness/xoneharness/contract"
	"github.com/xoneharness/xoneharness/internal/auth"
	"github.com/xoneharness/xoneharness/internal/egress"
	"github.com/xoneharness/xoneharness/internal/sandbox"
	targetpkg "github.com/xoneharness/xoneharness/internal/target"
	"github.com/xoneharness/xoneharness/internal/xone"
	"github.com/xoneharness/xoneharness/ledger"
	"github.com/xoneharness/xoneharness/load"
	"github.com/xoneharness/xoneharness/reports"
)

const contractUsage = `
Usage: xoneharness contract [flags]

Runs the contract suite: confirm-ok (with semantic invariants), the 401 cases
(no token, malformed, expired, wrong scope), negative inputs, double-confirm
and concurrent-confirm (--race N confirms of one offer arriving within a
millisecond: more than one booking is an integrity failure); every response
is validated against the corrected OpenAPI document. Prints a line per case and writes summary.json, report.md,
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
  xoneharness contract --drift racy-double-book --race 10 # the race check catching a double booking
  XONE_BASE_URL=https://partner-sandbox.example XONE_CLIENT_ID=abc XONE_CLIENT_SECRET=… \
    XONE_PARTNER_ID=P-1 XONE_OFFER_ID=… XONE_QUOTE_ID=… xoneharness contract

Invariants (--skip-invariant NAME, repeatable): ` + "%s\n"

// contractFlags are the contract suite's own flags, shared with run: cfg
// holds the suite's fields as the command line gives them, checked what
// check made of them (contract.Config.Explicit, offer and quote flags over
// env, the policyholder read).
type contractFlags struct {
	strict                           bool
	offerID, quoteID                 string
	offersFile, policyholder, record string
	cfg, checked                     contract.Config
}

func (c *contractFlags) register(fs *flag.FlagSet) {
	o := &c.cfg
	fs.BoolVar(&c.strict, "strict", false, "make drift a failure and report undocumented response fields")
	fs.StringVar(&c.offerID, "offer-id", "", "offer for confirm-ok and double-confirm (env XONE_OFFER_ID; generated against the embedded sandbox)")
	fs.StringVar(&c.quoteID, "quote-id", "", "quote of that offer (env XONE_QUOTE_ID)")
	fs.StringVar(&c.offersFile, "offers", "", "CSV of offer_id,quote_id; the contract suite uses its first row")
	fs.StringVar(&c.policyholder, "policyholder", "", "JSON file with the policyholder to send (default: a demo policyholder)")
	fs.Var((*stringsFlag)(&o.SkipInvariants), "skip-invariant", "semantic invariant not to check (repeatable)")
	fs.IntVar(&o.Race, "race", contract.DefaultRace, fmt.Sprintf("simultaneous confirms of one offer in the race check (2 to %d; 0 skips it); off the embedded sandbox the offer is a row of --offers", contract.MaxRace))
	fs.StringVar(&c.record, "record", "", "write every exchange, redacted, one JSON file per case, into DIR (new or empty, not inside a run's report directory)")
	fs.IntVar(&o.Generate, "generate", 0, "after the fixed cases, send up to N generated requests (positive and negative bodies from the request schema)")
	fs.Uint64Var(&o.Seed, "seed", 0, "seed of the generated cases; the same seed replays the same cases (0: random, printed and stored)")
	fs.IntVar(&o.MaxShrinks, "max-shrinks", contract.DefaultMaxShrinks, "requests spent shrinking each failing generated case to a minimal body (0: no shrinking)")
	fs.IntVar(&o.GenerateOffers, "generate-offers", 0, "most offers generated cases may book off the embedded sandbox (default: N)")
	fs.Float64Var(&o.GenerateRate, "generate-rate", contract.DefaultGenerateRate, "generated requests per second off loopback")
}

// check refuses the contract flags' bad values before anything is opened
// or sent, naming the first bad flag in the order the loop lists them, and
// keeps what it read in c.checked.
func (c *contractFlags) check(a *app) (err error) {
	offer := targetpkg.FlagOrEnv(a.getenv, c.offerID, "--offer-id", "XONE_OFFER_ID")
	quote := targetpkg.FlagOrEnv(a.getenv, c.quoteID, "--quote-id", "XONE_QUOTE_ID")
	c.cfg.OfferID, c.cfg.QuoteID = offer.Value, quote.Value
	var fe *contract.FieldError
	bad := map[string]error{}
	if c.checked, err = c.cfg.Explicit(); errors.As(err, &fe) {
		bad[fe.Field] = fe.Err
	}
	c.checked.Policyholder, bad["Policyholder"] = xone.ReadPolicyholder(c.policyholder)
	if c.record != "" {
		bad["Record"] = contract.CheckRecordDir(c.record)
	}
	for _, f := range [][2]string{{"SkipInvariants", "--skip-invariant"}, {"Policyholder", "--policyholder"}, {"OfferID and QuoteID", "--offer-id and --quote-id (XONE_OFFER_ID, XONE_QUOTE_ID)"},
		{"OfferID", offer.From}, {"QuoteID", quote.From}, {"Race", "--race"}, {"Record", "--record"}, {"Generate", "--generate"},
		{"GenerateRate", "--generate-rate"}, {"MaxShrinks", "--max-shrinks"}, {"GenerateOffers", "--generate-offers"}} {
		if bad[f[0]] != nil {
			return usagef("%s: %v", f[1], bad[f[0]])
		}
	}
	return nil
}

// config builds the suite's configuration for the session. Offers: the
// configured offer, else the first row of feed (--offers, or run's stream);
// generated cases draw from feed too. Against the embedded sandbox without
// either, confirm-ok uses fresh ids.
func (c *contractFlags) config(a *app, st *session, feed load.Feed) (contract.Config, error) {
	// Checked again now that the session's report directory exists: --record
	// must not be inside it.
	if err := c.check(a); err != nil {
		return contract.Config{}, err
	}
	tg, cfg := st.tg, c.checked
	cfg.BaseURL, cfg.PartnerID, cfg.Spec, cfg.Strict, cfg.Journal = tg.BaseURL, tg.PartnerID, st.spec, c.strict, st.run.Journal
	cfg.Embedded, cfg.HTTPClient, cfg.Redactor, cfg.Now, cfg.Conns = tg.Embedded, tg.HTTPClient(), a.red, a.now, tg.Gate
	var next func() (string, string, bool)
	if feed != nil {
		next = func() (string, string, bool) { o, _, ok := feed.Next(); return o.OfferID, o.QuoteID, ok }
	}
	switch err := cfg.TakeOffers(next); {
	case errors.Is(err, contract.ErrNoOffer):
		return contract.Config{}, usagef("--offers: no offer for the contract suite: %v", feed.Err())
	case errors.Is(err, egress.ErrGroupTooLarge):
		return contract.Config{}, usagef("--race: %d simultaneous confirms exceed what --max-rate lets leave at once (%d); lower --race or raise --max-rate", c.cfg.Race, tg.Gate.MaxGroup())
	case err != nil:
		return contract.Config{}, usageError{err}
	}
	var err error
	if cfg.Tokens, err = newTokenSource(tg, a.red); err != nil {
		return contract.Config{}, err
	}
	if tg.ReadOnlyClientID != "" && tg.ReadOnlySecret != "" {
		if cfg.ReadOnlyTokens, err = tg.TokenSource(a.red, tg.ReadOnlyClientID, tg.ReadOnlySecret); err != nil {
			return contract.Config{}, usagef("XONE_READONLY_CLIENT_ID: %v", err)
		}
	}
	if tg.Sandbox != nil {
		cfg.ExpiredToken = tg.Sandbox.MintToken(sandbox.ClientID, -time.Hour)
	}
	return cfg, nil
}

func cmdContract(ctx context.Context, a *app, args []string) (err error) {
	fs := newFlagSet(a, "contract", fmt.Sprintf(contractUsage, strings.Join(contract.Invariants(), ", ")))
	var (
		tf targetFlags
		cf contractFlags
		rf reportFlags
		sf specFlags
	)
	tf.register(fs)
	cf.register(fs)
	rf.register(fs, reports.KindContract)
	sf.register(fs)
	replay := fs.String("replay", "", "validate the recordings in DIR offline (no network) instead of calling a target")
	if err := parseOnlyFlags(fs, args); err != nil {
		return err
	}
	if *replay != "" {
		if cf.record != "" {
			return usagef("--record and --replay: give one or the other")
		}
		return contractReplay(ctx, a, &rf, &sf, *replay, cf.strict)
	}
	if err := cf.check(a); err != nil {
		return err
	}
	tf.partnerInputs = map[string]string{"--offer-id": cf.offerID, "--offers": cf.offersFile}
	st, err := openSession(ctx, a, &rf, &tf, &sf, reports.KindContract, cf.strict)
	if err != nil {
		return err
	}
	defer func() { err = st.close(err) }()
	res, err := runContract(ctx, a, st, &cf, nil)
	if err != nil {
		return err
	}
	rep := st.report(reports.KindContract)
	rep.Contract = res
	return st.finish(rep)
}

// runContract runs the suite of the session, taking its offers from feed
// when set (run's stream), else from --offers; it prints the cases and keeps
// the recordings.
func runContract(ctx context.Context, a *app, st *session, cf *contractFlags, feed load.Feed) (*contract.Result, error) {
	if feed == nil && cf.offersFile != "" {
		s, _, err := load.OpenOffers(ctx, cf.offersFile, a.stdin, load.OfferOptions{Claims: st.run.Claims, Waiting: a.waiting})
		if err != nil {
			return nil, usagef("--offers: %v", err)
		}
		defer func() { _ = s.Close() }()
		feed = s
	}
	cfg, err := cf.config(a, st, feed)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(a.stdout, "contract suite against %s\n", st.tg.Describe())
	res, err := contract.Run(ctx, cfg)
	if err != nil {
		return nil, contractError(st.tg, err)
	}
	if cf.record != "" {
		if err := contract.Record(cf.record, res); err != nil {
			return nil, usagef("--record: %v", err)
		}
	}
	console(a, reports.ConsoleContract, &reports.Report{Kind: reports.KindContract, Contract: res})
	return res, nil
}

// contractReplay validates the recordings in dir offline.
func contractReplay(ctx context.Context, a *app, rf *reportFlags, sf *specFlags, dir string, strict bool) error {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return usagef("--replay: %s is not a directory of recordings", dir)
	}
	s, err := sf.loadContext(ctx, strict)
	if err != nil {
		return err
	}
	out, formats, cleanup, err := rf.prepare(a, reports.KindContract)
	if err != nil {
		return err
	}
	defer cleanup()
	started := a.now()
	res, err := contract.Replay(dir, s, strict)
	if err != nil {
		return usagef("--replay: %v", err)
	}
	rep := reports.New(reports.KindContract, reports.ToolVersion(buildVersion), reports.Target{URL: "replay of " + dir})
	rep.StartedAt, rep.FinishedAt = started, a.now()
	rep.Contract = res
	rep.SetSpec(s, sf.files())
	console(a, reports.ConsoleContract, rep)
	return finishReport(a, out, formats, rep, "")
}

// contractError maps a harness error from the suite: configuration mistakes,
// an offer another run claimed and refused credentials are usage errors; the
// rest (a journal that cannot be written, an unreachable target or token
// endpoint) are infrastructure failures.
func contractError(tg *target, err error) error {
	if errors.Is(err, contract.ErrConfig) || errors.As(err, new(*ledger.ClaimedError)) {
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
	if !errors.As(err, &fe) || !fe.CredentialsRefused() {
		return nil
	}
	return usagef("credentials refused: the token endpoint %s answered %d for client id %q (check XONE_CLIENT_ID and the client secret): %w",
		tg.TokenURL, fe.Status, tg.ClientID, err)
}
