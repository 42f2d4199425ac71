package load

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	vegeta "github.com/tsenart/vegeta/v12/lib"
	"golang.org/x/oauth2"

	"github.com/xoneharness/xoneharness/internal/auth"
	"github.com/xoneharness/xoneharness/internal/sandbox"
	"github.com/xoneharness/xoneharness/spec"
)

// TestPercentileThresholdsMatchReport: every percentile the grammar accepts is
// judged on the value the report prints (p100 is the maximum, never p10).
func TestPercentileThresholdsMatchReport(t *testing.T) {
	s := newStats(0)
	start := time.Now()
	for i := range 1000 {
		r := &vegeta.Result{Code: 200, Timestamp: start.Add(time.Duration(i) * time.Millisecond),
			Latency: time.Duration(i+1) * time.Millisecond}
		s.add(r, r.Timestamp)
	}
	r := &Result{}
	s.fill(r)
	for expr, printed := range map[string]float64{
		"p50": r.Latency.P50, "p90": r.Latency.P90, "p95": r.Latency.P95, "p99": r.Latency.P99,
		"p99.9": r.Latency.P999, "p999": r.Latency.P999, "p100": r.Latency.Max, "max": r.Latency.Max,
	} {
		th, err := ParseThreshold(expr + "<60m")
		require.NoError(t, err)
		EvaluateThresholds(r, []Threshold{th})
		assert.Equal(t, printed, r.Thresholds[0].Observed, "%s: got %v, want the printed %v", expr, r.Thresholds[0].Observed, printed)
	}
	assert.InDelta(t, 1000, r.Latency.Max, 1, "p100 is the maximum")
}

// TestNoDataThresholds: a threshold whose metric has no sample neither passes
// nor fails; the run is incomplete.
func TestNoDataThresholds(t *testing.T) {
	ts := mustThresholds(t, "error_rate<1%", "schema_violations==0", "p99<1s", "requests>=0")
	empty := &Result{StopReason: stopCompleted}
	EvaluateThresholds(empty, ts)
	for _, tr := range empty.Thresholds[:3] {
		assert.False(t, tr.Passed, "%s passed with no requests", tr.Expr)
		assert.True(t, tr.NoData, "%s: got NoData false, want true", tr.Expr)
	}
	assert.True(t, empty.Thresholds[3].Passed, "requests>=0 has data (0) and passes")
	assert.False(t, empty.Failed(), "no data is not a finding")
	assert.Contains(t, strings.Join(empty.Incomplete(), "; "), "sent no request")

	// Requests but nothing validated: only schema_violations lacks data.
	r := &Result{Requests: 100, SuccessRatio: 1, StopReason: stopCompleted, Offers: OfferStats{Confirmed: 100}}
	EvaluateThresholds(r, ts)
	assert.True(t, r.Thresholds[0].Passed)
	assert.True(t, r.Thresholds[1].NoData, "schema_violations==0 with nothing validated")
	assert.Equal(t, []string{"threshold schema_violations==0 has no data: no response was validated"}, r.Incomplete())

	// Too few samples to mean anything: a p99 of 10 requests, a rate of one.
	few := &Result{Requests: 10, SuccessRatio: 1, StopReason: stopCompleted, Offers: OfferStats{Confirmed: 10}, DurationSeconds: 5,
		Schema: SchemaStats{Validated: 10}}
	EvaluateThresholds(few, mustThresholds(t, "p99<1s", "p90<1s", "throughput>=1"))
	assert.True(t, few.Thresholds[0].NoData, "p99 of 10 requests")
	assert.Contains(t, few.Thresholds[0].Note, "p99 needs at least 100")
	assert.False(t, few.Thresholds[1].NoData, "p90 of 10 requests is the worst of them")
	assert.False(t, few.Thresholds[2].NoData)
	one := &Result{Requests: 1, SuccessRatio: 1, Throughput: 1000, StopReason: stopCompleted, Offers: OfferStats{Confirmed: 1}}
	EvaluateThresholds(one, mustThresholds(t, "throughput>=100", "max<1s"))
	assert.True(t, one.Thresholds[0].NoData, "one request is never enough for a rate")
	assert.True(t, one.Thresholds[1].NoData, "one request is never enough for a latency gate")
	assert.False(t, one.Passed())
}

// TestNoSuccessIsNeverPass: with every gate off, a run whose every request
// failed lacks the evidence of a pass.
func TestNoSuccessIsNeverPass(t *testing.T) {
	r := &Result{Requests: 50, StopReason: stopCompleted, StatusCodes: map[string]uint64{"503": 50}}
	EvaluateThresholds(r, nil)
	assert.True(t, r.Passed(), "no threshold to fail")
	assert.Contains(t, strings.Join(r.Incomplete(), "; "), "no confirm succeeded")
}

