package ledger

import (
	"encoding/json"

	"github.com/buger/jsonparser"
)

// BookingID extracts data.id from a confirm response body ("" if absent or
// not a string): the one booking-id reader of contract and load.
// buger/jsonparser finds the first "data" member and its first "id" member
// without decoding the rest of the body, so a body that is malformed after
// the id still yields it (the booking exists, and the ledger is there to
// find it again). When that finds no string id, the body is read as
// json.Unmarshal reads it into struct{ Data struct{ ID string } }, which
// also matches keys in another case ("Data", "ID") and takes the last of
// repeated keys.
func BookingID(body []byte) string {
	if id, err := jsonparser.GetString(body, "data", "id"); err == nil {
		return id
	}
	var b struct {
		Data struct {
			ID any `json:"id"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &b) != nil {
		return ""
	}
	id, _ := b.Data.ID.(string)
	return id
}
