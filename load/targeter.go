package load

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"golang.org/x/oauth2"

	"github.com/xoneharness/xoneharness/internal/xone"
	"github.com/xoneharness/xoneharness/ledger"
)

// jsonCT is read-only: shared by every request's header.
var jsonCT = []string{"application/json"}

// Errors that end the attack from the targeter (vegeta stops on them).
var (
	errFeedEnded   = errors.New("load: offer feed ended")
	errTokenSource = errors.New("load: token source failing")
)

// targeter is the vegeta.Targeter of a run: for each request a fresh offer
// from the feed, recorded in the journal before it leaves, the current
// bearer token and the confirm body. vegeta's workers call it concurrently:
// its own state is atomics and the inflight map under mu.
type targeter struct {
	feed      Feed
	journal   *ledger.Journal
	bearer    *bearer
	body      xone.ConfirmBody
	urlPrefix string
	stop      *stopper

	idemHeader, idemPrefix string        // the optional per-request idempotency header
	idemSeq                atomic.Uint64 // its last value

	primed  atomic.Pointer[Offer] // the feed's first offer, begun before the attack
	starved atomic.Uint64         // sends late because the feed kept them waiting

	mu       sync.Mutex
	inflight map[string][]flight // offer id -> its confirms in flight, oldest first
}

// flight is a confirm sent and not yet accounted for: its offer and the
// token it carried.
type flight struct {
	offer Offer
	tok   *oauth2.Token
}

// prime takes the feed's first offer and records it before the attack
// starts: a stream's first row may come a moment after the process starts
// (a generator piped in), and a feed whose first offer is bad, or claimed by
// another run, sends nothing (the error wraps ErrFeed).
func (t *targeter) prime() error {
	o, _, ok := t.feed.Next()
	if !ok {
		if err := t.feed.Err(); err != nil {
			return fmt.Errorf("%w: %w", ErrFeed, err)
		}
		return fmt.Errorf("%w: no offers", ErrFeed)
	}
	if err := t.journal.Begin(o.OfferID, o.QuoteID); err != nil {
		var ce *ledger.ClaimedError
		if errors.As(err, &ce) {
			return fmt.Errorf("%w: %w", ErrFeed, err)
		}
		return fmt.Errorf("%w: %w", ErrJournal, err)
	}
	t.primed.Store(&o)
	return nil
}

// target implements vegeta.Targeter.
func (t *targeter) target(tg *vegeta.Target) error {
	_, err := t.hit(tg)
	return err
}

// hit fills tg with the next confirm and returns its offer.
func (t *targeter) hit(tg *vegeta.Target) (Offer, error) {
	ah, err := t.bearer.header()
	if err != nil {
		t.stop.end(stopTokens, nil)
		return Offer{}, fmt.Errorf("%w: %w", errTokenSource, err)
	}
	o, err := t.next()
	if err != nil {
		return o, err
	}
	tg.Method = http.MethodPost
	tg.URL = t.urlPrefix + o.OfferID + xone.ConfirmSuffix
	tg.Body = t.body.For(o.QuoteID)
	h := make(http.Header, 4)
	h["Content-Type"], h["Accept"], h["Authorization"] = jsonCT, jsonCT, ah.hdr
	if t.idemHeader != "" {
		h[t.idemHeader] = []string{t.idemPrefix + strconv.FormatUint(t.idemSeq.Add(1), 10)}
	}
	tg.Header = h
	t.mu.Lock()
	t.inflight[o.OfferID] = append(t.inflight[o.OfferID], flight{offer: o, tok: ah.tok})
	t.mu.Unlock()
	return o, nil
}

