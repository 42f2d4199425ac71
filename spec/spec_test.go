package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xoneharness/xoneharness/internal/xone"
)

const (
	testConfirmURL = "http://127.0.0.1:8080/api/partners/cg-partner-7/offers/3f6c2a9e-8b1d-4c7a-9e2f-5d4b3a2c1e0f/confirm"
	realCFRay      = "8a1b2c3d4e5f6789-SYD"
	realCfTeam     = "2b5f9c7e4a1d4c3e8f6a0b1c2d3e4f5a"
)

func loadSpec(tb testing.TB, opts ...Option) *Spec {
	tb.Helper()
	s, err := Load(opts...)
	require.NoError(tb, err)
	return s
}

func confirmReq(tb testing.TB) *http.Request {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, testConfirmURL, nil)
	require.NoError(tb, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer test-token-not-real")
	return req
}

func body200(tb testing.TB) []byte {
	tb.Helper()
	b, err := os.ReadFile("testdata/confirm-200.json")
	require.NoError(tb, err)
	return b
}

func jsonHeader() http.Header {
	return http.Header{"Content-Type": {"application/json"}, "Server": {"cloudflare"}}
}

// header401 is a real-looking Cloudflare 401 header set.
func header401() http.Header {
	return http.Header{
		"Content-Type":              {"application/json"},
		"Date":                      {"Fri, 27 Nov 2026 02:14:09 GMT"},
		"Transfer-Encoding":         {"chunked"},
		"Connection":                {"keep-alive"},
		"Cache-Control":             {"no-cache, private"},
		"Vary":                      {"Authorization"},
		"X-Content-Type-Options":    {"nosniff"},
		"X-Xss-Protection":          {"1; mode=block"},
		"Strict-Transport-Security": {"max-age=31536000; includeSubDomains"},
		"Cf-Cache-Status":           {"DYNAMIC"},
		"Server":                    {"cloudflare"},
		"Cf-Ray":                    {realCFRay},
		"Server-Timing":             {`cfL4;desc="?proto=TCP&rtt=1234&min_rtt=1100"`},
		"Cf-Team":                   {realCfTeam},
	}
}

// mutate decodes the realistic 200 body, applies f and encodes it again.
func mutate(tb testing.TB, f func(data map[string]any)) []byte {
	tb.Helper()
	var doc map[string]any
	require.NoError(tb, json.Unmarshal(body200(tb), &doc))
	f(doc["data"].(map[string]any))
	b, err := json.Marshal(doc)
	require.NoError(tb, err)
	return b
}

