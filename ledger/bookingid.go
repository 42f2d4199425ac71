package ledger

import (
	"encoding/json"

	"github.com/buger/jsonparser"
)

// BookingID extracts data.id from a confirm response body ("" if absent or
// not a string): the one booking-id reader of contract and load. The first
// data.id is found without decoding the rest, so a body malformed after the
// id still yields it (the booking exists); failing that, the body is read as
// encoding/json reads it (keys in any case, the last of repeated keys).
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
