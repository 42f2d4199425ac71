package load

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the live Prometheus collectors of a run, all prefixed
// xoneharness_load_ and labelled only by bounded values: class (the outcome
// classes of Result.ByClass) and outcome ("valid", "violation"). Run registers
// them on Config.Registerer; registering on a registry that already holds them
// (a second run) reuses the existing collectors, so counters keep accumulating.
type Metrics struct {
	requests      [nClasses]prometheus.Counter
	latency       [nClasses]prometheus.Observer
	service       [nClasses]prometheus.Observer
	late          prometheus.Counter
	pauses        prometheus.Counter
	violations    prometheus.Counter
	validations   *prometheus.CounterVec
	rateRequested prometheus.Gauge
}

// NewMetrics registers the load collectors on reg:
//
//	xoneharness_load_requests_total{class}                 counter
//	xoneharness_load_latency_seconds{class}                histogram, from the intended send time
//	xoneharness_load_service_time_seconds{class}           histogram, from the actual send
//	xoneharness_load_late_sends_total                      counter, sends > 1 ms behind schedule
//	xoneharness_load_retry_after_pauses_total              counter
//	xoneharness_load_schema_validations_total{outcome}     counter
//	xoneharness_load_schema_violations_total               counter
//	xoneharness_load_rate_requested                        gauge, per second at the start
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	buckets := prometheus.ExponentialBuckets(0.001, 2, 16) // 1 ms … 32 s
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "xoneharness_load_requests_total", Help: "Confirm requests sent, by outcome class.",
	}, []string{"class"})
	lat := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "xoneharness_load_latency_seconds", Help: "Confirm latency from the intended send time (coordinated-omission corrected), by class.", Buckets: buckets,
	}, []string{"class"})
	svc := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "xoneharness_load_service_time_seconds", Help: "Confirm latency from the actual send, by class.", Buckets: buckets,
	}, []string{"class"})
	m := &Metrics{
		late:          prometheus.NewCounter(prometheus.CounterOpts{Name: "xoneharness_load_late_sends_total", Help: "Requests sent more than 1 ms after their intended time."}),
		pauses:        prometheus.NewCounter(prometheus.CounterOpts{Name: "xoneharness_load_retry_after_pauses_total", Help: "Pacer pauses caused by 429 Retry-After."}),
		violations:    prometheus.NewCounter(prometheus.CounterOpts{Name: "xoneharness_load_schema_violations_total", Help: "Schema violations found in sampled responses."}),
		validations:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "xoneharness_load_schema_validations_total", Help: "Sampled responses validated, by outcome."}, []string{"outcome"}),
		rateRequested: prometheus.NewGauge(prometheus.GaugeOpts{Name: "xoneharness_load_rate_requested", Help: "Requested rate per second at the start of the run."}),
	}
	var err error
	if reqs, err = register(reg, reqs); err != nil {
		return nil, err
	}
	if lat, err = register(reg, lat); err != nil {
		return nil, err
	}
	if svc, err = register(reg, svc); err != nil {
		return nil, err
	}
	if m.late, err = register(reg, m.late); err != nil {
		return nil, err
	}
	if m.pauses, err = register(reg, m.pauses); err != nil {
		return nil, err
	}
	if m.violations, err = register(reg, m.violations); err != nil {
		return nil, err
	}
	if m.validations, err = register(reg, m.validations); err != nil {
		return nil, err
	}
	if m.rateRequested, err = register(reg, m.rateRequested); err != nil {
		return nil, err
	}
	for c := range nClasses {
		m.requests[c] = reqs.WithLabelValues(classNames[c])
		m.latency[c] = lat.WithLabelValues(classNames[c])
		m.service[c] = svc.WithLabelValues(classNames[c])
	}
	return m, nil
}

// register registers c, or returns the collector already registered in its place.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, fmt.Errorf("load: metrics: %w", err)
	}
	return c, nil
}
