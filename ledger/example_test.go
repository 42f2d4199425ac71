package ledger_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/xoneharness/xoneharness/ledger"
)

// A confirm is journaled before it leaves (Begin) and resolved when its
// answer comes; a reader of the file sees one row per confirm that booked
// or may have booked.
func ExampleJournal() {
	dir, err := os.MkdirTemp("", "ledger-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	j, err := ledger.Open(dir, ledger.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	offers := []string{"0b7c2f4e-8f7a-4c9e-b1a4-5d6e7f809a1b", "6f1c2a7e-3b4d-4c5e-8f90-a1b2c3d4e5f6", "9d3e5f70-1a2b-4c3d-8e4f-5a6b7c8d9e0f"}
	for _, o := range offers {
		if err := j.Begin(o, "quote-1"); err != nil { // before the request leaves
			fmt.Println(err)
			return
		}
	}
	j.Resolve(ledger.Row{OfferID: offers[0], QuoteID: "quote-1", Status: 200, Outcome: ledger.OutcomeOf(200), BookingID: "ABCDE-12345-INS"})
	j.Resolve(ledger.Row{OfferID: offers[1], QuoteID: "quote-1", Status: 422, Outcome: ledger.OutcomeOf(422)})
	// offers[2] gets no answer: the process died with it in flight.
	if err := j.Close(); err != nil {
		fmt.Println(err)
		return
	}
	rows, err := ledger.ReadFile(filepath.Join(dir, ledger.File))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range rows {
		fmt.Println(r.OfferID[:8], r.Outcome, r.BookingID)
	}
	// Output:
	// 0b7c2f4e booked ABCDE-12345-INS
	// 9d3e5f70 unknown
}
