package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/xoneharness/xoneharness/spec"
)

// ConsoleLint writes what `spec lint` prints of the defects of the document named source: a count
// of them and of those the overlay handles, a table of rule, pointer, finding and handling, then
// why each is a defect and how its fix changes what the document accepts.
func ConsoleLint(w io.Writer, source string, defects []spec.Defect) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s: %d defects, %d handled by the overlay\n\n", source, len(defects), len(defects)-spec.Unhandled(defects))
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tPOINTER\tFOUND\tHANDLING")
	for _, d := range defects {
		h := d.Handling
		if !d.Handled {
			h = "NOT HANDLED: " + h
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", d.Rule, d.Pointer, d.Found, h)
	}
	tw.Flush()
	for _, d := range defects {
		fmt.Fprintf(&b, "\n%s %s\n  why: %s\n", d.Rule, d.Pointer, d.Reason)
		if d.Effect != "" {
			fmt.Fprintf(&b, "  fix: %s\n", d.Effect)
		}
	}
	if _, err := b.WriteTo(w); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// ConsoleDiff writes what `spec diff` prints of rep, the changes from the document named oldName
// to the one named newName: a count of the changes and of the breaking ones, then a table of them.
func ConsoleDiff(w io.Writer, oldName, newName string, rep *spec.DiffReport) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s -> %s: %d changes, %d breaking\n", oldName, newName, rep.Total, rep.Breaking)
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	if len(rep.Changes) > 0 {
		fmt.Fprintln(tw, "\nBREAKING\tKIND\tWHERE\tOLD\tNEW")
	}
	for _, c := range rep.Changes {
		breaking := ""
		if c.Breaking {
			breaking = "BREAKING"
		}
		where := c.Path
		if c.Property != "" {
			where += " " + c.Property
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", breaking, c.Kind, where, c.Old, c.New)
	}
	tw.Flush()
	if _, err := b.WriteTo(w); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// ConsoleJSON writes what `spec lint --json` and `spec diff --json` print of v (the defects, a
// diff report): indented JSON.
func ConsoleJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}
