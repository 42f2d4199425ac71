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

func TestSensitiveKeysAreAllSensitive(t *testing.T) {
	assert.Contains(t, sensitiveKeys, "security_token")
	for _, k := range sensitiveKeys {
		assert.True(t, SensitiveKey(k), "SensitiveKey(%q)", k)
	}
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