// next returns the next offer, recorded in the journal. A feed that ended,
// an offer another run claimed and a journal that cannot be written stop the
// attack.
func (t *targeter) next() (Offer, error) {
	if p := t.primed.Swap(nil); p != nil {
		return *p, nil // begun by prime
	}
	o, waited, ok := t.feed.Next()
	if !ok {
		if err := t.feed.Err(); err != nil {
			t.stop.end(stopFeedError+err.Error(), nil)
		} else {
			t.stop.end(stopExhausted, nil)
		}
		return o, errFeedEnded
	}
	if waited > lateThreshold {
		t.starved.Add(1) // this send is late because the feed was
	}
	if err := t.journal.Begin(o.OfferID, o.QuoteID); err != nil {
		var ce *ledger.ClaimedError
		if errors.As(err, &ce) {
			t.stop.end(stopFeedError+err.Error(), nil)
			return o, errFeedEnded
		}
		err = fmt.Errorf("%w: %w", ErrJournal, err)
		t.stop.end(stopJournal, err)
		return o, err
	}
	return o, nil
}

// landed removes the oldest confirm of offerID in flight and returns it.
func (t *targeter) landed(offerID string) (flight, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	q := t.inflight[offerID]
	if len(q) == 0 {
		return flight{offer: Offer{OfferID: offerID}}, false
	}
	if len(q) == 1 {
		delete(t.inflight, offerID)
	} else {
		t.inflight[offerID] = q[1:]
	}
	return q[0], true
}

// unanswered returns, and forgets, the confirms still in flight: sent, and
// no result came back (vegeta dropped them when the run stopped).
func (t *targeter) unanswered() []flight {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []flight
	for _, q := range t.inflight {
		out = append(out, q...)
	}
	clear(t.inflight)
	return out
}

// bearer hands out the run's current token and its Authorization header,
// retrying a failed fetch. Its state is atomics: vegeta's workers call it
// concurrently.
type bearer struct {
	src     oauth2.TokenSource
	timeout time.Duration // how long a failing source is retried
	stopped <-chan struct{}
	hdr     atomic.Pointer[authHeader]
}

// authHeader is the Authorization header value rendered for tok, shared by
// every request that carries tok.
type authHeader struct {
	tok *oauth2.Token
	hdr []string
}

// first fetches the first token before the attack, giving up at once when
// ctx is cancelled (the fetch itself is bounded by the source's HTTP
// timeout and ends in the background).
func (b *bearer) first(ctx context.Context) error {
	done := make(chan error, 1)
	go func() {
		_, err := b.src.Token()
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// header returns the current token and its header. After an invalidation
// the source fetches a new one, and one failed fetch must not end the run:
// failures are retried with backoff (50 ms doubling, at most 1 s apart) for
// up to the plan's timeout, or until the run stops.
func (b *bearer) header() (*authHeader, error) {
	tok, err := b.src.Token()
	deadline := time.Now().Add(b.timeout)
	for wait := 50 * time.Millisecond; err != nil && time.Now().Add(wait).Before(deadline); wait = min(2*wait, time.Second) {
		t := time.NewTimer(wait)
		select {
		case <-b.stopped:
			t.Stop()
			return nil, err
		case <-t.C:
		}
		tok, err = b.src.Token()
	}
	if err != nil {
		return nil, err
	}
	ah := b.hdr.Load()
	if ah == nil || ah.tok != tok {
		ah = &authHeader{tok: tok, hdr: []string{tok.Type() + " " + tok.AccessToken}}
		b.hdr.Store(ah)
	}
	return ah, nil
}

// invalidate tells the source that the target rejected tok (401), when the
// source can be told.
func (b *bearer) invalidate(tok *oauth2.Token) {
	if inv, ok := b.src.(interface{ Invalidate(*oauth2.Token) }); ok {
		inv.Invalidate(tok)
	}
}

// prefetch runs the source's Prefetch, if it has one, until ctx ends, so
// that refreshes happen ahead of expiry.
func (b *bearer) prefetch(ctx context.Context) {
	if pf, ok := b.src.(interface{ Prefetch(context.Context) }); ok {
		go pf.Prefetch(ctx)
	}
}
