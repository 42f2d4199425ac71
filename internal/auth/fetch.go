package auth

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/oauth2"
)

// fetch asks the token endpoint for a new token, bounded by FetchTimeout, and records it in Stats.
func (s *Source) fetch(parent context.Context) (*held, error) {
	ctx, cancel := context.WithTimeout(parent, s.cfg.FetchTimeout)
	defer cancel()
	start := time.Now()
	issued := s.cfg.Now()
	tok, err := s.request(ctx, issued)
	s.record(time.Since(start), err != nil && parent.Err() == nil)
	if err != nil {
		return nil, err
	}
	return s.hold(tok, issued), nil
}

// request sends one token request and reads the answer. Every token-looking value of the answer,
// whatever its format and status, and the token it yields are registered with the redactor first.
func (s *Source) request(ctx context.Context, issued time.Time) (*oauth2.Token, error) {
	body, bodyType := requestBody(s.cfg)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.TokenURL, bytes.NewReader(body))
	if err != nil {
		return nil, s.fail(nil, 0, fmt.Errorf("build request: %w", err))
	}
	req.Header.Set("Content-Type", bodyType)
	req.Header.Set("Accept", "application/json")
	if s.cfg.Style == StyleBasic {
		// RFC 6749 §2.3.1: both are form-encoded first, as golang.org/x/oauth2 does.
		req.SetBasicAuth(url.QueryEscape(s.cfg.ClientID), url.QueryEscape(s.cfg.ClientSecret))
	}
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, s.fail(nil, 0, unreachable(err))
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	s.redact.addRecent(tokenValues(body)...)
	ctype := resp.Header.Get("Content-Type")
	switch {
	case err != nil:
		return nil, s.fail(resp, len(body), unreachable(fmt.Errorf("read response: %w", err)))
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return nil, s.fail(resp, len(body), refused(body, ctype))
	case len(body) > maxResponseBytes:
		return nil, s.fail(resp, len(body), fmt.Errorf("%w: response larger than %d bytes", ErrRejected, maxResponseBytes))
	}
	tok, err := parseTokenResponse(body, ctype, issued)
	if err != nil {
		return nil, s.fail(resp, len(body), fmt.Errorf("%w: %w", ErrRejected, err))
	}
	s.redact.addRecent(tok.AccessToken, tok.RefreshToken)
	return tok, nil
}

// hold shortens tok's Expiry by the effective refresh margin, min(RefreshMargin, lifetime/4), and
// sets the Prefetch time: RefreshMargin before that, but no later than halfway through the time the
// token is handed out (a short-lived token leaves little room for a late timer or a slow fetch).
func (s *Source) hold(tok *oauth2.Token, issued time.Time) *held {
	tok.Expiry = tok.Expiry.Add(-min(s.cfg.RefreshMargin, max(tok.Expiry.Sub(issued), 0)/4))
	usable := max(tok.Expiry.Sub(issued), 0)
	return &held{tok: tok, refreshAt: tok.Expiry.Add(-min(s.cfg.RefreshMargin, usable/2))}
}
