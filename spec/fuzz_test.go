package spec

import (
	"errors"
	"net/http"
	"sort"
	"testing"
)

// FuzzValidateResponse feeds arbitrary bodies, statuses and content types (outside input: whatever
// the target answers) to ValidateResponse: it must not panic, and its result must be sorted, short
// and stable.
func FuzzValidateResponse(f *testing.F) {
	s, err := Load(Strict())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(200, "application/json", []byte(`{"data":{"price":"1"}}`))
	f.Add(200, "application/json", []byte(`null`))
	f.Add(401, "application/json; charset=utf-8", []byte(`{"message":"Unauthenticated."}`))
	f.Add(500, "text/html", []byte(`<html></html>`))
	f.Add(200, "", []byte(`{"data":{"policies":[{"cover_amount":{"a":{"b":1}}}],"x":[1,{"y":2}]}}`))
	f.Add(200, "application/json", []byte(`{"data":{"policyholder":{"email":"a@","phone":5}}}`))
	req, err := http.NewRequest(http.MethodPost, testConfirmURL, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, status int, ctype string, body []byte) {
		if status < 100 || status > 599 {
			status = 200 + (status%400+400)%400
		}
		h := http.Header{}
		if ctype != "" {
			h.Set("Content-Type", ctype)
		}
		got := s.ValidateResponse(req, Response{Status: status, Header: h, Body: body})
		if !sort.SliceIsSorted(got, func(i, j int) bool { return got[i].Path < got[j].Path }) {
			t.Errorf("got unsorted %v", got)
		}
		for _, v := range got {
			if v.Rule == "" || v.Reason == "" || len(v.Observed) > 64 {
				t.Errorf("got malformed %+v", v)
			}
		}
		again := s.ValidateResponse(req, Response{Status: status, Header: h, Body: body})
		if len(again) != len(got) {
			t.Errorf("got %d then %d violations", len(got), len(again))
		}
	})
}

// FuzzLint feeds arbitrary documents (a vendor document is outside input) to Lint and Diff: they
// must not panic, and a failure must wrap ErrUnreadable or be a LimitError.
func FuzzLint(f *testing.F) {
	f.Add(Vendor())
	f.Add([]byte(`openapi: 3.0.0
paths:
  /a/{b}:
    get:
      responses:
        "200": {description: x, headers: {CF-RAY: {schema: {type: [integer]}}}}`))
	f.Add([]byte(`{"openapi":"3.1.0","paths":{"/{x}":{"parameters":[{"$ref":"#/x"}]}}}`))
	f.Add([]byte(`garbage`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		var le *LimitError
		if _, err := Lint(doc); err != nil && !errors.Is(err, ErrUnreadable) && !errors.As(err, &le) {
			t.Errorf("got %v, want an error wrapping ErrUnreadable or a LimitError", err)
		}
		if _, err := Diff(Vendor(), doc); err != nil && !errors.Is(err, ErrUnreadable) {
			// what-changed itself may refuse documents it cannot model; that is not a crash
			t.Logf("diff: %v", err)
		}
	})
}
