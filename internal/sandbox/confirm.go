package sandbox

import (
	"bytes"
	"errors"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxConfirmBody is the largest confirm request body read (larger ones get 413).
const maxConfirmBody = 1 << 20

// maxField is the longest accepted request string (Laravel's max:255).
const maxField = 255

// serveConfirm implements POST /api/partners/{partner_id}/offers/{offer_id}/confirm.
//
// Order of processing: latency and stall; connection reset; undocumented-500 drift;
// authentication (401); throttling (429); injected 5xx; offer id (404); body validation
// (422); duplicate (422); booking (200).
func (s *Server) serveConfirm(w http.ResponseWriter, r *http.Request, offerID string) {
	if r.Method != http.MethodPost {
		s.writeMethodNotAllowed(w, r)
		return
	}
	s.stats.confirms.Add(1)
	n := s.confirmSeq.Add(1)
	fr := newRNG(s.seed, n, saltFault)
	u := fr.float()
	if !s.sleep(r.Context(), s.delay(&fr)) {
		s.writeAborted(w)
		return
	}
	if u < s.cfg.resetRate {
		s.reset(w)
		return
	}
	now := s.cfg.now()
	s.edgeHeaders(w.Header(), n, now)
	d := s.cfg.drift
	if d.has(driftUndocumented500) {
		s.stats.errors5xx.Add(1)
		writeJSON(w, s.jsonCT, http.StatusInternalServerError, bodyServerError)
		return
	}
	if !d.has(driftAcceptWithoutToken) {
		if tok, ok := bearer(r); !ok || !s.allowed(tok, now) {
			s.writeUnauthorized(w)
			return
		}
	}
	if u < s.cfg.resetRate+s.cfg.throttleRate {
		s.stats.throttled.Add(1)
		w.Header()["Retry-After"] = s.retryAfter
		writeBody(w, s.jsonCT, http.StatusTooManyRequests, s.throttled)
		return
	}
	if u < s.cfg.resetRate+s.cfg.throttleRate+s.cfg.errorRate {
		s.stats.errors5xx.Add(1)
		switch fr.intn(3) {
		case 0:
			writeJSON(w, s.jsonCT, http.StatusInternalServerError, bodyServerError)
		case 1:
			writeJSON(w, s.jsonCT, http.StatusBadGateway, bodyBadGateway)
		default:
			writeJSON(w, s.jsonCT, http.StatusServiceUnavailable, bodyUnavailable)
		}
		return
	}
	offer, ok := parseUUID(offerID)
	if !ok {
		writeJSON(w, s.jsonCT, http.StatusNotFound, bodyOfferNotFound)
		return
	}

	bp, sp := s.getBuf(), s.getBuf()
	defer s.putBuf(bp)
	defer s.putBuf(sp)
	body, err := readBody(r.Body, (*bp)[:0], maxConfirmBody)
	*bp = body
	if err != nil {
		if errors.Is(err, errBodyTooLarge) {
			w.Header().Set("Connection", "close") // the rest of the body is not read
			writeJSON(w, s.jsonCT, http.StatusRequestEntityTooLarge, bodyTooLarge)
			return
		}
		writeJSON(w, s.jsonCT, http.StatusBadRequest, `{"message":"The request body could not be read."}`)
		return
	}
	parsed := s.requestBody(body)
	req, verrs := parseConfirm(r.Header.Get("Content-Type"), parsed, (*sp)[:0])
	verrs = s.optionalErrors(r.Header.Get("Content-Type"), parsed, verrs)
	if len(verrs) > 0 {
		status := http.StatusUnprocessableEntity
		if d.has(drift422As400) {
			status = http.StatusBadRequest
		}
		writeBody(w, s.jsonCT, status, appendValidationErrors((*bp)[len(body):len(body)], verrs))
		return
	}
	if s.serverErrorDrift(parsed) {
		s.stats.errors5xx.Add(1)
		writeJSON(w, s.jsonCT, http.StatusInternalServerError, bodyServerError)
		return
	}
	if s.markConfirmed(offer) {
		s.stats.duplicates.Add(1)
		if !d.has(driftDuplicateBooking) {
			out := append((*bp)[len(body):len(body)], `{"message":"Booking already exists for offer `...)
			out = append(out, offerID...) // a validated UUID: nothing to escape
			out = append(out, `."}`...)
			writeBody(w, s.jsonCT, http.StatusUnprocessableEntity, out)
			return
		}
	}
	s.stats.confirmed.Add(1)

	// The booking is rendered after the request body in the same buffer, leaving the
	// body intact.
	out := s.appendBooking((*bp)[len(body):len(body)], n, offerID, &req, now)
	switch {
	case d.has(driftEmpty200):
		writeBody(w, s.jsonCT, http.StatusOK, nil)
	case d.has(driftNull200):
		writeJSON(w, s.jsonCT, http.StatusOK, "null")
	case d.has(driftMissingContentType):
		writeBody(w, nil, http.StatusOK, out)
	default:
		writeBody(w, s.jsonCT, http.StatusOK, out)
	}
	if cap(out) > cap(*bp)-len(body) { // the booking outgrew the buffer: keep the bigger one
		*bp = out[:0]
	}
}

// delay returns the latency to add to this confirm: stall remainder + fixed + sample.
func (s *Server) delay(fr *rng) time.Duration {
	d := s.cfg.latency
	if s.cfg.distMedian > 0 {
		x := float64(s.cfg.distMedian) * math.Exp(s.cfg.distSigma*fr.norm())
		if c := float64(s.cfg.distMedian) * math.Exp(s.cfg.distSigma*z99) * 10; x > c {
			x = c
		}
		d += time.Duration(x)
	}
	if s.cfg.stallTo > 0 {
		el := s.cfg.now().Sub(s.start)
		if el >= s.cfg.stallFrom && el < s.cfg.stallTo {
			d += s.cfg.stallTo - el
		}
	}
	return d
}

// allowed reports whether tok is a valid, unexpired token with scope offers:update.
func (s *Server) allowed(tok string, now time.Time) bool {
	scope, ok := s.verifyToken(tok, now)
	return ok && scope == scopeUpdate
}

func (s *Server) writeUnauthorized(w http.ResponseWriter) {
	s.stats.unauthorized.Add(1)
	d := s.cfg.drift
	status := http.StatusUnauthorized
	if d.has(drift401As403) {
		status = http.StatusForbidden
	}
	switch {
	case d.has(driftHTML401):
		writeJSON(w, s.htmlCT, status, bodyHTML401)
	case d.has(driftMessageAsNumber):
		writeJSON(w, s.jsonCT, status, bodyMessageAsNumber)
	default:
		writeJSON(w, s.jsonCT, status, bodyUnauthenticated)
	}
}

// reset aborts the connection with a TCP RST.
func (s *Server) reset(w http.ResponseWriter) {
	s.stats.resets.Add(1)
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // cannot hijack (HTTP/2, recorder): abort the response
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // close sends RST instead of FIN
	}
	_ = conn.Close()
}

