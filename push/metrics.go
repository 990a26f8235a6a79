package push

import (
	"errors"
	"fmt"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
)

// Results, the result label of rwkit_push_requests_total and
// rwkit_push_samples_total.
const (
	resultSuccess  = "success"
	resultRejected = "rejected"
	resultRetried  = "retried"
	resultFailed   = "failed"
)

// metrics are the self-metrics; with no Registerer they are created but
// registered nowhere, so the code counts unconditionally.
type metrics struct {
	requests        *prometheus.CounterVec
	samples         *prometheus.CounterVec
	duration        prometheus.Histogram
	payload         prometheus.Histogram
	rejectedSamples *prometheus.CounterVec
	buffered        prometheus.Gauge
	lastSuccess     prometheus.Gauge
	dropped         *prometheus.CounterVec
	skipped         prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rwkit_push_requests_total",
			Help: "Snapshot writes by result: success (delivered), rejected (refused with a 4xx other than 429; not retried), retried (failed with a network error, 5xx or 429 and kept in the buffer), failed (not delivered and not kept: buffering off or full, shutdown, or the snapshot could not be built).",
		}, []string{"result"}),
		samples: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rwkit_push_samples_total",
			Help: "Samples (float and native histogram) by fate: success (delivered), rejected (refused by the backend), failed (dropped: from the buffer, at shutdown, or never buffered); retried counts samples entering the buffer, which later end in one of the other three.",
		}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "rwkit_push_duration_seconds",
			Help:    "Duration of one push: gather, then delivery of buffered snapshots and the new one, retries included.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}),
		payload: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "rwkit_push_payload_bytes",
			Help:    "Snappy-compressed bytes sent for one snapshot write: every HTTP request it was split into, the refused one included, retries not repeated.",
			Buckets: prometheus.ExponentialBuckets(1024, 4, 8), // 1 KiB .. 16 MiB
		}),
		rejectedSamples: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rwkit_push_rejected_samples_total",
			Help: "Samples refused by the backend, by the reason it gave (Cortex's names, e.g. new-value-for-timestamp), or http_<status> when it gave none.",
		}, []string{"reason"}),
		buffered: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "rwkit_push_buffered_snapshots",
			Help: "Snapshots waiting in the outage buffer.",
		}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "rwkit_push_last_success_timestamp_seconds",
			Help: "Unix time at which a push last delivered everything it had, its new snapshot included.",
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rwkit_push_dropped_snapshots_total",
			Help: "Snapshots given up without delivery, by reason: buffer_full, too_old, too_large, buffering_off, shutdown, undecodable.",
		}, []string{"reason"}),
		skipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rwkit_push_skipped_intervals_total",
			Help: "Scheduled pushes skipped because the previous push was still running.",
		}),
	}
	for _, r := range []string{resultSuccess, resultRejected, resultRetried, resultFailed} {
		m.requests.WithLabelValues(r)
		m.samples.WithLabelValues(r)
	}
	return m
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.requests, m.samples, m.duration, m.payload, m.rejectedSamples,
		m.buffered, m.lastSuccess, m.dropped, m.skipped}
}

// register registers every collector on r, or none: on a failure the ones
// already registered are unregistered again.
func (m *metrics) register(r prometheus.Registerer) error {
	return registerAll(r, m.collectors())
}

// registerQueue registers what a Queue counts: a Queue has no schedule to
// skip.
func (m *metrics) registerQueue(r prometheus.Registerer) error {
	cs := slices.DeleteFunc(m.collectors(), func(c prometheus.Collector) bool { return c == m.skipped })
	return registerAll(r, cs)
}

func registerAll(r prometheus.Registerer, cs []prometheus.Collector) error {
	if r == nil {
		return nil
	}
	for i, c := range cs {
		if err := r.Register(c); err != nil {
			for _, done := range cs[:i] {
				r.Unregister(done)
			}
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return fmt.Errorf("self-metrics are already registered on this Registerer (another Pusher?): give each Pusher its own registry, or wrap the registry for every Pusher with a distinct label, e.g. prometheus.WrapRegistererWith(prometheus.Labels{\"pusher\": \"name\"}, reg): %w", err)
			}
			return fmt.Errorf("registering self-metrics: %w", err)
		}
	}
	return nil
}
