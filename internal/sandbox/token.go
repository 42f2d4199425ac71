package sandbox

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Scopes granted by the sandbox's token endpoint.
const (
	ScopeUpdate = "offers:update" // granted to ClientID; required by confirm
	ScopeView   = "offers:view"   // granted to ReadOnlyClientID; confirm answers 401
)

// scope codes carried inside a token.
const (
	scopeNone   byte = 0
	scopeUpdate byte = 1
	scopeView   byte = 2
)

// Token layout (36 bytes, 48 characters of unpadded base64url):
//
//	version(1) scope(1) reserved(2) expiry-unix-ms(8) nonce(8) | HMAC-SHA256(key, first 20)[:16]
const (
	tokenVersion    = 1
	tokenPayloadLen = 20
	tokenMACLen     = 16
	tokenRawLen     = tokenPayloadLen + tokenMACLen
	tokenLen        = tokenRawLen / 3 * 4
)

// mac computes HMAC-SHA256 over a token payload without allocating.
func (s *Server) mac(payload []byte) [sha256.Size]byte {
	var inner [64 + tokenPayloadLen]byte
	copy(inner[:64], s.ipad[:])
	copy(inner[64:], payload)
	ih := sha256.Sum256(inner[:])
	var outer [64 + sha256.Size]byte
	copy(outer[:64], s.opad[:])
	copy(outer[64:], ih[:])
	return sha256.Sum256(outer[:])
}

func (s *Server) mintToken(scope byte, expiry time.Time) string {
	var raw [tokenRawLen]byte
	raw[0] = tokenVersion
	raw[1] = scope
	binary.BigEndian.PutUint64(raw[4:12], uint64(expiry.UnixMilli()))
	r := newRNG(s.keySeed, s.tokenSeq.Add(1), saltToken)
	binary.BigEndian.PutUint64(raw[12:20], r.next())
	m := s.mac(raw[:tokenPayloadLen])
	copy(raw[tokenPayloadLen:], m[:tokenMACLen])
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

// verifyToken returns the scope code of a valid, unexpired token, or ok=false.
func (s *Server) verifyToken(tok string, now time.Time) (scope byte, ok bool) {
	if len(tok) != tokenLen {
		return 0, false
	}
	var raw [tokenRawLen]byte
	if !decodeToken(&raw, tok) || raw[0] != tokenVersion {
		return 0, false
	}
	m := s.mac(raw[:tokenPayloadLen])
	if subtle.ConstantTimeCompare(m[:tokenMACLen], raw[tokenPayloadLen:]) != 1 {
		return 0, false
	}
	if now.UnixMilli() >= int64(binary.BigEndian.Uint64(raw[4:12])) {
		return 0, false
	}
	return raw[1], true
}

// decodeToken decodes tokenLen characters of unpadded base64url into raw without
// allocating (base64.Encoding.Decode would need a []byte copy of the string).
func decodeToken(raw *[tokenRawLen]byte, tok string) bool {
	for i, j := 0, 0; i < tokenLen; i, j = i+4, j+3 {
		var v uint32
		for k := 0; k < 4; k++ {
			d, ok := b64val(tok[i+k])
			if !ok {
				return false
			}
			v = v<<6 | uint32(d)
		}
		raw[j], raw[j+1], raw[j+2] = byte(v>>16), byte(v>>8), byte(v)
	}
	return true
}

func b64val(c byte) (byte, bool) {
	switch {
	case 'A' <= c && c <= 'Z':
		return c - 'A', true
	case 'a' <= c && c <= 'z':
		return c - 'a' + 26, true
	case '0' <= c && c <= '9':
		return c - '0' + 52, true
	case c == '-':
		return 62, true
	case c == '_':
		return 63, true
	}
	return 0, false
}

// bearer extracts the token of an "Authorization: Bearer <token>" header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	const p = "bearer "
	if len(h) <= len(p) || !strings.EqualFold(h[:len(p)], p) {
		return "", false
	}
	return strings.TrimSpace(h[len(p):]), true
}

// MintToken returns an access token for clientID as the token endpoint would issue it,
// valid for ttl (0 means the TokenTTL default; a negative ttl yields a token that is
// already expired, for expired-token test cases). ClientID gets scope offers:update,
// ReadOnlyClientID offers:view, any other id a correctly signed token with no scope
// (confirm answers 401). MintToken does not count in Stats.TokensIssued. Safe for
// concurrent use. Never log the result.
func (s *Server) MintToken(clientID string, ttl time.Duration) string {
	if ttl == 0 {
		ttl = s.cfg.tokenTTL
	}
	scope := scopeNone
	switch clientID {
	case ClientID:
		scope = scopeUpdate
	case ReadOnlyClientID:
		scope = scopeView
	}
	return s.mintToken(scope, s.cfg.now().Add(ttl))
}