// edgeHeaders sets the Cloudflare-like headers XONE sends on confirm responses.
func (s *Server) edgeHeaders(h http.Header, n uint64, now time.Time) {
	hr := newRNG(s.seed, n, saltHeaders)
	var b [256]byte
	buf := appendHTTPDate(b[:0], now)
	iDate := len(buf)
	buf = appendHex(buf, &hr, 16)
	buf = append(buf, "-SYD"...)
	iRay := len(buf)
	buf = appendHex(buf, &hr, 32)
	iTeam := len(buf)
	rtt := 8000 + hr.intn(20000)
	buf = append(buf, `cfL4;desc="?proto=TCP&rtt=`...)
	buf = strconv.AppendInt(buf, int64(rtt), 10)
	buf = append(buf, "&min_rtt="...)
	buf = strconv.AppendInt(buf, int64(rtt-hr.intn(2000)), 10)
	buf = append(buf, "&rtt_var="...)
	buf = strconv.AppendInt(buf, int64(hr.intn(5000)), 10)
	buf = append(buf, `&sent=5&recv=6&lost=0&retrans=0&sent_bytes=3105&recv_bytes=1202&cwnd=252&unsent_bytes=0&x=0"`...)
	all := string(buf) // one allocation for the four dynamic values
	v := new([4]string)
	v[0], v[1], v[2], v[3] = all[:iDate], all[iDate:iRay], all[iRay:iTeam], all[iTeam:]
	h["Date"] = v[0:1:1]
	h["Cache-Control"] = s.hdrCacheControl
	h["Vary"] = s.hdrVary
	h["X-Content-Type-Options"] = s.hdrNosniff
	h["X-Xss-Protection"] = s.hdrXSS
	h["Strict-Transport-Security"] = s.hdrHSTS
	h["Cf-Cache-Status"] = s.hdrCFCache
	h["Server"] = s.hdrServer
	h["Cf-Ray"] = v[1:2:2]
	h["Server-Timing"] = v[3:4:4]
	h["Cf-Team"] = v[2:3:3]
}

// isJSONContentType reports whether a Content-Type header names application/json
// (parameters such as charset are allowed).
func isJSONContentType(ct string) bool {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.EqualFold(strings.TrimSpace(ct), "application/json")
}

// parseConfirm parses and validates a confirm body. Like Laravel, a body that is not
// application/json or not valid JSON counts as empty input, so it fails with "field is
// required" errors (422), not 400.
// scratch receives unescaped strings.
func parseConfirm(contentType string, body, scratch []byte) (confirmRequest, []fieldError) {
	if !isJSONContentType(contentType) {
		body = nil
	}
	return parseConfirmJSON(body, scratch)
}

// validEmail accepts a conservative subset of what JSON Schema's "email" format accepts
// (unquoted local part, dotted host name), so that every echoed address passes the
// response validator's format check.
func validEmail(s []byte) bool {
	at := bytes.LastIndexByte(s, '@')
	if at < 1 || len(s) > 254 {
		return false
	}
	local, domain := s[:at], s[at+1:]
	if len(local) > 64 || local[0] == '.' || local[len(local)-1] == '.' || bytes.Contains(local, []byte("..")) {
		return false
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		if !isAlnum(c) && strings.IndexByte(".!#$%&'*+-/=?^_`{|}~", c) < 0 {
			return false
		}
	}
	if len(domain) > 253 || bytes.IndexByte(domain, '.') < 0 {
		return false
	}
	for label := range bytes.SplitSeq(domain, []byte(".")) {
		if len(label) < 1 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !isAlnum(c) && c != '-' {
				return false
			}
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// appendValidationErrors renders a Laravel-style 422 body, grouping messages by field in
// first-seen order.
func appendValidationErrors(b []byte, errs []fieldError) []byte {
	b = append(b, `{"type":"validation_error","message":"The given data was invalid.","errors":{`...)
	for i, e := range errs {
		seen := false
		for _, p := range errs[:i] {
			if p.field == e.field {
				seen = true
				break
			}
		}
		if seen {
			continue
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, e.field)
		b = append(b, ':', '[')
		first := true
		for _, m := range errs[i:] {
			if m.field != e.field {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendJSONString(b, m.msg)
		}
		b = append(b, ']')
	}
	return append(b, '}', '}')
}
