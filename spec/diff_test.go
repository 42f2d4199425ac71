package spec

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDiff(t *testing.T) {
	v := string(Vendor())
	edit := func(t *testing.T, old, new string) []byte {
		t.Helper()
		out := strings.Replace(v, old, new, 1)
		require.NotEqual(t, v, out, "the test edit applies")
		return []byte(out)
	}
	data200 := "paths./api/partners/{partner_id}/offers/{offer_id}/confirm.post.responses.200.content.application/json.schema.properties.data"
	tests := []struct {
		name     string
		newDoc   func(t *testing.T) []byte
		total    int
		breaking int
		want     []Change
	}{
		{name: "identical", newDoc: func(*testing.T) []byte { return Vendor() }, want: []Change{}},
		{name: "property removed from the 200 schema",
			newDoc: func(t *testing.T) []byte {
				return edit(t, `"price":{"type":"number"},"security_token"`, `"security_token"`)
			},
			total: 1, breaking: 1,
			want: []Change{{Path: data200, Property: "properties", Kind: ChangeRemoved, Breaking: true, Old: "price"}}},
		{name: "optional response property added",
			newDoc: func(t *testing.T) []byte {
				return edit(t, `"sign_up_url":{"type":"string","format":"uri"}`,
					`"sign_up_url":{"type":"string","format":"uri"},"renewal_url":{"type":"string","format":"uri"}`)
			},
			total: 1, breaking: 0,
			want: []Change{{Path: data200, Property: "properties", Kind: ChangeAdded, New: "renewal_url"}}},
		{name: "header type modified",
			newDoc: func(t *testing.T) []byte {
				return edit(t, `"CF-RAY":{"schema":{"type":"integer"}}`, `"CF-RAY":{"schema":{"type":"string"}}`)
			},
			total: 1, breaking: 1,
			want: []Change{{Path: "paths./api/partners/{partner_id}/offers/{offer_id}/confirm.post.responses.401.headers.CF-RAY.schema",
				Property: "type", Kind: ChangeModified, Breaking: true, Old: "integer", New: "string"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := Diff(Vendor(), tt.newDoc(t))
			require.NoError(t, err)
			assert.Equal(t, tt.total, rep.Total)
			assert.Equal(t, tt.breaking, rep.Breaking)
			assert.Equal(t, tt.want, rep.Changes)
		})
	}
}

func TestDiffOverlayCorrections(t *testing.T) {
	s := loadSpec(t)
	rep, err := Diff(Vendor(), s.Document())
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
