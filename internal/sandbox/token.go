package sandbox

import (
	"cmp"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
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

// grant is what a token stands for.
type grant struct {
	scope  string // ScopeUpdate, ScopeView or "" (no scope)
	expiry time.Time
}

// mintToken returns a new random token for scope, valid until expiry.
func (s *Server) mintToken(scope string, expiry time.Time) string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[tok] = grant{scope, expiry}
	return tok
}

// allowed reports whether tok is a token this sandbox issued, unexpired at now, with ScopeUpdate.
func (s *Server) allowed(tok string, now time.Time) bool {
	s.mu.Lock()
	g, ok := s.tokens[tok]
	s.mu.Unlock()
	return ok && g.scope == ScopeUpdate && now.Before(g.expiry)
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

// MintToken returns an access token for clientID as the token endpoint would issue it, valid for
// ttl (0: the TokenTTL default; negative: already expired). An id other than ClientID and
// ReadOnlyClientID gets no scope. It does not count in Stats.TokensIssued. Never log the result.
func (s *Server) MintToken(clientID string, ttl time.Duration) string {
	ttl = cmp.Or(ttl, s.cfg.tokenTTL)
	scope := map[string]string{ClientID: ScopeUpdate, ReadOnlyClientID: ScopeView}[clientID]
	return s.mintToken(scope, s.cfg.now().Add(ttl))
}

// tokenRequest is the body of a token request in any of the accepted encodings.
type tokenRequest struct {
	GrantType    string `json:"grant_type"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

const maxTokenBody = 64 << 10

// parseTokenRequest reads grant_type, client_id and client_secret from a JSON or form-encoded body
// and from HTTP Basic credentials (which win over body fields).
func parseTokenRequest(r *http.Request, body []byte) (tokenRequest, bool) {
	var tr tokenRequest
	ok := true
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case ct == "application/json" || (ct == "" && len(body) > 0 && body[0] == '{'):
		ok = len(body) == 0 || json.Unmarshal(body, &tr) == nil
	case ct == "application/x-www-form-urlencoded":
		v, err := url.ParseQuery(string(body))
		ok = err == nil
		tr = tokenRequest{v.Get("grant_type"), v.Get("client_id"), v.Get("client_secret")}
	}
	if id, secret, has := r.BasicAuth(); has {
		tr.ClientID, tr.ClientSecret = id, secret
		for _, p := range []*string{&tr.ClientID, &tr.ClientSecret} {
			if u, err := url.QueryUnescape(*p); err == nil {
				*p = u // RFC 6749 §2.3.1: form-encoded before Basic encoding
			}
		}
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
	tr, ok := parseTokenRequest(r, body)
	switch {
	case err != nil || !ok:
		writeJSON(w, http.StatusBadRequest, bodyInvalidRequest)
		return
	case tr.GrantType != "client_credentials":
		writeJSON(w, http.StatusBadRequest, bodyUnsupportedGrant)
		return
	}
	var scope string
	for _, c := range [...][3]string{{ClientID, ClientSecret, ScopeUpdate}, {ReadOnlyClientID, ReadOnlyClientSecret, ScopeView}} {
		idOK := subtle.ConstantTimeCompare([]byte(tr.ClientID), []byte(c[0]))
		if idOK&subtle.ConstantTimeCompare([]byte(tr.ClientSecret), []byte(c[1])) == 1 { // constant time
			scope = c[2]
		}
	}
	if scope == "" {
		writeJSON(w, http.StatusUnauthorized, bodyInvalidClient)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	s.add(&s.stats.TokensIssued)
	writeBody(w, "application/json", http.StatusOK, marshal(struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
		Scope       string `json:"scope"`
	}{s.mintToken(scope, s.cfg.now().Add(s.cfg.tokenTTL)), "Bearer", int64((s.cfg.tokenTTL + time.Second - 1) / time.Second), scope}))
}
