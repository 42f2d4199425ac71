package load

import (
	"encoding/json"

	"github.com/buger/jsonparser"
)

// bookingID extracts data.id from a confirm response body ("" if absent or not a string).
// buger/jsonparser finds the first "data" member and its first "id" member without decoding the
// rest of the body: a body that is malformed after the id still yields it (the booking exists,
// and the ledger is there to find it again). When that finds no string id, the body is read as
// json.Unmarshal into struct{ Data struct{ ID string } } reads it, which also matches keys in
// another case ("Data", "ID") and takes the last of repeated keys.
func bookingID(body []byte) string {
	if id, err := jsonparser.GetString(body, "data", "id"); err == nil {
		return id
	}
	var b struct {
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &b) != nil {
		return ""
	}
	return b.Data.ID
}
