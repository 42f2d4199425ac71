package auth

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// Style says how a [Source] sends the client credentials to the token
// endpoint.
type Style string

const (
	// StyleJSON posts a JSON body
	// {"grant_type":"client_credentials","client_id":…,"client_secret":…}
	// (plus "scope" when scopes are configured). It is what XONE's token
	// endpoint takes, and the default.
	StyleJSON Style = "json"
	// StyleForm posts an application/x-www-form-urlencoded body with
	// grant_type, client_id, client_secret and scope, as
	// golang.org/x/oauth2's AuthStyleInParams does.
	StyleForm Style = "form"
	// StyleBasic posts a form body with grant_type and scope and sends the
	// credentials, each form-encoded, as HTTP Basic authentication, as
	// golang.org/x/oauth2's AuthStyleInHeader does.
	StyleBasic Style = "basic"
)

// ParseStyle turns a user-supplied style name ("json", "form" or "basic",
// case-insensitive, surrounding spaces ignored) into a Style. The empty string
// gives StyleJSON, the default.
func ParseStyle(s string) (Style, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", string(StyleJSON):
		return StyleJSON, nil
	case string(StyleForm):
		return StyleForm, nil
	case string(StyleBasic):
		return StyleBasic, nil
	}
	return "", fmt.Errorf("auth: parse style: unknown token style %q (want json, form or basic)", s)
}

// jsonRequest is the body StyleJSON posts.
type jsonRequest struct {
	GrantType    string `json:"grant_type"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	Scope        string `json:"scope,omitempty"`
}

// requestBody returns the body and content type of a token request in
// cfg.Style (the Basic credentials go in a header, see Source.request).
func requestBody(cfg Config) ([]byte, string) {
	scope := strings.Join(cfg.Scopes, " ")
	if cfg.Style == StyleJSON {
		// A struct of strings always marshals.
		b, _ := json.Marshal(jsonRequest{"client_credentials", cfg.ClientID, cfg.ClientSecret, scope})
		return b, "application/json"
	}
	v := url.Values{"grant_type": {"client_credentials"}}
	if scope != "" {
		v.Set("scope", scope)
	}
	if cfg.Style == StyleForm {
		v.Set("client_id", cfg.ClientID)
		v.Set("client_secret", cfg.ClientSecret)
	}
	return []byte(v.Encode()), "application/x-www-form-urlencoded"
}
