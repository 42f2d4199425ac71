package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/xoneharness/xoneharness/ledger"
	"github.com/xoneharness/xoneharness/load"
	"github.com/xoneharness/xoneharness/reports"
)

const reportUsage = `
Usage: xoneharness report [flags] INPUT...

Re-renders reports from saved results, and merges several inputs (the shards
of one run) into one report. Each INPUT is a report directory (holding
summary.json and, for load runs, results.bin) or a results.bin file; each may
be given once. Percentiles of a merge come from the merged raw results, never
from averaged percentiles; thresholds are evaluated again on the merged result
(--threshold, or those of the first input's plan).

The inputs are never modified: the report goes to a new directory (--out, or
reports/<UTC timestamp>-report), which must not hold results of its own. A
results.bin cut short by a killed run is read up to its last complete record;
such a report, like one of an interrupted run or with a shard missing, is
incomplete, never pass.

Examples:
  xoneharness report reports/20261127T010000Z-load            # re-render every format into a new directory
  xoneharness report --out merged shard-0 shard-1 shard-2     # merge three shards
  xoneharness report --baseline last-night/summary.json --regression-tolerance 10% reports/today-run
  xoneharness report --format md --out /tmp/r results.bin
`

// baselineFlags are --baseline and --regression-tolerance (load, run, report).
type baselineFlags struct {
	path      string
	tolerance string
}

func (b *baselineFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&b.path, "baseline", "", "previous summary.json or report directory to compare with")
	fs.StringVar(&b.tolerance, "regression-tolerance", "10%", "relative worsening that counts as a regression, e.g. 10% or 0.1")
}

// load reads the baseline before any work is done, so a bad path is a usage
// error and not a surprise at the end of a long run.
func (b *baselineFlags) load() (*reports.Report, float64, error) {
	tol, err := reports.ParseTolerance(b.tolerance)
	if err != nil {
		return nil, 0, usagef("--regression-tolerance: %v", err)
	}
	if b.path == "" {
		return nil, tol, nil
	}
	base, err := reports.LoadBaseline(b.path)
	if err != nil {
		return nil, 0, usagef("--baseline: %v", err)
	}
	return base, tol, nil
}

// apply compares rep with the baseline (if any) and prints the regressions.
func (b *baselineFlags) apply(a *app, rep *reports.Report, base *reports.Report, tol float64) {
	if base == nil {
		return
	}
	rep.Baseline = reports.Compare(base, rep, tol)
	rep.Baseline.Baseline = b.path
	if n := rep.Baseline.Regressions; n > 0 {
		fmt.Fprintf(a.stdout, "baseline %s: %d regression(s) beyond %s\n", b.path, n, b.tolerance)
		for _, m := range rep.Baseline.Metrics {
			if m.Regression {
				fmt.Fprintf(a.stdout, "  %s: %g → %g%s (%+.1f%%)\n", m.Name, m.Baseline, m.Current, m.Unit, 100*m.Change)
			}
		}
	} else {
		fmt.Fprintf(a.stdout, "baseline %s: no regression beyond %s\n", b.path, b.tolerance)
	}
}

// reportInput is one INPUT of the report command.
type reportInput struct {
	name    string
	dir     string          // the report directory, "" for a bare results file
	summary *reports.Report // nil for a bare results.bin
	results string          // path of results.bin, "" when there is none
}

