package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"sort"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xoneharness/xoneharness/internal/sandbox"
)

const body401 = `{"message":"Unauthenticated."}`

// schemaPaths lists the paths a JSON schema documents, walked with encoding/json: the oracle for
// the paths Coverage finds through libopenapi's model.
func schemaPaths(tb testing.TB, schema map[string]any, prefix string) []string {
	tb.Helper()
	var out []string
	props, _ := schema["properties"].(map[string]any)
	for name, sub := range props {
		require.Regexp(tb, `^[a-z_][a-z0-9_]*$`, name, "a plain name, written after a dot")
		child, _ := sub.(map[string]any)
		out = append(append(out, prefix+"."+name), schemaPaths(tb, child, prefix+"."+name)...)
	}
	if items, ok := schema["items"].(map[string]any); ok {
		out = append(append(out, prefix+"[]"), schemaPaths(tb, items, prefix+"[]")...)
	}
	return out
}

// schemaOf returns the report's coverage of one schema.
func schemaOf(tb testing.TB, r CoverageReport, status, part string) SchemaCoverage {
	tb.Helper()
	for _, sc := range r.Schemas {
		if sc.Status == status && sc.Part == part {
			return sc
		}
	}
	require.Failf(tb, "no such schema", "got no %s %s in %+v", status, part, r.Schemas)
	return SchemaCoverage{}
}

func pathOf(tb testing.TB, sc SchemaCoverage, path string) PathCoverage {
	tb.Helper()
	for _, p := range sc.Paths {
		if p.Path == path {
			return p
		}
	}
	require.Failf(tb, "no such path", "got no %s in %s %s", path, sc.Status, sc.Part)
	return PathCoverage{}
}

// TestCoveragePathsComeFromTheSchema: the documented paths are those of the corrected document's
// schemas, walked independently with encoding/json, and the headers those the 401 documents.
func TestCoveragePathsComeFromTheSchema(t *testing.T) {
	s := loadSpec(t)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(s.Document(), &doc))
	responses := lookup(doc, "paths", s.ConfirmPath(), "post", "responses")
	want := map[[2]string][]string{}
	for _, status := range []string{"200", "401"} {
		schema, _ := lookup(responses, status, "content", "application/json", "schema").(map[string]any)
		want[[2]string{status, "body"}] = schemaPaths(t, schema, "$")
	}
	for name := range lookup(responses, "401", "headers").(map[string]any) {
		want[[2]string{"401", "headers"}] = append(want[[2]string{"401", "headers"}], "header:"+name)
	}

	r := s.NewCoverage().Report()
	got := map[[2]string][]string{}
	for _, sc := range r.Schemas {
		for _, p := range sc.Paths {
			got[[2]string{sc.Status, sc.Part}] = append(got[[2]string{sc.Status, sc.Part}], p.Path)
		}
		assert.Equal(t, sc.Documented, len(sc.Paths))
		assert.Len(t, sc.NeverExercised, sc.Documented, "nothing added, nothing exercised")
	}
	for k := range want {
		sort.Strings(want[k])
	}
	assert.Equal(t, want, got)
	assert.Contains(t, got[[2]string{"200", "body"}], "$.data.policies[].extra_fields")
	assert.Contains(t, got[[2]string{"200", "body"}], "$.data.policies[].policy_content.extra_content[]")
	assert.Equal(t, 98, r.Documented, "84 body paths of the 200, 1 of the 401, 13 headers")
	assert.Zero(t, r.Exercised)
}

// everything200 is the realistic 200 body with a value in every nullable member and an element
// in every array.
func everything200(tb testing.TB) []byte {
	return mutate(tb, func(d map[string]any) {
		d["provider_customer_id"], d["payment_status"] = "C-1", "paid"
		p := policy0(d)
		p["cover_amount"], p["cancelled_at"], p["parent_id"] = 1000, "2026-11-28T00:00:00+00:00", "P-1"
		p["extra_fields"].(map[string]any)["event_cost"] = 42
		p["policy_content"].(map[string]any)["extra_content"] = []any{"more"}
		h := d["policyholder"].(map[string]any)
		h["birth_date"], h["address2"] = "1990-01-01", "Level 2"
	})
}

