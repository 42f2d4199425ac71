package main

import (
	"flag"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/xoneharness/xoneharness/contract"
)

func TestGenerateFlagsApply(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		embedded bool
		want     contract.Config
	}{
		{"off", nil, true, contract.Config{Embedded: true}},
		{"defaults", []string{"--generate", "200"}, true, contract.Config{Embedded: true, Generate: 200,
			MaxShrinks: contract.DefaultMaxShrinks, GenerateRate: contract.DefaultGenerateRate}},
		{"all", []string{"--generate", "5", "--seed", "9", "--max-shrinks", "0", "--generate-offers", "3", "--generate-rate", "1"},
			true, contract.Config{Embedded: true, Generate: 5, Seed: 9, MaxShrinks: -1, GenerateOffers: 3, GenerateRate: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("x", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			var g generateFlags
			g.register(fs)
			assert.NoError(t, fs.Parse(tc.args))
			cfg := contract.Config{Embedded: tc.embedded}
			g.apply(&cfg)
			assert.Equal(t, tc.want.Generate, cfg.Generate)
			assert.Equal(t, tc.want.Seed, cfg.Seed)
			assert.Equal(t, tc.want.MaxShrinks, cfg.MaxShrinks)
			assert.Equal(t, tc.want.GenerateOffers, cfg.GenerateOffers)
			assert.Equal(t, tc.want.GenerateRate, cfg.GenerateRate)
		})
	}
}
