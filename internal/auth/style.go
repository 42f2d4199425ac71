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
	// StyleJSON posts the credentials in a JSON body, as XONE's token endpoint takes them; the default.
	StyleJSON Style = "json"
	// StyleForm posts the credentials in a form body, as x/oauth2's AuthStyleInParams does.
	StyleForm Style = "form"
	// StyleBasic sends the credentials, form-encoded, as HTTP Basic auth (x/oauth2's AuthStyleInHeader).
	StyleBasic Style = "basic"
)

// ParseStyle turns "json", "form" or "basic" (any case, spaces trimmed; "" is json) into a Style.
func ParseStyle(s string) (Style, error) {
	switch st := Style(strings.ToLower(strings.TrimSpace(s))); st {
	case "":
		return StyleJSON, nil
	case StyleJSON, StyleForm, StyleBasic:
		return st, nil
	}
	return "", fmt.Errorf("auth: parse style: unknown token style %q (want json, form or basic)", s)
}

// requestBody returns the body and content type of a token request in cfg.Style.
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
