package reports_test

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/xoneharness/xoneharness/contract"
	"github.com/xoneharness/xoneharness/reports"
	"github.com/xoneharness/xoneharness/spec"
)

// Build a contract report by hand (a caller normally sets Contract to what
// contract.Run returned), let Decide give the verdict, print it as the CLI
// does, and write the report directory.
func Example() {
	const target = "http://127.0.0.1:8080"
	undocumented := []contract.Violation{{Rule: spec.RuleStatusUndocumented, Path: "$",
		Expected: "one of 200, 401", Observed: "422", Reason: "status 422 is not documented"}}
	r := reports.New(reports.KindContract, "1.0.0", reports.Target{URL: target, Embedded: true})
	r.Contract = &contract.Result{Target: target, Embedded: true,
		Cases: []contract.CaseResult{
			{Name: contract.CaseConfirmOK, Outcome: contract.OutcomePass, Status: 200, Duration: 48 * time.Millisecond,
				Reason: "booking PNHX9-C5P2R-INS"},
			{Name: contract.CaseNoToken, Outcome: contract.OutcomePass, Status: 401, Duration: 3 * time.Millisecond,
				Reason: "401: Unauthenticated."},
			{Name: contract.CaseDoubleConfirm, Outcome: contract.OutcomeDrift, Status: 422, Duration: 5 * time.Millisecond,
				Reason: "rejected with undocumented 422: Booking already exists", Violations: undocumented},
		},
		Counts: contract.Counts{Pass: 2, Drift: 1},
	}
	r.Decide()
	if err := reports.Console(os.Stdout, r, reports.ConsoleContract); err != nil {
		fmt.Println(err)
		return
	}
	if err := reports.ConsoleVerdict(os.Stdout, r, "", false); err != nil {
		fmt.Println(err)
		return
	}

	root, err := os.MkdirTemp("", "reports-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(root)
	claim, err := reports.ClaimDir(filepath.Join(root, "contract")) // this run's directory, exclusively
	if err != nil {
		fmt.Println(err)
		return
	}
	defer claim.Release()
	formats := []string{reports.FormatJSON, reports.FormatMarkdown, reports.FormatHTML, reports.FormatJUnit}
	paths, err := reports.WriteDir(claim.Dir(), r, formats)
	if err != nil {
		fmt.Println(err)
	}
	for _, p := range paths {
		fmt.Println(filepath.Base(p))
	}
	// Output:
	// PASS              200      48.0ms  confirm-ok             booking PNHX9-C5P2R-INS
	// PASS              401       3.0ms  no-token               401: Unauthenticated.
	// DRIFT             422       5.0ms  double-confirm         status-undocumented $: status 422 is not documented
	// contract: 2 pass, 0 fail, 1 drift, 0 skip, 0 error
	// warning: drift is behaviour the document does not describe; --strict makes it a failure
	// verdict: PASS
	// summary.json
	// report.md
	// report.html
	// junit.xml
}