// tokenRequest is the body of a token request in any of the accepted encodings.
type tokenRequest struct {
	GrantType    string `json:"grant_type"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

const maxTokenBody = 64 << 10

// parseTokenRequest reads grant_type, client_id and client_secret from a JSON or
// form-encoded body and from HTTP Basic credentials (which win over body fields).
func parseTokenRequest(r *http.Request, body []byte) (tokenRequest, bool) {
	var tr tokenRequest
	ok := true
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case ct == "application/json" || (ct == "" && len(body) > 0 && body[0] == '{'):
		if len(body) > 0 && json.Unmarshal(body, &tr) != nil {
			ok = false
		}
	case ct == "application/x-www-form-urlencoded":
		v, err := url.ParseQuery(string(body))
		if err != nil {
			ok = false
		}
		tr.GrantType, tr.ClientID, tr.ClientSecret = v.Get("grant_type"), v.Get("client_id"), v.Get("client_secret")
	}
	if id, secret, has := r.BasicAuth(); has {
		// RFC 6749 §2.3.1: credentials are form-encoded before Basic encoding.
		if u, err := url.QueryUnescape(id); err == nil {
			id = u
		}
		if u, err := url.QueryUnescape(secret); err == nil {
			secret = u
		}
		tr.ClientID, tr.ClientSecret = id, secret
	}
	return tr, ok
}

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		s.writeMethodNotAllowed(w, r)
		return
	}
	if !s.sleep(r.Context(), s.cfg.tokenLatency) {
		s.writeAborted(w)
		return
	}
	if s.cfg.tokenFailRate > 0 {
		rnd := newRNG(s.seed, s.tokenReqSeq.Add(1), saltTokenFault)
		if rnd.float() < s.cfg.tokenFailRate {
			s.stats.errors5xx.Add(1)
			writeJSON(w, s.jsonCT, http.StatusInternalServerError, bodyServerError)
			return
		}
	}
	bp := s.getBuf()
	defer s.putBuf(bp)
	body, err := readBody(r.Body, (*bp)[:0], maxTokenBody)
	*bp = body
	if err != nil {
		writeJSON(w, s.jsonCT, http.StatusBadRequest, bodyInvalidRequest)
		return
	}
	tr, ok := parseTokenRequest(r, body)
	switch {
	case !ok:
		writeJSON(w, s.jsonCT, http.StatusBadRequest, bodyInvalidRequest)
		return
	case tr.GrantType != "client_credentials":
		writeJSON(w, s.jsonCT, http.StatusBadRequest, bodyUnsupportedGrant)
		return
	}
	var scope byte
	var scopeName string
	switch {
	case secretMatch(tr.ClientID, tr.ClientSecret, ClientID, ClientSecret):
		scope, scopeName = scopeUpdate, ScopeUpdate
	case secretMatch(tr.ClientID, tr.ClientSecret, ReadOnlyClientID, ReadOnlyClientSecret):
		scope, scopeName = scopeView, ScopeView
	default:
		writeJSON(w, s.jsonCT, http.StatusUnauthorized, bodyInvalidClient)
		return
	}
	tok := s.mintToken(scope, s.cfg.now().Add(s.cfg.tokenTTL))
	out := append((*bp)[:0], `{"access_token":"`...)
	out = append(out, tok...) // base64url: no escaping needed
	out = append(out, `","token_type":"Bearer","expires_in":`...)
	out = strconv.AppendInt(out, s.expiresIn, 10)
	out = append(out, `,"scope":"`...)
	out = append(out, scopeName...) // a constant without characters to escape
	out = append(out, '"', '}')
	*bp = out
	h := w.Header()
	h["Cache-Control"] = s.hdrNoStore
	h["Pragma"] = s.hdrNoCache
	s.stats.tokensIssued.Add(1)
	writeBody(w, s.jsonCT, http.StatusOK, out)
}

func secretMatch(id, secret, wantID, wantSecret string) bool {
	return subtle.ConstantTimeCompare([]byte(id), []byte(wantID)) == 1 &&
		subtle.ConstantTimeCompare([]byte(secret), []byte(wantSecret)) == 1
}
