package spec

import (
	"cmp"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFilesReadTheFiles: Files builds from the files it names (the embedded documents for "") what
// Load and Lint build from their bytes, names the document, and loads Strict when asked.
func TestFilesReadTheFiles(t *testing.T) {
	const narrowing = "testdata/narrowing-overlay.yaml"
	ov, err := os.ReadFile(narrowing)
	require.NoError(t, err)
	escaped := filepath.Join(t.TempDir(), "escaped.json")
	require.NoError(t, os.WriteFile(escaped, escapeNonASCII(Vendor()), 0o600))
	extra := Response{Status: 200, Header: jsonHeader(), Body: mutate(t, func(d map[string]any) { d["surprise"] = true })}
	tests := []struct {
		name     string
		files    Files
		wantName string
		doc      []byte   // the document's bytes
		opts     []Option // the other options Load and Lint are given for the same files
	}{
		{"embedded", Files{}, "embedded vendor document", Vendor(), nil},
		{"escaped document", Files{Document: escaped}, escaped, escapeNonASCII(Vendor()), nil},
		{"document and overlay", Files{Document: "confirm-offer.openapi.json", Overlay: narrowing},
			"confirm-offer.openapi.json", Vendor(), []Option{WithOverlay(ov)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.wantName, tt.files.Name())
			for _, strict := range []bool{false, true} {
				s, err := tt.files.Load(context.Background(), strict)
				require.NoError(t, err)
				assert.Equal(t, loadSpec(t, append([]Option{FromDocument(tt.doc)}, tt.opts...)...).Info(), s.Info())
				undocumented := slices.ContainsFunc(s.ValidateResponse(confirmReq(t), extra),
					func(v Violation) bool { return v.Rule == RuleUndocumentedField })
				assert.Equal(t, strict, undocumented, "strict %v: got undocumented field %v, want %v", strict, undocumented, strict)
			}
			defects, err := tt.files.Lint(context.Background())
			require.NoError(t, err)
			want, err := Lint(tt.doc, tt.opts...)
			require.NoError(t, err)
			assert.Equal(t, want, defects)
		})
	}
}

// TestFilesErrors: a file Files cannot read is a *FileError naming the input (a document beyond a
// limit included); an overlay beyond a limit is the loader's *LimitError; a document or overlay
// the harness cannot test against wraps ErrDocument; an ended context ends both methods.
func TestFilesErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o600))
		return p
	}
	none := filepath.Join(dir, "none")
	notOpenAPI := write("not-openapi.json", []byte(`{"a":1}`))
	docBomb := write("bomb.yaml", aliasBomb(t, 9))
	bigOverlay := write("big.yaml", []byte("overlay: 1.0.0\nx-pad: '"+strings.Repeat("a", MaxDocumentSize)+"'\n"))
	badOverlay := write("bad.yaml", []byte("overlay: [\n"))
	noConfirm := write("ping.yaml", []byte("openapi: 3.0.0\ninfo: {title: ping, version: '1'}\npaths:\n"+
		"  /ping:\n    get:\n      responses: {'200': {description: ok}}\n"))
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	tests := []struct {
		name     string
		ctx      context.Context
		files    Files
		input    string // FileError.Input; "" for no FileError
		limit    string // "input limit" of the LimitError; "" for none
		is       error
		op       string // the *os.PathError's Op, which a caller may word its message by
		loadOnly bool   // Lint does not need what is missing
	}{
		{name: "missing document", files: Files{Document: none}, input: "document", is: os.ErrNotExist},
		{name: "document a directory", files: Files{Document: dir}, input: "document"},
		{name: "document not OpenAPI", files: Files{Document: notOpenAPI}, input: "document", is: ErrUnreadable},
		{name: "document beyond a limit", files: Files{Document: docBomb}, input: "document", limit: "document " + LimitNodes},
		{name: "missing overlay", files: Files{Overlay: none}, input: "overlay", is: os.ErrNotExist, op: "open"},
		{name: "overlay a directory", files: Files{Overlay: dir}, input: "overlay", op: "read"},
		{name: "overlay beyond a limit", files: Files{Overlay: bigOverlay}, limit: "overlay " + LimitSize},
		{name: "overlay not an overlay", files: Files{Overlay: badOverlay}, is: ErrDocument},
		{name: "no confirm operation", files: Files{Document: noConfirm}, is: ErrDocument, loadOnly: true},
		{name: "context ended", ctx: cancelled, is: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := cmp.Or(tt.ctx, context.Background())
			s, err := tt.files.Load(ctx, false)
			assert.Nil(t, s)
			errs := []error{err}
			if !tt.loadOnly {
				_, err = tt.files.Lint(ctx)
				errs = append(errs, err)
			}
			for _, err := range errs {
				require.Error(t, err)
				var fe *FileError
				if assert.Equal(t, tt.input != "", errors.As(err, &fe), "got %v", err) && fe != nil {
					assert.Equal(t, tt.input, fe.Input)
				}
				var le *LimitError
				if assert.Equal(t, tt.limit != "", errors.As(err, &le), "got %v", err) && le != nil {
					assert.Equal(t, tt.limit, le.Input+" "+le.Limit)
				}
				if tt.is != nil {
					assert.ErrorIs(t, err, tt.is)
				}
				var pe *os.PathError
				if tt.op != "" && assert.ErrorAs(t, err, &pe) {
					assert.Equal(t, tt.op, pe.Op)
				}
				assert.Equal(t, tt.is != context.Canceled, errors.Is(err, ErrDocument) || fe != nil,
					"an unusable input, or the context's error: got %v", err)
			}
		})
	}
}

