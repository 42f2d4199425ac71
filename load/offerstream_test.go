package load

import (
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

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// drain takes every offer of f, then returns them with f's error.
func drain(t *testing.T, f *OfferStream) ([]Offer, error) {
	t.Helper()
	var out []Offer
	for {
		o, ok := f.Next()
		if !ok {
			break
		}
		out = append(out, o)
	}
	return out, f.Err()
}

// streamAll reads in through an OfferStream with opt.
func streamAll(t *testing.T, in string, opt StreamOptions) ([]Offer, error) {
	t.Helper()
	s := NewOfferStream(strings.NewReader(in), "f.csv", opt)
	defer func() { assert.NoError(t, s.Close()) }()
	return drain(t, s)
}

// sameStreamAsList fails t unless an OfferStream over in agrees with
// ReadOfferList: the same error, or the same offers in order; and, for a
// shard, the same offers as Shard.OfferList.
func sameStreamAsList(t *testing.T, in string, sh Shard) {
	t.Helper()
	l, wantErr := ReadOfferList(strings.NewReader(in), "f.csv")
	got, err := streamAll(t, in, StreamOptions{Shard: sh})
	if wantErr != nil {
		if err == nil || err.Error() != wantErr.Error() {
			t.Fatalf("input %q, shard %s: got error %v, want %v", in, sh, err, wantErr)
		}
		return
	}
	want := sh.OfferList(l).Expand()
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

func TestOfferStreamSameAsList(t *testing.T) {
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
			t.Run(fmt.Sprintf("input %d shard %s", i, sh), func(t *testing.T) { sameStreamAsList(t, in, sh) })
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
		sameStreamAsList(t, s, Shard{Index: int(shard/4) % count, Count: count})
	})
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
		{name: "duplicate within the window", in: "a,1\nb,2\nc,3\nd,4\nA,5\n", opt: StreamOptions{Window: 4}, want: 4,
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
		got, err := streamAll(t, "a,1\nb,2\nc,3\nd,4\ne,5\nA,6\n", StreamOptions{Window: 4})
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
	assert.Equal(t, -1, s.Left(), "a stream's length is unknown")

	// Each row is handed out as soon as it is written, before the source ends.
	for i := range 3 {
		_, err := fmt.Fprintf(w, "o-%d,q-%d\n", i, i)
		require.NoError(t, err)
		o, ok := s.Next()
		require.True(t, ok)
		assert.Equal(t, Offer{fmt.Sprintf("o-%d", i), fmt.Sprintf("q-%d", i)}, o)
	}
	require.NoError(t, w.Close())
	_, ok := s.Next()
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
		o, waited, ok := s.NextWait()
		done <- next{o, waited, ok}
	}()
	require.Eventually(t, func() bool { _, n := s.Starved(); return n == 1 }, 5*time.Second, time.Millisecond, "Next waits for the source")
	during, _ := s.Starved()
	_, err := io.WriteString(w, "a,1\n")
	require.NoError(t, err)
	got := <-done
	require.True(t, got.ok)
	assert.Equal(t, "a", got.o.OfferID)
	assert.Positive(t, got.waited, "NextWait reports its wait")
	total, waits := s.Starved()
	assert.Equal(t, uint64(1), waits)
	assert.Equal(t, got.waited, total, "one waiter: the starved time is its wait")
	assert.LessOrEqual(t, during, total, "a wait going on counts up to now")

	// A row read ahead is no wait.
	_, err = io.WriteString(w, "b,2\nc,3\n")
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.Eventually(t, func() bool { return len(s.rows) == 2 || s.Err() != nil }, 5*time.Second, time.Millisecond)
	_, waited, ok := s.NextWait()
	assert.True(t, ok)
	assert.Zero(t, waited)
	_, waits = s.Starved()
	assert.Equal(t, uint64(1), waits, "no new wait")
}

func TestOfferStreamCloseUnblocks(t *testing.T) {
	r, _ := slowSource(t)
	s := NewOfferStream(r, "stdin", StreamOptions{})
	done := make(chan bool)
	go func() {
		_, ok := s.Next()
		done <- ok
	}()
	require.Eventually(t, func() bool { _, n := s.Starved(); return n == 1 }, 5*time.Second, time.Millisecond)
	require.NoError(t, s.Close())
	assert.False(t, <-done, "Close ends a waiting Next")
	assert.NoError(t, s.Err(), "closing is no error")
	_, ok := s.Next()
	assert.False(t, ok)
}

func TestOfferStreamNamedPipe(t *testing.T) {
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
	s, err := OpenOfferStream(fifo, nil, StreamOptions{Shard: Shard{1, 2}})
	require.NoError(t, err)
	got, err := drain(t, s)
	require.NoError(t, err)
	require.NoError(t, <-writeErr)
	require.NoError(t, s.Close())
	want, err := ReadOffers(strings.NewReader(genOffers(500, 11)), "f")
	require.NoError(t, err)
	assert.Equal(t, Shard{1, 2}.Offers(want), got, "the shard's rows of the pipe")

	release, err := LockOffers(fifo, "reports/x", Shard{})
	require.NoError(t, err, "a pipe needs no lock")
	assert.NoError(t, release())
}