func mustThresholds(t *testing.T, exprs ...string) []Threshold {
	t.Helper()
	var out []Threshold
	for _, e := range exprs {
		th, err := ParseThreshold(e)
		require.NoError(t, err)
		out = append(out, th)
	}
	return out
}

// TestIncompleteStops: a run that ended before its plan's end for any reason
// but a threshold that could no longer pass is incomplete; an interrupt says
// so once.
func TestIncompleteStops(t *testing.T) {
	for _, tc := range []struct {
		res  Result
		want string
	}{
		{Result{Requests: 5, SuccessRatio: 1, StopReason: stopCompleted}, ""},
		{Result{Requests: 5, SuccessRatio: 1, StopReason: stopMaxRequests}, ""},
		{Result{Requests: 5, SuccessRatio: 1, StopReason: stopInterrupted, Interrupted: true}, "load interrupted by a signal"},
		{Result{Requests: 39, SuccessRatio: 1, StopReason: stopTokens}, "load stopped before the end of its plan: token source failing"},
		{Result{Requests: 39, SuccessRatio: 1, StopReason: stopAuth}, "load stopped before the end of its plan: authentication failing"},
		{Result{Requests: 39, SuccessRatio: 1, StopReason: stopExhausted}, "load stopped before the end of its plan: offer feed exhausted"},
		{Result{Requests: 39, SuccessRatio: 1, StopReason: stopThreshold + "p99<1ms"}, ""},
		{Result{Requests: 39, SuccessRatio: 1, StopReason: "merged"}, ""},
	} {
		got := strings.Join(tc.res.Incomplete(), "; ")
		assert.Equal(t, tc.want, got, "stop %q", tc.res.StopReason)
	}
}

// TestAchievedRateDefinition: a perfectly paced run achieves its requested
// rate (sends at 0, 300, 600 and 900 ms are 3.33/s, not 4.44/s), in the engine
// and in a merge alike, and --dry-run's count is what the run sends.
func TestAchievedRateDefinition(t *testing.T) {
	s := newStats(0)
	start := time.Now()
	for i := range 4 {
		r := &vegeta.Result{Code: 200, Timestamp: start.Add(time.Duration(i) * 300 * time.Millisecond), Latency: time.Millisecond}
		s.add(r, r.Timestamp)
	}
	r := &Result{}
	s.fill(r)
	assert.InDelta(t, 3.333, r.RateAchieved, 0.001, "got %v, want the paced 3.333/s", r.RateAchieved)

	cfg, _, _ := sandboxConfig(t, Plan{Rate: "1/300ms", Duration: time.Second})
	plan := cfg.Plan.WithDefaults()
	res, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	assert.Equal(t, plan.Requests(), res.Requests, "planned requests, got %d sent", res.Requests)
	assert.InDelta(t, 3.333, res.RateAchieved, 0.4)
	merged, err := MergeResults(cfg.OutDir + "/" + ResultsFile)
	require.NoError(t, err)
	assert.InDelta(t, res.RateAchieved, merged.RateAchieved, 0.01, "one definition in the engine and the merge")
	if assert.NotEmpty(t, merged.Timeline) {
		assert.Equal(t, 0, merged.Timeline[0].Second, "a merge's timeline counts from the attack's start too")
		var n uint64
		for _, b := range merged.Timeline {
			n += b.Requests
		}
		assert.Equal(t, merged.Requests, n)
	}
	assert.Empty(t, res.Incomplete())
	if assert.NotEmpty(t, res.Timeline) {
		assert.Equal(t, 0, res.Timeline[0].Second, "the timeline counts from the attack's start")
	}
}

// TestErrorStatusesAreNotSchemaViolations: a 5xx is an error status, counted
// once in its own class, never a schema violation.
func TestErrorStatusesAreNotSchemaViolations(t *testing.T) {
	cfg, _, _ := sandboxConfig(t, Plan{Rate: "50/s", Duration: time.Second,
		Thresholds: []string{"schema_violations==0", "status_undocumented==0", "error_rate<1%"}}, sandbox.ErrorRate(1))
	s, err := spec.Load()
	require.NoError(t, err)
	cfg.Spec = s
	res, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	require.Positive(t, res.Requests)
	assert.Zero(t, res.Schema.Violations, "5xx counted as schema violations: %+v", res.Schema.Details)
	assert.Equal(t, res.Requests, res.StatusUndocumented)
	require.Len(t, res.Thresholds, 3)
	assert.True(t, res.Thresholds[0].NoData, "nothing with a documented status was validated")
	assert.False(t, res.Thresholds[1].Passed)
	assert.False(t, res.Thresholds[2].Passed)
	assert.True(t, res.Failed())
	checkLedger(t, cfg.OutDir, res.Requests)
}

