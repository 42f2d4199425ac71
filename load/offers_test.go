package load

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xoneharness/xoneharness/internal/xone"
	"github.com/xoneharness/xoneharness/ledger"
)

// readOffersRef is an independent reference reader (a map of every id read
// so far, a []Offer, strings.Split): the reference that OfferStream must
// agree with, error for error, when its duplicate window holds the whole
// feed.
func readOffersRef(r io.Reader, name string) ([]Offer, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxOfferLine)
	var (
		offers   []Offer
		seen     = map[string]int{}
		line     int
		nonBlank int
		offerCol = 0
	)
	for sc.Scan() {
		line++
		text := sc.Bytes()
		if line == 1 {
			text = bytes.TrimPrefix(text, []byte("\uFEFF"))
		}
		text = bytes.TrimSpace(text)
		if len(text) == 0 {
			continue
		}
		nonBlank++
		fields := strings.Split(string(text), ",")
		if len(fields) != 2 {
			return nil, fmt.Errorf("%s:%d: want 2 columns (offer_id,quote_id), got %d", name, line, len(fields))
		}
		for i, f := range fields {
			f = strings.TrimSpace(f)
			if len(f) >= 2 && f[0] == '"' && f[len(f)-1] == '"' {
				f = f[1 : len(f)-1]
			}
			fields[i] = f
		}
		a, b := strings.ToLower(fields[0]), strings.ToLower(fields[1])
		if (a == "offer_id" && b == "quote_id") || (a == "quote_id" && b == "offer_id") {
			if nonBlank > 1 {
				return nil, fmt.Errorf("%s:%d: header line after the first line (a feed has at most one header, on its first line)", name, line)
			}
			if a == "quote_id" {
				offerCol = 1
			}
			continue
		}
		o := Offer{OfferID: fields[offerCol], QuoteID: fields[1-offerCol]}
		for _, c := range []struct{ col, id string }{{"offer_id", o.OfferID}, {"quote_id", o.QuoteID}} {
			if err := xone.CheckID(c.id); err != nil {
				return nil, fmt.Errorf("%s:%d: %s: %w", name, line, c.col, err)
			}
			if l := strings.ToLower(c.id); l == "offer_id" || l == "quote_id" {
				return nil, fmt.Errorf("%s:%d: %s: %q is a column name, not an id", name, line, c.col, c.id)
			}
		}
		if first, dup := seen[refKey(o.OfferID)]; dup {
			return nil, fmt.Errorf("%s:%d: duplicate offer_id %s (first on line %d): an offer is confirmed at most once", name, line, o.OfferID, first)
		}
		seen[refKey(o.OfferID)] = line
		offers = append(offers, o)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%s:%d: line longer than %d bytes", name, line+1, maxOfferLine)
		}
		return nil, fmt.Errorf("%s:%d: read: %w", name, line+1, err)
	}
	if len(offers) == 0 {
		return nil, fmt.Errorf("%s: no offers (want CSV lines offer_id,quote_id)", name)
	}
	return offers, nil
}

// refKey is how the reference compares offer ids: a UUID (any form
// github.com/google/uuid parses) by its value, anything else ignoring case.
func refKey(id string) string {
	if u, err := uuid.Parse(id); err == nil {
		return u.String()
	}
	return strings.ToLower(id)
}

// drain takes every offer of f, then returns them with f's error.
func drain(f Feed) ([]Offer, error) {
	var out []Offer
	for {
		o, _, ok := f.Next()
		if !ok {
			break
		}
		o.line = 0
		out = append(out, o)
	}
	return out, f.Err()
}

// streamAll reads in through an OfferStream with opt.
func streamAll(t *testing.T, in string, opt StreamOptions) ([]Offer, error) {
	t.Helper()
	s := NewOfferStream(strings.NewReader(in), "f.csv", opt)
	defer func() { assert.NoError(t, s.Close()) }()
	return drain(s)
}

