package target

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xoneharness/xoneharness/internal/egress"
)

func TestResolve(t *testing.T) {
	gate, err := egress.New(egress.Config{})
	require.NoError(t, err)
	secretFile := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(secretFile, []byte("\ufefffile-s3cret-value\n"), 0o600))
	partner := func(base string, edit ...func(*Settings)) Settings {
		s := Settings{BaseURL: Setting{base, "XONE_BASE_URL"}, ClientID: Setting{"c", "XONE_CLIENT_ID"},
			PartnerID: Setting{"P-1", "XONE_PARTNER_ID"}, Secret: Setting{"s3cret-value", "XONE_CLIENT_SECRET"},
			SecretFile: Setting{"", "--client-secret-file"}, Sandbox: Setting{"", "--sandbox"}, Timeout: time.Second}
		for _, e := range edit {
			e(&s)
		}
		return s
	}
	tests := []struct {
		name     string
		s        Settings
		wantErr  string // "" resolves
		wantProd bool
	}{
		{"loopback partner target", partner("http://127.0.0.1:8080/"), "", false},
		{"secret file", partner("https://example.test", func(s *Settings) { s.SecretFile.Value, s.Secret.Value = secretFile, "" }), "", false},
		{"secret file unreadable", partner("https://example.test", func(s *Settings) { s.SecretFile.Value = secretFile + ".missing" }),
			"--client-secret-file: ", false},
		{"no secret", partner("https://example.test", func(s *Settings) { s.Secret.Value = "" }),
			"XONE_CLIENT_SECRET (or --client-secret-file): required when a target is set", false},
		{"secret too short", partner("https://example.test", func(s *Settings) { s.Secret.Value = "short" }), "XONE_CLIENT_SECRET: ", false},
		{"token style", partner("https://example.test", func(s *Settings) { s.Style = Setting{"Form", "--token-style / XONE_TOKEN_STYLE"} }), "", false},
		{"unknown token style", partner("https://example.test", func(s *Settings) { s.Style = Setting{"xml", "--token-style / XONE_TOKEN_STYLE"} }),
			`--token-style / XONE_TOKEN_STYLE: auth: parse style: unknown token style "xml"`, false},
		{"production refused", partner("https://API.xone.xcover.com"), "XONE_BASE_URL: API.xone.xcover.com is the XONE production API", true},
		{"user info refused", partner("https://u:p@example.test"), "user info", false},
		{"query refused", partner("https://example.test/?a=1"), "no query", false},
		{"no partner id", func() Settings {
			s := partner("https://example.test")
			s.PartnerID = Setting{"", "--partner-id / XONE_PARTNER_ID"}
			return s
		}(),
			"--partner-id / XONE_PARTNER_ID: required", false},
		{"partner setting without a base URL", partner("", func(s *Settings) { s.Secret.Value = "" }),
			"XONE_CLIENT_ID is set but no base URL is (XONE_BASE_URL): set the target, or add --sandbox", false},
		{"secret without a base URL", Settings{Secret: Setting{"s3cret-value", "XONE_CLIENT_SECRET"}, Timeout: time.Second},
			"XONE_CLIENT_SECRET is set but no base URL is", false},
		{"secret file without a base URL", Settings{SecretFile: Setting{secretFile, "--client-secret-file"},
			Secret: Setting{"s3cret-value", "XONE_CLIENT_SECRET"}, Timeout: time.Second}, "--client-secret-file is set but no base URL is", false},
		{"partner setting with --sandbox", partner("", func(s *Settings) { s.Sandbox.Value = "on" }), "", false},
		{"sandbox-only setting with a base URL", partner("https://example.test", func(s *Settings) { s.Drift = Setting{"price-as-string", "--drift"} }),
			"--drift: for the embedded sandbox", false},
		{"sandbox-only settings with a base URL", partner("https://example.test", func(s *Settings) {
			s.Sandbox.Value, s.EveryMember, s.Drift = "on", Setting{"on", "--every-member"}, Setting{"price-as-string", "--drift"}
		}), "--drift, --every-member, --sandbox: for the embedded sandbox, but a base URL is set (XONE_BASE_URL)", false},
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

// TestResolveSecretAndStyle: what a partner target resolves to.
func TestResolveSecretAndStyle(t *testing.T) {
	gate, err := egress.New(egress.Config{})
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(file, []byte("  file-s3cret-value\n"), 0o600))
	tests := []struct {
		name             string
		secretFile, env  string
		style, wantStyle string
		wantSecret       string
	}{
		{"env", "", "env-s3cret-value", "", "json", "env-s3cret-value"},
		{"file wins over env", file, "env-s3cret-value", "basic", "basic", "file-s3cret-value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg, err := Resolve(Settings{BaseURL: Setting{"https://example.test/", "--base-url"}, ClientID: Setting{"c", "--client-id"},
				PartnerID: Setting{"P-1", "--partner-id"}, SecretFile: Setting{tt.secretFile, "--client-secret-file"},
				Secret: Setting{tt.env, "XONE_CLIENT_SECRET"}, Style: Setting{tt.style, "--token-style"}, Timeout: time.Second}, gate, false)
			require.NoError(t, err)
			assert.Equal(t, tt.wantSecret, tg.Secret)
			assert.Equal(t, tt.wantStyle, string(tg.Style))
			assert.Equal(t, "https://example.test", tg.BaseURL)
			assert.Equal(t, "https://example.test/api/oauth/token", tg.TokenURL)
		})
	}
}

// TestResolveDriftFrom: a drift mode the embedded sandbox does not know is
// a configuration error naming where the modes came from.
func TestResolveDriftFrom(t *testing.T) {
	gate, err := egress.New(egress.Config{})
	require.NoError(t, err)
	_, err = Resolve(Settings{Drift: Setting{"no-such-mode", "--drift"}, Timeout: time.Second}, gate, true)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrConfig)
	assert.True(t, strings.HasPrefix(err.Error(), "--drift: "), "got %q, want it to start with --drift: ", err)
}

func TestFlagOrEnv(t *testing.T) {
	env := map[string]string{"XONE_OFFER_ID": "  o-env \n", "BLANK": "   "}
	getenv := func(k string) string { return env[k] }
	tests := []struct {
		name, flagVal, envName string
		want                   Setting
		flagName               string
	}{
		{"flag wins", "o-flag", "XONE_OFFER_ID", Setting{"o-flag", "--offer-id"}, "--offer-id"},
		{"env, trimmed", "", "XONE_OFFER_ID", Setting{"o-env", "XONE_OFFER_ID"}, "--offer-id"},
		{"neither", "", "XONE_QUOTE_ID", Setting{"", "--offer-id / XONE_QUOTE_ID"}, "--offer-id"},
		{"blank env is unset", "", "BLANK", Setting{"", "--offer-id / BLANK"}, "--offer-id"},
		{"no env variable", "", "", Setting{"", "--offer-id"}, "--offer-id"},
		{"flag without env variable", "o-flag", "", Setting{"o-flag", "--offer-id"}, "--offer-id"},
		{"env variable without flag", "", "XONE_OFFER_ID", Setting{"o-env", "XONE_OFFER_ID"}, ""},
		{"env variable without flag, unset", "", "XONE_QUOTE_ID", Setting{"", "XONE_QUOTE_ID"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FlagOrEnv(getenv, tt.flagVal, tt.flagName, tt.envName)
			assert.Equal(t, tt.want, got, "got %+v, want %+v", got, tt.want)
		})
	}
}
