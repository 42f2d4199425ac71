package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
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
		return cmdSpecLint(ctx, a, args[1:])
	case "diff":
		return cmdSpecDiff(ctx, a, args[1:])
	case "-h", "--help", "-help", "help":
		fmt.Fprint(a.stdout, specUsage)
		return nil
	default:
		fmt.Fprint(a.stderr, specUsage)
		return usagef("spec: unknown subcommand %q (want lint or diff)", args[0])
	}
}

func cmdSpecLint(ctx context.Context, a *app, args []string) error {
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
	defects, source, err := sf.lintContext(ctx, "lint")
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
		if err := writeJSON(a, "lint", defects); err != nil {
			return err
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
	// loaded is the Spec preflight built (Strict when loadedStrict), which loadContext returns
	// instead of reading the files again.
	loaded       *spec.Spec
	loadedStrict bool
}

func (f *specFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.spec, "spec", "", "OpenAPI document (JSON or YAML) to test against, instead of the embedded vendor document")
	fs.StringVar(&f.overlay, "overlay", "", "OpenAPI Overlay 1.0 document that corrects it, instead of the embedded overlay")
}

// specError maps an error of spec: an input beyond a limit of the loader (*spec.LimitError) is a
// usage error (exit 2) naming --spec or --overlay and the limit; a document or an overlay the
// harness cannot test against is a usage error naming source; anything else (the context ended)
// is returned wrapped.
func (f *specFlags) specError(step, source string, err error) error {
	var le *spec.LimitError
	switch {
	case errors.As(err, &le) && le.Input == "overlay":
		return usagef("%s: --overlay %s: %w", step, f.overlay, err)
	case errors.As(err, &le):
		return usagef("%s: --spec %s: %w", step, source, err)
	case errors.Is(err, spec.ErrDocument):
		return usagef("%s: %s: %w", step, source, err)
	}
	return fmt.Errorf("%s: %s: %w", step, source, err)
}

// options reads the files the flags name (a file that cannot be read is a usage error) and
// returns the document, the spec options that load it (ctx included) and its name for messages.
// The overlay is read to one byte beyond spec.MaxDocumentSize, enough for spec to refuse it.
func (f *specFlags) options(ctx context.Context, step string) ([]byte, []spec.Option, string, error) {
	doc, source := spec.Vendor(), "embedded vendor document"
	if f.spec != "" {
		b, err := spec.ReadDocument(f.spec)
		if errors.As(err, new(*spec.LimitError)) {
			return nil, nil, "", f.specError(step, f.spec, err)
		} else if err != nil {
			return nil, nil, "", usagef("%s: --spec: %w", step, err)
		}
		doc, source = b, f.spec
	}
	opts := []spec.Option{spec.Context(ctx), spec.FromDocument(doc)}
	if f.overlay != "" {
		file, err := os.Open(f.overlay)
		if err != nil {
			return nil, nil, "", usagef("%s: --overlay: %v", step, err)
		}
		defer file.Close()
		b, err := io.ReadAll(io.LimitReader(file, spec.MaxDocumentSize+1))
		if err != nil {
			return nil, nil, "", usagef("%s: --overlay %s: %v", step, f.overlay, err)
		}
		opts = append(opts, spec.WithOverlay(b))
	}
	return doc, opts, source, nil
}

// lintContext lints the document the flags name with their overlay, and names the document for
// messages; it returns when ctx ends.
func (f *specFlags) lintContext(ctx context.Context, step string) ([]spec.Defect, string, error) {
	doc, opts, source, err := f.options(ctx, step)
	if err != nil {
		return nil, "", err
	}
	defects, err := spec.Lint(doc, opts...)
	if err != nil {
		return nil, "", f.specError(step, source, err)
	}
	return defects, source, nil
}

// preflight builds the Spec the flags name (Strict when strict) and returns its defects
// (spec.Lint's answer), the Spec and the document's name, from one read of the files. A later
// loadContext with the same strict returns this Spec.
func (f *specFlags) preflight(ctx context.Context, strict bool) ([]spec.Defect, *spec.Spec, string, error) {
	s, source, err := f.load(ctx, "spec preflight", strict)
	if err != nil {
		return nil, nil, "", err
	}
	f.loaded, f.loadedStrict = s, strict
	return s.Defects(), s, source, nil
}

// loadContext builds the Spec the flags name, Strict when strict (or returns preflight's); it
// returns when ctx ends. A document or an overlay the harness cannot use is a usage error (exit 2)
// naming what is wrong.
func (f *specFlags) loadContext(ctx context.Context, strict bool) (*spec.Spec, error) {
	if f.loaded != nil && f.loadedStrict == strict {
		return f.loaded, nil
	}
	s, _, err := f.load(ctx, "load spec", strict)
	return s, err
}

// load builds the Spec the flags name and names the document; step prefixes errors.
func (f *specFlags) load(ctx context.Context, step string, strict bool) (*spec.Spec, string, error) {
	_, opts, source, err := f.options(ctx, step)
	if err != nil {
		return nil, "", err
	}
	if strict {
		opts = append(opts, spec.Strict())
	}
	s, err := spec.Load(opts...)
	if err != nil {
		return nil, "", f.specError(step, source, err)
	}
	return s, source, nil
}

func cmdSpecDiff(ctx context.Context, a *app, args []string) error {
	fs := newFlagSet(a, "spec diff", specUsage)
	asJSON := fs.Bool("json", false, "print the changes as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if n := fs.NArg(); n < 1 || n > 2 {
		return usagef("diff: want NEW or OLD NEW, got %d arguments", n)
	}
	var docs [][]byte
	for _, name := range fs.Args() {
		b, err := spec.ReadDocument(name)
		if err != nil {
			return usagef("diff: %s: %w", name, err)
		}
		docs = append(docs, b)
	}
	oldName, oldDoc := "embedded vendor document", spec.Vendor()
	newName, newDoc := fs.Arg(fs.NArg()-1), docs[len(docs)-1]
	if fs.NArg() == 2 {
		oldName, oldDoc = fs.Arg(0), docs[0]
	}
	rep, err := spec.Diff(oldDoc, newDoc, spec.Context(ctx))
	if err != nil {
		return (&specFlags{}).specError("diff", oldName+" "+newName, err)
	}
	if *asJSON {
		if err := writeJSON(a, "diff", rep); err != nil {
			return err
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

// writeJSON prints v as indented JSON.
func writeJSON(a *app, step string, v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("%s: write: %w", step, err)
	}
	return nil
}

// specInfo is the document a report was judged against.
func specInfo(s *spec.Spec) *spec.DocInfo {
	info := s.Info()
	return &info
}
