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

	"github.com/xoneharness/xoneharness/load"
	"github.com/xoneharness/xoneharness/reports"
)

const reportUsage = `
Usage: xoneharness report [flags] INPUT...

Re-renders reports from saved results, and merges several inputs (the shards
of one run) into one report. Each INPUT is a report directory (holding
summary.json and, for load runs, results.bin) or a results.bin file.
Percentiles of a merge come from the merged raw results, never from averaged
percentiles; thresholds are evaluated again on the merged result (--threshold,
or those of the first input's plan).

Examples:
  xoneharness report reports/20261127T010000Z-load            # re-render every format
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
			if rb := filepath.Join(filepath.Dir(path), "results.bin"); fileExists(rb) {
				in.results = rb
			}
			return in, nil
		}
		in.results = path
		return in, nil
	}
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
	out := fs.String("out", "", "output directory (default reports/<UTC timestamp>-report, or the input directory when re-rendering one)")
	var thresholds stringsFlag
	fs.Var(&thresholds, "threshold", "threshold evaluated on the (merged) load result, repeatable (default: the first input's)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("report: want at least one INPUT (a report directory or a results.bin)")
	}
	formats, err := reports.ParseFormats(*formatsFlag)
	if err != nil {
		return usagef("--format: %v", err)
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
		inputs = append(inputs, in)
	}
	rep, err := mergeInputs(inputs, ts)
	if err != nil {
		return err
	}
	dir := *out
	if dir == "" {
		if len(inputs) == 1 && inputs[0].summary != nil {
			if st, err := os.Stat(inputs[0].name); err == nil && st.IsDir() {
				dir = inputs[0].name
			}
		}
		if dir == "" {
			dir = reports.DefaultDir(a.now(), "report")
		}
	}
	if err := reports.Prepare(dir); err != nil {
		return usagef("--out: %v", err)
	}
	bf.apply(a, rep, base, tol)
	return finishReport(a, dir, formats, rep)
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
		// Re-render one saved report as it is.
		if len(ts) > 0 && rep.Load != nil {
			load.EvaluateThresholds(rep.Load, ts)
		}
		return rep, nil
	}
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
	}
	return rep, nil
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
		path := filepath.Join(in.name, load.BookingsFile)
		if !fileExists(path) {
			continue
		}
		f, err := os.Open(path)
		if err != nil {
			return nil, usagef("input %v", err)
		}
		rows, err := load.ReadBookings(f, path)
		f.Close()
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