// lookup walks decoded JSON by object keys; nil when any key is missing.
func lookup(v any, keys ...string) any {
	for _, k := range keys {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	return v
}

func policy0(data map[string]any) map[string]any {
	return data["policies"].([]any)[0].(map[string]any)
}

// finding is the part of a Violation the tables assert on.
type finding struct{ Rule, Path, Keyword string }

// findings projects violations; no violations give an empty (not nil) slice.
func findings(vs []Violation) []finding {
	out := make([]finding, 0, len(vs))
	for _, v := range vs {
		out = append(out, finding{v.Rule, v.Path, v.Keyword})
	}
	return out
}

func orNone(f []finding) []finding {
	if f == nil {
		return []finding{}
	}
	return f
}

func TestEmbeddedDocuments(t *testing.T) {
	onDisk, err := os.ReadFile("confirm-offer.openapi.json")
	require.NoError(t, err)
	assert.Equal(t, onDisk, Vendor(), "Vendor() must be the vendor document byte-for-byte")

	ov, err := os.ReadFile("overlay.yaml")
	require.NoError(t, err)
	assert.Equal(t, ov, Overlay())

	v := Vendor()
	v[0] = 'X'
	assert.Equal(t, onDisk, Vendor(), "Vendor() returns a copy")
}

func TestLoad(t *testing.T) {
	s := loadSpec(t)
	assert.Equal(t, "/api/partners/{partner_id}/offers/{offer_id}/confirm", s.ConfirmPath())
	assert.Equal(t, []int{200, 401}, s.statuses)

	var doc map[string]any
	require.NoError(t, json.Unmarshal(s.Document(), &doc), "Document() is JSON")
	params := lookup(doc, "paths", s.ConfirmPath(), "parameters")
	require.IsType(t, []any{}, params)
	var names []string
	for _, p := range params.([]any) {
		pm := p.(map[string]any)
		assert.Equal(t, "path", pm["in"])
		assert.Equal(t, true, pm["required"])
		assert.Equal(t, "string", lookup(pm, "schema", "type"))
		names = append(names, pm["name"].(string))
	}
	assert.Equal(t, []string{"partner_id", "offer_id"}, names)

	raw := loadSpec(t, WithoutOverlay())
	assert.Equal(t, Vendor(), raw.Document(), "WithoutOverlay keeps the document as is")
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name       string
		doc        []byte
		unreadable bool
	}{
		{name: "garbage", doc: []byte("garbage ]]"), unreadable: true},
		{name: "empty", doc: nil, unreadable: true},
		{name: "swagger 2", doc: []byte(`{"swagger":"2.0","info":{"title":"x","version":"1"},"paths":{}}`), unreadable: true},
		{name: "no confirm operation", doc: []byte(`{"openapi":"3.0.0","info":{"title":"x","version":"1"},"paths":{"/ping":{"get":{"responses":{"200":{"description":"ok"}}}}}}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := tt.doc
			if doc == nil {
				doc = []byte{}
			}
			_, err := Load(FromDocument(doc), WithoutOverlay())
			require.Error(t, err)
			assert.Equal(t, tt.unreadable, errors.Is(err, ErrUnreadable), "got %v", err)
			assert.True(t, strings.HasPrefix(err.Error(), "spec: load: "), "got %q", err)
		})
	}
}

func TestFromDocumentAppliesOverlay(t *testing.T) {
	s := loadSpec(t, FromDocument(Vendor()))
	assert.Empty(t, s.ValidateResponse(confirmReq(t), Response{Status: 401, Header: header401(),
		Body: []byte(`{"message":"Unauthenticated."}`)}))

	// A newer vendor release that fixed postcode itself: the overlay action finds nothing to remove,
	// and Load says which action, by index, target and description.
	fixed := bytes.Replace(Vendor(), []byte(`"postcode":{"type":"string","format":"color"}`), []byte(`"postcode":{"type":"string"}`), 1)
	require.NotEqual(t, Vendor(), fixed, "the test edit applies")
	_, err := Load(FromDocument(fixed))
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrDocument)
	for _, want := range []string{"overlay action 6", "postcode.format", `Remove format "color" from policyholder.postcode`, "not applied: target matched zero nodes"} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestValidateResponse200(t *testing.T) {
	s := loadSpec(t)
	req := confirmReq(t)
	tests := []struct {
		name   string
		status int
		header http.Header
		body   []byte
		want   []finding
	}{
		{name: "realistic body passes", body: body200(t)},
		{name: "price as string",
			body: mutate(t, func(d map[string]any) { d["price"] = "42.90" }),
			want: []finding{{"schema", "$.data.price", "type"}}},
		{name: "bad email",
			body: mutate(t, func(d map[string]any) { d["policyholder"].(map[string]any)["email"] = "olivia.nguyen.example.com" }),
			want: []finding{{"format", "$.data.policyholder.email", "format"}}},
		{name: "bad date-time",
			body: mutate(t, func(d map[string]any) { d["created_at"] = "27/11/2026 02:14" }),
			want: []finding{{"format", "$.data.created_at", "format"}}},
		{name: "bad uri",
			body: mutate(t, func(d map[string]any) { policy0(d)["pds_url"] = "pds/TCX-AU-STD" }),
			want: []finding{{"format", "$.data.policies[0].pds_url", "format"}}},
		{name: "policies as object",
			body: mutate(t, func(d map[string]any) { d["policies"] = d["policies"].([]any)[0] }),
			want: []finding{{"schema", "$.data.policies", "type"}}},
		{name: "data as array",
			body: []byte(`{"data":[]}`),
			want: []finding{{"schema", "$.data", "type"}}},
		{name: "nested array item type",
			body: mutate(t, func(d map[string]any) { policy0(d)["policy_content"].(map[string]any)["inclusions"] = "all" }),
			want: []finding{{"schema", "$.data.policies[0].policy_content.inclusions", "type"}}},
		{name: "wrong content type",
			header: http.Header{"Content-Type": {"text/html; charset=UTF-8"}},
			body:   []byte("<html>maintenance</html>"),
			want:   []finding{{"content-type", "header:Content-Type", ""}}},
		{name: "missing content type",
			header: http.Header{},
			body:   body200(t),
			want:   []finding{{"content-type", "header:Content-Type", ""}}},
		{name: "empty body",
			body: nil,
			want: []finding{{"empty-body", "$", ""}}},
		{name: "whitespace body",
			body: []byte(" \n"),
			want: []finding{{"empty-body", "$", ""}}},
		{name: "null body",
			body: []byte("null"),
			want: []finding{{"empty-body", "$", ""}}},
		{name: "malformed JSON",
			body: []byte(`{"data":{"id":"EYYLD-F8LDV-INS"`),
			want: []finding{{"schema", "$", ""}}},
		{name: "undocumented 500",
			status: 500,
			body:   []byte(`{"message":"Server Error"}`),
			want:   []finding{{"status-undocumented", "$", ""}}},
		{name: "undocumented 429 without body",
			status: 429,
			header: http.Header{"Retry-After": {"1"}},
			want:   []finding{{"status-undocumented", "$", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, header := tt.status, tt.header
			if status == 0 {
				status = 200
			}
			if header == nil {
				header = jsonHeader()
			}
			got := s.ValidateResponse(req, Response{Status: status, Header: header, Body: tt.body})
			assert.Equal(t, orNone(tt.want), findings(got), "got %v", got)
			for _, v := range got {
				assert.Equal(t, status, v.Status, "Status is set on %v", v)
				assert.NotEmpty(t, v.Reason)
				assert.LessOrEqual(t, len(v.Observed), 64, "Observed stays short: %q", v.Observed)
			}
		})
	}
}

func TestViolationDetails(t *testing.T) {
	s := loadSpec(t)
	req := confirmReq(t)
	tests := []struct {
		name     string
		status   int
		header   http.Header
		body     []byte
		expected string
		observed string
	}{
		{name: "type", body: mutate(t, func(d map[string]any) { d["price"] = "42.90" }),
			expected: "number", observed: `"42.90"`},
		{name: "format", body: mutate(t, func(d map[string]any) { d["updated_at"] = "yesterday" }),
			expected: "date-time", observed: `"yesterday"`},
		{name: "container", body: mutate(t, func(d map[string]any) { d["policies"] = map[string]any{"a": 1} }),
			expected: "array", observed: "object (1 keys)"},
		{name: "status", status: 503, body: []byte(`{}`), expected: "one of 200, 401", observed: "503"},
		{name: "content type", header: http.Header{"Content-Type": {"text/html"}}, body: []byte(`{}`),
			expected: "application/json", observed: "text/html"},
		{name: "missing content type", header: http.Header{}, body: []byte(`{}`),
			expected: "application/json", observed: "(missing)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, header := tt.status, tt.header
			if status == 0 {
				status = 200
			}
			if header == nil {
				header = jsonHeader()
			}
			got := s.ValidateResponse(req, Response{Status: status, Header: header, Body: tt.body})
			require.Len(t, got, 1, "got %v", got)
			assert.Equal(t, tt.expected, got[0].Expected)
			assert.Equal(t, tt.observed, got[0].Observed)
		})
	}
}

func TestSensitiveValuesAreRedacted(t *testing.T) {
	s := loadSpec(t)
	body := mutate(t, func(d map[string]any) {
		d["policyholder"].(map[string]any)["email"] = "olivia.nguyen.example.com"
		d["policyholder"].(map[string]any)["phone"] = 61400000000
		d["security_token"] = 12345
	})
	got := s.ValidateResponse(confirmReq(t), Response{Status: 200, Header: jsonHeader(), Body: body})
	require.Len(t, got, 3, "got %v", got)
	for _, v := range got {
		text := fmt.Sprintf("%+v", v)
		assert.NotContains(t, text, "olivia")
		assert.NotContains(t, text, "61400000000")
		assert.NotContains(t, text, "12345")
		assert.Equal(t, xone.Redacted, v.Observed)
	}
}

func Test401NeedsOverlay(t *testing.T) {
	body := []byte(`{"message":"Unauthenticated."}`)
	tests := []struct {
		name string
		opts []Option
		want []finding
	}{
		{name: "with overlay passes", want: []finding{}},
		{name: "vendor document as is fails on the three headers", opts: []Option{WithoutOverlay()},
			want: []finding{
				{"header", "header:CF-RAY", "type"},
				{"header", "header:Cf-Team", "type"},
				{"header", "header:X-XSS-Protection", "type"},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := loadSpec(t, tt.opts...)
			got := s.ValidateResponse(confirmReq(t), Response{Status: 401, Header: header401(), Body: body})
			assert.Equal(t, orNone(tt.want), findings(got), "got %v", got)
		})
	}
}

func canonicalDocumented(h string) string {
	switch h {
	case "Cf-Ray":
		return "CF-RAY"
	case "X-Xss-Protection":
		return "X-XSS-Protection"
	}
	return h
}

func TestValidateRequest(t *testing.T) {
	s := loadSpec(t)
	valid := []byte(`{"quotes":[{"id":"7e6d5c4b-3a29-4187-a6b5-c4d3e2f1a0b9","insured":[{"first_name":"Olivia","last_name":"Nguyen"}]}],
		"policyholder":{"first_name":"Olivia","last_name":"Nguyen","email":"olivia.nguyen@example.com","country":"AU","postcode":"2000"}}`)
	tests := []struct {
		name   string
		method string
		url    string
		ctype  string
		body   []byte
		want   []finding
	}{
		{name: "valid confirm", body: valid},
		{name: "missing quotes", body: []byte(`{"policyholder":{"first_name":"Olivia"}}`),
			want: []finding{{"request-body", "$.quotes", "required"}}},
		{name: "missing policyholder", body: []byte(`{"quotes":[{"id":"q-1"}]}`),
			want: []finding{{"request-body", "$.policyholder", "required"}}},
		{name: "missing both", body: []byte(`{}`),
			want: []finding{{"request-body", "$.policyholder", "required"}, {"request-body", "$.quotes", "required"}}},
		{name: "quote without id", body: []byte(`{"quotes":[{"insured":[]}],"policyholder":{}}`),
			want: []finding{{"request-body", "$.quotes[0].id", "required"}}},
		{name: "quotes not an array", body: []byte(`{"quotes":{"id":"q-1"},"policyholder":{}}`),
			want: []finding{{"request-body", "$.quotes", "type"}}},
		{name: "malformed JSON", body: []byte(`{"quotes":[{"id":"q-1"}],`),
			want: []finding{{"request-body", "$", ""}}},
		{name: "empty body", body: nil,
			want: []finding{{"request-body", "$", ""}}},
		{name: "wrong content type", ctype: "text/plain", body: valid,
			want: []finding{{"request-body", "header:Content-Type", ""}}},
		{name: "missing content type", ctype: "-", body: valid,
			want: []finding{{"request-body", "header:Content-Type", ""}}},
		{name: "wrong path", url: "http://127.0.0.1:8080/api/partners/p/offers/o/cancel", body: valid,
			want: []finding{{"request-path", "path", ""}}},
		{name: "wrong method", method: http.MethodGet, body: valid,
			want: []finding{{"request-path", "path", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method, u := tt.method, tt.url
			if method == "" {
				method = http.MethodPost
			}
			if u == "" {
				u = testConfirmURL
			}
			req, err := http.NewRequest(method, u, nil)
			require.NoError(t, err)
			switch tt.ctype {
			case "":
				req.Header.Set("Content-Type", "application/json")
			case "-":
			default:
				req.Header.Set("Content-Type", tt.ctype)
			}
			got := s.ValidateRequest(req, tt.body)
			assert.Equal(t, orNone(tt.want), findings(got), "got %v", got)
		})
	}
}

func TestValidateDoesNotMutateRequest(t *testing.T) {
	s := loadSpec(t)
	req := confirmReq(t)
	req.Body = io.NopCloser(strings.NewReader("untouched"))
	before := req.Header.Clone()
	url := req.URL.String()
	ctx := req.Context()

	s.ValidateRequest(req, []byte(`{"quotes":[{}]}`))
	s.ValidateResponse(req, Response{Status: 200, Header: jsonHeader(), Body: []byte(`{"data":[]}`)})
	s.ValidateResponse(req, Response{Status: 401, Header: header401(), Body: []byte(`{}`)})

	assert.Equal(t, before, req.Header)
	assert.Equal(t, url, req.URL.String())
	assert.Equal(t, ctx, req.Context())
	rest, err := io.ReadAll(req.Body)
	require.NoError(t, err)
	assert.Equal(t, "untouched", string(rest), "the request body is neither read nor replaced")
}

func TestNilRequest(t *testing.T) {
	s := loadSpec(t)
	assert.Empty(t, s.ValidateResponse(nil, Response{Status: 200, Header: jsonHeader(), Body: body200(t)}))
	got := s.ValidateRequest(nil, []byte(`{"quotes":[{"id":"q"}]}`))
	assert.Equal(t, []finding{{"request-body", "$.policyholder", "required"}}, findings(got))
}

// badBody has many independent errors, so any ordering instability would show.
func badBody(tb testing.TB) []byte {
	return mutate(tb, func(d map[string]any) {
		d["price"] = "42.90"
		d["created_at"] = "nope"
		d["updated_at"] = 7
		d["is_instant_booking"] = "yes"
		d["account_url"] = "not a url"
		d["policyholder"].(map[string]any)["email"] = "broken"
		d["coi"].(map[string]any)["pdf"] = 3
		p := policy0(d)
		p["price"] = "x"
		p["tax"] = "y"
		p["pds_url"] = "relative/path"
		p["policy_content"].(map[string]any)["inclusions"] = "all"
	})
}

func TestDeterministicOrder(t *testing.T) {
	s := loadSpec(t)
	req := confirmReq(t)
	body := badBody(t)
	first := s.ValidateResponse(req, Response{Status: 200, Header: jsonHeader(), Body: body})
	require.Len(t, first, 11, "got %v", first)
	assert.True(t, sort.SliceIsSorted(first, func(i, j int) bool {
		if first[i].Path != first[j].Path {
			return first[i].Path < first[j].Path
		}
		return first[i].Rule < first[j].Rule
	}), "sorted by Path, Rule: %v", first)
	for i := 0; i < 20; i++ {
		got := s.ValidateResponse(req, Response{Status: 200, Header: jsonHeader(), Body: body})
		require.Equal(t, first, got, "run %d", i)
	}
	reqBody := []byte(`{"quotes":[{},{"id":1},{"insured":"x"}],"policyholder":[]}`)
	firstReq := s.ValidateRequest(req, reqBody)
	require.NotEmpty(t, firstReq)
	for i := 0; i < 20; i++ {
		require.Equal(t, firstReq, s.ValidateRequest(req, reqBody), "run %d", i)
	}
}

func TestConcurrentValidation(t *testing.T) {
	s := loadSpec(t, Strict())
	req := confirmReq(t)
	cases := []Response{
		{Status: 200, Header: jsonHeader(), Body: body200(t)},
		{Status: 200, Header: jsonHeader(), Body: badBody(t)},
		{Status: 200, Header: jsonHeader(), Body: nil},
		{Status: 401, Header: header401(), Body: []byte(`{"message":"Unauthenticated."}`)},
		{Status: 500, Header: jsonHeader(), Body: []byte(`{}`)},
	}
	want := make([][]Violation, len(cases))
	for i, c := range cases {
		want[i] = s.ValidateResponse(req, c)
	}
	const workers, rounds = 8, 25
	got := make([][][]Violation, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				for _, c := range cases {
					got[w] = append(got[w], s.ValidateResponse(req, c))
				}
				s.ValidateRequest(req, []byte(`{"quotes":[{"id":"q"}],"policyholder":{}}`))
			}
		}()
	}
	wg.Wait()
	for w := range got {
		require.Len(t, got[w], rounds*len(cases))
		for i, vs := range got[w] {
			assert.Equal(t, want[i%len(cases)], vs, "worker %d result %d", w, i)
		}
	}
}

func TestStrict(t *testing.T) {
	s := loadSpec(t, Strict())
	plain := loadSpec(t)
	req := confirmReq(t)
	untypedObjects := mutate(t, func(d map[string]any) {
		d["payment_status"] = map[string]any{"state": "PAID", "provider": map[string]any{"name": "stripe"}}
		d["provider_customer_id"] = map[string]any{"id": "cus_123"}
		p := policy0(d)
		p["cover_amount"] = map[string]any{"amount": 10, "currency": "AUD"}
		p["extra_fields"].(map[string]any)["event_cost"] = map[string]any{"amount": 1200, "currency": "AUD"}
		p["policy_content"].(map[string]any)["extra_content"] = []any{map[string]any{"type": "banner", "text": "Covered"}}
		p["parent_id"] = []any{map[string]any{"id": "x"}}
	})
	tests := []struct {
		name   string
		status int
		header http.Header
		body   []byte
		want   []finding
	}{
		{name: "realistic body", body: body200(t), want: []finding{}},
		{name: "objects inside untyped nullable fields", body: untypedObjects, want: []finding{}},
		{name: "extra field", body: mutate(t, func(d map[string]any) { d["surprise"] = true }),
			want: []finding{{"undocumented-field", "$.data.surprise", "additionalProperties"}}},
		{name: "extra nested field", body: mutate(t, func(d map[string]any) { policy0(d)["extra_fields"].(map[string]any)["promo"] = "X" }),
			want: []finding{{"undocumented-field", "$.data.policies[0].extra_fields.promo", "additionalProperties"}}},
		{name: "extra field next to a schema error", body: mutate(t, func(d map[string]any) { d["surprise"] = 1; d["price"] = "1" }),
			want: []finding{{"schema", "$.data.price", "type"}, {"undocumented-field", "$.data.surprise", "additionalProperties"}}},
		{name: "401 with Cloudflare headers", status: 401, header: header401(),
			body: []byte(`{"message":"Unauthenticated."}`), want: []finding{}},
		{name: "401 extra field", status: 401, header: header401(),
			body: []byte(`{"message":"Unauthenticated.","hint":"x"}`),
			want: []finding{{"undocumented-field", "$.hint", "additionalProperties"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, header := tt.status, tt.header
			if status == 0 {
				status = 200
			}
			if header == nil {
				header = jsonHeader()
			}
			resp := Response{Status: status, Header: header, Body: tt.body}
			got := s.ValidateResponse(req, resp)
			assert.Equal(t, orNone(tt.want), findings(got), "got %v", got)
			for _, v := range plain.ValidateResponse(req, resp) {
				assert.NotEqual(t, RuleUndocumentedField, v.Rule, "only Strict reports undocumented fields")
			}
		})
	}
	// The untyped schemas of the 200 body: provider_customer_id, payment_status, policyholder's
	// birth_date and address2, and in each policy cover_amount, extra_fields.event_cost,
	// cancelled_at, parent_id and extra_content's items.
	assert.Len(t, s.untyped, 9)
	assert.Empty(t, plain.untyped)
}

func BenchmarkValidateResponse200(b *testing.B) {
	s := loadSpec(b)
	req := confirmReq(b)
	resp := Response{Status: 200, Header: jsonHeader(), Body: body200(b)}
	b.SetBytes(int64(len(resp.Body)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if v := s.ValidateResponse(req, resp); v != nil {
			b.Fatalf("got %v, want none", v)
		}
	}
}

func BenchmarkValidateResponse401(b *testing.B) {
	s := loadSpec(b)
	req := confirmReq(b)
	resp := Response{Status: 401, Header: header401(), Body: []byte(`{"message":"Unauthenticated."}`)}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if v := s.ValidateResponse(req, resp); v != nil {
			b.Fatalf("got %v, want none", v)
		}
	}
}

func BenchmarkValidateResponse200Strict(b *testing.B) {
	s := loadSpec(b, Strict())
	req := confirmReq(b)
	resp := Response{Status: 200, Header: jsonHeader(), Body: body200(b)}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if v := s.ValidateResponse(req, resp); v != nil {
			b.Fatalf("got %v, want none", v)
		}
	}
}

func BenchmarkValidateRequest(b *testing.B) {
	s := loadSpec(b)
	req := confirmReq(b)
	body := []byte(`{"quotes":[{"id":"7e6d5c4b-3a29-4187-a6b5-c4d3e2f1a0b9"}],"policyholder":{"first_name":"Olivia","email":"olivia.nguyen@example.com"}}`)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if v := s.ValidateRequest(req, body); v != nil {
			b.Fatalf("got %v, want none", v)
		}
	}
}

func BenchmarkLoad(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(); err != nil {
			b.Fatal(err)
		}
	}
}

func TestStrictFilterIsNeeded(t *testing.T) {
	s := loadSpec(t, Strict())
	unfiltered := *s
	unfiltered.untyped = nil
	body := mutate(t, func(d map[string]any) { policy0(d)["cover_amount"] = map[string]any{"amount": 10} })
	resp := Response{Status: 200, Header: jsonHeader(), Body: body}
	assert.Empty(t, s.ValidateResponse(confirmReq(t), resp))
	got := unfiltered.ValidateResponse(confirmReq(t), resp)
	assert.Equal(t, []finding{{"undocumented-field", "$.data.policies[0].cover_amount.amount", "additionalProperties"}},
		findings(got), "strict mode alone reports keys inside untyped nullable fields")
}
