package contract

import (
	"errors"
	"flag"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xoneharness/xoneharness/internal/egress"
)

// explicitDefaults are a command line's defaults.
func explicitDefaults() Config {
	return Config{Race: DefaultRace, MaxShrinks: DefaultMaxShrinks, GenerateRate: DefaultGenerateRate}
}

func TestConfigExplicit(t *testing.T) {
	tests := []struct {
		name      string
		edit      func(*Config)
		want      Config // Race, MaxShrinks and the generation knobs Explicit returns, when valid
		wantField string // "" is valid
		wantErr   string
	}{
		{name: "defaults", edit: func(*Config) {}, want: Config{Race: DefaultRace, MaxShrinks: DefaultMaxShrinks, GenerateRate: DefaultGenerateRate}},
		{name: "all set", edit: func(c *Config) {
			*c = Config{OfferID: "o-1", QuoteID: "q-1", SkipInvariants: Invariants(), Race: MaxRace, Generate: 5, Seed: 9, MaxShrinks: 7,
				GenerateOffers: 3, GenerateRate: MaxGenerateRate}
		}, want: Config{Race: MaxRace, Generate: 5, Seed: 9, MaxShrinks: 7, GenerateOffers: 3, GenerateRate: MaxGenerateRate}},
		{name: "race 0 skips", edit: func(c *Config) { c.Race = 0 }, want: Config{Race: -1, MaxShrinks: DefaultMaxShrinks, GenerateRate: DefaultGenerateRate}},
		{name: "race 2", edit: func(c *Config) { c.Race = 2 }, want: Config{Race: 2, MaxShrinks: DefaultMaxShrinks, GenerateRate: DefaultGenerateRate}},
		{name: "generated, all set", edit: func(c *Config) {
			c.Generate, c.Seed, c.MaxShrinks, c.GenerateOffers, c.GenerateRate = 5, 9, 0, 3, 1
		}, want: Config{Race: DefaultRace, Generate: 5, Seed: 9, MaxShrinks: -1, GenerateOffers: 3, GenerateRate: 1}},
		{name: "generation knobs without generate", edit: func(c *Config) { c.Seed, c.GenerateOffers = 9, 3 },
			want: Config{Race: DefaultRace, Seed: 9, MaxShrinks: DefaultMaxShrinks, GenerateOffers: 3, GenerateRate: DefaultGenerateRate}},
		{name: "unknown invariant", edit: func(c *Config) { c.SkipInvariants = []string{Invariants()[0], "nope"} },
			wantField: "SkipInvariants", wantErr: `unknown invariant "nope" (known: ` + strings.Join(Invariants(), ", ") + ")"},
		{name: "offer without quote", edit: func(c *Config) { c.OfferID = "o-1" }, wantField: "OfferID and QuoteID", wantErr: "give both or neither"},
		{name: "quote without offer", edit: func(c *Config) { c.QuoteID = "q-1" }, wantField: "OfferID and QuoteID", wantErr: "give both or neither"},
		{name: "offer not an id", edit: func(c *Config) { c.OfferID, c.QuoteID = "o/1", "q-1" }, wantField: "OfferID", wantErr: `invalid character '/' at byte 2`},
		{name: "quote a path segment", edit: func(c *Config) { c.OfferID, c.QuoteID = "o-1", ".." }, wantField: "QuoteID", wantErr: `".." is not a path segment`},
		{name: "race 1", edit: func(c *Config) { c.Race = 1 }, wantField: "Race", wantErr: "want 2 to 20 simultaneous confirms, or 0 to skip the race check, got 1"},
		{name: "race above max", edit: func(c *Config) { c.Race = MaxRace + 1 }, wantField: "Race", wantErr: "want 2 to 20 simultaneous confirms, or 0 to skip the race check, got 21"},
		{name: "race negative", edit: func(c *Config) { c.Race = -1 }, wantField: "Race", wantErr: "got -1"},
		{name: "generate negative", edit: func(c *Config) { c.Generate = -1 }, wantField: "Generate", wantErr: "want a number of cases, 0 or more, got -1"},
		{name: "rate 0", edit: func(c *Config) { c.GenerateRate = 0 }, wantField: "GenerateRate", wantErr: "want requests per second above 0 and at most 50, got 0"},
		{name: "rate negative", edit: func(c *Config) { c.GenerateRate = -1 }, wantField: "GenerateRate", wantErr: "got -1"},
		{name: "rate NaN", edit: func(c *Config) { c.GenerateRate = math.NaN() }, wantField: "GenerateRate", wantErr: "got NaN"},
		{name: "rate Inf", edit: func(c *Config) { c.GenerateRate = math.Inf(1) }, wantField: "GenerateRate", wantErr: "got +Inf"},
		{name: "rate above max", edit: func(c *Config) { c.GenerateRate = 1e9 }, wantField: "GenerateRate", wantErr: "got 1e+09"},
		{name: "shrinks negative", edit: func(c *Config) { c.MaxShrinks = -1 }, wantField: "MaxShrinks", wantErr: "want 0 or more, got -1"},
		{name: "offers negative", edit: func(c *Config) { c.GenerateOffers = -2 }, wantField: "GenerateOffers", wantErr: "want 0 or more, got -2"},
		{name: "first field first", edit: func(c *Config) { c.SkipInvariants, c.Race, c.GenerateRate = []string{"nope"}, 1, 0 },
			wantField: "SkipInvariants", wantErr: "nope"},
		{name: "offer before the race", edit: func(c *Config) { c.OfferID, c.Race = "o-1", 1 }, wantField: "OfferID and QuoteID", wantErr: "give both"},
		{name: "race before generated cases", edit: func(c *Config) { c.Race, c.GenerateRate = 1, 0 }, wantField: "Race", wantErr: "got 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := explicitDefaults()
			tt.edit(&c)
			in := c
			got, err := c.Explicit()
			if tt.wantField == "" {
				require.NoError(t, err)
				w := tt.want
				assert.Equal(t, [6]any{w.Race, w.MaxShrinks, w.Generate, w.Seed, w.GenerateOffers, w.GenerateRate},
					[6]any{got.Race, got.MaxShrinks, got.Generate, got.Seed, got.GenerateOffers, got.GenerateRate},
					"got Race, MaxShrinks, Generate, Seed, GenerateOffers, GenerateRate; want the same")
				assert.Equal(t, [2]string{in.OfferID, in.QuoteID}, [2]string{got.OfferID, got.QuoteID}, "got the offer changed")
				assert.Equal(t, in.SkipInvariants, got.SkipInvariants)
				return
			}
			var fe *FieldError
			require.True(t, errors.As(err, &fe), "got %v, want a *FieldError", err)
			assert.Equal(t, tt.wantField, fe.Field)
			assert.Contains(t, fe.Err.Error(), tt.wantErr)
			assert.ErrorIs(t, err, ErrConfig)
			assert.Equal(t, "contract: "+tt.wantField+": "+fe.Err.Error(), err.Error())
		})
	}
}

