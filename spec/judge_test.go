package spec

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dataProperties is where the 200 body's data schema starts listing its properties in the
// vendor document.
const dataProperties = `"data":{"type":"object","properties":{`

// withDataSchema returns the vendor document with extra inserted at the start of the 200 data
// schema's properties (extra ends with a comma) and, when required is not nil, a required list
// on the data schema.
func withDataSchema(tb testing.TB, extra string, required []string) []byte {
	tb.Helper()
	doc := Vendor()
	require.Equal(tb, 1, bytes.Count(doc, []byte(dataProperties)), "the vendor document changed: adapt this test")
	repl := `"data":{"type":"object",`
	if required != nil {
		r, err := json.Marshal(required)
		require.NoError(tb, err)
		repl += `"required":` + string(r) + `,`
	}
	repl += `"properties":{` + extra
	return bytes.Replace(doc, []byte(dataProperties), []byte(repl), 1)
}

// TestFormatOnEveryType: the library applies formats to every type it registers them for; a
// format int32 on an integer must be a finding, as libopenapi-validator alone reports it.
func TestFormatOnEveryType(t *testing.T) {
	doc := withDataSchema(t, `"count":{"type":"integer","format":"int32"},`, nil)
	s := loadSpec(t, FromDocument(doc))
	req := confirmReq(t)
	tests := []struct {
		name  string
		count any
		want  []finding
	}{
		{"in range", 30000, []finding{}},
		{"int32 max", 2147483647, []finding{}},
		{"beyond int32", 30000000000, []finding{{"format", "$.data.count", "format"}}},
		{"below int32", -2147483649, []finding{{"format", "$.data.count", "format"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := mutate(t, func(d map[string]any) { d["count"] = tt.count })
			resp := Response{Status: 200, Header: jsonHeader(), Body: body}
			for i := 0; i < 3; i++ { // the first call compiles the schema; later ones reuse it
				got := s.ValidateResponse(req, resp)
				assert.Equal(t, tt.want, findings(got), "call %d: got %v", i, got)
			}
		})
	}
}

// TestRequiredNamesTheField: a missing required property is a violation at that property, read
// from the library's structured error whatever the name contains.
func TestRequiredNamesTheField(t *testing.T) {
	names := []string{"id", "it's", "tab\there", "zero\u200bwidth", `back\slash`, "a, 'b'", "naïve"}
	doc := withDataSchema(t, "", names)
	s := loadSpec(t, FromDocument(doc))
	req := confirmReq(t)
	for _, missing := range names {
		t.Run(strconv.Quote(missing), func(t *testing.T) {
			body := mutate(t, func(d map[string]any) {
				for _, n := range names {
					d[n] = "x"
				}
				delete(d, missing)
			})
			got := s.ValidateResponse(req, Response{Status: 200, Header: jsonHeader(), Body: body})
			require.Len(t, got, 1, "got %v", got)
			assert.Equal(t, finding{RuleRequired, joinPath("$.data", missing), "required"}, findings(got)[0])
			assert.Contains(t, got[0].Reason, strconv.Quote(missing))
		})
	}
	t.Run("several at once", func(t *testing.T) {
		body := mutate(t, func(d map[string]any) { delete(d, "id") })
		got := s.ValidateResponse(req, Response{Status: 200, Header: jsonHeader(), Body: body})
		assert.Len(t, got, len(names), "got %v", got)
		for _, v := range got {
			assert.Equal(t, RuleRequired, v.Rule)
		}
	})
}

// escapeNonASCII re-encodes a JSON document with every non-ASCII character written as \uXXXX
// (a surrogate pair beyond the BMP), as Python's json.dump does by default.
func escapeNonASCII(doc []byte) []byte {
	var b bytes.Buffer
	for _, r := range string(doc) {
		if r < utf8.RuneSelf {
			b.WriteRune(r)
			continue
		}
		if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
			fmt.Fprintf(&b, `\u%04x\u%04x`, r1, r2)
			continue
		}
		fmt.Fprintf(&b, `\u%04x`, r)
	}
	return b.Bytes()
}

