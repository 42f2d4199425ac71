package sandbox

import (
	"bytes"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// validKnobs are the sandbox command's defaults, which Options accepts.
func validKnobs() Knobs { return Knobs{RetryAfter: time.Second, TokenTTL: time.Hour, Seed: 1} }

// TestKnobsRefused: every refused value is a *KnobError naming the knob, whose text names the
// flags as the sandbox command prints them.
func TestKnobsRefused(t *testing.T) {
	cases := []struct {
		name string
		edit func(k *Knobs)
		knob string
		want string // Text("--")
	}{
		{"error rate NaN", func(k *Knobs) { k.ErrorRate = math.NaN() }, "error-rate", "--error-rate: want a fraction between 0 and 1, got NaN"},
		{"error rate above 1", func(k *Knobs) { k.ErrorRate = 2 }, "error-rate", "--error-rate: want a fraction between 0 and 1, got 2"},
		{"throttle rate negative", func(k *Knobs) { k.ThrottleRate = -0.5 }, "throttle-rate", "--throttle-rate: want a fraction between 0 and 1, got -0.5"},
		{"reset rate NaN", func(k *Knobs) { k.ResetRate = math.NaN() }, "reset-rate", "--reset-rate: want a fraction between 0 and 1, got NaN"},
		{"latency negative", func(k *Knobs) { k.Latency = -time.Millisecond }, "latency", "--latency: must not be negative, got -1ms"},
		{"median without p99", func(k *Knobs) { k.LatencyMedian = 10 * time.Millisecond }, "latency-median", "--latency-median and --latency-p99: give both or neither"},
		{"p99 without median", func(k *Knobs) { k.LatencyP99 = 10 * time.Millisecond }, "latency-median", "--latency-median and --latency-p99: give both or neither"},
		{"p99 below median", func(k *Knobs) { k.LatencyMedian, k.LatencyP99 = 20*time.Millisecond, 10*time.Millisecond },
			"latency-p99", "--latency-p99 (10ms) must be at least --latency-median (20ms)"},
		{"stall backwards", func(k *Knobs) { k.Stall = "3s-2s" }, "stall", `--stall: want FROM-TO durations with FROM < TO, e.g. 2s-3s; got "3s-2s"`},
		{"stall empty window", func(k *Knobs) { k.Stall = "2s-2s" }, "stall", `--stall: want FROM-TO durations with FROM < TO, e.g. 2s-3s; got "2s-2s"`},
		{"stall one duration", func(k *Knobs) { k.Stall = "2s" }, "stall", `--stall: want FROM-TO durations with FROM < TO, e.g. 2s-3s; got "2s"`},
		{"stall not a duration", func(k *Knobs) { k.Stall = "x-3s" }, "stall", `--stall: want FROM-TO durations with FROM < TO, e.g. 2s-3s; got "x-3s"`},
		{"stall negative start", func(k *Knobs) { k.Stall = "-1s-2s" }, "stall", `--stall: want FROM-TO durations with FROM < TO, e.g. 2s-3s; got "-1s-2s"`},
		{"stall with a verb", func(k *Knobs) { k.Stall = "2%s-3s" }, "stall", `--stall: want FROM-TO durations with FROM < TO, e.g. 2s-3s; got "2%s-3s"`},
		{"retry after negative", func(k *Knobs) { k.RetryAfter = -time.Second }, "retry-after", "--retry-after: must not be negative, got -1s"},
		{"token ttl zero", func(k *Knobs) { k.TokenTTL = 0 }, "token-ttl", "--token-ttl: must be positive, got 0s"},
		{"token ttl negative", func(k *Knobs) { k.TokenTTL = -time.Hour }, "token-ttl", "--token-ttl: must be positive, got -1h0m0s"},
		{"drift only a comma", func(k *Knobs) { k.Drift = "," }, "drift", `--drift: empty mode name in "," (want comma-separated names; "list" prints them)`},
		{"drift trailing comma", func(k *Knobs) { k.Drift = "price-as-string," }, "drift", `--drift: empty mode name in "price-as-string," (want comma-separated names; "list" prints them)`},
		{"drift blank name", func(k *Knobs) { k.Drift = "html-401, ,null-200" }, "drift", `--drift: empty mode name in "html-401, ,null-200" (want comma-separated names; "list" prints them)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k := validKnobs()
			c.edit(&k)
			opts, err := k.Options()
			assert.Nil(t, opts)
			var ke *KnobError
			require.ErrorAs(t, err, &ke)
			assert.Equal(t, c.knob, ke.Knob, "got knob %q, want %q", ke.Knob, c.knob)
			assert.Equal(t, c.want, ke.Text("--"))
			assert.Equal(t, "sandbox: knobs: "+strings.ReplaceAll(c.want, "--", ""), err.Error())
		})
	}
}

// apply returns the configuration opts make of a zero config.
func apply(opts []Option) config {
	var c config
	for _, o := range opts {
		o(&c)
	}
	return c
}

// TestKnobsOptions: the Options built from accepted knobs configure the sandbox as the options
// listed by hand do.
func TestKnobsOptions(t *testing.T) {
	cases := []struct {
		name string
		edit func(k *Knobs)
		want []Option
	}{
		{"defaults", func(*Knobs) {}, []Option{TokenTTL(time.Hour), Seed(1)}},
		{"every knob", func(k *Knobs) {
			*k = Knobs{Latency: 5 * time.Millisecond, LatencyMedian: 10 * time.Millisecond, LatencyP99: 40 * time.Millisecond,
				Stall: " 2s - 3s ", ErrorRate: 0.1, ThrottleRate: 0.2, RetryAfter: 2 * time.Second, ResetRate: 0.3,
				TokenTTL: time.Minute, Seed: 9, EveryMember: true, Drift: " price-as-string , html-401"}
		}, []Option{Latency(5 * time.Millisecond), LatencyDist(10*time.Millisecond, 40*time.Millisecond),
			Stall(2*time.Second, 3*time.Second), ErrorRate(0.1), ThrottleRate(0.2, 2*time.Second), ResetRate(0.3),
			TokenTTL(time.Minute), Seed(9), EveryMember(), Drift("price-as-string", "html-401")}},
		{"edges accepted", func(k *Knobs) {
			k.ErrorRate, k.LatencyMedian, k.LatencyP99, k.Stall, k.RetryAfter = 1, time.Millisecond, time.Millisecond, "0s-1ms", 0
		}, []Option{LatencyDist(time.Millisecond, time.Millisecond), Stall(0, time.Millisecond), ErrorRate(1), TokenTTL(time.Hour), Seed(1)}},
		{"retry after without throttling", func(k *Knobs) { k.RetryAfter = 5 * time.Second }, []Option{TokenTTL(time.Hour), Seed(1)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k := validKnobs()
			c.edit(&k)
			opts, err := k.Options()
			require.NoError(t, err)
			got := apply(opts)
			assert.Empty(t, got.errs)
			assert.Equal(t, apply(c.want), got)
		})
	}
}

func TestCheckListenAddr(t *testing.T) {
	const every = " listens on every interface; give one address, e.g. 127.0.0.1:18080"
	const remote = " is not a loopback address; the sandbox hands out fixed demo credentials"
	cases := []struct {
		addr        string
		allowRemote bool
		want        string // "" = accepted
	}{
		{"127.0.0.1:18080", false, ""},
		{"127.1.2.3:0", false, ""},
		{"[::1]:0", false, ""},
		{"[::ffff:127.0.0.1]:0", false, ""},
		{"localhost:0", false, ""},
		{"LocalHost:0", false, ""},
		{"no-port", false, `want host:port, got "no-port"`},
		{"0.0.0.0:0", false, `"0.0.0.0:0"` + every},
		{"0.0.0.0:0", true, `"0.0.0.0:0"` + every},
		{"[::]:0", true, `"[::]:0"` + every},
		{":18080", false, `":18080"` + every},
		{":18080", true, `":18080"` + every},
		{"192.0.2.1:0", false, `"192.0.2.1:0"` + remote},
		{"192.0.2.1:0", true, ""},
		{"example.com:80", false, `"example.com:80"` + remote},
		{"example.com:80", true, ""},
	}
	for _, c := range cases {
		name := c.addr
		if c.allowRemote {
			name += " allow remote"
		}
		t.Run(name, func(t *testing.T) {
			err := CheckListenAddr(c.addr, c.allowRemote)
			if c.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, c.want, err.Error())
			assert.Equal(t, strings.HasSuffix(c.want, remote), errors.Is(err, ErrNotLoopback),
				"got errors.Is(err, ErrNotLoopback) %v for %q", errors.Is(err, ErrNotLoopback), err)
		})
	}
}

// TestWriteDriftModes reads the table back: one line a mode, in columns.
func TestWriteDriftModes(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, WriteDriftModes(&b))
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	modes := DriftModes()
	require.Len(t, lines, len(modes))
	for i, m := range modes {
		kind := "fail"
		if m.DriftOnly {
			kind = "drift"
		}
		require.Greater(t, len(lines[i]), 29, "line %d too short: %q", i, lines[i])
		assert.Equal(t, m.Name, strings.TrimRight(lines[i][:22], " "), "line %d", i)
		assert.Equal(t, kind, strings.TrimSpace(lines[i][22:29]), "line %d", i)
		assert.Equal(t, m.Description, lines[i][29:], "line %d", i)
	}
}

// TestWriteBannerAndStopped: the start-up banner and the stop line as the sandbox command prints
// them, with what the server has served.
func TestWriteBannerAndStopped(t *testing.T) {
	s := StartTB(t, Seed(1))
	var b bytes.Buffer
	require.NoError(t, s.WriteBanner(&b))
	want := strings.ReplaceAll(`XONE sandbox listening on URL
  token:    POST URL/api/oauth/token   (JSON body)
  confirm:  POST URL/api/partners/SANDBOX-PARTNER/offers/{offer_id}/confirm
  client:   sandbox-client / sandbox-secret   (scope offers:update)
  readonly: sandbox-readonly / sandbox-readonly-secret   (scope offers:view)
Try:
  xoneharness run --base-url URL --client-id sandbox-client   (secret via XONE_CLIENT_SECRET=sandbox-secret)
Ctrl-C stops it.
`, "URL", s.URL())
	assert.Equal(t, want, b.String())

	r := httptest.NewRequest(http.MethodPost, TokenPath, strings.NewReader(
		`{"grant_type":"client_credentials","client_id":"`+ClientID+`","client_secret":"`+ClientSecret+`"}`))
	r.Header.Set("Content-Type", "application/json")
	require.Equal(t, http.StatusOK, serve(s, r).Code)
	tok := s.MintToken(ClientID, 0)
	for _, offer := range []string{offerID(1), offerID(2)} {
		require.Equal(t, http.StatusOK, serve(s, confirmReq(offer, tok, validBody(t))).Code)
	}
	require.Equal(t, http.StatusUnprocessableEntity, serve(s, confirmReq(offerID(1), tok, validBody(t))).Code)
	require.Equal(t, http.StatusUnauthorized, serve(s, confirmReq(offerID(3), "", validBody(t))).Code)
	b.Reset()
	require.NoError(t, s.WriteStopped(&b))
	assert.Equal(t, "sandbox stopped: 1 tokens issued, 4 confirms (2 confirmed, 1 duplicate)\n", b.String())
}

type failingWriter struct{}

var errWrite = errors.New("disk full")

func (failingWriter) Write([]byte) (int, error) { return 0, errWrite }

func TestWritersReturnWriteErrors(t *testing.T) {
	s := newTB(t)
	for name, write := range map[string]func() error{
		"banner":      func() error { return s.WriteBanner(failingWriter{}) },
		"stopped":     func() error { return s.WriteStopped(failingWriter{}) },
		"drift modes": func() error { return WriteDriftModes(failingWriter{}) },
	} {
		t.Run(name, func(t *testing.T) {
			assert.ErrorIs(t, write(), errWrite)
		})
	}
}