// sameAsRef fails t unless an OfferStream over in agrees with the reference:
// the same error, or the same offers in order; for a shard, rows k mod Count
// == Index of them.
func sameAsRef(t *testing.T, in string, sh Shard) {
	t.Helper()
	all, wantErr := readOffersRef(strings.NewReader(in), "f.csv")
	got, err := streamAll(t, in, StreamOptions{Shard: sh})
	if wantErr != nil {
		if err == nil || err.Error() != wantErr.Error() {
			t.Fatalf("input %q, shard %s: got error %v, want %v", in, sh, err, wantErr)
		}
		return
	}
	var want []Offer
	for k := sh.Index; k < len(all); k += sh.Count {
		want = append(want, all[k])
	}
	if len(want) == 0 {
		if err == nil || !strings.Contains(err.Error(), "no offers for shard "+sh.String()) {
			t.Fatalf("input %q, shard %s: got error %v, want no offers for the shard", in, sh, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("input %q, shard %s: got error %v, want %d offers", in, sh, err, len(want))
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("input %q, shard %s: got offers %v, want %v", in, sh, got, want)
	}
}

const (
	uuidA = "0b6c1f4e-8d2a-4f3b-9c1d-2e3f4a5b6c7d"
	uuidB = "f0e1d2c3-b4a5-6978-8a9b-acbdcedf0011" // version 6 bits: kept as is
	uuidC = "00000000-0000-0000-0000-000000000000"
)

var offerRuleCases = []struct {
	name    string
	in      string
	want    []Offer
	wantErr string
}{
	{name: "header in file order", in: "offer_id,quote_id\na,1\nb,2\n", want: []Offer{{OfferID: "a", QuoteID: "1"}, {OfferID: "b", QuoteID: "2"}}},
	{name: "swapped header", in: "quote_id,offer_id\n1,a\n2,b\n", want: []Offer{{OfferID: "a", QuoteID: "1"}, {OfferID: "b", QuoteID: "2"}}},
	{name: "swapped header with BOM, spaces and quotes", in: "\uFEFF \"Quote_ID\" ,  OFFER_ID \r\n1,a\r\n", want: []Offer{{OfferID: "a", QuoteID: "1"}}},
	{name: "second header line", in: "offer_id,quote_id\na,1\noffer_id,quote_id\nb,2\n", wantErr: "f.csv:3: header line after the first line"},
	{name: "second header swapped", in: "offer_id,quote_id\na,1\n\nQUOTE_ID,offer_id\n", wantErr: "f.csv:4: header line after the first line"},
	{name: "header after data", in: "a,1\noffer_id,quote_id\n", wantErr: "f.csv:2: header line after the first line"},
	{name: "header twice at the top", in: "offer_id,quote_id\nOFFER_ID,Quote_ID\n", wantErr: "f.csv:2: header line after the first line"},
	{name: "column name as an id", in: "a,1\noffer_id,2\n", wantErr: `f.csv:2: offer_id: "offer_id" is a column name, not an id`},
	{name: "duplicate UUID upper then lower case", in: strings.ToUpper(uuidA) + ",q1\n" + uuidB + ",q2\n" + uuidA + ",q3\n",
		wantErr: "f.csv:3: duplicate offer_id " + uuidA + " (first on line 1)"},
	{name: "duplicate UUID lower then mixed case", in: uuidA + ",q1\n\n" + strings.ToUpper(uuidA[:8]) + uuidA[8:] + ",q3\n",
		wantErr: "f.csv:3: duplicate offer_id " + strings.ToUpper(uuidA[:8]) + uuidA[8:] + " (first on line 1)"},
	{name: "duplicate non-UUID in other case", in: "Offer-1,q1\nOFFER-1,q2\n", wantErr: "f.csv:2: duplicate offer_id OFFER-1 (first on line 1)"},
	{name: "upper-case UUIDs kept as written", in: strings.ToUpper(uuidA) + "," + strings.ToUpper(uuidB) + "\n",
		want: []Offer{{OfferID: strings.ToUpper(uuidA), QuoteID: strings.ToUpper(uuidB)}}},
	{name: "dot offer id", in: "a,1\n.,2\n", wantErr: `f.csv:2: offer_id: "." is not a path segment`},
	{name: "dot-dot quote id", in: "a,..\n", wantErr: `f.csv:1: quote_id: ".." is not a path segment`},
	{name: "three dots are an id", in: "...,1\n", want: []Offer{{OfferID: "...", QuoteID: "1"}}},
}

func TestOfferCSVRules(t *testing.T) {
	for _, tt := range offerRuleCases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := streamAll(t, tt.in, StreamOptions{})
			if tt.wantErr != "" {
				require.Error(t, err, "got offers %v, want error %q", got, tt.wantErr)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestOfferStreamSameAsReference(t *testing.T) {
	inputs := []string{
		"\uFEFFoffer_id,quote_id\r\n\r\nO-1,Q-1\r\n  \r\n\"O-2\", Q-2 \r\n",
		"quote_id,offer_id\nq1,o1\nq2,o2\nq3,o3\n",
		"a,b\nc,d\na,e\n",
		"z,1\ny,2\nx,3\nx,4\ny,5\n",
		"a,b\nx,y,z\na,c\n",
		"a,b\n" + strings.Repeat("x", 5000) + "\n",
		"\n\n",
		"offer_id,quote_id\n",
		genOffers(3000, 9),
	}
	for _, c := range offerRuleCases {
		inputs = append(inputs, c.in)
	}
	for i, in := range inputs {
		for _, sh := range []Shard{{0, 1}, {0, 2}, {1, 3}, {2, 3}} {
			t.Run(fmt.Sprintf("input %d shard %s", i, sh), func(t *testing.T) { sameAsRef(t, in, sh) })
		}
	}
}

func FuzzOfferStream(f *testing.F) {
	for _, s := range []string{"offer_id,quote_id\na,b\n", "quote_id,offer_id\nb,a\nc,d\n", "\uFEFFa,b\r\nc,d\r\n", "a,b\nA,c\n",
		"a,b,c", "\"a\",\"b\"\n\n", "a,b\noffer_id,quote_id\n", "..,b\n", uuidA + ",q\n" + strings.ToUpper(uuidA) + ",r\n"} {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, s string, shard uint8) {
		count := int(shard%4) + 1
		sameAsRef(t, s, Shard{Index: int(shard/4) % count, Count: count})
	})
}

func genOffers(n int, seed uint64) string {
	rng := rand.New(rand.NewPCG(seed, 1))
	var sb strings.Builder
	sb.WriteString("offer_id,quote_id\n")
	uuid := func() string {
		var b [16]byte
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return string(xone.AppendUUID(nil, b))
	}
	for i := range n {
		o, q := uuid(), uuid()
		if i%10 == 3 {
			o = strings.ToUpper(o)
		}
		if i%7 == 5 {
			q = fmt.Sprintf("Q-%d", i)
		}
		sb.WriteString(o + "," + q + "\n")
	}
	return sb.String()
}

func TestOfferStreamMidStream(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		opt     StreamOptions
		want    int // offers handed out before the error
		wantErr string
	}{
		{name: "malformed row", in: "offer_id,quote_id\na,1\nb,2\nc,3,x\nd,4\n", want: 2, wantErr: "f.csv:4: want 2 columns (offer_id,quote_id), got 3"},
		{name: "bad id", in: "a,1\nb,2\nc/d,3\n", want: 2, wantErr: "f.csv:3: offer_id: invalid character '/'"},
		{name: "duplicate, other case", in: "offer_id,quote_id\n" + uuidA + ",1\n" + uuidB + ",2\n\n" + strings.ToUpper(uuidA) + ",3\n", want: 2,
			wantErr: "f.csv:5: duplicate offer_id " + strings.ToUpper(uuidA) + " (first on line 2)"},
		{name: "duplicate in another shard's rows", in: "a,1\nb,2\nc,3\nB,4\n", opt: StreamOptions{Shard: Shard{0, 2}}, want: 2,
			wantErr: "f.csv:4: duplicate offer_id B (first on line 2)"},
		{name: "duplicate within the window", in: "a,1\nb,2\nc,3\nd,4\nA,5\n", opt: StreamOptions{window: 4}, want: 4,
			wantErr: "f.csv:5: duplicate offer_id A (first on line 1)"},
		{name: "second header", in: "offer_id,quote_id\na,1\nquote_id,offer_id\n", want: 1, wantErr: "f.csv:3: header line after the first line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := streamAll(t, tt.in, tt.opt)
			assert.Len(t, got, tt.want, "offers before the error")
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
	t.Run("a repeat beyond the window is not seen", func(t *testing.T) {
		got, err := streamAll(t, "a,1\nb,2\nc,3\nd,4\ne,5\nA,6\n", StreamOptions{window: 4})
		require.NoError(t, err)
		assert.Len(t, got, 6)
	})
}

// slowSource is an io.Reader fed row by row by the test: the reader side of an
// io.Pipe, standing for standard input.
func slowSource(t *testing.T) (*io.PipeReader, *io.PipeWriter) {
	t.Helper()
	r, w := io.Pipe()
	t.Cleanup(func() { _ = w.Close() })
	return r, w
}

func TestOfferStreamStdinLike(t *testing.T) {
	r, w := slowSource(t)
	s := NewOfferStream(r, "stdin", StreamOptions{})
	defer func() { assert.NoError(t, s.Close()) }()
	assert.Equal(t, -1, s.total, "a stream's length is unknown")

	// Each row is handed out as soon as it is written, before the source ends.
	for i := range 3 {
		_, err := fmt.Fprintf(w, "o-%d,q-%d\n", i, i)
		require.NoError(t, err)
		o, _, ok := s.Next()
		require.True(t, ok)
		assert.Equal(t, Offer{OfferID: fmt.Sprintf("o-%d", i), QuoteID: fmt.Sprintf("q-%d", i)}, o)
	}
	require.NoError(t, w.Close())
	_, _, ok := s.Next()
	assert.False(t, ok)
	assert.NoError(t, s.Err(), "a clean end of the source")
}

func TestOfferStreamStarved(t *testing.T) {
	r, w := slowSource(t)
	s := NewOfferStream(r, "stdin", StreamOptions{})
	defer func() { assert.NoError(t, s.Close()) }()
	type next struct {
		o      Offer
		waited time.Duration
		ok     bool
	}
	done := make(chan next)
	go func() {
		o, waited, ok := s.Next()
		done <- next{o, waited, ok}
	}()
	require.Eventually(t, func() bool { _, n := s.starvation(); return n == 1 }, 5*time.Second, time.Millisecond, "Next waits for the source")
	during, _ := s.starvation()
	_, err := io.WriteString(w, "a,1\n")
	require.NoError(t, err)
	got := <-done
	require.True(t, got.ok)
	assert.Equal(t, "a", got.o.OfferID)
	assert.Positive(t, got.waited, "Next reports its wait")
	total, waits := s.starvation()
	assert.Equal(t, uint64(1), waits)
	assert.Equal(t, got.waited, total, "one waiter: the starved time is its wait")
	assert.LessOrEqual(t, during, total, "a wait going on counts up to now")

	// A row read ahead is no wait.
	_, err = io.WriteString(w, "b,2\nc,3\n")
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.Eventually(t, func() bool { return len(s.rows) == 2 || s.Err() != nil }, 5*time.Second, time.Millisecond)
	_, waited, ok := s.Next()
	assert.True(t, ok)
	assert.Zero(t, waited)
	_, waits = s.starvation()
	assert.Equal(t, uint64(1), waits, "no new wait")
}

func TestOfferStreamCloseUnblocks(t *testing.T) {
	r, _ := slowSource(t)
	s := NewOfferStream(r, "stdin", StreamOptions{})
	done := make(chan bool)
	go func() {
		_, _, ok := s.Next()
		done <- ok
	}()
	require.Eventually(t, func() bool { _, n := s.starvation(); return n == 1 }, 5*time.Second, time.Millisecond)
	require.NoError(t, s.Close())
	assert.False(t, <-done, "Close ends a waiting Next")
	assert.NoError(t, s.Err(), "closing is no error")
	_, _, ok := s.Next()
	assert.False(t, ok)
}

func TestOpenOffersNamedPipe(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "offers.csv")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	writeErr := make(chan error, 1)
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0) // blocks until the reader opens
		if err != nil {
			writeErr <- err
			return
		}
		_, err = io.WriteString(f, genOffers(500, 11))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		writeErr <- err
	}()
	s, total, err := OpenOffers(context.Background(), fifo, nil, OfferOptions{Shard: Shard{1, 2}})
	require.NoError(t, err)
	assert.Equal(t, -1, total, "a pipe is not read ahead of the run")
	got, err := drain(s)
	require.NoError(t, err)
	require.NoError(t, <-writeErr)
	require.NoError(t, s.Close())
	want, err := streamAll(t, genOffers(500, 11), StreamOptions{Shard: Shard{1, 2}})
	require.NoError(t, err)
	assert.Equal(t, want, got, "the shard's rows of the pipe")
}

// TestOpenOffersPipeWithoutWriter: opening a named pipe that nobody writes
// says what it waits for after a second, and ends when the context does.
func TestOpenOffersPipeWithoutWriter(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "offers.csv")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	ctx, cancel := context.WithCancel(context.Background())
	said := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		_, _, err := OpenOffers(ctx, fifo, nil, OfferOptions{Waiting: func(msg string) { said <- msg }})
		done <- err
	}()
	select {
	case msg := <-said:
		assert.Contains(t, msg, "waiting for a writer")
		assert.Contains(t, msg, fifo)
	case <-time.After(10 * time.Second):
		t.Fatal("no word of the wait after 10 s")
	}
	cancel()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(5 * time.Second):
		t.Fatal("the open did not end with its context")
	}
}

