package reports

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// ConsoleBaseline writes the lines the CLI prints of a comparison with a baseline (Compare, with
// c.Baseline set to the baseline's path): the regressions beyond tolerance (as the user wrote it,
// such as "10%") and each regressed figure, or that nothing was comparable, or that nothing
// regressed.
func ConsoleBaseline(w io.Writer, c *Comparison, tolerance string) error {
	var b strings.Builder
	switch {
	case c.Regressions > 0:
		fmt.Fprintf(&b, "baseline %s: %d regression(s) beyond %s\n", c.Baseline, c.Regressions, tolerance)
		for _, m := range c.Metrics {
			if m.Regression {
				fmt.Fprintf(&b, "  %s: %g → %g%s (%+.1f%%)\n", m.Name, m.Baseline, m.Current, m.Unit, 100*m.Change)
			}
		}
	case c.NothingComparable:
		fmt.Fprintf(&b, "baseline %s: nothing comparable (%s)\n", c.Baseline, strings.Join(c.Notes, "; "))
	default:
		fmt.Fprintf(&b, "baseline %s: no regression beyond %s\n", c.Baseline, tolerance)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("reports: write console baseline: %w", err)
	}
	return nil
}

// appendStepSummary appends r as Markdown (report.md, through opts) to the file at path, creating
// it: the CLI's $GITHUB_STEP_SUMMARY, which GitHub Actions shows on a job's page. Its errors are
// Render's and the file's own, which name the path.
func appendStepSummary(path string, r *Report, opts ...Option) error {
	md, err := Render(r, FormatMarkdown, opts...)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(md)
	return errors.Join(err, f.Close())
}

// Publish ends a run's report: it decides r's verdict (Decide; an "error" one is kept), writes r
// into dir in each format (WriteDir, through opts) and, when stepSummary is not "", appends r's
// Markdown to that file (appendStepSummary; the CLI passes $GITHUB_STEP_SUMMARY). It returns the
// paths written and WriteDir's error (after which nothing is appended), and apart from it the step
// summary's error, summaryErr: a summary that cannot be written need not fail a written report.
func Publish(dir string, r *Report, formats []string, stepSummary string, opts ...Option) (paths []string, summaryErr, err error) {
	r.Decide()
	if paths, err = WriteDir(dir, r, formats, opts...); err != nil || stepSummary == "" {
		return paths, nil, err
	}
	return paths, appendStepSummary(stepSummary, r, opts...), nil
}
