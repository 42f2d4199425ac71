package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/xoneharness/xoneharness/spec"
)

const specUsage = `
Usage:
  xoneharness spec lint [--json] [--overlay OVERLAY.yaml] [--spec FILE | FILE]
  xoneharness spec diff [--json] OLD.json NEW.json
  xoneharness spec diff [--json] NEW.json          (compare with the embedded vendor document)

lint lists every defect found in the vendor document (the embedded one, or
FILE) and how the overlay (the embedded spec/overlay.yaml, or OVERLAY) handles
it: each fix must widen what the document accepts. It exits 1 when a defect is
not handled, or handled by an action that narrows the document.

diff reports what a newer vendor document changed, using libopenapi's
what-changed, and marks breaking changes. It exits 1 when any change is
breaking, 0 otherwise, 2 when an input cannot be read.

Examples:
  xoneharness spec lint
  xoneharness spec lint --json | jq '.[] | select(.handled == false)'
  xoneharness spec lint --spec ./confirm-offer-2027.json --overlay ./my-fixes.yaml
  xoneharness spec diff ./confirm-offer-2027.json
`

func cmdSpec(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(a.stderr, specUsage)
		return usagef("spec: want a subcommand: lint or diff")
	}
	switch args[0] {
	case "lint":
		return cmdSpecLint(a, args[1:])
	case "diff":
		return cmdSpecDiff(a, args[1:])
	case "-h", "--help", "-help", "help":
		fmt.Fprint(a.stdout, specUsage)
		return nil
	default:
		fmt.Fprint(a.stderr, specUsage)
		return usagef("spec: unknown subcommand %q (want lint or diff)", args[0])
	}
}

func cmdSpecLint(a *app, args []string) error {
	fs := newFlagSet(a, "spec lint", specUsage)
	asJSON := fs.Bool("json", false, "print the defects as JSON")
	var sf specFlags
	sf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 1:
		return usagef("lint: want at most one FILE, got %d arguments", fs.NArg())
	case fs.NArg() == 1 && sf.spec != "":
		return usagef("lint: give the document as FILE or as --spec, not both")
	case fs.NArg() == 1:
		sf.spec = fs.Arg(0)
	}
	defects, source, err := sf.lint("lint")
	if err != nil {
		return err
	}
	unhandled := 0
	for _, d := range defects {
		if !d.Handled {
			unhandled++
		}
	}
	if *asJSON {
		if defects == nil {
			defects = []spec.Defect{}
		}
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(defects); err != nil {
			return fmt.Errorf("lint: write: %w", err)
		}
	} else {
		fmt.Fprintf(a.stdout, "%s: %d defects, %d handled by the overlay\n\n", source, len(defects), len(defects)-unhandled)
		tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "RULE\tPOINTER\tFOUND\tHANDLING")
		for _, d := range defects {
			h := d.Handling
			if !d.Handled {
				h = "NOT HANDLED: " + h
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", d.Rule, d.Pointer, d.Found, h)
		}
		if err := tw.Flush(); err != nil {
			return fmt.Errorf("lint: write: %w", err)
		}
		for _, d := range defects {
			fmt.Fprintf(a.stdout, "\n%s %s\n  why: %s\n", d.Rule, d.Pointer, d.Reason)
			if d.Effect != "" {
				fmt.Fprintf(a.stdout, "  fix: %s\n", d.Effect)
			}
		}
	}
	if unhandled > 0 {
		fmt.Fprintf(a.stderr, "spec lint: %d defect(s) not handled by the overlay\n", unhandled)
		return errFindings
	}
	return nil
}

// specFlags are --spec and --overlay: the document to test against (default: the embedded
// vendor document) and the overlay that corrects it (default: the embedded overlay).
type specFlags struct {
	spec    string
	overlay string
}

// register adds --spec and --overlay to fs.
func (f *specFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.spec, "spec", "", "OpenAPI document (JSON or YAML) to test against, instead of the embedded vendor document")
	fs.StringVar(&f.overlay, "overlay", "", "OpenAPI Overlay 1.0 document that corrects it, instead of the embedded overlay")
}

// document reads --spec (the embedded vendor document when unset) and names it for messages.
// A missing or unreadable file is a usage error (exit 2).
func (f *specFlags) document(step string) (doc []byte, source string, err error) {
	if f.spec == "" {
		return spec.Vendor(), "embedded vendor document", nil
	}
	doc, err = spec.ReadDocument(f.spec)
	if err != nil {
		return nil, "", usagef("%s: --spec: %w", step, err)
	}
	return doc, f.spec, nil
}

