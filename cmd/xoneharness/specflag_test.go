package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xoneharness/xoneharness/spec"
)

// TestLoadWithNewerDocument: load --spec FILE judges against that document.
// A copy of the vendor document that adds an int32 field to the 200 body,
// and a target that sends an out-of-range value: every response is a
// violation (the format applies to integers too), and the report names the
// document by its SHA-256.
func TestLoadWithNewerDocument(t *testing.T) {
	var doc map[string]any
	require.NoError(t, json.Unmarshal(spec.Vendor(), &doc))
	op := doc["paths"].(map[string]any)["/api/partners/{partner_id}/offers/{offer_id}/confirm"].(map[string]any)["post"].(map[string]any)
	body := op["responses"].(map[string]any)["200"].(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any)
	data := body["properties"].(map[string]any)["data"].(map[string]any)["properties"].(map[string]any)
	data["count"] = map[string]any{"type": "integer", "format": "int32"}
	b, err := json.Marshal(doc)
	require.NoError(t, err)
	specFile := filepath.Join(t.TempDir(), "newer.json")
	require.NoError(t, os.WriteFile(specFile, b, 0o644))

	s := newStandIn(t, standInOpts{rewrite: func(body []byte) []byte {
		return bytes.Replace(body, []byte(`"data":{`), []byte(`"data":{"count":30000000000,`), 1)
	}})
	dir := filepath.Join(t.TempDir(), "r")
	r := invoke(t, s.env(), "load", "--spec", specFile, "--offers", writeOffers(t, 20), "--rate", "10/s", "--duration", "1s",
		"--report-dir", dir)
	require.Equal(t, exitFindings, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	sum := readSummary(t, filepath.Join(dir, "summary.json"))
	schema := sum["load"].(map[string]any)["schema"].(map[string]any)
	assert.Positive(t, schema["violations"], "3e10 is not a valid int32")
	assert.Contains(t, string(mustJSON(t, schema["details"])), "count")
	docInfo := sum["spec"].(map[string]any)
	assert.Len(t, docInfo["sha256"], 64)

	// The embedded document knows no count: the same target passes there.
	r = invoke(t, s.env(), "load", "--offers", writeOffers(t, 20), "--rate", "10/s", "--duration", "1s",
		"--report-dir", filepath.Join(t.TempDir(), "r"))
	assert.Equal(t, exitOK, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)

	// A document without the confirm operation is a usage error naming it.
	delete(doc["paths"].(map[string]any), "/api/partners/{partner_id}/offers/{offer_id}/confirm")
	b, err = json.Marshal(doc)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(specFile, b, 0o644))
	r = invoke(t, s.env(), "contract", "--spec", specFile, "--report-dir", filepath.Join(t.TempDir(), "r"))
	assert.Equal(t, exitUsage, r.code, "stderr:\n%s", r.stderr)
	assert.Contains(t, r.stderr, "confirm")
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}
