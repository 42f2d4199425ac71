package contract

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/xoneharness/xoneharness/internal/auth"
	"github.com/xoneharness/xoneharness/internal/fsx"
	"github.com/xoneharness/xoneharness/ledger"
	"github.com/xoneharness/xoneharness/spec"
)

const (
	recordingVersion = 1       // of the files Record writes; Replay rejects others
	recordingExt     = ".json" // the file name suffix of a recording
)

// recording is one recording file: one case of one run, redacted.
type recording struct {
	Version  int         `json:"version"`
	Target   string      `json:"target"`
	Embedded bool        `json:"embedded"`
	Started  time.Time   `json:"started"`
	Finished time.Time   `json:"finished"`
	Case     CaseResult  `json:"case"`
	Context  caseContext `json:"context"` // concurrent-confirm is judged again from Case.Race alone
}

// Record writes one redacted JSON file per fixed case of r into dir
// ("confirm-ok.json", mode 0644). dir must pass CheckRecordDir; Record creates
// it (parents 0755), follows no symbolic link and never replaces a file. r
// must come from [Run] or [Replay], whose results carry what Replay needs.
func Record(dir string, r *Result) error {
	if r == nil {
		return errors.New("contract: record: nil result")
	}
	if err := CheckRecordDir(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("contract: record: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("contract: record: %w", err)
	}
	defer func() { _ = root.Close() }()
	for _, c := range r.Cases {
		if c.Generated != nil {
			continue // generated cases are replayed from their seed, not recorded
		}
		if _, ok := lookup(c.Name); !ok {
			return fmt.Errorf("contract: record: unknown case %q", c.Name)
		}
		if err := writeRecording(root, recording{Version: recordingVersion, Target: r.Target, Embedded: r.Embedded,
			Started: r.Started, Finished: r.Finished, Case: c, Context: r.contexts[c.Name]}); err != nil {
			return fmt.Errorf("contract: record %s: %w", c.Name, err)
		}
	}
	return nil
}

// writeRecording writes rec as a new file under root.
func writeRecording(root *os.Root, rec recording) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // bodies and headers stay readable (& not \u0026)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rec); err != nil {
		return err
	}
	f, err := root.OpenFile(rec.Case.Name+recordingExt, os.O_WRONLY|os.O_CREATE|os.O_EXCL|fsx.NoFollow, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(buf.Bytes())
	return cmp.Or(err, f.Close())
}

// CheckRecordDir says whether Record may write into dir: a new directory, or
// an empty one that is not a symbolic link, and not inside a run's report
// directory (one with a bookings.csv), so recordings never mix with others.
func CheckRecordDir(dir string) error {
	st, err := os.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("contract: record: %w", err)
	case st.Mode()&os.ModeSymlink != 0:
		return fmt.Errorf("contract: record: %s is a symbolic link: name a new directory", dir)
	case !st.IsDir():
		return fmt.Errorf("contract: record: %s is not a directory", dir)
	default:
		entries, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("contract: record: %w", err)
		}
		if len(entries) > 0 {
			return fmt.Errorf("contract: record: %s is not empty: recordings never replace others; name a new directory", dir)
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("contract: record: %w", err)
	}
	for d := abs; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(filepath.Join(d, ledger.File)); err == nil {
			return fmt.Errorf("contract: record: %s is inside the report directory of a run (%s): name a directory of its own", dir, d)
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// Replay judges the recordings in dir (written by [Record]) again against s,
// offline, so a newer spec or strict mode can be checked against responses
// captured elsewhere. Skipped cases stay skipped; violations of values
// redacted at record time are carried over; a case whose response body was
// truncated keeps its recorded outcome; concurrent-confirm is judged again
// from its Race section. Result.Target is dir and Result.Replay is true.
// Errors: dir unreadable, no recordings, a file that is not a recording of a
// known case.
func Replay(dir string, s *spec.Spec, strict bool) (*Result, error) {
	if s == nil {
		return nil, fmt.Errorf("contract: replay: no spec: %w", ErrConfig)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("contract: replay: %w", err)
	}
	recs := map[string]recording{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), recordingExt) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("contract: replay: %w", err)
		}
		rec, err := decodeRecording(b)
		if err != nil {
			return nil, fmt.Errorf("contract: replay %s: %w", e.Name(), err)
		}
		if _, dup := recs[rec.Case.Name]; dup {
			return nil, fmt.Errorf("contract: replay %s: second recording of case %q", e.Name(), rec.Case.Name)
		}
		recs[rec.Case.Name] = rec
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("contract: replay: no recordings (*%s) in %s", recordingExt, dir)
	}
	res := &Result{Target: dir, Strict: strict, Replay: true, contexts: map[string]caseContext{}}
	cov := s.NewCoverage()
	for _, d := range suite() {
		rec, ok := recs[d.name]
		if !ok {
			continue
		}
		res.Embedded = rec.Embedded
		if res.Started.IsZero() || rec.Started.Before(res.Started) {
			res.Started = rec.Started
		}
		if rec.Finished.After(res.Finished) {
			res.Finished = rec.Finished
		}
		res.contexts[d.name] = rec.Context
		res.Cases = append(res.Cases, replayCase(d, s, strict, rec, cov))
	}
	res.Coverage = coverage(cov)
	res.finish()
	return res, nil
}