// TestRunPreCancelled: a Run whose context is already cancelled sends
// nothing, reports the interrupt, and does not race (run with -race).
func TestRunPreCancelled(t *testing.T) {
	cfg, _, _ := sandboxConfig(t, Plan{Rate: "50/s", Duration: time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := Run(ctx, cfg)
	require.NoError(t, err)
	assert.True(t, res.Interrupted)
	assert.Zero(t, res.Requests)
	assert.NotEmpty(t, res.Incomplete())
}

// revokingFront answers 401 to one revoked token and passes everything else
// to the sandbox.
type revokingFront struct {
	sb      http.Handler
	revoked atomic.Pointer[string]
	seen    atomic.Int64
	revokeN int64
	once    sync.Once
}

func (f *revokingFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := r.Header.Get("Authorization")
	if p := f.revoked.Load(); p != nil && h == *p {
		time.Sleep(20 * time.Millisecond)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"message":"Unauthenticated."}`)
		return
	}
	if strings.Contains(r.URL.Path, "/confirm") && f.seen.Add(1) == f.revokeN {
		f.once.Do(func() { f.revoked.Store(&h) })
	}
	f.sb.ServeHTTP(w, r)
}

// TestOneRevocationDoesNotStopTheRun: at 300/s with 20 ms latency, one
// server-side revocation makes the requests in flight with that token fail;
// the token is fetched again and the run completes its plan.
func TestOneRevocationDoesNotStopTheRun(t *testing.T) {
	sb := sandbox.StartTB(t, sandbox.Latency(20*time.Millisecond))
	front := &revokingFront{sb: sb.Handler(), revokeN: 100}
	srv := httptest.NewServer(front)
	t.Cleanup(srv.Close)
	src, err := auth.New(auth.Config{TokenURL: sb.TokenURL(), ClientID: sandbox.ClientID, ClientSecret: sandbox.ClientSecret})
	require.NoError(t, err)
	cfg := Config{Plan: Plan{Rate: "300/s", Duration: 2 * time.Second}, BaseURL: srv.URL, PartnerID: sandbox.PartnerID,
		Tokens: src, Offers: GeneratedFeed(1), OutDir: t.TempDir()}
	res, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	assert.Equal(t, stopCompleted, res.StopReason, "401s %d", res.StatusCodes["401"])
	// Every request the pacer got out before the end (a loaded 2-core
	// machine may send fewer than 600, late; that is the pacer's business).
	assert.Greater(t, res.Requests, uint64(300))
	assert.Positive(t, res.StatusCodes["401"], "the revocation was seen")
	assert.Equal(t, int64(1), res.Tokens.Invalidations, "one invalidation for one revoked token")
}

// flakyTokens fails the first fetch after each invalidation.
type flakyTokens struct {
	mu        sync.Mutex
	n         int
	failNext  bool
	failures  int
	refreshed int
}

func (f *flakyTokens) Token() (*oauth2.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failNext {
		f.failNext = false
		f.failures++
		return nil, fmt.Errorf("token endpoint hiccup")
	}
	return &oauth2.Token{AccessToken: fmt.Sprintf("tok-%d", f.n), TokenType: "Bearer"}, nil
}

func (f *flakyTokens) Invalidate(*oauth2.Token) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	f.failNext = true
	f.refreshed++
}

// TestTokenFetchRetried: one failed token fetch after an invalidation is
// retried, not the end of the run.
func TestTokenFetchRetried(t *testing.T) {
	sb := sandbox.StartTB(t)
	ft := &flakyTokens{}
	// The first token is refused by the sandbox (not a sandbox token): one
	// invalidation, one failed fetch, then the retry hands out another
	// refused token... so use a front that accepts any tok-N but tok-0.
	front := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer tok-0" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"message":"Unauthenticated."}`)
			return
		}
		r.Header.Set("Authorization", "Bearer "+sb.MintToken(sandbox.ClientID, time.Hour))
		sb.Handler().ServeHTTP(w, r)
	})
	srv := httptest.NewServer(front)
	t.Cleanup(srv.Close)
	cfg := Config{Plan: Plan{Rate: "50/s", Duration: time.Second}, BaseURL: srv.URL, PartnerID: sandbox.PartnerID,
		Tokens: ft, Offers: GeneratedFeed(1), OutDir: t.TempDir()}
	res, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	assert.Equal(t, stopCompleted, res.StopReason)
	assert.Equal(t, 1, ft.failures, "one failed fetch")
	assert.Positive(t, res.StatusCodes["200"])
}

