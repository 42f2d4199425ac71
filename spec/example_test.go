package spec_test

import (
	"fmt"
	"net/http"

	"github.com/xoneharness/xoneharness/spec"
)

// Validate an answer the caller already read off the wire against the
// corrected vendor document: a 200 whose data is not an object, and what
// the document says about a 422.
func ExampleSpec_ValidateResponse() {
	s, err := spec.Load() // the embedded vendor document with its overlay
	if err != nil {
		fmt.Println(err)
		return
	}
	req, _ := http.NewRequest(http.MethodPost, "https://sandbox.example/api/partners/P-1/offers/6f1c2a7e-3b4d-4c5e-8f90-a1b2c3d4e5f6/confirm", nil)
	req.Header.Set("Content-Type", "application/json")
	h := http.Header{"Content-Type": {"application/json"}}
	for _, v := range s.ValidateResponse(req, spec.Response{Status: 200, Header: h, Body: []byte(`{"data":5}`)}) {
		fmt.Println(v)
	}
	fmt.Println("422 documented:", s.Documents(422))
	// Output:
	// schema $.data [type]: got number, want object (expected object, observed 5)
	// 422 documented: false
}