func readReportInput(path string) (reportInput, error) {
	in := reportInput{name: path}
	st, err := os.Stat(path)
	if err != nil {
		return in, usagef("input %s: %v", path, err)
	}
	if !st.IsDir() {
		if filepath.Ext(path) == ".json" {
			sum, err := reports.ReadSummary(path)
			if err != nil {
				return in, usagef("input %v", err)
			}
			in.summary = sum
			in.dir = filepath.Dir(path)
			if rb := filepath.Join(in.dir, "results.bin"); fileExists(rb) {
				in.results = rb
			}
			return in, nil
		}
		in.results = path
		if filepath.Base(path) == load.ResultsFile {
			in.dir = filepath.Dir(path)
		}
		return in, nil
	}
	in.dir = path
	sumPath := filepath.Join(path, reports.FileName(reports.FormatJSON))
	if fileExists(sumPath) {
		sum, err := reports.ReadSummary(sumPath)
		if err != nil {
			return in, usagef("input %v", err)
		}
		in.summary = sum
	}
	if rb := filepath.Join(path, "results.bin"); fileExists(rb) {
		in.results = rb
	}
	if in.summary == nil && in.results == "" {
		return in, usagef("input %s: holds neither summary.json nor results.bin", path)
	}
	return in, nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func cmdReport(_ context.Context, a *app, args []string) error {
	fs := newFlagSet(a, "report", reportUsage)
	var bf baselineFlags
	bf.register(fs)
	formatsFlag := fs.String("format", "all", "report formats, comma-separated: json, md, junit, html, all")
	out := fs.String("out", "", "output directory, new or holding no results (default reports/<UTC timestamp>-report); never an input's")
	var thresholds stringsFlag
	fs.Var(&thresholds, "threshold", "threshold evaluated on the (merged) load result, repeatable (default: the first input's)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("report: want at least one INPUT (a report directory or a results.bin)")
	}
	formats, err := parseFormats(*formatsFlag)
	if err != nil {
		return err
	}
	var ts []load.Threshold
	for _, t := range thresholds {
		th, err := load.ParseThreshold(t)
		if err != nil {
			return usagef("--threshold: %v", err)
		}
		ts = append(ts, th)
	}
	base, tol, err := bf.load()
	if err != nil {
		return err
	}
	var inputs []reportInput
	for _, p := range fs.Args() {
		in, err := readReportInput(p)
		if err != nil {
			return err
		}
		if err := checkDistinct(inputs, in); err != nil {
			return err
		}
		inputs = append(inputs, in)
	}
	if *out != "" {
		if err := checkOutNotInput(*out, inputs); err != nil {
			return err
		}
	}
	rep, err := mergeInputs(inputs, ts)
	if err != nil {
		return err
	}
	claim, err := claimReportOut(a, *out)
	if err != nil {
		return err
	}
	defer claim.Release()
	bf.apply(a, rep, base, tol)
	return finishReport(a, claim.Dir(), formats, rep)
}

// checkDistinct refuses an input that is one already given, by identity
// rather than by spelling: "dir", "dir/", "dir/results.bin",
// "dir/summary.json" and a symbolic link to any of them are one input.
func checkDistinct(prev []reportInput, in reportInput) error {
	for _, p := range prev {
		if sameInput(p, in) {
			return usagef("inputs %s and %s are the same input: each run may be given once", p.name, in.name)
		}
	}
	return nil
}

func sameInput(a, b reportInput) bool {
	return samePath(a.dir, b.dir) || samePath(a.results, b.results)
}

// samePath reports whether two non-empty paths name the same file or
// directory.
func samePath(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	return err == nil && os.SameFile(sa, sb)
}

// checkOutNotInput refuses --out naming an input's directory (or file).
func checkOutNotInput(out string, inputs []reportInput) error {
	for _, in := range inputs {
		if samePath(out, in.dir) || samePath(out, in.name) {
			return usagef("--out %s is the input %s: a report never writes over its inputs; choose a new directory", out, in.name)
		}
	}
	return nil
}

// claimReportOut claims the output directory: --out when given (refused when
// it holds results of a run or another run holds it), else a new
// reports/<UTC timestamp>-report, with a numeric suffix when a report of the
// same second took that name.
func claimReportOut(a *app, out string) (*reports.Claim, error) {
	if out != "" {
		c, err := reports.ClaimDir(out)
		if err != nil {
			return nil, usagef("--out: %v", err)
		}
		return c, nil
	}
	base := reports.DefaultDir(a.now(), "report")
	dir := base
	for i := 2; ; i++ {
		c, err := reports.ClaimDir(dir)
		if err == nil {
			return c, nil
		}
		if i > 100 || !(errors.Is(err, reports.ErrHeld) || errors.Is(err, reports.ErrHoldsResults)) {
			return nil, usagef("report directory: %v", err)
		}
		dir = fmt.Sprintf("%s-%d", base, i)
	}
}

// mergeInputs builds one report from the inputs: a single summary is
// re-rendered as it is; load results are merged from their raw results.
func mergeInputs(inputs []reportInput, ts []load.Threshold) (*reports.Report, error) {
	first := inputs[0].summary
	var rep *reports.Report
	if first != nil {
		cp := *first
		rep = &cp
		rep.Verdict = ""
	} else {
		rep = reports.New(reports.KindLoad, version(), reports.Target{URL: "results.bin"})
	}
	var files, shards []string
	seenShard := map[string]string{}
	for _, in := range inputs {
		if in.results != "" {
			files = append(files, in.results)
		}
		if in.summary != nil && in.summary.Shard != "" {
			if prev, dup := seenShard[in.summary.Shard]; dup {
				return nil, usagef("inputs %s and %s are the same shard %s", prev, in.name, in.summary.Shard)
			}
			seenShard[in.summary.Shard] = in.name
			shards = append(shards, in.summary.Shard)
		}
	}
	if len(inputs) == 1 && first != nil {
		// Re-render one saved report as it is, keeping why it was incomplete.
		if len(ts) > 0 && rep.Load != nil {
			load.EvaluateThresholds(rep.Load, ts)
		}
		for _, why := range inputIncomplete(inputs[0]) {
			rep.MarkIncomplete(why)
		}
		return rep, nil
	}
	// A merge says for itself why it is incomplete, naming the inputs.
	rep.Incomplete = nil
	if len(files) == 0 {
		return nil, usagef("no results.bin among the inputs: nothing to merge")
	}
	merged, err := load.MergeResults(files...)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, usagef("%v", err)
		}
		return nil, usagef("merge: %v", err)
	}
	// Carry over what results.bin does not hold: the plan and the counters
	// kept only in each summary.
	for _, in := range inputs {
		if in.summary == nil || in.summary.Load == nil {
			continue
		}
		l := in.summary.Load
		if merged.Plan.Rate == "" && len(merged.Plan.Stages) == 0 {
			merged.Plan = l.Plan
		}
		merged.Schema.Validated += l.Schema.Validated
		merged.Schema.Violations += l.Schema.Violations
		if len(merged.Schema.Details) < 20 {
			merged.Schema.Details = append(merged.Schema.Details, l.Schema.Details[:min(len(l.Schema.Details), 20-len(merged.Schema.Details))]...)
		}
		merged.Tokens.Fetches += l.Tokens.Fetches
		merged.Tokens.Failures += l.Tokens.Failures
		merged.RetryAfterPauses.Count += l.RetryAfterPauses.Count
		merged.Interrupted = merged.Interrupted || l.Interrupted
	}
	for _, in := range inputs {
		for _, why := range inputIncomplete(in) {
			rep.MarkIncomplete(in.name + ": " + why)
		}
	}
	for _, cut := range merged.Truncated {
		rep.Notes = append(rep.Notes, "salvaged "+cut)
		rep.MarkIncomplete("results file cut short (a killed run): " + cut)
	}
	if len(ts) == 0 {
		for _, e := range merged.Plan.Thresholds {
			th, err := load.ParseThreshold(e)
			if err != nil {
				return nil, usagef("threshold %q from %s: %v", e, inputs[0].name, err)
			}
			ts = append(ts, th)
		}
	}
	load.EvaluateThresholds(merged, ts)
	rep.Load = merged
	dups, err := duplicateOffers(inputs)
	if err != nil {
		return nil, err
	}
	rep.DuplicateOffers = dups
	if len(dups) > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d offer(s) confirmed by more than one input: duplicate bookings", len(dups)))
	}
	rep.Shard = ""
	sort.Strings(shards)
	note := fmt.Sprintf("merged from %d inputs", len(inputs))
	if len(shards) > 0 {
		note += "; shards " + strings.Join(shards, ", ")
	}
	rep.Notes = append(rep.Notes, note)
	if missing := missingShards(shards); len(missing) > 0 {
		rep.Notes = append(rep.Notes, "missing shards: "+strings.Join(missing, ", "))
		rep.MarkIncomplete("missing shards: " + strings.Join(missing, ", "))
	}
	return rep, nil
}

