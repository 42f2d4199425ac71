package spec

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pb33f/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// compiled200 is the 200 body's schema as the validator compiled it, with its check.
func compiled200(tb testing.TB) *bodySchema {
	tb.Helper()
	s := loadSpec(tb)
	require.Empty(tb, s.ValidateResponse(confirmReq(tb), Response{Status: 200, Header: jsonHeader(), Body: body200(tb)}))
	for _, slot := range s.fast.compiled {
		if bs := slot.Load(); bs != nil {
			require.NoError(tb, bs.checkErr, "the confirm 200 schema must compile to a check")
			require.NotNil(tb, bs.chk)
			return bs
		}
	}
	tb.Fatal("the validator compiled no body schema")
	return nil
}

// libraryAccepts is what the validator's path decides for a body: encoding/json decodes it and
// the compiled schema accepts it.
func libraryAccepts(sch *jsonschema.Schema, b []byte) bool {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return false
	}
	return sch.Validate(v) == nil
}

// TestCheckMatchesLibrary: the check accepts what the library accepts in the common cases, and
// never accepts what the library rejects.
func TestCheckMatchesLibrary(t *testing.T) {
	bs := compiled200(t)
	tests := []struct {
		name string
		body []byte
		want bool // what the check answers; true must imply the library accepts
	}{
		{"realistic body", body200(t), true},
		{"escaped slashes in a uri", []byte(strings.Replace(string(body200(t)), `"account_url":"https://`, `"account_url":"https:\/\/`, 1)), true},
		{"undocumented property", mutate(t, func(d map[string]any) { d["extra"] = []any{1, "x", nil} }), true},
		{"null where nothing is typed", mutate(t, func(d map[string]any) { d["payment_status"] = nil }), true},
		{"integer price", mutate(t, func(d map[string]any) { d["price"] = 42 }), true},
		{"non-ASCII text", mutate(t, func(d map[string]any) { d["policyholder"].(map[string]any)["first_name"] = "Zoë" }), true},
		{"non-ASCII email, which the library's email format refuses", mutate(t, func(d map[string]any) { d["policyholder"].(map[string]any)["email"] = "zoë@example.com" }), false},
		{"invalid UTF-8 in a formatted string", []byte("{\"data\":{\"created_at\":\"2026-11-27T02:14:09Z\xff\"}}"), false},
		{"invalid UTF-8 in text", []byte("{\"data\":{\"id\":\"\xff\"}}"), true},
		{"price as string", mutate(t, func(d map[string]any) { d["price"] = "42.90" }), false},
		{"bad email", mutate(t, func(d map[string]any) { d["policyholder"].(map[string]any)["email"] = "olivia.example.com" }), false},
		{"bad date-time", mutate(t, func(d map[string]any) { d["created_at"] = "27/11/2026 02:14" }), false},
		{"bad uri", mutate(t, func(d map[string]any) { policy0(d)["pds_url"] = "pds/TCX-AU-STD" }), false},
		{"policies as object", mutate(t, func(d map[string]any) { d["policies"] = d["policies"].([]any)[0] }), false},
		{"policy as null", mutate(t, func(d map[string]any) { d["policies"] = []any{nil} }), false},
		{"data as array", []byte(`{"data":[]}`), false},
		{"data as null", []byte(`{"data":null}`), false},
		{"boolean as string", mutate(t, func(d map[string]any) { d["is_instant_booking"] = "yes" }), false},
		{"array item type", mutate(t, func(d map[string]any) { policy0(d)["policy_content"].(map[string]any)["inclusions"] = []any{1} }), false},
		{"top-level array", []byte(`[]`), false},
		{"truncated", []byte(`{"data":{"id":"EYYLD"`), false},
		{"trailing data", []byte(`{"data":{}} {}`), false},
		{"number out of range", []byte(`{"data":{"price":1e400}}`), false},
		{"bad escape", []byte(`{"data":{"id":"\x"}}`), false},
		{"control character", []byte("{\"data\":{\"id\":\"a\tb\"}}"), false},
		{"escapes in text", []byte(`{"data":{"id":"\u003cp\u003e \" \\ \/ \b\f\n\r\t \ud800"}}`), true},
		{"short unicode escape", []byte(`{"data":{"id":"\u12"}}`), false},
		{"unicode escape not hex", []byte(`{"data":{"id":"\u00zz"}}`), false},
		{"unterminated escape", []byte(`{"data":{"id":"abc\`), false},
		{"escape at the end", []byte(`{"data":{"id":"\u0041`), false},
		{"escaped key (declined, library decides)", []byte(`{"d\u0061ta":{}}`), false},
		{"escaped bad date-time", []byte(`{"data":{"created_at":"2026\u002d11\u002d27"}}`), false},
		{"escaped good date-time", []byte(`{"data":{"created_at":"2026\u002d11\u002d27T02:14:09Z"}}`), true},
		{"repeated key, the first one bad", []byte(`{"data":{"price":"x","price":1}}`), false},
		{"empty object", []byte(`{}`), true},
		{"whitespace", []byte(" \n{ \"data\" : { } }\t"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := bs.chk.valid(tt.body)
			assert.Equal(t, tt.want, got, "check on %s", tt.body)
			if got {
				assert.True(t, libraryAccepts(bs.sch, tt.body), "the check accepted what the library rejects: %s", tt.body)
			}
		})
	}
}

// TestCheckFormatMemo: the remembered value never lets a different, invalid one through.
func TestCheckFormatMemo(t *testing.T) {
	bs := compiled200(t)
	with := func(v string) []byte {
		return []byte(`{"data":{"created_at":"` + v + `"}}`)
	}
	for i, tt := range []struct {
		v    string
		want bool
	}{
		{"2026-11-27T02:14:09Z", true},
		{"2026-11-27T02:14:09Z", true},
		{"2026-11-27T02:14:0", false},
		{"2026-11-27T02:14:09Z ", false},
		{"2026-11-27T02:14:10Z", true},
		{"2026-11-27T02:14:09Z", true},
	} {
		assert.Equal(t, tt.want, bs.chk.valid(with(tt.v)), "step %d: %q", i, tt.v)
	}
}

// compileSchema compiles one JSON Schema document the way the validator does (formats asserted).
func compileSchema(t *testing.T, doc string) *jsonschema.Schema {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	require.NoError(t, c.AddResource("s.json", v))
	sch, err := c.Compile("s.json")
	require.NoError(t, err)
	return sch
}

// TestCompileCheckRefuses: any keyword the check does not implement makes it refuse the schema,
// so the library decides.
func TestCompileCheckRefuses(t *testing.T) {
	for _, tt := range []struct{ schema, want string }{
		{`{"required":["a"]}`, "Required"},
		{`{"enum":[1]}`, "Enum"},
		{`{"const":1}`, "Const"},
		{`{"type":"number","multipleOf":2}`, "MultipleOf"},
		{`{"type":"string","maxLength":3}`, "MaxLength"},
		{`{"minimum":1}`, "Minimum"},
		{`{"additionalProperties":false}`, "additionalProperties"},
		{`{"properties":{"a":{"oneOf":[{"type":"string"}]}}}`, "OneOf"},
		{`{"items":{"uniqueItems":true}}`, "UniqueItems"},
		{`{"prefixItems":[{}]}`, "PrefixItems"},
		{`false`, "false schema"},
		{`{"$defs":{"a":{"type":"string"}},"$ref":"#/$defs/a","type":"string"}`, "$ref beside"},
		{`{"type":"string","format":"regex"}`, "regex"},
	} {
		t.Run(tt.schema, func(t *testing.T) {
			_, err := compileCheck(compileSchema(t, tt.schema))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// TestCheckKeywords checks the keywords the check implements, against the library, on small
// schemas: integers, nullable types, $ref, items, formats.
func TestCheckKeywords(t *testing.T) {
	for _, tt := range []struct {
		schema, body string
		want         bool
	}{
		{`{"type":"integer"}`, `1`, true},
		{`{"type":"integer"}`, `-0`, true},
		{`{"type":"integer"}`, `123456789012345678901234567890`, true},
		{`{"type":"integer"}`, `1.5`, false},
		{`{"type":"integer"}`, `1.0`, false}, // declined: the library accepts it
		{`{"type":"integer"}`, `1e2`, false}, // declined
		{`{"type":"number"}`, `1.5e-3`, true},
		{`{"type":"number"}`, `"1"`, false},
		{`{"type":["string","null"]}`, `null`, true},
		{`{"type":"string"}`, `null`, false},
		{`{"type":"boolean"}`, `false`, true},
		{`{"type":"boolean"}`, `0`, false},
		{`{"$defs":{"a":{"type":"string"}},"properties":{"x":{"$ref":"#/$defs/a"}}}`, `{"x":"s"}`, true},
		{`{"$defs":{"a":{"type":"string"}},"properties":{"x":{"$ref":"#/$defs/a"}}}`, `{"x":1}`, false},
		{`{"type":"array","items":{"type":"string","format":"date"}}`, `["2026-11-27"]`, true},
		{`{"type":"array","items":{"type":"string","format":"date"}}`, `["2026-11-27","2026-13-01"]`, false},
		{`{"format":"uuid"}`, `"3f6c2a9e-8b1d-4c7a-9e2f-5d4b3a2c1e0f"`, true},
		{`{"format":"uuid"}`, `"3f6c2a9e"`, false},
		{`{"format":"email"}`, `5`, true}, // a format asserts nothing on another type
		{`{"type":"string","pattern":"^a+$"}`, `"aaa"`, true},
		{`{"type":"string","pattern":"^a+$"}`, `"aab"`, false},
		{`{"type":"string","pattern":"^a+$","format":"email"}`, `"aaa"`, false},
		{`{"pattern":"^a+$"}`, `5`, true}, // a pattern asserts nothing on another type
		// b's format memo must not let the same string through a's pattern
		{`{"properties":{"a":{"format":"date","pattern":"^2026"},"b":{"format":"date"}}}`, `{"b":"2025-01-01","a":"2025-01-01"}`, false},
		{`{"properties":{"a":{"format":"date","pattern":"^2026"},"b":{"format":"date"}}}`, `{"b":"2026-01-01","a":"2026-01-01"}`, true},
		{`{"title":"t","description":"d","default":1,"examples":[2],"readOnly":true}`, `{"a":[1,{"b":null}]}`, true},
		{`true`, `[1]`, true},
	} {
		t.Run(tt.schema+" "+tt.body, func(t *testing.T) {
			sch := compileSchema(t, tt.schema)
			c, err := compileCheck(sch)
			require.NoError(t, err)
			got := c.valid([]byte(tt.body))
			assert.Equal(t, tt.want, got)
			if got {
				assert.True(t, libraryAccepts(sch, []byte(tt.body)), "the check accepted what the library rejects")
			}
		})
	}
}

// FuzzCheck: whatever the body, the check never accepts what the library rejects.
func FuzzCheck(f *testing.F) {
	bs := compiled200(f)
	f.Add(body200(f))
	for _, s := range []string{`{"data":{"price":"1"}}`, `{"data":{"created_at":"2026-11-27T02:14:09Z","policies":[{"price":1.5}]}}`,
		`{"data":{"policyholder":{"email":"a@b.c"},"policies":[]}}`, `{"data":{"account_url":"https:\/\/x"}}`, `null`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if bs.chk.valid(b) && !libraryAccepts(bs.sch, b) {
			t.Errorf("the check accepted what the library rejects: %q", b)
		}
	})
}

// BenchmarkCheck is the check alone on the realistic 200 body: as it runs under load, and with
// its remembered format values forgotten before each body (every format function called).
func BenchmarkCheck(b *testing.B) {
	bs := compiled200(b)
	body := body200(b)
	for _, bc := range []struct {
		name   string
		forget bool
	}{{"memo", false}, {"no-memo", true}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if bc.forget {
					forgetFormats(bs.chk)
				}
				if !bs.chk.valid(body) {
					b.Fatal("rejected")
				}
			}
		})
	}
}

func forgetFormats(c *check) {
	if c == nil {
		return
	}
	if c.memo != nil {
		for i := range c.memo.slots {
			c.memo.slots[i].Store(nil)
		}
	}
	for _, p := range c.props {
		forgetFormats(p)
	}
	forgetFormats(c.items)
}