// TestEscapedDocumentLoads: every valid JSON spelling of the vendor document loads, lints and
// diffs like the original.
func TestEscapedDocumentLoads(t *testing.T) {
	escaped := escapeNonASCII(Vendor())
	require.NotEqual(t, Vendor(), escaped)
	require.Contains(t, string(escaped), `\ud83d\udd11`, "the document has a character beyond the BMP")
	var a, b any
	require.NoError(t, json.Unmarshal(Vendor(), &a))
	require.NoError(t, json.Unmarshal(escaped, &b))
	require.Equal(t, a, b, "the same JSON value")

	s, err := Load(FromDocument(escaped))
	require.NoError(t, err)
	assert.Equal(t, hexSHA(escaped), s.Info().SHA256, "the digest is of the bytes as given")
	assert.Empty(t, s.ValidateResponse(confirmReq(t), Response{Status: 200, Header: jsonHeader(), Body: body200(t)}))

	want, err := Lint(Vendor())
	require.NoError(t, err)
	got, err := Lint(escaped)
	require.NoError(t, err)
	assert.Equal(t, want, got)

	for _, pair := range [][2][]byte{{Vendor(), escaped}, {escaped, Vendor()}} {
		rep, err := Diff(pair[0], pair[1])
		require.NoError(t, err)
		assert.Zero(t, rep.Total, "got %+v", rep.Changes)
	}

	path := filepath.Join(t.TempDir(), "vendor.json")
	require.NoError(t, os.WriteFile(path, escaped, 0o600))
	read, err := ReadDocument(path)
	require.NoError(t, err)
	assert.Equal(t, escaped, read, "ReadDocument returns the bytes as given")
}

func hexSHA(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestReadDocument(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	yamlDoc := "openapi: 3.0.0\ninfo: {title: y, version: '2'}\npaths: {}\n"
	tests := []struct {
		name       string
		path       string
		unreadable bool
	}{
		{"json", write("a.json", string(Vendor())), false},
		{"yaml", write("a.yaml", yamlDoc), false},
		{"garbage", write("b.json", "{]"), true},
		{"empty", write("c.json", ""), true},
		{"not openapi", write("d.json", `{"swagger":"2.0"}`), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := ReadDocument(tt.path)
			if tt.unreadable {
				require.Error(t, err)
				assert.True(t, errors.Is(err, ErrUnreadable), "got %v", err)
				assert.True(t, errors.Is(err, ErrDocument), "got %v", err)
				assert.True(t, strings.HasPrefix(err.Error(), "spec: read document: "), "got %q", err)
				return
			}
			require.NoError(t, err)
			assert.NotEmpty(t, b)
		})
	}
	_, err := ReadDocument(filepath.Join(dir, "missing.json"))
	require.Error(t, err)
	assert.True(t, errors.Is(err, os.ErrNotExist), "got %v", err)
}

// TestDocumentErrors: a document the harness cannot test against says what is missing, with an
// error wrapping ErrDocument.
func TestDocumentErrors(t *testing.T) {
	noConfirm := []byte(`{"openapi":"3.0.0","info":{"title":"x","version":"1"},"paths":{"/ping":{"get":{"responses":{"200":{"description":"ok"}}}}}}`)
	movedPath := bytes.ReplaceAll(Vendor(), []byte(`/api/partners/{partner_id}/offers/{offer_id}/confirm`),
		[]byte(`/api/v2/partners/{partner_id}/offers/{offer_id}/confirm`))
	tests := []struct {
		name     string
		opts     []Option
		contains []string
	}{
		{"no confirm operation", []Option{FromDocument(noConfirm)}, []string{"POST", "/confirm"}},
		{"overlay does not reach the confirm path", []Option{FromDocument(movedPath)},
			[]string{"partner_id", "offer_id", "/api/v2/partners/{partner_id}/offers/{offer_id}/confirm"}},
		{"overlay not an overlay", []Option{WithOverlay([]byte("garbage: ["))}, []string{"overlay"}},
		{"overlay with a bad target", []Option{WithOverlay([]byte("overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions:\n  - target: \"$[\"\n    remove: true\n"))},
			[]string{"overlay"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.opts...)
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrDocument), "got %v", err)
			for _, c := range tt.contains {
				assert.Contains(t, err.Error(), c)
			}
		})
	}
}

