package load

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xoneharness/xoneharness/internal/xone"
)

// readOffersRef is an independent reference reader (a map of every id read
// so far, a []Offer, strings.Split), with limit in place of maxOffers: the
// reference that ReadOfferList and OfferStream must agree with, error for
// error.
func readOffersRef(r io.Reader, name string, limit int) ([]Offer, error) {
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
			if err := checkID(c.id); err != nil {
				return nil, fmt.Errorf("%s:%d: %s: %w", name, line, c.col, err)
			}
			if l := strings.ToLower(c.id); l == "offer_id" || l == "quote_id" {
				return nil, fmt.Errorf("%s:%d: %s: %q is a column name, not an id", name, line, c.col, c.id)
			}
		}
		if first, dup := seen[strings.ToLower(o.OfferID)]; dup {
			return nil, fmt.Errorf("%s:%d: duplicate offer_id %s (first on line %d): an offer is confirmed at most once", name, line, o.OfferID, first)
		}
		if len(offers) >= limit {
			return nil, fmt.Errorf("%s:%d: more than %d offers", name, line, limit)
		}
		seen[strings.ToLower(o.OfferID)] = line
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

// sameAsRef fails t unless ReadOfferList (with limit) and readOffersRef agree
// on in: the same error, or the same offers in order.
func sameAsRef(t *testing.T, in string, limit int) {
	t.Helper()
	want, wantErr := readOffersRef(strings.NewReader(in), "f.csv", limit)
	got, err := readOfferList(strings.NewReader(in), "f.csv", limit)
	if wantErr != nil {
		if err == nil || err.Error() != wantErr.Error() {
			t.Fatalf("input %q, limit %d: got error %v, want %v", in, limit, err, wantErr)
		}
		return
	}
	if err != nil {
		t.Fatalf("input %q, limit %d: got error %v, want %d offers", in, limit, err, len(want))
	}
	if got.Len() != len(want) {
		t.Fatalf("input %q, limit %d: got %d offers, want %d", in, limit, got.Len(), len(want))
	}
	for i, w := range want {
		if o := got.At(i); o != w {
			t.Fatalf("input %q, limit %d: offer %d: got %+v, want %+v", in, limit, i, o, w)
		}
	}
}

const (
	uuidA = "0b6c1f4e-8d2a-4f3b-9c1d-2e3f4a5b6c7d"
	uuidB = "f0e1d2c3-b4a5-6978-8a9b-acbdcedf0011" // version 6 bits: kept as is
	uuidC = "00000000-0000-0000-0000-000000000000"
)

