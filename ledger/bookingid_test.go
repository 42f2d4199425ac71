package ledger

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// refBookingID reads data.id with encoding/json alone: the oracle of the tests below.
func refBookingID(body []byte) string {
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

// TestBookingIDMatchesEncodingJSON: bookingID reads booking ids as encoding/json does, except
// where the body is malformed or repeats a key: then the first data.id wins.
func TestBookingIDMatchesEncodingJSON(t *testing.T) {
	tests := []struct {
		name, body, want string
		differs          bool // encoding/json answers otherwise: malformed bodies and repeated keys
	}{
		{"plain", `{"data":{"id":"EYYLD-F8LDV-INS","x":[1,{"y":null}]},"z":"é"}`, "EYYLD-F8LDV-INS", false},
		{"id after other members", `{"message":"ok","data":{"x":{"id":"no"},"list":[{"id":"no"}],"id":"A"}}`, "A", false},
		{"keys and strings that look like the path", `{"x":"\"data\":{\"id\":\"no\"}","data":{"m":{"\u00e9":1,"é":[true]},"id":"A"}}`, "A", false},
		{"no data", `{"message":"x"}`, "", false},
		{"data without id", `{"data":{"x":1}}`, "", false},
		{"case variant of data", `{"DATA":{"id":"A"}}`, "A", false},
		{"case variant of id", `{"data":{"Id":"A"}}`, "A", false},
		{"two data objects merge", `{"data":{"x":1},"data":{"id":"A"}}`, "A", false},
		{"data null", `{"data":null}`, "", false},
		{"id number", `{"data":{"id":1}}`, "", false},
		{"id escaped", `{"data":{"id":"A\u0042\ud83d\udd11"}}`, "AB🔑", false},
		{"escaped key", `{"d\u0061ta":{"id":"A"}}`, "A", false},
		{"array", `[{"data":{"id":"A"}}]`, "", false},
		{"empty", ``, "", false},
		// Malformed bodies and repeated keys: the first data.id wins.
		{"invalid JSON after id", `{"data":{"id":"A"},}`, "A", true},
		{"trailing data", `{"data":{"id":"A"}} x`, "A", true},
		{"truncated after id", `{"data":{"id":"A","policies":[{"pri`, "A", true},
		{"bad number after id", `{"data":{"id":"A"},"x":01}`, "A", true},
		{"repeated id: the first wins", `{"data":{"id":"A","id":"B"}}`, "A", true},
		{"repeated data after the id", `{"data":{"id":"A"},"data":{"id":"B"}}`, "A", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := BookingID([]byte(tt.body))
			assert.Equal(t, tt.want, got, "got %q, want %q", got, tt.want)
			if ref := refBookingID([]byte(tt.body)); tt.differs {
				assert.NotEqual(t, tt.want, ref, "encoding/json reads this otherwise, or the case proves nothing")
			} else {
				assert.Equal(t, tt.want, ref, "reference")
			}
		})
	}
}

// FuzzBookingID: for a body encoding/json accepts whose "data" and "id" keys are not repeated (in
// any case), bookingID agrees with encoding/json.
func FuzzBookingID(f *testing.F) {
	for _, s := range []string{`{"data":{"id":"EYYLD-F8LDV-INS","a":[1,2.5e3,-0,true,null,{"b":"\u00e9\n"}]}}`,
		`{"Data":{"ID":"x"}}`, `{"data":{"id":"x"},"data":{"id":"y"}}`, `{"message":"Unauthenticated."}`,
		`{"data":{"id":"x"},`, `{"data":{"id":"\ud83d\udd11\""}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got := BookingID(b)
		var v any
		lower := bytes.ToLower(b)
		if json.Unmarshal(b, &v) != nil || bytes.Count(lower, []byte(`data`)) > 1 || bytes.Count(lower, []byte(`id`)) > 1 {
			return
		}
		if want := refBookingID(b); got != want {
			t.Errorf("body %q: got %q, want %q", b, got, want)
		}
	})
}

// BenchmarkBookingID compares BookingID with encoding/json alone on a 2.4 KB
// body shaped like a confirm's 200, its id at the end of "data".
func BenchmarkBookingID(b *testing.B) {
	policies := strings.Repeat(`{"id":"P-1","status":"ACTIVE","price":12.5,"content":{"title":"Cover","description":"`+strings.Repeat("x", 300)+`"}},`, 5)
	body := []byte(`{"data":{"policies":[` + strings.TrimSuffix(policies, ",") + `],"currency":"AUD","id":"EYYLD-F8LDV-INS"}}`)
	want := refBookingID(body)
	require.Equal(b, "EYYLD-F8LDV-INS", want)
	for _, bc := range []struct {
		name string
		f    func([]byte) string
	}{{"jsonparser", BookingID}, {"encoding-json", refBookingID}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if got := bc.f(body); got != want {
					b.Fatalf("got %q, want %q", got, want)
				}
			}
		})
	}
}
