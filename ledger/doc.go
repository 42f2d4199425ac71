// Package ledger is the record of every confirm the harness sends, so that a
// partner can cancel every booking a run made: a write-ahead journal per run
// (bookings.csv in the run's report directory) and one claims store per
// reports root, shared by contract and load.
//
// The journal. Journal.Begin writes a pending row before a confirm leaves and
// returns only when the write system call has returned, so a process killed
// after that (SIGKILL, the OOM killer, an evicted pod) leaves the row in the
// file. Journal.Resolve appends the outcome. A pending row with no outcome
// after it was in flight when the process died: Read reports it as unknown
// (look it up before cancelling). The files are synced every second and at
// Close, so a power loss (unlike a killed process) can lose up to the last
// second. A failed write (a full disk) is returned by every later Begin: the
// sender stops, no request leaves unrecorded.
//
// The claims store. An offer is confirmed at most once per reports root,
// across processes: Begin first claims the offer in the root's ClaimsFile,
// and an offer that another run claimed (finished, running or killed) is
// refused with a *ClaimedError naming that run. The store is an append-only
// CSV file under an exclusive flock rather than an embedded database: bbolt
// holds its lock while open, so shards started together would serialise on
// whole runs, and SQLite would add a C toolchain or a large port. A claim
// needs only "has another run taken this offer?", an append and the lock: a
// few system calls per batch (a batch of one costs about 10 µs on a shared
// two-core machine, BenchmarkBegin, most of it the lock, whose file
// gofrs/flock opens and closes each time), a file any CSV tool reads, and a
// lock the kernel drops for a killed holder. When the store is created, the ledgers
// already under the root (root/*/bookings.csv, found with os.ReadDir, never a
// glob, so a root named "ci[1]" works) are taken in.
//
// OpenRun opens both for one run's directory (the claims store in its parent,
// unless the target books any offer) and its Close removes a journal no
// confirm was written to.
//
// Use:
//
//	claims, err := ledger.OpenClaims("reports", "reports/20261206T100000Z-load")
//	if err != nil {
//		return err
//	}
//	defer claims.Close()
//	j, err := ledger.Open("reports/20261206T100000Z-load", ledger.Options{Claims: claims})
//	if err != nil {
//		return err
//	}
//	defer j.Close()
//	if err := j.Begin(offerID, quoteID); err != nil {
//		return err // claimed by another run, or the journal cannot be written: do not send
//	}
//	resp, err := client.Do(req)
//	j.Resolve(ledger.Row{OfferID: offerID, QuoteID: quoteID, Outcome: ledger.OutcomeOf(status), Status: status})
package ledger