// overlayDocument reads --overlay; nil when unset (the embedded overlay applies).
func (f *specFlags) overlayDocument(step string) ([]byte, error) {
	if f.overlay == "" {
		return nil, nil
	}
	b, err := os.ReadFile(f.overlay)
	if err != nil {
		return nil, usagef("%s: --overlay: %v", step, err)
	}
	return b, nil
}

// lint lints the document the flags name with their overlay, and names the document for
// messages. Unreadable files and documents are usage errors (exit 2).
func (f *specFlags) lint(step string) ([]spec.Defect, string, error) {
	doc, source, err := f.document(step)
	if err != nil {
		return nil, "", err
	}
	overlay, err := f.overlayDocument(step)
	if err != nil {
		return nil, "", err
	}
	var opts []spec.Option
	if overlay != nil {
		opts = append(opts, spec.WithOverlay(overlay))
	}
	defects, err := spec.Lint(doc, opts...)
	if errors.Is(err, spec.ErrDocument) {
		return nil, "", usagef("%s: %s: %w", step, source, err)
	}
	if err != nil {
		return nil, "", fmt.Errorf("%s: %s: %w", step, source, err)
	}
	return defects, source, nil
}

// load builds the Spec the flags name, Strict when strict. A file that cannot be read, a document
// without the confirm operation, or an overlay that does not apply to it is a usage error (exit 2)
// naming what is missing; the caller prefixes nothing.
func (f *specFlags) load(strict bool) (*spec.Spec, error) {
	doc, source, err := f.document("load spec")
	if err != nil {
		return nil, err
	}
	overlay, err := f.overlayDocument("load spec")
	if err != nil {
		return nil, err
	}
	opts := []spec.Option{spec.FromDocument(doc)}
	if overlay != nil {
		opts = append(opts, spec.WithOverlay(overlay))
	}
	if strict {
		opts = append(opts, spec.Strict())
	}
	s, err := spec.Load(opts...)
	if errors.Is(err, spec.ErrDocument) {
		return nil, usagef("load spec: %s: %w", source, err)
	}
	if err != nil {
		return nil, fmt.Errorf("load spec: %s: %w", source, err)
	}
	return s, nil
}

func cmdSpecDiff(a *app, args []string) error {
	fs := newFlagSet(a, "spec diff", specUsage)
	asJSON := fs.Bool("json", false, "print the changes as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var oldDoc, newDoc []byte
	var oldName, newName string
	read := func(name string) ([]byte, error) {
		b, err := spec.ReadDocument(name)
		if err != nil {
			return nil, usagef("diff: %s: %w", name, err)
		}
		return b, nil
	}
	var err error
	switch fs.NArg() {
	case 1:
		oldDoc, oldName = spec.Vendor(), "embedded vendor document"
		newName = fs.Arg(0)
		if newDoc, err = read(newName); err != nil {
			return err
		}
	case 2:
		oldName, newName = fs.Arg(0), fs.Arg(1)
		if oldDoc, err = read(oldName); err != nil {
			return err
		}
		if newDoc, err = read(newName); err != nil {
			return err
		}
	default:
		return usagef("diff: want NEW or OLD NEW, got %d arguments", fs.NArg())
	}
	rep, err := spec.Diff(oldDoc, newDoc)
	if err != nil {
		if errors.Is(err, spec.ErrDocument) {
			return usagef("diff %s %s: %w", oldName, newName, err)
		}
		return fmt.Errorf("diff: %w", err)
	}
	if *asJSON {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return fmt.Errorf("diff: write: %w", err)
		}
	} else {
		fmt.Fprintf(a.stdout, "%s -> %s: %d changes, %d breaking\n", oldName, newName, rep.Total, rep.Breaking)
		tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
		if len(rep.Changes) > 0 {
			fmt.Fprintln(tw, "\nBREAKING\tKIND\tWHERE\tOLD\tNEW")
		}
		for _, c := range rep.Changes {
			b := ""
			if c.Breaking {
				b = "BREAKING"
			}
			where := c.Path
			if c.Property != "" {
				where += " " + c.Property
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", b, c.Kind, where, c.Old, c.New)
		}
		if err := tw.Flush(); err != nil {
			return fmt.Errorf("diff: write: %w", err)
		}
	}
	if rep.Breaking > 0 {
		return errFindings
	}
	return nil
}

// specInfo is the document a report was judged against.
func specInfo(s *spec.Spec) *spec.DocInfo {
	info := s.Info()
	return &info
}