// TestCoverageOfEverything: a 200 body with every member and a 401 with every documented header
// exercise every path; the realistic body leaves exactly its nulls' values and its empty array.
func TestCoverageOfEverything(t *testing.T) {
	s := loadSpec(t)
	add := func(c *Coverage, resp Response) {
		vs := s.ValidateResponse(confirmReq(t), resp)
		require.Empty(t, vs)
		c.Add(resp, vs)
	}
	c := s.NewCoverage()
	add(c, Response{Status: 200, Header: jsonHeader(), Body: everything200(t)})
	add(c, Response{Status: 401, Header: header401(), Body: []byte(body401)})
	r := c.Report()
	assert.Equal(t, r.Documented, r.Exercised)
	for _, sc := range r.Schemas {
		assert.Empty(t, sc.NeverExercised, "%s %s", sc.Status, sc.Part)
		assert.NotNil(t, sc.NeverExercised, "an empty list, not null")
		assert.Equal(t, int64(1), sc.Responses)
		for _, p := range sc.Paths {
			assert.Equal(t, int64(1), p.Present, p.Path)
			assert.Equal(t, int64(1), p.NonNull, p.Path)
		}
	}

	c = s.NewCoverage()
	add(c, Response{Status: 200, Header: jsonHeader(), Body: body200(t)})
	sc := schemaOf(t, c.Report(), "200", "body")
	assert.Equal(t, []string{"$.data.policies[].policy_content.extra_content[]"}, sc.NeverExercised)
	cover := pathOf(t, sc, "$.data.policies[].cover_amount")
	assert.Equal(t, PathCoverage{Path: cover.Path, Present: 1, Kinds: map[string]int64{KindNull: 1, KindValue: 0}}, cover)
	created := pathOf(t, sc, "$.data.created_at")
	assert.Equal(t, map[string]int64{KindFormatMatched: 1, KindFormatUnmatched: 0}, created.Kinds)
}

// TestCoverageKinds: enum values, formats and nullable members are counted by kind, once per
// response however many array elements carry them; format violations come from ValidateResponse.
func TestCoverageKinds(t *testing.T) {
	doc := withDataSchema(t, `"tier":{"type":"string","enum":["gold","silver"]},"due":{"type":"string","format":"date-time","nullable":true},`, nil)
	s := loadSpec(t, FromDocument(doc))
	c := s.NewCoverage()
	bodies := []func(d map[string]any){
		func(d map[string]any) { d["tier"], d["due"] = "gold", "2026-12-01T00:00:00Z" },
		func(d map[string]any) { d["tier"], d["due"] = "bronze", nil },
		func(d map[string]any) { d["tier"], d["due"] = "gold", "tomorrow" },
		func(d map[string]any) {
			d["policies"] = append(d["policies"].([]any), maps.Clone(policy0(d))) // two policies, one response
			policy0(d)["created_at"] = "yesterday"                                // the second one's is valid
		},
	}
	for _, f := range bodies {
		resp := Response{Status: 200, Header: jsonHeader(), Body: mutate(t, f)}
		c.Add(resp, s.ValidateResponse(confirmReq(t), resp))
	}
	sc := schemaOf(t, c.Report(), "200", "body")
	tests := []struct {
		path             string
		present, nonNull int64
		kinds            map[string]int64
	}{
		{"$.data.tier", 3, 3, map[string]int64{"enum:gold": 2, "enum:silver": 0, KindEnumOther: 1}},
		{"$.data.due", 3, 2, map[string]int64{KindNull: 1, KindValue: 2, KindFormatMatched: 1, KindFormatUnmatched: 1}},
		{"$.data.policies[].created_at", 4, 4, map[string]int64{KindFormatMatched: 4, KindFormatUnmatched: 1}},
		{"$.data.policies[].price", 4, 4, nil},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			assert.Equal(t, PathCoverage{Path: tt.path, Present: tt.present, NonNull: tt.nonNull, Kinds: tt.kinds}, pathOf(t, sc, tt.path))
		})
	}
}

// sandboxResponse sends one confirm to a sandbox (tok "" sends none: a 401) and returns the
// response as the harness would validate it.
func sandboxResponse(t *testing.T, sb *sandbox.Server, tok string) Response {
	t.Helper()
	offer := uuid.NewString()
	body := fmt.Sprintf(`{"quotes":[{"id":%q}],"policyholder":{"first_name":"Ada","last_name":"Lovelace","email":"ada@example.com"}}`, uuid.NewString())
	req, err := http.NewRequest(http.MethodPost, sb.URL()+"/api/partners/"+sandbox.PartnerID+"/offers/"+offer+"/confirm", bytes.NewBufferString(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return Response{Status: resp.StatusCode, Header: WireHeader(resp), Body: b}
}

func sandboxToken(t *testing.T, sb *sandbox.Server) string {
	t.Helper()
	resp, err := http.Post(sb.TokenURL(), "application/json", bytes.NewBufferString(
		fmt.Sprintf(`{"grant_type":"client_credentials","client_id":%q,"client_secret":%q}`, sandbox.ClientID, sandbox.ClientSecret)))
	require.NoError(t, err)
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&tok))
	require.NotEmpty(t, tok.AccessToken)
	return tok.AccessToken
}

