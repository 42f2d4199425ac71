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
	// "paths./api/partners/{partner_id}/offers/{offer_id}/confirm.post.responses.200"; "" at the top.
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

// Diff reports what newDoc changed relative to oldDoc (both raw vendor documents, read as Load
// reads them), using libopenapi's what-changed and its breaking-change rules; of the options only
// Context counts. Identical documents give an empty report. Errors wrap ErrUnreadable when either
// input is not an OpenAPI 3 document, and are a *LimitError for input beyond a limit.
func Diff(oldDoc, newDoc []byte, opts ...Option) (*DiffReport, error) {
	return interruptible(newOptions(opts).ctx, "diff", func() (*DiffReport, error) { return diff(oldDoc, newDoc) })
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
	add := func(path []string, c *model.Change) {
		if c != nil && !seen[c] {
			seen[c] = true
			rep.Changes = append(rep.Changes, newChange(strings.Join(path, "."), c))
			if c.Breaking {
				rep.Breaking++
			}
		}
	}
	walkChanges(reflect.ValueOf(dc), nil, add)
	for _, c := range dc.GetAllChanges() {
		add(nil, c) // what the walk did not reach (a model field it does not know), at the top
	}
	slices.SortStableFunc(rep.Changes, func(a, b Change) int { // what-changed reports list items in any order
		return cmp.Or(strings.Compare(a.Path, b.Path), strings.Compare(a.Property, b.Property),
			strings.Compare(a.Kind, b.Kind), strings.Compare(a.Old, b.Old), strings.Compare(a.New, b.New))
	})
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
	// what-changed renders whole objects for added and removed ones
	return Change{Path: path, Property: c.Property, Kind: kind, Breaking: c.Breaking,
		Old: truncate(c.Original, 200), New: truncate(c.New, 200)}
}

// walkChanges visits every *model.Change in a what-changed tree with its location. It walks the
// model generically (pointers, embedded PropertyChanges, maps by sorted key, slices by index or
// parameter name), naming each step after the field's json tag with the renames of changeLabel.
func walkChanges(v reflect.Value, path []string, visit func([]string, *model.Change)) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return
		}
		if c, ok := v.Interface().(*model.Change); ok {
			visit(path, c)
			return
		}
		walkChanges(v.Elem(), path, visit)
	case reflect.Struct:
		for f, fv := range v.Fields() {
			if label, skip := changeLabel(v.Type().Name(), f); !skip {
				walkChanges(fv, slices.Concat(path, label), visit)
			}
		}
	case reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		for _, k := range keys {
			walkChanges(v.MapIndex(k), slices.Concat(path, []string{fmt.Sprint(k.Interface())}), visit)
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			ev := v.Index(i)
			if c, ok := ev.Interface().(*model.Change); ok {
				visit(path, c)
				continue
			}
			label := strconv.Itoa(i)
			if e := reflect.Indirect(ev); e.Kind() == reflect.Struct {
				if f := e.FieldByName("Name"); f.Kind() == reflect.String && f.String() != "" {
					label = f.String() // a parameter, by its name
				}
			}
			walkChanges(ev, slices.Concat(path, []string{label}), visit)
		}
	}
}

// changeLabel names a field of a what-changed model in the path (nil for none: embedded fields, map
// keys that follow directly, the object's own changes); skip for unexported and non-change fields.
func changeLabel(typeName string, f reflect.StructField) (label []string, skip bool) {
	switch k := f.Type.Kind(); {
	case !f.IsExported():
		return nil, true
	case f.Anonymous:
		return nil, false
	case k != reflect.Pointer && k != reflect.Map && k != reflect.Slice:
		return nil, true // Name, RenderPropertiesOnly, ChangeReference and the like
	case typeName == "PathsChanges" && f.Name == "PathItemsChanges",
		typeName == "ResponsesChanges" && f.Name == "ResponseChanges",
		f.Name == "Changes":
		return nil, false
	case f.Name == "SchemaChanges" && k == reflect.Pointer:
		return []string{"schema"}, false
	case f.Name == "SchemaPropertyChanges":
		return []string{"properties"}, false
	case f.Name == "RequestBodyChanges":
		return []string{"requestBody"}, false
	}
	tag := strings.Split(f.Tag.Get("json"), ",")[0]
	if tag == "" || tag == "-" { // FooChanges reads foo; a field named Changes returned above
		tag = strings.TrimSuffix(f.Name, "Changes")
		tag = strings.ToLower(tag[:1]) + tag[1:]
	}
	return []string{tag}, false
}
