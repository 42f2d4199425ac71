package contract

import (
	"encoding/json"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xoneharness/xoneharness/internal/egress"
)

// validOptions are a command line's defaults.
func validOptions() Options {
	return Options{Race: DefaultRace, MaxShrinks: DefaultMaxShrinks, GenerateRate: DefaultGenerateRate}
}

func TestOptionsValidate(t *testing.T) {
	dir := t.TempDir()
	badPH, full := filepath.Join(dir, "ph.json"), filepath.Join(dir, "full")
	require.NoError(t, os.WriteFile(badPH, []byte("{\n  oops\n}"), 0o600))
	require.NoError(t, os.MkdirAll(filepath.Join(full, "case"), 0o755))
	tests := []struct {
		name      string
		edit      func(*Options)
		wantField string // "" is valid
		wantErr   string
	}{
		{"defaults", func(*Options) {}, "", ""},
		{"all set", func(o *Options) {
			*o = Options{OfferID: "o-1", QuoteID: "q-1", SkipInvariants: Invariants(), Race: MaxRace, Generate: 5, Seed: 9,
				GenerateOffers: 3, GenerateRate: MaxGenerateRate, Record: filepath.Join(dir, "new")}
		}, "", ""},
		{"policyholder unreadable", func(o *Options) { o.Policyholder = filepath.Join(dir, "none.json") }, "Policyholder", "none.json: no such file"},
		{"policyholder not JSON", func(o *Options) { o.Policyholder = badPH }, "Policyholder", badPH + ":2: want one JSON object"},
		{"record into a full directory", func(o *Options) { o.Record = full }, "Record", "is not empty"},
		{"race 0 skips", func(o *Options) { o.Race = 0 }, "", ""},
		{"race 2", func(o *Options) { o.Race = 2 }, "", ""},
		{"unknown invariant", func(o *Options) { o.SkipInvariants = []string{Invariants()[0], "nope"} },
			"SkipInvariants", `unknown invariant "nope" (known: ` + strings.Join(Invariants(), ", ") + ")"},
		{"offer without quote", func(o *Options) { o.OfferID = "o-1" }, "OfferID and QuoteID", "give both or neither"},
		{"quote without offer", func(o *Options) { o.QuoteID = "q-1" }, "OfferID and QuoteID", "give both or neither"},
		{"offer not an id", func(o *Options) { o.OfferID, o.QuoteID = "o/1", "q-1" }, "OfferID", `invalid character '/' at byte 2`},
		{"quote a path segment", func(o *Options) { o.OfferID, o.QuoteID = "o-1", ".." }, "QuoteID", `".." is not a path segment`},
		{"race 1", func(o *Options) { o.Race = 1 }, "Race", "want 2 to 20 simultaneous confirms, or 0 to skip the race check, got 1"},
		{"race above max", func(o *Options) { o.Race = MaxRace + 1 }, "Race", "want 2 to 20 simultaneous confirms, or 0 to skip the race check, got 21"},
		{"race negative", func(o *Options) { o.Race = -1 }, "Race", "got -1"},
		{"generate negative", func(o *Options) { o.Generate = -1 }, "Generate", "want a number of cases, 0 or more, got -1"},
		{"rate 0", func(o *Options) { o.GenerateRate = 0 }, "GenerateRate", "want requests per second above 0 and at most 50, got 0"},
		{"rate negative", func(o *Options) { o.GenerateRate = -1 }, "GenerateRate", "got -1"},
		{"rate NaN", func(o *Options) { o.GenerateRate = math.NaN() }, "GenerateRate", "got NaN"},
		{"rate Inf", func(o *Options) { o.GenerateRate = math.Inf(1) }, "GenerateRate", "got +Inf"},
		{"rate above max", func(o *Options) { o.GenerateRate = 1e9 }, "GenerateRate", "got 1e+09"},
		{"shrinks negative", func(o *Options) { o.MaxShrinks = -1 }, "MaxShrinks", "want 0 or more, got -1"},
		{"offers negative", func(o *Options) { o.GenerateOffers = -2 }, "GenerateOffers", "want 0 or more, got -2"},
		{"first field first", func(o *Options) { o.SkipInvariants, o.Race, o.GenerateRate = []string{"nope"}, 1, 0 }, "SkipInvariants", "nope"},
		{"policyholder before the offer", func(o *Options) { o.Policyholder, o.OfferID = badPH, "o-1" }, "Policyholder", "ph.json"},
		{"race before the record", func(o *Options) { o.Race, o.Record = 1, full }, "Race", "got 1"},
		{"record before generated cases", func(o *Options) { o.Record, o.GenerateRate = full, 0 }, "Record", "is not empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := validOptions()
			tt.edit(&o)
			err := o.Validate()
			if tt.wantField == "" {
				assert.NoError(t, err)
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

func TestOptionsApply(t *testing.T) {
	gate, err := egress.New(egress.Config{MaxRate: 3}) // MaxGroup 3
	require.NoError(t, err)
	ph := filepath.Join(t.TempDir(), "ph.json")
	require.NoError(t, os.WriteFile(ph, []byte(`{"first_name":"Grace"}`), 0o600))
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
	tests := []struct {
		name       string
		opts       func(*Options)
		cfg        Config // BaseURL, Embedded, Conns
		next       func() (string, string, bool)
		want       Config // the fields Apply sets
		wantFresh  bool   // fresh ids for confirm-ok
		wantNext   string // the offer NextOffer gives first ("" for NextOffer nil, "none" for an empty feed)
		wantErr    error
		wantErrMsg string
	}{
		{name: "defaults on the sandbox", cfg: Config{BaseURL: "http://127.0.0.1:1", Embedded: true},
			want: Config{Race: DefaultRace}, wantFresh: true},
		{name: "race 0 skips", opts: func(o *Options) { o.Race = 0 }, cfg: Config{BaseURL: "http://127.0.0.1:1", Embedded: true},
			want: Config{Race: -1}, wantFresh: true},
		{name: "generated, defaults", opts: func(o *Options) { o.Generate = 200 }, cfg: Config{BaseURL: "http://127.0.0.1:1", Embedded: true},
			want: Config{Race: DefaultRace, Generate: 200, MaxShrinks: DefaultMaxShrinks, GenerateRate: DefaultGenerateRate}, wantFresh: true},
		{name: "generated, all set", opts: func(o *Options) {
			o.Generate, o.Seed, o.MaxShrinks, o.GenerateOffers, o.GenerateRate = 5, 9, 0, 3, 1
		}, cfg: Config{BaseURL: "http://127.0.0.1:1", Embedded: true},
			want: Config{Race: DefaultRace, Generate: 5, Seed: 9, MaxShrinks: -1, GenerateOffers: 3, GenerateRate: 1}, wantFresh: true},
		{name: "generation knobs without generate", opts: func(o *Options) { o.Seed, o.GenerateOffers = 9, 3 },
			cfg: Config{BaseURL: "http://127.0.0.1:1", Embedded: true}, want: Config{Race: DefaultRace}, wantFresh: true},
		{name: "configured offer kept", opts: func(o *Options) { o.OfferID, o.QuoteID, o.Race = "o-1", "q-1", 0 },
			cfg: Config{BaseURL: "https://partner.test", Conns: gate}, next: feed("o-2"),
			want: Config{Race: -1, OfferID: "o-1", QuoteID: "q-1"}, wantNext: "o-2"},
		{name: "configured offer on the sandbox", opts: func(o *Options) { o.OfferID, o.QuoteID = "o-1", "q-1" },
			cfg: Config{BaseURL: "http://127.0.0.1:1", Embedded: true}, want: Config{Race: DefaultRace, OfferID: "o-1", QuoteID: "q-1"}},
		{name: "first row of the feed", cfg: Config{BaseURL: "https://partner.test", Conns: gate}, next: feed("o-2", "o-3"),
			want: Config{Race: -1, OfferID: "o-2", QuoteID: "q-o-2"}, opts: func(o *Options) { o.Race = 0 }, wantNext: "o-3"},
		{name: "feed on the sandbox: first row, no NextOffer", cfg: Config{BaseURL: "http://127.0.0.1:1", Embedded: true, Conns: gate},
			next: feed("o-2"), want: Config{Race: DefaultRace, OfferID: "o-2", QuoteID: "q-o-2"}},
		{name: "empty feed", cfg: Config{BaseURL: "http://127.0.0.1:1", Embedded: true}, next: feed(), wantErr: ErrNoOffer},
		{name: "no offer off the sandbox", opts: func(o *Options) { o.Race = 0 }, cfg: Config{BaseURL: "https://partner.test", Conns: gate},
			want: Config{Race: -1}},
		{name: "race group too large off loopback", cfg: Config{BaseURL: "https://partner.test", Conns: gate}, next: feed("o-2"),
			wantErr: egress.ErrGroupTooLarge, wantErrMsg: "contract: Race: 5 simultaneous confirms exceed what the rate ceiling lets leave at once (3)"},
		{name: "race group on loopback", cfg: Config{BaseURL: "http://127.0.0.1:1", Conns: gate}, next: feed("o-2"),
			want: Config{Race: DefaultRace, OfferID: "o-2", QuoteID: "q-o-2"}, wantNext: "none"},
		{name: "race group within the ceiling", opts: func(o *Options) { o.Race = 3 }, cfg: Config{BaseURL: "https://partner.test", Conns: gate},
			next: feed("o-2"), want: Config{Race: 3, OfferID: "o-2", QuoteID: "q-o-2"}, wantNext: "none"},
		{name: "invalid options", opts: func(o *Options) { o.Race = 1 }, cfg: Config{BaseURL: "http://127.0.0.1:1", Embedded: true},
			wantErr: ErrConfig, wantErrMsg: "contract: Race: "},
		{name: "policyholder read", opts: func(o *Options) { o.Policyholder = ph }, cfg: Config{BaseURL: "http://127.0.0.1:1", Embedded: true},
			want: Config{Race: DefaultRace, Policyholder: json.RawMessage(`{"first_name":"Grace"}`)}, wantFresh: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := validOptions()
			if tt.opts != nil {
				tt.opts(&o)
			}
			cfg := tt.cfg
			err := o.Apply(&cfg, tt.next)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.Contains(t, err.Error(), tt.wantErrMsg)
				return
			}
			require.NoError(t, err)
			for _, f := range []struct {
				name      string
				got, want any
			}{
				{"Race", cfg.Race, tt.want.Race}, {"Generate", cfg.Generate, tt.want.Generate}, {"Seed", cfg.Seed, tt.want.Seed},
				{"MaxShrinks", cfg.MaxShrinks, tt.want.MaxShrinks}, {"GenerateOffers", cfg.GenerateOffers, tt.want.GenerateOffers},
				{"GenerateRate", cfg.GenerateRate, tt.want.GenerateRate}, {"Policyholder", string(cfg.Policyholder), string(tt.want.Policyholder)},
			} {
				assert.Equal(t, f.want, f.got, "%s: got %v, want %v", f.name, f.got, f.want)
			}
			if tt.wantFresh {
				assert.Len(t, cfg.OfferID, 36, "got offer %q, want a fresh UUID", cfg.OfferID)
				assert.Len(t, cfg.QuoteID, 36, "got quote %q, want a fresh UUID", cfg.QuoteID)
				assert.NotEqual(t, cfg.OfferID, cfg.QuoteID)
			} else {
				assert.Equal(t, tt.want.OfferID, cfg.OfferID)
				assert.Equal(t, tt.want.QuoteID, cfg.QuoteID)
			}
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
