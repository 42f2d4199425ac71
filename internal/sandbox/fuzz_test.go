package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// refHolderFields are the echoed policyholder members, in document order (the first
// three are required).
var refHolderFields = [...]string{"first_name", "last_name", "email", "phone", "country", "address1", "city", "region", "postcode"}

// jsonMaxDepth is encoding/json's nesting limit: deeper bodies are malformed.
const jsonMaxDepth = 10000

// refResult is the outcome of parsing a confirm body, in comparable form.
type refResult struct {
	Errs    []string // "field: message", sorted
	QuoteID string
	NQuotes int
	Holder  [9]string
}

// refParse is an independent implementation of the confirm body rules on generic
// encoding/json values, used to check the parser.
func refParse(body []byte) refResult {
	var out refResult
	add := func(f, m string) { out.Errs = append(out.Errs, f+": "+m) }
	var top map[string]any
	if json.Valid(body) {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err == nil {
			top, _ = v.(map[string]any)
		}
	}
	if top == nil {
		add("quotes", "The quotes field is required.")
		add("policyholder", "The policyholder field is required.")
		sort.Strings(out.Errs)
		return out
	}
	switch q := top["quotes"].(type) {
	case nil:
		add("quotes", "The quotes field is required.")
	case []any:
		if len(q) == 0 {
			add("quotes", "The quotes field is required.")
		}
		out.NQuotes = len(q)
		for i, el := range q {
			f := "quotes." + strconv.Itoa(i) + ".id"
			m, _ := el.(map[string]any)
			switch id := m["id"].(type) {
			case nil:
				add(f, "The "+f+" field is required.")
			case string:
				if i == 0 {
					out.QuoteID = id
				}
				switch {
				case id == "":
					add(f, "The "+f+" field is required.")
				case utf8.RuneCountInString(id) > maxField:
					add(f, "The "+f+" field must not be greater than 255 characters.")
				}
			default:
				add(f, "The "+f+" field must be a string.")
			}
		}
	default:
		add("quotes", "The quotes field must be an array.")
	}
	switch h := top["policyholder"].(type) {
	case nil:
		add("policyholder", "The policyholder field is required.")
	case map[string]any:
		typeErr := map[string]bool{}
		for i, name := range refHolderFields {
			f := "policyholder." + name
			switch v := h[name].(type) {
			case nil:
			case string:
				out.Holder[i] = v
			default:
				typeErr[name] = true
				add(f, "The "+f+" field must be a string.")
			}
		}
		for i, name := range refHolderFields[:3] {
			if out.Holder[i] == "" && !typeErr[name] {
				add("policyholder."+name, "The policyholder."+name+" field is required.")
			}
		}
		if e := out.Holder[2]; e != "" && !validEmail(e) {
			add("policyholder.email", "The policyholder.email field must be a valid email address.")
		}
		for i, v := range out.Holder {
			if utf8.RuneCountInString(v) > maxField {
				f := "policyholder." + refHolderFields[i]
				add(f, "The "+f+" field must not be greater than 255 characters.")
			}
		}
	default:
		add("policyholder", "The policyholder field must be an object.")
	}
	sort.Strings(out.Errs)
	return out
}

func gotResult(body []byte) refResult {
	req, errs := parseConfirm(decodeBody("application/json", body))
	var out refResult
	for _, e := range errs {
		out.Errs = append(out.Errs, e.field+": "+e.msg)
	}
	sort.Strings(out.Errs)
	out.QuoteID = req.quoteID
	out.NQuotes = req.nQuotes
	for i, m := range req.holder.members() {
		out.Holder[i] = *m.v
	}
	return out
}

