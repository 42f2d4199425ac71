package load

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
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

// targeter is the vegeta.Targeter of a run, called concurrently: for each
// request a fresh offer recorded in the journal, the token and the body.
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

// flight is a confirm sent and not yet accounted for, and its token.
type flight struct {
	offer Offer
	tok   *oauth2.Token
}

// prime records the feed's first offer before the attack starts (a piped
// generator's first row may take a moment), so that a feed whose first offer
// is bad or claimed sends nothing (ErrFeed).
func (t *targeter) prime() error {
	o, _, ok := t.feed.Next()
	if !ok {
		if err := t.feed.Err(); err != nil {
			return fmt.Errorf("%w: %w", ErrFeed, err)
		}
		return fmt.Errorf("%w: no offers", ErrFeed)
	}
	if err := t.journal.Begin(o.OfferID, o.QuoteID); err != nil {
		if _, claimed := errors.AsType[*ledger.ClaimedError](err); claimed {
			return fmt.Errorf("%w: %w", ErrFeed, err)
		}
		return fmt.Errorf("%w: %w", ErrJournal, err)
	}
	t.primed.Store(&o)
	return nil
}

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

// next returns the next offer, recorded in the journal, or stops the attack.
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
		if _, claimed := errors.AsType[*ledger.ClaimedError](err); claimed {
			t.stop.end(stopFeedError+err.Error(), nil)
			return o, errFeedEnded
		}
		err = fmt.Errorf("%w: %w", ErrJournal, err)
		t.stop.end(stopJournal, err)
		return o, err
	}
	return o, nil
}

// landed removes the oldest confirm in flight to url and returns it.
func (t *targeter) landed(url string) flight {
	offerID := strings.TrimSuffix(strings.TrimPrefix(url, t.urlPrefix), xone.ConfirmSuffix)
	t.mu.Lock()
	defer t.mu.Unlock()
	q := t.inflight[offerID]
	if len(q) == 0 {
		return flight{offer: Offer{OfferID: offerID}}
	}
	if len(q) == 1 {
		delete(t.inflight, offerID)
	} else {
		t.inflight[offerID] = q[1:]
	}
	return q[0]
}

// unanswered returns, and forgets, the confirms vegeta dropped when the run
// stopped.
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

// bearer hands out the run's current token and its Authorization header to
// vegeta's concurrent workers, retrying a failed fetch.
type bearer struct {
	src     oauth2.TokenSource
	timeout time.Duration // how long a failing source is retried
	stopped <-chan struct{}
	hdr     atomic.Pointer[authHeader]
}

// authHeader is the Authorization header rendered once for tok.
type authHeader struct {
	tok *oauth2.Token
	hdr []string
}

// first fetches the first token, giving up at once when ctx is cancelled
// (the fetch, bounded by the source's timeout, ends in the background).
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

// header returns the current token and its header. One failed fetch after
// an invalidation must not end the run: failures are retried with backoff
// (50 ms doubling to 1 s) for up to the plan's timeout, or until it stops.
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

// invalidate tells the source, when it can be told, that the target
// rejected tok.
func (b *bearer) invalidate(tok *oauth2.Token) {
	if inv, ok := b.src.(interface{ Invalidate(*oauth2.Token) }); ok {
		inv.Invalidate(tok)
	}
}

// prefetch runs the source's Prefetch, if any, until ctx ends.
func (b *bearer) prefetch(ctx context.Context) {
	if pf, ok := b.src.(interface{ Prefetch(context.Context) }); ok {
		go pf.Prefetch(ctx)
	}
}