// TestDiffFiles: DiffFiles reads OLD NEW, or NEW alone against the embedded vendor document, and
// answers what Diff answers for their bytes, with OLD's name; a file it cannot read is a
// *FileError whose message starts with the path; a document Diff refuses, too few or too many
// paths and an ended context are other errors.
func TestDiffFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o600))
		return p
	}
	vendor := write("vendor.json", escapeNonASCII(Vendor()))
	newer := write("newer.json", []byte(strings.Replace(string(Vendor()), `"version":"1.0.0"`, `"version":"2.0.0"`, 1)))
	require.NotEqual(t, Vendor(), mustRead(t, newer), "the newer document differs")
	none := filepath.Join(dir, "none.json")
	garbage := write("garbage.json", []byte("{not json"))
	bomb := write("bomb.yaml", aliasBomb(t, 9))
	// A trailing comma passes ReadDocument's parse (YAML) but not Diff's (JSON).
	trailing := write("trailing.json", []byte(strings.Replace(string(Vendor()), `"format":"color"`, ``, 1)))
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	tests := []struct {
		name     string
		ctx      context.Context
		paths    []string
		old, new []byte // the bytes Diff is given; nil for an error
		oldName  string
		fileErr  string // the path a *FileError's message starts with
		is       error
	}{
		{name: "new alone", paths: []string{newer}, old: Vendor(), new: mustRead(t, newer), oldName: "embedded vendor document"},
		{name: "old and new", paths: []string{vendor, newer}, old: mustRead(t, vendor), new: mustRead(t, newer), oldName: vendor},
		{name: "same document", paths: []string{vendor}, old: Vendor(), new: mustRead(t, vendor), oldName: "embedded vendor document"},
		{name: "missing new", paths: []string{none}, fileErr: none, is: os.ErrNotExist},
		{name: "missing old", paths: []string{none, newer}, fileErr: none, is: os.ErrNotExist},
		{name: "new a directory", paths: []string{vendor, dir}, fileErr: dir},
		{name: "new not a document", paths: []string{garbage}, fileErr: garbage, is: ErrUnreadable},
		{name: "new beyond a limit", paths: []string{bomb}, fileErr: bomb, is: ErrDocument},
		{name: "refused by Diff", paths: []string{vendor, trailing}, oldName: vendor, is: ErrUnreadable},
		{name: "no path", paths: nil},
		{name: "three paths", paths: []string{vendor, vendor, vendor}},
		{name: "context ended", ctx: cancelled, paths: []string{vendor}, oldName: "embedded vendor document", is: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, oldName, err := DiffFiles(cmp.Or(tt.ctx, context.Background()), tt.paths...)
			if tt.new != nil {
				require.NoError(t, err)
				want, err := Diff(tt.old, tt.new)
				require.NoError(t, err)
				assert.Equal(t, want, rep, "Diff's answer for the files' bytes")
				assert.Equal(t, tt.oldName, oldName)
				return
			}
			require.Error(t, err)
			assert.Nil(t, rep)
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
			var fe *FileError
			if tt.fileErr == "" {
				assert.False(t, errors.As(err, &fe), "got a *FileError: %v", err)
				assert.Equal(t, tt.oldName, oldName)
				return
			}
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, "document", fe.Input)
			assert.True(t, strings.HasPrefix(err.Error(), tt.fileErr+": "), "got %q, want it to start with %q", err, tt.fileErr+": ")
		})
	}
	t.Run("the new document changed", func(t *testing.T) {
		rep, _, err := DiffFiles(context.Background(), vendor, newer)
		require.NoError(t, err)
		assert.Equal(t, 1, rep.Total, "got %+v, want the version's change", rep.Changes)
	})
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}
