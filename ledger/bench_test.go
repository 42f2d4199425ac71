package ledger

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// BenchmarkBegin is what the journal adds to a confirm before it leaves
// (claim, pending row), one Begin at a time: the worst case, with no other
// Begin to share a commit with.
func BenchmarkBegin(b *testing.B) {
	root := b.TempDir()
	run := filepath.Join(root, "run")
	c, err := OpenClaims(root, run)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := os.Mkdir(run, 0o755); err != nil {
		b.Fatal(err)
	}
	j, err := Open(run, Options{Claims: c})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = "0b4c5d6e-0000-4000-8000-" + strconv.FormatInt(100000000000+int64(i), 10)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := j.Begin(ids[i], "q"); err != nil {
			b.Fatal(err)
		}
	}
}
