package xone

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSensitiveKey(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"security_token", true},
		{"securityToken", true},
		{"Security-Token", true},
		{"ACCESS_TOKEN", true},
		{"access.token", true},
		{"email", true},
		{"EMAIL", true},
		{"emailAddress", true},
		{"phone", true},
		{"phone_number", true},
		{"mobile", true},
		{"client_secret", true},
		{"apiKey", true},
		{"authorization", true},
		{"first_name", false},
		{"token_type", false},
		{"expires_in", false},
		{"postcode", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, SensitiveKey(tt.name), "SensitiveKey(%q)", tt.name)
		})
	}
}

func TestSensitiveKeysAreAllSensitiveAndCopied(t *testing.T) {
	keys := SensitiveKeys()
	assert.Contains(t, keys, "security_token")
	assert.Contains(t, keys, "email")
	assert.Contains(t, keys, "phone")
	for _, k := range keys {
		assert.True(t, SensitiveKey(k), "SensitiveKey(%q)", k)
	}
	keys[0] = "first_name"
	assert.NotContains(t, SensitiveKeys(), "first_name", "the caller's copy changed the list")
}

func TestSensitiveHeader(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"Authorization", true},
		{"proxy-authorization", true},
		{"Cookie", true},
		{"Set-Cookie", true},
		{"X-Api-Key", true},
		{"X_API_KEY", true},
		{"X-Csrf-Token", true},
		{"X-Client-Secret", true},
		{"X-Password", true},
		{"Content-Type", false},
		{"Cf-Ray", false},
		{"Idempotency-Key", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, SensitiveHeader(tt.name), "SensitiveHeader(%q)", tt.name)
		})
	}
}
