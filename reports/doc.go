// Package reports is the one report model of xoneharness and its writers:
// summary.json (a stable, versioned schema), report.md, report.html and
// junit.xml, and evidence.csv (the slowest and failing requests with their
// correlation headers) whenever a load has support evidence. Each writer
// lays out one view computed from the Report (every label, line and row
// once), so the formats never disagree; response coverage and the race
// check are part of that view. It also compares a run with a baseline,
// merges saved runs and shards (Merge), and owns a run's report directory
// (ClaimDir) and the atomic writes into it.
//
//	rep := reports.New(reports.KindLoad, version, reports.Target{URL: url})
//	rep.StartedAt, rep.Load, rep.FinishedAt = start, res, time.Now()
//	rep.Decide()
//	claim, err := reports.ClaimDir(dir)
//	if err != nil {
//		return err
//	}
//	defer claim.Release()
//	paths, err := claim.WriteReport(rep, reports.AllFormats(), reports.Scrub(redactor.String))
package reports
