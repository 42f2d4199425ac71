package sandbox

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xoneharness/xoneharness/internal/xone"
	"github.com/xoneharness/xoneharness/spec"
)

// documented returns the vendor document's confirm responses, keyed by status. The
// overlay that corrects it changes no member's name or place (it drops wrong types and
// formats), so the members are the corrected document's too.
func documented(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	require.NoError(t, json.Unmarshal(spec.Vendor(), &doc))
	op, _ := lookupJSON(doc, "paths", xone.ConfirmPathTemplate, "post", "responses").(map[string]any)
	require.NotNil(t, op, "the document has the confirm responses")
	return op
}

func lookupJSON(v any, keys ...string) any {
	for _, k := range keys {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	return v
}

// schemaPaths lists every member a schema documents, as paths like
// "data.policies[].price"; "x[]" stands for an element of array x.
func schemaPaths(t *testing.T, schema map[string]any, prefix string, out []string) []string {
	t.Helper()
	require.NotContains(t, schema, "$ref", "%s: a reference; the walk reads inline schemas only", prefix)
	props, _ := schema["properties"].(map[string]any)
	for name, sub := range props {
		p := name
		if prefix != "" {
			p = prefix + "." + name
		}
		out = append(out, p)
		child, _ := sub.(map[string]any)
		out = schemaPaths(t, child, p, out)
	}
	if items, ok := schema["items"].(map[string]any); ok {
		out = append(out, prefix+"[]")
		out = schemaPaths(t, items, prefix+"[]", out)
	}
	return out
}

// exercised adds to seen every path of v that holds a non-null value, an array element
// counting as "[]".
func exercised(v any, prefix string, seen map[string]bool) {
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			if c != nil {
				seen[p] = true
				exercised(c, p, seen)
			}
		}
	case []any:
		for _, c := range t {
			if c != nil {
				seen[prefix+"[]"] = true
				exercised(c, prefix+"[]", seen)
			}
		}
	}
}

func missing(want []string, seen map[string]bool) []string {
	var out []string
	for _, p := range want {
		if !seen[p] {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// TestEveryMember walks the corrected document's 200 schema and 401 headers and body:
// with EveryMember, 50 answers exercise every documented member (present, non-null, every
// array with an element) and still validate, formats and strict mode on; without it the
// default sandbox leaves some out, which a coverage report shows as never exercised.
func TestEveryMember(t *testing.T) {
	plain, strict := loadSpecs(t)
	responses := documented(t)
	okSchema, _ := lookupJSON(responses, "200", "content", "application/json", "schema").(map[string]any)
	unauthSchema, _ := lookupJSON(responses, "401", "content", "application/json", "schema").(map[string]any)
	headers, _ := lookupJSON(responses, "401", "headers").(map[string]any)
	okPaths := schemaPaths(t, okSchema, "", nil)
	unauthPaths := schemaPaths(t, unauthSchema, "", nil)
	require.Greater(t, len(okPaths), 80, "the 200 schema documents its members: %v", okPaths)
	require.NotEmpty(t, unauthPaths)
	require.NotEmpty(t, headers)

	// run answers n confirms and n unauthenticated confirms, validating each, and
	// returns what the 200 bodies, the 401 bodies and the 401 headers exercised.
	run := func(t *testing.T, opts ...Option) (ok, unauth map[string]bool, hdrs []string) {
		s := newTB(t, opts...)
		tok := s.MintToken(ClientID, 0)
		ok, unauth = map[string]bool{}, map[string]bool{}
		for i := range 50 {
			for _, r := range []*http.Request{confirmReq(offerID(i), tok, validBody(t)), confirmReq(offerID(i), "", validBody(t))} {
				rec := serve(s, r)
				resp := spec.Response{Status: rec.Code, Header: rec.Result().Header, Body: rec.Body.Bytes()}
				assert.Empty(t, plain.ValidateResponse(specReq(offerID(i)), resp), "answer %d (%d)", i, rec.Code)
				assert.Empty(t, strict.ValidateResponse(specReq(offerID(i)), resp), "answer %d (%d, strict)", i, rec.Code)
				var v any
				require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &v), "body: %s", rec.Body)
				if rec.Code == http.StatusOK {
					exercised(v, "", ok)
					continue
				}
				require.Equal(t, http.StatusUnauthorized, rec.Code)
				exercised(v, "", unauth)
				for name := range headers {
					if rec.Header().Get(name) != "" && !slices.Contains(hdrs, name) {
						hdrs = append(hdrs, name)
					}
				}
			}
		}
		return ok, unauth, hdrs
	}
	t.Run("EveryMember exercises every member", func(t *testing.T) {
		ok, unauth, hdrs := run(t, EveryMember())
		assert.Empty(t, missing(okPaths, ok), "200 members never exercised")
		assert.Empty(t, missing(unauthPaths, unauth), "401 members never exercised")
		assert.Len(t, hdrs, len(headers), "got 401 headers %v, want all of the %d documented", hdrs, len(headers))
	})
	t.Run("default leaves some out", func(t *testing.T) {
		ok, _, hdrs := run(t)
		assert.NotEmpty(t, missing(okPaths, ok), "the default sandbox exercises every 200 member")
		assert.Less(t, len(hdrs), len(headers), "the default sandbox sends every documented 401 header")
	})
}
