package contract

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/xoneharness/xoneharness/internal/auth"
	"github.com/xoneharness/xoneharness/internal/egress"
	"github.com/xoneharness/xoneharness/internal/xone"
	"github.com/xoneharness/xoneharness/ledger"
	"github.com/xoneharness/xoneharness/spec"
)

// maxResponseRead bounds how much of a response body Run reads (8 MiB).
const maxResponseRead = 8 << 20

// userAgent is sent with every request.
const userAgent = "xoneharness-contract"

// planned is one case ready to send, or skipped.
type planned struct {
	def     caseDef
	skip    string
	url     string
	header  http.Header
	body    []byte
	context caseContext
}

// caseContext is what judging a case needs besides the exchange; it is
// stored in recordings so Replay can judge offline.
type caseContext struct {
	OfferID        string   `json:"offer_id,omitempty"`
	QuoteID        string   `json:"quote_id,omitempty"`
	Loopback       bool     `json:"loopback,omitempty"`
	SkipInvariants []string `json:"skip_invariants,omitempty"`
	FirstBookingID string   `json:"first_booking_id,omitempty"` // double-confirm only
}

// rawExchange is an unredacted request and response.
type rawExchange struct {
	method, url string
	reqHeader   http.Header
	reqBody     []byte
	status      int
	respHeader  http.Header
	respBody    []byte
	duration    time.Duration
	cut         bool // the body was longer than maxResponseRead: respBody is its first part
}

// Run runs every case once, in suite order, one request at a time (but the
// simultaneous confirms of concurrent-confirm), against cfg.BaseURL.
// Findings (violations, security and integrity findings, drift) are in the
// Result. A case whose request fails at the transport level gets outcome
// error and the other cases still run; a cancelled ctx skips the cases not
// yet run (Result.Interrupted). Every confirm is recorded in cfg.Journal
// before it leaves and resolved when it is answered. An error means the suite
// could not do its job: a bad Config (errors.Is(err, ErrConfig)), the journal
// (an offer another run claimed, *ledger.ClaimedError; a failed write), a
// token fetch failure, a request the spec judges differently than the case
// intends, or a target that answered no case at all (returned with the
// cases). Negative and authentication cases each use a fresh random offer
// id; the configured offer is confirmed at most twice (confirm-ok, then
// double-confirm, and the second only after the first created a booking);
// concurrent-confirm confirms an offer of its own Config.Race times. A
// group too large for the rate ceiling is an error wrapping ErrConfig.
// Run is safe to call concurrently with different Configs.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	base, err := cfg.check()
	if err != nil {
		return nil, err
	}
	r := newRunner(&cfg, base)
	res := &Result{Target: cfg.BaseURL, Embedded: cfg.Embedded, Strict: cfg.Strict, Started: r.now(),
		contexts: map[string]caseContext{}}
	creds, err := fetchCredentials(ctx, &cfg, r.red, r.now())
	if err != nil {
		if ctx.Err() != nil { // interrupted while the token endpoint was slow: nothing was sent
			res.Interrupted = true
			for _, d := range suite() {
				res.Cases = append(res.Cases, CaseResult{Name: d.name, Outcome: OutcomeSkip, Reason: "interrupted"})
			}
			res.Finished = r.now()
			res.finish()
			return res, nil
		}
		return nil, err
	}
	plans, err := plan(&cfg, base, r.policyholder, creds)
	if err != nil {
		return nil, err
	}
	if err := r.runFixed(ctx, plans, res); err != nil {
		return nil, err
	}
	if cfg.Generate > 0 && !res.Interrupted {
		if err := runGenerated(ctx, &cfg, genEnv{sender: r.sender, token: creds.write,
			loopback: egress.LiteralLoopback(base.Hostname())}, res); err != nil {
			return nil, err
		}
	}
	res.Finished = r.now()
	res.Coverage = r.sender.coverage()
	res.finish()
	if r.sent > 0 && r.answered == 0 && !res.Interrupted {
		return res, fmt.Errorf("contract: target unreachable: no case got an answer: %w", r.lastErr)
	}
	return res, nil
}

