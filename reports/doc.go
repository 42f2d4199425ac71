// Package reports is the one report model of xoneharness and its writers: summary.json (a stable,
// versioned schema), report.md, report.html and junit.xml, evidence.csv (the slowest and failing
// requests with their correlation headers) whenever a load has support evidence, and the lines the
// CLI prints (Console, ConsoleVerdict, ConsolePlan, ConsolePreflight). Each writer lays out one
// view computed from the Report, its sentences the plain-text templates of assets/text.tmpl, so the
// formats never disagree. It also compares a run with a baseline, merges saved runs and shards
// (Merge), and owns a run's report directory (ClaimDir; PrepareDir for a new run, removing the
// directories it made if nothing was written; ClaimOut for a merge's output), the atomic writes
// into it (WriteDir; Publish decides the verdict, writes and appends to a CI step summary), and the
// rule that keeps a CPU profile out of any (StartCPUProfile).
//
//	rep := reports.New(reports.KindLoad, version, reports.Target{URL: url})
//	rep.StartedAt, rep.Load, rep.FinishedAt = start, res, time.Now()
//	rep.Decide()
//	claim, err := reports.ClaimDir(dir)
//	if err != nil {
//		return err
//	}
//	defer claim.Release()
//	paths, err := reports.WriteDir(claim.Dir(), rep, []string{reports.FormatJSON}, reports.Scrub(redactor.String))
package reports
