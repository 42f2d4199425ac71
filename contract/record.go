package contract

import (
	"bytes"
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

// recordingVersion is the version of the recording file format written by
// [Record]; [Replay] rejects other versions.
const recordingVersion = 1

// recording is the content of one recording file: one case of one run,
// redacted. Record writes it as indented JSON to DIR/<case>.json.
type recording struct {
	Version  int        `json:"version"`
	Target   string     `json:"target"`
	Embedded bool       `json:"embedded"`
	Started  time.Time  `json:"started"`
	Finished time.Time  `json:"finished"`
	Case     CaseResult `json:"case"`
	// Context is what judging the case needs besides the exchange: the
	// offer and quote confirmed, whether the target was on loopback, the
	// invariants skipped, the first booking id (double-confirm).
	// concurrent-confirm is judged again from Case.Race alone.
	Context caseContext `json:"context"`
}

// recordingExt is the file name suffix of a recording.
const recordingExt = ".json"

// Record writes one redacted JSON file per case of r into dir, named after
// the case ("confirm-ok.json"), mode 0644. dir must be new or empty (see
// CheckRecordDir): Record creates it (parents 0755), writes through it
// without following a symbolic link, and never replaces a file. r must come
// from [Run] or [Replay]: only their results carry the context Replay needs.
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
		if err := writeRecording(root, r, c); err != nil {
			return err
		}
	}
	return nil
}

// writeRecording writes one case's recording as a new file under root.
func writeRecording(root *os.Root, r *Result, c CaseResult) error {
	if _, ok := lookup(c.Name); !ok {
		return fmt.Errorf("contract: record: unknown case %q", c.Name)
	}
	rec := recording{Version: recordingVersion, Target: r.Target, Embedded: r.Embedded,
		Started: r.Started, Finished: r.Finished, Case: c, Context: r.contexts[c.Name]}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // bodies and headers stay readable (& not \u0026)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rec); err != nil {
		return fmt.Errorf("contract: record %s: %w", c.Name, err)
	}
	f, err := root.OpenFile(c.Name+recordingExt, os.O_WRONLY|os.O_CREATE|os.O_EXCL|fsx.NoFollow, 0o644)
	if err != nil {
		return fmt.Errorf("contract: record %s: %w", c.Name, err)
	}
	_, err = f.Write(buf.Bytes())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("contract: record %s: %w", c.Name, err)
	}
	return nil
}

// CheckRecordDir says whether Record may write into dir: a directory that
// does not exist yet, or an empty one that is not a symbolic link, and not
// inside a run's report directory (one that holds a journal, bookings.csv):
// recordings never mix with another run's files or replace older ones.
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

// Replay judges the recordings in dir (written by [Record]) against s, with
// no network: every recorded response is validated again and the case's
// policy applied, so a newer spec or strict mode can be checked against
// responses captured elsewhere. Skipped cases stay skipped. Values redacted
// at record time (policyholder email and phone, security_token) cannot be
// checked again: their recorded violations are carried over. A case whose
// response body was truncated keeps its recorded outcome. concurrent-confirm
// is judged again from the statuses and booking ids of its group (its Race
// section), the document saying which refusal statuses it lists.
// Result.Target is dir and Result.Replay is true. Errors: dir unreadable, no
// recordings, a file that is not a recording of a known case.
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
// case was skipped. Recordings are outside input (they may come from
// another machine): it must never panic (FuzzDecodeRecording).
func decodeRecording(b []byte) (recording, error) {
	var rec recording
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&rec); err != nil {
		return rec, fmt.Errorf("decode recording: %w", err)
	}
	if rec.Version != recordingVersion {
		return rec, fmt.Errorf("decode recording: version %d, want %d", rec.Version, recordingVersion)
	}
	if _, ok := lookup(rec.Case.Name); !ok {
		return rec, fmt.Errorf("decode recording: unknown case %q", rec.Case.Name)
	}
	switch rec.Case.Outcome {
	case OutcomePass, OutcomeFail, OutcomeDrift, OutcomeSkip:
	default:
		return rec, fmt.Errorf("decode recording: case %s: unknown outcome %q", rec.Case.Name, rec.Case.Outcome)
	}
	if r := rec.Case.Race; rec.Case.Outcome != OutcomeSkip && rec.Case.Name == CaseConcurrentConfirm &&
		(r == nil || r.N < 1 || r.N > MaxRace || len(r.Attempts) != r.N) {
		return rec, fmt.Errorf("decode recording: case %s: no race of 1 to %d attempts", rec.Case.Name, MaxRace)
	}
	if rec.Case.Outcome != OutcomeSkip {
		x := rec.Case.Exchange
		if x == nil {
			return rec, fmt.Errorf("decode recording: case %s: no exchange", rec.Case.Name)
		}
		if x.Status < 100 || x.Status > 999 {
			return rec, fmt.Errorf("decode recording: case %s: status %d", rec.Case.Name, x.Status)
		}
		if _, err := http.NewRequest(x.Method, x.URL, nil); err != nil {
			return rec, fmt.Errorf("decode recording: case %s: %w", rec.Case.Name, err)
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
	x := rawExchange{
		method: e.Method, url: e.URL,
		reqHeader: e.RequestHeader, reqBody: []byte(e.RequestBody),
		status: e.Status, respHeader: e.ResponseHeader, respBody: unredact([]byte(e.ResponseBody)),
		duration: e.Duration,
	}
	if x.reqHeader == nil {
		x.reqHeader = http.Header{}
	}
	if x.respHeader == nil {
		x.respHeader = http.Header{}
	}
	cr, _ := judge(d, s, strict, rec.Context, x, nil, cov)
	// Carry over what redaction hid from this judgement.
	for _, v := range rec.Case.Violations {
		if sensitiveLeaf(v.Path) && !slices.ContainsFunc(cr.Violations, func(w Violation) bool {
			return w.Rule == v.Rule && w.Path == v.Path
		}) {
			cr.Violations = append(cr.Violations, v)
			if !isDriftRule(v.Rule) {
				cr.Outcome = OutcomeFail
			} else if cr.Outcome == OutcomePass {
				cr.Outcome = OutcomeDrift
				if strict {
					cr.Outcome = OutcomeFail
				}
			}
		}
	}
	cr.Exchange = e
	return cr
}

// redactedEmail stands in for a redacted e-mail address on replay, so the
// format check does not fail on the redaction marker.
const redactedEmail = "redacted@example.invalid"

// unredact replaces the redaction marker in "email" members of a JSON body
// with a valid address (member order and other values unchanged in meaning;
// the output is compact JSON). Bodies that are not JSON are returned as is.
func unredact(body []byte) []byte {
	if !bytes.Contains(body, []byte(auth.Redacted)) || !json.Valid(body) {
		return body
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return body
	}
	eachString(v, func(obj map[string]any, k, s string) {
		if s == auth.Redacted && strings.EqualFold(k, "email") {
			obj[k] = redactedEmail
		}
	})
	out, err := json.Marshal(v)
	if err != nil {
		return body
	}
	return out
}
