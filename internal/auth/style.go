package auth

import (
	"fmt"
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
	// StyleForm posts an application/x-www-form-urlencoded body with the
	// credentials in it (golang.org/x/oauth2/clientcredentials,
	// oauth2.AuthStyleInParams).
	StyleForm Style = "form"
	// StyleBasic posts a form body and sends the credentials as HTTP Basic
	// authentication (golang.org/x/oauth2/clientcredentials,
	// oauth2.AuthStyleInHeader).
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
