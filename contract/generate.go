package contract

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"

	"pgregory.net/rapid"

	"github.com/xoneharness/xoneharness/internal/xone"
	"github.com/xoneharness/xoneharness/ledger"
)

// Generated case kinds (GeneratedCase.Kind).
const (
	KindPositive = "positive" // a body the document accepts: want 2xx
	KindNegative = "negative" // one mutation the document rejects: want 4xx
)

// DefaultMaxShrinks bounds the requests spent shrinking one failing
// generated case when Config.MaxShrinks is 0.
const DefaultMaxShrinks = 50

// DefaultGenerateRate is the request rate cap (per second) of generated
// cases against a target off loopback when Config.GenerateRate is 0; the
// published limit for testing keys.
const DefaultGenerateRate = 2.0

// GeneratedPrefix starts the name of every generated case
// ("gen-positive-017").
const GeneratedPrefix = "gen-"

// GeneratedCase says how a generated case was made and, when it did not
// pass, the smallest body found that still gets the same verdict and a curl
// line that sends it (the bearer token as $TOKEN; policyholder contact
// details redacted).
type GeneratedCase struct {
	Kind string `json:"kind"`
	// Mutation names the change that makes a negative body invalid
	// ("wrong-type(number) $.quotes[0].id").
	Mutation string `json:"mutation,omitempty"`
	// MinimalBody is the shrunk request body of a case that did not pass.
	MinimalBody string `json:"minimal_body,omitempty"`
	// MinimalStatus is the status the minimal body got (0: no answer).
	MinimalStatus int `json:"minimal_status,omitempty"`
	// Curl sends MinimalBody to the same URL.
	Curl string `json:"curl,omitempty"`
	// ShrinkRequests is the number of requests spent shrinking.
	ShrinkRequests int `json:"shrink_requests,omitempty"`
}

// Generation summarises the generated cases of a run: the seed that
// replays them, how many were asked for and run, the offers and requests
// they used, and why generation stopped early ("" when it did not).
type Generation struct {
	Seed        uint64 `json:"seed"`
	Requested   int    `json:"requested"`
	Run         int    `json:"run"`
	OffersUsed  int    `json:"offers_used"`
	OfferBudget int    `json:"offer_budget,omitempty"`
	Requests    int    `json:"requests"`
	Stopped     string `json:"stopped,omitempty"`
}

// genEnv is what generated cases share with the fixed ones.
type genEnv struct {
	sender   sender
	token    string
	loopback bool
}

// generator runs the generated cases of one Run.
type generator struct {
	cfg    *Config
	env    genEnv
	schema *schemaNode
	lim    genLimits
	gen    *Generation
	res    *Result
	now    func() time.Time

	offerID, quoteID string // current offer; "" when none is held
	exhausted        bool
	interval         time.Duration
	last             time.Time
	err              error // the journal could not record a confirm: stop
}

// runGenerated sends up to cfg.Generate generated cases after the fixed
// ones and appends their results to res. An error means a generator bug (a
// positive body the spec rejects) or an unreadable request schema.
func runGenerated(ctx context.Context, cfg *Config, env genEnv, res *Result) error {
	root, err := requestSchema(cfg.Spec)
	if err != nil {
		return err
	}
	seed := cfg.Seed
	if seed == 0 {
		seed = rand.Uint64()>>1 | 1
	}
	g := &generator{cfg: cfg, env: env, schema: root, res: res, now: cfg.Now,
		gen: &Generation{Seed: seed, Requested: cfg.Generate}}
	if g.now == nil {
		g.now = time.Now
	}
	res.Generation = g.gen
	g.lim = genLimits{maxQuotes: 1, maxItems: 2}
	if cfg.NextOffer == nil {
		g.lim.maxQuotes = 3 // fresh offers of the embedded sandbox take any quote ids
	}
	if cfg.NextOffer != nil {
		g.gen.OfferBudget = cfg.GenerateOffers
		if g.gen.OfferBudget <= 0 {
			g.gen.OfferBudget = cfg.Generate
		}
	} else if !cfg.Embedded {
		g.gen.Stopped = "no offer feed for generated cases (--offers): none run"
		return nil
	}
	if !env.loopback {
		rate := cfg.GenerateRate
		if rate <= 0 {
			rate = DefaultGenerateRate
		}
		g.interval = time.Duration(float64(time.Second) / rate)
	}

	nPos, nNeg := 0, 0
	base := coverageBody(root, "$", 0)
	fixedMuts := mutations(root, base)
	pos := positiveBody(root, g.lim)
	for i := range cfg.Generate {
		if ctx.Err() != nil {
			res.Interrupted = true
			break
		}
		var c genCase
		if i%2 == 0 {
			c.kind = KindPositive
			if nPos < len(coverageStrings()) {
				c.base = coverageBody(root, "$", nPos)
			} else {
				c.base = pos.Example(caseSeed(seed, i))
			}
			nPos++
		} else {
			c.kind = KindNegative
			if nNeg < len(fixedMuts) {
				c.base, c.mut = base, fixedMuts[nNeg]
			} else {
				b := pos.Example(caseSeed(seed, i))
				ms := mutations(root, b)
				c.base, c.mut = b, ms[rand.New(rand.NewPCG(seed, uint64(i))).IntN(len(ms))]
			}
			nNeg++
		}
		c.name = fmt.Sprintf("%s%s-%03d", GeneratedPrefix, c.kind, i+1)
		done, err := g.runCase(ctx, c)
		if err == nil {
			err = g.err
		}
		if err != nil {
			return err
		}
		if !done {
			break
		}
		g.gen.Run++
	}
	return nil
}

