package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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
	claims   *ledger.Claims
	journal  *ledger.Journal
	reported bool     // a report was written
	closers  []func() // undone in reverse order by close
	// unusual settings every report states: TLS verification off, a
	// custom spec or overlay.
	insecure              bool
	specFile, overlayFile string
}

// openSession claims the report directory, loads the spec, resolves the
// target and opens the journal. On error what was opened is closed again,
// and an infrastructure failure still leaves an error report.
func openSession(ctx context.Context, a *app, rf *reportFlags, tf *targetFlags, sf *specFlags, kind string, strict bool) (st *session, err error) {
	dir, formats, cleanup, err := rf.prepare(a, kind)
	if err != nil {
		return nil, err
	}
	st = &session{a: a, kind: kind, dir: dir, formats: formats, started: a.now(), closers: []func(){cleanup},
		insecure: tf.insecure, specFile: sf.spec, overlayFile: sf.overlay}
	defer func() {
		if err != nil {
			err = st.close(err)
		}
	}()
	if st.spec, err = sf.loadContext(ctx, strict); err != nil {
		return st, err
	}
	if st.tg, err = tf.resolve(a, true); err != nil {
		return st, err
	}
	st.closers = append(st.closers, st.tg.Close)
	return st, st.openJournal()
}

// openJournal opens the run's bookings.csv and, off the embedded sandbox,
// the claims store of its reports root (the report directory's parent).
func (st *session) openJournal() error {
	var opt ledger.Options
	if !st.tg.Embedded {
		dir := filepath.Clean(st.dir)
		c, err := ledger.OpenClaims(filepath.Dir(dir), dir)
		if err != nil {
			return fmt.Errorf("claims store: %w", err)
		}
		st.claims, opt.Claims = c, c
		st.closers = append(st.closers, func() { st.warn(c.Close()) })
		for _, n := range c.Notes() {
			fmt.Fprintf(st.a.stderr, "xoneharness: note: claims store %s: %s\n", c.Path(), n)
		}
	}
	opt.Now = st.a.now
	j, err := ledger.Open(st.dir, opt)
	if err != nil {
		return usagef("--report-dir: %v (a run's journal is never overwritten: choose a new directory)", err)
	}
	st.journal = j
	st.closers = append(st.closers, func() {
		st.warn(j.Close())
		if !st.reported && j.Begun() == 0 {
			_ = os.Remove(j.Path()) // a run that failed before any confirm leaves no journal
		}
	})
	return nil
}

// warn prints an error met while closing.
func (st *session) warn(err error) {
	if err != nil {
		fmt.Fprintf(st.a.stderr, "xoneharness: warning: %v\n", err)
	}
}

// close releases everything, in reverse order, and returns err; an
// infrastructure failure (exit 3) that no report recorded yet gets an
// error report first, for people and CI gates alike.
func (st *session) close(err error) error {
	if err != nil && exitCode(err) == exitInfra && !st.reported {
		err = st.failed(st.report(st.kind), err)
	}
	for i := len(st.closers) - 1; i >= 0; i-- {
		st.closers[i]()
	}
	st.closers = nil
	return err
}

// report returns a new report of kind for this run's target and spec.
func (st *session) report(kind string) *reports.Report {
	t := reports.Target{URL: "not resolved"}
	if st.tg != nil {
		t = reports.Target{URL: st.tg.BaseURL, Embedded: st.tg.Embedded}
	}
	rep := reports.New(kind, version(), t)
	rep.StartedAt = st.started
	rep.Spec = specInfo(st.spec)
	rep.InsecureSkipVerify, rep.SpecFile, rep.OverlayFile = st.insecure, st.specFile, st.overlayFile
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
	if paths, werr := reports.WriteDir(st.dir, rep, st.formats, reports.Scrub(st.a.red.String)); werr != nil {
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