func TestConfigTakeOffers(t *testing.T) {
	gate, err := egress.New(egress.Config{MaxRate: 3}) // MaxGroup 3
	require.NoError(t, err)
	feed := func(ids ...string) func() (string, string, bool) {
		return func() (string, string, bool) {
			if len(ids) == 0 {
				return "", "", false
			}
			o := ids[0]
			ids = ids[1:]
			return o, "q-" + o, true
		}
	}
	sandbox := Config{BaseURL: "http://127.0.0.1:1", Embedded: true, Race: DefaultRace}
	partner := Config{BaseURL: "https://partner.test", Conns: gate, Race: -1}
	with := func(c Config, edit func(*Config)) Config { edit(&c); return c }
	tests := []struct {
		name       string
		cfg        Config // BaseURL, Embedded, Conns, Race and the configured offer
		next       func() (string, string, bool)
		wantOffer  string // the offer for confirm-ok, "fresh" for fresh UUIDs
		wantNext   string // the offer NextOffer gives first ("" for NextOffer nil, "none" for an empty feed)
		wantErr    error
		wantErrMsg string
	}{
		{name: "defaults on the sandbox", cfg: sandbox, wantOffer: "fresh"},
		{name: "race skipped on the sandbox", cfg: with(sandbox, func(c *Config) { c.Race = -1 }), wantOffer: "fresh"},
		{name: "configured offer kept", cfg: with(partner, func(c *Config) { c.OfferID, c.QuoteID = "o-1", "q-o-1" }), next: feed("o-2"),
			wantOffer: "o-1", wantNext: "o-2"},
		{name: "configured offer on the sandbox", cfg: with(sandbox, func(c *Config) { c.OfferID, c.QuoteID = "o-1", "q-o-1" }), wantOffer: "o-1"},
		{name: "first row of the feed", cfg: partner, next: feed("o-2", "o-3"), wantOffer: "o-2", wantNext: "o-3"},
		{name: "feed on the sandbox: first row, no NextOffer", cfg: with(sandbox, func(c *Config) { c.Conns = gate }), next: feed("o-2"), wantOffer: "o-2"},
		{name: "empty feed", cfg: sandbox, next: feed(), wantErr: ErrNoOffer},
		{name: "no offer off the sandbox", cfg: partner},
		{name: "race group too large off loopback", cfg: with(partner, func(c *Config) { c.Race = DefaultRace }), next: feed("o-2"),
			wantErr: egress.ErrGroupTooLarge, wantErrMsg: "contract: Race: 5 simultaneous confirms exceed what the rate ceiling lets leave at once (3)"},
		{name: "race 0 is the default group", cfg: with(partner, func(c *Config) { c.Race = 0 }), next: feed("o-2"),
			wantErr: egress.ErrGroupTooLarge, wantErrMsg: "contract: Race: 5 simultaneous"},
		{name: "race group on loopback", cfg: Config{BaseURL: "http://127.0.0.1:1", Conns: gate, Race: DefaultRace}, next: feed("o-2"),
			wantOffer: "o-2", wantNext: "none"},
		{name: "race group within the ceiling", cfg: with(partner, func(c *Config) { c.Race = 3 }), next: feed("o-2"), wantOffer: "o-2", wantNext: "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			err := cfg.TakeOffers(tt.next)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.Contains(t, err.Error(), tt.wantErrMsg)
				return
			}
			require.NoError(t, err)
			if tt.wantOffer == "fresh" {
				assert.Len(t, cfg.OfferID, 36, "got offer %q, want a fresh UUID", cfg.OfferID)
				assert.Len(t, cfg.QuoteID, 36, "got quote %q, want a fresh UUID", cfg.QuoteID)
				assert.NotEqual(t, cfg.OfferID, cfg.QuoteID)
			} else {
				assert.Equal(t, tt.wantOffer, cfg.OfferID)
				assert.Equal(t, map[bool]string{true: "q-" + tt.wantOffer}[tt.wantOffer != ""], cfg.QuoteID)
			}
			assert.Equal(t, tt.cfg.Race, cfg.Race, "got Race %d, want it unchanged", cfg.Race)
			require.Equal(t, tt.wantNext != "", cfg.NextOffer != nil, "got NextOffer set %v, want %v", cfg.NextOffer != nil, tt.wantNext != "")
			if cfg.NextOffer != nil {
				got, _, ok := cfg.NextOffer()
				if !ok {
					got = "none"
				}
				assert.Equal(t, tt.wantNext, got, "got NextOffer's first %q, want %q (the feed after what confirm-ok took)", got, tt.wantNext)
			}
		})
	}
}

// TestPrepareRapid: outside go test, rapid.Check needs testing.Init and
// parsed flags, and must not write fail files.
func TestPrepareRapid(t *testing.T) {
	f := flag.Lookup("rapid.nofailfile")
	require.NotNil(t, f, "rapid registers its flags")
	old := f.Value.String()
	t.Cleanup(func() { _ = f.Value.Set(old) })
	require.NoError(t, f.Value.Set("false"))
	prepareRapid()
	assert.Equal(t, "true", f.Value.String(), "got rapid.nofailfile %s, want true", f.Value.String())
	assert.True(t, flag.Parsed())
	assert.NotPanics(t, func() { _ = testing.Short() })
	setupRapid()
	setupRapid() // once: a second call is harmless
}
