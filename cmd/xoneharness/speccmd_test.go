package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
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
	narrowing, err := os.ReadFile(filepath.Join(repoRoot, "spec", "testdata", "narrowing-overlay.yaml"))
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

// TestSpecFlagsErrors: each error of spec.Files becomes, with the step before it, the message a
// user reads: the flag of a file that cannot be read (and the file, when the error may not name
// it), the document the harness cannot test against; all usage errors (exit 2) but the context's.
func TestSpecFlagsErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	none := filepath.Join(dir, "none")
	docBomb := write("bomb.yaml", aliasBomb("openapi: 3.0.3\ninfo: {title: bomb, version: '1'}\npaths: {}\n"))
	bigOverlay := write("big-overlay.yaml", "overlay: 1.0.0\nx-pad: '"+strings.Repeat("a", spec.MaxDocumentSize)+"'\n")
	badOverlay := write("bad.yaml", "overlay: [\n")
	noConfirm := write("ping.yaml", "openapi: 3.0.0\ninfo: {title: ping, version: '1'}\npaths:\n  /ping:\n    get:\n      responses: {'200': {description: ok}}\n")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	tests := []struct {
		name      string
		ctx       context.Context
		sf        specFlags
		wantCode  int
		wantStart string // what cmd writes before spec's error
	}{
		{"missing document", nil, specFlags{spec: none}, exitUsage, "load spec: --spec: "},
		{"unreadable document", nil, specFlags{spec: dir}, exitUsage, "load spec: --spec: "},
		{"document beyond a limit", nil, specFlags{spec: docBomb}, exitUsage, "load spec: --spec " + docBomb + ": "},
		{"missing overlay", nil, specFlags{overlay: none}, exitUsage, "load spec: --overlay: "},
		{"unreadable overlay", nil, specFlags{overlay: dir}, exitUsage, "load spec: --overlay " + dir + ": "},
		{"overlay beyond a limit", nil, specFlags{overlay: bigOverlay}, exitUsage, "load spec: --overlay " + bigOverlay + ": "},
		{"overlay not an overlay", nil, specFlags{overlay: badOverlay}, exitUsage, "load spec: embedded vendor document: "},
		{"no confirm operation", nil, specFlags{spec: noConfirm}, exitUsage, "load spec: " + noConfirm + ": "},
		{"context ended", cancelled, specFlags{}, exitInfra, "load spec: embedded vendor document: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := cmp.Or(tt.ctx, context.Background())
			_, specErr := tt.sf.files().Load(ctx, false)
			require.Error(t, specErr)
			s, err := tt.sf.loadContext(ctx, false)
			assert.Nil(t, s)
			assert.Equal(t, tt.wantCode, exitCode(err), "got %v", err)
			assert.EqualError(t, err, tt.wantStart+specErr.Error())
			assert.True(t, errors.As(err, new(*spec.FileError)) || errors.Is(err, spec.ErrDocument) || errors.Is(err, context.Canceled),
				"spec's error is wrapped: got %v", err)
		})
	}
}

// aliasBomb is a YAML alias bomb of nine levels (9^9 strings once expanded) under an extension,
// after head: a few hundred bytes.
func aliasBomb(head string) string {
	var b strings.Builder
	b.WriteString(head + "x-l0: &l0 [" + strings.TrimSuffix(strings.Repeat("lol, ", 9), ", ") + "]\n")
	for l := 1; l <= 9; l++ {
		fmt.Fprintf(&b, "x-l%d: &l%d [%s]\n", l, l, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d, ", l-1), 9), ", "))
	}
	return b.String()
}

// TestSpecLimitsAreUsageErrors: a --spec or --overlay beyond a limit of the loader is refused at
// once by every command that reads them, as a usage error (exit 2) naming the flag and the limit.
func TestSpecLimitsAreUsageErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	docBomb := write("bomb.yaml", aliasBomb("openapi: 3.0.3\ninfo: {title: bomb, version: '1'}\npaths: {}\n"))
	overlayBomb := write("bomb-overlay.yaml", aliasBomb("overlay: 1.0.0\ninfo: {title: bomb, version: '1'}\n")+
		"actions:\n  - {target: $.info, update: {x-a: 1}}\n")

	cli := []struct {
		name string
		args []string
		want string
	}{
		{"spec lint --spec", []string{"spec", "lint", "--spec", docBomb}, "--spec"},
		{"spec lint --overlay", []string{"spec", "lint", "--overlay", overlayBomb}, "--overlay"},
		{"spec diff", []string{"spec", "diff", docBomb}, docBomb},
		{"contract --spec", []string{"contract", "--spec", docBomb, "--report-dir", filepath.Join(dir, "r")}, "--spec"},
	}
	for _, tt := range cli {
		t.Run(tt.name, func(t *testing.T) {
			r := invoke(t, nil, tt.args...)
			assert.Equal(t, exitUsage, r.code, r.stderr)
			assert.Contains(t, r.stderr, tt.want)
			assert.Contains(t, r.stderr, "nodes after alias expansion, at most 1000000")
		})
	}
}

// TestSpecFlagsPreflight: preflight lints and loads from one read of the files; the Spec it
// built is the one loadContext then returns, without reading the files again.
func TestSpecFlagsPreflight(t *testing.T) {
	dir := t.TempDir()
	doc := filepath.Join(dir, "vendor.json")
	require.NoError(t, os.WriteFile(doc, spec.Vendor(), 0o600))
	sf := specFlags{spec: doc}
	defects, s, source, err := sf.preflight(context.Background(), true)
	require.NoError(t, err)
	require.NotNil(t, s)
	assert.Equal(t, doc, source)
	want, err := spec.Lint(spec.Vendor())
	require.NoError(t, err)
	assert.Equal(t, want, defects, "spec.Lint's answer")

	require.NoError(t, os.Remove(doc))
	again, err := sf.loadContext(context.Background(), true)
	require.NoError(t, err, "the files are not read again")
	assert.Same(t, s, again)
	_, err = sf.loadContext(context.Background(), false)
	assert.Equal(t, exitUsage, exitCode(err), "another Spec is read from the files: got %v", err)

	fixed := filepath.Join(dir, "fixed.json")
	require.NoError(t, os.WriteFile(fixed, bytes.Replace(spec.Vendor(), []byte(`,"format":"color"`), nil, 1), 0o600))
	_, _, _, err = (&specFlags{spec: fixed}).preflight(context.Background(), false)
	assert.Equal(t, exitUsage, exitCode(err), "an overlay that no longer applies: got %v", err)
	assert.ErrorContains(t, err, "spec preflight: "+fixed)
	assert.ErrorContains(t, err, "target matched zero nodes")
}