// caseSeed derives the seed of case i from the run's seed (splitmix64).
func caseSeed(seed uint64, i int) int {
	z := seed + uint64(i+1)*0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return int((z ^ z>>31) >> 1)
}

// genCase is one generated case before it is sent.
type genCase struct {
	name, kind string
	base       any // a valid body (quote ids as placeholders)
	mut        mutation
}

// body returns the body to send for base: the mutation applied to a
// negative case.
func (c genCase) body(base any) any {
	if c.kind == KindNegative {
		return c.mut.apply(base)
	}
	return base
}

// probe is the judged answer to one generated body.
type probe struct {
	cr     CaseResult
	status int // 0: no answer
	sent   bool
	x      rawExchange
	quote  string // the quote id the body was sent with
}

// signature is what a shrunk body must keep to count as the same failure:
// the outcome and the status class.
func (p probe) signature() string {
	return fmt.Sprintf("%s/%d", p.cr.Outcome, p.status/100)
}

// runCase sends one generated case, shrinks it when it did not pass and
// appends its result. It returns false when generation must stop (offer
// feed empty, interrupted).
func (g *generator) runCase(ctx context.Context, c genCase) (bool, error) {
	if err := g.checkBody(c, c.body(c.base)); err != nil {
		return false, err
	}
	first := g.send(ctx, c, c.body(c.base))
	if !first.sent {
		return false, nil
	}
	cr := first.cr
	cr.Name = c.name
	gc := &GeneratedCase{Kind: c.kind}
	if c.kind == KindNegative {
		gc.Mutation = c.mut.String()
	}
	cr.Generated = gc
	if cr.Outcome != OutcomePass && cr.Outcome != OutcomeSkip {
		minimal, p, n := g.shrink(ctx, c, first)
		gc.ShrinkRequests = n
		body := g.env.sender.red.JSON(marshalBody(fillQuote(minimal, p.quote)))
		gc.MinimalBody = string(body)
		gc.MinimalStatus = p.status
		gc.Curl = curlLine(g.env.sender.red.String(p.x.url), body)
	}
	g.res.Cases = append(g.res.Cases, cr)
	return true, nil
}

// checkBody asserts the generator's promise: a positive body validates, a
// negative one does not. A broken promise is a generator bug, never a
// finding about the target.
func (g *generator) checkBody(c genCase, body any) error {
	b := marshalBody(fillQuote(body, xone.NewUUID()))
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1/api/partners/p/offers/"+xone.NewUUID()+"/confirm", nil)
	req.Header.Set("Content-Type", "application/json")
	vs := g.cfg.Spec.ValidateRequest(req, b)
	switch {
	case c.kind == KindPositive && len(vs) > 0:
		return fmt.Errorf("contract: generate: %s: generated positive body is invalid: %s", c.name, vs[0])
	case c.kind == KindNegative && len(vs) == 0:
		return fmt.Errorf("contract: generate: %s: mutation %s left the body valid", c.name, c.mut)
	}
	return nil
}

// valid reports whether body is what the case kind promises (checkBody
// without the error).
func (g *generator) valid(c genCase, body any) bool { return g.checkBody(c, body) == nil }

// offer returns the offer to confirm next, drawing from the feed when none
// is held; false when the feed or the budget is exhausted.
func (g *generator) offer() bool {
	if g.offerID != "" {
		return true
	}
	if g.exhausted {
		return false
	}
	if g.cfg.NextOffer == nil {
		g.offerID, g.quoteID = xone.NewUUID(), xone.NewUUID()
		g.gen.OffersUsed++
		return true
	}
	if g.gen.OffersUsed >= g.gen.OfferBudget {
		g.exhausted = true
		g.gen.Stopped = fmt.Sprintf("offer budget of %d offers used up", g.gen.OfferBudget)
		return false
	}
	o, q, ok := g.cfg.NextOffer()
	if !ok {
		g.exhausted = true
		g.gen.Stopped = fmt.Sprintf("offer feed ran out after %d offers", g.gen.OffersUsed)
		return false
	}
	g.offerID, g.quoteID = o, q
	g.gen.OffersUsed++
	return true
}

