package auth

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/oauth2"
)

// ErrUnreachable marks a fetch that got no HTTP answer: connection refused,
// DNS failure, reset, or timeout (FetchTimeout or the client's own). Test
// with errors.Is; cmd maps it to an infrastructure failure.
var ErrUnreachable = errors.New("token endpoint unreachable")

// ErrRejected marks a fetch that got an HTTP answer that yields no token: a
// status outside 2xx, invalid JSON, or no access_token (the message says
// which). Test with errors.Is.
var ErrRejected = errors.New("token endpoint rejected the request")

// maxErrorBody is the most of a response body a FetchError keeps, in bytes.
const maxErrorBody = 512

// FetchError is the error a [Source] returns when a token fetch fails. It
// wraps ErrUnreachable or ErrRejected (and the underlying cause, such as
// context.DeadlineExceeded). Its Error text names the token URL but never
// the client secret or a token.
type FetchError struct {
	// URL is the token endpoint, with any password in it replaced.
	URL string
	// Status is the HTTP status of the answer, 0 if there was none.
	Status int
	// Body is the start of the answer's body: redacted (secrets, tokens,
	// e-mail and phone values), then cut to at most 512 bytes.
	Body string
	// Err is the cause; it wraps ErrUnreachable or ErrRejected.
	Err error

	redact *Redactor // scrubs Error's text; nil for a hand-made FetchError
}

// Error reports the token URL, the status and the cause, and the redacted
// body when there is one.
func (e *FetchError) Error() string {
	var b strings.Builder
	b.WriteString("auth: fetch token from ")
	b.WriteString(e.URL)
	if e.Status != 0 {
		b.WriteString(": status ")
		b.WriteString(strconv.Itoa(e.Status))
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.Body != "" {
		b.WriteString(": body: ")
		b.WriteString(e.Body)
	}
	if e.redact != nil {
		return e.redact.String(b.String())
	}
	return b.String()
}

// Unwrap returns the cause, so errors.Is(err, ErrUnreachable) and
// errors.Is(err, context.DeadlineExceeded) work.
func (e *FetchError) Unwrap() error { return e.Err }

// newFetchError builds a FetchError; body is redacted and truncated here.
func (s *Source) newFetchError(status int, body []byte, err error) *FetchError {
	return &FetchError{
		URL:    s.redactedURL,
		Status: status,
		Body:   truncate(string(s.redact.JSON(body)), maxErrorBody),
		Err:    err,
		redact: s.redact,
	}
}

// unreachable wraps a transport error; a timeout says so in words, whichever
// of the client's timer and the request's deadline noticed it first.
func unreachable(err error) error {
	var ne interface{ Timeout() bool }
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return fmt.Errorf("%w: timed out: %w", ErrUnreachable, err)
	}
	return fmt.Errorf("%w: %w", ErrUnreachable, err)
}

// classifyOAuth2 maps an error from golang.org/x/oauth2/clientcredentials to
// a FetchError. Errors from the HTTP client (*url.Error) and context errors
// are ErrUnreachable; *oauth2.RetrieveError (non-2xx, or an OAuth2 error
// object) and parse failures are ErrRejected. The RetrieveError itself is not
// kept as the cause: its message carries the raw, unredacted body.
func (s *Source) classifyOAuth2(err error) *FetchError {
	var rErr *oauth2.RetrieveError
	if errors.As(err, &rErr) {
		status := 0
		if rErr.Response != nil {
			status = rErr.Response.StatusCode
		}
		cause := ErrRejected
		if rErr.ErrorCode != "" {
			// The OAuth2 error code is a short registered token such as
			// invalid_client; keep it, it says what was wrong.
			cause = fmt.Errorf("%w: error %q", ErrRejected, truncate(rErr.ErrorCode, 64))
		}
		return s.newFetchError(status, rErr.Body, cause)
	}
	var uErr *url.Error
	if errors.As(err, &uErr) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return s.newFetchError(0, nil, unreachable(err))
	}
	return s.newFetchError(0, nil, fmt.Errorf("%w: %w", ErrRejected, err))
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
