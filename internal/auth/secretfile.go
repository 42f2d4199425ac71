package auth

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// MaxSecretBytes is the largest client secret [CheckSecret] and [ReadSecretFile] accept, in bytes
// (4 KiB).
const MaxSecretBytes = 4096

// ErrBadSecret marks a client secret (or secret file) that is refused: unreadable, empty, shorter
// than MinSecretLen characters, longer than MaxSecretBytes, or starting with a byte order mark.
// Test with errors.Is; cmd maps it to a usage error. Errors wrapping it never contain the secret.
var ErrBadSecret = errors.New("bad client secret")

// bom is the UTF-8 byte order mark some editors put at the start of a file.
const bom = "\ufeff"

// CheckSecret reports whether s is acceptable as a configured client secret: not empty, at least
// MinSecretLen characters (runes) so that redacting it cannot eat ordinary words, at most
// MaxSecretBytes bytes, and not starting with a UTF-8 byte order mark. The error wraps
// ErrBadSecret, says why and never contains s. Callers trim surrounding whitespace first (as
// ReadSecretFile does).
func CheckSecret(s string) error {
	n := utf8.RuneCountInString(s)
	switch {
	case s == "":
		return fmt.Errorf("auth: check secret: %w: client secret is empty", ErrBadSecret)
	case len(s) > MaxSecretBytes:
		return fmt.Errorf("auth: check secret: %w: client secret is %d bytes; want at most %d", ErrBadSecret, len(s), MaxSecretBytes)
	case strings.HasPrefix(s, bom):
		return fmt.Errorf("auth: check secret: %w: client secret starts with a UTF-8 byte order mark", ErrBadSecret)
	case n < MinSecretLen:
		return fmt.Errorf("auth: check secret: %w: client secret is %d characters; want at least %d", ErrBadSecret, n, MinSecretLen)
	}
	return nil
}

// ReadSecretFile reads a client secret from the file at path: a UTF-8 byte order mark and
// surrounding whitespace (a trailing newline, CRLF) are stripped, then the rest must pass
// CheckSecret. A file larger than MaxSecretBytes is refused after reading MaxSecretBytes+1 bytes,
// so a huge or endless file (a device, a pipe that never ends) costs no more. Every error wraps
// ErrBadSecret (and the os error when the file cannot be read), names the file and never contains
// the secret.
func ReadSecretFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("auth: read secret file: %w: %w", ErrBadSecret, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxSecretBytes+1))
	if err != nil {
		return "", fmt.Errorf("auth: read secret file: %w: %w", ErrBadSecret, err)
	}
	if len(b) > MaxSecretBytes {
		return "", fmt.Errorf("auth: read secret file: %w: %s is larger than %d bytes", ErrBadSecret, path, MaxSecretBytes)
	}
	s := strings.TrimSpace(string(b))
	s = strings.TrimSpace(strings.TrimPrefix(s, bom))
	if s == "" {
		return "", fmt.Errorf("auth: read secret file: %w: %s is empty", ErrBadSecret, path)
	}
	if err := CheckSecret(s); err != nil {
		return "", fmt.Errorf("auth: read secret file %s: %w", path, err)
	}
	return s, nil
}
