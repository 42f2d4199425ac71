package auth

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// MaxSecretBytes is the largest client secret [CheckSecret] accepts, in bytes (4 KiB).
const MaxSecretBytes = 4096

// ErrBadSecret marks a refused client secret or secret file: unreadable, empty, shorter than
// MinSecretLen characters, longer than MaxSecretBytes or starting with a byte order mark. Test with
// errors.Is; errors wrapping it never contain the secret.
var ErrBadSecret = errors.New("bad client secret")

// bom is the UTF-8 byte order mark some editors put at the start of a file.
const bom = "\ufeff"

// CheckSecret reports whether s is acceptable as a client secret: at least MinSecretLen characters
// (so that redacting it cannot eat ordinary words), at most MaxSecretBytes bytes, not starting with
// a byte order mark. The error wraps ErrBadSecret and says why. Callers trim whitespace first.
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

// ReadSecretFile reads a client secret from the file at path, strips a byte order mark and
// surrounding whitespace, and checks the rest with CheckSecret. It reads at most MaxSecretBytes+1
// bytes, so an endless file costs no more. Every error wraps ErrBadSecret (and the os error, if
// any) and names the file.
func ReadSecretFile(path string) (string, error) {
	f, err := os.Open(path)
	var b []byte
	if err == nil {
		defer f.Close()
		b, err = io.ReadAll(io.LimitReader(f, MaxSecretBytes+1))
	}
	if err != nil {
		return "", fmt.Errorf("auth: read secret file: %w: %w", ErrBadSecret, err)
	}
	if len(b) > MaxSecretBytes {
		return "", fmt.Errorf("auth: read secret file: %w: %s is larger than %d bytes", ErrBadSecret, path, MaxSecretBytes)
	}
	s := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(b)), bom))
	if s == "" {
		return "", fmt.Errorf("auth: read secret file: %w: %s is empty", ErrBadSecret, path)
	}
	if err := CheckSecret(s); err != nil {
		return "", fmt.Errorf("auth: read secret file %s: %w", path, err)
	}
	return s, nil
}
