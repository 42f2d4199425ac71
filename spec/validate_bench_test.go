package spec

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFastPathTaken proves the benchmarks measure the fast path: a conforming 200 is answered
// without the validator (and a 401, which documents headers, is not).
func TestFastPathTaken(t *testing.T) {
	s := loadSpec(t)
	req := confirmReq(t)
	ok200 := Response{Status: 200, Header: jsonHeader(), Body: body200(t)}
	require.Empty(t, s.ValidateResponse(req, ok200)) // the validator compiles the schema once
	assert.True(t, s.fastValid(req, ok200), "conforming 200")
	assert.True(t, s.fastValid(nil, ok200), "conforming 200, nil request")
	ok401 := Response{Status: 401, Header: header401(), Body: []byte(`{"message":"Unauthenticated."}`)}
	assert.False(t, s.fastValid(req, ok401), "401 before the validator compiled its header schemas")
	require.Empty(t, s.ValidateResponse(req, ok401))
	assert.True(t, s.fastValid(req, ok401), "conforming 401")
	bad := ok401
	bad.Header = header401()
	bad.Header.Set("Cf-Ray", "12345")
	assert.False(t, s.fastValid(req, bad), "a header off its pattern")
	strict := loadSpec(t, Strict())
	assert.False(t, strict.fastValid(req, ok200), "strict")
}

// TestFastPath401MatchesValidator: for 401s with every documented header missing, mistyped, off
// its pattern or in another case, and for other bodies, ValidateResponse finds what
// libopenapi-validator alone finds.
func TestFastPath401MatchesValidator(t *testing.T) {
	fast, slow := loadSpec(t), loadSpec(t)
	slow.fast = nil
	req := confirmReq(t)
	body := []byte(`{"message":"Unauthenticated."}`)
	require.Empty(t, fast.ValidateResponse(req, Response{Status: 401, Header: header401(), Body: body}))

	type variant struct {
		name   string
		header http.Header
		body   []byte
	}
	variants := []variant{{"as sent", header401(), body}}
	for name := range header401() {
		for _, v := range []string{"", "x", "12345", "0", "1; mode=block", realCFRay, realCfTeam, "8a1b2c3d4e5f6789", "1;mode=allow"} {
			h := header401()
			h.Set(name, v)
			variants = append(variants, variant{name + "=" + v, h, body})
		}
		h := header401()
		h.Del(name)
		variants = append(variants, variant{"without " + name, h, body})
		h = header401()
		h[name] = append(h[name], "x")
		variants = append(variants, variant{name + " twice", h, body})
		for _, v := range []string{h.Get(name), "x"} {
			h = header401()
			h.Del(name)
			h[strings.ToLower(name)] = []string{v} // a key not in canonical form
			variants = append(variants, variant{"lower-case " + name + "=" + v, h, body})
		}
	}
	for _, b := range []string{`{"message":1}`, `{}`, `{"message":"x","extra":[1]}`, `[]`, `{"message":"\u0041"}`} {
		variants = append(variants, variant{"body " + b, header401(), []byte(b)})
	}
	var taken int
	for _, v := range variants {
		resp := Response{Status: 401, Header: v.header, Body: v.body}
		if fast.fastValid(req, resp) {
			taken++
		}
		assert.Equal(t, findings(slow.ValidateResponse(req, resp)), findings(fast.ValidateResponse(req, resp)), v.name)
	}
	assert.Greater(t, taken, len(variants)/4, "the fast path answered too few variants for the test to mean anything")
}

// BenchmarkValidateResponse200Validator is BenchmarkValidateResponse200 without the fast path:
// what libopenapi-validator alone costs, for a side-by-side ratio.
func BenchmarkValidateResponse200Validator(b *testing.B) {
	s := loadSpec(b)
	s.fast = nil
	req := confirmReq(b)
	resp := Response{Status: 200, Header: jsonHeader(), Body: body200(b)}
	b.SetBytes(int64(len(resp.Body)))
	b.ReportAllocs()
	for b.Loop() {
		if v := s.ValidateResponse(req, resp); v != nil {
			b.Fatalf("got %v, want none", v)
		}
	}
}

// TestDecodeJSON checks the fast path's decoder against encoding/json: whenever it decodes, it
// decodes to the same value; otherwise the validator's path is taken.
func TestDecodeJSON(t *testing.T) {
	names := map[string]string{"data": "data", "id": "id"}
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"object", `{"data":{"id":"x","n":1.5e3,"a":[1,-0,true,false,null,"é"]}}`, true},
		{"duplicate keys, last wins", `{"id":1,"id":2}`, true},
		{"escapes", `{"a\u0062":"x\"y\\z\/\n\u00e9\ud83d\ude00"}`, true},
		{"empty containers", ` { "a" : [ ] , "b" : { } } `, true},
		{"invalid UTF-8 replaced", "{\"a\":\"\xff\"}", true},
		{"bad surrogate", `{"a":"\ud800"}`, true},
		{"big but finite", `1.7976931348623157e308`, true},
		{"out of range", `1e400`, false},
		{"leading zero", `01`, false},
		{"bare minus", `-`, false},
		{"dot without digits", `1.`, false},
		{"exponent without digits", `1e+`, false},
		{"trailing data", `{} {}`, false},
		{"trailing comma", `[1,]`, false},
		{"unterminated string", `"abc`, false},
		{"unterminated escape", `"abc\"`, false},
		{"control character", "\"a\tb\"", false},
		{"bad escape", `"\x"`, false},
		{"truncated literal", `tru`, false},
		{"literal with tail", `truex`, false},
		{"empty", ``, false},
		{"missing colon", `{"a" 1}`, false},
		{"single quotes", `{'a':1}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ok := decodeJSON([]byte(tt.in), names)
			assert.Equal(t, tt.ok, ok, "got ok=%v, want %v", ok, tt.ok)
			checkDecode(t, []byte(tt.in), names)
		})
	}
}

// checkDecode fails when decodeJSON decodes b to something encoding/json would not.
func checkDecode(t *testing.T, b []byte, names map[string]string) {
	t.Helper()
	got, ok := decodeJSON(b, names)
	if !ok {
		return
	}
	var want any
	require.NoError(t, json.Unmarshal(b, &want), "decodeJSON accepted what encoding/json rejects: %q", b)
	assert.Equal(t, want, got, "input %q", b)
}

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"data":{"id":"x"}}`, `[1,2.5,-3e2,"a\"b",null,true,false]`, `{"a":{"b":[{}]}}`, "\"\xff\"", `"\u00e9"`} {
		f.Add([]byte(s))
	}
	names := map[string]string{"data": "data", "id": "id", "a": "a"}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkDecode(t, b, names)
	})
}
