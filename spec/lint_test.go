package spec

import (
	"errors"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/pb33f/go-yaml"
	"github.com/pb33f/libopenapi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const confirmPointer = "/paths/~1api~1partners~1{partner_id}~1offers~1{offer_id}~1confirm"

func TestLintVendor(t *testing.T) {
	defects, err := Lint(Vendor())
	require.NoError(t, err)

	resp200 := confirmPointer + "/post/responses/200/content/application~1json/schema/properties/data/properties"
	headers := confirmPointer + "/post/responses/401/headers"
	want := []struct {
		rule, pointer, foundContains string
	}{
		{DefectUndeclaredPathParameter, confirmPointer, "{offer_id}"},
		{DefectUndeclaredPathParameter, confirmPointer, "{partner_id}"},
		{DefectUnknownFormat, resp200 + "/policies/items/properties/policy_content/properties/disclaimer_html/format", `"style"`},
		{DefectUnknownFormat, resp200 + "/policies/items/properties/policy_start_date_tz_offset/format", `"style"`},
		{DefectUnknownFormat, resp200 + "/policyholder/properties/postcode/format", `"color"`},
		{DefectHeaderTypeMismatch, headers + "/CF-RAY/schema/type", "integer"},
		{DefectHeaderTypeMismatch, headers + "/Cf-Team/schema/type", "integer"},
		{DefectHeaderTypeMismatch, headers + "/X-XSS-Protection/schema/type", "integer"},
	}
	require.Len(t, defects, len(want), "got %+v", defects)
	for i, w := range want {
		d := defects[i]
		t.Run(strconv.Itoa(i)+"_"+w.rule, func(t *testing.T) {
			assert.Equal(t, w.rule, d.Rule)
			assert.Equal(t, w.pointer, d.Pointer)
			assert.Contains(t, d.Found, w.foundContains)
			assert.NotEmpty(t, d.Reason)
			assert.True(t, d.Handled, "handled: %+v", d)
			assert.Regexp(t, `^overlay action \d+ \((update|remove) \$\.paths`, d.Handling)
		})
	}

	// The pointers resolve in the vendor document.
	vendor, err := parseDocument(Vendor())
	require.NoError(t, err)
	for _, d := range defects {
		if d.Rule == DefectUndeclaredPathParameter {
			continue
		}
		assert.NotNil(t, resolveRef(vendor.Content[0], mapNode("$ref", "#"+d.Pointer)), "pointer %s resolves", d.Pointer)
	}

	// Reasons carry the real values.
	byPointer := map[string]Defect{}
	for _, d := range defects {
		byPointer[d.Pointer] = d
	}
	assert.Contains(t, byPointer[headers+"/CF-RAY/schema/type"].Reason, realCFRay)
	assert.Contains(t, byPointer[headers+"/X-XSS-Protection/schema/type"].Reason, "1; mode=block")
	assert.Contains(t, byPointer[headers+"/Cf-Team/schema/type"].Reason, "32 hex digits")
}

// mapNode builds a one-key mapping node, to reuse resolveRef as a pointer resolver.
func mapNode(k, v string) *yaml.Node {
	return &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Value: k}, {Kind: yaml.ScalarNode, Value: v}}}
}

func TestOverlayOneActionPerDefect(t *testing.T) {
	ov, err := libopenapi.NewOverlayDocument(Overlay())
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(ov.Overlay, "1."), "Overlay 1.x, got %q", ov.Overlay)
	defects, err := Lint(Vendor())
	require.NoError(t, err)
	require.Len(t, ov.Actions, len(defects), "one action per defect")

	used := map[int]int{}
	re := regexp.MustCompile(`^overlay action (\d+) `)
	for _, d := range defects {
		m := re.FindStringSubmatch(d.Handling)
		require.Len(t, m, 2, "handling names an action: %q", d.Handling)
		n, _ := strconv.Atoi(m[1])
		used[n]++
	}
	for i, a := range ov.Actions {
		assert.Equal(t, 1, used[i+1], "action %d (%s) fixes exactly one defect", i+1, a.Target)
		assert.GreaterOrEqual(t, len(a.Description), 80, "action %d gives its reason", i+1)
	}
}

func TestLintCorrectedDocumentIsClean(t *testing.T) {
	defects, err := Lint(loadSpec(t).Document())
	require.NoError(t, err)
	assert.Empty(t, defects)
}

