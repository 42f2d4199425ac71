package reports

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/xoneharness/xoneharness/ledger"
	"github.com/xoneharness/xoneharness/load"
)

// ErrOutIsInput means MergeOptions.Out is one of the inputs: a report never writes over its inputs.
var ErrOutIsInput = errors.New("a report never writes over its inputs; choose a new directory")

// MergeOptions configure Merge.
type MergeOptions struct {
	// Thresholds are evaluated again on the (merged) load result; none keeps the first input's.
	Thresholds []load.Threshold
	// Out is the directory the report will be written to, refused when it is an input ("": no check).
	Out string
	// ToolVersion names the harness in a report built from results.bin files alone.
	ToolVersion string
}

// input is one input of Merge.
type input struct {
	name    string
	dir     string  // the report directory, "" for a results file elsewhere
	summary *Report // nil when there is no summary.json
	results string  // path of results.bin, "" when there is none
}

// Merge builds one report from saved runs (report directories, summary.json or results.bin files,
// each given once in any spelling). One input with a summary is that report again. Otherwise the
// raw results are merged (percentiles never averaged), the counters only summaries hold added up
// (the race check's spread p50 is the largest shard median, an upper bound) and the thresholds
// evaluated on the merge. The report is at best incomplete when an input was incomplete, was cut
// short, repeats records or has no summary.json (what its journal may have booked is listed), or
// a shard is missing; an offer confirmed by two inputs is a finding. Merge never writes; its errors
// are about its inputs (ErrOutIsInput when Out names one).
func Merge(paths []string, opts MergeOptions) (*Report, error) {
	if len(paths) == 0 {
		return nil, errors.New("reports: no input given")
	}
	var inputs []input
	for _, p := range paths {
		in, err := readInput(p)
		if err != nil {
			return nil, err
		}
		for _, prev := range inputs {
			if samePath(prev.dir, in.dir) || samePath(prev.results, in.results) {
				return nil, fmt.Errorf("reports: inputs %s and %s are the same input: each run may be given once", prev.name, in.name)
			}
		}
		if samePath(opts.Out, in.dir) || samePath(opts.Out, in.name) {
			return nil, fmt.Errorf("reports: %s is the input %s: %w", opts.Out, in.name, ErrOutIsInput)
		}
		inputs = append(inputs, in)
	}
	shards, err := shardLabels(inputs)
	if err != nil {
		return nil, err
	}
	var rep *Report
	if len(inputs) == 1 && inputs[0].summary != nil {
		rep = rerender(inputs[0], opts.Thresholds)
	} else if rep, err = merge(inputs, opts); err != nil {
		return nil, err
	}
	if len(inputs) > 1 {
		note := fmt.Sprintf("merged from %d inputs", len(inputs))
		if len(shards) > 0 {
			note += "; shards " + strings.Join(shards, ", ")
		}
		rep.Notes = append(rep.Notes, note)
	}
	if missing := missingShards(shards); len(missing) > 0 {
		rep.MarkIncomplete("missing shards: " + strings.Join(missing, ", "))
	}
	return rep, nil
}

// readInput finds what an input path holds.
func readInput(path string) (input, error) {
	in := input{name: path, dir: path}
	st, err := os.Stat(path)
	if err != nil {
		return in, fmt.Errorf("reports: input %s: %w", path, err)
	}
	sum := filepath.Join(path, FileName(FormatJSON))
	switch {
	case !st.IsDir() && filepath.Ext(path) == ".json":
		in.dir, sum = filepath.Dir(path), path
	case !st.IsDir():
		in.dir, in.results, sum = "", path, ""
		if filepath.Base(path) == load.ResultsFile {
			in.dir = filepath.Dir(path)
		}
	}
	if sum != "" && regular(sum) {
		if in.summary, err = readSummary(sum); err != nil {
			return in, fmt.Errorf("reports: %w", err)
		}
	}
	if rb := filepath.Join(in.dir, load.ResultsFile); in.results == "" && in.dir != "" && regular(rb) {
		in.results = rb
	}
	if in.summary == nil && in.results == "" {
		return in, fmt.Errorf("reports: input %s: holds neither summary.json nor results.bin", path)
	}
	return in, nil
}

