// Command bench measures whether xoneharness is ever the bottleneck: it prints one table of
// medians measured side by side in one run on this machine.
//
//  1. the embedded sandbox's capacity: a closed-loop raw HTTP/1.1 client (wrk-like) against
//     `xoneharness sandbox` served in its own process;
//  2. bare vegeta (a child process of this program: static target, fresh offer id per request,
//     no validation, no histograms): the highest constant rate with ≥ 99% of it achieved and
//     < 0.1% errors, found by stepping the rate up and down, MaxWorkers capped;
//  3. `xoneharness load` (a child process) with every feature on — offer feed (--offers),
//     token source, idempotency header, 100% schema validation, HDR histograms, results.bin and
//     bookings.csv streaming — the same measurement against the same sandbox, and the ratio 3/2
//     per run;
//  4. micro-benchmarks (`go test -bench`): spec response validation and the load engine's
//     per-request work;
//  5. the wall time of `xoneharness contract` against its embedded sandbox;
//  6. with -memory, the peak RSS (/usr/bin/time -v) of 100k and 1M request load runs;
//  7. 5000/s with 100% validation: the fraction of the rate achieved.
//
// Run it from the repository root:
//
//	go run ./bench            # 5 runs of 3 s steps: about 10 minutes on 2 cores
//	go run ./bench -quick     # 3 runs of 1.5 s steps, 10 s at 5000/s: about 2 minutes
//	go run ./bench -memory    # adds the 100k and 1M memory runs (several minutes)
//	go run ./bench -v -runs 7 # log every step; more runs
//
// The table is Markdown, ready for BENCHMARKS.md. Progress goes to stderr.
package main
