package auth

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// Style says how a [Source] sends the client credentials to the token endpoint.
type Style string

const (
	// StyleJSON posts a JSON body {"grant_type":"client_credentials","client_id":…,
	// "client_secret":…}. It is what XONE's token endpoint takes, and the default.
	StyleJSON Style = "json"
	// StyleForm posts an application/x-www-form-urlencoded body with grant_type, client_id and
	// client_secret, as golang.org/x/oauth2's AuthStyleInParams does.
	StyleForm Style = "form"
	// StyleBasic posts a form body with grant_type and sends the credentials, each form-encoded, as
	// HTTP Basic authentication, as golang.org/x/oauth2's AuthStyleInHeader does.
	StyleBasic Style = "basic"
)

// ParseStyle turns a user-supplied style name ("json", "form" or "basic", case-insensitive,
// surrounding spaces ignored) into a Style. The empty string gives StyleJSON, the default.
func ParseStyle(s string) (Style, error) {
	switch st := Style(strings.ToLower(strings.TrimSpace(s))); st {
	case "":
		return StyleJSON, nil
	case StyleJSON, StyleForm, StyleBasic:
		return st, nil
	}
	return "", fmt.Errorf("auth: parse style: unknown token style %q (want json, form or basic)", s)
}

// requestBody returns the body and content type of a token request in cfg.Style (the Basic
// credentials go in a header, see Source.request).
func requestBody(cfg Config) ([]byte, string) {
	switch cfg.Style {
	case StyleJSON:
		b, _ := json.Marshal(struct { // strings always marshal
			GrantType    string `json:"grant_type"`
			ClientID     string `json:"client_id"`
			ClientSecret string `json:"client_secret"`
		}{"client_credentials", cfg.ClientID, cfg.ClientSecret})
		return b, "application/json"
	case StyleForm:
		v := url.Values{"grant_type": {"client_credentials"}, "client_id": {cfg.ClientID},
			"client_secret": {cfg.ClientSecret}}
		return []byte(v.Encode()), "application/x-www-form-urlencoded"
	}
	return []byte("grant_type=client_credentials"), "application/x-www-form-urlencoded"
}