func TestOpenOffers(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "offers.csv")
	require.NoError(t, os.WriteFile(path, []byte("offer_id,quote_id\na,1\nb,2\nc,3\n"), 0o644))

	t.Run("stdin", func(t *testing.T) {
		s, total, err := OpenOffers(context.Background(), "-", strings.NewReader("a,1\nb,2\n"), OfferOptions{})
		require.NoError(t, err)
		assert.Equal(t, -1, total)
		got, err := drain(s)
		require.NoError(t, err)
		assert.Equal(t, []Offer{{OfferID: "a", QuoteID: "1"}, {OfferID: "b", QuoteID: "2"}}, got)
	})
	t.Run("a file is counted and checked before the run", func(t *testing.T) {
		s, total, err := OpenOffers(context.Background(), path, nil, OfferOptions{Shard: Shard{0, 2}})
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.Close() })
		assert.Equal(t, 2, total)
		assert.Equal(t, 2, s.total)
		bad := filepath.Join(dir, "bad.csv")
		require.NoError(t, os.WriteFile(bad, []byte("a,1\nb,2\na,3\n"), 0o644))
		_, _, err = OpenOffers(context.Background(), bad, nil, OfferOptions{})
		assert.EqualError(t, err, bad+":3: duplicate offer_id a (first on line 1): an offer is confirmed at most once")
	})
	t.Run("an offer another run claimed names its line and the run", func(t *testing.T) {
		root := filepath.Join(dir, "reports")
		other, err := ledger.OpenClaims(root, filepath.Join(root, "earlier"))
		require.NoError(t, err)
		_, err = other.Claim([]string{"B"})
		require.NoError(t, err)
		require.NoError(t, other.Close())
		mine, err := ledger.OpenClaims(root, filepath.Join(root, "now"))
		require.NoError(t, err)
		t.Cleanup(func() { _ = mine.Close() })
		_, _, err = OpenOffers(context.Background(), path, nil, OfferOptions{Claims: mine})
		var ce *ledger.ClaimedError
		require.ErrorAs(t, err, &ce)
		assert.Contains(t, err.Error(), path+":3: offer b was already claimed by the run in "+filepath.Join(root, "earlier"))
	})
	t.Run("missing", func(t *testing.T) {
		_, _, err := OpenOffers(context.Background(), filepath.Join(dir, "missing.csv"), nil, OfferOptions{})
		assert.ErrorIs(t, err, os.ErrNotExist)
	})
}

