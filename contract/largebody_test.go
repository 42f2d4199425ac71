package contract

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/xoneharness/xoneharness/internal/xone"
)

// TestLargeBodyNamesTheToolsLimit: a 100 MB answer to confirm-ok is cut at
// the tool's own read limit, and the case says so (outcome error), instead
// of blaming the target for a body that "cannot be decoded".
func TestLargeBodyNamesTheToolsLimit(t *testing.T) {
	chunk := bytes.Repeat([]byte(" "), 1<<20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"data":`))
		for range 100 {
			if _, err := w.Write(chunk); err != nil {
				return // the client stopped reading: that is the point
			}
		}
		_, _ = w.Write([]byte(`{}}`))
	}))
	t.Cleanup(srv.Close)
	cfg := Config{BaseURL: srv.URL, PartnerID: "PARTNER-1", OfferID: xone.NewUUID(), QuoteID: xone.NewUUID(),
		Tokens: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "large-body-token"}), Spec: loadSpec(t, false), Race: -1}
	res := mustRun(t, cfg)
	var ok *CaseResult
	for i := range res.Cases {
		if res.Cases[i].Name == CaseConfirmOK {
			ok = &res.Cases[i]
		}
	}
	require.NotNil(t, ok, "confirm-ok ran")
	assert.Equal(t, OutcomeError, ok.Outcome)
	assert.Contains(t, ok.Reason, "read limit of 8 MiB")
	assert.NotContains(t, ok.Reason, "EOF")
	assert.Empty(t, ok.Violations, "the target is not blamed for the tool's cut")
}
