package auth

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckSecret(t *testing.T) {
	tests := []struct {
		name    string
		secret  string
		wantErr string // "" for none
	}{
		{"ok", "s3cr3t-value", ""},
		{"exactly eight", "12345678", ""},
		{"eight runes, more bytes", "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9", ""},
		{"special characters", `p"s\w<>&%+/= x`, ""},
		{"empty", "", "client secret is empty"},
		{"one letter", "Z", "client secret is 1 characters; want at least 8"},
		{"seven", "1234567", "client secret is 7 characters; want at least 8"},
		{"seven runes", "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9", "client secret is 7 characters; want at least 8"},
		{"byte order mark", "\ufeffs3cr3t-value", "byte order mark"},
		{"too long", strings.Repeat("x", MaxSecretBytes+1), "client secret is 4097 bytes; want at most 4096"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckSecret(tt.secret)
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrBadSecret)
			assert.Contains(t, err.Error(), tt.wantErr)
			if tt.secret != "" {
				assert.NotContains(t, err.Error(), strings.TrimPrefix(tt.secret, "\ufeff"), "the error shows the secret")
			}
		})
	}
}

func TestReadSecretFile(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		content string
		want    string
		wantErr string // "" for none
	}{
		{"plain", "s3cr3t-value", "s3cr3t-value", ""},
		{"trailing newline", "s3cr3t-value\n", "s3cr3t-value", ""},
		{"crlf and spaces", "  s3cr3t-value \r\n", "s3cr3t-value", ""},
		{"bom", "\ufeffs3cr3t-value\n", "s3cr3t-value", ""},
		{"bom then spaces", "\ufeff  s3cr3t-value\n", "s3cr3t-value", ""},
		{"inner spaces kept", "pass phrase secret", "pass phrase secret", ""},
		{"exactly 4 KiB", strings.Repeat("k", 4096), strings.Repeat("k", 4096), ""},
		{"empty", "", "", "is empty"},
		{"only whitespace and bom", "\ufeff \n\t", "", "is empty"},
		{"one letter", "Z\n", "", "client secret is 1 characters; want at least 8"},
		{"seven", "1234567", "", "client secret is 7 characters; want at least 8"},
		{"over 4 KiB", strings.Repeat("k", 4097), "", "larger than 4096 bytes"},
		{"1 MiB of one letter", strings.Repeat("a", 1<<20), "", "larger than 4096 bytes"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "secret-"+string(rune('a'+i)))
			require.NoError(t, os.WriteFile(path, []byte(tt.content), 0o600))
			got, err := ReadSecretFile(path)
			if tt.wantErr == "" {
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
				return
			}
			require.Error(t, err)
			assert.Empty(t, got)
			assert.ErrorIs(t, err, ErrBadSecret)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.Contains(t, err.Error(), path, "the error names the file")
			if s := strings.TrimSpace(tt.content); s != "" {
				assert.NotContains(t, err.Error(), s, "the error shows the secret")
			}
		})
	}
}

func TestReadSecretFileErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := ReadSecretFile(filepath.Join(dir, "missing"))
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrBadSecret)
	assert.True(t, errors.Is(err, os.ErrNotExist), "got %v, want it to wrap os.ErrNotExist", err)

	_, err = ReadSecretFile(dir)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrBadSecret)
}

// TestReadSecretFileDoesNotReadItAll reads an endless file: the size check
// stops after 4 KiB and a byte.
func TestReadSecretFileDoesNotReadItAll(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	_, err := ReadSecretFile("/dev/zero")
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrBadSecret)
	assert.Contains(t, err.Error(), "larger than 4096 bytes")
}
