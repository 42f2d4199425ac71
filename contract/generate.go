package contract

import (
	"cmp"
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
	"github.com/xoneharness/xoneharness/spec"
)

// Generated case kinds (GeneratedCase.Kind).
const (
	KindPositive = "positive" // a body the document accepts: want 2xx
	KindNegative = "negative" // one mutation the document rejects: want 4xx
)

const (
	// DefaultMaxShrinks bounds the requests spent shrinking one failing generated case when Config.MaxShrinks is 0.
	DefaultMaxShrinks = 50
	// DefaultGenerateRate caps generated requests per second off loopback when Config.GenerateRate is 0: the
	// published limit for testing keys.
	DefaultGenerateRate = 2.0
	// GeneratedPrefix starts the name of every generated case ("gen-positive-017").
	GeneratedPrefix = "gen-"
)

// GeneratedCase says how a generated case was made and, when it did not
// pass, the smallest body found that still gets the same verdict and a curl
// line that sends it (the bearer token as $TOKEN; contact details redacted).
type GeneratedCase struct {
	Kind           string `json:"kind"`
	Mutation       string `json:"mutation,omitempty"`        // what makes a negative body invalid ("wrong-type(number) $.quotes[0].id")
	MinimalBody    string `json:"minimal_body,omitempty"`    // the shrunk body of a case that did not pass
	MinimalStatus  int    `json:"minimal_status,omitempty"`  // the status it got (0: no answer)
	Curl           string `json:"curl,omitempty"`            // sends MinimalBody to the same URL
	ShrinkRequests int    `json:"shrink_requests,omitempty"` // requests spent shrinking
}

// Generation summarises the generated cases of a run: the seed that replays
// them, what they used, and why generation stopped early ("" when it did not).
type Generation struct {
	Seed        uint64 `json:"seed"`
	Requested   int    `json:"requested"`
	Run         int    `json:"run"`
	OffersUsed  int    `json:"offers_used"`
	OfferBudget int    `json:"offer_budget,omitempty"`
	Requests    int    `json:"requests"`
	Stopped     string `json:"stopped,omitempty"`
}

// generator runs the generated cases of one Run.
type generator struct {
	cfg      *Config
	sender   sender // the fixed cases'
	token    string
	loopback bool
	schema   *schemaNode
	gen      *Generation
	res      *Result

	offerID, quoteID string // current offer; "" when none is held
	interval         time.Duration
	last             time.Time
	err              error // the journal could not record a confirm: stop
}

