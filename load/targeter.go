package load

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"golang.org/x/oauth2"

	"github.com/xoneharness/xoneharness/internal/xone"
)

var (
	errFeedExhausted = errors.New("load: offer feed exhausted")
	errTokenSource   = errors.New("load: token source failing")
	jsonCT           = []string{"application/json"} // read-only: shared by every request's header
)

// flight is a request sent and not yet accounted for: its offer and the token
// it carried.
type flight struct {
	offer Offer
	tok   *oauth2.Token
}

// authHeader is the Authorization header value rendered for tok, shared by
// every request that carries tok.
type authHeader struct {
	tok *oauth2.Token
	hdr []string
}

// firstToken fetches the first token before the attack, giving up at once
// when ctx is cancelled (the fetch itself is bounded by the token source's
// HTTP timeout and ends in the background).
func (e *engine) firstToken(ctx context.Context) error {
	done := make(chan error, 1)
	go func() {
		_, err := e.cfg.Tokens.Token()
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// token returns the current token. After an invalidation the source fetches
// a new one, and one failed fetch must not end the run: failures are retried
// with backoff (50 ms doubling, at most 1 s apart) for up to Plan.Timeout
// before the run stops as "token source failing".
func (e *engine) token() (*oauth2.Token, error) {
	tok, err := e.cfg.Tokens.Token()
	if err == nil {
		return tok, nil
	}
	deadline := time.Now().Add(e.plan.Timeout)
	for wait := 50 * time.Millisecond; time.Now().Add(wait).Before(deadline); wait = min(2*wait, time.Second) {
		t := time.NewTimer(wait)
		select {
		case <-e.stopCh:
			t.Stop()
			return nil, err
		case <-t.C:
		}
		if tok, err = e.cfg.Tokens.Token(); err == nil {
			return tok, nil
		}
	}
	return nil, err
}

// target is the vegeta.Targeter: one fresh offer per request, the body spliced
// from pre-rendered bytes, the cached bearer token.
func (e *engine) target(t *vegeta.Target) error {
	tok, err := e.token()
	if err != nil {
		msg := err.Error()
		e.tokenErr.CompareAndSwap(nil, &msg)
		e.stop(stopTokens)
		return fmt.Errorf("%w: %w", errTokenSource, err)
	}
	var (
		o      Offer
		ok     bool
		waited time.Duration
	)
	if p := e.primed.Swap(nil); p != nil {
		o, ok = *p, true
	} else if sf, stream := e.cfg.Feed.(StreamFeed); stream {
		o, waited, ok = sf.NextWait()
		if !ok && sf.Err() != nil {
			e.stop(stopFeedError + sf.Err().Error())
			return errFeedExhausted
		}
	} else {
		o, ok = e.cfg.Feed.Next()
	}
	if !ok {
		e.stop(stopExhausted)
		return errFeedExhausted
	}
	if waited > lateThreshold {
		e.starvedSends.Add(1) // this send is late because the feed was
	}
	ah := e.auth.Load()
	if ah == nil || ah.tok != tok {
		ah = &authHeader{tok: tok, hdr: []string{tok.Type() + " " + tok.AccessToken}}
		e.auth.Store(ah)
	}
	t.Method = http.MethodPost
	t.URL = e.urlPrefix + o.OfferID + xone.ConfirmSuffix
	body := make([]byte, 0, len(e.bodyPrefix)+len(o.QuoteID)+len(e.bodySuffix))
	body = append(body, e.bodyPrefix...)
	body = append(body, o.QuoteID...)
	t.Body = append(body, e.bodySuffix...)
	h := make(http.Header, 4)
	h["Content-Type"], h["Accept"], h["Authorization"] = jsonCT, jsonCT, ah.hdr
	if e.idemHeader != "" {
		h[e.idemHeader] = []string{e.idemPrefix + strconv.FormatUint(e.idemSeq.Add(1), 10)}
	}
	t.Header = h
	e.mu.Lock()
	e.inflight[o.OfferID] = flight{offer: o, tok: tok}
	e.mu.Unlock()
	return nil
}
