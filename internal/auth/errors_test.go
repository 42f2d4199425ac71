package auth

import (
	"errors"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFetchErrorCredentialsRefused: the FetchError of a real fetch says the credentials were refused
// when the token endpoint answered a 4xx other than 429, and only then: not for a throttled, failing
// or unreachable endpoint, nor for a 200 without a token.
func TestFetchErrorCredentialsRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := "http://" + ln.Addr().String() + "/api/oauth/token"
	require.NoError(t, ln.Close())

	tests := []struct {
		name   string
		status int // 0: nothing listens
		body   string
		want   bool
	}{
		{"invalid_client", http.StatusBadRequest, `{"error":"invalid_client"}`, true},
		{"unauthorized", http.StatusUnauthorized, `{"message":"Unauthenticated."}`, true},
		{"forbidden", http.StatusForbidden, `{"message":"Forbidden"}`, true},
		{"not found", http.StatusNotFound, `{"message":"Not Found"}`, true},
		{"throttled", http.StatusTooManyRequests, `{"message":"Request was throttled."}`, false},
		{"server error", http.StatusInternalServerError, `{"message":"Server Error"}`, false},
		{"bad gateway", http.StatusBadGateway, `<html>bad gateway</html>`, false},
		{"200 without a token", http.StatusOK, `{"token_type":"Bearer"}`, false},
		{"unreachable", 0, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := closed
			if tt.status != 0 {
				url = newTokenServer(t, func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(tt.status)
					_, _ = io.WriteString(w, tt.body)
				}).URL
			}
			_, err := newSource(t, url, Config{}).Token()
			var fe *FetchError
			require.True(t, errors.As(err, &fe), "got %v, want a *FetchError", err)
			assert.Equal(t, tt.want, fe.CredentialsRefused(), "got %v for %v", fe.CredentialsRefused(), err)
		})
	}
}
