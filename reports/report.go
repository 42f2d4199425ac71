package reports

import (
	"slices"
	"time"

	"github.com/xoneharness/xoneharness/contract"
	"github.com/xoneharness/xoneharness/ledger"
	"github.com/xoneharness/xoneharness/load"
	"github.com/xoneharness/xoneharness/spec"
)

// schemaVersion is the version of summary.json's schema. It changes only when a field is renamed or
// removed; new fields keep the version.
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
	// Incomplete lists why the run lacks the evidence a pass needs: it was interrupted or cut
	// short, sent nothing, skipped a required case, a threshold had no data, a shard is missing.
	// Decide adds the reasons it finds in the sections; callers add their own (a missing shard).
	// Findings still win: a run with findings is "fail" and keeps these reasons.
	Incomplete []string `json:"incomplete,omitempty"`
	// Shard labels a report written by one shard of a distributed run.
	Shard string `json:"shard,omitempty"`

	// Spec names the OpenAPI document the run was judged against: title, version and SHA-256 (the
	// embedded vendor document, or --spec).
	Spec *spec.DocInfo `json:"spec,omitempty"`

	Contract *contract.Result `json:"contract,omitempty"`
	Load     *load.Result     `json:"load,omitempty"`
	// DuplicateOffers lists offers confirmed by more than one shard of a merged run (each a
	// duplicate booking: a finding).
	DuplicateOffers []string `json:"duplicate_offers,omitempty"`
	// MayHaveBooked holds, for each merged input without a summary.json (a run killed before it
	// wrote one), what its journal says booked or may have booked. Merge fills it; every format
	// shows it.
	MayHaveBooked []Bookings `json:"may_have_booked,omitempty"`

	// InsecureSkipVerify is true when the run accepted any TLS certificate
	// (--insecure-skip-verify). The CLI sets it; every format says so.
	InsecureSkipVerify bool `json:"insecure_skip_verify,omitempty"`
	// SpecFile is the path of the OpenAPI document given instead of the embedded vendor document
	// (--spec); its digest is Spec.SHA256. The CLI sets it; every format names it.
	SpecFile string `json:"spec_file,omitempty"`
	// OverlayFile is the path of the overlay given instead of the embedded one (--overlay); its
	// digest is Spec.OverlaySHA256. The CLI sets it; every format names it.
	OverlayFile string `json:"overlay_file,omitempty"`
	// Baseline is the comparison with a previous run, when one was given.
	Baseline *Comparison `json:"baseline,omitempty"`
}

// Bookings is what one run's journal (bookings.csv) says booked or may have booked: the counts of
// booked and unknown confirms (a pending row left by a killed process counts as unknown) and the
// first maxBookingRows of them, in the order they left.
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

// Decide sets the verdict from the sections. Findings come first: fail when the contract failed, a
// threshold failed, the baseline comparison found a regression or shards confirmed the same offer.
// Otherwise incomplete when the run lacks evidence (Incomplete, plus the reasons of the contract
// and load sections: a required case skipped, an interrupt, a stop before the plan's end, nothing
// sent, a threshold without data, a cut results file; and a baseline with nothing comparable); pass
// only when there is none. It keeps an "error" verdict. Decide may be called more than once:
// reasons are not repeated.
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

// MarkIncomplete records why the run lacks the evidence a pass needs (for reasons only the caller
// knows, such as a missing shard), each reason once; Decide then gives at best "incomplete".
func (r *Report) MarkIncomplete(reasons ...string) {
	for _, why := range reasons {
		if why != "" && !slices.Contains(r.Incomplete, why) {
			r.Incomplete = append(r.Incomplete, why)
		}
	}
}
