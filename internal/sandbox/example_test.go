package sandbox_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/xoneharness/xoneharness/internal/sandbox"
)

// Example starts a sandbox, fetches a token with XONE's JSON client-credentials body and
// confirms an offer twice.
func Example() {
	sb, err := sandbox.Start(sandbox.Seed(1))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sb.Close()

	resp, err := http.Post(sb.TokenURL(), "application/json", strings.NewReader(
		`{"grant_type":"client_credentials","client_id":"`+sandbox.ClientID+`","client_secret":"`+sandbox.ClientSecret+`"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	tokenBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	tok := strings.Split(strings.Split(string(tokenBody), `"access_token":"`)[1], `"`)[0]

	confirm := func() int {
		req, _ := http.NewRequest(http.MethodPost,
			sb.URL()+"/api/partners/"+sandbox.PartnerID+"/offers/0b6f2f8e-4c1a-4d5e-9f3a-2b7c8d9e0f1a/confirm",
			strings.NewReader(`{"quotes":[{"id":"5f1d7c8e-3b2a-4c6d-9e0f-1a2b3c4d5e6f"}],`+
				`"policyholder":{"first_name":"Ada","last_name":"Lovelace","email":"ada@example.com"}}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}
	fmt.Println(confirm(), confirm())
	st := sb.Stats()
	fmt.Println(st.TokensIssued, st.Confirmed, st.DuplicateConfirms)
	// Output:
	// 200 422
	// 1 1 1
}
