package auth

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
)

// ErrUnreachable marks a fetch that got no HTTP answer: connection refused, DNS failure, reset, or
// timeout (FetchTimeout or the client's own). Test with errors.Is; cmd maps it to an infrastructure
// failure.
var ErrUnreachable = errors.New("token endpoint unreachable")

// ErrRejected marks a fetch that got an HTTP answer that yields no token: a status outside 2xx, a
// body over 1 MiB, a body that is neither JSON nor a form, or one without a usable access_token
// (the message says which). Test with errors.Is.
var ErrRejected = errors.New("token endpoint rejected the request")

// FetchError is the error a [Source] returns when a token fetch fails. It wraps ErrUnreachable or
// ErrRejected (and the underlying cause, such as context.DeadlineExceeded). It describes the answer
// by its status, content type and length, never by its body: neither its fields nor its Error text
// hold the client secret, a token or any part of the body (except an OAuth2 error code such as
// invalid_client).
type FetchError struct {
	// URL is the token endpoint, with any password in it replaced.
	URL string
	// Status is the HTTP status of the answer, 0 if there was none.
	Status int
	// ContentType is the answer's media type, lower case, without parameters, at most 64 bytes; ""
	// when absent or unparseable.
	ContentType string
	// Length is how many bytes of the answer's body were read: at most 1 MiB + 1, as a longer body
	// is not read further.
	Length int
	// Err is the cause; it wraps ErrUnreachable or ErrRejected.
	Err error

	redact *Redactor // scrubs Error's text; nil (credentials only) for a hand-made FetchError
}

// Error reports the token URL, the status, content type and length of the answer when there was
// one, and the cause.
func (e *FetchError) Error() string {
	msg := "auth: fetch token from " + e.URL
	if e.Status != 0 {
		msg += fmt.Sprintf(": status %d (%s, %d bytes)", e.Status, cmp.Or(e.ContentType, "no content type"), e.Length)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return e.redact.String(msg) // a nil Redactor still scrubs credentials
}

// Unwrap returns the cause, so errors.Is(err, ErrUnreachable) and errors.Is(err,
// context.DeadlineExceeded) work.
func (e *FetchError) Unwrap() error { return e.Err }

// fail builds a FetchError describing resp (nil when there was no answer) and the n bytes of its
// body that were read.
func (s *Source) fail(resp *http.Response, n int, err error) *FetchError {
	fe := &FetchError{URL: s.redactedURL, Err: err, redact: s.redact}
	if resp != nil {
		fe.Status, fe.ContentType, fe.Length = resp.StatusCode, mediaType(resp.Header.Get("Content-Type")), n
	}
	return fe
}

// errorCodeRE matches an OAuth2 error code (RFC 6749 section 5.2: invalid_client, invalid_scope, …)
// and nothing that could be a credential.
var errorCodeRE = regexp.MustCompile(`^[a-z_]{1,40}$`)

// refused is the cause for a non-2xx answer: ErrRejected, with the OAuth2 error code when the body
// is JSON or a form with one.
func refused(body []byte, contentType string) error {
	obj, _, err := decodeFields(body, contentType)
	if code, ok := obj["error"].(string); err == nil && ok && errorCodeRE.MatchString(code) {
		return fmt.Errorf("%w: error %q", ErrRejected, code)
	}
	return ErrRejected
}

// unreachable wraps a transport error; a timeout says so in words, whichever of the client's timer
// and the request's deadline noticed it first.
func unreachable(err error) error {
	var ne interface{ Timeout() bool }
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return fmt.Errorf("%w: timed out: %w", ErrUnreachable, err)
	}
	return fmt.Errorf("%w: %w", ErrUnreachable, err)
}
