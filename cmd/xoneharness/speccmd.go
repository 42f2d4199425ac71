package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/xoneharness/xoneharness/spec"
)

const specUsage = `
Usage:
  xoneharness spec lint [--json] [FILE]
  xoneharness spec diff [--json] OLD.json NEW.json
  xoneharness spec diff [--json] NEW.json          (compare with the embedded vendor document)

lint lists every defect found in the vendor document (the embedded one, or
FILE) and how the overlay (spec/overlay.yaml) handles it. It exits 1 when a
defect is not handled by the overlay.

diff reports what a newer vendor document changed, using libopenapi's
what-changed, and marks breaking changes. It exits 1 when any change is
breaking, 0 otherwise, 2 when an input cannot be read.

Examples:
  xoneharness spec lint
  xoneharness spec lint --json | jq '.[] | select(.handled == false)'
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
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	doc := spec.Vendor()
	source := "embedded vendor document"
	switch fs.NArg() {
	case 0:
	case 1:
		b, err := os.ReadFile(fs.Arg(0))
		if err != nil {
			return usagef("lint: %v", err)
		}
		doc, source = b, fs.Arg(0)
	default:
		return usagef("lint: want at most one FILE, got %d arguments", fs.NArg())
	}
	defects, err := spec.Lint(doc)
	if err != nil {
		if errors.Is(err, spec.ErrUnreadable) {
			return usagef("lint: %s: %v", source, err)
		}
		return fmt.Errorf("lint: %w", err)
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
		}
	}
	if unhandled > 0 {
		fmt.Fprintf(a.stderr, "spec lint: %d defect(s) not handled by the overlay\n", unhandled)
		return errFindings
	}
	return nil
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
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, usagef("diff: %v", err)
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
	// Say which input is unreadable before comparing them.
	for _, in := range []struct {
		name string
		doc  []byte
	}{{oldName, oldDoc}, {newName, newDoc}} {
		if _, err := spec.Lint(in.doc); errors.Is(err, spec.ErrUnreadable) {
			return usagef("diff: %s: %v", in.name, err)
		}
	}
	rep, err := spec.Diff(oldDoc, newDoc)
	if err != nil {
		if errors.Is(err, spec.ErrUnreadable) {
			return usagef("diff %s %s: %v", oldName, newName, err)
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
