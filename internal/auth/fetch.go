package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/oauth2"
)

// jsonRequest is the body StyleJSON posts.
type jsonRequest struct {
	GrantType    string `json:"grant_type"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	Scope        string `json:"scope,omitempty"`
}

// fetch asks the token endpoint for a new token, bounded by FetchTimeout, and
// records it in Stats. The returned held has the shortened Expiry and the
// Prefetch time.
func (s *Source) fetch(parent context.Context) (*held, error) {
	ctx, cancel := context.WithTimeout(parent, s.cfg.FetchTimeout)
	defer cancel()
	start := time.Now()
	issued := s.cfg.Now()
	var (
		tok *oauth2.Token
		err error
	)
	if s.cc != nil {
		tok, err = s.fetchOAuth2(ctx, issued)
	} else {
		tok, err = s.fetchJSON(ctx, issued)
	}
	s.record(time.Since(start), err != nil && parent.Err() == nil)
	if err != nil {
		return nil, err
	}
	s.redact.addRecent(tok.AccessToken)
	s.redact.addRecent(tok.RefreshToken)
	return s.hold(tok, issued), nil
}

// fetchJSON posts the JSON body (StyleJSON) and parses the answer.
func (s *Source) fetchJSON(ctx context.Context, issued time.Time) (*oauth2.Token, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.TokenURL, bytes.NewReader(s.jsonBody))
	if err != nil {
		return nil, s.newFetchError(0, nil, fmt.Errorf("build request: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, s.newFetchError(0, nil, unreachable(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, s.newFetchError(resp.StatusCode, body, unreachable(fmt.Errorf("read response: %w", err)))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, s.newFetchError(resp.StatusCode, body, ErrRejected)
	}
	if len(body) > maxResponseBytes {
		return nil, s.newFetchError(resp.StatusCode, body[:maxErrorBody], fmt.Errorf("%w: response larger than %d bytes", ErrRejected, maxResponseBytes))
	}
	tok, err := ParseTokenResponse(body, issued, s.cfg.DefaultLifetime)
	if err != nil {
		return nil, s.newFetchError(resp.StatusCode, body, fmt.Errorf("%w: %w", ErrRejected, err))
	}
	return tok, nil
}

// fetchOAuth2 fetches through golang.org/x/oauth2/clientcredentials
// (StyleForm, StyleBasic) and gives the token the same expiry rules as
// ParseTokenResponse.
func (s *Source) fetchOAuth2(ctx context.Context, issued time.Time) (*oauth2.Token, error) {
	tok, err := s.cc.Token(context.WithValue(ctx, oauth2.HTTPClient, s.cfg.HTTPClient))
	if err != nil {
		return nil, s.classifyOAuth2(err)
	}
	if tok.TokenType == "" {
		tok.TokenType = "Bearer"
	}
	// clientcredentials leaves ExpiresIn at 0 and stamps Expiry with
	// time.Now; read expires_in from the raw answer (JSON or form-encoded)
	// with ParseTokenResponse's rules instead.
	raw := tok.Extra("expires_in")
	if f, ok := raw.(float64); ok {
		raw = json.Number(strconv.FormatFloat(f, 'f', -1, 64))
	}
	secs, err := expiresIn(raw)
	if err != nil {
		return nil, s.newFetchError(http.StatusOK, nil, fmt.Errorf("%w: %w", ErrRejected, err))
	}
	tok.ExpiresIn = secs
	tok.Expiry = issued.Add(s.cfg.DefaultLifetime)
	if secs > 0 {
		tok.Expiry = issued.Add(time.Duration(secs) * time.Second)
	}
	return tok, nil
}

// hold shortens tok's Expiry by the effective refresh margin (RefreshMargin,
// capped at a quarter of the lifetime) and computes when Prefetch should
// replace it: RefreshMargin before that shortened expiry, but no later than
// halfway through the time it is handed out (short-lived tokens leave little
// room for a late timer or a slow fetch).
func (s *Source) hold(tok *oauth2.Token, issued time.Time) *held {
	tok.Expiry = tok.Expiry.Add(-s.margin(tok.Expiry.Sub(issued)))
	usable := max(tok.Expiry.Sub(issued), 0)
	return &held{tok: tok, refreshAt: tok.Expiry.Add(-min(s.cfg.RefreshMargin, usable/2))}
}

// margin is min(RefreshMargin, lifetime/4), and 0 for a lifetime <= 0.
func (s *Source) margin(lifetime time.Duration) time.Duration {
	if lifetime <= 0 {
		return 0
	}
	return min(s.cfg.RefreshMargin, lifetime/4)
}