// TestValidatorGivesWay: while the attack needs the CPU the validator
// waits, holding the queued responses (none skipped); it goes on when the
// CPU is free, and close drains the queue without waiting.
func TestValidatorGivesWay(t *testing.T) {
	s, err := spec.Load()
	require.NoError(t, err)
	var busy atomic.Bool
	var asked atomic.Int64
	behind := func() bool { asked.Add(1); return busy.Load() }
	counts := func(v *validatorPool) (validated, skipped uint64) {
		v.mu.Lock()
		defer v.mu.Unlock()
		return v.schema.Validated, v.schema.Skipped
	}
	job := validateJob{status: 401, header: http.Header{"Content-Type": {"application/json"}}, body: []byte(`{"message":"Unauthorized"}`)}

	busy.Store(true)
	v, err := newValidatorPool(s, "http://127.0.0.1:1/api/partners/P/offers/", nil, behind)
	require.NoError(t, err)
	for range 3 {
		v.submit(job)
	}
	require.Eventually(t, func() bool { return asked.Load() >= 5 }, 10*time.Second, time.Millisecond, "the validator asks whether the attack needs the CPU")
	validated, skipped := counts(v)
	assert.Zero(t, validated, "nothing validated while the attack needs the CPU")
	assert.Zero(t, skipped, "nothing skipped either: the queue holds them")
	busy.Store(false)
	require.Eventually(t, func() bool { n, _ := counts(v); return n == 3 }, 10*time.Second, time.Millisecond, "validated once the CPU is free")

	busy.Store(true)
	asked.Store(0)
	v.submit(job)
	v.submit(job)
	require.Eventually(t, func() bool { return asked.Load() >= 3 }, 10*time.Second, time.Millisecond)
	got := v.close()
	assert.Equal(t, uint64(5), got.Validated, "close drains the queue although the attack needs the CPU")
	assert.Zero(t, got.Skipped)
	assert.Empty(t, got.SkipReason)
}

// busyGoroutines starts n goroutines that burn CPU until the returned stop
// is called (or the test ends); stop returns once they have all ended.
func busyGoroutines(t *testing.T, n int) (stop func()) {
	var done atomic.Bool
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for x := 1; !done.Load(); x = x*31 + 7 {
			}
		})
	}
	stop = func() {
		done.Store(true)
		wg.Wait()
	}
	t.Cleanup(stop)
	return stop
}

// TestShortOfCPU: more busy goroutines than processors make the process
// short of CPU; once they stop, it is not.
func TestShortOfCPU(t *testing.T) {
	stop := busyGoroutines(t, runtime.GOMAXPROCS(0)+2)
	require.Eventually(t, shortOfCPU, 10*time.Second, time.Millisecond, "goroutines wait for a processor")
	stop()
	require.Eventually(t, func() bool { return !shortOfCPU() }, 10*time.Second, time.Millisecond, "nothing waits once they stop")
}

// TestRunValidatorWaitsWhileShortOfCPU: with two processors or more, a
// run's validator waits whenever goroutines wait for a processor, though no
// send is late yet (at the max rate, a validation started while the sends
// are on time makes the next ones late); with one, which it always shares
// with the sends, only while the sends also run late.
func TestRunValidatorWaitsWhileShortOfCPU(t *testing.T) {
	s, err := spec.Load()
	require.NoError(t, err)
	c := &collector{plan: Plan{ValidateSample: 1}, pacer: &runPacer{}}
	require.NoError(t, c.startValidation(s, "http://127.0.0.1:1/api/partners/P/offers/"))
	t.Cleanup(func() { c.validators.close() })
	procs := runtime.GOMAXPROCS(2)
	t.Cleanup(func() { runtime.GOMAXPROCS(procs) })

	stop := busyGoroutines(t, 4)
	require.Eventually(t, c.validators.behind, 10*time.Second, time.Millisecond, "two processors: it gives way to busy goroutines")
	runtime.GOMAXPROCS(1)
	require.Eventually(t, shortOfCPU, 10*time.Second, time.Millisecond)
	assert.False(t, c.validators.behind(), "one processor: no send is late, it goes on")
	c.pacer.late.Store(true)
	assert.True(t, c.validators.behind(), "one processor and a late send: it gives way")
	stop()
	require.Eventually(t, func() bool { return !c.validators.behind() }, 10*time.Second, time.Millisecond, "it goes on once they stop")
}