func regular(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// samePath reports whether two paths name the same file or directory, whatever their spelling
// ("" names none).
func samePath(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

// shardLabels are the inputs' shard labels, sorted; two inputs of one shard are an error.
func shardLabels(inputs []input) ([]string, error) {
	seen := map[string]string{}
	for _, in := range inputs {
		if in.summary == nil || in.summary.Shard == "" {
			continue
		}
		if prev, dup := seen[in.summary.Shard]; dup {
			return nil, fmt.Errorf("reports: inputs %s and %s are the same shard %s", prev, in.name, in.summary.Shard)
		}
		seen[in.summary.Shard] = in.name
	}
	return slices.Sorted(maps.Keys(seen)), nil
}

// missingShards lists the shards "I/N" absent from labels for the largest N: "1/3" misses 0/3, 2/3.
func missingShards(labels []string) []string {
	n := 0
	for _, l := range labels {
		if sh, err := load.ParseShard(l); err == nil {
			n = max(n, sh.Count)
		}
	}
	var missing []string
	for i := range n {
		if l := (load.Shard{Index: i, Count: n}).String(); !slices.Contains(labels, l) {
			missing = append(missing, l)
		}
	}
	return missing
}

// rerender is one saved report again, keeping why it was incomplete.
func rerender(in input, ts []load.Threshold) *Report {
	rep := *in.summary
	rep.Verdict = ""
	if len(ts) > 0 && rep.Load != nil {
		load.EvaluateThresholds(rep.Load, withGates(ts, rep.Load.Plan))
	}
	rep.MarkIncomplete(inputIncomplete(in)...)
	return &rep
}

// inputIncomplete lists why a saved run lacks the evidence a pass needs.
func inputIncomplete(in input) []string {
	s := in.summary
	if s == nil {
		return []string{"no summary.json: the run did not finish (killed?); the figures come from results.bin alone, " +
			"without its plan, schema validation or token counts"}
	}
	out := slices.Clone(s.Incomplete)
	if s.Verdict == VerdictIncomplete && len(out) == 0 {
		out = append(out, "its report was incomplete")
	}
	if s.Load != nil && s.Load.Interrupted {
		out = append(out, "load interrupted")
	}
	return out
}

// merge builds one load report from the inputs' results.bin files and their summaries' counters.
func merge(inputs []input, opts MergeOptions) (*Report, error) {
	var files []string
	for _, in := range inputs {
		if in.results != "" {
			files = append(files, in.results)
		}
	}
	if len(files) == 0 {
		return nil, errors.New("reports: no results.bin among the inputs: nothing to merge")
	}
	merged, err := load.MergeResults(files...)
	if err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	rep := New(KindLoad, opts.ToolVersion, Target{URL: "unknown: no input has a summary.json"})
	if i := slices.IndexFunc(inputs, func(in input) bool { return in.summary != nil }); i >= 0 {
		cp := *inputs[i].summary
		rep = &cp
		rep.Verdict, rep.Incomplete, rep.Shard, rep.Baseline = "", nil, "", nil
		rep.DuplicateOffers, rep.MayHaveBooked = nil, nil
	}
	if err := mergeInputs(rep, merged, inputs); err != nil {
		return nil, err
	}
	rep.StartedAt, rep.FinishedAt = earliest(rep.StartedAt, merged.StartedAt), latest(rep.FinishedAt, merged.FinishedAt)
	for _, cut := range merged.Truncated {
		rep.Notes = append(rep.Notes, "salvaged "+cut)
		rep.MarkIncomplete("results file cut short (a killed run): " + cut)
	}
	ts := withGates(opts.Thresholds, merged.Plan)
	if len(opts.Thresholds) == 0 {
		if ts, err = merged.Plan.ParsedThresholds(); err != nil {
			return nil, fmt.Errorf("reports: thresholds of %s: %w", inputs[0].name, err)
		}
	}
	load.EvaluateThresholds(merged, ts)
	rep.Load = merged
	if n := len(rep.DuplicateOffers); n > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d offer(s) confirmed by more than one input: duplicate bookings", n))
	}
	return rep, nil
}

// withGates puts p's safety gates before thresholds given anew (Plan.WithGates) unless they were off.
func withGates(ts []load.Threshold, p load.Plan) []load.Threshold {
	if len(ts) == 0 || p.GatesOff {
		return ts
	}
	p.Thresholds = nil
	for _, t := range ts {
		p.Thresholds = append(p.Thresholds, t.Expr)
	}
	out, _ := p.WithGates(false).ParsedThresholds() // gates and expressions that parsed once
	return out
}

// mergeInputs folds each input into rep and merged: times, counters, why it was incomplete,
// repeated records, and its journal (duplicate offers; without a summary, what may have booked).
func mergeInputs(rep *Report, merged *load.Result, inputs []input) error {
	owner, races := map[string]string{}, 0
	for _, in := range inputs {
		if s := in.summary; s != nil {
			rep.StartedAt, rep.FinishedAt = earliest(rep.StartedAt, s.StartedAt), latest(rep.FinishedAt, s.FinishedAt)
			addCounters(merged, s.Load)
			races += b2i(s.Load != nil && s.Load.Race != nil)
		}
		for _, why := range inputIncomplete(in) {
			rep.MarkIncomplete(in.name + ": " + why)
		}
		n, err := repeatedRecords(in.results)
		if err != nil {
			return fmt.Errorf("reports: input %w", err)
		}
		if n > 0 {
			rep.MarkIncomplete(fmt.Sprintf("%s repeats %d records (the same request twice): its figures are not to be trusted", in.results, n))
		}
		var rows []ledger.Row // the journal's confirms that booked or may have booked
		if path := filepath.Join(in.dir, ledger.File); in.dir != "" && regular(path) {
			if rows, err = ledger.ReadFile(path); err != nil {
				return fmt.Errorf("reports: input %w", err)
			}
		}
		for _, b := range rows {
			if b.Status < 200 || b.Status > 299 {
				continue
			}
			if prev, seen := owner[b.OfferID]; seen && prev != in.name {
				rep.DuplicateOffers = append(rep.DuplicateOffers, b.OfferID)
				continue
			}
			owner[b.OfferID] = in.name
		}
		if in.summary == nil && in.dir != "" {
			rep.MayHaveBooked = append(rep.MayHaveBooked, bookingsOf(filepath.Join(in.dir, ledger.File), rows))
		}
	}
	slices.Sort(rep.DuplicateOffers)
	rep.DuplicateOffers = slices.Compact(rep.DuplicateOffers)
	if races > 1 && !slices.Contains(rep.Notes, mergedRaceNote) {
		rep.Notes = append(rep.Notes, mergedRaceNote)
	}
	return nil
}

func bookingsOf(path string, rows []ledger.Row) Bookings {
	b := Bookings{Journal: path, First: []BookingRow{}}
	for _, r := range rows {
		if r.Outcome == ledger.Booked {
			b.Booked++
		} else {
			b.Unknown++
		}
		if len(b.First) < maxBookingRows {
			b.First = append(b.First, BookingRow{OfferID: r.OfferID, Outcome: r.Outcome, BookingID: r.BookingID,
				Status: r.Status, Error: r.Error})
		}
	}
	return b
}

// addCounters adds to merged what only a shard's summary holds (the first plan, schema validation,
// tokens, pauses, feed starvation, the interrupt, coverage, evidence, the race check): totals add
// up, maxima are the largest.
func addCounters(merged, l *load.Result) {
	if l == nil {
		return
	}
	if merged.Plan.Rate == "" && len(merged.Plan.Stages) == 0 {
		merged.Plan = l.Plan
	}
	s, ls := &merged.Schema, l.Schema
	s.Validated, s.Violations, s.Skipped = s.Validated+ls.Validated, s.Violations+ls.Violations, s.Skipped+ls.Skipped
	s.TruncatedBodies += ls.TruncatedBodies
	s.SkipReason = cmp.Or(s.SkipReason, ls.SkipReason)
	s.Details = append(s.Details, ls.Details[:min(len(ls.Details), max(20-len(s.Details), 0))]...)
	merged.StatusUndocumented += l.StatusUndocumented
	t, lt := &merged.Tokens, l.Tokens
	if n := t.Fetches + lt.Fetches; n > 0 {
		t.MeanMs = (t.MeanMs*float64(t.Fetches) + lt.MeanMs*float64(lt.Fetches)) / float64(n)
	}
	t.Fetches, t.Failures, t.Invalidations = t.Fetches+lt.Fetches, t.Failures+lt.Failures, t.Invalidations+lt.Invalidations
	t.MaxMs = max(t.MaxMs, lt.MaxMs)
	p, lp := &merged.RetryAfterPauses, l.RetryAfterPauses
	p.Count, p.TotalMs, p.MaxMs = p.Count+lp.Count, p.TotalMs+lp.TotalMs, max(p.MaxMs, lp.MaxMs)
	p.Ignored, p.Unsent = p.Ignored+lp.Ignored, p.Unsent+lp.Unsent
	for _, v := range lp.Values {
		if !slices.Contains(p.Values, v) && len(p.Values) < 10 {
			p.Values = append(p.Values, v)
		}
	}
	f, lf := &merged.FeedStarved, l.FeedStarved
	f.Ms, f.Waits, f.LateSends = f.Ms+lf.Ms, f.Waits+lf.Waits, f.LateSends+lf.LateSends
	merged.Interrupted = merged.Interrupted || l.Interrupted
	merged.Coverage = mergeCoverage(merged.Coverage, l.Coverage)
	merged.Evidence = merged.Evidence.Merge(l.Evidence, max(merged.Plan.WithDefaults().Evidence, 0))
	merged.Race = merged.Race.Merge(l.Race)
}

// maxTrackedSeq bounds the memory of the repeat check: sequence numbers below 2^27 are tracked in a
// bit set (at most 16 MiB, 62 KiB for 500,000 requests), larger ones not checked.
const maxTrackedSeq = 1 << 27

// repeatedRecords counts the records of a results.bin whose sequence number an earlier record had
// (the same result written twice), up to the first it cannot decode (MergeResults reports those).
func repeatedRecords(path string) (uint64, error) {
	if path == "" {
		return 0, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	dec := vegeta.NewDecoder(bufio.NewReader(f))
	var seen []uint64
	var n uint64
	for {
		var r vegeta.Result
		if dec.Decode(&r) != nil {
			return n, nil
		}
		if r.Seq >= maxTrackedSeq {
			continue
		}
		w, bit := int(r.Seq/64), uint64(1)<<(r.Seq%64)
		if w >= len(seen) {
			seen = append(seen, make([]uint64, w+1-len(seen))...)
		}
		if seen[w]&bit != 0 {
			n++
		}
		seen[w] |= bit
	}
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