// pace waits until the next request may leave (off loopback only).
func (g *generator) pace(ctx context.Context) bool {
	if g.interval <= 0 {
		return ctx.Err() == nil
	}
	if !g.last.IsZero() {
		if d := time.Until(g.last.Add(g.interval)); d > 0 {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
				return false
			}
		}
	}
	g.last = time.Now()
	return ctx.Err() == nil
}

// send confirms body with the current offer and judges the answer. An
// accepted confirm, or one that may have booked, consumes the offer; a
// refusal keeps it for the next case. Every confirm is in the journal
// before it leaves and resolved with its answer. A journal that cannot
// record it stops generation (g.err for a failed write).
func (g *generator) send(ctx context.Context, c genCase, body any) probe {
	if g.err != nil || !g.offer() || !g.pace(ctx) {
		return probe{}
	}
	raw := marshalBody(fillQuote(body, g.quoteID))
	u := confirmURL(g.cfg, g.offerID)
	d := caseDef{name: c.name, kind: kindConfirm, cred: credWrite, contentType: "application/json"}
	if c.kind == KindNegative {
		d.kind, d.knownStatuses = kindNegative, []int{422, 400}
	}
	cc := caseContext{OfferID: g.offerID, QuoteID: g.quoteID, Loopback: g.env.loopback, SkipInvariants: g.cfg.SkipInvariants}
	p := planned{def: d, url: u, body: raw, header: http.Header{}, context: cc}
	p.header.Set("Accept", "application/json")
	p.header.Set("Content-Type", "application/json")
	p.header.Set("User-Agent", userAgent)
	p.header.Set("Authorization", "Bearer "+g.env.token)
	x, err := g.env.sender.send(ctx, p)
	if g.journalRefused(err) {
		return probe{}
	}
	g.gen.Requests++
	out := probe{sent: true, x: x, quote: g.quoteID}
	red := g.env.sender.red
	var cr CaseResult
	if err != nil {
		if ctx.Err() != nil {
			g.res.Interrupted = true
			return probe{}
		}
		cr = CaseResult{Name: c.name, Outcome: OutcomeError, Duration: x.duration, Reason: "no answer: " + red.String(err.Error())}
		x.status = 0
	} else {
		addResponseSecrets(red, x.respBody)
		cr, _ = judge(d, g.cfg.Spec, g.cfg.Strict, cc, x, red, g.env.sender.cov)
		cr = g.refusal(cr, c, d, x)
	}
	cr.Exchange = redactExchange(red, x)
	scrubResult(red, &cr)
	out.cr, out.status = cr, x.status
	if err == nil && x.status >= 400 && x.status < 500 {
		return out // refused: the offer is still unconfirmed
	}
	g.offerID, g.quoteID = "", "" // consumed, or perhaps consumed: never confirm it again
	return out
}

// journalRefused reports whether the journal refused to record a confirm
// (nothing was sent), and stops generation: an offer another run claimed
// ends the feed, a failed write is the run's error.
func (g *generator) journalRefused(err error) bool {
	var je *journalError
	if !errors.As(err, &je) {
		return false
	}
	var ce *ledger.ClaimedError
	if errors.As(err, &ce) {
		g.exhausted = true
		g.gen.Stopped = ce.Error()
		g.offerID, g.quoteID = "", ""
		return true
	}
	g.err = je.err
	return true
}

// refusal adjusts the judge's verdict on a 4xx refusal of a generated body.
func (g *generator) refusal(cr CaseResult, c genCase, d caseDef, x rawExchange) CaseResult {
	refused := x.status >= 400 && x.status < 500 && x.status != http.StatusUnauthorized &&
		x.status != http.StatusTooManyRequests
	switch {
	case refused && c.kind == KindPositive:
		return refusedValid(cr, x.status, g.cfg.Strict, errorMessage(g.env.sender.red.JSON(x.respBody)))
	case refused && slices.Contains(d.knownStatuses, x.status):
		// The fixed negative cases already report the undocumented status
		// the API is known to refuse with; a generated case checks only
		// that the body is refused.
		return withoutRule(cr, specRuleStatusUndocumented, g.cfg.Strict)
	}
	return cr
}

