package spec

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/pb33f/libopenapi"
	"github.com/pb33f/libopenapi/what-changed/model"
)

// Change kinds of a Change.
const (
	ChangeAdded    = "added"
	ChangeModified = "modified"
	ChangeRemoved  = "removed"
)

// Change is one difference between two vendor documents, as libopenapi's what-changed reports it.
type Change struct {
	// Path is where the change is, as a dotted path through the document model, e.g.
	// "paths./api/partners/{partner_id}/offers/{offer_id}/confirm.post.responses.200.content.
	// application/json.schema.properties.data"; "" at the top of the document.
	Path     string `json:"path"`
	Property string `json:"property"` // the changed property (or map key) at Path
	Kind     string `json:"kind"`     // ChangeAdded, ChangeModified or ChangeRemoved
	Breaking bool   `json:"breaking"` // what-changed's breaking-change rules say clients may break
	Old      string `json:"old,omitempty"`
	New      string `json:"new,omitempty"`
}

// DiffReport lists the changes of a newer vendor document. Changes are sorted by Path, Property,
// Kind, Old, New; Breaking counts the breaking ones and Total all of them.
type DiffReport struct {
	Changes  []Change `json:"changes"`
	Breaking int      `json:"breaking"`
	Total    int      `json:"total"`
}

// Diff reports what newDoc changed relative to oldDoc (both raw vendor documents, JSON or YAML, in
// any valid JSON spelling), using libopenapi's what-changed and its breaking-change rules. Both are
// read as Load reads a document, within the same limits; of the options only Context counts.
// Identical documents give an empty report. Errors wrap ErrUnreadable when either input is not an
// OpenAPI 3 document, and are a *LimitError for input beyond a limit.
func Diff(oldDoc, newDoc []byte, opts ...Option) (*DiffReport, error) {
	o := newOptions(opts)
	rep, err := interruptible(o.ctx, func() (*DiffReport, error) { return diff(oldDoc, newDoc) })
	if err != nil {
		return nil, fmt.Errorf("spec: diff: %w", err)
	}
	return rep, nil
}

func diff(oldDoc, newDoc []byte) (*DiffReport, error) {
	var docs [2]libopenapi.Document
	for i, b := range [][]byte{oldDoc, newDoc} {
		c, err := read(b, nil, true)
		if err != nil {
			return nil, fmt.Errorf("%s document: %w", [2]string{"old", "new"}[i], err)
		}
		docs[i] = c.doc
	}
	dc, err := libopenapi.CompareDocuments(docs[0], docs[1])
	if err != nil {
		return nil, fmt.Errorf("compare: %w: %w", ErrUnreadable, err)
	}
	rep := &DiffReport{Changes: []Change{}}
	if dc == nil {
		return rep, nil
	}

	seen := map[*model.Change]bool{}
	walkChanges(reflect.ValueOf(dc), nil, func(path []string, c *model.Change) {
		if c == nil || seen[c] {
			return
		}
		seen[c] = true
		rep.Changes = append(rep.Changes, newChange(strings.Join(path, "."), c))
	})
	// Anything the walk did not reach (a model field it does not know) is still reported.
	for _, c := range dc.GetAllChanges() {
		if c != nil && !seen[c] {
			seen[c] = true
			rep.Changes = append(rep.Changes, newChange("", c))
		}
	}
	slices.SortStableFunc(rep.Changes, func(a, b Change) int { // what-changed reports list items in any order
		return cmp.Or(strings.Compare(a.Path, b.Path), strings.Compare(a.Property, b.Property),
			strings.Compare(a.Kind, b.Kind), strings.Compare(a.Old, b.Old), strings.Compare(a.New, b.New))
	})
	for _, c := range rep.Changes {
		if c.Breaking {
			rep.Breaking++
		}
	}
	rep.Total = len(rep.Changes)
	return rep, nil
}

func newChange(path string, c *model.Change) Change {
	kind := ChangeModified
	switch c.ChangeType {
	case model.PropertyAdded, model.ObjectAdded:
		kind = ChangeAdded
	case model.PropertyRemoved, model.ObjectRemoved:
		kind = ChangeRemoved
	}
	return Change{Path: path, Property: c.Property, Kind: kind, Breaking: c.Breaking,
		Old: shortValue(c.Original), New: shortValue(c.New)}
}

// shortValue keeps Old/New readable: what-changed renders whole objects for added/removed ones.
func shortValue(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	return s[:max-3] + "..."
}

// walkChanges visits every *model.Change in a what-changed tree with its location. It walks the
// model generically (pointers, embedded PropertyChanges, maps by sorted key, slices by index),
// naming each step after the field's json tag with a few renames that make the path read like the
// document.
func walkChanges(v reflect.Value, path []string, visit func([]string, *model.Change)) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return
		}
		if v.Kind() == reflect.Pointer && v.Elem().Type() == reflect.TypeFor[model.Change]() {
			visit(path, v.Interface().(*model.Change))
			return
		}
		walkChanges(v.Elem(), path, visit)
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			fv := v.Field(i)
			if f.Anonymous {
				walkChanges(fv, path, visit)
				continue
			}
			label, skip := changeLabel(t.Name(), f)
			if skip {
				continue
			}
			next := path
			if label != "" {
				next = appendPath(path, label)
			}
			walkChanges(fv, next, visit)
		}
	case reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		for _, k := range keys {
			walkChanges(v.MapIndex(k), appendPath(path, fmt.Sprint(k.Interface())), visit)
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			ev := v.Index(i)
			if ev.Kind() == reflect.Pointer && !ev.IsNil() && ev.Elem().Type() == reflect.TypeFor[model.Change]() {
				visit(path, ev.Interface().(*model.Change))
				continue
			}
			label := strconv.Itoa(i)
			if name := paramName(ev); name != "" {
				label = name
			}
			walkChanges(ev, appendPath(path, label), visit)
		}
	}
}

func appendPath(path []string, s string) []string {
	return append(append(make([]string, 0, len(path)+1), path...), s)
}

// changeLabel names a field of a what-changed model in the path; skip for non-change fields.
func changeLabel(typeName string, f reflect.StructField) (label string, skip bool) {
	if f.Type.Kind() != reflect.Pointer && f.Type.Kind() != reflect.Map && f.Type.Kind() != reflect.Slice {
		return "", true // Name, RenderPropertiesOnly, ChangeReference and the like
	}
	switch {
	case typeName == "PathsChanges" && f.Name == "PathItemsChanges",
		typeName == "ResponsesChanges" && f.Name == "ResponseChanges":
		return "", false // map keys (path templates, status codes) follow directly
	case f.Name == "Changes":
		return "", false // the changes of the current object
	case f.Name == "SchemaChanges" && f.Type.Kind() == reflect.Pointer:
		return "schema", false
	case f.Name == "SchemaPropertyChanges":
		return "properties", false
	case f.Name == "RequestBodyChanges":
		return "requestBody", false
	}
	tag := strings.Split(f.Tag.Get("json"), ",")[0]
	if tag == "" || tag == "-" {
		tag = strings.TrimSuffix(f.Name, "Changes")
		if tag != "" {
			tag = strings.ToLower(tag[:1]) + tag[1:]
		}
	}
	return tag, false
}

// paramName names a ParameterChanges element of a slice by its parameter name.
func paramName(v reflect.Value) string {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return ""
	}
	if f := v.FieldByName("Name"); f.IsValid() && f.Kind() == reflect.String {
		return f.String()
	}
	return ""
}
