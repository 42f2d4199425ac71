package spec

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
)

// ErrDocument is wrapped by the errors of Load, Lint, Diff and ReadDocument when a document or an
// overlay cannot be tested against: it does not parse (those errors also wrap ErrUnreadable), it
// exceeds a limit of the loader (a *LimitError), it has no confirm operation, or the overlay does
// not apply to it. The message names what is missing. Test with errors.Is.
var ErrDocument = errors.New("unusable document")

// ErrUnreadable is wrapped by the errors of Load, Lint, Diff and ReadDocument when a document does
// not parse as an OpenAPI 3 document (not JSON/YAML, or no "openapi" version). Every error that
// wraps it also wraps ErrDocument. Test with errors.Is.
var ErrUnreadable error = &documentError{"document is not a readable OpenAPI 3 document"}

// documentError is a sentinel that is also ErrDocument.
type documentError struct{ msg string }

func (e *documentError) Error() string        { return e.msg }
func (e *documentError) Is(target error) bool { return target == ErrDocument }

// ReadDocument reads an OpenAPI 3 document (JSON or YAML) from path and returns its bytes as they
// are in the file, for FromDocument, Lint and Diff. Every valid JSON spelling is accepted, escapes
// and surrogate pairs included. It reads at most MaxDocumentSize+1 bytes and parses them within the
// loader's limits. Errors wrap the file system's error (os.ErrNotExist...), ErrUnreadable (and
// ErrDocument) when the content is not an OpenAPI 3 document, or a *LimitError.
func ReadDocument(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("spec: read document: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxDocumentSize+1))
	if err == nil {
		_, err = parseDocument(b)
	}
	if err != nil {
		return nil, fmt.Errorf("spec: read document: %s: %w", path, err)
	}
	return b, nil
}

// yamlRefused matches the JSON escapes a YAML parser refuses ("\/" and UTF-16 surrogates, paired or
// not), and "\\" so that a match never starts inside an escaped backslash.
var yamlRefused = regexp.MustCompile(`\\(?:\\|/|u[dD][89a-fA-F][0-9a-fA-F]{2}(?:\\u[dD][c-fC-F][0-9a-fA-F]{2})?)`)

// normalize rewrites, in a document that is exactly one JSON value, the escapes libopenapi's
// YAML-based parsers refuse into the characters encoding/json reads them as (a lone surrogate
// becomes U+FFFD). Anything else (YAML, or broken input) is returned unchanged.
func normalize(doc []byte) []byte {
	if !yamlRefused.Match(doc) || !json.Valid(doc) {
		return doc
	}
	return yamlRefused.ReplaceAllFunc(doc, func(m []byte) []byte {
		var s string
		if string(m) == `\\` || json.Unmarshal(append(append([]byte{'"'}, m...), '"'), &s) != nil {
			return m
		}
		return []byte(s)
	})
}

// DocInfo identifies the document a Spec was loaded from, for reports.
type DocInfo struct {
	Title   string `json:"title"`   // info.title of the document
	Version string `json:"version"` // info.version of the document
	// SHA256 is the hex SHA-256 of the document's bytes as given to Load (the embedded vendor
	// document by default), before the overlay: `sha256sum FILE` prints the same digest.
	SHA256 string `json:"sha256"`
	// OverlaySHA256 is the hex SHA-256 of the overlay applied (the embedded one by default); ""
	// when Load was given WithoutOverlay.
	OverlaySHA256 string `json:"overlay_sha256,omitempty"`
}

// Info returns the title, version and SHA-256 of the document the Spec was loaded from.
func (s *Spec) Info() DocInfo { return s.info }

func hexDigest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
