package target

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xoneharness/xoneharness/internal/egress"
)

func TestResolve(t *testing.T) {
	gate, err := egress.New(egress.Config{})
	require.NoError(t, err)
	secret := func() (string, error) { return "s3cret-value", nil }
	partner := func(base string) Settings {
		return Settings{BaseURL: Setting{base, "XONE_BASE_URL"}, ClientID: Setting{"c", "XONE_CLIENT_ID"},
			PartnerID: Setting{"P-1", "XONE_PARTNER_ID"}, Secret: secret, Timeout: time.Second}
	}
	tests := []struct {
		name     string
		s        Settings
		wantErr  string // "" resolves
		wantProd bool
	}{
		{"loopback partner target", partner("http://127.0.0.1:8080/"), "", false},
		{"production refused", partner("https://API.xone.xcover.com"), "XONE_BASE_URL: API.xone.xcover.com is the XONE production API", true},
		{"user info refused", partner("https://u:p@example.test"), "user info", false},
		{"query refused", partner("https://example.test/?a=1"), "no query", false},
		{"no partner id", func() Settings {
			s := partner("https://example.test")
			s.PartnerID = Setting{"", "--partner-id / XONE_PARTNER_ID"}
			return s
		}(),
			"--partner-id / XONE_PARTNER_ID: required", false},
		{"partner setting without a base URL", Settings{BaseURL: Setting{"", "--base-url / XONE_BASE_URL"},
			ClientID: Setting{"c", "XONE_CLIENT_ID"}, Timeout: time.Second, SandboxFrom: "--sandbox"},
			"XONE_CLIENT_ID is set but no base URL is (--base-url / XONE_BASE_URL)", false},
		{"sandbox-only setting with a base URL", func() Settings { s := partner("https://example.test"); s.SandboxOnly = []string{"--drift"}; return s }(),
			"--drift: for the embedded sandbox", false},
		{"port out of range", partner("https://example.test:70000"), `"https://example.test:70000": port 70000: want 1 to 65535`, false},
		{"port zero", partner("http://127.0.0.1:0"), "port 0: want 1 to 65535", false},
		{"not a URL", partner("http://[::1"), `XONE_BASE_URL: "http://[::1" is not a URL`, false},
		{"not a URL, may hold credentials", partner("https://u:s3cret-value@example.test/%zz"),
			"XONE_BASE_URL: the URL (not shown: it may hold credentials) is not a URL", false},
		{"production token URL refused", func() Settings {
			s := partner("https://example.test")
			s.TokenURL = Setting{"https://api.xone.xcover.com/api/oauth/token", "XONE_TOKEN_URL"}
			return s
		}(), "XONE_TOKEN_URL: api.xone.xcover.com is the XONE production API", true},
		{"embedded, not started", Settings{Timeout: time.Second}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg, err := Resolve(tt.s, gate, false)
			if tt.wantErr == "" {
				require.NoError(t, err)
				assert.NotEmpty(t, tg.BaseURL)
				assert.NotContains(t, tg.BaseURL, "//127.0.0.1:8080/", "trailing slash trimmed")
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrConfig)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.Equal(t, tt.wantProd, errors.Is(err, egress.ErrProduction))
			assert.NotContains(t, err.Error(), "s3cret-value")
		})
	}
}
