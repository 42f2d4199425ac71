package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

func TestNewValidates(t *testing.T) {
	good := Config{TokenURL: "http://127.0.0.1:1/api/oauth/token", ClientID: testID, ClientSecret: testSecret}
	tests := []struct {
		name   string
		edit   func(*Config)
		wantIn string // "" means no error
	}{
		{"valid", func(*Config) {}, ""},
		{"missing token URL", func(c *Config) { c.TokenURL = "" }, "TokenURL"},
		{"relative token URL", func(c *Config) { c.TokenURL = "/api/oauth/token" }, "TokenURL"},
		{"ftp token URL", func(c *Config) { c.TokenURL = "ftp://host/x" }, "TokenURL"},
		{"missing client id", func(c *Config) { c.ClientID = "" }, "ClientID"},
		{"missing client secret", func(c *Config) { c.ClientSecret = "" }, "ClientSecret"},
		{"unknown style", func(c *Config) { c.Style = "xml" }, "Style"},
		{"negative fetch timeout", func(c *Config) { c.FetchTimeout = -time.Second }, "FetchTimeout"},
		{"negative margin", func(c *Config) { c.RefreshMargin = -time.Second }, "RefreshMargin"},
		{"negative failure hold", func(c *Config) { c.FailureHold = -time.Second }, "FailureHold"},
		{"form style", func(c *Config) { c.Style = StyleForm }, ""},
		{"basic style upper case", func(c *Config) { c.Style = "BASIC" }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.edit(&cfg)
			src, err := New(cfg)
			if tt.wantIn == "" {
				require.NoError(t, err)
				assert.NotNil(t, src)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantIn)
			assert.NotContains(t, err.Error(), testSecret)
		})
	}
}

func TestNewDefaults(t *testing.T) {
	src := newSource(t, "http://127.0.0.1:1/t", Config{})
	assert.Equal(t, StyleJSON, src.cfg.Style)
	assert.Equal(t, DefaultFetchTimeout, src.cfg.FetchTimeout)
	assert.Equal(t, DefaultRefreshMargin, src.cfg.RefreshMargin)
	assert.Equal(t, DefaultFailureHold, src.cfg.FailureHold)
	assert.NotNil(t, src.cfg.HTTPClient)
	assert.NotNil(t, src.cfg.Now)
	assert.Equal(t, Stats{}, src.Stats(), "New must not fetch")
}

