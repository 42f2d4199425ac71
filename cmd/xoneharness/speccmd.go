package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/xoneharness/xoneharness/reports"
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
	defects, err := sf.files().Lint(ctx)
	if err != nil {
		return sf.specError("lint", err)
	}
	if *asJSON {
		err = reports.ConsoleJSON(a.stdout, defects)
	} else {
		err = reports.ConsoleLint(a.stdout, sf.files().Name(), defects)
	}
	if err != nil {
		return fmt.Errorf("lint: %w", err)
	}
	if unhandled := spec.Unhandled(defects); unhandled > 0 {
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

func (f *specFlags) files() spec.Files { return spec.Files{Document: f.spec, Overlay: f.overlay} }

// specError maps an error of spec.Files, prefixing step: a file that cannot be read, or is beyond
// a limit of the loader, is a usage error (exit 2) naming --spec or --overlay (and the file, when
// the error may not name it); a document or an overlay the harness cannot test against is a usage
// error naming the document; anything else (the context ended) is returned wrapped.
func (f *specFlags) specError(step string, err error) error {
	var le *spec.LimitError
	var fe *spec.FileError
	var pe *os.PathError
	switch {
	case errors.As(err, &le) && le.Input == "overlay",
		errors.As(err, &fe) && fe.Input == "overlay" && errors.As(err, &pe) && pe.Op != "open":
		return usagef("%s: --overlay %s: %w", step, f.overlay, err)
	case le != nil:
		return usagef("%s: --spec %s: %w", step, f.files().Name(), err)
	case fe != nil && fe.Input == "overlay":
		return usagef("%s: --overlay: %w", step, err)
	case fe != nil:
		return usagef("%s: --spec: %w", step, err)
	case errors.Is(err, spec.ErrDocument):
		return usagef("%s: %s: %w", step, f.files().Name(), err)
	}
	return fmt.Errorf("%s: %s: %w", step, f.files().Name(), err)
}

// preflight builds the Spec the flags name (Strict when strict) and returns its defects
// (spec.Lint's answer), the Spec and the document's name, from one read of the files. A later
// loadContext with the same strict returns this Spec.
func (f *specFlags) preflight(ctx context.Context, strict bool) ([]spec.Defect, *spec.Spec, string, error) {
	s, err := f.files().Load(ctx, strict)
	if err != nil {
		return nil, nil, "", f.specError("spec preflight", err)
	}
	f.loaded, f.loadedStrict = s, strict
	return s.Defects(), s, f.files().Name(), nil
}

// loadContext builds the Spec the flags name, Strict when strict (or returns preflight's); it
// returns when ctx ends. A document or an overlay the harness cannot use is a usage error (exit 2)
// naming what is wrong.
func (f *specFlags) loadContext(ctx context.Context, strict bool) (*spec.Spec, error) {
	if f.loaded != nil && f.loadedStrict == strict {
		return f.loaded, nil
	}
	s, err := f.files().Load(ctx, strict)
	if err != nil {
		return nil, f.specError("load spec", err)
	}
	return s, nil
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
	rep, oldName, err := spec.DiffFiles(ctx, fs.Args()...)
	newName := fs.Arg(fs.NArg() - 1)
	if errors.As(err, new(*spec.FileError)) {
		return usagef("diff: %w", err)
	} else if err != nil {
		return (&specFlags{spec: oldName + " " + newName}).specError("diff", err)
	}
	if *asJSON {
		err = reports.ConsoleJSON(a.stdout, rep)
	} else {
		err = reports.ConsoleDiff(a.stdout, oldName, newName, rep)
	}
	if err != nil {
		return fmt.Errorf("diff: %w", err)
	}
	if rep.Breaking > 0 {
		return errFindings
	}
	return nil
}
