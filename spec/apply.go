package spec

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/pb33f/go-yaml"
	"github.com/pb33f/jsonpath/pkg/jsonpath"
	jpconfig "github.com/pb33f/jsonpath/pkg/jsonpath/config"
	"github.com/pb33f/libopenapi"
	highoverlay "github.com/pb33f/libopenapi/datamodel/high/overlay"
	"github.com/pb33f/libopenapi/utils"
)

var overlayVersion = regexp.MustCompile(`^1\.[0-9]+(\.[0-9]+)?$`)

// readOverlay reads an OpenAPI Overlay 1.x document (YAML or JSON) within the loader's limits.
func readOverlay(b []byte) (*highoverlay.Overlay, error) {
	if _, _, err := parseTree("overlay", b); err != nil {
		return nil, err
	}
	ov, err := libopenapi.NewOverlayDocument(normalize(b))
	switch {
	case err != nil:
		return nil, fmt.Errorf("read overlay: %w: not an OpenAPI Overlay 1.x document: %w", ErrDocument, err)
	case !overlayVersion.MatchString(ov.Overlay):
		return nil, fmt.Errorf("read overlay: %w: overlay version %q, want 1.x", ErrDocument, ov.Overlay)
	case ov.Info == nil || ov.Info.Title == "" || ov.Info.Version == "":
		return nil, fmt.Errorf("read overlay: %w: info.title and info.version are required", ErrDocument)
	case len(ov.Actions) == 0:
		return nil, fmt.Errorf("read overlay: %w: no actions", ErrDocument)
	}
	return ov, nil
}

// applyOverlay applies the overlay's actions in order to the document's tree, as libopenapi's
// overlay.Apply does to bytes (TestApplyOverlayAgreesWithLibopenapi holds them equal), but on the
// tree the loader already parsed and measured, and stricter: an action whose target matches
// nothing, or that sets both copy and update, is an error naming the action, where libopenapi
// only warns; reusable actions ($ref) are not supported. Growth is bounded by MaxNodes before each
// update is made.
func applyOverlay(d *document, ov *highoverlay.Overlay) error {
	var parents map[*yaml.Node]*yaml.Node // for removals; rebuilt after an update or a copy
	for i, a := range ov.Actions {
		if a == nil {
			continue
		}
		fail := func(format string, args ...any) error {
			return fmt.Errorf("apply %s: %w: "+format, append([]any{describeAction(a, i), ErrDocument}, args...)...)
		}
		targets, err := query(d.root, a.Target)
		switch {
		case a.Ref != "":
			return fail("reusable actions ($ref) are not supported")
		case err != nil:
			return fail("target: %w", err)
		case len(targets) == 0:
			return fail("its target matches nothing in the document")
		case a.Remove:
			if parents == nil {
				parents = map[*yaml.Node]*yaml.Node{}
				indexParents(d.root, parents)
			}
			for _, t := range targets {
				removeNode(parents, t)
			}
			continue
		case a.Copy != "" && a.Update != nil:
			return fail("copy and update are both set")
		}
		update := a.Update
		if a.Copy != "" {
			src, err := query(d.root, a.Copy)
			if err != nil || len(src) != 1 {
				return fail("copy source %s selects %d nodes, want one (%v)", a.Copy, len(src), err)
			}
			update = utils.CloneYAMLNode(src[0])
		}
		if update == nil || update.IsZero() {
			continue
		}
		m := measurer{input: "overlay", memo: map[*yaml.Node]extent{}}
		e, err := m.measure(update, 0)
		if err != nil {
			return err
		}
		if d.nodes += int64(len(targets)) * e.nodes; d.nodes > MaxNodes {
			return &LimitError{Input: "overlay", Limit: LimitNodes, Max: MaxNodes, Seen: d.nodes}
		}
		if err := updateNodes(targets, update); err != nil {
			return fail("%w", err)
		}
		parents = nil
	}
	n, err := measureTree("overlay", d.root)
	d.nodes = n
	return err
}

// query selects the nodes a JSONPath target designates, as libopenapi's overlay engine does.
func query(root *yaml.Node, target string) ([]*yaml.Node, error) {
	p, err := jsonpath.NewPath(target, jpconfig.WithPropertyNameExtension(), jpconfig.WithLazyContextTracking())
	if err != nil {
		return nil, err
	}
	return p.Query(root), nil
}

func indexParents(n *yaml.Node, parents map[*yaml.Node]*yaml.Node) {
	for _, c := range n.Content {
		parents[c] = n
		indexParents(c, parents)
	}
}

// removeNode removes a value from its parent mapping (with its key) or sequence.
func removeNode(parents map[*yaml.Node]*yaml.Node, n *yaml.Node) {
	p := parents[n]
	if p == nil {
		return
	}
	for i, c := range p.Content {
		switch {
		case c != n:
		case p.Kind == yaml.MappingNode && i%2 == 1:
			p.Content = append(p.Content[:i-1], p.Content[i+1:]...)
			return
		case p.Kind == yaml.SequenceNode:
			p.Content = append(p.Content[:i], p.Content[i+1:]...)
			return
		}
	}
}

// updateNodes merges update into every target: objects recursively, arrays by appending, scalars
// by replacing; a value that is no array is appended to an array target.
func updateNodes(targets []*yaml.Node, update *yaml.Node) error {
	for _, t := range targets {
		if t.Kind != targets[0].Kind || (t.Kind != yaml.MappingNode && t.Kind != yaml.SequenceNode && t.Kind != yaml.ScalarNode) {
			return errors.New("the targets must all be objects, all arrays or all scalars")
		}
	}
	for _, t := range targets {
		if t.Kind == yaml.SequenceNode && update.Kind != yaml.SequenceNode {
			t.Content = append(t.Content, utils.CloneYAMLNode(update))
			continue
		}
		if err := merge(t, update); err != nil {
			return err
		}
	}
	return nil
}

func merge(n, update *yaml.Node) error {
	if n.Kind != update.Kind {
		return errors.New("the update's type differs from the target's")
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(update.Content); i += 2 {
			k, v := update.Content[i], update.Content[i+1]
			if cur := mapGet(n, k.Value); cur != nil {
				if err := merge(cur, v); err != nil {
					return fmt.Errorf("property %q: %w", k.Value, err)
				}
				continue
			}
			n.Content = append(n.Content, utils.CloneYAMLNode(k), utils.CloneYAMLNode(v))
		}
	case yaml.SequenceNode:
		for _, c := range update.Content {
			n.Content = append(n.Content, utils.CloneYAMLNode(c))
		}
	case yaml.ScalarNode:
		n.Value, n.Tag, n.Style = update.Value, update.Tag, update.Style
	default:
		return errors.New("the target is neither an object, an array nor a scalar")
	}
	return nil
}
