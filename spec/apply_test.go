package spec

import (
	"os"
	"strings"
	"testing"

	"github.com/pb33f/go-yaml"
	"github.com/pb33f/libopenapi"
	libjson "github.com/pb33f/libopenapi/json"
	"github.com/pb33f/libopenapi/overlay"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// smallDoc is a small document for overlay tests.
const smallDoc = `openapi: 3.0.3
info: {title: t, version: '1', x-list: [a, b]}
tags: [{name: one}, {name: two}]
paths:
  /a:
    get:
      parameters: [{name: q, in: query, schema: {type: string, format: color}}]
      responses: {'200': {description: ok, content: {application/json: {schema: {type: object, properties: {n: {type: integer}}}}}}}
  /b:
    get:
      responses: {'200': {description: fine}}
`

// overlayOf makes an Overlay 1.1 document of actions (YAML list items, indented by two spaces).
func overlayOf(actions string) []byte {
	return []byte("overlay: 1.1.0\ninfo: {title: t, version: '1'}\nactions:\n" + actions)
}

// TestApplyOverlayAgreesWithLibopenapi: applyOverlay, which works on the loader's tree, corrects
// a document exactly as libopenapi's overlay.Apply does from bytes (the judge).
func TestApplyOverlayAgreesWithLibopenapi(t *testing.T) {
	narrowing, err := os.ReadFile("testdata/narrowing-overlay.yaml")
	require.NoError(t, err)
	tests := []struct {
		name     string
		doc, ovl []byte
	}{
		{"embedded overlay", Vendor(), Overlay()},
		{"narrowing overlay", Vendor(), narrowing},
		{"scalar replaced", []byte(smallDoc), overlayOf("  - {target: $.info.title, update: new}\n")},
		{"objects merged deep", []byte(smallDoc), overlayOf(
			"  - {target: \"$.paths['/a'].get\", update: {summary: s, responses: {'200': {description: changed}, '404': {description: nf}}}}\n")},
		{"array appended to", []byte(smallDoc), overlayOf("  - {target: $.tags, update: {name: three}}\n")},
		{"arrays concatenated", []byte(smallDoc), overlayOf("  - {target: \"$.info['x-list']\", update: [c, d]}\n")},
		{"several targets", []byte(smallDoc), overlayOf("  - {target: '$.paths.*.get', update: {deprecated: true}}\n")},
		{"key removed", []byte(smallDoc), overlayOf("  - {target: \"$.paths['/a'].get.parameters[0].schema.format\", remove: true}\n")},
		{"array item removed", []byte(smallDoc), overlayOf("  - {target: '$.tags[0]', remove: true}\n")},
		{"filter removes", []byte(smallDoc), overlayOf("  - {target: \"$.tags[?@.name == 'two']\", remove: true}\n")},
		{"copy", []byte(smallDoc), overlayOf("  - {target: \"$.paths['/b'].get.responses['200']\", copy: \"$.paths['/a'].get.responses['200']\"}\n")},
		{"update then remove what it added", []byte(smallDoc), overlayOf(
			"  - {target: $.info, update: {x-tmp: {a: 1}}}\n  - {target: \"$.info['x-tmp'].a\", remove: true}\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ov, err := libopenapi.NewOverlayDocument(tt.ovl)
			require.NoError(t, err)
			want, err := overlay.Apply(normalize(tt.doc), ov)
			require.NoError(t, err)
			require.Empty(t, want.Warnings, "the judge applies every action")
			var wantRoot yaml.Node
			require.NoError(t, yaml.Unmarshal(want.Bytes, &wantRoot))
			wantJSON, err := libjson.YAMLNodeToJSON(&wantRoot, " ")
			require.NoError(t, err)

			d, err := parseDocument(tt.doc)
			require.NoError(t, err)
			ours, err := readOverlay(tt.ovl)
			require.NoError(t, err)
			require.NoError(t, applyOverlay(d, ours))
			got, err := libjson.YAMLNodeToJSON(d.root, " ")
			require.NoError(t, err)
			assert.JSONEq(t, string(wantJSON), string(got))
			assert.NotEqual(t, string(normalize(tt.doc)), string(got), "the overlay changed something")
		})
	}
}

// TestApplyOverlayErrors: where libopenapi only warns (a target that matches nothing, copy and
// update together) or fails, applyOverlay fails, naming the action by index, target and the
// start of its description.
func TestApplyOverlayErrors(t *testing.T) {
	tests := []struct {
		name    string
		actions string
		want    []string
	}{
		{"target matches nothing", "  - {target: $.info.title, update: x}\n  - {target: $.nowhere, description: 'Fix nowhere: it is wrong', remove: true}\n",
			[]string{"overlay action 2 (remove $.nowhere): Fix nowhere", "matches nothing"}},
		{"copy and update", "  - {target: $.info, copy: $.tags, update: {a: 1}}\n",
			[]string{"overlay action 1 (copy $.info)", "copy and update are both set"}},
		{"copy source missing", "  - {target: $.info, copy: $.nowhere}\n", []string{"overlay action 1", "selects 0 nodes"}},
		{"object into a scalar", "  - {target: $.info.title, update: {a: 1}}\n", []string{"overlay action 1", "type differs"}},
		{"bad JSONPath", "  - {target: '$[', remove: true}\n", []string{"overlay action 1", "target"}},
		{"targets of mixed kinds", "  - {target: '$.info.*', update: x}\n", []string{"overlay action 1", "must all be objects, all arrays or all scalars"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := parseDocument([]byte(smallDoc))
			require.NoError(t, err)
			ov, err := readOverlay(overlayOf(tt.actions))
			require.NoError(t, err)
			err = applyOverlay(d, ov)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrDocument)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// TestReadOverlayErrors: what is not an Overlay 1.x document is refused before it is applied.
func TestReadOverlayErrors(t *testing.T) {
	tests := map[string]string{
		"garbage":      "overlay: [",
		"empty":        "",
		"version 2":    "overlay: 2.0.0\ninfo: {title: t, version: '1'}\nactions: [{target: $, remove: true}]\n",
		"no info":      "overlay: 1.0.0\nactions: [{target: $, remove: true}]\n",
		"no actions":   "overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions: []\n",
		"not overlay":  "openapi: 3.0.0\n",
		"a JSON array": "[1, 2]",
	}
	for name, ovl := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := readOverlay([]byte(ovl))
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrDocument)
			assert.True(t, strings.Contains(err.Error(), "overlay"), "got %q", err)
		})
	}
}
