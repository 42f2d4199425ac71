package contract

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/xoneharness/xoneharness/internal/auth"
	"github.com/xoneharness/xoneharness/internal/xone"
)

// TestPIIRedactedBeforeTruncation answers every request with an error body
// whose message echoes the policyholder's e-mail right where messages are
// cut, and with a body longer than MaxExchangeBody that holds the e-mail
// across the cut: no prefix of the e-mail may reach the result.
func TestPIIRedactedBeforeTruncation(t *testing.T) {
	const (
		email = "canary.pii.7788@example.com"
		token = "cnRy1-SecTk-9f3a2-M4pLq" // a security_token the answer itself carries
	)
	ph := json.RawMessage(`{"first_name":"Ada","last_name":"Lovelace","email":"` + email + `",` +
		`"phone":"+61455501234","country":"AU","address1":"1 Example St","city":"Sydney","region":"NSW","postcode":"2000"}`)
	for _, tt := range []struct {
		name string
		body string
	}{
		{"message cut", fmt.Sprintf(`{"message":%q}`, strings.Repeat("m", 190)+" "+email)},
		{"non-JSON body cut", strings.Repeat("h", 190) + " " + email + " trailing text"},
		{"own security_token cut", fmt.Sprintf(`{"message":%q,"data":{"security_token":%q}}`, strings.Repeat("m", 190)+" "+token, token)},
		{"body cut", `{"message":"x","pad":"` + strings.Repeat("p", MaxExchangeBody-40) + `","note":"` + email + `"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnprocessableEntity)
				_, _ = io.WriteString(w, tt.body)
			}))
			t.Cleanup(srv.Close)
			res := mustRun(t, Config{
				BaseURL: srv.URL, PartnerID: "PARTNER-1", OfferID: xone.NewUUID(), QuoteID: xone.NewUUID(),
				Policyholder: ph,
				Tokens:       oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "standin-write-token-3c1d"}),
				Spec:         loadSpec(t, false),
				Redactor:     auth.NewRedactor(),
			})
			out, err := json.Marshal(res)
			require.NoError(t, err)
			for _, v := range []string{email, token} {
				for n := 8; n <= len(v); n++ {
					if strings.Contains(string(out), v[:n]) {
						t.Fatalf("a %d-byte prefix of %q leaked", n, v)
					}
				}
			}
			assert.Contains(t, string(out), auth.Redacted)
		})
	}
}

func TestSensitiveLeaf(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"$.data.policyholder.email", true},
		{"$.data.security_token", true},
		{"/data/policyholder/phone", true},
		{"$.data['securityToken']", true},
		{"$.data.policyholder.phone_number", true},
		{"$.data.policyholder.first_name", false},
		{"header:CF-RAY", false},
		{"$.data.policies[0].price", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			assert.Equal(t, tt.want, sensitiveLeaf(tt.path), "sensitiveLeaf(%q)", tt.path)
		})
	}
}
