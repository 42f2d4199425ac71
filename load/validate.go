package load

import (
	"fmt"
	"net/http"
	runtimemetrics "runtime/metrics"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xoneharness/xoneharness/internal/xone"
	"github.com/xoneharness/xoneharness/spec"
)

// validateQueue is how many sampled responses may wait for the validator,
// and validateQueueBytes how many bytes they may hold: at ~120 µs per 200
// body on a shared core, about two seconds of work, enough for a 10 s attack
// at 2,000/s on a busy two-core machine to be judged whole. A response that
// finds the queue full is skipped and counted: nothing else skips one.
//
// The validator gives way to the attack: while the process is short of CPU
// (collector.attackNeedsCPU), it waits and the queue holds the responses;
// it goes on as soon as a processor is free, and drains the queue before
// the report. So validation uses the CPU the sends leave rather than
// holding them back; when that CPU is too little, the queue fills and the
// skips are counted with that reason.
const (
	validateQueue      = 16384
	validateQueueBytes = 32 << 20
	maxSchemaDetails   = 20 // violations the result keeps in detail
)

// validateJob is one sampled response; evidence builds its evidence row,
// should it break the document.
type validateJob struct {
	seq      uint64
	status   int
	header   http.Header
	body     []byte
	evidence func() EvidenceRow
	bytes    int64 // size() while queued, set by submit
}

// validatorPool validates sampled responses on one goroutine (at most one
// core taken from the attack) behind a bounded queue; counters under mu.
type validatorPool struct {
	spec    *spec.Spec
	cov     *spec.Coverage // which documented members the validated responses exercised
	req     *http.Request  // a template confirm request: read only
	jobs    chan validateJob
	done    chan struct{} // closed when the validator has drained jobs
	queued  atomic.Int64  // bytes of the jobs waiting, at most validateQueueBytes
	metrics *metrics
	behind  func() bool   // the attack needs the CPU: the validator waits
	closing atomic.Bool   // set by close: drain without waiting
	waited  time.Duration // how long the validator gave way; read after done

	mu         sync.Mutex
	schema     SchemaStats
	violations []EvidenceRow // the first maxFailures responses that broke the document
	broken     uint64        // responses that broke it
}

// newValidatorPool starts the validator for confirms sent to urlPrefix;
// behind reports whether the attack needs the CPU (nil: never).
func newValidatorPool(s *spec.Spec, urlPrefix string, m *metrics, behind func() bool) (*validatorPool, error) {
	req, err := http.NewRequest(http.MethodPost, urlPrefix+"00000000-0000-4000-8000-000000000000"+xone.ConfirmSuffix, nil)
	if err != nil {
		return nil, err
	}
	req.Header["Content-Type"], req.Header["Accept"] = jsonCT, jsonCT
	v := &validatorPool{spec: s, cov: s.NewCoverage(), req: req, jobs: make(chan validateJob, validateQueue),
		done: make(chan struct{}), metrics: m, behind: behind}
	go func() {
		defer close(v.done)
		for j := range v.jobs {
			v.giveWay()
			v.validate(j)
			v.queued.Add(-j.bytes)
		}
	}()
	return v, nil
}

// giveWay waits while behind reports true, until close.
func (v *validatorPool) giveWay() {
	if v.behind == nil || !v.behind() {
		return
	}
	start := time.Now()
	for v.behind() && !v.closing.Load() {
		time.Sleep(time.Millisecond)
	}
	v.waited += time.Since(start)
}

// shortOfCPU reports whether goroutines of this process are ready to run
// but wait for a processor (runtime/metrics, about 80 ns): the process is
// short of CPU. Sends that run late while it is not are held back by
// something else (a slow target that keeps every worker waiting, the
// offer feed), and the validator taking a processor would not hold them
// back.
func shortOfCPU() bool {
	s := [1]runtimemetrics.Sample{{Name: "/sched/goroutines/runnable:goroutines"}}
	runtimemetrics.Read(s[:])
	return s[0].Value.Kind() == runtimemetrics.KindUint64 && s[0].Value.Uint64() > 0
}

// size is roughly what j holds in memory while it waits.
func (j validateJob) size() int64 {
	n := len(j.body)
	for k, vs := range j.header {
		n += len(k)
		for _, s := range vs {
			n += len(s)
		}
	}
	return int64(n)
}

// submit queues j, or counts it skipped when the queue is full (in jobs or
// in bytes). It never blocks.
func (v *validatorPool) submit(j validateJob) {
	n := j.size()
	j.bytes = n
	if v.queued.Add(n) <= validateQueueBytes {
		select {
		case v.jobs <- j:
			return
		default:
		}
	}
	v.queued.Add(-n)
	v.mu.Lock()
	v.schema.Skipped++
	v.mu.Unlock()
}

func (v *validatorPool) violationCount() uint64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.schema.Violations
}

// close waits for the queued responses to be validated and returns the
// counts; submit must not be called after it.
func (v *validatorPool) close() SchemaStats {
	v.closing.Store(true)
	close(v.jobs)
	<-v.done
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.schema.Skipped > 0 {
		v.schema.SkipReason = fmt.Sprintf("queue full: the validator was behind (%d responses or %d MiB waiting)", validateQueue, validateQueueBytes>>20)
		if v.waited > 0 {
			v.schema.SkipReason += fmt.Sprintf("; it gave way for %s while the harness was short of CPU", v.waited.Round(time.Millisecond))
		}
	}
	return v.schema
}

// validate checks one response and accounts for its violations.
func (v *validatorPool) validate(j validateJob) {
	resp := spec.Response{Status: j.status, Header: j.header, Body: j.body}
	vs := v.spec.ValidateResponse(v.req, resp)
	v.cov.Add(resp, vs)
	// The collector never hands over a response with an undocumented status
	// (an error class of its own); drop the finding should the spec still
	// report one, so the schema counts only bodies and headers.
	vs = slices.DeleteFunc(vs, func(x spec.Violation) bool { return x.Rule == spec.RuleStatusUndocumented })
	v.mu.Lock()
	defer v.mu.Unlock()
	v.schema.Validated++
	v.schema.Violations += uint64(len(vs))
	if len(vs) > 0 && j.evidence != nil {
		v.broken++
		if len(v.violations) < maxFailures {
			row := j.evidence()
			row.Violation = vs[0].Rule + " " + vs[0].Path + ": " + vs[0].Reason
			v.violations = append(v.violations, row)
		}
	}
	for _, x := range vs {
		if len(v.schema.Details) >= maxSchemaDetails {
			break
		}
		v.schema.Details = append(v.schema.Details, SchemaViolation{
			Seq: j.seq, Status: j.status, Rule: x.Rule, Path: x.Path, Expected: x.Expected, Observed: x.Observed, Reason: x.Reason,
		})
	}
	if m := v.metrics; m != nil {
		m.validations.WithLabelValues(map[bool]string{false: "valid", true: "violation"}[len(vs) > 0]).Inc()
		m.violations.Add(float64(len(vs)))
	}
}