func TestParseStyle(t *testing.T) {
	tests := []struct {
		in      string
		want    Style
		wantErr bool
	}{
		{"", StyleJSON, false},
		{"json", StyleJSON, false},
		{" Form ", StyleForm, false},
		{"basic", StyleBasic, false},
		{"header", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseStyle(tt.in)
			if tt.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// captured is what a token server saw of one request.
type captured struct {
	method, contentType, authz string
	user, pass                 string
	basic                      bool
	body                       []byte
	form                       map[string][]string
}

// capturingServer records the last request and issues a token.
func capturingServer(t *testing.T) (*tokenServer, func() captured) {
	var mu sync.Mutex
	var last captured
	ts := newTokenServer(t, func(w http.ResponseWriter, r *http.Request) {
		c := captured{method: r.Method, contentType: r.Header.Get("Content-Type"), authz: r.Header.Get("Authorization")}
		c.user, c.pass, c.basic = r.BasicAuth()
		c.body, _ = io.ReadAll(r.Body)
		if strings.HasPrefix(c.contentType, "application/x-www-form-urlencoded") {
			r.Body = io.NopCloser(strings.NewReader(string(c.body)))
			if err := r.ParseForm(); err != nil {
				t.Errorf("server: parse form: %v", err)
			}
			c.form = r.PostForm
		}
		mu.Lock()
		last = c
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"tok-abc","token_type":"bearer","expires_in":3600,"scope":"offers:update"}`)
	})
	return ts, func() captured {
		mu.Lock()
		defer mu.Unlock()
		return last
	}
}

func TestJSONStyleBody(t *testing.T) {
	ts, last := capturingServer(t)
	src := newSource(t, ts.URL+"/api/oauth/token", Config{})
	tok, err := src.Token()
	require.NoError(t, err)

	got := last()
	assert.Equal(t, http.MethodPost, got.method)
	assert.Equal(t, "application/json", got.contentType)
	assert.False(t, got.basic, "JSON style must not send basic auth")
	assert.Equal(t, `{"grant_type":"client_credentials","client_id":"`+testID+`","client_secret":"`+testSecret+`"}`,
		string(got.body), "XONE's documented body, members in its order")

	assert.Equal(t, "tok-abc", tok.AccessToken)
	assert.Equal(t, "bearer", tok.TokenType)
	assert.Equal(t, "offers:update", tok.Extra("scope"))
	assert.EqualValues(t, 3600, tok.ExpiresIn)
}

func TestFormAndBasicStyles(t *testing.T) {
	tests := []struct {
		style     Style
		wantBasic bool
	}{
		{StyleForm, false},
		{StyleBasic, true},
	}
	for _, tt := range tests {
		t.Run(string(tt.style), func(t *testing.T) {
			ts, last := capturingServer(t)
			src := newSource(t, ts.URL, Config{Style: tt.style})
			tok, err := src.Token()
			require.NoError(t, err)
			assert.Equal(t, "tok-abc", tok.AccessToken)
			assert.Equal(t, "offers:update", tok.Extra("scope"))

			got := last()
			assert.Equal(t, http.MethodPost, got.method)
			assert.True(t, strings.HasPrefix(got.contentType, "application/x-www-form-urlencoded"), "content type %q", got.contentType)
			require.NotNil(t, got.form, "body %q", got.body)
			assert.Equal(t, "client_credentials", got.form["grant_type"][0])
			assert.NotContains(t, got.form, "scope")
			assert.Equal(t, tt.wantBasic, got.basic)
			if tt.wantBasic {
				assert.Equal(t, testID, got.user)
				assert.Equal(t, testSecret, got.pass)
				assert.NotContains(t, got.form, "client_secret")
			} else {
				assert.Equal(t, testID, got.form["client_id"][0])
				assert.Equal(t, testSecret, got.form["client_secret"][0])
				assert.Empty(t, got.authz)
			}
		})
	}
}

func TestExpiry(t *testing.T) {
	now := time.Now() // frozen: every token here lives for minutes
	clock := func() time.Time { return now }
	tests := []struct {
		name      string
		style     Style
		expiresIn any // nil: left out
		margin    time.Duration
		want      time.Duration // Expiry - now
		wantIn    int64
	}{
		{"json integer", StyleJSON, 3600, 0, 3600*time.Second - DefaultRefreshMargin, 3600},
		{"json numeric string", StyleJSON, "3600", 0, 3600*time.Second - DefaultRefreshMargin, 3600},
		{"json missing", StyleJSON, nil, 0, DefaultLifetime - DefaultRefreshMargin, 0},
		{"json zero", StyleJSON, 0, 0, DefaultLifetime - DefaultRefreshMargin, 0},
		{"json short lifetime caps margin", StyleJSON, 120, 0, 90 * time.Second, 120},
		{"json custom margin", StyleJSON, 3600, 10 * time.Second, 3590 * time.Second, 3600},
		{"form integer", StyleForm, 3600, 0, 3600*time.Second - DefaultRefreshMargin, 3600},
		{"form numeric string", StyleForm, "3600", 0, 3600*time.Second - DefaultRefreshMargin, 3600},
		{"form missing", StyleForm, nil, 0, DefaultLifetime - DefaultRefreshMargin, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newIssuer(t, tt.expiresIn, 0)
			src := newSource(t, ts.URL, Config{Style: tt.style, Now: clock, RefreshMargin: tt.margin})
			tok, err := src.Token()
			require.NoError(t, err)
			assert.Equal(t, tt.want, tok.Expiry.Sub(now), "Expiry - now")
			assert.Equal(t, tt.wantIn, tok.ExpiresIn)
		})
	}
}

func TestConcurrentColdCacheFetchesOnce(t *testing.T) {
	ts := newIssuer(t, 3600, 50*time.Millisecond)
	src := newSource(t, ts.URL, Config{})

	const callers = 200
	start := make(chan struct{})
	tokens := make([]string, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			<-start
			tok, err := src.Token()
			errs[i] = err
			if err == nil {
				tokens[i] = tok.AccessToken
			}
		})
	}
	close(start)
	wg.Wait()

	for i := range callers {
		require.NoError(t, errs[i], "caller %d", i)
		assert.Equal(t, "tok-1", tokens[i], "caller %d", i)
	}
	assert.EqualValues(t, 1, ts.hits.Load(), "token endpoint hits")
	assert.EqualValues(t, 1, src.Stats().Fetches)
}

func TestInvalidate(t *testing.T) {
	t.Run("cached token refetches once", func(t *testing.T) {
		ts := newIssuer(t, 3600, 0)
		src := newSource(t, ts.URL, Config{})
		first, err := src.Token()
		require.NoError(t, err)

		src.Invalidate(first)
		second, err := src.Token()
		require.NoError(t, err)
		third, err := src.Token()
		require.NoError(t, err)

		assert.Equal(t, "tok-1", first.AccessToken)
		assert.Equal(t, "tok-2", second.AccessToken)
		assert.Same(t, second, third)
		assert.EqualValues(t, 2, ts.hits.Load())
	})

	t.Run("100 concurrent invalidations of one token refetch once", func(t *testing.T) {
		ts := newIssuer(t, 3600, 10*time.Millisecond)
		src := newSource(t, ts.URL, Config{})
		bad, err := src.Token()
		require.NoError(t, err)

		start := make(chan struct{})
		var wg sync.WaitGroup
		for range 100 {
			wg.Go(func() {
				<-start
				src.Invalidate(bad)
				tok, err := src.Token()
				if assert.NoError(t, err) {
					assert.Equal(t, "tok-2", tok.AccessToken)
				}
			})
		}
		close(start)
		wg.Wait()
		assert.EqualValues(t, 2, ts.hits.Load())
	})

	t.Run("older token does nothing", func(t *testing.T) {
		ts := newIssuer(t, 3600, 0)
		src := newSource(t, ts.URL, Config{})
		old, err := src.Token()
		require.NoError(t, err)
		src.Invalidate(old)
		cur, err := src.Token()
		require.NoError(t, err)
		require.EqualValues(t, 2, ts.hits.Load())

		src.Invalidate(old)
		src.Invalidate(&oauth2.Token{AccessToken: "never-issued"})
		src.Invalidate(nil)
		again, err := src.Token()
		require.NoError(t, err)
		assert.Same(t, cur, again)
		assert.EqualValues(t, 2, ts.hits.Load())
	})

	t.Run("copy of the cached token counts", func(t *testing.T) {
		ts := newIssuer(t, 3600, 0)
		src := newSource(t, ts.URL, Config{})
		tok, err := src.Token()
		require.NoError(t, err)
		src.Invalidate(&oauth2.Token{AccessToken: tok.AccessToken})
		_, err = src.Token()
		require.NoError(t, err)
		assert.EqualValues(t, 2, ts.hits.Load())
	})
}

func TestShortLifetimeIsReused(t *testing.T) {
	ts := newIssuer(t, 2, 0) // 2 s token, 60 s default margin
	src := newSource(t, ts.URL, Config{})

	start := time.Now()
	first, err := src.Token()
	require.NoError(t, err)
	for range 50 {
		tok, err := src.Token()
		require.NoError(t, err)
		assert.Same(t, first, tok)
	}
	require.Less(t, time.Since(start), time.Second, "precondition: the 50 calls ran well within the token's life")
	assert.EqualValues(t, 1, ts.hits.Load(), "50 calls on a 2 s token")

	// The margin is capped at a quarter of the life: the token is handed out
	// for 1.5 s, so it is replaced before the server's expiry (2 s).
	life := first.Expiry.Sub(start)
	assert.Greater(t, life, 1400*time.Millisecond)
	assert.Less(t, life, 1600*time.Millisecond)

	for time.Until(first.Expiry) > 200*time.Millisecond {
		tok, err := src.Token()
		require.NoError(t, err)
		require.Same(t, first, tok, "replaced %s before its Expiry", time.Until(first.Expiry))
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(time.Until(first.Expiry) + 10*time.Millisecond)
	tok, err := src.Token()
	require.NoError(t, err)
	assert.NotSame(t, first, tok, "not replaced after its Expiry")
	assert.Equal(t, "tok-2", tok.AccessToken)
	assert.EqualValues(t, 2, ts.hits.Load())
}

// hangingServer never answers until the test ends.
func hangingServer(t *testing.T) *tokenServer {
	release := make(chan struct{})
	ts := newTokenServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) }) // runs before ts.Close
	return ts
}

func TestFetchTimeout(t *testing.T) {
	tests := []struct {
		name  string
		style Style
	}{
		{"json", StyleJSON},
		{"form", StyleForm},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := hangingServer(t)
			src := newSource(t, ts.URL, Config{Style: tt.style, FetchTimeout: 200 * time.Millisecond})
			start := time.Now()
			_, err := src.Token()
			elapsed := time.Since(start)
			require.Error(t, err)
			assert.GreaterOrEqual(t, elapsed, 150*time.Millisecond)
			assert.Less(t, elapsed, 2*time.Second)
			assert.ErrorIs(t, err, ErrUnreachable)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			var fe *FetchError
			require.ErrorAs(t, err, &fe)
			assert.Zero(t, fe.Status)
			assert.Contains(t, err.Error(), ts.URL)
			assert.NotContains(t, err.Error(), testSecret)
		})
	}
}

func TestQueuedCallersFailFastBehindHungFetch(t *testing.T) {
	ts := hangingServer(t)
	src := newSource(t, ts.URL, Config{FetchTimeout: 300 * time.Millisecond})

	const callers = 10
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, callers)
	for i := range callers {
		wg.Go(func() { _, errs[i] = src.Token() })
	}
	wg.Wait()
	elapsed := time.Since(start)

	for i, err := range errs {
		assert.ErrorIs(t, err, ErrUnreachable, "caller %d", i)
	}
	// Without FailureHold the callers would take turns: 10 × 300 ms.
	assert.GreaterOrEqual(t, elapsed, 250*time.Millisecond)
	assert.Less(t, elapsed, 2*time.Second)
	assert.EqualValues(t, 1, ts.hits.Load())
}

func TestServerErrorIsNotEchoed(t *testing.T) {
	filler := strings.Repeat("x", 4096)
	tests := []struct {
		name  string
		style Style
		ctype string
		body  string
	}{
		{"json style text body", StyleJSON, "text/plain", "oops " + testSecret + " " + filler},
		{"json style json body", StyleJSON, "application/json", `{"message":"bad secret ` + testSecret + `","client_secret":"whatever","pad":"` + filler + `"}`},
		{"form style json body", StyleForm, "application/json; charset=utf-8", `{"error":"server_error","echo":"` + testSecret + `","pad":"` + filler + `"}`},
		{"basic style text body", StyleBasic, "text/plain", testSecret + filler},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTokenServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.ctype)
				w.WriteHeader(http.StatusInternalServerError)
				_, _ = io.WriteString(w, tt.body)
			})
			src := newSource(t, ts.URL, Config{Style: tt.style})
			_, err := src.Token()
			require.Error(t, err)
			msg := err.Error()
			assert.ErrorIs(t, err, ErrRejected)
			assert.NotErrorIs(t, err, ErrUnreachable)
			assert.NotContains(t, msg, testSecret)
			assert.NotContains(t, msg, "xxxx", "the body is echoed")
			assert.Contains(t, msg, ts.URL)
			var fe *FetchError
			require.ErrorAs(t, err, &fe)
			mt, _, _ := strings.Cut(tt.ctype, ";")
			assert.Contains(t, msg, fmt.Sprintf("status 500 (%s, %d bytes)", mt, len(tt.body)))
			assert.Equal(t, http.StatusInternalServerError, fe.Status)
			assert.Equal(t, mt, fe.ContentType)
			assert.Equal(t, len(tt.body), fe.Length)
		})
	}
}

func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	url := "http://" + ln.Addr().String() + "/api/oauth/token"
	require.NoError(t, ln.Close())

	for _, style := range []Style{StyleJSON, StyleForm, StyleBasic} {
		t.Run(string(style), func(t *testing.T) {
			src := newSource(t, url, Config{Style: style})
			_, err := src.Token()
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrUnreachable)
			assert.NotErrorIs(t, err, ErrRejected)
			assert.Contains(t, err.Error(), url)
			assert.NotContains(t, err.Error(), testSecret)

			// Within FailureHold the failure is returned without a new fetch.
			_, err2 := src.Token()
			assert.ErrorIs(t, err2, ErrUnreachable)
			st := src.Stats()
			assert.EqualValues(t, 1, st.Fetches)
			assert.EqualValues(t, 1, st.Failures)
		})
	}
}

func TestRejectedAnswers(t *testing.T) {
	tests := []struct {
		name   string
		style  Style
		status int
		body   string
		wantIn string
	}{
		{"invalid JSON", StyleJSON, 200, `{"access_token":`, "invalid JSON"},
		{"not an object", StyleJSON, 200, `["tok"]`, "invalid JSON"},
		{"missing access_token", StyleJSON, 200, `{"token_type":"Bearer","expires_in":3600}`, "missing access_token"},
		{"empty access_token", StyleJSON, 200, `{"access_token":""}`, "missing access_token"},
		{"negative expires_in", StyleJSON, 200, `{"access_token":"t","expires_in":-5}`, "negative"},
		{"expires_in not a number", StyleJSON, 200, `{"access_token":"t","expires_in":"soon"}`, "expires_in"},
		{"unauthorized", StyleJSON, 401, `{"message":"Unauthenticated."}`, "401"},
		{"forbidden", StyleJSON, 403, `{"message":"Forbidden"}`, "403"},
		{"form missing access_token", StyleForm, 200, `{"token_type":"Bearer"}`, "missing access_token"},
		{"form oauth2 error", StyleForm, 400, `{"error":"invalid_client"}`, "invalid_client"},
		{"form negative expires_in", StyleForm, 200, `{"access_token":"t","expires_in":-5}`, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTokenServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			})
			src := newSource(t, ts.URL, Config{Style: tt.style})
			tok, err := src.Token()
			require.Error(t, err, "token %+v", tok)
			assert.ErrorIs(t, err, ErrRejected)
			assert.NotErrorIs(t, err, ErrUnreachable)
			assert.Contains(t, err.Error(), tt.wantIn)
			assert.Contains(t, err.Error(), ts.URL)
			assert.EqualValues(t, 1, src.Stats().Failures)
		})
	}
}

func TestPrefetchKeepsCallersFromWaiting(t *testing.T) {
	// 1 s tokens and a 1 s margin (capped to 250 ms): each token is handed
	// out for 750 ms and Prefetch replaces it after about 375 ms. The
	// endpoint takes 60 ms, so a caller that waited on it would show.
	ts := newIssuer(t, 1, 60*time.Millisecond)
	src := newSource(t, ts.URL, Config{RefreshMargin: time.Second})

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		src.Prefetch(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})

	_, err := src.Token() // the cold fetch, shared with Prefetch
	require.NoError(t, err)
	blockingBefore := src.blockingFetches.Load()

	var lat []time.Duration
	seen := map[string]bool{}
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); {
		t0 := time.Now()
		tok, err := src.Token()
		lat = append(lat, time.Since(t0))
		require.NoError(t, err)
		seen[tok.AccessToken] = true
		assert.True(t, tok.Expiry.After(time.Now()), "expired token handed out")
		time.Sleep(5 * time.Millisecond)
	}

	// The exact check: no Token call fetched after the first.
	assert.Equal(t, blockingBefore, src.blockingFetches.Load(), "fetches made by Token callers after warm-up")
	// The timing check, tolerant of a loaded machine (a caller that waited
	// on the endpoint takes >= 60 ms).
	slices.Sort(lat)
	assert.Less(t, lat[len(lat)*99/100], 50*time.Millisecond, "p99 of %d Token calls", len(lat))
	st := src.Stats()
	assert.GreaterOrEqual(t, st.Fetches, int64(2))
	assert.GreaterOrEqual(t, len(seen), 2, "distinct tokens seen")
	assert.Zero(t, st.Failures)

	cancel()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Error("Prefetch did not return within 1 s of cancel")
	}
}

func TestPrefetchRefetchesAfterInvalidate(t *testing.T) {
	ts := newIssuer(t, 3600, 0)
	src := newSource(t, ts.URL, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		src.Prefetch(ctx)
	}()
	defer func() {
		cancel()
		<-done
	}()

	require.Eventually(t, func() bool { return ts.hits.Load() == 1 }, time.Second, 5*time.Millisecond, "Prefetch's first fetch")
	tok, err := src.Token()
	require.NoError(t, err)
	src.Invalidate(tok)
	// No caller: Prefetch alone fetches the replacement.
	require.Eventually(t, func() bool { return ts.hits.Load() == 2 }, time.Second, 5*time.Millisecond, "Prefetch's fetch after Invalidate")
	tok2, err := src.Token()
	require.NoError(t, err)
	assert.Equal(t, "tok-2", tok2.AccessToken)
	assert.EqualValues(t, 2, ts.hits.Load())
}

func TestPrefetchRetriesAfterFailure(t *testing.T) {
	var fail sync.Mutex // held: the endpoint answers 503
	fail.Lock()
	ok := issue(3600, 0)
	ts := newTokenServer(t, func(w http.ResponseWriter, r *http.Request) {
		if fail.TryLock() {
			fail.Unlock()
			ok(w, r)
			return
		}
		http.Error(w, "down", http.StatusServiceUnavailable)
	})
	src := newSource(t, ts.URL, Config{FailureHold: time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		src.Prefetch(ctx)
	}()
	defer func() {
		cancel()
		<-done
	}()
	require.Eventually(t, func() bool { return src.Stats().Failures >= 2 }, 2*time.Second, 5*time.Millisecond, "retries")
	fail.Unlock()
	require.Eventually(t, func() bool {
		_, err := src.Token()
		return err == nil
	}, 7*time.Second, 20*time.Millisecond)
}

func TestStats(t *testing.T) {
	var n int
	var mu sync.Mutex
	ok := issue(3600, 30*time.Millisecond)
	ts := newTokenServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		first := n == 1
		mu.Unlock()
		if first {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		ok(w, r)
	})
	src := newSource(t, ts.URL, Config{FailureHold: time.Nanosecond})
	_, err := src.Token()
	require.Error(t, err)
	tok, err := src.Token()
	require.NoError(t, err)
	src.Invalidate(tok)
	_, err = src.Token()
	require.NoError(t, err)

	st := src.Stats()
	assert.EqualValues(t, 3, st.Fetches)
	assert.EqualValues(t, 1, st.Failures)
	assert.GreaterOrEqual(t, st.MaxFetchTime, 30*time.Millisecond)
	assert.GreaterOrEqual(t, st.TotalFetchTime, 60*time.Millisecond)
	assert.LessOrEqual(t, st.MaxFetchTime, st.TotalFetchTime)
}

func TestSourceRedactorKnowsTokens(t *testing.T) {
	ts := newIssuer(t, 3600, 0)
	src := newSource(t, ts.URL, Config{})
	tok, err := src.Token()
	require.NoError(t, err)
	got := src.Redactor().String("secret=" + testSecret + " token=" + tok.AccessToken)
	assert.Equal(t, "secret="+Redacted+" token="+Redacted, got)
}

func TestFetchErrorWithoutRedactor(t *testing.T) {
	err := error(&FetchError{URL: "http://h/t", Status: 502, Length: 12, Err: ErrRejected})
	assert.Equal(t, "auth: fetch token from http://h/t: status 502 (no content type, 12 bytes): token endpoint rejected the request", err.Error())
	assert.True(t, errors.Is(err, ErrRejected))
}

func TestPrefetchDoesNotFloodWhenTokensAreBornDue(t *testing.T) {
	ts := newIssuer(t, 3600, 0)
	// A clock that jumps an hour per reading: every token's refresh time
	// has passed when it arrives.
	var jumps atomic.Int64
	jumpy := func() time.Time { return time.Now().Add(time.Duration(jumps.Add(1)) * time.Hour) }
	src := newSource(t, ts.URL, Config{Now: jumpy})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	src.Prefetch(ctx)
	// One refresh per 100 ms at most: about 10 in 1 s, not thousands.
	assert.LessOrEqual(t, ts.hits.Load(), int64(15))
	assert.GreaterOrEqual(t, ts.hits.Load(), int64(2))
}
