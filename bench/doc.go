// Command bench measures whether xoneharness is ever the bottleneck. It prints one Markdown
// table of medians over -runs, each run's figures measured side by side against a fresh
// `xoneharness sandbox` process on 127.0.0.1:
//
//  1. bare vegeta (this program in its vegeta mode: a static target, no validation, no files)
//     and 2. `xoneharness load` with every feature on (offers file, token source, idempotency
//     header, 100% validation, evidence, results.bin, the journal with its claims): the highest
//     clean rate of each (≥ 99% of the rate achieved, < 0.1% errors) and their ratio;
//  3. and 4. xoneharness at 2000/s for -fixed: the fraction of the rate achieved and of the
//     responses validated, on the quiet machine and with two CPU-bound processes (this program
//     in its spin mode) beside it;
//  5. with -memory, the peak RSS (getrusage) of a 200/s load for 60 s and for 10 s;
//  6. the wall time of `xoneharness contract` against its embedded sandbox;
//  7. once, before the runs: `go test -bench` of spec validation and of the load engine's
//     per-request work (BenchmarkProcess).
//
// Run it from the repository root:
//
//	go run ./bench            # 5 runs, 3 s steps, 2000/s for 20 s: about 8 minutes on 2 cores
//	go run ./bench -quick     # 3 runs, 1.5 s steps, 2000/s for 5 s: about 2 minutes
//	go run ./bench -memory    # adds the peak RSS rows (70 s more per run)
//
// BENCHMARKS.md says what each row means and its target.
//
// Progress goes to stderr.
package main
