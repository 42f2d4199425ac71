package load

import (
	"context"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
)

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

func newBearer(src oauth2.TokenSource, timeout time.Duration, stopped <-chan struct{}) *bearer {
	return &bearer{src: src, timeout: timeout, stopped: stopped}
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
