package load

import (
	"net/http"
	"slices"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/xoneharness/xoneharness/internal/xone"
	"github.com/xoneharness/xoneharness/spec"
)

// maxSchemaDetails is how many violations the result keeps in detail.
const maxSchemaDetails = 20

// validateJob is one sampled response handed to the validators.
type validateJob struct {
	seq    uint64
	status int
	header http.Header
	body   []byte
}

// sample hands the sampled fraction of responses to the validators in batches
// of validateBatch, sent when full and every bookingsFlushEvery.
func (e *engine) sample(r *vegeta.Result) {
	if e.jobs == nil || e.plan.ValidateSample <= 0 {
		return
	}
	e.sampleAcc += e.plan.ValidateSample
	if e.sampleAcc < 1 {
		return
	}
	e.sampleAcc--
	if e.lateEWMA > validateYield {
		// The attack is falling behind its schedule: validation yields the
		// CPU to it (measurement never slows the attack), and the skipped
		// response is counted, so the validated fraction is reported.
		e.vSkipped.Add(1)
		return
	}
	e.batch = append(e.batch, validateJob{seq: r.Seq, status: int(r.Code), header: r.Headers, body: r.Body})
	if len(e.batch) >= validateBatch {
		e.sendBatch(false)
	}
}

// validateBatch is the most responses handed to a validator at once. Handing
// them over one by one cost a channel send and often a goroutine wake-up each.
const validateBatch = 32

// sendBatch hands the batch to the validators. Unless block is set (and there
// are validators) it never blocks the consumer: when the validators are
// saturated the batch is skipped (and counted).
func (e *engine) sendBatch(block bool) {
	if len(e.batch) == 0 {
		return
	}
	if block && e.tmplReq != nil { // tmplReq is set when the validators start
		e.jobs <- e.batch
	} else {
		select {
		case e.jobs <- e.batch:
		default:
			e.vSkipped.Add(uint64(len(e.batch)))
		}
	}
	e.batch = make([]validateJob, 0, validateBatch) // the validators own the one sent
}

// startValidators starts the validation goroutines, or, when nothing is to
// be validated, leaves a channel that is never fed.
func (e *engine) startValidators() {
	if e.cfg.Spec == nil || e.plan.ValidateSample <= 0 {
		e.jobs = make(chan []validateJob) // closed at the end; never fed
		return
	}
	req, err := http.NewRequest(http.MethodPost, e.urlPrefix+"00000000-0000-4000-8000-000000000000"+xone.ConfirmSuffix, nil)
	if err != nil {
		e.jobs = make(chan []validateJob)
		return
	}
	req.Header["Content-Type"], req.Header["Accept"] = jsonCT, jsonCT
	e.tmplReq = req
	e.jobs = make(chan []validateJob, 1024/validateBatch)
	for range validators {
		e.vwg.Add(1)
		go func() {
			defer e.vwg.Done()
			for b := range e.jobs {
				for _, j := range b {
					e.validate(j)
				}
			}
		}()
	}
}

// validators is the number of validation goroutines: one, so that
// validation takes at most one core of the machine from the attack.
const validators = 1

// validateYield is the smoothed lateness of sends above which sampled
// responses are not validated (see sample).
const validateYield = 2 * time.Millisecond

// validate checks one response against the spec and accounts for its
// violations; validators call it concurrently.
func (e *engine) validate(j validateJob) {
	vs := e.cfg.Spec.ValidateResponse(e.tmplReq, spec.Response{Status: j.status, Header: j.header, Body: j.body})
	// The consumer never hands over a response with an undocumented status
	// (an error class of its own); drop the finding should the spec still
	// report one, so the schema counts only bodies and headers.
	vs = slices.DeleteFunc(vs, func(v spec.Violation) bool { return v.Rule == spec.RuleStatusUndocumented })
	e.vmu.Lock()
	defer e.vmu.Unlock()
	e.schema.Validated++
	e.schema.Violations += uint64(len(vs))
	for _, v := range vs {
		if len(e.schema.Details) >= maxSchemaDetails {
			break
		}
		e.schema.Details = append(e.schema.Details, SchemaViolation{
			Seq: j.seq, Status: j.status, Rule: v.Rule, Path: v.Path, Expected: v.Expected, Observed: v.Observed, Reason: v.Reason,
		})
	}
	if m := e.metrics; m != nil {
		if len(vs) > 0 {
			m.validations.WithLabelValues("violation").Inc()
			m.violations.Add(float64(len(vs)))
		} else {
			m.validations.WithLabelValues("valid").Inc()
		}
	}
}