// withoutRule drops the violations of rule from cr and judges it again.
func withoutRule(cr CaseResult, rule string, strict bool) CaseResult {
	cr.Violations = slices.DeleteFunc(cr.Violations, func(v Violation) bool { return v.Rule == rule })
	cr.Outcome = outcomeOf(cr.Violations)
	if cr.Outcome == OutcomeDrift && strict {
		cr.Outcome = OutcomeFail
	}
	return cr
}

// refusedValid turns the judge's verdict on a 4xx to a positive body into
// drift: the document accepts the body, the API refuses it.
func refusedValid(cr CaseResult, status int, strict bool, msg string) CaseResult {
	var vs []Violation
	for _, v := range cr.Violations {
		if v.Rule != RuleStatus && v.Rule != specRuleStatusUndocumented {
			vs = append(vs, v)
		}
	}
	vs = append(vs, Violation{Rule: RuleStatusUnexpected, Expected: "2xx", Observed: fmt.Sprint(status),
		Message: "the document accepts this body, the API refuses it"})
	cr.Violations = vs
	cr.Outcome = OutcomeDrift
	for _, v := range vs {
		if !isDriftRule(v.Rule) {
			cr.Outcome = OutcomeFail
		}
	}
	cr.Reason = fmt.Sprintf("the document accepts this body, the API refuses it with %d%s", status, withMsg(msg))
	if cr.Outcome == OutcomeDrift && strict {
		cr.Outcome = OutcomeFail
		cr.Reason = "strict: " + cr.Reason
	}
	return cr
}

// shrink searches, with rapid's shrinker, for the smallest variant of the
// case's body that gets the same verdict as first, sending every
// candidate (at most MaxShrinks requests). It returns the smallest body,
// its probe and the number of requests spent.
func (g *generator) shrink(ctx context.Context, c genCase, first probe) (any, probe, int) {
	budget := g.cfg.MaxShrinks
	if budget == 0 {
		budget = DefaultMaxShrinks
	}
	best, bestProbe := c.body(c.base), first
	if budget < 0 {
		return best, bestProbe, 0
	}
	want := first.signature()
	cache := map[string]probe{}
	spent := 0
	var keep []string
	if c.kind == KindNegative {
		keep = []string{renderPath(c.mut.Path)}
	}
	prop := func(t *rapid.T) {
		base := reduce(t, g.schema, c.base, "$", keep, g.lim)
		body := c.body(base)
		if !g.valid(c, body) {
			return // not a body of this kind: not a counterexample
		}
		key := string(marshalBody(body))
		p, ok := cache[key]
		if !ok {
			if spent >= budget || ctx.Err() != nil {
				return
			}
			p = g.send(ctx, c, body)
			if !p.sent { // no offer left, interrupted: nothing went out, and nothing will
				budget = spent
				return
			}
			spent++
			cache[key] = p
		}
		if p.signature() == want {
			// rapid calls prop last with the smallest failing input it found.
			best, bestProbe = body, p
			t.Fatalf("same verdict")
		}
	}
	func() {
		// rapid.Check needs the testing package initialised (go test, or
		// cmd's setup); without it the case keeps its original body.
		defer func() { _ = recover() }()
		rapid.Check(&quietTB{name: "xoneharness-" + c.name}, prop)
	}()
	return best, bestProbe, spent
}

// quietTB is the rapid.TB the shrinker reports to: it records failure and
// discards rapid's log.
type quietTB struct {
	name   string
	failed bool
}

func (q *quietTB) Helper()               {}
func (q *quietTB) Name() string          { return q.name }
func (q *quietTB) Logf(string, ...any)   {}
func (q *quietTB) Log(...any)            {}
func (q *quietTB) Skipf(string, ...any)  {}
func (q *quietTB) Skip(...any)           {}
func (q *quietTB) SkipNow()              {}
func (q *quietTB) Errorf(string, ...any) { q.failed = true }
func (q *quietTB) Error(...any)          { q.failed = true }
func (q *quietTB) Fatalf(string, ...any) { q.failed = true }
func (q *quietTB) Fatal(...any)          { q.failed = true }
func (q *quietTB) FailNow()              { q.failed = true }
func (q *quietTB) Fail()                 { q.failed = true }
func (q *quietTB) Failed() bool          { return q.failed }

// curlLine is a shell command that sends body to u with the bearer token
// taken from $TOKEN.
func curlLine(u string, body []byte) string {
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
	return "curl -sS -X POST " + q(u) + ` -H "Authorization: Bearer $TOKEN"` +
		" -H 'Content-Type: application/json' -H 'Accept: application/json' --data-binary " + q(string(body))
}