// runGenerated sends up to cfg.Generate generated cases and appends their
// results to res. An error is the journal's, a generator bug (a positive
// body the spec rejects) or an unreadable request schema.
func runGenerated(ctx context.Context, cfg *Config, s sender, token string, loopback bool, res *Result) error {
	root, err := requestSchema(cfg.Spec)
	if err != nil {
		return err
	}
	setupRapid()
	seed := cmp.Or(cfg.Seed, rand.Uint64()>>1|1)
	g := &generator{cfg: cfg, sender: s, token: token, loopback: loopback, schema: root, res: res,
		gen: &Generation{Seed: seed, Requested: cfg.Generate}}
	res.Generation = g.gen
	maxQuotes := 3 // fresh offers of the embedded sandbox take any quote ids
	switch {
	case cfg.NextOffer != nil:
		maxQuotes = 1
		g.gen.OfferBudget = cmp.Or(max(cfg.GenerateOffers, 0), cfg.Generate)
	case !cfg.Embedded:
		g.gen.Stopped = "no offer feed for generated cases (--offers): none run"
		return nil
	}
	if !loopback {
		g.interval = time.Duration(float64(time.Second) / cmp.Or(max(cfg.GenerateRate, 0), DefaultGenerateRate))
	}
	base := coverageBody(root, "$", 0)
	fixedMuts := mutations(root, base)
	pos := positiveBody(root, maxQuotes)
	for i := range cfg.Generate {
		if ctx.Err() != nil {
			res.Interrupted = true
			break
		}
		// Positive and negative cases alternate; the first of each kind
		// are the coverage bodies and the mutations of the first.
		c, k := genCase{kind: KindPositive}, i/2
		switch {
		case i%2 == 0 && k < len(coverageStrings()):
			c.base = coverageBody(root, "$", k)
		case i%2 == 0:
			c.base = pos.Example(caseSeed(seed, i))
		case k < len(fixedMuts):
			c.kind, c.base, c.mut = KindNegative, base, fixedMuts[k]
		default:
			b := pos.Example(caseSeed(seed, i))
			ms := mutations(root, b)
			c.kind, c.base, c.mut = KindNegative, b, ms[rand.New(rand.NewPCG(seed, uint64(i))).IntN(len(ms))]
		}
		c.name = fmt.Sprintf("%s%s-%03d", GeneratedPrefix, c.kind, i+1)
		done, err := g.runCase(ctx, c)
		if err = cmp.Or(err, g.err); err != nil {
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

// body is base with a negative case's mutation applied.
func (c genCase) body(base any) any {
	if c.kind == KindNegative {
		return c.mut.apply(base)
	}
	return base
}

// probe is the judged answer to one generated body (cr.Status 0: no answer).
type probe struct {
	cr    CaseResult
	sent  bool
	x     rawExchange
	quote string // the quote id the body was sent with
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
	gc := &GeneratedCase{Kind: c.kind}
	if c.kind == KindNegative {
		gc.Mutation = c.mut.String()
	}
	cr.Generated = gc
	if cr.Outcome != OutcomePass && cr.Outcome != OutcomeSkip {
		minimal, p, n := g.shrink(ctx, c, first)
		gc.ShrinkRequests = n
		body := g.sender.red.JSON(withQuote(minimal, p.quote))
		gc.MinimalBody, gc.MinimalStatus = string(body), p.cr.Status
		gc.Curl = curlLine(g.sender.red.String(p.x.url), body)
	}
	g.res.Cases = append(g.res.Cases, cr)
	return true, nil
}

// checkBody asserts the generator's promise: a positive body validates, a
// negative one does not. A broken promise is a generator bug, never a
// finding about the target.
func (g *generator) checkBody(c genCase, body any) error {
	b := withQuote(body, xone.NewUUID())
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1"+xone.ConfirmPath("p", xone.NewUUID()), nil)
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

// offer makes sure an offer is held (from the feed, or fresh); false when generation stopped.
func (g *generator) offer() bool {
	switch {
	case g.offerID != "":
		return true
	case g.gen.Stopped != "":
		return false
	case g.cfg.NextOffer == nil:
		g.offerID, g.quoteID = xone.NewUUID(), xone.NewUUID()
	case g.gen.OffersUsed >= g.gen.OfferBudget:
		g.gen.Stopped = fmt.Sprintf("offer budget of %d offers used up", g.gen.OfferBudget)
		return false
	default:
		o, q, ok := g.cfg.NextOffer()
		if !ok {
			g.gen.Stopped = fmt.Sprintf("offer feed ran out after %d offers", g.gen.OffersUsed)
			return false
		}
		g.offerID, g.quoteID = o, q
	}
	g.gen.OffersUsed++
	return true
}

// pace waits until the next request may leave (off loopback only).
func (g *generator) pace(ctx context.Context) bool {
	if g.interval > 0 && !g.last.IsZero() {
		t := time.NewTimer(time.Until(g.last.Add(g.interval)))
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return false
		}
	}
	g.last = time.Now()
	return ctx.Err() == nil
}

// send confirms body with the current offer and judges the answer. A
// refusal keeps the offer for the next case; any other answer, or none,
// consumes it. A journal that cannot record the confirm stops generation
// (g.err for a failed write).
func (g *generator) send(ctx context.Context, c genCase, body any) probe {
	if g.err != nil || !g.offer() || !g.pace(ctx) {
		return probe{}
	}
	raw := withQuote(body, g.quoteID)
	d := caseDef{name: c.name, kind: kindConfirm, cred: credWrite, contentType: "application/json"}
	if c.kind == KindNegative {
		d.kind, d.knownStatuses = kindNegative, []int{422, 400}
	}
	cc := caseContext{OfferID: g.offerID, QuoteID: g.quoteID, Loopback: g.loopback, SkipInvariants: g.cfg.SkipInvariants}
	p := planned{def: d, url: confirmURL(g.cfg, g.offerID), body: raw,
		header: confirmHeader("application/json", g.token), context: cc}
	x, sent, err := g.sender.send(ctx, p)
	if !sent { // an offer another run claimed ends the feed, a failed journal write is the run's error
		if ce := (*ledger.ClaimedError)(nil); errors.As(err, &ce) {
			g.gen.Stopped, g.offerID, g.quoteID = ce.Error(), "", ""
		} else {
			g.err = err
		}
		return probe{}
	}
	g.gen.Requests++
	red := g.sender.red
	var cr CaseResult
	if err != nil {
		if ctx.Err() != nil {
			g.res.Interrupted = true
			return probe{}
		}
		cr = CaseResult{Name: c.name, Outcome: OutcomeError, Duration: x.duration, Reason: "no answer: " + red.String(err.Error())}
	} else {
		addSecrets(red, x.respBody)
		cr, _ = judge(d, g.cfg.Spec, g.cfg.Strict, cc, x, red, g.sender.cov)
		cr = g.refusal(cr, c, d, x)
	}
	cr.Exchange = redactExchange(red, x)
	scrubResult(red, &cr)
	out := probe{cr: cr, sent: true, x: x, quote: g.quoteID}
	if err != nil || x.status < 400 || x.status >= 500 { // consumed, or perhaps consumed: never confirm it again
		g.offerID, g.quoteID = "", ""
	}
	return out
}

// refusal adjusts the judge's verdict on a 4xx refusal of a generated body.
func (g *generator) refusal(cr CaseResult, c genCase, d caseDef, x rawExchange) CaseResult {
	if x.status < 400 || x.status >= 500 || x.status == http.StatusUnauthorized || x.status == http.StatusTooManyRequests {
		return cr
	}
	switch {
	case c.kind == KindPositive: // drift: the document accepts the body, the API refuses it
		cr.Violations = slices.DeleteFunc(cr.Violations, func(v Violation) bool {
			return v.Rule == RuleStatus || v.Rule == spec.RuleStatusUndocumented
		})
		cr.add(RuleStatusUnexpected, "", "2xx", fmt.Sprint(x.status), "the document accepts this body, the API refuses it")
		cr.Outcome = outcomeOf(cr.Violations)
		cr.Reason = fmt.Sprintf("the document accepts this body, the API refuses it with %d%s",
			x.status, withMsg(errorMessage(g.sender.red.JSON(x.respBody))))
		cr.strictly(g.cfg.Strict)
	case slices.Contains(d.knownStatuses, x.status):
		// The fixed negative cases already report the undocumented status
		// the API is known to refuse with; a generated case checks only
		// that the body is refused.
		cr.Violations = slices.DeleteFunc(cr.Violations, isRule(spec.RuleStatusUndocumented))
		if cr.Outcome = outcomeOf(cr.Violations); cr.Outcome == OutcomeDrift && g.cfg.Strict {
			cr.Outcome = OutcomeFail // the reason already says "strict: "
		}
	}
	return cr
}

// shrink searches, with rapid's shrinker, for the smallest variant of the
// case's body that gets the same verdict as first, sending every
// candidate (at most MaxShrinks requests). It returns the smallest body,
// its probe and the number of requests spent.
func (g *generator) shrink(ctx context.Context, c genCase, first probe) (any, probe, int) {
	budget := cmp.Or(g.cfg.MaxShrinks, DefaultMaxShrinks)
	best, bestProbe := c.body(c.base), first
	if budget < 0 {
		return best, bestProbe, 0
	}
	cache := map[string]probe{}
	spent := 0
	var keep []string
	if c.kind == KindNegative {
		keep = []string{renderPath(c.mut.Path)}
	}
	prop := func(t *rapid.T) {
		base := reduce(t, g.schema, c.base, "$", keep)
		body := c.body(base)
		if g.checkBody(c, body) != nil {
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
		if p.cr.Outcome == first.cr.Outcome && p.cr.Status/100 == first.cr.Status/100 { // the same failure
			// rapid calls prop last with the smallest failing input it found.
			best, bestProbe = body, p
			t.Fatalf("same verdict")
		}
	}
	rapid.Check(&quietTB{name: "xoneharness-" + c.name}, prop)
	return best, bestProbe, spent
}

// quietTB is the rapid.TB the shrinker reports to: it records failure, discards the log.
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

// curlLine is a shell command that sends body to u with the bearer token $TOKEN.
func curlLine(u string, body []byte) string {
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
	return "curl -sS -X POST " + q(u) + ` -H "Authorization: Bearer $TOKEN"` +
		" -H 'Content-Type: application/json' -H 'Accept: application/json' --data-binary " + q(string(body))
}
