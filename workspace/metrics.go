package workspace

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the workspace's own, on its own registry (DESIGN.md fixes the
// names of the first two).
type metrics struct {
	received   *prometheus.CounterVec // {workspace}: samples and histograms decoded
	discarded  *prometheus.CounterVec // {workspace,reason}
	accepted   *prometheus.CounterVec // {workspace}: samples and histograms stored
	requests   *prometheus.CounterVec // {workspace,code}
	duration   *prometheus.HistogramVec
	collisions *prometheus.CounterVec // {workspace,kind}
	// dropped {workspace,reason}: accepted with the request and dropped
	// without a word, as the backend does (policy.dropWithinRequest).
	dropped *prometheus.CounterVec
	// refusedWhole {workspace}: valid samples of requests refused as a
	// whole.
	refusedWhole *prometheus.CounterVec
	// upstreamRefusals {workspace,reason}: writes the upstream refused in
	// pass-through mode (upstream_refusals.go).
	upstreamRefusals *prometheus.CounterVec
	// upstreamSkipped {workspace}: forwarded writes not analysed, the
	// analysis queue being full (upstream_analysis.go).
	upstreamSkipped *prometheus.CounterVec

	// HA deduplication (hatracker.go).
	haDeduplicated *prometheus.CounterVec // {workspace,cluster}
	haElected      *prometheus.GaugeVec   // {workspace,cluster,replica}
	haChanges      *prometheus.CounterVec // {workspace,cluster}
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rwkit_received_samples_total",
			Help: "Samples and native histogram samples received by remote write, before validation. Equals accepted plus discarded plus dropped plus refused whole plus HA-deduplicated, except that a series refused by a label, timestamp or native histogram check is counted as Cortex counts it: one discarded sample, whatever its number of samples.",
		}, []string{"workspace"}),
		discarded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rwkit_discarded_samples_total",
			Help: "Samples refused, by Cortex's reason (the Reason dimension of AMP's DiscardedSamples).",
		}, []string{"workspace", "reason"}),
		accepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rwkit_accepted_samples_total",
			Help: "Samples and native histogram samples stored.",
		}, []string{"workspace"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rwkit_remote_write_requests_total",
			Help: "Remote-write requests by workspace and HTTP status code.",
		}, []string{"workspace", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:                            "rwkit_remote_write_request_duration_seconds",
			Help:                            "Time to answer a remote-write request, by HTTP status code.",
			Buckets:                         prometheus.DefBuckets,
			NativeHistogramBucketFactor:     1.1,
			NativeHistogramMaxBucketNumber:  100,
			NativeHistogramMinResetDuration: 0,
		}, []string{"code"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rwkit_dropped_samples_total",
			Help: "Samples the modelled backend accepts with 2xx and drops without counting them (Cortex: a second value for one series and timestamp, or an older sample, in the same request; the earlier sample is kept), by the reason it would have had. Not in rwkit_discarded_samples_total, as not in Cortex's discard counter; --strict refuses them instead.",
		}, []string{"workspace", "reason"}),
		refusedWhole: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rwkit_refused_whole_samples_total",
			Help: "Valid samples not stored because their request was refused as a whole (the prometheus profile's rollback at the first refused sample; Cortex's empty label set). The sender hears the refusal; no backend counts these as discarded.",
		}, []string{"workspace"}),
		collisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rwkit_collisions_total",
			Help: "Samples where two writers met on one series: new-value-for-timestamp (refused) or alternating-writers (accepted, the series zig-zags).",
		}, []string{"workspace", "kind"}),
		upstreamRefusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rwkit_upstream_refusals_total",
			Help: "Writes the upstream answered 4xx in pass-through mode (--upstream), by reason: from the upstream's body, or, when it names none (AMP's empty 400), from the workspace's own validation of the write.",
		}, []string{"workspace", "reason"}),
		upstreamSkipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rwkit_upstream_analyses_skipped_total",
			Help: "Writes forwarded in pass-through mode (--upstream) and answered with the upstream's answer as always, but not analysed (not validated, attributed or explained if refused) because the analysis queue was full: the workspace's analysis fell behind the writes.",
		}, []string{"workspace"}),
		haDeduplicated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rwkit_ha_deduplicated_samples_total",
			Help: "Samples and native histogram samples of an HA cluster's non-elected replicas, answered 202 and not stored (Cortex's cortex_distributor_deduped_samples_total; not a discard).",
		}, []string{"workspace", "cluster"}),
		haElected: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "rwkit_ha_elected_replica_timestamp_seconds",
			Help: "The elected replica of each HA cluster, and when its time was last refreshed; another replica takes over once this is the failover timeout old (Cortex's cortex_ha_tracker_elected_replica_timestamp_seconds, with the replica).",
		}, []string{"workspace", "cluster", "replica"}),
		haChanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rwkit_ha_elected_replica_changes_total",
			Help: "Failovers: times an HA cluster's elected replica was replaced by another (Cortex's cortex_ha_tracker_elected_replica_changes_total).",
		}, []string{"workspace", "cluster"}),
	}
	for _, c := range []prometheus.Collector{m.received, m.discarded, m.accepted, m.requests, m.duration, m.collisions, m.dropped, m.refusedWhole, m.upstreamRefusals, m.upstreamSkipped, m.haDeduplicated, m.haElected, m.haChanges} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("workspace: registering metrics: %w (one registry per workspace)", err)
		}
	}
	return m, nil
}
