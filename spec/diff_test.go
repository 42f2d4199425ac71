package spec

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xoneharness/xoneharness/internal/xone"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/diff")

// TestDiff pins what Diff reports, through its walk of libopenapi's what-changed model, for each
// kind of change a newer vendor document may make: one golden file per kind under testdata/diff
// (go test ./spec -run TestDiff -update rewrites them).
func TestDiff(t *testing.T) {
	v := string(Vendor())
	replace := func(old, new string) func(*testing.T) []byte {
		return func(t *testing.T) []byte {
			doc := strings.Replace(v, old, new, 1)
			require.NotEqual(t, v, doc, "the test edit applies")
			return []byte(doc)
		}
	}
	const confirm = `"/api/partners/{partner_id}/offers/{offer_id}/confirm":{`
	tests := []struct {
		name string
		edit func(*testing.T) []byte
	}{
		{"property-removed", replace(`"price":{"type":"number"},"security_token"`, `"security_token"`)},
		{"property-added", replace(`"sign_up_url":{"type":"string","format":"uri"}`,
			`"sign_up_url":{"type":"string","format":"uri"},"renewal_url":{"type":"string","format":"uri"}`)},
		{"property-type-changed", replace(`"price":{"type":"number"},"security_token"`, `"price":{"type":"string"},"security_token"`)},
		{"format-changed", replace(`"sign_up_url":{"type":"string","format":"uri"}`, `"sign_up_url":{"type":"string","format":"uuid"}`)},
		{"enum-added", replace(`"currency":{"type":"string"}`, `"currency":{"type":"string","enum":["AUD","NZD"]}`)},
		{"response-required-added", replace(`"data":{"type":"object",`, `"data":{"type":"object","required":["id"],`)},
		{"request-required-removed", replace(`"required":["quotes","policyholder"]`, `"required":["quotes"]`)},
		{"status-added", replace(`"401":{"description":"401 Unauthorized",`,
			`"404":{"description":"Not found"},"401":{"description":"401 Unauthorized",`)},
		{"status-removed", func(t *testing.T) []byte { return removeResponse(t, "401") }},
		{"header-type-changed", replace(`"CF-RAY":{"schema":{"type":"integer"}}`, `"CF-RAY":{"schema":{"type":"string"}}`)},
		{"header-removed", replace(`,"Cf-Team":{"schema":{"type":"integer"}}`, ``)},
		{"header-added", replace(`"Cf-Team":{"schema":{"type":"integer"}}`,
			`"Cf-Team":{"schema":{"type":"integer"}},"Retry-After":{"schema":{"type":"integer"}}`)},
		{"path-added", replace(confirm, `"/api/partners/{partner_id}/offers/{offer_id}":{"get":{"responses":{"200":{"description":"ok"}}}},`+confirm)},
	}
	rep, err := Diff(Vendor(), Vendor())
	require.NoError(t, err)
	assert.Equal(t, &DiffReport{Changes: []Change{}}, rep, "identical documents")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := Diff(Vendor(), tt.edit(t))
			require.NoError(t, err)
			assert.NotEmpty(t, rep.Changes)
			assert.Equal(t, len(rep.Changes), rep.Total)
			got, err := json.MarshalIndent(rep, "", "  ")
			require.NoError(t, err)
			golden := filepath.Join("testdata", "diff", tt.name+".json")
			if *update {
				require.NoError(t, os.WriteFile(golden, append(got, '\n'), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test ./spec -run TestDiff -update to create it")
			assert.JSONEq(t, string(want), string(got))
		})
	}
}

// removeResponse returns the vendor document without one response of the confirm operation.
func removeResponse(t *testing.T, status string) []byte {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(Vendor(), &m))
	responses := lookup(m, "paths", xone.ConfirmPathTemplate, "post", "responses").(map[string]any)
	require.Contains(t, responses, status)
	delete(responses, status)
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return b
}

func TestDiffOverlayCorrections(t *testing.T) {
	rep, err := Diff(Vendor(), loadSpec(t).Document())
	require.NoError(t, err)
	// parameters added, 3 header types and 3 formats removed.
	assert.Equal(t, 7, rep.Total, "got %+v", rep.Changes)
	for _, c := range rep.Changes {
		assert.NotEmpty(t, c.Path, "every change is located: %+v", c)
	}
}

func TestDiffUnreadable(t *testing.T) {
	tests := []struct {
		name     string
		old, new []byte
	}{
		{name: "garbage new", old: Vendor(), new: []byte("garbage ]]")},
		{name: "garbage old", old: []byte("\x00\x01"), new: Vendor()},
		{name: "empty", old: Vendor(), new: nil},
		{name: "not openapi", old: Vendor(), new: []byte(`{"hello":"world"}`)},
		{name: "swagger 2", old: Vendor(), new: []byte(`{"swagger":"2.0","info":{"title":"x","version":"1"},"paths":{}}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := Diff(tt.old, tt.new)
			require.Error(t, err)
			assert.Nil(t, rep)
			assert.True(t, errors.Is(err, ErrUnreadable), "got %v", err)
			assert.True(t, strings.HasPrefix(err.Error(), "spec: diff: "), "got %q", err)
		})
	}
}