func TestLintDetectsFromTheDocument(t *testing.T) {
	v := string(Vendor())
	tests := []struct {
		name        string
		doc         string
		wantRule    string
		wantPointer string
		handled     bool
	}{
		{
			name:        "header the overlay does not know",
			doc:         strings.Replace(v, `"CF-Cache-Status":{"schema":{"type":"string"}}`, `"CF-Cache-Status":{"schema":{"type":"integer"}}`, 1),
			wantRule:    DefectHeaderTypeMismatch,
			wantPointer: confirmPointer + "/post/responses/401/headers/CF-Cache-Status/schema/type",
		},
		{
			name:        "new unknown format",
			doc:         strings.Replace(v, `"city":{"type":"string"},"region"`, `"city":{"type":"string","format":"town"},"region"`, 1),
			wantRule:    DefectUnknownFormat,
			wantPointer: confirmPointer + "/post/responses/200/content/application~1json/schema/properties/data/properties/policyholder/properties/city/format",
		},
		{
			name:        "new path with an undeclared parameter",
			doc:         strings.Replace(v, `"paths":{`, `"paths":{"/api/partners/{partner_id}/bookings/{booking_id}":{"get":{"responses":{"200":{"description":"ok"}}}},`, 1),
			wantRule:    DefectUndeclaredPathParameter,
			wantPointer: "/paths/~1api~1partners~1{partner_id}~1bookings~1{booking_id}",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NotEqual(t, v, tt.doc, "the test edit applies")
			defects, err := Lint([]byte(tt.doc))
			require.NoError(t, err)
			var hits []Defect
			for _, d := range defects {
				if d.Pointer == tt.wantPointer {
					hits = append(hits, d)
				}
			}
			require.NotEmpty(t, hits, "got %+v", defects)
			for _, d := range hits {
				assert.Equal(t, tt.wantRule, d.Rule)
				assert.Equal(t, tt.handled, d.Handled)
				assert.Equal(t, "not handled", d.Handling)
			}
			handled := 0
			for _, d := range defects {
				if d.Handled {
					handled++
				}
			}
			assert.Equal(t, 8, handled, "the eight known defects stay handled")
		})
	}
}

func TestLintDeclaredParametersAreNotDefects(t *testing.T) {
	doc := []byte(`openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /a/{x}/b/{y}:
    parameters:
      - {name: x, in: path, required: true, schema: {type: string}}
    get:
      parameters:
        - $ref: '#/components/parameters/Y'
      responses:
        "200":
          description: ok
          headers:
            X-RateLimit-Remaining: {schema: {type: integer}}
          content:
            application/json:
              schema:
                type: object
                properties:
                  format: {type: string, format: uuid}
                  when: {type: string, format: date-time, example: {format: nonsense}}
components:
  parameters:
    Y: {name: y, in: path, required: true, schema: {type: string}}
`)
	defects, err := Lint(doc)
	require.NoError(t, err)
	assert.Empty(t, defects)
}

func TestLintErrors(t *testing.T) {
	for _, doc := range []string{"", "garbage ]]", "[1,2]", `{"swagger":"2.0"}`, `{"openapi":"2.0"}`} {
		t.Run(doc, func(t *testing.T) {
			_, err := Lint([]byte(doc))
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrUnreadable), "got %v", err)
			assert.True(t, strings.HasPrefix(err.Error(), "spec: lint: "), "got %q", err)
		})
	}
}

func TestLintIsDeterministic(t *testing.T) {
	first, err := Lint(Vendor())
	require.NoError(t, err)
	for i := 0; i < 5; i++ {
		got, err := Lint(Vendor())
		require.NoError(t, err)
		require.Equal(t, first, got)
	}
	assert.True(t, sort.SliceIsSorted(first, func(i, j int) bool { return first[i].Pointer < first[j].Pointer }))
}

// TestLintEffects: every fix of the embedded overlay widens; an overlay that narrows (a type
// with a pattern the vendor's integers fail) does not handle the defect.
func TestLintEffects(t *testing.T) {
	defects, err := Lint(Vendor())
	require.NoError(t, err)
	for _, d := range defects {
		assert.True(t, strings.HasPrefix(d.Effect, "widens: "), "%s %s: got effect %q", d.Rule, d.Pointer, d.Effect)
	}

	narrowing, err := os.ReadFile("testdata/narrowing-overlay.yaml")
	require.NoError(t, err)
	defects, err = Lint(Vendor(), WithOverlay(narrowing))
	require.NoError(t, err)
	notHandled := map[string]string{}
	for _, d := range defects {
		if !d.Handled {
			notHandled[d.Pointer] = d.Handling
			assert.Empty(t, d.Effect)
		}
	}
	headers := confirmPointer + "/post/responses/401/headers/"
	for _, h := range []string{"CF-RAY", "X-XSS-Protection", "Cf-Team"} {
		assert.Contains(t, notHandled[headers+h+"/schema/type"], `adds "type"`, "header %s", h)
	}
	assert.Len(t, notHandled, 3, "got %v", notHandled)
}