// runner runs the fixed cases of one Run, one at a time.
type runner struct {
	cfg          *Config
	now          func() time.Time
	red          *auth.Redactor
	policyholder json.RawMessage
	sender       sender

	sent, answered int
	lastErr        error  // the last transport error
	firstBooking   string // confirm-ok's booking id
	firstStatus    int    // confirm-ok's status
	confirmed      bool   // confirm-ok booked
}

func newRunner(cfg *Config, base *url.URL) *runner {
	r := &runner{cfg: cfg, now: cfg.Now, red: cfg.Redactor, policyholder: json.RawMessage(xone.DemoPolicyholder)}
	if r.now == nil {
		r.now = time.Now
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{
			Timeout: DefaultTimeout,
			// A redirect is itself an answer to judge (an undocumented 3xx).
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if r.red == nil {
		r.red = auth.NewRedactor()
	}
	if cfg.Policyholder != nil {
		r.policyholder = cfg.Policyholder
	}
	addPolicyholderSecrets(r.red, r.policyholder)
	r.sender = sender{client: client, journal: cfg.Journal, red: r.red, cov: cfg.Spec.NewCoverage()}
	return r
}

// runFixed runs the fixed cases in order. An error is the journal's: the
// suite stops before sending anything unrecorded.
func (r *runner) runFixed(ctx context.Context, plans []planned, res *Result) error {
	for i, p := range plans {
		if ctx.Err() != nil {
			res.Interrupted = true
			for _, q := range plans[i:] {
				res.contexts[q.def.name] = q.context
				res.Cases = append(res.Cases, CaseResult{Name: q.def.name, Outcome: OutcomeSkip, Reason: "interrupted"})
			}
			return nil
		}
		if p.skip == "" && p.def.kind == kindDouble {
			if !r.confirmed {
				p.skip = fmt.Sprintf("confirm-ok did not create a booking (status %d): the offer is not confirmed again", r.firstStatus)
			}
			p.context.FirstBookingID = r.firstBooking
		}
		if p.skip == "" && p.def.kind == kindRace && !r.cfg.Embedded {
			p = r.feedOffer(p)
		}
		res.contexts[p.def.name] = p.context
		if p.skip != "" {
			res.Cases = append(res.Cases, CaseResult{Name: p.def.name, Outcome: OutcomeSkip, Reason: p.skip})
			continue
		}
		run := r.runCase
		if p.def.kind == kindRace {
			run = r.race
		}
		cr, err := run(ctx, p, res)
		if err != nil {
			return err
		}
		res.Cases = append(res.Cases, cr)
	}
	return nil
}

// runCase sends one case and judges its answer.
func (r *runner) runCase(ctx context.Context, p planned, res *Result) (CaseResult, error) {
	x, err := r.sender.send(ctx, p)
	var je *journalError
	if errors.As(err, &je) {
		return CaseResult{}, je.err
	}
	r.sent++
	if err != nil {
		// The request left and no answer came back: it may have booked.
		r.lastErr = err
		cr := CaseResult{Name: p.def.name, Outcome: OutcomeError, Duration: x.duration,
			Reason: fmt.Sprintf("no answer after %s: %s", x.duration.Round(time.Millisecond), r.red.String(err.Error()))}
		if ctx.Err() != nil {
			// Cut off by the interrupt: not a finding about the target.
			res.Interrupted = true
			cr.Outcome = OutcomeSkip
			cr.Reason = "interrupted while waiting for the answer: " + cr.Reason
		}
		x.status = 0
		cr.Exchange = redactExchange(r.red, x)
		return cr, nil
	}
	r.answered++
	addResponseSecrets(r.red, x.respBody)
	cr, booking := judge(p.def, r.cfg.Spec, r.cfg.Strict, p.context, x, r.red, r.sender.cov)
	if p.def.kind == kindConfirm {
		r.firstStatus = x.status
		r.confirmed = x.status >= 200 && x.status < 300
		r.firstBooking = booking
	}
	cr.Exchange = redactExchange(r.red, x)
	scrubResult(r.red, &cr)
	return cr, nil
}

// sender sends confirms, each recorded in the journal before it leaves and
// resolved with its answer.
type sender struct {
	client  *http.Client
	journal *ledger.Journal
	red     *auth.Redactor
	cov     *spec.Coverage // which documented response members the answers exercised
}

// coverage is what the answers judged so far exercised, or nil when none
// was judged.
func (s sender) coverage() *spec.CoverageReport {
	if rep := s.cov.Report(); rep.Responses > 0 {
		return &rep
	}
	return nil
}

// journalError is a confirm the journal refused to record (an offer another
// run claimed, a failed write): it was not sent.
type journalError struct{ err error }

func (e *journalError) Error() string { return e.err.Error() }
func (e *journalError) Unwrap() error { return e.err }

// send records p's confirm, sends it and records its outcome. A
// *journalError means nothing was sent.
func (s sender) send(ctx context.Context, p planned) (rawExchange, error) {
	offer, quote := p.context.OfferID, p.context.QuoteID
	if err := s.journal.Begin(offer, quote); err != nil {
		return rawExchange{}, &journalError{fmt.Errorf("contract: %s: %w", p.def.name, err)}
	}
	x, err := send(ctx, s.client, p)
	s.resolve(p, x, err)
	return x, err
}

// resolve records the outcome of one confirm of p: its answer x, or err
// when none came back (it may have booked).
func (s sender) resolve(p planned, x rawExchange, err error) {
	row := ledger.Row{OfferID: p.context.OfferID, QuoteID: p.context.QuoteID, Status: x.status, Outcome: ledger.OutcomeOf(x.status)}
	switch {
	case err != nil:
		row.Status, row.Outcome = 0, ledger.Unknown
		row.Error = "contract case " + p.def.name + ": " + s.red.String(err.Error())
	case row.Outcome == ledger.Booked:
		row.BookingID = ledger.BookingID(x.respBody)
	case row.Outcome == ledger.Unknown:
		row.Error = fmt.Sprintf("contract case %s: HTTP %d", p.def.name, x.status)
	}
	s.journal.Resolve(row)
}

// credentials are the bearer tokens the cases send.
type credentials struct {
	write, readOnly, expired string
}

// tokenCtx is src.Token() abandoned when ctx is cancelled (the fetch is
// bounded by the source's own timeout and ends in the background).
func tokenCtx(ctx context.Context, src TokenSource) (*oauth2.Token, error) {
	type answer struct {
		tok *oauth2.Token
		err error
	}
	done := make(chan answer, 1)
	go func() {
		tok, err := src.Token()
		done <- answer{tok, err}
	}()
	select {
	case a := <-done:
		return a.tok, a.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func fetchCredentials(ctx context.Context, cfg *Config, red *auth.Redactor, now time.Time) (credentials, error) {
	var c credentials
	tok, err := tokenCtx(ctx, cfg.Tokens)
	if err != nil {
		return c, fmt.Errorf("contract: fetch token: %w", err)
	}
	if tok == nil || tok.AccessToken == "" {
		return c, errors.New("contract: fetch token: empty access token")
	}
	c.write = tok.AccessToken
	red.Add(c.write)
	if cfg.ReadOnlyTokens != nil {
		tok, err := tokenCtx(ctx, cfg.ReadOnlyTokens)
		if err != nil {
			return c, fmt.Errorf("contract: fetch read-only token: %w", err)
		}
		if tok == nil || tok.AccessToken == "" {
			return c, errors.New("contract: fetch read-only token: empty access token")
		}
		c.readOnly = tok.AccessToken
		red.Add(c.readOnly)
	}
	c.expired = cfg.ExpiredToken
	if c.expired == "" {
		c.expired = expiredJWT(now)
	}
	red.Add(c.expired)
	return c, nil
}

// plan builds every request and checks it against the spec before anything
// is sent: positive requests must validate, negative ones must be invalid
// for the reason the case is about.
func plan(cfg *Config, base *url.URL, ph json.RawMessage, creds credentials) ([]planned, error) {
	loopback := egress.LiteralLoopback(base.Hostname())
	var out []planned
	for _, d := range suite() {
		p := planned{def: d}
		offer, quote := xone.NewUUID(), xone.NewUUID()
		switch d.kind {
		case kindConfirm, kindDouble:
			if cfg.OfferID == "" || cfg.QuoteID == "" {
				p.skip = "no offer configured: set XONE_OFFER_ID and XONE_QUOTE_ID (or --offer-id/--quote-id, or --offers FILE)"
			}
			offer, quote = cfg.OfferID, cfg.QuoteID
		}
		if d.cred == credReadOnly && cfg.ReadOnlyTokens == nil {
			p.skip = "no read-only credential: set XONE_READONLY_CLIENT_ID and XONE_READONLY_CLIENT_SECRET"
		}
		if d.kind == kindRace {
			p.skip = raceSkip(cfg, loopback)
		}
		p.context = caseContext{OfferID: offer, QuoteID: quote, Loopback: loopback, SkipInvariants: cfg.SkipInvariants}
		if p.skip != "" {
			out = append(out, p)
			continue
		}
		p.url = confirmURL(cfg, offer)
		p.body = d.body(quote, ph)
		p.header = http.Header{}
		p.header.Set("Accept", "application/json")
		p.header.Set("Content-Type", d.contentType)
		p.header.Set("User-Agent", userAgent)
		switch d.cred {
		case credWrite:
			p.header.Set("Authorization", "Bearer "+creds.write)
		case credMalformed:
			p.header.Set("Authorization", "Bearer "+malformedToken)
		case credExpired:
			p.header.Set("Authorization", "Bearer "+creds.expired)
		case credReadOnly:
			p.header.Set("Authorization", "Bearer "+creds.readOnly)
		}
		if err := precheck(cfg, p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// confirmURL is the confirm endpoint of offer on cfg's target.
func confirmURL(cfg *Config, offer string) string {
	return strings.TrimRight(cfg.BaseURL, "/") + xone.ConfirmPath(url.PathEscape(cfg.PartnerID), url.PathEscape(offer))
}

func precheck(cfg *Config, p planned) error {
	req, err := http.NewRequest(http.MethodPost, p.url, bytes.NewReader(p.body))
	if err != nil {
		return fmt.Errorf("contract: %s: build request: %w", p.def.name, err)
	}
	req.Header = p.header.Clone()
	vs := cfg.Spec.ValidateRequest(req, p.body)
	for _, v := range vs {
		if v.Rule == "request-path" {
			return fmt.Errorf("contract: %s: request path does not match the spec: %s", p.def.name, v.Reason)
		}
	}
	if p.def.kind != kindNegative {
		if len(vs) == 0 {
			return nil
		}
		err := fmt.Errorf("contract: %s: request does not validate against the spec: %s %s: %s",
			p.def.name, vs[0].Rule, vs[0].Path, vs[0].Reason)
		if cfg.Policyholder != nil {
			err = fmt.Errorf("%w (check the policyholder): %w", err, ErrConfig)
		}
		return err
	}
	if why := p.def.invalidFor(vs); why != "" {
		return fmt.Errorf("contract: %s: request is not invalid for the intended reason: %s", p.def.name, why)
	}
	return nil
}

func send(ctx context.Context, client *http.Client, p planned) (rawExchange, error) {
	x := rawExchange{method: http.MethodPost, url: p.url, reqHeader: p.header.Clone(), reqBody: p.body}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(p.body))
	if err != nil {
		return x, fmt.Errorf("build request: %w", err)
	}
	req.Header = p.header.Clone()
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		x.duration = time.Since(start)
		return x, fmt.Errorf("send request: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseRead+1))
	x.duration = time.Since(start)
	if err != nil {
		return x, fmt.Errorf("read response (status %d): %w", resp.StatusCode, err)
	}
	x.cut = len(body) > maxResponseRead
	x.status, x.respHeader, x.respBody = resp.StatusCode, spec.WireHeader(resp), body[:min(len(body), maxResponseRead)]
	return x, nil
}

// expiredJWT returns a JWT-shaped token whose exp is an hour before now.
// Its signature is random: a server must reject it for expiry or signature.
func expiredJWT(now time.Time) string {
	enc := base64.RawURLEncoding
	var sig, jti [16]byte
	_, _ = rand.Read(sig[:])
	_, _ = rand.Read(jti[:])
	claims := fmt.Sprintf(`{"aud":"xoneharness","jti":"%x","iat":%d,"nbf":%d,"exp":%d,"scopes":["offers:update"]}`,
		jti, now.Add(-2*time.Hour).Unix(), now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix())
	return enc.EncodeToString([]byte(`{"typ":"JWT","alg":"RS256"}`)) + "." +
		enc.EncodeToString([]byte(claims)) + "." + enc.EncodeToString(sig[:])
}
