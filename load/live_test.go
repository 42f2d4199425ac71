package load

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xoneharness/xoneharness/internal/auth"
	"github.com/xoneharness/xoneharness/internal/xone"
	"github.com/xoneharness/xoneharness/ledger"
	"github.com/xoneharness/xoneharness/spec"
)

// TestLiveLoad runs the load suite against a live target, as CI does, when
// XONE_LOAD=1. It reads XONE_BASE_URL, XONE_TOKEN_URL (default
// {base}/api/oauth/token), XONE_CLIENT_ID, XONE_CLIENT_SECRET, XONE_PARTNER_ID,
// XONE_OFFERS_FILE (required), XONE_LOAD_RATE (default 2/s), XONE_LOAD_DURATION
// (default 10s), XONE_THRESHOLDS (comma separated) and XONE_MAX_RATE (default
// 20/s off loopback); it fails on a failed threshold and publishes p50/p95/p99,
// throughput and error rate with t.Attr.
func TestLiveLoad(t *testing.T) {
	if os.Getenv("XONE_LOAD") != "1" {
		t.Skip("set XONE_LOAD=1 with XONE_BASE_URL, XONE_CLIENT_ID, XONE_CLIENT_SECRET, XONE_PARTNER_ID and XONE_OFFERS_FILE to run the load suite against a live target")
	}
	env := func(k, def string) string {
		if v := strings.TrimSpace(os.Getenv(k)); v != "" {
			return v
		}
		return def
	}
	base := strings.TrimRight(env("XONE_BASE_URL", ""), "/")
	require.NotEmpty(t, base, "XONE_BASE_URL is required")
	plan := Plan{Rate: env("XONE_LOAD_RATE", "2/s"), ValidateSample: 1}
	d, err := time.ParseDuration(env("XONE_LOAD_DURATION", "10s"))
	require.NoError(t, err, "XONE_LOAD_DURATION")
	plan.Duration = d
	if th := env("XONE_THRESHOLDS", ""); th != "" {
		for _, expr := range strings.Split(th, ",") {
			plan.Thresholds = append(plan.Thresholds, strings.TrimSpace(expr))
		}
	}
	require.NoError(t, plan.Validate())
	maxRate, err := strconv.ParseFloat(env("XONE_MAX_RATE", "0"), 64)
	require.NoError(t, err, "XONE_MAX_RATE")
	require.NoError(t, CheckTarget(base, plan.PeakRate(), maxRate, 1, false))

	offersFile := env("XONE_OFFERS_FILE", "")
	require.NotEmpty(t, offersFile, "XONE_OFFERS_FILE is required against a live target")

	src, err := auth.New(auth.Config{
		TokenURL: env("XONE_TOKEN_URL", base+xone.TokenPath),
		ClientID: env("XONE_CLIENT_ID", ""), ClientSecret: env("XONE_CLIENT_SECRET", ""),
	})
	require.NoError(t, err)
	s, err := spec.Load()
	require.NoError(t, err)
	// Live bookings must be cleaned up: keep the ledger (XONE_LOAD_OUT, or a kept temp dir).
	// Offers are claimed under out's parent: runs that share it never
	// confirm an offer twice.
	out := env("XONE_LOAD_OUT", "")
	if out == "" {
		root, err := os.MkdirTemp("", "xoneharness-load-")
		require.NoError(t, err)
		out = filepath.Join(root, "run")
	}
	claims, err := ledger.OpenClaims(filepath.Dir(filepath.Clean(out)), out)
	require.NoError(t, err)
	defer func() { require.NoError(t, claims.Close()) }()
	offers, _, err := OpenOffers(t.Context(), offersFile, nil, OfferOptions{Claims: claims})
	require.NoError(t, err)
	defer func() { _ = offers.Close() }()
	res, err := Run(t.Context(), Config{
		Plan: plan, BaseURL: base, PartnerID: env("XONE_PARTNER_ID", ""), Tokens: src,
		Offers: offers, Spec: s, OutDir: out,
	})
	require.NoError(t, err)
	ms := func(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
	t.Attr("p50_ms", ms(res.Latency.P50))
	t.Attr("p95_ms", ms(res.Latency.P95))
	t.Attr("p99_ms", ms(res.Latency.P99))
	t.Attr("throughput_per_s", ms(res.Throughput))
	t.Attr("error_rate", strconv.FormatFloat(res.ErrorRate, 'f', 6, 64))
	t.Logf("%d requests, %.1f/s achieved, stop: %s, bookings in %s", res.Requests, res.RateAchieved, res.StopReason, out)
	for _, th := range res.Thresholds {
		if !th.Passed {
			t.Errorf("threshold %s failed: observed %v%s %s", th.Expr, th.Observed, th.Unit, th.Note)
		}
	}
}
