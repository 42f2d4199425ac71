package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xoneharness/xoneharness/spec"
)

// escapedVendor is the vendor document with every non-ASCII character written as \uXXXX (a
// surrogate pair beyond the BMP), as Python's json.dump writes it.
func escapedVendor() []byte {
	var b bytes.Buffer
	for _, r := range string(spec.Vendor()) {
		switch r1, r2 := utf16.EncodeRune(r); {
		case r < utf8.RuneSelf:
			b.WriteRune(r)
		case r1 != utf8.RuneError:
			fmt.Fprintf(&b, `\u%04x\u%04x`, r1, r2)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.Bytes()
}

func TestSpecCommandsAcceptEveryJSONSpelling(t *testing.T) {
	escaped := filepath.Join(t.TempDir(), "escaped.json")
	require.NoError(t, os.WriteFile(escaped, escapedVendor(), 0o600))

	r := invoke(t, nil, "spec", "diff", escaped)
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "0 changes")

	r = invoke(t, nil, "spec", "lint", "--spec", escaped)
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "8 defects, 8 handled")
}

func TestSpecLintFlags(t *testing.T) {
	dir := t.TempDir()
	narrowing, err := os.ReadFile(filepath.Join("..", "..", "spec", "testdata", "narrowing-overlay.yaml"))
	require.NoError(t, err)
	ov := filepath.Join(dir, "narrowing.yaml")
	require.NoError(t, os.WriteFile(ov, narrowing, 0o600))

	r := invoke(t, nil, "spec", "lint")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, 8, strings.Count(r.stdout, "  fix: widens: "), "every fix is described as a widening:\n%s", r.stdout)

	r = invoke(t, nil, "spec", "lint", "--overlay", ov)
	assert.Equal(t, exitFindings, r.code, r.stderr)
	assert.Equal(t, 3, strings.Count(r.stdout, "NOT HANDLED"), r.stdout)

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing overlay", []string{"--overlay", filepath.Join(dir, "none.yaml")}, "none.yaml"},
		{"missing spec", []string{"--spec", filepath.Join(dir, "none.json")}, "none.json"},
		{"spec twice", []string{"--spec", ov, ov}, "not both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := invoke(t, nil, append([]string{"spec", "lint"}, tt.args...)...)
			assert.Equal(t, exitUsage, r.code, r.stderr)
			assert.Contains(t, r.stderr, tt.want)
		})
	}
}

func TestSpecFlagsLoad(t *testing.T) {
	dir := t.TempDir()
	noConfirm := filepath.Join(dir, "ping.yaml")
	require.NoError(t, os.WriteFile(noConfirm, []byte("openapi: 3.0.0\ninfo: {title: ping, version: '1'}\npaths:\n  /ping:\n    get:\n      responses: {'200': {description: ok}}\n"), 0o600))
	escaped := filepath.Join(dir, "escaped.json")
	require.NoError(t, os.WriteFile(escaped, escapedVendor(), 0o600))
	badOverlay := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(badOverlay, []byte("overlay: [\n"), 0o600))

	tests := []struct {
		name     string
		args     []string
		strict   bool
		wantCode int
		want     string
	}{
		{"defaults", nil, false, exitOK, ""},
		{"escaped document, strict", []string{"--spec", escaped}, true, exitOK, ""},
		{"no confirm operation", []string{"--spec", noConfirm}, false, exitUsage, "/confirm"},
		{"overlay not an overlay", []string{"--overlay", badOverlay}, false, exitUsage, "overlay"},
		{"missing document", []string{"--spec", filepath.Join(dir, "none.json")}, false, exitUsage, "none.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			var sf specFlags
			sf.register(fs)
			require.NoError(t, fs.Parse(tt.args))
			s, err := sf.load(tt.strict)
			assert.Equal(t, tt.wantCode, exitCode(err), "got %v", err)
			if tt.wantCode != exitOK {
				assert.Nil(t, s)
				assert.Contains(t, err.Error(), tt.want)
				return
			}
			require.NotNil(t, s)
			assert.Equal(t, "Offers", s.Info().Title)
		})
	}
	var ue usageError
	_, err := (&specFlags{spec: noConfirm}).load(false)
	assert.True(t, errors.As(err, &ue) && errors.Is(err, spec.ErrDocument), "got %v", err)
}