func TestWithOverlay(t *testing.T) {
	// The embedded overlay given explicitly is the default.
	s := loadSpec(t, WithOverlay(Overlay()))
	assert.Equal(t, loadSpec(t).Document(), s.Document())
	assert.Equal(t, loadSpec(t).Info(), s.Info())

	// An overlay that also marks data.id required.
	ov := string(Overlay()) + `
  - target: "$.paths['/api/partners/{partner_id}/offers/{offer_id}/confirm'].post.responses['200'].content['application/json'].schema.properties.data"
    description: Require data.id.
    update:
      required: [id]
`
	s = loadSpec(t, WithOverlay([]byte(ov)))
	body := mutate(t, func(d map[string]any) { delete(d, "id") })
	got := s.ValidateResponse(confirmReq(t), Response{Status: 200, Header: jsonHeader(), Body: body})
	assert.Equal(t, []finding{{RuleRequired, "$.data.id", "required"}}, findings(got))
	assert.Equal(t, hexSHA([]byte(ov)), s.Info().OverlaySHA256)
}

func TestInfo(t *testing.T) {
	s := loadSpec(t)
	got := s.Info()
	assert.Equal(t, DocInfo{Title: "Offers", Version: "1.0.0", SHA256: hexSHA(Vendor()), OverlaySHA256: hexSHA(Overlay())}, got)
	b, err := json.Marshal(got)
	require.NoError(t, err)
	assert.JSONEq(t, fmt.Sprintf(`{"title":"Offers","version":"1.0.0","sha256":%q,"overlay_sha256":%q}`, hexSHA(Vendor()), hexSHA(Overlay())), string(b))
	raw := loadSpec(t, WithoutOverlay()).Info()
	assert.Empty(t, raw.OverlaySHA256)
	assert.Equal(t, hexSHA(Vendor()), raw.SHA256)
}

// vendorHeaderValues are values the vendor document accepts for a header typed integer: any
// integer, in the spellings a server may send.
func vendorHeaderValues(r *rand.Rand) []string {
	out := []string{"0", "1", "-1", "2147483647", "9223372036854775807", "-9223372036854775808"}
	for i := 0; i < 40; i++ {
		out = append(out, strconv.FormatInt(r.Int64()-r.Int64(), 10), strconv.Itoa(r.IntN(1000)))
	}
	return out
}

// TestOverlayWidens: no value the vendor document accepts is rejected by the corrected document.
// Header values the vendor document's integer types accept, and 200 and 401 bodies it accepts,
// are validated against both; whatever the vendor document accepts, the corrected one accepts.
func TestOverlayWidens(t *testing.T) {
	vendor, corrected := loadSpec(t, WithoutOverlay()), loadSpec(t)
	r := rand.New(rand.NewPCG(7, 15))
	req := confirmReq(t)
	body401 := []byte(`{"message":"Unauthenticated."}`)
	checked := 0
	check := func(name string, resp Response) {
		t.Helper()
		if len(vendor.ValidateResponse(req, resp)) > 0 {
			return // outside what the vendor document accepts
		}
		checked++
		assert.Empty(t, corrected.ValidateResponse(req, resp), "%s: the vendor document accepts it", name)
	}
	base := header401()
	for _, h := range []string{"CF-RAY", "X-XSS-Protection", "Cf-Team"} {
		base.Set(h, "1")
	}
	for _, v := range vendorHeaderValues(r) {
		for _, h := range []string{"CF-RAY", "X-XSS-Protection", "Cf-Team"} {
			hd := base.Clone()
			hd.Set(h, v)
			check(h+"="+v, Response{Status: 401, Header: hd, Body: body401})
		}
		hd := base.Clone()
		for _, h := range []string{"CF-RAY", "X-XSS-Protection", "Cf-Team"} {
			hd.Set(h, v)
		}
		check("all three="+v, Response{Status: 401, Header: hd, Body: body401})
	}
	for i := 0; i < 60; i++ {
		check("401 body", Response{Status: 401, Header: base, Body: random401Body(r)})
		b := random200Body(t, r)
		check("200 body "+string(b[:min(len(b), 80)]), Response{Status: 200, Header: jsonHeader(), Body: b})
	}
	assert.Greater(t, checked, 150, "too few inputs the vendor document accepts for the test to mean anything")
}

