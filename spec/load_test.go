package spec

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pb33f/go-yaml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// aliasBomb returns the vendor document (as YAML flow) with an extension x-bomb of nine levels of
// anchors, each a list of nine aliases of the previous: about 15 KB of text that stands for 9^9
// (387 million) strings of 800 bytes once expanded.
func aliasBomb(tb testing.TB, levels int) []byte {
	tb.Helper()
	var b strings.Builder
	b.WriteString(`{"x-bomb": {"l0": &l0 [`)
	for i := range 9 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strings.Repeat("lol", 266))
	}
	b.WriteString("]")
	for l := 1; l <= levels; l++ {
		prev := fmt.Sprintf("*l%d", l-1)
		fmt.Fprintf(&b, `, "l%d": &l%d [%s]`, l, l, strings.TrimSuffix(strings.Repeat(prev+", ", 9), ", "))
	}
	b.WriteString("}, ")
	v := Vendor()
	require.Equal(tb, byte('{'), v[0], "the vendor document is a JSON object")
	b.Write(v[1:])
	return []byte(b.String())
}

// heapGrowth runs f and returns how many bytes it allocated in all.
func heapGrowth(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestAliasBombIsRefused: a 15 KB YAML alias bomb in a document or an overlay is refused by every
// entry point in well under a second, allocating a few megabytes, with a LimitError that names
// the node count after expansion.
func TestAliasBombIsRefused(t *testing.T) {
	bomb := aliasBomb(t, 9)
	require.InDelta(t, 15<<10, len(bomb), 2<<10, "about 15 KB")
	file := filepath.Join(t.TempDir(), "bomb.yaml")
	require.NoError(t, os.WriteFile(file, bomb, 0o600))
	overlayBomb := bytes.Replace(Overlay(), []byte("actions:\n"),
		[]byte("x-bomb: "+strings.SplitN(string(bomb), ", \"openapi\"", 2)[0][len(`{"x-bomb": `):]+"\nactions:\n"), 1)
	require.Contains(t, string(overlayBomb), "&l9")

	lists, l := int64(10), int64(10) // level 0: a list of nine strings; level k: a list of nine level k-1
	for range 9 {
		l = 1 + 9*l
		lists += l
	}
	tests := []struct {
		name  string
		input string
		run   func() error
	}{
		{"Load", "document", func() error { _, err := Load(FromDocument(bomb)); return err }},
		{"Load WithoutOverlay", "document", func() error { _, err := Load(FromDocument(bomb), WithoutOverlay()); return err }},
		{"Lint", "document", func() error { _, err := Lint(bomb); return err }},
		{"Diff", "document", func() error { _, err := Diff(Vendor(), bomb); return err }},
		{"ReadDocument", "document", func() error { _, err := ReadDocument(file); return err }},
		{"Load with a bomb overlay", "overlay", func() error { _, err := Load(WithOverlay(overlayBomb)); return err }},
		{"Lint with a bomb overlay", "overlay", func() error { _, err := Lint(Vendor(), WithOverlay(overlayBomb)); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			start := time.Now()
			grew := heapGrowth(func() { err = tt.run() })
			elapsed := time.Since(start)
			t.Logf("refused in %v, %d KB allocated", elapsed, grew>>10)
			var le *LimitError
			require.ErrorAs(t, err, &le)
			assert.Equal(t, LimitError{Input: tt.input, Limit: LimitNodes, Max: MaxNodes, Seen: le.Seen}, *le)
			assert.GreaterOrEqual(t, le.Seen, lists, "every list expanded")
			assert.Less(t, le.Seen, lists+10_000, "and the few thousand other nodes")
			assert.ErrorIs(t, err, ErrDocument)
			assert.Less(t, elapsed, time.Second, "got %v", elapsed)
			assert.Less(t, grew, uint64(50<<20), "got %d MB allocated", grew>>20)
		})
	}
}

// withExtension returns an OpenAPI document (YAML) or an overlay with ext (YAML lines at the top
// level) added.
func withExtension(tb testing.TB, input, ext string) []byte {
	tb.Helper()
	if input == "overlay" {
		return bytes.Replace(Overlay(), []byte("actions:\n"), []byte(ext+"\nactions:\n"), 1)
	}
	return []byte("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n" + ext + "\n")
}

// aliasList is a flow list of n aliases of name.
func aliasList(name string, n int) string {
	return "[" + strings.TrimSuffix(strings.Repeat("*"+name+", ", n), ", ") + "]"
}

// TestLimits: each limit refuses a document and an overlay just beyond it, with a LimitError that
// says which input, which limit, the cap and what was seen.
func TestLimits(t *testing.T) {
	chain := []string{"x-c0: &c0 [0]"} // depth through aliases: each level a list of the previous
	for i := 1; i <= MaxDepth; i++ {
		chain = append(chain, fmt.Sprintf("x-c%d: &c%d [*c%d]", i, i, i-1))
	}
	tests := []struct {
		name  string
		ext   string
		limit string
		max   int64
		seen  func(input string) int64 // nil: at least max+1
	}{
		{name: "size", ext: "x-big: " + strings.Repeat("a", MaxDocumentSize), limit: LimitSize, max: MaxDocumentSize},
		{name: "aliases", ext: "x-a: &a 1\nx-b: " + aliasList("a", MaxAliases+1), limit: LimitAliases, max: MaxAliases,
			seen: func(string) int64 { return MaxAliases + 1 }},
		{name: "nodes", ext: "x-a: &a [" + strings.TrimSuffix(strings.Repeat("0, ", 999), ", ") + "]\nx-b: " + aliasList("a", MaxAliases),
			limit: LimitNodes, max: MaxNodes},
		{name: "depth", ext: "x-d: " + strings.Repeat("[", MaxDepth+2) + strings.Repeat("]", MaxDepth+2), limit: LimitDepth, max: MaxDepth,
			seen: func(string) int64 { return MaxDepth + 1 }},
		{name: "depth through aliases", ext: strings.Join(chain, "\n"), limit: LimitDepth, max: MaxDepth},
	}
	for _, tt := range tests {
		for _, input := range []string{"document", "overlay"} {
			t.Run(tt.name+" of the "+input, func(t *testing.T) {
				b := withExtension(t, input, tt.ext)
				opts := []Option{FromDocument(b)}
				if input == "overlay" {
					opts = []Option{WithOverlay(b)}
				}
				_, err := Load(opts...)
				var le *LimitError
				require.ErrorAs(t, err, &le)
				assert.Equal(t, input, le.Input)
				assert.Equal(t, tt.limit, le.Limit)
				assert.Equal(t, tt.max, le.Max)
				if tt.seen != nil {
					assert.Equal(t, tt.seen(input), le.Seen)
				} else {
					assert.Greater(t, le.Seen, tt.max)
				}
				assert.ErrorIs(t, err, ErrDocument)
				assert.NotErrorIs(t, err, ErrUnreadable)
				assert.Contains(t, err.Error(), input+" exceeds a limit: ")
				assert.Contains(t, err.Error(), tt.limit+", at most ")
			})
		}
	}
}

// TestWithinLimitsLoads: a YAML document that uses aliases within the limits loads, and the
// validator sees through them.
func TestWithinLimitsLoads(t *testing.T) {
	doc := append([]byte(`{"x-shared": &s {"type": "string"}, "x-uses": `+aliasList("s", MaxAliases)+`, `), Vendor()[1:]...)
	s := loadSpec(t, FromDocument(doc))
	assert.Empty(t, s.ValidateResponse(confirmReq(t), Response{Status: 200, Header: jsonHeader(), Body: body200(t)}))
}

// TestOverlayOutputIsBounded: an overlay within the limits whose update, made at every target,
// multiplies the document beyond a limit is refused with a LimitError on the overlay, before
// libopenapi builds a model of the result.
func TestOverlayOutputIsBounded(t *testing.T) {
	pad := strings.Repeat("a", MaxDocumentSize/2)
	ov := "overlay: 1.0.0\ninfo: {title: grow, version: '1'}\nactions:\n" +
		"  - target: $.paths.*.post.responses.*\n    update: {x-pad: '" + pad + "'}\n"
	_, err := Load(WithOverlay([]byte(ov)))
	var le *LimitError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, LimitError{Input: "overlay", Limit: LimitSize, Max: MaxDocumentSize, Seen: le.Seen}, *le)
	assert.Greater(t, le.Seen, int64(2*len(pad)), "two responses, a copy each")
	assert.ErrorIs(t, err, ErrDocument)
	_, err = Lint(Vendor(), WithOverlay([]byte(ov)))
	assert.ErrorAs(t, err, &le, "Lint refuses it too")
}

