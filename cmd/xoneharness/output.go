package main

import (
	"flag"
	"fmt"
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

// prepare resolves the directory and formats and claims the directory
// before any request is sent. The returned release removes the directories
// prepare created if they are still empty; call it when the command ends.
func (r *reportFlags) prepare(a *app, kind string) (string, []string, func(), error) {
	formats, err := parseFormats(r.formats)
	if err != nil {
		return "", nil, nil, err
	}
	d, err := reports.PrepareDir(r.dir, a.now(), kind)
	if err != nil {
		return "", nil, nil, usagef("--report-dir: %v", err)
	}
	return d.Dir(), formats, d.Release, nil
}

// finishReport publishes rep (reports.Publish: the verdict, every format,
// the Markdown to $GITHUB_STEP_SUMMARY when set), prints where the files
// are and the verdict line, and returns the verdict's error: nil for pass,
// errFindings or errIncomplete. The verdict line names runDir, a run's
// directory, when set.
func finishReport(a *app, dir string, formats []string, rep *reports.Report, runDir string) error {
	paths, summaryErr, err := reports.Publish(dir, rep, formats, a.getenv("GITHUB_STEP_SUMMARY"), reports.Scrub(a.red.String))
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if summaryErr != nil {
		fmt.Fprintf(a.stderr, "xoneharness: warning: GITHUB_STEP_SUMMARY: %v\n", summaryErr)
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

// stringsFlag is a repeatable string flag.
type stringsFlag []string

func (s *stringsFlag) String() string { return strings.Join(*s, ",") }

func (s *stringsFlag) Set(v string) error {
	*s = append(*s, v)
	return nil
}

// parseFormats parses --format; an empty value is refused (say "all").
func parseFormats(s string) ([]string, error) {
	formats, err := reports.ParseFormats(s)
	if err != nil {
		return nil, usagef("--format: %v", err)
	}
	return formats, nil
}
