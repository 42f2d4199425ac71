package ledger

import (
	"crypto/sha256"
	"strings"

	"github.com/google/uuid"
)

// Key is an offer id as compared for claims and duplicates: a UUID's 16
// bytes (in any form github.com/google/uuid parses), or the first 16 bytes
// of the SHA-256 of another id in lower case, so that case never matters
// and two different ids share a key with probability 2^-128.
type Key [16]byte

// KeyOf returns id's key.
func KeyOf(id string) Key {
	if u, err := uuid.Parse(id); err == nil {
		return Key(u)
	}
	sum := sha256.Sum256([]byte(strings.ToLower(id)))
	return Key(sum[:16])
}
