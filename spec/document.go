package spec

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
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
// and surrogate pairs included. It reads at most MaxDocumentSize+1 bytes and parses them within
// the loader's limits. Errors wrap the file system's error (os.ErrNotExist...), ErrUnreadable (and
// ErrDocument) when the content is not an OpenAPI 3 document, or a *LimitError.
func ReadDocument(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("spec: read document: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxDocumentSize+1))
	if err != nil {
		return nil, fmt.Errorf("spec: read document: %s: %w", path, err)
	}
	if _, err := parseDocument(b); err != nil {
		return nil, fmt.Errorf("spec: read document: %s: %w", path, err)
	}
	return b, nil
}

// normalize re-encodes a JSON document with encoding/json, so that the YAML-based parsers of
// libopenapi see plain UTF-8: JSON escapes their scanner refuses (a surrogate pair such as
// \ud83d\udd11) become the characters they stand for. Key order, number literals and structure
// are kept. Anything that is not exactly one JSON value (YAML, or broken input) is returned
// unchanged, for the parsers to accept or refuse.
func normalize(doc []byte) []byte {
	t := bytes.TrimLeft(doc, " \t\r\n")
	if len(t) == 0 || (t[0] != '{' && t[0] != '[') || bytes.IndexByte(doc, '\\') < 0 {
		return doc
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	out := bytes.NewBuffer(make([]byte, 0, len(doc)))
	type frame struct {
		object bool
		n      int // tokens written in this container
	}
	var stack []frame
	done := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) && done {
			return out.Bytes()
		}
		if err != nil || done {
			return doc
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			out.WriteByte(byte(d))
			done = len(stack) == 0
			continue
		}
		if len(stack) > 0 {
			f := &stack[len(stack)-1]
			switch {
			case f.object && f.n%2 == 1:
				out.WriteByte(':')
			case f.n > 0:
				out.WriteByte(',')
			}
			f.n++
		}
		switch v := tok.(type) {
		case json.Delim:
			out.WriteByte(byte(v))
			stack = append(stack, frame{object: v == '{'})
		case string:
			writeJSONString(out, v)
		case json.Number:
			out.WriteString(v.String())
		case bool:
			fmt.Fprint(out, v)
		case nil:
			out.WriteString("null")
		}
		done = len(stack) == 0
	}
}

// writeJSONString writes s as a JSON string, leaving every printable character unescaped.
func writeJSONString(w *bytes.Buffer, s string) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)       // a string always encodes; writes to a bytes.Buffer do not fail
	w.Truncate(w.Len() - 1) // the newline Encode appends
}

// DocInfo identifies the document a Spec was loaded from, for reports.
type DocInfo struct {
	Title   string `json:"title"`   // info.title of the document
	Version string `json:"version"` // info.version of the document
	// SHA256 is the hex SHA-256 of the document's bytes as given to Load (the embedded vendor
	// document by default), before the overlay: `sha256sum FILE` prints the same digest.
	SHA256 string `json:"sha256"`
	// OverlaySHA256 is the hex SHA-256 of the overlay applied (the embedded one by default);
	// "" when Load was given WithoutOverlay.
	OverlaySHA256 string `json:"overlay_sha256,omitempty"`
}

// Info returns the title, version and SHA-256 of the document the Spec was loaded from.
func (s *Spec) Info() DocInfo { return s.info }

func hexDigest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
