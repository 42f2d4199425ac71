package load_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/xoneharness/xoneharness/internal/auth"
	"github.com/xoneharness/xoneharness/internal/sandbox"
	"github.com/xoneharness/xoneharness/load"
	"github.com/xoneharness/xoneharness/spec"
)

// A plan is plain data: WithGates adds the safety gates to the thresholds,
// WithDefaults fills the bounds, Validate names the field that is wrong.
func ExamplePlan_Validate() {
	p := load.Plan{Rate: "5/s", Duration: 2 * time.Second, Thresholds: []string{"p95<300ms"}}.WithGates(false).WithDefaults()
	fmt.Printf("err=%v requests=%d timeout=%s thresholds=%q\n", p.Validate(), p.Requests(), p.Timeout, p.Thresholds)

	err := load.Plan{Rate: "5/s"}.WithDefaults().Validate() // unbounded
	var pe *load.PlanError
	if errors.As(err, &pe) {
		fmt.Printf("%s: %s\n", pe.Field, pe.Msg)
	}
	// Output:
	// err=<nil> requests=10 timeout=30s thresholds=["error_rate<1%" "schema_violations==0" "p95<300ms"]
	// duration: required: a run is always bounded (e.g. 30s)
}

// Run ten confirms against the embedded sandbox, on loopback, with offers
// generated for it. Latencies vary from run to run and are not printed; the
// p99 threshold has too few samples to mean anything, which makes the run
// incomplete rather than green.
func ExampleRun() {
	sb, err := sandbox.Start()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sb.Close()
	s, err := spec.Load()
	if err != nil {
		fmt.Println(err)
		return
	}
	src, err := auth.New(auth.Config{TokenURL: sb.TokenURL(), ClientID: sandbox.ClientID, ClientSecret: sandbox.ClientSecret})
	if err != nil {
		fmt.Println(err)
		return
	}
	dir, err := os.MkdirTemp("", "load-example") // results.bin and bookings.csv
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	plan := load.Plan{Rate: "50/s", Duration: 200 * time.Millisecond, ValidateSample: 1,
		Thresholds: []string{"p99<800ms"}}.WithGates(false)
	res, err := load.Run(context.Background(), load.Config{
		Plan: plan, BaseURL: sb.URL(), PartnerID: sandbox.PartnerID, Tokens: src,
		Offers: load.GeneratedFeed(1), Spec: s, OutDir: dir,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("requests=%d statuses=%v schema_violations=%d stop=%q\n", res.Requests, res.StatusCodes, res.Schema.Violations, res.StopReason)
	for _, t := range res.Thresholds {
		fmt.Printf("%s passed=%t no_data=%t\n", t.Expr, t.Passed, t.NoData)
	}
	fmt.Printf("failed=%t incomplete=%q\n", res.Failed(), res.Incomplete())
	// Output:
	// requests=10 statuses=map[200:10] schema_violations=0 stop="completed"
	// error_rate<1% passed=true no_data=false
	// schema_violations==0 passed=true no_data=false
	// p99<800ms passed=false no_data=true
	// failed=false incomplete=["threshold p99<800ms has no data: 10 request(s): p99 needs at least 100 to mean anything"]
}
