package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/xoneharness/xoneharness/ledger"
	"github.com/xoneharness/xoneharness/reports"
	"github.com/xoneharness/xoneharness/spec"
)

// session is what one run of contract, load or run holds: its report
// directory, the spec, the target, and the record of its confirms (the
// journal, and the reports root's claims store unless the target is the
// embedded sandbox, whose offers are fresh ids).
type session struct {
	a        *app
	kind     string
	dir      string
	formats  []string
	started  time.Time
	spec     *spec.Spec
	tg       *target
	reported bool         // a report was written
	release  func()       // the report directory's claim
	run      *ledger.Run  // claims and journal, closed by close
	tf       *targetFlags // with sf, the unusual settings every report
	sf       *specFlags   // states: --insecure-skip-verify, --spec, --overlay
}

// openSession claims the report directory, loads the spec, resolves the
// target and opens the journal (and, off the embedded sandbox, the claims
// store of the reports root). On error what was opened is closed again,
// and an infrastructure failure still leaves an error report; an interrupt
// is incomplete (exit 4), nothing having been sent.
func openSession(ctx context.Context, a *app, rf *reportFlags, tf *targetFlags, sf *specFlags, kind string, strict bool) (st *session, err error) {
	dir, formats, release, err := rf.prepare(a, kind)
	if err != nil {
		return nil, err
	}
	st = &session{a: a, kind: kind, dir: dir, formats: formats, started: a.now(), release: release, tf: tf, sf: sf}
	defer func() {
		if err = interruptedSetup(ctx, a, kind, err); err != nil {
			err = st.close(err)
		}
	}()
	if st.spec, err = sf.loadContext(ctx, strict); err != nil {
		return st, err
	}
	if st.tg, err = tf.resolve(a, true); err != nil {
		return st, err
	}
	st.run, err = ledger.OpenRun(dir, !st.tg.Embedded, a.now)
	if errors.Is(err, ledger.ErrNewJournal) {
		return st, usagef("--report-dir: %v", err)
	} else if err != nil {
		return st, fmt.Errorf("claims store: %w", err)
	}
	for _, n := range st.run.Notes {
		fmt.Fprintf(a.stderr, "xoneharness: note: %s\n", n)
	}
	return st, nil
}

// close closes the journal, the target and the report directory, and
// returns err; an infrastructure failure (exit 3) that no report recorded
// yet gets an error report first, for people and CI gates alike.
func (st *session) close(err error) error {
	if err != nil && exitCode(err) == exitInfra && !st.reported {
		err = st.failed(st.report(st.kind), err)
	}
	if cerr := st.run.Close(st.reported); cerr != nil {
		fmt.Fprintf(st.a.stderr, "xoneharness: warning: %v\n", cerr)
	}
	if st.tg != nil {
		st.tg.Close()
	}
	st.release()
	return err
}

// report returns a new report of kind for this run's target and spec.
func (st *session) report(kind string) *reports.Report {
	t := reports.Target{URL: "not resolved"}
	if st.tg != nil {
		t = reports.Target{URL: st.tg.BaseURL, Embedded: st.tg.Embedded}
	}
	rep := reports.New(kind, reports.ToolVersion(buildVersion), t)
	rep.StartedAt = st.started
	rep.SetSpec(st.spec, st.sf.files())
	rep.InsecureSkipVerify = st.tf.insecure
	return rep
}

// failed writes rep with the verdict "error" and err as its reason (with
// whatever results it holds), and returns err.
func (st *session) failed(rep *reports.Report, err error) error {
	if exitCode(err) != exitInfra {
		return err
	}
	rep.FinishedAt = st.a.now()
	rep.Verdict, rep.Error = reports.VerdictError, err.Error()
	st.reported = true
	if paths, _, werr := reports.Publish(st.dir, rep, st.formats, "", reports.Scrub(st.a.red.String)); werr != nil {
		fmt.Fprintf(st.a.stderr, "xoneharness: warning: write error report: %v\n", werr)
	} else {
		fmt.Fprintf(st.a.stdout, "reports (verdict error): %s\n", strings.Join(paths, " "))
	}
	return err
}

// finish writes rep (finishReport) and returns the verdict's error.
func (st *session) finish(rep *reports.Report) error {
	rep.FinishedAt = st.a.now()
	st.reported = true
	return finishReport(st.a, st.dir, st.formats, rep, st.dir)
}

// interruptedSetup returns err, or errIncomplete (exit 4) after saying so
// when ctx ended: an interrupt before the first request is not a failure of
// the target or of the harness.
func interruptedSetup(ctx context.Context, a *app, command string, err error) error {
	if err == nil || ctx.Err() == nil {
		return err
	}
	fmt.Fprintf(a.stderr, "xoneharness %s: interrupted before anything was sent (%v)\n", command, err)
	return errIncomplete
}
