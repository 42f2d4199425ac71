package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/xoneharness/xoneharness/load"
	"github.com/xoneharness/xoneharness/reports"
)

const reportUsage = `
Usage: xoneharness report [flags] INPUT... [flags]

Re-renders reports from saved results, and merges several inputs (the shards
of one run) into one report. Each INPUT is a report directory (holding
summary.json and, for load runs, results.bin) or a results.bin file; each may
be given once. Percentiles of a merge come from the merged raw results, never
from averaged percentiles; thresholds are evaluated again on the merged result
(--threshold, or those of the first input's plan).

The inputs are never modified: the report goes to a new directory (--out, or
reports/<UTC timestamp>-report), which must not hold results of its own.
Flags may come before or after the inputs ("--" ends the flags). A results.bin
cut short by a killed run is read up to its last complete record; such a
report, like one of a run that left no summary.json (its bookings.csv is
listed: those confirms may have booked), of an interrupted run, of a lone
shard or with a shard missing, or with records repeated, is incomplete, never
pass; so is a comparison with a baseline that holds nothing comparable.

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
	c := reports.Compare(base, rep, tol)
	c.Baseline, rep.Baseline = b.path, c
	if err := reports.ConsoleBaseline(a.stdout, c, b.tolerance); err != nil {
		fmt.Fprintf(a.stderr, "xoneharness: warning: %v\n", err)
	}
}

func cmdReport(_ context.Context, a *app, args []string) error {
	fs := newFlagSet(a, "report", reportUsage)
	var bf baselineFlags
	bf.register(fs)
	formatsFlag := fs.String("format", "all", "report formats, comma-separated: json, md, junit, html, all")
	out := fs.String("out", "", "output directory, new or holding no results (default reports/<UTC timestamp>-report); never an input's")
	var thresholds stringsFlag
	fs.Var(&thresholds, "threshold", "threshold evaluated on the (merged) load result, after the safety gates, repeatable (default: the first input's plan)")
	inputs, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(inputs) == 0 {
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
	rep, err := reports.Merge(inputs, reports.MergeOptions{Thresholds: ts, Out: *out, ToolVersion: reports.ToolVersion(buildVersion)})
	switch {
	case errors.Is(err, reports.ErrOutIsInput):
		return usagef("--out: %v", err)
	case err != nil:
		return usageError{err}
	}
	claim, err := reports.ClaimOut(*out, a.now(), "report")
	if err != nil && *out != "" {
		return usagef("--out: %v", err)
	} else if err != nil {
		return usagef("report directory: %v", err)
	}
	defer claim.Release()
	bf.apply(a, rep, base, tol)
	return finishReport(a, claim.Dir(), formats, rep, "")
}

// parseInterspersed parses the flags wherever they stand among the inputs
// ("report DIR --threshold X" as well as "report --threshold X DIR") and
// returns the inputs; after "--" every argument is an input.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var inputs []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return inputs, nil
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(inputs, rest...), nil
		}
		inputs, args = append(inputs, rest[0]), rest[1:]
	}
}
