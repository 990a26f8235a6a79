package agent

import "github.com/prometheus/client_golang/prometheus"

// metrics are the agent's own; the scrape manager's (prometheus_target_*)
// go on the same registerer.
type metrics struct {
	duplicates *prometheus.CounterVec
	outOfOrder *prometheus.CounterVec
	sinkErrors *prometheus.CounterVec
	samples    *prometheus.CounterVec
}

func newMetrics() *metrics {
	return &metrics{
		duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rwkit_agent_duplicate_samples_total",
			Help: "Samples dropped because their series already had a sample at that timestamp (the first is kept): series written twice with different label order or text, or relabelled into one, or with explicit timestamps. A line repeated byte for byte is refused by the scrape loop before and counted only in prometheus_target_scrapes_sample_duplicate_timestamp_total.",
		}, []string{"job"}),
		outOfOrder: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rwkit_agent_out_of_order_samples_total",
			Help: "Samples dropped because they were older than a sample of their series already sent (explicit timestamps going back).",
		}, []string{"job"}),
		sinkErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rwkit_agent_sink_errors_total",
			Help: "Scrapes a remote write sink refused to take (its queue full, or shut down).",
		}, []string{"remote_write"}),
		samples: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rwkit_agent_samples_total",
			Help: "Float and histogram samples handed to a remote write sink, after write_relabel_configs.",
		}, []string{"remote_write"}),
	}
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.duplicates, m.outOfOrder, m.sinkErrors, m.samples}
}