func TestOfferStreamShards(t *testing.T) {
	in := genOffers(1001, 12)
	all, err := readOffersRef(strings.NewReader(in), "f.csv")
	require.NoError(t, err)
	for _, n := range []int{1, 2, 3, 7} {
		seen := map[string]int{}
		for i := range n {
			got, err := streamAll(t, in, StreamOptions{Shard: Shard{i, n}})
			require.NoError(t, err)
			var want []Offer
			for k := i; k < len(all); k += n {
				want = append(want, all[k])
			}
			assert.Equal(t, want, got, "shard %d/%d keeps rows k mod %d == %d", i, n, n, i)
			for _, o := range got {
				seen[o.OfferID]++
			}
		}
		assert.Len(t, seen, len(all), "%d shards cover every row", n)
		for id, c := range seen {
			if c != 1 {
				t.Errorf("%d shards: offer %s handed out %d times, want once", n, id, c)
			}
		}
	}
}

// rowSource generates n rows of distinct UUID pairs on the fly, never holding
// them all.
type rowSource struct {
	n, i int
	buf  []byte
}

func (r *rowSource) Read(p []byte) (int, error) {
	for len(r.buf) < len(p) && r.i < r.n {
		r.buf = fmt.Appendf(r.buf, "%08x-0000-4000-8000-%012x,%08x-1111-4000-8000-%012x\n", r.i, r.i, r.i, r.i)
		r.i++
	}
	if len(r.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

func TestOfferStreamFlatMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 400k rows")
	}
	// live returns the live heap after n rows were taken, with the stream
	// still reading (its read-ahead and duplicate window in use).
	live := func(n int) uint64 {
		s := NewOfferStream(&rowSource{n: n + 1000}, "gen", StreamOptions{})
		defer func() { assert.NoError(t, s.Close()) }()
		for range n {
			_, _, ok := s.Next()
			require.True(t, ok, "%v", s.Err())
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	small, large := live(10_000), live(400_000)
	t.Logf("live heap after 10k rows: %d KiB, after 400k rows: %d KiB", small>>10, large>>10)
	// The duplicate window (at most duplicateWindow keys) is all that grows.
	assert.Less(t, large, small+2<<20, "got %d KiB after 400k rows, want within 2 MiB of %d KiB after 10k", large>>10, small>>10)
}

// TestRecent compares the duplicate window with a plain reference (the last
// size keys in a slice) over random keys from a small set.
func TestRecent(t *testing.T) {
	for _, size := range []int{1, 2, 5, 13} {
		rng := rand.New(rand.NewPCG(uint64(size), 2))
		w := newRecent(size)
		type entry struct {
			key  ledger.Key
			line int
		}
		var ref []entry
		for line := 1; line <= 20000; line++ {
			var key ledger.Key
			key[0] = byte(rng.IntN(3 * size))
			wantFirst, wantDup := 0, false
			for _, e := range ref {
				if e.key == key {
					wantFirst, wantDup = e.line, true
				}
			}
			first, dup := w.add(key, line)
			if first != wantFirst || dup != wantDup {
				t.Fatalf("size %d, line %d, key %d: got (%d, %v), want (%d, %v)", size, line, key[0], first, dup, wantFirst, wantDup)
			}
			if !dup {
				ref = append(ref, entry{key, line})
				if len(ref) > size {
					ref = ref[1:]
				}
			}
		}
	}
}

func TestGeneratedFeed(t *testing.T) {
	a, b := GeneratedFeed(7), GeneratedFeed(7)
	seen := map[string]bool{}
	for range 1000 {
		x, _, ok := a.Next()
		require.True(t, ok)
		y, _, _ := b.Next()
		assert.Equal(t, x, y, "the same seed gives the same offers")
		u, err := uuid.Parse(x.OfferID)
		require.NoError(t, err)
		assert.Equal(t, uuid.Version(4), u.Version())
		assert.False(t, seen[x.OfferID], "offer ids are fresh")
		seen[x.OfferID] = true
	}
}
