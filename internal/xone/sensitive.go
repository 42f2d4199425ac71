package xone

import "strings"

// sensitiveKeys are the JSON member names whose values are secret or
// personal: such values never appear in a report, a recording or a log.
// Never modified.
var sensitiveKeys = [...]string{
	"security_token", "access_token", "refresh_token", "id_token", "token",
	"client_secret", "secret", "password", "api_key", "authorization",
	"email", "email_address", "phone", "phone_number", "mobile",
}

// sensitiveNorm holds sensitiveKeys in the form normKey gives. Built once at
// init and never modified.
var sensitiveNorm = func() map[string]bool {
	m := make(map[string]bool, len(sensitiveKeys))
	for _, k := range sensitiveKeys {
		m[normKey(k)] = true
	}
	return m
}()

// sensitiveHeaderWords mark header names whose whole value is secret.
var sensitiveHeaderWords = [...]string{"token", "secret", "password", "api-key", "api_key", "apikey"}

// SensitiveKey reports whether a JSON member name (or the last segment of a
// JSON path) is secret or personal (security_token, access_token,
// refresh_token, id_token, token, client_secret, secret, password, api_key,
// authorization, email, email_address, phone, phone_number, mobile), compared after lower-casing and
// dropping '_', '-' and '.', so accessToken, access-token and ACCESS_TOKEN
// all match access_token. Safe for concurrent use.
func SensitiveKey(name string) bool {
	return sensitiveNorm[normKey(name)]
}

// SensitiveHeader reports whether an HTTP header's whole value is secret:
// Authorization, Proxy-Authorization, Cookie, Set-Cookie, and any header
// whose name contains token, secret, password or api-key (any case, "-" or
// "_"). Safe for concurrent use.
func SensitiveHeader(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "authorization", "proxy-authorization", "cookie", "set-cookie":
		return true
	}
	for _, w := range sensitiveHeaderWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// normKey lower-cases name and drops '_', '-' and '.'.
func normKey(name string) string {
	return strings.Map(func(c rune) rune {
		switch c {
		case '_', '-', '.':
			return -1
		}
		return c
	}, strings.ToLower(name))
}

// Redacted is the one marker that replaces a secret, a token or a sensitive
// value wherever the harness prints or writes it.
const Redacted = "[REDACTED]"
