package xone

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ReadPolicyholder reads the policyholder file at path: one JSON object,
// returned as it is; "" returns nil (send DemoPolicyholder). Errors name the
// file, and the line of a syntax or type error.
func ReadPolicyholder(path string) (json.RawMessage, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var obj map[string]any
	if err := json.Unmarshal(b, &obj); err != nil {
		var off int64
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		if errors.As(err, &se) {
			off = se.Offset
		} else if errors.As(err, &te) {
			off = te.Offset
		}
		line := 1 + strings.Count(string(b[:min(int(off), len(b))]), "\n")
		return nil, fmt.Errorf("%s:%d: want one JSON object: %w", path, line, err)
	}
	if obj == nil { // the JSON literal null
		return nil, fmt.Errorf("%s:1: want one JSON object, got null", path)
	}
	return json.RawMessage(b), nil
}
