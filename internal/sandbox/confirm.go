package sandbox

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// maxConfirmBody is the largest confirm request body read (larger ones get 413).
const maxConfirmBody = 1 << 20

// maxField is the longest accepted request string (Laravel's max:255).
const maxField = 255

// raceWindow is how long racy-double-book leaves the lock free between lookup and booking.
const raceWindow = 2 * time.Millisecond

// serveConfirm implements POST /api/partners/{partner_id}/offers/{offer_id}/confirm, in the order
// of processing the package documentation gives.
func (s *Server) serveConfirm(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		s.writeMethodNotAllowed(w, r)
		return
	}
	body, readErr := readBody(r.Body, maxConfirmBody)
	received(w, s.cfg.now())
	s.add(&s.stats.Confirms)
	n := s.confirmSeq.Add(1)
	fr := newRNG(s.cfg.seed, n, saltFault)
	u := fr.float()
	if !s.sleep(r.Context(), s.delay(&fr)) {
		writeJSON(w, http.StatusServiceUnavailable, bodyUnavailable) // the client has usually gone
		return
	}
	if u < s.cfg.resetRate {
		s.reset(w)
		return
	}
	now := s.cfg.now()
	s.edgeHeaders(w.Header(), n, now)
	if s.refuse(w, r, u, &fr, now) {
		return
	}
	offerID := r.PathValue("offer_id")
	offer, ok := parseOfferID(offerID)
	switch {
	case !ok:
		writeJSON(w, http.StatusNotFound, `{"message":"Offer not found."}`)
		return
	case errors.Is(readErr, errBodyTooLarge):
		w.Header().Set("Connection", "close") // the rest of the body is not read
		writeJSON(w, http.StatusRequestEntityTooLarge, `{"message":"The request body is too large."}`)
		return
	case readErr != nil:
		writeJSON(w, http.StatusBadRequest, `{"message":"The request body could not be read."}`)
		return
	}
	top := decodeBody(r.Header.Get("Content-Type"), body)
	if s.cfg.drift.has(driftWrongTypesBooked) {
		coerceWrongTypes(top)
	}
	req, verrs := parseConfirm(top)
	if verrs = s.optionalErrors(top, verrs); len(verrs) > 0 {
		status := http.StatusUnprocessableEntity
		if s.cfg.drift.has(drift422As400) {
			status = http.StatusBadRequest
		}
		writeBody(w, "application/json", status, validationBody(verrs))
		return
	}
	if s.serverErrorDrift(top) {
		s.add(&s.stats.Errors5xx)
		writeJSON(w, http.StatusInternalServerError, bodyServerError)
		return
	}
	if s.claim(offer) && !s.cfg.drift.has(driftDuplicateBooking) {
		writeJSON(w, http.StatusUnprocessableEntity, messageBody("Booking already exists for offer "+offerID+"."))
		return
	}
	s.add(&s.stats.Confirmed)
	s.writeBooking(w, s.booking(n, offerID, &req, now), now)
}

// refuse answers a confirm refused before its offer is looked at (undocumented-500 drift, token
// 401, throttling 429, injected 5xx) and reports whether it did.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, u float64, fr *rng, now time.Time) bool {
	d := s.cfg.drift
	switch {
	case d.has(driftUndocumented500):
		s.add(&s.stats.Errors5xx)
		writeJSON(w, http.StatusInternalServerError, bodyServerError)
	case !d.has(driftAcceptWithoutToken) && !s.allowed(bearer(r), now):
		s.writeUnauthorized(w)
	case u < s.cfg.resetRate+s.cfg.throttleRate:
		s.add(&s.stats.Throttled)
		secs := max(int64((s.cfg.retryAfter+time.Second-1)/time.Second), 1)
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		msg := fmt.Sprintf("Request was throttled. Expected available in %d seconds.", secs)
		if secs == 1 {
			msg = "Request was throttled. Expected available in 1 second."
		}
		writeJSON(w, http.StatusTooManyRequests, messageBody(msg))
	case u < s.cfg.resetRate+s.cfg.throttleRate+s.cfg.errorRate:
		s.add(&s.stats.Errors5xx)
		i := fr.intn(3)
		writeJSON(w, [...]int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable}[i],
			[...]string{bodyServerError, bodyBadGateway, bodyUnavailable}[i])
	default:
		return false
	}
	return true
}

