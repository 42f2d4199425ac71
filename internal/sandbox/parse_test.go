package sandbox

import "testing"

// BenchmarkParseConfirm measures parsing and validating a valid confirm body alone.
func BenchmarkParseConfirm(b *testing.B) {
	body := validBody(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, errs := parseConfirm(decodeBody("application/json", body)); len(errs) > 0 {
			b.Fatalf("got %v, want no errors", errs)
		}
	}
}
