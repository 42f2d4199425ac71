package sandbox

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
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
	tokenRawLen     = tokenPayloadLen + 16
	tokenLen        = tokenRawLen / 3 * 4
)

// mac returns the first 16 bytes of HMAC-SHA256 over a token payload.
func (s *Server) mac(payload []byte) []byte {
	h := hmac.New(sha256.New, s.tokenKey[:])
	h.Write(payload)
	return h.Sum(nil)[:tokenRawLen-tokenPayloadLen]
}

func (s *Server) mintToken(scope byte, expiry time.Time) string {
	raw := make([]byte, tokenPayloadLen, tokenRawLen)
	raw[0], raw[1] = tokenVersion, scope
	binary.BigEndian.PutUint64(raw[4:12], uint64(expiry.UnixMilli()))
	_, _ = rand.Read(raw[12:20]) // never fails
	return base64.RawURLEncoding.EncodeToString(append(raw, s.mac(raw)...))
}

// verifyToken returns the scope code of a valid, unexpired token, or ok=false.
func (s *Server) verifyToken(tok string, now time.Time) (scope byte, ok bool) {
	if len(tok) != tokenLen {
		return 0, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(raw) != tokenRawLen || raw[0] != tokenVersion ||
		!hmac.Equal(s.mac(raw[:tokenPayloadLen]), raw[tokenPayloadLen:]) ||
		now.UnixMilli() >= int64(binary.BigEndian.Uint64(raw[4:12])) {
		return 0, false
	}
	return raw[1], true
}

// bearer extracts the token of an "Authorization: Bearer <token>" header ("" without one).
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	const p = "bearer "
	if len(h) <= len(p) || !strings.EqualFold(h[:len(p)], p) {
		return ""
	}
	return strings.TrimSpace(h[len(p):])
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
	body, err := readBody(r.Body, maxTokenBody)
	received(w, s.cfg.now())
	if !s.sleep(r.Context(), s.cfg.tokenLatency) {
		s.writeAborted(w)
		return
	}
	if s.cfg.tokenFailRate > 0 {
		rnd := newRNG(s.seed, s.tokenReqSeq.Add(1), saltTokenFault)
		if rnd.float() < s.cfg.tokenFailRate {
			s.stats.errors5xx.Add(1)
			writeJSON(w, http.StatusInternalServerError, bodyServerError)
			return
		}
	}
	tr, ok := parseTokenRequest(r, body)
	switch {
	case err != nil || !ok:
		writeJSON(w, http.StatusBadRequest, bodyInvalidRequest)
		return
	case tr.GrantType != "client_credentials":
		writeJSON(w, http.StatusBadRequest, bodyUnsupportedGrant)
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
		writeJSON(w, http.StatusUnauthorized, bodyInvalidClient)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	s.stats.tokensIssued.Add(1)
	writeBody(w, "application/json", http.StatusOK, marshal(struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
		Scope       string `json:"scope"`
	}{s.mintToken(scope, s.cfg.now().Add(s.cfg.tokenTTL)), "Bearer", s.expiresIn, scopeName}))
}

func secretMatch(id, secret, wantID, wantSecret string) bool {
	return subtle.ConstantTimeCompare([]byte(id), []byte(wantID)) == 1 &&
		subtle.ConstantTimeCompare([]byte(secret), []byte(wantSecret)) == 1
}