func TestReadOfferList(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		limit int // 0: maxOffers
	}{
		{name: "header BOM CRLF blank lines", in: "\uFEFFoffer_id,quote_id\r\n\r\nO-1,Q-1\r\n  \r\n\"O-2\", Q-2 \r\n"},
		{name: "no header", in: "a,b\nc,d"},
		{name: "lower-case UUIDs", in: uuidA + "," + uuidB + "\n" + uuidB + "," + uuidC + "\n"},
		{name: "upper-case UUIDs kept as written", in: strings.ToUpper(uuidA) + "," + uuidB + "\n" + uuidA + "," + strings.ToUpper(uuidC) + "\n"},
		{name: "UUID-shaped non-UUIDs", in: strings.Replace(uuidA, "-", "x", 1) + ",q\n" + strings.Replace(uuidA, "b", "g", 1) + ",q\n" + uuidA + "0,q\n"},
		{name: "dash out of place", in: "00000000-0000-0000-0000-0000-0000000,q\n00000000-0000-0000-0000-00000000000-,q\n"},
		{name: "quoted UUID", in: `"` + uuidA + `","` + uuidB + `"` + "\n"},
		{name: "longest id", in: strings.Repeat("x", maxIDLen) + "," + strings.Repeat("y", maxIDLen) + "\n"},
		{name: "header twice", in: "offer_id,quote_id\nOFFER_ID,Quote_ID\n"},
		{name: "header after data", in: "a,b\noffer_id,quote_id\n"},
		{name: "swapped header", in: "quote_id,offer_id\nq1,o1\nq2,o2\n"},
		{name: "swapped header, then the header", in: "quote_id,offer_id\nq1,o1\noffer_id,quote_id\n"},
		{name: "column name as id", in: "a,b\nc,QUOTE_ID\n"},
		{name: "dot ids", in: "a,b\n..,c\n"},
		{name: "duplicate mixed-case UUID", in: uuidA + ",q1\n" + strings.ToUpper(uuidA[:20]) + uuidA[20:] + ",q2\n"},
		{name: "duplicate mixed-case id", in: "AbC,q1\nx,y\naBc,q2\n"},
		{name: "header with quotes and spaces", in: " \"offer_id\" , quote_id \na,b\n"},
		{name: "three columns", in: "offer_id,quote_id\na,b,c\n"},
		{name: "one column", in: "a\n"},
		{name: "duplicate", in: "a,b\nc,d\na,e\n"},
		{name: "duplicate UUID", in: "offer_id,quote_id\n\n" + uuidA + ",q1\n" + uuidB + ",q2\n\n\n" + uuidA + ",q3\n"},
		{name: "duplicate upper-case UUID", in: strings.ToUpper(uuidA) + ",q1\n" + uuidA + ",q2\n" + strings.ToUpper(uuidA) + ",q3\n"},
		{name: "several duplicates: the first repeat in file order", in: "z,1\ny,2\nx,3\nx,4\ny,5\nz,6\nz,7\n"},
		{name: "three of one id", in: "a,1\nb,2\na,3\na,4\nb,5\n"},
		{name: "duplicate before a bad line", in: "a,b\na,c\nx,y,z\n"},
		{name: "bad line before a duplicate", in: "a,b\nx,y,z\na,c\n"},
		{name: "duplicate before a bad id", in: "a,b\na,c\nx,\n"},
		{name: "duplicate before a long line", in: "a,b\na,c\n" + strings.Repeat("x", 5000) + "\n"},
		{name: "empty", in: "\n\n"},
		{name: "header only", in: "offer_id,quote_id\n"},
		{name: "empty id", in: "a,\n"},
		{name: "id too long", in: strings.Repeat("x", maxIDLen+1) + ",q\n"},
		{name: "unsafe id", in: "a/../b,q\n"},
		{name: "quote in id", in: "a,q\"x\n"},
		{name: "huge line", in: "a,b\n" + strings.Repeat("x", 10<<20)},
		{name: "at the limit", in: "a,1\nb,2\nc,3\n", limit: 3},
		{name: "over the limit", in: "a,1\nb,2\n\nc,3\nd,4\n", limit: 3},
		{name: "duplicate on the line over the limit", in: "a,1\nb,2\nc,3\na,4\n", limit: 3},
		{name: "duplicate before the limit", in: "a,1\na,2\nc,3\nd,4\n", limit: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			limit := tt.limit
			if limit == 0 {
				limit = maxOffers
			}
			sameAsRef(t, tt.in, limit)
		})
	}

	t.Run("errors", func(t *testing.T) {
		for in, want := range map[string]string{
			"z,1\ny,2\nx,3\nx,4\ny,5\n":       "f.csv:4: duplicate offer_id x (first on line 3): an offer is confirmed at most once",
			uuidA + ",q\n\n" + uuidA + ",r\n": "f.csv:3: duplicate offer_id " + uuidA + " (first on line 1)",
			"a,b\nx,y,z\na,c\n":               "f.csv:2: want 2 columns (offer_id,quote_id), got 3",
		} {
			_, err := ReadOfferList(strings.NewReader(in), "f.csv")
			assert.ErrorContains(t, err, want, "input %q", in)
		}
	})
}

