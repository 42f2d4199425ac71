package reports

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xoneharness/xoneharness/spec"
)

// TestSetSpec: SetSpec records the loaded document's DocInfo and the files given, and without a
// document (it never loaded) only the files.
func TestSetSpec(t *testing.T) {
	s, err := spec.Load()
	require.NoError(t, err)
	info := s.Info()
	tests := []struct {
		name     string
		s        *spec.Spec
		files    spec.Files
		wantInfo *spec.DocInfo
	}{
		{"embedded documents", s, spec.Files{}, &info},
		{"files", s, spec.Files{Document: "new.json", Overlay: "fixes.yaml"}, &info},
		{"never loaded", nil, spec.Files{Document: "new.json"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New(KindContract, "1.2.3", Target{URL: sampleURL})
			r.SetSpec(tt.s, tt.files)
			assert.Equal(t, tt.wantInfo, r.Spec)
			assert.Equal(t, tt.files.Document, r.SpecFile)
			assert.Equal(t, tt.files.Overlay, r.OverlayFile)
		})
	}
}

// TestToolVersion: a linked version wins; without one the version comes from the build: a module
// version, or "devel" with the VCS revision when known.
func TestToolVersion(t *testing.T) {
	tests := []struct {
		name, linked string
		want         *regexp.Regexp
	}{
		{"linked", "v1.2.3", regexp.MustCompile(`^v1\.2\.3$`)},
		{"from the build", "", regexp.MustCompile(`^(devel(-[0-9a-f]{12})?|v[0-9]+\.[0-9]+\.[0-9]+\S*)$`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ToolVersion(tt.linked)
			assert.Regexp(t, tt.want, got, "got %q, want %v", got, tt.want)
		})
	}
}