func TestLastTargetKey(t *testing.T) {
	tests := map[string]string{
		"$.a.b.format":          "format",
		"$.a['b'].type":         "type",
		`$.a["x.y"]['pattern']`: "pattern",
		`$.a["required"]`:       "required",
		"$.a[*]":                "",
		"$":                     "",
		"$.a[?(@.x)]":           "",
	}
	for in, want := range tests {
		assert.Equal(t, want, lastTargetKey(in), "got %q for %s, want %q", lastTargetKey(in), in, want)
	}
}

// TestLintOverlayThatNoLongerApplies: when the vendor fixed a defect itself, the overlay action
// that fixed it matches nothing; Lint then handles nothing and says which action, and why.
func TestLintOverlayThatNoLongerApplies(t *testing.T) {
	fixed := strings.Replace(string(Vendor()), `"postcode":{"type":"string","format":"color"}`, `"postcode":{"type":"string"}`, 1)
	require.NotEqual(t, string(Vendor()), fixed, "the test edit applies")
	defects, err := Lint([]byte(fixed))
	require.NoError(t, err)
	require.Len(t, defects, 7, "the other seven defects remain")
	for _, d := range defects {
		assert.False(t, d.Handled, "%s %s", d.Rule, d.Pointer)
		assert.Contains(t, d.Handling, "overlay action 6 (remove $.paths")
		assert.Contains(t, d.Handling, "not applied: target matched zero nodes")
	}
}

// TestDefectsOfALoadedSpec: a loaded Spec answers what Lint answers for its document and overlay,
// from the trees Load already parsed; without an overlay nothing is handled.
func TestDefectsOfALoadedSpec(t *testing.T) {
	narrowing, err := os.ReadFile("testdata/narrowing-overlay.yaml")
	require.NoError(t, err)
	for name, overlay := range map[string][]byte{"embedded": Overlay(), "narrowing": narrowing} {
		t.Run(name, func(t *testing.T) {
			want, err := Lint(Vendor(), WithOverlay(overlay))
			require.NoError(t, err)
			s := loadSpec(t, WithOverlay(overlay))
			assert.Equal(t, want, s.Defects())
		})
	}
	defects := loadSpec(t, WithoutOverlay()).Defects()
	require.Len(t, defects, 8)
	for _, d := range defects {
		assert.Equal(t, "not handled", d.Handling, "%s %s", d.Rule, d.Pointer)
	}
}

// TestOverlayActionErrors: where libopenapi's overlay engine fails an action, or only warns about
// it, Load fails naming the action by index, target and description.
func TestOverlayActionErrors(t *testing.T) {
	tests := []struct {
		name   string
		action string
		want   []string
	}{
		{"copy and update", "{target: $.info, copy: $.info, update: {x-a: 1}}", []string{"overlay action 1 (copy $.info)", "not applied: copy and update are both set"}},
		{"object into a scalar", "{target: $.info.title, description: 'Retitle: why not', update: {a: 1}}", []string{"overlay action 1 (update $.info.title): Retitle", "incompatible"}},
		{"bad JSONPath", "{target: '$[', remove: true}", []string{"overlay action 1 (remove $[)", "JSONPath"}},
		{"copy source missing", "{target: $.info, copy: $.nowhere}", []string{"overlay action 1 (copy $.info)", "copy source"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ov := "overlay: 1.1.0\ninfo: {title: t, version: '1'}\nactions:\n  - " + tt.action + "\n"
			_, err := Load(WithOverlay([]byte(ov)))
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrDocument)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// TestUnhandled: Unhandled counts the defects whose Handled is false, the answer Lint gives for the
// vendor document with the embedded overlay (every defect handled) and with a narrowing one.
func TestUnhandled(t *testing.T) {
	narrowing, err := os.ReadFile("testdata/narrowing-overlay.yaml")
	require.NoError(t, err)
	lint := func(opts ...Option) []Defect {
		defects, err := Lint(Vendor(), opts...)
		require.NoError(t, err)
		return defects
	}
	tests := []struct {
		name    string
		defects []Defect
		want    int
	}{
		{"none", nil, 0},
		{"handled and not", []Defect{{Rule: "a", Handled: true}, {Rule: "b"}, {Rule: "c"}}, 2},
		{"embedded overlay", lint(), 0},
		{"narrowing overlay", lint(WithOverlay(narrowing)), 3},
		{"no overlay", lint(WithOverlay([]byte("overlay: 1.0.0\ninfo: {title: none, version: '1'}\nactions: []\n"))), 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Unhandled(tt.defects), "got %d, want %d", Unhandled(tt.defects), tt.want)
		})
	}
}
