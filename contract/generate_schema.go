package contract

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/xoneharness/xoneharness/spec"
)

// schemaNode is the part of a JSON Schema the generator understands.
type schemaNode struct {
	Type       string                 `json:"type"`
	Properties map[string]*schemaNode `json:"properties"`
	Required   []string               `json:"required"`
	Items      *schemaNode            `json:"items"`
	Nullable   bool                   `json:"nullable"`
	Ref        string                 `json:"$ref"`
}

// propertyNames returns the property names sorted, so generation does not depend on map order.
func (n *schemaNode) propertyNames() []string {
	return slices.Sorted(maps.Keys(n.Properties))
}

// requestSchema reads the confirm request body schema from s's corrected document.
func requestSchema(s *spec.Spec) (*schemaNode, error) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(s.Document(), &doc); err != nil {
		return nil, fmt.Errorf("contract: generate: read request schema: %w", err)
	}
	raw, ok := doc.Paths[s.ConfirmPath()]["post"]
	if !ok {
		return nil, fmt.Errorf("contract: generate: read request schema: no POST %s", s.ConfirmPath())
	}
	var op struct {
		RequestBody struct {
			Content map[string]struct {
				Schema *schemaNode `json:"schema"`
			} `json:"content"`
		} `json:"requestBody"`
	}
	if err := json.Unmarshal(raw, &op); err != nil {
		return nil, fmt.Errorf("contract: generate: read request schema: %w", err)
	}
	sc := op.RequestBody.Content["application/json"].Schema
	if sc == nil {
		return nil, fmt.Errorf("contract: generate: read request schema: no application/json schema")
	}
	if err := sc.check("$"); err != nil {
		return nil, fmt.Errorf("contract: generate: read request schema: %w", err)
	}
	return sc, nil
}

// check rejects the schema features the generator does not implement, so
// a newer document fails loudly instead of producing wrong bodies.
func (n *schemaNode) check(path string) error {
	if n.Ref != "" {
		return fmt.Errorf("%s: $ref is not supported", path)
	}
	switch n.Type {
	case "object":
		for _, k := range n.propertyNames() {
			if err := n.Properties[k].check(path + "." + k); err != nil {
				return err
			}
		}
	case "array":
		if n.Items == nil {
			return fmt.Errorf("%s: array without items", path)
		}
		return n.Items.check(path + "[]")
	case "string":
	default:
		return fmt.Errorf("%s: type %q is not supported", path, n.Type)
	}
	return nil
}
