package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/xoneharness/xoneharness/reports"
)

// reportFlags are --report-dir and --format, shared by contract, load and run.
type reportFlags struct {
	dir     string
	formats string
}

func (r *reportFlags) register(fs *flag.FlagSet, kind string) {
	fs.StringVar(&r.dir, "report-dir", "", "report directory (default reports/<UTC timestamp>-"+kind+")")
	fs.StringVar(&r.formats, "format", "all", "report formats, comma-separated: json, md, junit, html, all")
}

// prepare resolves the directory and formats and checks that the directory is
// writable before any request is sent. The returned cleanup removes the
// directories prepare created if they are still empty (a run that failed
// before writing anything leaves no litter); call it when the command ends.
func (r *reportFlags) prepare(a *app, kind string) (string, []string, func(), error) {
	formats, err := parseFormats(r.formats)
	if err != nil {
		return "", nil, nil, err
	}
	dir := r.dir
	if dir == "" {
		dir = reports.DefaultDir(a.now(), kind)
	}
	// The directories that do not exist yet, innermost first.
	var created []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil || d == filepath.Dir(d) {
			break
		}
		created = append(created, d)
	}
	removeCreated := func() {
		for _, d := range created {
			if os.Remove(d) != nil { // not empty: the run wrote its report
				return
			}
		}
	}
	// The run owns the directory from here on: a second run, or one started
	// at the same moment, is refused, and so is a directory that holds an
	// earlier run's results.
	claim, err := reports.ClaimDir(dir)
	if err != nil {
		removeCreated()
		return "", nil, nil, usagef("--report-dir: %v", err)
	}
	return dir, formats, func() { claim.Release(); removeCreated() }, nil
}

// finishReport decides the verdict, writes every format (and the Markdown
// to $GITHUB_STEP_SUMMARY when set), prints where the files are and the
// verdict line, and returns the verdict's error: nil for pass, errFindings
// or errIncomplete. The verdict line names runDir, a run's directory, when
// set.
func finishReport(a *app, dir string, formats []string, rep *reports.Report, runDir string) error {
	rep.Decide()
	paths, err := reports.WriteDir(dir, rep, formats, reports.Scrub(a.red.String))
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if f := a.getenv("GITHUB_STEP_SUMMARY"); f != "" {
		if err := appendStepSummary(a, f, rep); err != nil {
			fmt.Fprintf(a.stderr, "xoneharness: warning: GITHUB_STEP_SUMMARY: %v\n", err)
		}
	}
	fmt.Fprintf(a.stdout, "reports: %s\n", strings.Join(paths, " "))
	if err := reports.ConsoleVerdict(a.stdout, rep, runDir, runDir != "" && slices.Contains(formats, reports.FormatHTML)); err != nil {
		return err
	}
	switch rep.Verdict {
	case reports.VerdictPass:
		return nil
	case reports.VerdictIncomplete:
		return errIncomplete
	}
	return errFindings
}

// console prints part (reports.ConsoleContract, reports.ConsoleLoad) of
// rep as the run goes on; a console that cannot be written to is a warning.
func console(a *app, part string, rep *reports.Report) {
	if err := reports.Console(a.stdout, rep, part); err != nil {
		fmt.Fprintf(a.stderr, "xoneharness: warning: %v\n", err)
	}
}

// waiting prints what an offers stream waits for.
func (a *app) waiting(msg string) { fmt.Fprintln(a.stderr, msg) }

func appendStepSummary(a *app, path string, rep *reports.Report) error {
	md, err := reports.Render(rep, reports.FormatMarkdown, reports.Scrub(a.red.String))
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

// stringsFlag is a repeatable string flag.
type stringsFlag []string

func (s *stringsFlag) String() string { return strings.Join(*s, ",") }

func (s *stringsFlag) Set(v string) error {
	*s = append(*s, v)
	return nil
}

// readPolicyholder reads --policyholder: one JSON object. Errors name the
// file and the line of a syntax error.
func readPolicyholder(path string) (json.RawMessage, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("--policyholder: %v", err)
	}
	var obj map[string]any
	if err := json.Unmarshal(b, &obj); err != nil {
		var off int64
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		if errors.As(err, &se) {
			off = se.Offset
		} else if errors.As(err, &te) {
			off = te.Offset
		}
		line := 1 + strings.Count(string(b[:min(int(off), len(b))]), "\n")
		return nil, usagef("--policyholder: %s:%d: want one JSON object: %v", path, line, err)
	}
	if obj == nil { // the JSON literal null
		return nil, usagef("--policyholder: %s:1: want one JSON object, got null", path)
	}
	return json.RawMessage(b), nil
}

// parseFormats parses --format; an empty value is refused (say "all").
func parseFormats(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, usagef("--format: empty: want json, md, junit, html or all (comma-separated)")
	}
	formats, err := reports.ParseFormats(s)
	if err != nil {
		return nil, usagef("--format: %v", err)
	}
	return formats, nil
}