// TestValidatorKeepsUpWithASlowTarget: sends held back by a slow target
// (every worker waiting on it) are late, but the process has CPU to spare,
// so the validator does not wait for them: responses are validated while
// the run is still sending, not only when it ends.
func TestValidatorKeepsUpWithASlowTarget(t *testing.T) {
	s, err := spec.Load()
	require.NoError(t, err)
	cfg, _, _ := sandboxConfig(t, Plan{Rate: "200/s", Duration: 2 * time.Second, Workers: 2, MaxWorkers: 2, ValidateSample: 1},
		sandbox.Latency(50*time.Millisecond)) // two workers keep up with 40/s at most
	cfg.Spec = s
	reg := prometheus.NewRegistry()
	cfg.Registerer = reg
	sum := func(name string) (n float64) {
		mfs, _ := reg.Gather()
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				if mf.GetName() == name {
					n += m.GetCounter().GetValue()
				}
			}
		}
		return n
	}
	var res *Result
	done := make(chan struct{})
	go func() {
		defer close(done)
		res, err = Run(context.Background(), cfg)
	}()
	require.Eventually(t, func() bool { return sum("xoneharness_load_schema_validations_total") >= 10 }, 30*time.Second, time.Millisecond)
	sentThen := sum("xoneharness_load_requests_total")
	<-done
	require.NoError(t, err)
	assert.Positive(t, res.LateSends.Count, "the sends ran late")
	assert.Less(t, sentThen, float64(res.Requests)/2, "10 responses validated after %v of %d requests", sentThen, res.Requests)
	assert.Equal(t, res.StatusCodes["200"], res.Schema.Validated)
}

// TestValidationUnderCPUPressure: with two CPU-bound processes beside the
// run on this machine, every sampled response is still validated, at a
// partner's rate and at ten times it: validation sheds only when its queue
// is full, never because sends are late.
func TestValidationUnderCPUPressure(t *testing.T) {
	if os.Getenv("LOAD_BUSY_CHILD") != "" {
		spin() // until killed
	}
	for range 2 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestValidationUnderCPUPressure$")
		cmd.Env = append(os.Environ(), "LOAD_BUSY_CHILD=1")
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	}
	s, err := spec.Load()
	require.NoError(t, err)
	for _, rate := range []string{"30/s", "300/s"} {
		t.Run(rate, func(t *testing.T) {
			cfg, _, _ := sandboxConfig(t, Plan{Rate: rate, Duration: 3 * time.Second, ValidateSample: 1})
			cfg.Spec = s
			res, err := Run(context.Background(), cfg)
			require.NoError(t, err)
			assert.Zero(t, res.Schema.Skipped, "skipped: %s", res.Schema.SkipReason)
			assert.Equal(t, res.StatusCodes["200"], res.Schema.Validated, "every 200 validated")
			assert.Zero(t, res.Schema.Violations)
		})
	}
}

// spin burns one core until the process is killed.
func spin() {
	x := 1
	for {
		x = x*31 + 7
		if x == 0 {
			fmt.Println(x)
		}
	}
}

// TestValidateQueueBounds: a response is skipped only when the validator's
// queue is full, in responses or in bytes, and each skip is counted with
// the reason; what fits is queued.
func TestValidateQueueBounds(t *testing.T) {
	big := make([]byte, validateQueueBytes/2-1)
	for _, tt := range []struct {
		name       string
		jobs       []validateJob
		wantQueued int
	}{
		{"bytes", []validateJob{{body: big}, {body: big}, {body: big}}, 2},
		{"responses", make([]validateJob, validateQueue+3), validateQueue},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// No validator drains this pool: what submit queues stays queued.
			v := &validatorPool{jobs: make(chan validateJob, validateQueue)}
			for _, j := range tt.jobs {
				v.submit(j)
			}
			assert.Len(t, v.jobs, tt.wantQueued, "queued")
			assert.Equal(t, uint64(len(tt.jobs)-tt.wantQueued), v.schema.Skipped, "skipped")
			v.done = make(chan struct{})
			close(v.done)
			v.waited = 1500 * time.Millisecond
			reason := v.close().SkipReason
			assert.Contains(t, reason, "queue full")
			assert.Contains(t, reason, "it gave way for 1.5s while the harness was short of CPU")
		})
	}
}