// inputIncomplete lists why a saved run lacks the evidence a pass needs, as
// its summary recorded it: its own reasons, an "incomplete" verdict, an
// interrupted load.
func inputIncomplete(in reportInput) []string {
	s := in.summary
	if s == nil {
		return nil
	}
	out := slices.Clone(s.Incomplete)
	if s.Verdict == reports.VerdictIncomplete && len(out) == 0 {
		out = append(out, "its report was incomplete")
	}
	if s.Load != nil && s.Load.Interrupted {
		out = append(out, "load interrupted")
	}
	return out
}

// missingShards lists the shards "I/N" absent from labels, for the N the
// labels name.
func missingShards(labels []string) []string {
	have := map[string]bool{}
	n := 0
	for _, l := range labels {
		have[l] = true
		var i, total int
		if _, err := fmt.Sscanf(l, "%d/%d", &i, &total); err == nil && total > n {
			n = total
		}
	}
	var missing []string
	for i := range n {
		if l := fmt.Sprintf("%d/%d", i, n); !have[l] {
			missing = append(missing, l)
		}
	}
	return missing
}

// duplicateOffers reads each input directory's bookings.csv and returns the
// offers confirmed (2xx) in more than one of them, sorted.
func duplicateOffers(inputs []reportInput) ([]string, error) {
	owner := map[string]string{}
	var dups []string
	for _, in := range inputs {
		if in.dir == "" {
			continue
		}
		path := filepath.Join(in.dir, ledger.File)
		if !fileExists(path) {
			continue
		}
		rows, err := ledger.ReadFile(path)
		if err != nil {
			return nil, usagef("input %v", err)
		}
		for _, b := range rows {
			if b.Status < 200 || b.Status > 299 {
				continue
			}
			if prev, seen := owner[b.OfferID]; seen && prev != in.name {
				dups = append(dups, b.OfferID)
				continue
			}
			owner[b.OfferID] = in.name
		}
	}
	sort.Strings(dups)
	return slices.Compact(dups), nil
}
