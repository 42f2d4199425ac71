package auth

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
)

// ErrUnreachable marks a fetch that got no HTTP answer: connection refused, DNS failure, reset or
// timeout. Test with errors.Is; cmd maps it to an infrastructure failure.
var ErrUnreachable = errors.New("token endpoint unreachable")

// ErrRejected marks a fetch whose HTTP answer yields no token: a status outside 2xx, a body over
// 1 MiB, neither JSON nor a form, or without a usable access_token. Test with errors.Is.
var ErrRejected = errors.New("token endpoint rejected the request")

// FetchError is the error a [Source] returns when a token fetch fails; it wraps ErrUnreachable or
// ErrRejected and the cause. It describes the answer by status, content type and length, never by
// its body (except an OAuth2 error code such as invalid_client), so it holds no secret or token.
type FetchError struct {
	URL         string // the token endpoint, any password in it replaced
	Status      int    // the answer's HTTP status, 0 if there was none
	ContentType string // the answer's media type, lower case, at most 64 bytes; "" if none
	Length      int    // bytes of the body read, at most 1 MiB + 1
	Err         error  // the cause; it wraps ErrUnreachable or ErrRejected

	redact *Redactor // scrubs Error's text; nil (credentials only) for a hand-made FetchError
}

// Error reports the token URL, the answer's status, content type and length, and the cause.
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

// Unwrap returns the cause.
func (e *FetchError) Unwrap() error { return e.Err }

// CredentialsRefused reports whether the token endpoint refused the client's credentials
// (invalid_client, a wrong secret): it answered with a 4xx other than 429, and no token.
func (e *FetchError) CredentialsRefused() bool {
	return errors.Is(e.Err, ErrRejected) && e.Status >= 400 && e.Status < 500 && e.Status != http.StatusTooManyRequests
}

// fail builds a FetchError for resp (nil if there was no answer) of which n body bytes were read.
func (s *Source) fail(resp *http.Response, n int, err error) *FetchError {
	fe := &FetchError{URL: s.redactedURL, Err: err, redact: s.redact}
	if resp != nil {
		fe.Status, fe.ContentType, fe.Length = resp.StatusCode, mediaType(resp.Header.Get("Content-Type")), n
	}
	return fe
}

// errorCodeRE matches an OAuth2 error code (RFC 6749 §5.2) and nothing that could be a credential.
var errorCodeRE = regexp.MustCompile(`^[a-z_]{1,40}$`)

// refused is the cause for a non-2xx answer: ErrRejected, with the body's OAuth2 error code if any.
func refused(body []byte, contentType string) error {
	obj, _, err := decodeFields(body, contentType)
	if code, ok := obj["error"].(string); err == nil && ok && errorCodeRE.MatchString(code) {
		return fmt.Errorf("%w: error %q", ErrRejected, code)
	}
	return ErrRejected
}

// unreachable wraps a transport error; a timeout says so, whichever timer noticed it.
func unreachable(err error) error {
	var ne interface{ Timeout() bool }
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return fmt.Errorf("%w: timed out: %w", ErrUnreachable, err)
	}
	return fmt.Errorf("%w: %w", ErrUnreachable, err)
}