// claim books offer and reports whether it was already booked. Lookup and insert happen under one
// lock, so simultaneous confirms of one offer book it once; racy-double-book releases the lock for
// raceWindow between them.
func (s *Server) claim(offer uuid.UUID) (dup bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, dup = s.booked[offer]
	if !dup && s.cfg.drift.has(driftRacyDoubleBook) {
		s.mu.Unlock()
		time.Sleep(raceWindow) // check, then act: a simultaneous confirm books meanwhile
		s.mu.Lock()
		if _, twice := s.booked[offer]; twice {
			s.stats.DoubleBookings++
		}
	}
	s.booked[offer] = struct{}{}
	if dup {
		s.stats.DuplicateConfirms++
		if s.cfg.drift.has(driftDuplicateBooking) {
			s.stats.DoubleBookings++
		}
	}
	return dup
}

// writeBooking answers 200 with b, as the enabled drift modes render it.
func (s *Server) writeBooking(w http.ResponseWriter, b *booking, now time.Time) {
	ct, body := "application/json", s.renderBooking(b, now)
	switch d := s.cfg.drift; {
	case d.has(driftEmpty200):
		body = nil
	case d.has(driftNull200):
		body = []byte("null")
	case d.has(driftMissingContentType):
		ct = ""
	}
	writeBody(w, ct, http.StatusOK, body)
}

// delay returns the latency to add to this confirm: stall remainder + fixed + sample.
func (s *Server) delay(fr *rng) time.Duration {
	d := s.cfg.latency
	if s.cfg.distMedian > 0 {
		x := float64(s.cfg.distMedian) * math.Exp(s.cfg.distSigma*fr.norm())
		d += time.Duration(min(x, float64(s.cfg.distMedian)*math.Exp(s.cfg.distSigma*z99)*10))
	}
	if s.cfg.stallTo > 0 {
		el := s.cfg.now().Sub(s.start)
		if el >= s.cfg.stallFrom && el < s.cfg.stallTo {
			d += s.cfg.stallTo - el
		}
	}
	return d
}

func (s *Server) writeUnauthorized(w http.ResponseWriter) {
	s.add(&s.stats.Unauthorized)
	d := s.cfg.drift
	status := http.StatusUnauthorized
	if d.has(drift401As403) {
		status = http.StatusForbidden
	}
	ct, body := "application/json", bodyUnauthenticated
	switch {
	case d.has(driftHTML401):
		ct, body = "text/html; charset=UTF-8", bodyHTML401
	case d.has(driftMessageAsNumber):
		body = `{"message":401}`
	}
	if !s.cfg.everyMember {
		writeBody(w, ct, status, []byte(body))
		return
	}
	// Streamed, as Cloudflare sends it: every header the document lists is present.
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Transfer-Encoding", "chunked")
	h.Set("Connection", "keep-alive")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body) // a write error means the client has gone
}

// reset aborts the connection with a TCP RST.
func (s *Server) reset(w http.ResponseWriter) {
	s.add(&s.stats.Resets)
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // cannot hijack (HTTP/2, recorder): abort the response
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // close sends RST instead of FIN
	}
	_ = conn.Close()
}

// edgeHeaders sets the Cloudflare-like headers XONE sends on confirm answers (the correlation
// headers CF-RAY and Server-Timing are on every answer: see stamped).
func (s *Server) edgeHeaders(h http.Header, n uint64, now time.Time) {
	hr := newRNG(s.cfg.seed, n, saltHeaders)
	h.Set("Date", now.UTC().Format(http.TimeFormat))
	h.Set("Cache-Control", "no-cache, private")
	h.Set("Vary", "Origin")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-XSS-Protection", "1; mode=block")
	h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
	h.Set("CF-Cache-Status", "DYNAMIC")
	h.Set("Server", "cloudflare")
	h.Set("Cf-Team", fmt.Sprintf("%016x%016x", hr.next(), hr.next())) // 32 hex digits
}