func confirmSeeds() []string {
	return []string{
		`{"quotes":[{"id":"5f1d7c8e-3b2a-4c6d-9e0f-1a2b3c4d5e6f"}],"policyholder":{"first_name":"Ada","last_name":"L","email":"a@b.co"}}`,
		`{"quotes":[{"id":"a","insured":[{"first_name":"x"}]},{"id":"b"}],"policyholder":{"first_name":"\u00c9lise","last_name":"O\"Brien","email":"e@x.io","postcode":"2000"}}`,
		`{"quotes":[],"policyholder":null}`,
		`{"quotes":{"id":"x"},"policyholder":"x"}`,
		`{"quotes":[{"id":7},null,3],"policyholder":{"first_name":1,"email":"bad"}}`,
		`{"quotes":[{"id":"a"}],"quotes":null,"policyholder":{"email":"a@b.co","email":null}}`,
		`{"quotes":[{"id":"\ud83d\ude00\ud800x"}],"policyholder":{"first_name":"\\\/\b\f\n\r\t"}}`,
		` [1, -0.5e+3, true, false, null, "x"] `,
		`{"a":{"b":[{"c":[]}]}}`,
		`{"quotes":[{"id":"a"}],}`,
		`{"quotes":[{"id":"a"}]} x`,
		"{\"quotes\":[{\"id\":\"\xff\xfe\"}],\"policyholder\":{\"first_name\":\"\xc3\"}}",
		`01`, `-`, `1.`, `1e`, `"\u12"`, `{"x":tru}`, ``, `   `,
	}
}

func TestParseConfirmMatchesReference(t *testing.T) {
	for _, s := range confirmSeeds() {
		t.Run(s, func(t *testing.T) {
			assert.Equal(t, (refParse([]byte(s))), gotResult([]byte(s)))
		})
	}
	t.Run("deep nesting", func(t *testing.T) {
		deep := `{"x":` + strings.Repeat("[", jsonMaxDepth+5) + strings.Repeat("]", jsonMaxDepth+5) + `}`
		got := gotResult([]byte(deep))
		assert.Len(t, got.Errs, 2, "too deep counts as malformed: %v", got.Errs)
	})
}

// FuzzParseConfirm checks the confirm body parser against the reference, and that every
// accepted body renders a valid booking that echoes the policyholder.
func FuzzParseConfirm(f *testing.F) {
	for _, s := range confirmSeeds() {
		f.Add([]byte(s))
	}
	s, err := New(Seed(1))
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, body []byte) {
		want := (refParse(body))
		got := gotResult(body)
		require.Equal(t, want, got)
		req, errs := parseConfirm(decodeBody("application/json", body))
		if len(errs) > 0 {
			return
		}
		out := s.renderBooking(s.booking(1, offerID(1), &req, time.Unix(0, 0)), time.Unix(0, 0))
		var env struct {
			Data struct {
				Quote        struct{ UUID string }
				Policyholder map[string]any
			}
		}
		require.NoError(t, json.Unmarshal(out, &env), "%s", out)
		assert.Equal(t, want.QuoteID, env.Data.Quote.UUID)
		for i, name := range refHolderFields {
			assert.Equal(t, want.Holder[i], env.Data.Policyholder[name], name)
		}
	})
}

// FuzzVerifyToken checks that no string other than a minted token verifies.
func FuzzVerifyToken(f *testing.F) {
	s, err := New()
	require.NoError(f, err)
	tok := s.MintToken(ClientID, time.Hour)
	f.Add(tok)
	f.Add(strings.ToUpper(tok))
	f.Add(tok[:len(tok)-1] + "A")
	f.Add("")
	f.Add(strings.Repeat("A", len(tok)))
	now := time.Now()
	f.Fuzz(func(t *testing.T, in string) {
		assert.Equal(t, in == tok, s.allowed(in, now), "token %q", in)
	})
}

// FuzzTokenRequest checks the token endpoint never panics and answers a known status.
func FuzzTokenRequest(f *testing.F) {
	f.Add("application/json", `{"grant_type":"client_credentials","client_id":"sandbox-client","client_secret":"sandbox-secret"}`)
	f.Add("application/x-www-form-urlencoded", "grant_type=client_credentials&client_id=sandbox-client&client_secret=sandbox-secret")
	f.Add("", `{"grant_type":1}`)
	f.Add("text/plain", "%zz")
	s, err := New()
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, ct, body string) {
		r := httptest.NewRequest(http.MethodPost, TokenPath, strings.NewReader(body))
		r.Header.Set("Content-Type", ct)
		rec := serve(s, r)
		assert.Contains(t, []int{200, 400, 401}, rec.Code)
		assert.True(t, json.Valid(rec.Body.Bytes()), "%s", rec.Body)
	})
}