func FuzzReadOfferList(f *testing.F) {
	for _, s := range []string{"offer_id,quote_id\na,b\n", "\uFEFFa,b\r\nc,d\r\n", "a,b\na,c\n", "a,b,c", "\"a\",\"b\"\n\n",
		uuidA + "," + uuidB + "\n" + strings.ToUpper(uuidB) + "," + uuidA + "\n" + uuidB + ",x\n",
		"z,1\ny,2\nx,3\nx,4\ny,5\n", "a,1\nb,2\nc,3\nd,4\na,5\n", "a,b\na,c\nx,y,z\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sameAsRef(t, s, maxOffers)
		sameAsRef(t, s, 3) // small enough for fuzz inputs to reach
	})
}

// genOffers writes n rows of random lower-case UUID pairs (seeded), every
// tenth row in upper case and every seventh with a quote id that is not a
// UUID, after a header.
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

func TestOfferListLarge(t *testing.T) {
	// Crosses chunk boundaries.
	n := 2*offerChunk + 17
	in := genOffers(n, 1)
	want, err := readOffersRef(strings.NewReader(in), "big.csv", maxOffers)
	require.NoError(t, err)
	l, err := ReadOfferList(strings.NewReader(in), "big.csv")
	require.NoError(t, err)
	require.Equal(t, n, l.Len())
	assert.Equal(t, want, l.Expand())

	t.Run("duplicate across chunks", func(t *testing.T) {
		lines := strings.SplitAfter(in, "\n") // lines[k] is line k+1
		_, err := ReadOfferList(strings.NewReader(in+lines[5]+lines[n]), "big.csv")
		assert.EqualError(t, err, fmt.Sprintf("big.csv:%d: duplicate offer_id %s (first on line 6): an offer is confirmed at most once",
			n+2, strings.Split(lines[5], ",")[0]))
	})

	t.Run("shards equal Shard.Offers", func(t *testing.T) {
		for _, count := range []int{1, 2, 3, 7, 1000} {
			for _, i := range []int{0, 1, count / 2, count - 1} {
				sh := Shard{Index: i, Count: count}
				got := sh.OfferList(l)
				wantPart := sh.Offers(want)
				require.Equal(t, len(wantPart), got.Len(), "shard %s", sh)
				assert.Equal(t, wantPart, got.Expand(), "shard %s", sh)
				if got.Len() > 1 {
					// runcmd: the first row to the contract suite, the rest to the feed.
					assert.Equal(t, wantPart[1:], got.Slice(1, got.Len()).Expand(), "shard %s, rows[1:]", sh)
				}
			}
		}
	})
}

func TestOfferListViews(t *testing.T) {
	l, err := ReadOfferList(strings.NewReader("a,1\nb,2\nc,3\nd,4\ne,5\nf,6\ng,7\n"), "f.csv")
	require.NoError(t, err)
	ids := func(l *OfferList) string {
		var s string
		for _, o := range l.Expand() {
			s += o.OfferID
		}
		return s
	}
	tests := []struct {
		name string
		view *OfferList
		want string
	}{
		{"all", l, "abcdefg"},
		{"slice", l.Slice(2, 5), "cde"},
		{"empty slice", l.Slice(7, 7), ""},
		{"shard 1/3", Shard{1, 3}.OfferList(l), "be"},
		{"shard 0/3", Shard{0, 3}.OfferList(l), "adg"},
		{"shard of a slice", Shard{1, 2}.OfferList(l.Slice(1, 7)), "ceg"},
		{"slice of a shard", Shard{0, 2}.OfferList(l).Slice(1, 3), "ce"},
		{"shard of a shard", Shard{1, 2}.OfferList(Shard{0, 2}.OfferList(l)), "cg"},
		{"more shards than rows", Shard{9, 10}.OfferList(l), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, ids(tt.view))
			assert.Equal(t, len(tt.want), tt.view.Len())
		})
	}
	assert.Panics(t, func() { l.At(7) })
	assert.Panics(t, func() { l.Slice(3, 8) })
}

