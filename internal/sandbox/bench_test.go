package sandbox

import (
	"bytes"
	"encoding/binary"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
)

// benchPath returns the confirm path for a distinct offer id per i.
func benchPath(i uint64) string {
	var u [16]byte
	binary.BigEndian.PutUint64(u[8:], i)
	u[6], u[8] = 0x40, 0x80|u[8]&0x3f
	return "/api/partners/" + PartnerID + "/offers/" + uuid.UUID(u).String() + "/confirm"
}

// BenchmarkConfirm measures one successful confirm through the full handler (routing,
// token check, body parsing, booking rendering) with httptest.NewRecorder, no latency.
// The request and recorder construction are included in the cost.
func BenchmarkConfirm(b *testing.B) {
	s, err := New(Seed(1))
	if err != nil {
		b.Fatal(err)
	}
	tok := s.MintToken(ClientID, 0)
	body := validBody(b)
	b.ReportAllocs()
	for i := uint64(0); b.Loop(); i++ {
		r := httptest.NewRequest(http.MethodPost, benchPath(i), bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			b.Fatalf("got %d, want 200: %s", rec.Code, rec.Body)
		}
	}
}

// discardWriter is a reusable ResponseWriter that discards the body.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// BenchmarkConfirmParallel measures handler throughput on all CPUs (GOMAXPROCS
// goroutines), with a minimal ResponseWriter so that only the handler's cost counts.
func BenchmarkConfirmParallel(b *testing.B) {
	s, err := New(Seed(1))
	if err != nil {
		b.Fatal(err)
	}
	tok := s.MintToken(ClientID, 0)
	body := validBody(b)
	var n atomic.Uint64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		rd := bytes.NewReader(body)
		w := &discardWriter{h: http.Header{}}
		hdr := http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + tok}}
		for pb.Next() {
			r, err := http.NewRequest(http.MethodPost, "http://sandbox"+benchPath(n.Add(1)), nil)
			if err != nil {
				b.Error(err)
				return
			}
			rd.Reset(body)
			r.Body = readCloser{rd}
			r.Header = hdr
			clear(w.h)
			s.Handler().ServeHTTP(w, r)
			if w.code != http.StatusOK {
				b.Errorf("got %d, want 200", w.code)
				return
			}
		}
	})
}

// BenchmarkVerifyToken measures token verification alone.
func BenchmarkVerifyToken(b *testing.B) {
	s, err := New()
	if err != nil {
		b.Fatal(err)
	}
	tok := s.MintToken(ClientID, 0)
	now := s.cfg.now()
	b.ReportAllocs()
	for b.Loop() {
		if !s.allowed(tok, now) {
			b.Fatal("token rejected")
		}
	}
}