func TestOfferStreamStdinPath(t *testing.T) {
	s, err := OpenOfferStream("-", strings.NewReader("a,1\nb,2\n"), StreamOptions{})
	require.NoError(t, err)
	got, err := drain(t, s)
	require.NoError(t, err)
	assert.Equal(t, []Offer{{"a", "1"}, {"b", "2"}}, got)
	require.NoError(t, s.Close())

	s, err = OpenOfferStream("-", strings.NewReader("a,1\na,2\n"), StreamOptions{})
	require.NoError(t, err)
	_, err = drain(t, s)
	assert.EqualError(t, err, "stdin:2: duplicate offer_id a (first on line 1): an offer is confirmed at most once")
	require.NoError(t, s.Close())

	_, err = OpenOfferStream(filepath.Join(t.TempDir(), "missing.csv"), nil, StreamOptions{})
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestOfferStreamShards(t *testing.T) {
	in := genOffers(1001, 12)
	all, err := ReadOffers(strings.NewReader(in), "f.csv")
	require.NoError(t, err)
	for _, n := range []int{1, 2, 3, 7} {
		seen := map[string]int{}
		for i := range n {
			got, err := streamAll(t, in, StreamOptions{Shard: Shard{i, n}})
			require.NoError(t, err)
			assert.Equal(t, Shard{i, n}.Offers(all), got, "shard %d/%d keeps rows k mod %d == %d", i, n, n, i)
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
			_, ok := s.Next()
			require.True(t, ok, "%v", s.Err())
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	small, large := live(10_000), live(400_000)
	t.Logf("live heap after 10k rows: %d KiB, after 400k rows: %d KiB", small>>10, large>>10)
	// The duplicate window (at most DuplicateWindow keys) is all that grows.
	assert.Less(t, large, small+2<<20, "got %d KiB after 400k rows, want within 2 MiB of %d KiB after 10k", large>>10, small>>10)
}

// TestDupWindow compares the window with a plain reference (the last size
// keys in a slice) over random keys from a small set, so that probe chains
// collide and entries are removed from their middle.
func TestDupWindow(t *testing.T) {
	for _, size := range []int{1, 2, 5, 13} {
		rng := rand.New(rand.NewPCG(uint64(size), 2))
		w := newDupWindow(size)
		var ref []dupEntry
		for line := 1; line <= 20000; line++ {
			var key offerKey
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
				ref = append(ref, dupEntry{key, line})
				if len(ref) > size {
					ref = ref[1:]
				}
			}
		}
	}
}

func TestLedgerOffers(t *testing.T) {
	root := t.TempDir()
	write := func(rel, content string) string {
		p := filepath.Join(root, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		return p
	}
	withOutcome := write("2026-11-30T01-load/bookings.csv",
		"offer_id,quote_id,outcome,booking_id,http_status,error,confirmed_at\n"+
			uuidA+",q,booked,EYYLD-F8LDV-INS,200,,2026-11-30T01:00:00Z\n"+
			"Offer-7,q,unknown,,0,timeout,2026-11-30T01:00:01Z\n")
	old := write("2026-11-29T01-run/bookings.csv",
		"offer_id,quote_id,booking_id,http_status,confirmed_at\n"+uuidB+",q,B-1,200,2026-11-29T01:00:00Z\n")
	write("2026-11-28T01-run/bookings.csv", "") // created, never written
	write("2026-11-28T01-run/deeper/bookings.csv", uuidC+",q\n")

	c, err := LedgerOffers(root)
	require.NoError(t, err)
	assert.Equal(t, 3, c.Len())
	for _, tt := range []struct {
		id, want string
	}{
		{strings.ToUpper(uuidA), withOutcome},
		{"offer-7", withOutcome},
		{uuidB, old},
		{uuidC, ""},
		{"Offer-8", ""},
	} {
		got, ok := c.Lookup([]byte(tt.id))
		assert.Equal(t, tt.want != "", ok, "%s", tt.id)
		assert.Equal(t, tt.want, got, "%s", tt.id)
	}

	t.Run("a feed holding a confirmed offer is refused at its row", func(t *testing.T) {
		in := "offer_id,quote_id\nfresh-1,q\n" + strings.ToUpper(uuidA) + ",q\nfresh-2,q\n"
		got, err := streamAll(t, in, StreamOptions{Confirmed: c})
		assert.Equal(t, []Offer{{"fresh-1", "q"}}, got)
		var ce *ConfirmedError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, ConfirmedError{OfferID: strings.ToUpper(uuidA), Name: "f.csv", Line: 3, Ledger: withOutcome}, *ce)
		assert.Contains(t, err.Error(), "offer "+strings.ToUpper(uuidA)+" at f.csv:3 was already confirmed by an earlier run ("+withOutcome+")")
	})
	t.Run("only the shard's own rows are checked", func(t *testing.T) {
		got, err := streamAll(t, "fresh-1,q\nOFFER-7,q\nfresh-2,q\n", StreamOptions{Confirmed: c, Shard: Shard{0, 2}})
		require.NoError(t, err)
		assert.Equal(t, []Offer{{"fresh-1", "q"}, {"fresh-2", "q"}}, got)
	})
	t.Run("no reports yet", func(t *testing.T) {
		c, err := LedgerOffers(filepath.Join(root, "missing"))
		require.NoError(t, err)
		assert.Zero(t, c.Len())
	})
	t.Run("a ledger without offer_id", func(t *testing.T) {
		bad := t.TempDir()
		require.NoError(t, os.MkdirAll(filepath.Join(bad, "r"), 0o755))
		p := filepath.Join(bad, "r", "bookings.csv")
		require.NoError(t, os.WriteFile(p, []byte("id,quote\nx,y\n"), 0o644))
		_, err := LedgerOffers(bad)
		assert.ErrorContains(t, err, p+":1: no offer_id column")
	})
}

func TestConfirmedNil(t *testing.T) {
	var c *Confirmed
	_, ok := c.Lookup([]byte("a"))
	assert.False(t, ok)
	assert.Zero(t, c.Len())
}
