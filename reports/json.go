package reports

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/xoneharness/xoneharness/spec"
)

// JSON writes the report as summary.json (summary.schema.json): indented, every object's keys sorted
// so that two runs diff cleanly, units in the field names, plus "coverage" (Report.Coverage).
func JSON(w io.Writer, r *Report) error {
	raw, err := json.Marshal(struct {
		*Report
		Coverage *spec.CoverageReport `json:"coverage,omitempty"`
	}{r, r.Coverage()})
	if err != nil {
		return fmt.Errorf("reports: encode summary: %w", err)
	}
	// Decoding into interface values and encoding again sorts every object's keys (encoding/json
	// sorts map keys); UseNumber keeps numbers exactly as they were written.
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("reports: re-decode summary: %w", err)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("reports: write summary: %w", err)
	}
	return nil
}

// readSummary reads a summary.json; errors name the file and the line where it stops being one.
func readSummary(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r, err := parseSummary(b)
	if err != nil {
		return nil, fmt.Errorf("%s:%d: %w", path, jsonErrorLine(b, err), err)
	}
	return r, nil
}

// parseSummary decodes a summary.json and checks it is one, of the version this tool reads.
func parseSummary(b []byte) (*Report, error) {
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("not a summary.json: %w", err)
	}
	switch {
	case r.SchemaVersion == 0:
		return nil, errors.New("not a summary.json: no schema_version")
	case r.SchemaVersion != schemaVersion:
		return nil, fmt.Errorf("schema_version %d, this tool reads %d", r.SchemaVersion, schemaVersion)
	}
	return &r, nil
}

// jsonErrorLine is the line of b where decoding failed with err (1 when err does not say).
func jsonErrorLine(b []byte, err error) int {
	var off int64
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	return 1 + bytes.Count(b[:min(max(off, 0), int64(len(b)))], []byte("\n"))
}