func TestOfferListFeed(t *testing.T) {
	n := 20000
	l, err := ReadOfferList(strings.NewReader(genOffers(n, 2)), "f.csv")
	require.NoError(t, err)
	view := Shard{Index: 1, Count: 3}.OfferList(l)
	feed := view.Feed()
	assert.Equal(t, view.Len(), feed.Left())

	const workers = 8
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		got = map[Offer]int{}
	)
	for range workers {
		wg.Go(func() {
			var mine []Offer
			for {
				o, ok := feed.Next()
				if !ok {
					break
				}
				mine = append(mine, o)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, o := range mine {
				got[o]++
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 0, feed.Left())
	_, ok := feed.Next()
	assert.False(t, ok)
	assert.Len(t, got, view.Len(), "every offer handed out")
	for i := range view.Len() {
		if o := view.At(i); got[o] != 1 {
			t.Errorf("offer %d (%s) handed out %d times, want once", i, o.OfferID, got[o])
		}
	}
	assert.Equal(t, view.Len(), view.Feed().Left(), "a new feed starts over")
}

func TestOfferListAllocs(t *testing.T) {
	in := genOffers(100_000, 3)
	allocs := testing.AllocsPerRun(3, func() {
		if _, err := ReadOfferList(strings.NewReader(in), "f.csv"); err != nil {
			t.Fatal(err)
		}
	})
	// Chunks, the arena's growth, the line index and the sort index: not
	// one per row.
	if allocs > 100 {
		t.Errorf("ReadOfferList of 100k rows: got %v allocations, want at most 100", allocs)
	}
	l, err := ReadOfferList(strings.NewReader(in), "f.csv")
	require.NoError(t, err)
	if a := testing.AllocsPerRun(100, func() { _ = l.At(12345) }); a != 1 {
		t.Errorf("At: got %v allocations, want 1 (both ids in one string)", a)
	}
}

func BenchmarkReadOffers100k(b *testing.B) {
	in := genOffers(100_000, 4)
	b.Run("OfferList", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(in)))
		for b.Loop() {
			if _, err := ReadOfferList(strings.NewReader(in), "f.csv"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("map-and-slice", func(b *testing.B) { // the reader before OfferList
		b.ReportAllocs()
		b.SetBytes(int64(len(in)))
		for b.Loop() {
			if _, err := readOffersRef(strings.NewReader(in), "f.csv", maxOffers); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkOfferListFeed(b *testing.B) {
	l, err := ReadOfferList(strings.NewReader(genOffers(100_000, 5)), "f.csv")
	require.NoError(b, err)
	b.ReportAllocs()
	var feed Feed
	for i := 0; b.Loop(); i++ {
		if i%l.Len() == 0 {
			feed = l.Feed()
		}
		if _, ok := feed.Next(); !ok {
			b.Fatal("exhausted")
		}
	}
}

// offerRuleCases are the CSV rules every offer reader applies, with the
// offers or the error each input must give.
var offerRuleCases = []struct {
	name    string
	in      string
	want    []Offer
	wantErr string
}{
	{name: "header in file order", in: "offer_id,quote_id\na,1\nb,2\n", want: []Offer{{"a", "1"}, {"b", "2"}}},
	{name: "swapped header", in: "quote_id,offer_id\n1,a\n2,b\n", want: []Offer{{"a", "1"}, {"b", "2"}}},
	{name: "swapped header with BOM, spaces and quotes", in: "\uFEFF \"Quote_ID\" ,  OFFER_ID \r\n1,a\r\n", want: []Offer{{"a", "1"}}},
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
		want: []Offer{{strings.ToUpper(uuidA), strings.ToUpper(uuidB)}}},
	{name: "dot offer id", in: "a,1\n.,2\n", wantErr: `f.csv:2: offer_id: "." is not a path segment`},
	{name: "dot-dot quote id", in: "a,..\n", wantErr: `f.csv:1: quote_id: ".." is not a path segment`},
	{name: "three dots are an id", in: "...,1\n", want: []Offer{{"...", "1"}}},
}

func TestOfferCSVRules(t *testing.T) {
	for _, tt := range offerRuleCases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadOffers(strings.NewReader(tt.in), "f.csv")
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
