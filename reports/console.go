package reports

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/xoneharness/xoneharness/contract"
	"github.com/xoneharness/xoneharness/load"
	"github.com/xoneharness/xoneharness/spec"
)

// Parts of a report that Console writes.
const (
	// ConsoleContract is a line per contract case, the counts, the generated cases' minimal bodies
	// and seed, and a warning when drift is not a failure.
	ConsoleContract = "contract"
	// ConsoleLoad is the final table of a load: rates, latencies, statuses, pauses, offers, the
	// race check, errors and thresholds.
	ConsoleLoad = "load"
)

// Console writes one part of r (ConsoleContract, ConsoleLoad) as the CLI prints it during a run.
func Console(w io.Writer, r *Report, part string) error {
	if part != ConsoleContract && part != ConsoleLoad {
		return fmt.Errorf("reports: console: unknown part %q", part)
	}
	return console(w, part, consoleReport{Report: r})
}

// ConsoleVerdict writes the lines the CLI ends a run with: why the run is incomplete, then the
// verdict; given the report directory dir, also the target, whether the safety gates were off, and
// where to read the report (dir's report.html when html, else dir).
func ConsoleVerdict(w io.Writer, r *Report, dir string, html bool) error {
	open := ""
	if html {
		open = filepath.Join(dir, FileName(FormatHTML))
	}
	return console(w, "verdict", consoleReport{r, dir, open})
}

// consoleReport is a report as the console's templates see it, with its directory and page.
type consoleReport struct {
	*Report
	Dir, Open string
}

// ConsolePlan writes what a load will do (a dry run's output): p's rate profile and request count,
// the target, the offers (a row count, load.OffersGenerated or load.OffersStream) and the thresholds.
func ConsolePlan(w io.Writer, p load.Plan, target string, offers int) error {
	return console(w, "plan", struct {
		Plan                      load.Plan
		Target                    string
		Offers, Generated, Stream int
	}{p, target, offers, load.OffersGenerated, load.OffersStream})
}

// ConsolePreflight writes the spec preflight's line and returns the note a run's report keeps.
func ConsolePreflight(w io.Writer, source string, defects []spec.Defect) (string, error) {
	data := struct {
		Source         string
		Defects, Fixed int
	}{Source: source, Defects: len(defects), Fixed: len(defects) - spec.Unhandled(defects)}
	if err := console(w, "preflight", data); err != nil {
		return "", err
	}
	return text("preflight note", data)
}

func console(w io.Writer, part string, data any) error {
	s, err := text("console "+part, data)
	if err != nil {
		return fmt.Errorf("reports: console %s: %w", part, err)
	}
	if _, err := io.WriteString(w, s); err != nil {
		return fmt.Errorf("reports: write console %s: %w", part, err)
	}
	return nil
}

// consoleLabel is a case's outcome on the console: upper case, with [SECURITY] or [INTEGRITY].
func consoleLabel(c contract.CaseResult) string {
	label := strings.ToUpper(string(c.Outcome))
	switch {
	case c.Security:
		label += " [SECURITY]"
	case c.Integrity:
		label += " [INTEGRITY]"
	}
	return label
}

// consoleFirst is a case's first finding on one line, cut at 160 bytes (a race check's kept whole).
func consoleFirst(c contract.CaseResult) string {
	first, limit := c.Reason, 160
	if c.Race != nil {
		limit = len(first)
	} else if len(c.Violations) > 0 {
		v := c.Violations[0]
		first = strings.TrimSpace(v.Rule+" "+v.Path) + ": " + v.Reason
		if n := len(c.Violations) - 1; n > 0 {
			first += fmt.Sprintf(" (+%d more)", n)
		}
	}
	return oneLine(first, limit)
}

// oneLine is s with its runs of white space folded to one space, cut after n bytes with "…".
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

// consoleCodes is the status tally of a load on the console: "CODE×N", sorted, space-separated.
func consoleCodes(codes map[string]uint64) string {
	var out []string
	for code, n := range codes {
		out = append(out, code+"×"+strconv.FormatUint(n, 10))
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}
