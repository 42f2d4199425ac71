package contract_test

import (
	"context"
	"fmt"

	"github.com/xoneharness/xoneharness/contract"
	"github.com/xoneharness/xoneharness/internal/auth"
	"github.com/xoneharness/xoneharness/internal/sandbox"
	"github.com/xoneharness/xoneharness/internal/xone"
	"github.com/xoneharness/xoneharness/spec"
)

// Run the fixed suite against the embedded sandbox, which answers the
// invalid requests with an undocumented 422 as the real API does: drift, a
// warning, not a failure. Latencies and booking ids vary from run to run and
// are not printed.
func ExampleRun() {
	sb, err := sandbox.Start() // on 127.0.0.1:0
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
	write, err := auth.New(auth.Config{TokenURL: sb.TokenURL(), ClientID: sandbox.ClientID, ClientSecret: sandbox.ClientSecret})
	if err != nil {
		fmt.Println(err)
		return
	}
	readOnly, err := auth.New(auth.Config{TokenURL: sb.TokenURL(), ClientID: sandbox.ReadOnlyClientID, ClientSecret: sandbox.ReadOnlyClientSecret})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := contract.Run(context.Background(), contract.Config{
		BaseURL: sb.URL(), PartnerID: sandbox.PartnerID, Embedded: true,
		OfferID: xone.NewUUID(), QuoteID: xone.NewUUID(), // the sandbox accepts any fresh offer
		Tokens: write, ReadOnlyTokens: readOnly, Spec: s,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	violations := 0
	for _, c := range res.Cases {
		fmt.Println(c.Name, c.Outcome, c.Status)
		violations += len(c.Violations)
	}
	fmt.Printf("%+v violations=%d failed=%t incomplete=%d\n", res.Counts, violations, res.Failed(), len(res.Incomplete()))
	// Output:
	// confirm-ok pass 200
	// no-token pass 401
	// malformed-token pass 401
	// expired-token pass 401
	// wrong-scope-token pass 401
	// missing-quotes drift 422
	// missing-policyholder drift 422
	// empty-quotes drift 422
	// quote-without-id drift 422
	// malformed-json drift 422
	// wrong-content-type drift 422
	// double-confirm drift 422
	// concurrent-confirm drift 200
	// {Pass:5 Fail:0 Drift:8 Skip:0 Error:0} violations=8 failed=false incomplete=0
}
