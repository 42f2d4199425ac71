// Package ledger is the record of every confirm the harness sends, so that a
// partner can cancel every booking a run made: a write-ahead journal per run
// (bookings.csv in the run's report directory) and one claims store per
// reports root, shared by contract and load.
//
// The journal. Before a confirm leaves, Journal.Begin writes a pending row
// and returns only when the write system call has returned: a process killed
// at any moment after that (SIGKILL, the OOM killer, an evicted pod) leaves
// the row in the file, because the kernel keeps what was written. When the
// answer comes, Journal.Resolve appends its outcome (booked, refused or
// unknown). So bookings.csv lists each confirm twice, "pending" and then its
// outcome; a pending row with no outcome after it was in flight when the
// process died, and Read reports it as unknown: look it up before
// cancelling. Stable storage: the journal and the claims store are synced
// every SyncEvery (1 s) and at Close, so a power loss (unlike a killed
// process) can lose up to the last second. A failed write (a full disk) is
// kept and returned by every later Begin: the sender stops, no request leaves
// unrecorded.
//
// The claims store. An offer is confirmed at most once per reports root,
// across processes: Journal.Begin first claims the offer in the root's
// ClaimsFile, and an offer that another run claimed (finished, running or
// killed) is refused with a *ClaimedError naming that run, whichever offers
// file, copy or pipe it came from. The store is an append-only CSV file under
// an exclusive flock, chosen over an embedded database (bbolt, SQLite) for
// what it costs and guarantees here:
//
//   - bbolt holds its file lock for as long as a process keeps it open, so
//     concurrent runs (shards started together) would serialise on whole
//     runs or reopen the database per batch (an mmap and a fsync each);
//     SQLite would add a C toolchain or a large pure-Go port to the build.
//   - A claim needs only "has any other run taken this offer?", an append
//     and the lock; the file takes a few system calls per batch of claims
//     (group commit, see Journal), is readable with any CSV tool, and a
//     killed holder's lock is dropped by the kernel.
//   - Its cost is memory for other runs' claims (about 40 bytes each, read
//     once at start and then incrementally) and a read of new lines per
//     batch; this run's own claims are not kept in memory.
//
// No directory is walked with glob patterns: a root named "ci[1]" or holding
// "<" works. When the store is created, the ledgers already under the root
// (root/*/bookings.csv, read through os.ReadDir) are taken in; a dangling
// symbolic link or an unreadable file there is skipped with a note.
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
