package contract

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/xoneharness/xoneharness/internal/auth"
	"github.com/xoneharness/xoneharness/internal/egress"
	"github.com/xoneharness/xoneharness/internal/xone"
	"github.com/xoneharness/xoneharness/ledger"
	"github.com/xoneharness/xoneharness/spec"
)

const (
	maxResponseRead = 8 << 20                // bytes of a response body Run reads
	userAgent       = "xoneharness-contract" // sent with every request
)

// planned is one case ready to send, or skipped.
type planned struct {
	def       caseDef
	skip, url string
	header    http.Header
	body      []byte
	context   caseContext
}

// caseContext is what judging a case needs besides the exchange, recorded for Replay.
type caseContext struct {
	OfferID        string   `json:"offer_id,omitempty"`
	QuoteID        string   `json:"quote_id,omitempty"`
	Loopback       bool     `json:"loopback,omitempty"`
	SkipInvariants []string `json:"skip_invariants,omitempty"`
	FirstBookingID string   `json:"first_booking_id,omitempty"` // double-confirm only
}

// rawExchange is an unredacted request and response.
type rawExchange struct {
	method, url           string
	reqHeader, respHeader http.Header
	reqBody, respBody     []byte
	status                int
	duration              time.Duration
	cut                   bool // the body was longer than maxResponseRead: respBody is its first part
}

// Run runs every case once in suite order, one request at a time (but
// concurrent-confirm's group), then cfg.Generate generated cases; findings
// are in the Result. A case without an answer gets outcome error; a cancelled
// ctx skips the cases not yet run (Result.Interrupted). Every confirm is in
// cfg.Journal before it leaves; the configured offer is confirmed at most
// twice (double-confirm only after confirm-ok booked), the other cases use
// fresh offers. An error means the suite could not do its job: a bad Config
// or a race group the rate ceiling can never release (ErrConfig), the journal
// (*ledger.ClaimedError, a failed write), a token fetch, a request the spec
// judges differently than the case intends, or no answer to any case
// (returned with the cases). Safe to call concurrently with different Configs.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	base, err := cfg.check()
	if err != nil {
		return nil, err
	}
	r := newRunner(&cfg)
	res := &Result{Target: cfg.BaseURL, Embedded: cfg.Embedded, Strict: cfg.Strict, Started: r.now(),
		contexts: map[string]caseContext{}}
	var plans []planned
	creds, err := fetchCredentials(ctx, &cfg, r.red, r.now())
	switch {
	case err != nil && ctx.Err() != nil: // interrupted while the token endpoint was slow: runFixed skips every case
		for _, d := range suite() {
			plans = append(plans, planned{def: d})
		}
	case err != nil:
		return nil, err
	default:
		if plans, err = plan(&cfg, base, r.policyholder, creds); err != nil {
			return nil, err
		}
	}
	err = r.runFixed(ctx, plans, res)
	if err == nil && cfg.Generate > 0 && !res.Interrupted {
		err = runGenerated(ctx, &cfg, r.sender, creds[credWrite], egress.LiteralLoopback(base.Hostname()), res)
	}
	if err != nil {
		return nil, err
	}
	res.Finished = r.now()
	res.Coverage = coverage(r.sender.cov)
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
}

func newRunner(cfg *Config) *runner {
	r := &runner{cfg: cfg, now: cfg.Now, red: cmp.Or(cfg.Redactor, auth.NewRedactor()), policyholder: cfg.Policyholder}
	if r.now == nil {
		r.now = time.Now
	}
	if r.policyholder == nil {
		r.policyholder = json.RawMessage(xone.DemoPolicyholder)
	}
	addSecrets(r.red, r.policyholder)
	client := cmp.Or(cfg.HTTPClient, &http.Client{Timeout: defaultTimeout,
		// A redirect is itself an answer to judge (an undocumented 3xx).
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }})
	r.sender = sender{client: client, journal: cfg.Journal, red: r.red, cov: cfg.Spec.NewCoverage()}
	return r
}

