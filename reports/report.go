package reports

import (
	"time"

	"github.com/xoneharness/xoneharness/contract"
	"github.com/xoneharness/xoneharness/load"
)

// SchemaVersion is the version of summary.json's schema. It changes only when
// a field is renamed or removed; new fields keep the version.
const SchemaVersion = 1

// Kinds of report.
const (
	KindContract = "contract"
	KindLoad     = "load"
	KindRun      = "run"
)

// Verdicts.
const (
	VerdictPass  = "pass"  // nothing failed
	VerdictFail  = "fail"  // findings: contract failures, failed thresholds, regressions
	VerdictError = "error" // the harness could not finish (Report.Error says why)
)

// Target is what a report measured.
type Target struct {
	URL      string `json:"url"`
	Embedded bool   `json:"embedded"`
}

// Report is the one model every writer formats. Build it with New, then set
// the sections; writers never compute verdicts.
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
	// Notes are one-line remarks shown under the verdict (skipped stages,
	// warnings such as drift).
	Notes []string `json:"notes,omitempty"`
	// Shard labels a report written by one shard of a distributed run.
	Shard string `json:"shard,omitempty"`

	Contract *contract.Result `json:"contract,omitempty"`
	Load     *load.Result     `json:"load,omitempty"`
	// DuplicateOffers lists offers confirmed by more than one shard of a
	// merged run (each a duplicate booking: a finding).
	DuplicateOffers []string `json:"duplicate_offers,omitempty"`
	// Baseline is the comparison with a previous run, when one was given.
	Baseline *Comparison `json:"baseline,omitempty"`
}

// New returns a report of the given kind with the schema version and tool
// fields filled in.
func New(kind, toolVersion string, t Target) *Report {
	return &Report{SchemaVersion: SchemaVersion, Tool: "xoneharness", ToolVersion: toolVersion, Kind: kind, Target: t}
}

// Decide sets the verdict from the sections: fail when the contract failed, a
// threshold failed, the baseline comparison found a regression or shards
// confirmed the same offer; pass otherwise. It keeps an "error" verdict.
func (r *Report) Decide() {
	if r.Verdict == VerdictError || r.Error != "" {
		r.Verdict = VerdictError
		return
	}
	r.Verdict = VerdictPass
	if r.Contract != nil && r.Contract.Failed() {
		r.Verdict = VerdictFail
	}
	if r.Load != nil && !r.Load.Passed() {
		r.Verdict = VerdictFail
	}
	if r.Baseline != nil && r.Baseline.Regressions > 0 {
		r.Verdict = VerdictFail
	}
	if len(r.DuplicateOffers) > 0 {
		r.Verdict = VerdictFail
	}
}