// decodeRecording parses one recording file and checks that it is a
// version this package reads, of a known case, with an exchange unless the
// case was skipped. Recordings are outside input: it must never panic.
func decodeRecording(b []byte) (recording, error) {
	var rec recording
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&rec); err != nil {
		return rec, fmt.Errorf("decode recording: %w", err)
	}
	if rec.Version != recordingVersion {
		return rec, fmt.Errorf("decode recording: version %d, want %d", rec.Version, recordingVersion)
	}
	if _, ok := lookup(rec.Case.Name); !ok {
		return rec, fmt.Errorf("decode recording: unknown case %q", rec.Case.Name)
	}
	c, x, judged := rec.Case, cmp.Or(rec.Case.Exchange, &Exchange{}), rec.Case.Outcome != OutcomeSkip
	_, urlErr := http.NewRequest(x.Method, x.URL, nil)
	for _, chk := range []struct {
		bad bool
		err error
	}{
		{!slices.Contains([]Outcome{OutcomePass, OutcomeFail, OutcomeDrift, OutcomeSkip}, c.Outcome),
			fmt.Errorf("unknown outcome %q", c.Outcome)},
		{judged && c.Name == CaseConcurrentConfirm && (c.Race == nil || c.Race.N < 1 || c.Race.N > MaxRace || len(c.Race.Attempts) != c.Race.N),
			fmt.Errorf("no race of 1 to %d attempts", MaxRace)},
		{judged && c.Exchange == nil, errors.New("no exchange")},
		{judged && (x.Status < 100 || x.Status > 999), fmt.Errorf("status %d", x.Status)},
		{judged && urlErr != nil, urlErr},
	} {
		if chk.bad {
			return rec, fmt.Errorf("decode recording: case %s: %w", c.Name, chk.err)
		}
	}
	return rec, nil
}

func replayCase(d caseDef, s *spec.Spec, strict bool, rec recording, cov *spec.Coverage) CaseResult {
	if rec.Case.Outcome == OutcomeSkip {
		return CaseResult{Name: d.name, Outcome: OutcomeSkip, Reason: rec.Case.Reason}
	}
	e := rec.Case.Exchange
	if d.kind == kindRace { // judged on the statuses and booking ids of the group
		cr, _ := judgeRace(d, rec.Case.Race, s.Documents, strict)
		cr.Race, cr.Exchange, cr.Duration = rec.Case.Race, e, rec.Case.Duration
		return cr
	}
	if e.ResponseBodyTruncated {
		cr := rec.Case
		cr.Reason += " (response body truncated at record time: outcome as recorded, not judged again)"
		return cr
	}
	x := rawExchange{method: e.Method, url: e.URL, reqHeader: e.RequestHeader, reqBody: []byte(e.RequestBody),
		status: e.Status, respHeader: e.ResponseHeader, respBody: unredact([]byte(e.ResponseBody)), duration: e.Duration}
	cr, _ := judge(d, s, strict, rec.Context, x, nil, cov)
	// Carry over what redaction hid from this judgement.
	for _, v := range rec.Case.Violations {
		if !sensitiveLeaf(v.Path) || slices.ContainsFunc(cr.Violations, func(w Violation) bool {
			return w.Rule == v.Rule && w.Path == v.Path
		}) {
			continue
		}
		cr.Violations = append(cr.Violations, v)
		switch {
		case !isDriftRule(v.Rule) || strict: // strict: judge left no drift outcome
			cr.Outcome = OutcomeFail
		case cr.Outcome == OutcomePass:
			cr.Outcome = OutcomeDrift
		}
	}
	cr.Exchange = e
	return cr
}

// unredact replaces the redaction marker in "email" members of a JSON body
// with a valid address, so the format check does not fail on the marker
// (the output is compact JSON). Bodies that are not JSON are returned as is.
func unredact(body []byte) []byte {
	if !bytes.Contains(body, []byte(auth.Redacted)) || !json.Valid(body) {
		return body
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	_ = dec.Decode(&v) // json.Valid: it decodes
	eachString(v, func(obj map[string]any, k, s string) {
		if s == auth.Redacted && strings.EqualFold(k, "email") {
			obj[k] = "redacted@example.invalid"
		}
	})
	out, _ := json.Marshal(v) // a decoded tree always marshals
	return out
}
