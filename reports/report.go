package reports

import (
	"runtime/debug"
	"slices"
	"time"

	"github.com/xoneharness/xoneharness/contract"
	"github.com/xoneharness/xoneharness/ledger"
	"github.com/xoneharness/xoneharness/load"
	"github.com/xoneharness/xoneharness/spec"
)

// schemaVersion is summary.json's schema version: only a renamed or removed field changes it.
const schemaVersion = 1

// Kinds of report.
const (
	KindContract = "contract"
	KindLoad     = "load"
	KindRun      = "run"
)

// Verdicts.
const (
	VerdictPass       = "pass"       // the run completed and nothing failed
	VerdictFail       = "fail"       // findings: contract failures, failed thresholds, regressions
	VerdictIncomplete = "incomplete" // no findings, but the run lacks the evidence a pass needs (Report.Incomplete says why)
	VerdictError      = "error"      // the harness could not finish (Report.Error says why)
)

// Target is what a report measured.
type Target struct {
	URL      string `json:"url"`
	Embedded bool   `json:"embedded"`
}

// Report is the one model every writer formats. Build it with New, then set the sections; writers
// never compute verdicts.
type Report struct {
	SchemaVersion int       `json:"schema_version"`
	Tool          string    `json:"tool"`
	ToolVersion   string    `json:"tool_version"`
	Kind          string    `json:"kind"`
	Target        Target    `json:"target"`
	StartedAt     time.Time `json:"started_at"`
	FinishedAt    time.Time `json:"finished_at"`
	Verdict       string    `json:"verdict"`
	// Error is the harness failure behind an "error" verdict.
	Error string `json:"error,omitempty"`
	// Notes are one-line remarks shown under the verdict (skipped stages, warnings such as drift).
	Notes []string `json:"notes,omitempty"`
	// Incomplete lists why the run lacks the evidence a pass needs (MarkIncomplete, Decide); a run
	// with findings is still "fail" and keeps them.
	Incomplete []string `json:"incomplete,omitempty"`
	// Shard labels a report written by one shard of a distributed run.
	Shard string `json:"shard,omitempty"`

	// Spec names the OpenAPI document the run was judged against (embedded, or --spec).
	Spec *spec.DocInfo `json:"spec,omitempty"`

	Contract *contract.Result `json:"contract,omitempty"`
	Load     *load.Result     `json:"load,omitempty"`
	// DuplicateOffers lists offers confirmed by more than one shard of a merged run (a finding).
	DuplicateOffers []string `json:"duplicate_offers,omitempty"`
	// MayHaveBooked is, for each merged input without a summary.json (a killed run), what its
	// journal says booked or may have booked.
	MayHaveBooked []Bookings `json:"may_have_booked,omitempty"`

	// InsecureSkipVerify, SpecFile and OverlayFile record --insecure-skip-verify, --spec and
	// --overlay (their digests are in Spec); the CLI sets them and every format names them.
	InsecureSkipVerify bool   `json:"insecure_skip_verify,omitempty"`
	SpecFile           string `json:"spec_file,omitempty"`
	OverlayFile        string `json:"overlay_file,omitempty"`
	// Baseline is the comparison with a previous run, when one was given.
	Baseline *Comparison `json:"baseline,omitempty"`
}

// Bookings is what one run's journal (bookings.csv) says booked or may have booked: the counts of
// booked and unknown (pending included) confirms and the first maxBookingRows, in sending order.
type Bookings struct {
	Journal string       `json:"journal"`
	Booked  int          `json:"booked"`
	Unknown int          `json:"unknown"`
	First   []BookingRow `json:"first"`
}

// maxBookingRows is how many confirms a Bookings lists.
const maxBookingRows = 20

// BookingRow is one confirm of a Bookings.
type BookingRow struct {
	OfferID   string         `json:"offer_id"`
	Outcome   ledger.Outcome `json:"outcome"`
	BookingID string         `json:"booking_id,omitempty"`
	Status    int            `json:"http_status,omitempty"`
	Error     string         `json:"error,omitempty"`
}

// New returns a report of the given kind with the schema version and tool fields filled in.
func New(kind, toolVersion string, t Target) *Report {
	return &Report{SchemaVersion: schemaVersion, Tool: "xoneharness", ToolVersion: toolVersion, Kind: kind, Target: t}
}

// ToolVersion is the version a report names the harness by: linked when set (a release build's
// -X flag), else the version of the binary's main module when built from a tagged module, else
// "devel" plus the VCS revision when known.
func ToolVersion(linked string) string {
	if linked != "" {
		return linked
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "devel-" + s.Value[:12]
		}
	}
	return "devel"
}

// SetSpec records the document r is judged against: s's DocInfo (none when s is nil: the
// document never loaded) and the files it was built from, f's Document and Overlay ("" for the
// embedded ones), which every format names.
func (r *Report) SetSpec(s *spec.Spec, f spec.Files) {
	if s != nil {
		info := s.Info()
		r.Spec = &info
	}
	r.SpecFile, r.OverlayFile = f.Document, f.Overlay
}

// Decide sets the verdict from the sections, keeping an "error" one: fail on findings (a contract
// or threshold failure, a regression, an offer confirmed by two shards), else incomplete when the
// run lacks evidence (Incomplete plus the sections' own reasons, added once), else pass.
func (r *Report) Decide() {
	if r.Verdict == VerdictError || r.Error != "" {
		r.Verdict = VerdictError
		return
	}
	if r.Contract != nil {
		r.MarkIncomplete(r.Contract.Incomplete()...)
	}
	if r.Load != nil {
		r.MarkIncomplete(r.Load.Incomplete()...)
	}
	if b := r.Baseline; b != nil && b.NothingComparable {
		r.MarkIncomplete("nothing comparable with the baseline " + b.Baseline)
	}
	failed := (r.Contract != nil && r.Contract.Failed()) ||
		(r.Load != nil && r.Load.Failed()) ||
		(r.Baseline != nil && r.Baseline.Regressions > 0) ||
		len(r.DuplicateOffers) > 0
	switch {
	case failed:
		r.Verdict = VerdictFail
	case len(r.Incomplete) > 0:
		r.Verdict = VerdictIncomplete
	default:
		r.Verdict = VerdictPass
	}
}

// MarkIncomplete records, each once, why the run lacks the evidence a pass needs (a missing shard);
// Decide then gives at best "incomplete".
func (r *Report) MarkIncomplete(reasons ...string) {
	for _, why := range reasons {
		if why != "" && !slices.Contains(r.Incomplete, why) {
			r.Incomplete = append(r.Incomplete, why)
		}
	}
}
