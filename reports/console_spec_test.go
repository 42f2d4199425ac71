package reports

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xoneharness/xoneharness/spec"
)

// TestConsoleLint: what `spec lint` prints of defects, handled or not, and of none, is the golden
// text.
func TestConsoleLint(t *testing.T) {
	defects := []spec.Defect{
		{Rule: spec.DefectUnknownFormat, Pointer: "/a/format", Found: `format "color"`, Reason: "not a format",
			Handling: "overlay action 6 (remove $.a.format)", Effect: "widens: any string", Handled: true},
		{Rule: spec.DefectHeaderTypeMismatch, Pointer: "/components/headers/CF-RAY/schema/type", Found: "type integer",
			Reason: "real values are strings", Handling: "not handled"},
	}
	tests := []struct {
		name    string
		source  string
		defects []spec.Defect
		want    string
	}{
		{"defects", "new.json", defects, `new.json: 2 defects, 1 handled by the overlay

RULE                  POINTER                                 FOUND           HANDLING
unknown-format        /a/format                               format "color"  overlay action 6 (remove $.a.format)
header-type-mismatch  /components/headers/CF-RAY/schema/type  type integer    NOT HANDLED: not handled

unknown-format /a/format
  why: not a format
  fix: widens: any string

header-type-mismatch /components/headers/CF-RAY/schema/type
  why: real values are strings
`},
		{"none", "embedded vendor document", nil, `embedded vendor document: 0 defects, 0 handled by the overlay

RULE  POINTER  FOUND  HANDLING
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, ConsoleLint(&buf, tt.source, tt.defects))
			assert.Equal(t, tt.want, buf.String())
		})
	}
}

// TestConsoleDiff: what `spec diff` prints of changes, breaking or not, and of none, is the golden
// text.
func TestConsoleDiff(t *testing.T) {
	rep := &spec.DiffReport{Changes: []spec.Change{
		{Path: "paths./confirm.post", Property: "price", Kind: spec.ChangeModified, Breaking: true, Old: "number", New: "string"},
		{Kind: spec.ChangeAdded, New: "x"},
	}, Breaking: 1, Total: 2}
	tests := []struct {
		name     string
		old, new string
		rep      *spec.DiffReport
		want     string
	}{
		{"changes", "embedded vendor document", "new.json", rep, `embedded vendor document -> new.json: 2 changes, 1 breaking

BREAKING  KIND      WHERE                      OLD     NEW
BREAKING  modified  paths./confirm.post price  number  string
          added                                        x
`},
		{"none", "old.json", "new.json", &spec.DiffReport{}, "old.json -> new.json: 0 changes, 0 breaking\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, ConsoleDiff(&buf, tt.old, tt.new, tt.rep))
			assert.Equal(t, tt.want, buf.String())
		})
	}
}

// TestConsoleSpecWriteError: the writer's error is returned as a write's, which the CLI prefixes
// with its step ("lint: write: disk full").
func TestConsoleSpecWriteError(t *testing.T) {
	for name, err := range map[string]error{
		"lint": ConsoleLint(failWriter{}, "x", nil),
		"diff": ConsoleDiff(failWriter{}, "a", "b", &spec.DiffReport{}),
	} {
		assert.EqualError(t, err, "write: disk full", name)
	}
}

// TestConsoleJSON: what `spec lint --json` and `spec diff --json` print is indented JSON that
// decodes to the value given; a console that cannot be written to is an error.
func TestConsoleJSON(t *testing.T) {
	defects, err := spec.Lint(spec.Vendor())
	require.NoError(t, err)
	diff, err := spec.Diff(spec.Vendor(), spec.Vendor())
	require.NoError(t, err)
	tests := []struct {
		name string
		v    any
		into any
	}{
		{"defects", defects, &[]spec.Defect{}},
		{"no defects", []spec.Defect{}, &[]spec.Defect{}},
		{"diff", *diff, &spec.DiffReport{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			require.NoError(t, ConsoleJSON(&b, tt.v))
			want, err := json.MarshalIndent(tt.v, "", "  ")
			require.NoError(t, err)
			assert.Equal(t, string(want)+"\n", b.String())
			require.NoError(t, json.Unmarshal(b.Bytes(), tt.into))
			assert.Equal(t, tt.v, reflect.ValueOf(tt.into).Elem().Interface())
		})
	}
	assert.ErrorContains(t, ConsoleJSON(failWriter{}, defects), "write: ")
}
