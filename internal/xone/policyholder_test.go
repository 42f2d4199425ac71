package xone

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadPolicyholder(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content string
		wantErr       string // "" reads the file as it is; a suffix of the file's path starts the message
	}{
		{"object", `{"first_name":"Grace","last_name":"Hopper"}`, ""},
		{"object with white space", "\n  {\"first_name\": \"Grace\"}\n\n", ""},
		{"demo", DemoPolicyholder, ""},
		{"array", "[1, 2]\n", ":1: want one JSON object: json: cannot unmarshal array"},
		{"null", "null\n", ":1: want one JSON object, got null"},
		{"empty", "", ":1: want one JSON object: unexpected end of JSON input"},
		{"trailing comma", "{\n  \"first_name\": \"Ada\",\n  \"email\": \"ada@example.com\",\n}\n", ":4: want one JSON object: invalid character '}'"},
		{"syntax error", "{\n  \"first_name\": \"Ada\",\n  oops\n}", ":3: want one JSON object: invalid character 'o'"},
		{"two objects", "{\n  \"first_name\": \"Ada\"\n}\n{\"again\": 1}\n", ":4: want one JSON object: invalid character '{' after top-level value"},
		{"string", `"Ada"`, ":1: want one JSON object: json: cannot unmarshal string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, filepath.Base(t.Name())+".json")
			require.NoError(t, os.WriteFile(path, []byte(tt.content), 0o600))
			got, err := ReadPolicyholder(path)
			if tt.wantErr == "" {
				require.NoError(t, err)
				assert.Equal(t, tt.content, string(got))
				var obj map[string]any
				assert.NoError(t, json.Unmarshal(got, &obj), "the judge: encoding/json reads it as an object")
				return
			}
			require.Error(t, err)
			assert.Nil(t, got)
			assert.Contains(t, err.Error(), path+tt.wantErr, "got %q, want it to hold %q", err, path+tt.wantErr)
		})
	}
	t.Run("no file given", func(t *testing.T) {
		got, err := ReadPolicyholder("")
		assert.NoError(t, err)
		assert.Nil(t, got, "got %q, want nil (the demo policyholder)", got)
	})
	t.Run("missing file", func(t *testing.T) {
		missing := filepath.Join(dir, "no-ph.json")
		_, err := ReadPolicyholder(missing)
		assert.ErrorIs(t, err, os.ErrNotExist)
		assert.Contains(t, err.Error(), missing)
	})
}