// TestContextEndsLoading: Load, Lint and Diff return the context's error when it has ended, and
// interruptible returns as soon as the context ends while the work it waits for goes on.
func TestContextEndsLoading(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := map[string]func() error{
		"Load": func() error { _, err := Load(Context(ctx)); return err },
		"Lint": func() error { _, err := Lint(Vendor(), Context(ctx)); return err },
		"Diff": func() error { _, err := Diff(Vendor(), Vendor(), Context(ctx)); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call()
			assert.ErrorIs(t, err, context.Canceled)
			assert.True(t, strings.HasPrefix(err.Error(), "spec: "+strings.ToLower(name)+": "), "got %q", err)
		})
	}

	t.Run("while working", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		release, started := make(chan struct{}), make(chan struct{})
		defer close(release)
		done := make(chan error, 1)
		go func() {
			_, err := interruptible(ctx, "test", func() (int, error) { close(started); <-release; return 1, nil })
			done <- err
		}()
		<-started
		cancel()
		select {
		case err := <-done:
			assert.ErrorIs(t, err, context.Canceled)
		case <-time.After(time.Second):
			t.Fatal("got no return within a second of the cancellation, want one")
		}
	})
}

// TestNormalize: a JSON document with the escapes YAML refuses reads, once normalized, as the
// value encoding/json reads; anything else is left as it is.
func TestNormalize(t *testing.T) {
	tests := []struct{ name, doc string }{
		{"escaped slash", `{"a":"x\/y"}`},
		{"surrogate pair", `{"a":"key \ud83d\udd11"}`},
		{"upper-case pair", `{"a":"\uD83D\uDD11"}`},
		{"lone high surrogate", `{"a":"\ud83d!"}`},
		{"lone low surrogate", `{"a":"\udd11"}`},
		{"two high surrogates", `{"a":"\ud83d\ud83d"}`},
		{"escaped backslash before a slash", `{"a":"\\/"}`},
		{"escaped backslash before a u", `{"a":"\\ud83d"}`},
		{"in a key", `{"\ud83d\udd11":["\/"]}`},
		{"other escapes", `{"a":"\"\t\n\u00e9"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want, got any
			require.NoError(t, json.Unmarshal([]byte(tt.doc), &want))
			require.NoError(t, yaml.Unmarshal(normalize([]byte(tt.doc)), &got), "normalized: %s", normalize([]byte(tt.doc)))
			assert.Equal(t, want, got)
		})
	}
	for _, doc := range []string{"a: '\\/'\n", `{"a":"\/"`, `{"a":"\/"} {}`} {
		assert.Equal(t, doc, string(normalize([]byte(doc))), "not one JSON value: unchanged")
	}
}