// TestCoverageOfTheSandbox: the embedded sandbox's usual answers leave the members XONE leaves out
// never exercised; with EveryMember they leave none.
func TestCoverageOfTheSandbox(t *testing.T) {
	s := loadSpec(t)
	tests := []struct {
		name  string
		opts  []sandbox.Option
		never map[string][]string
	}{
		{"default", nil, map[string][]string{
			"200 body":    {"$.data.policies[].policy_content.extra_content[]"},
			"401 body":    {},
			"401 headers": {"header:Connection", "header:Transfer-Encoding"},
		}},
		{"every member", []sandbox.Option{sandbox.EveryMember()}, map[string][]string{
			"200 body": {}, "401 body": {}, "401 headers": {},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb := sandbox.StartTB(t, tt.opts...)
			tok := sandboxToken(t, sb)
			c := s.NewCoverage()
			for _, tk := range []string{tok, tok, ""} {
				resp := sandboxResponse(t, sb, tk)
				vs := s.ValidateResponse(nil, resp)
				require.Empty(t, vs, "status %d", resp.Status)
				c.Add(resp, vs)
			}
			r := c.Report()
			got := map[string][]string{}
			for _, sc := range r.Schemas {
				got[sc.Status+" "+sc.Part] = sc.NeverExercised
			}
			assert.Equal(t, tt.never, got)
			assert.Equal(t, int64(3), r.Responses)
			assert.Equal(t, int64(2), schemaOf(t, r, "200", "body").Responses)
		})
	}
}

// TestCoverageMerge: shards merge commutatively, counts add up, and a report read back from
// JSON merges like the original.
func TestCoverageMerge(t *testing.T) {
	s := loadSpec(t)
	a, b := s.NewCoverage(), s.NewCoverage()
	a.Add(Response{Status: 200, Header: jsonHeader(), Body: body200(t)}, nil)
	a.Add(Response{Status: 418, Body: []byte(`{}`)}, nil)
	b.Add(Response{Status: 200, Header: jsonHeader(), Body: everything200(t)}, nil)
	b.Add(Response{Status: 401, Header: header401(), Body: []byte(body401)}, nil)
	ra, rb := a.Report(), b.Report()

	ab, ba := ra.Merge(rb), rb.Merge(ra)
	assert.Equal(t, ab, ba, "commutative")
	assert.Equal(t, int64(4), ab.Responses)
	assert.Equal(t, ab.Documented, ab.Exercised)
	price := pathOf(t, schemaOf(t, ab, "200", "body"), "$.data.policies[].cover_amount")
	assert.Equal(t, map[string]int64{KindNull: 1, KindValue: 1}, price.Kinds)
	assert.Equal(t, int64(2), price.Present)
	assert.Equal(t, ra, ra.Merge(CoverageReport{}), "the empty report is neutral")

	j, err := json.Marshal(ra)
	require.NoError(t, err)
	var back CoverageReport
	require.NoError(t, json.Unmarshal(j, &back))
	assert.Equal(t, ra, back, "a JSON round trip keeps everything")
	assert.Equal(t, ab, back.Merge(rb))
}

// TestCoverageConcurrentAdd: Add from many goroutines counts every response once.
func TestCoverageConcurrentAdd(t *testing.T) {
	s := loadSpec(t)
	c := s.NewCoverage()
	resp := Response{Status: 200, Header: jsonHeader(), Body: body200(t)}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 25 {
				c.Add(resp, nil)
			}
		})
	}
	wg.Wait()
	r := c.Report()
	assert.Equal(t, int64(200), r.Responses)
	assert.Equal(t, int64(200), pathOf(t, schemaOf(t, r, "200", "body"), "$.data.id").Present)
}

func TestWireHeader(t *testing.T) {
	h := http.Header{"Content-Type": {"application/json"}}
	resp := &http.Response{Header: h, TransferEncoding: []string{"chunked"}}
	got := WireHeader(resp)
	assert.Equal(t, "chunked", got.Get("Transfer-Encoding"))
	assert.Empty(t, h.Get("Transfer-Encoding"), "resp.Header is not modified")
	plain := &http.Response{Header: h}
	assert.Equal(t, h, WireHeader(plain))
	assert.True(t, slices.Equal([]string{"application/json"}, WireHeader(plain).Values("Content-Type")))
}

func BenchmarkCoverageAdd200(b *testing.B) {
	s := loadSpec(b)
	c := s.NewCoverage()
	resp := Response{Status: 200, Header: jsonHeader(), Body: body200(b)}
	b.SetBytes(int64(len(resp.Body)))
	b.ReportAllocs()
	for b.Loop() {
		c.Add(resp, nil)
	}
}