func random401Body(r *rand.Rand) []byte {
	m := map[string]any{}
	if r.IntN(4) > 0 {
		m["message"] = randomString(r)
	}
	if r.IntN(2) == 0 {
		m["errors"] = map[string]any{"x": []any{randomString(r)}}
	}
	b, _ := json.Marshal(m)
	return b
}

func randomString(r *rand.Rand) string {
	pool := []string{"", "Unauthenticated.", "2000", "#fff", "+10:00", "<p>x</p>", "é", "🔑", "1; mode=block"}
	return pool[r.IntN(len(pool))]
}

// random200Body mutates the realistic 200 body with values the vendor's types allow: strings in
// place of strings (including those under the unknown formats color and style), numbers in place
// of numbers, untyped fields set to any value, optional properties removed, and extra properties.
func random200Body(tb testing.TB, r *rand.Rand) []byte {
	return mutate(tb, func(d map[string]any) {
		d["currency"] = randomString(r)
		d["total_price"] = r.Float64() * 1000
		ph := d["policyholder"].(map[string]any)
		ph["postcode"] = randomString(r)
		p := policy0(d)
		p["policy_start_date_tz_offset"] = randomString(r)
		p["policy_content"].(map[string]any)["disclaimer_html"] = randomString(r)
		anys := []any{nil, 1, "x", []any{1}, map[string]any{"a": 1}}
		p["cover_amount"] = anys[r.IntN(len(anys))]
		if r.IntN(2) == 0 {
			delete(d, "account_url")
		}
		if r.IntN(2) == 0 {
			d["extra_"+strconv.Itoa(r.IntN(9))] = randomString(r)
		}
	})
}

// TestStrictHeaderShapes: Strict reports header values off the shape the real API sends, as rule
// header-shape; without Strict they are valid.
func TestStrictHeaderShapes(t *testing.T) {
	strict, plain := loadSpec(t, Strict()), loadSpec(t)
	body := []byte(`{"message":"Unauthenticated."}`)
	tests := []struct {
		header, value string
		ok            bool
	}{
		{"Cf-Ray", realCFRay, true},
		{"Cf-Ray", "696da19ec8f36a2d-SYD", true},
		{"Cf-Ray", "8a1b2c3d4e5f6789", false},
		{"Cf-Ray", "12345", false},
		{"X-Xss-Protection", "0", true},
		{"X-Xss-Protection", "1; mode=block", true},
		{"X-Xss-Protection", "1;mode=block", true},
		{"X-Xss-Protection", "2", false},
		{"Cf-Team", realCfTeam, true},
		{"Cf-Team", "12345", false},
	}
	for _, tt := range tests {
		t.Run(tt.header+"="+tt.value, func(t *testing.T) {
			h := header401()
			h.Set(tt.header, tt.value)
			resp := Response{Status: 401, Header: h, Body: body}
			assert.Empty(t, plain.ValidateResponse(confirmReq(t), resp), "the corrected document accepts it")
			got := strict.ValidateResponse(confirmReq(t), resp)
			if tt.ok {
				assert.Empty(t, got)
				return
			}
			require.Len(t, got, 1, "got %v", got)
			assert.Equal(t, RuleHeaderShape, got[0].Rule)
			assert.Equal(t, "pattern", got[0].Keyword)
			assert.Equal(t, "header:"+canonicalDocumented(tt.header), got[0].Path)
			assert.Equal(t, tt.value, got[0].Observed)
			assert.NotEmpty(t, got[0].Expected)
		})
	}
}