// runFixed runs the fixed cases in order. An error is the journal's: the
// suite stops before sending anything unrecorded.
func (r *runner) runFixed(ctx context.Context, plans []planned, res *Result) error {
	for _, p := range plans {
		if ctx.Err() != nil {
			res.Interrupted, p.skip = true, "interrupted"
		}
		if p.skip == "" && p.def.kind == kindDouble {
			if r.firstStatus < 200 || r.firstStatus >= 300 {
				p.skip = fmt.Sprintf("confirm-ok did not create a booking (status %d): the offer is not confirmed again", r.firstStatus)
			}
			p.context.FirstBookingID = r.firstBooking
		}
		if p.skip == "" && p.def.kind == kindRace && !r.cfg.Embedded { // its offer comes from the feed
			if o, q, ok := r.cfg.NextOffer(); !ok {
				p.skip = "the offer feed (--offers) has no offer left for the race check"
			} else {
				p.context.OfferID, p.context.QuoteID = o, q
				p.url, p.body = confirmURL(r.cfg, o), p.def.body(q, r.policyholder)
			}
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
	x, sent, err := r.sender.send(ctx, p)
	if !sent {
		return CaseResult{}, err
	}
	r.sent++
	if err != nil { // the request left and no answer came back: it may have booked
		r.lastErr = err
		cr := CaseResult{Name: p.def.name, Outcome: OutcomeError, Duration: x.duration,
			Reason: fmt.Sprintf("no answer after %s: %s", x.duration.Round(time.Millisecond), r.red.String(err.Error()))}
		if ctx.Err() != nil { // cut off by the interrupt: not a finding about the target
			res.Interrupted, cr.Outcome, cr.Reason = true, OutcomeSkip, "interrupted while waiting for the answer: "+cr.Reason
		}
		cr.Exchange = redactExchange(r.red, x)
		return cr, nil
	}
	r.answered++
	addSecrets(r.red, x.respBody)
	cr, booking := judge(p.def, r.cfg.Spec, r.cfg.Strict, p.context, x, r.red, r.sender.cov)
	if p.def.kind == kindConfirm {
		r.firstStatus, r.firstBooking = x.status, booking
	}
	cr.Exchange = redactExchange(r.red, x)
	scrubResult(r.red, &cr)
	return cr, nil
}

// sender sends confirms, each in the journal before it leaves.
type sender struct {
	client  *http.Client
	journal *ledger.Journal
	red     *auth.Redactor
	cov     *spec.Coverage // which documented response members the answers exercised
}

// coverage is what the answers judged with cov exercised; nil when none was judged.
func coverage(cov *spec.Coverage) *spec.CoverageReport {
	if rep := cov.Report(); rep.Responses > 0 {
		return &rep
	}
	return nil
}

// send records p's confirm in the journal, sends it and records its outcome
// (x.status 0 when err says why no answer came). When the journal refuses it
// (an offer another run claimed, a failed write) sent is false, err its error.
func (s sender) send(ctx context.Context, p planned) (x rawExchange, sent bool, err error) {
	if err := s.journal.Begin(p.context.OfferID, p.context.QuoteID); err != nil {
		return rawExchange{}, false, fmt.Errorf("contract: %s: %w", p.def.name, err)
	}
	defer func() { s.resolve(p, x, err) }()
	x = rawExchange{method: http.MethodPost, url: p.url, reqHeader: p.header.Clone(), reqBody: p.body}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(p.body))
	if err != nil {
		return x, true, fmt.Errorf("build request: %w", err)
	}
	req.Header = p.header.Clone()
	start := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		x.duration = time.Since(start)
		return x, true, fmt.Errorf("send request: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseRead+1))
	x.duration = time.Since(start)
	if err != nil {
		return x, true, fmt.Errorf("read response (status %d): %w", resp.StatusCode, err)
	}
	x.cut = len(body) > maxResponseRead
	x.status, x.respHeader, x.respBody = resp.StatusCode, spec.WireHeader(resp), body[:min(len(body), maxResponseRead)]
	return x, true, nil
}

// resolve records in the journal x, the answer to one confirm of p, or err
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

// fetchCredentials returns the bearer tokens the cases send (none for
// credNone), fetching those of cfg, and adds them to red.
func fetchCredentials(ctx context.Context, cfg *Config, red *auth.Redactor, now time.Time) (map[credential]string, error) {
	c := map[credential]string{credMalformed: malformedToken, credExpired: cmp.Or(cfg.ExpiredToken, expiredJWT(now))}
	var err error
	if c[credWrite], err = fetchToken(ctx, cfg.Tokens, "token", red); err != nil {
		return nil, err
	}
	if cfg.ReadOnlyTokens != nil {
		if c[credReadOnly], err = fetchToken(ctx, cfg.ReadOnlyTokens, "read-only token", red); err != nil {
			return nil, err
		}
	}
	red.Add(c[credExpired])
	return c, nil
}

// fetchToken returns src's access token, added to red; what names it in
// errors. A cancelled ctx abandons the fetch (the source's own timeout ends it).
func fetchToken(ctx context.Context, src oauth2.TokenSource, what string, red *auth.Redactor) (string, error) {
	type answer struct {
		tok *oauth2.Token
		err error
	}
	done := make(chan answer, 1)
	go func() {
		tok, err := src.Token()
		done <- answer{tok, err}
	}()
	var a answer
	select {
	case a = <-done:
	case <-ctx.Done():
		a.err = ctx.Err()
	}
	switch {
	case a.err != nil:
		return "", fmt.Errorf("contract: fetch %s: %w", what, a.err)
	case a.tok == nil || a.tok.AccessToken == "":
		return "", fmt.Errorf("contract: fetch %s: empty access token", what)
	}
	red.Add(a.tok.AccessToken)
	return a.tok.AccessToken, nil
}

// confirmHeader is the header of a confirm with token as the bearer token ("" for none).
func confirmHeader(contentType, token string) http.Header {
	h := http.Header{"Accept": {"application/json"}, "Content-Type": {contentType}, "User-Agent": {userAgent}}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	return h
}

// plan builds every request and prechecks it before anything is sent.
func plan(cfg *Config, base *url.URL, ph json.RawMessage, creds map[credential]string) ([]planned, error) {
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
		p.header = confirmHeader(d.contentType, creds[d.cred])
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

// precheck checks p's request against the spec: a positive one must
// validate, a negative one must be invalid for the reason the case is about.
func precheck(cfg *Config, p planned) error {
	req, err := http.NewRequest(http.MethodPost, p.url, bytes.NewReader(p.body))
	if err != nil {
		return fmt.Errorf("contract: %s: build request: %w", p.def.name, err)
	}
	req.Header = p.header.Clone()
	vs := cfg.Spec.ValidateRequest(req, p.body)
	if i := slices.IndexFunc(vs, isRule(spec.RuleRequestPath)); i >= 0 {
		return fmt.Errorf("contract: %s: request path does not match the spec: %s", p.def.name, vs[i].Reason)
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
