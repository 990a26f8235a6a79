package validate

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Backend says whose rules and texts a Limits follows.
type Backend int

const (
	// BackendCortex refuses series one by one with Cortex's reasons and
	// texts, keeps the valid series of a refused request (partial ingestion)
	// and answers with the first error. AMP runs Cortex.
	BackendCortex Backend = iota
	// BackendPrometheus follows Prometheus' own remote-write receiver
	// (storage/remote/write_handler.go, v0.316, RW 1.0): series with
	// invalid labels are dropped silently, and the first sample the TSDB
	// refuses rolls the whole request back and answers 400.
	BackendPrometheus
	// BackendMimir follows Grafana Mimir's distributor and ingester
	// (mimir.go): Cortex's shape (series refused one by one, partial
	// ingestion, the ingester's first error wins) with Mimir's rules,
	// texts and error IDs.
	BackendMimir
)

// NameValidation is how metric and label names are checked.
type NameValidation int

const (
	// LegacyNames: metric names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names
	// [a-zA-Z_][a-zA-Z0-9_]*. Cortex's default (-name-validation-scheme).
	LegacyNames NameValidation = iota
	// UTF8Names: any non-empty valid UTF-8. Prometheus 3's default.
	UTF8Names
)

// Limits holds every limit the rules and the workspace apply. A zero count
// limit means "no limit" unless its comment says otherwise. Limits is a
// plain value: copy it and change fields to build a custom profile.
type Limits struct {
	// Name is the profile's name ("amp", "cortex", "prometheus", "mimir").
	Name    string
	Backend Backend

	NameValidation NameValidation
	// EnforceMetricName refuses series without a valid __name__
	// (validation.enforce-metric-name).
	EnforceMetricName bool

	MaxLabelNamesPerSeries int // validation.max-label-names-per-series
	MaxLabelNameLength     int // validation.max-length-label-name, bytes
	MaxLabelValueLength    int // validation.max-length-label-value, bytes
	MaxLabelsSizeBytes     int // validation.max-labels-size-bytes

	// RejectOldSamples refuses samples older than now-RejectOldSamplesMaxAge
	// as greater_than_max_sample_age.
	RejectOldSamples       bool
	RejectOldSamplesMaxAge time.Duration
	// CreationGracePeriod: samples newer than now+CreationGracePeriod are
	// too_far_in_future (Cortex) or out of bounds (Prometheus). 0 means no
	// check.
	CreationGracePeriod time.Duration

	// MaxNativeHistogramBuckets caps positive+negative buckets; Cortex
	// lowers the resolution of bigger histograms and refuses those that stay
	// too big at schema -4.
	MaxNativeHistogramBuckets int
	// EnableNativeHistograms: when false the ingester drops histograms
	// silently as native-histogram-sample.
	EnableNativeHistograms bool
	// MaxExemplars is the tenant's exemplar storage; 0 means exemplars are
	// accepted by the distributor and then not stored.
	MaxExemplars int

	MaxMetadataLength         int  // validation.max-metadata-length
	EnforceMetadataMetricName bool // validation.enforce-metadata-metric-name

	// IngestionRate is samples (plus exemplars and metadata) per second per
	// tenant, IngestionBurstSize the bucket size. IngestionRate 0 means no
	// rate limit.
	IngestionRate      float64
	IngestionBurstSize int

	// MaxSeriesPerUser and MaxSeriesPerMetric are the ingester's local
	// series limits (ingester.max-series-per-user / -per-metric). A new
	// series is refused when the count already equals the limit.
	MaxSeriesPerUser                int
	MaxSeriesPerMetric              int
	MaxMetricsWithMetadataPerUser   int
	MaxMetadataPerMetric            int
	MaxNativeHistogramSeriesPerUser int

	// OutOfOrderTimeWindow lets the TSDB accept samples this much older
	// than the series' newest sample (ingester.out-of-order-time-window).
	OutOfOrderTimeWindow time.Duration

	// SeriesLimitStatus is the HTTP status of per_user_series_limit and
	// per_metric_series_limit refusals.
	SeriesLimitStatus int

	// HA deduplication, as Cortex's distributor does it with its HA
	// tracker (pkg/ha/ha_tracker.go): a request whose first series carries
	// both HAClusterLabel and HAReplicaLabel is stored only when its
	// replica is the cluster's elected one, without HAReplicaLabel; the
	// other replicas are answered 202 and nothing of theirs is stored. The
	// elected replica is replaced by the next one to write once it has been
	// silent for HAFailoverTimeout. Not for BackendPrometheus.
	AcceptHASamples bool   // accept_ha_samples
	HAClusterLabel  string // ha_cluster_label
	HAReplicaLabel  string // ha_replica_label
	HAMaxClusters   int    // ha_max_clusters: clusters per tenant, 0 no limit
	// HAUpdateTimeout: the elected replica's time is refreshed only when
	// this much has passed since (ha_tracker_update_timeout), so a
	// failover comes between HAFailoverTimeout-HAUpdateTimeout and
	// HAFailoverTimeout after the elected replica's last write.
	HAUpdateTimeout   time.Duration
	HAFailoverTimeout time.Duration // ha_tracker_failover_timeout
}

// HA tracker defaults of Cortex v1.21.1 (pkg/ha/ha_tracker.go
// RegisterFlagsWithPrefix, pkg/util/validation/limits.go), which AMP keeps.
const (
	DefaultHAClusterLabel    = "cluster"
	DefaultHAReplicaLabel    = "__replica__"
	DefaultHAUpdateTimeout   = 15 * time.Second
	DefaultHAFailoverTimeout = 30 * time.Second
)

// Profile returns the limits of a named backend: "amp", "cortex",
// "prometheus" or "mimir". The error lists the known names.
func Profile(name string) (Limits, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "amp":
		return ampLimits(), nil
	case "cortex":
		return cortexLimits(), nil
	case "prometheus":
		return prometheusLimits(), nil
	case "mimir":
		return mimirLimits(), nil
	}
	return Limits{}, fmt.Errorf("validate: unknown limits profile %q: use one of %s", name, strings.Join(ProfileNames(), ", "))
}

// ProfileNames lists the names Profile accepts.
func ProfileNames() []string { return []string{"amp", "cortex", "prometheus", "mimir"} }

// cortexLimits are Cortex v1.21.1's defaults: RegisterFlags in
// pkg/util/validation/limits.go, -name-validation-scheme in
// pkg/cortex/cortex.go, -ingester.admin-limit-message in
// pkg/ingester/ingester.go.
func cortexLimits() Limits {
	return Limits{
		Name:                            "cortex",
		Backend:                         BackendCortex,
		NameValidation:                  LegacyNames,
		EnforceMetricName:               true,
		MaxLabelNamesPerSeries:          30,
		MaxLabelNameLength:              1024,
		MaxLabelValueLength:             2048,
		MaxLabelsSizeBytes:              0,
		RejectOldSamples:                false,
		RejectOldSamplesMaxAge:          14 * 24 * time.Hour,
		CreationGracePeriod:             10 * time.Minute,
		MaxNativeHistogramBuckets:       0,
		EnableNativeHistograms:          false,
		MaxExemplars:                    0,
		MaxMetadataLength:               1024,
		EnforceMetadataMetricName:       true,
		IngestionRate:                   25000,
		IngestionBurstSize:              50000,
		MaxSeriesPerUser:                5000000,
		MaxSeriesPerMetric:              50000,
		MaxMetricsWithMetadataPerUser:   8000,
		MaxMetadataPerMetric:            10,
		MaxNativeHistogramSeriesPerUser: 0,
		OutOfOrderTimeWindow:            0,
		SeriesLimitStatus:               http.StatusBadRequest,
		// -distributor.ha-tracker.enable-for-all-users is off by default.
		AcceptHASamples:   false,
		HAClusterLabel:    DefaultHAClusterLabel,
		HAReplicaLabel:    DefaultHAReplicaLabel,
		HAMaxClusters:     0,
		HAUpdateTimeout:   DefaultHAUpdateTimeout,
		HAFailoverTimeout: DefaultHAFailoverTimeout,
	}
}

// ampLimits are AMP's published quotas
// (https://docs.aws.amazon.com/prometheus/latest/userguide/AMP_quotas.html
// and the Service Quotas list for "aps") on top of Cortex's defaults, which
// apply wherever AMP publishes nothing.
func ampLimits() Limits {
	l := cortexLimits()
	l.Name = "amp"
	l.MaxLabelNamesPerSeries = 70           // "Labels per metric series: 70"
	l.MaxLabelsSizeBytes = 7 * 1024         // "Label size: 7 KB" of all names and values of a series
	l.IngestionRate = 70000                 // "Ingestion rate per workspace: 70,000 samples/s"
	l.IngestionBurstSize = 1000000          // "Ingestion burst size per workspace: 1,000,000"
	l.MaxSeriesPerUser = 10000000           // "Active series per workspace: 10,000,000"
	l.MaxSeriesPerMetric = 200000           // "Active series per metric name: 200,000" (Service Quotas list; older docs say 2,000,000)
	l.MaxMetricsWithMetadataPerUser = 20000 // "Active metrics with metadata per workspace: 20,000"
	// AMP ingests native histograms; Cortex's default drops them.
	l.EnableNativeHistograms = true
	// rwkit models AMP with a 60 s out-of-order window, as the project's
	// issue asks. AMP's quota page publishes no out-of-order window.
	l.OutOfOrderTimeWindow = 60 * time.Second
	// AMP deduplicates HA pairs for every workspace, on the cluster and
	// __replica__ labels
	// (https://docs.aws.amazon.com/prometheus/latest/userguide/AMP-ingest-dedupe.html).
	l.AcceptHASamples = true
	return l
}

// prometheusLimits describe a plain Prometheus v0.316 remote-write
// receiver: no label limits, no rate or series limits, UTF-8 names, the
// TSDB refusing samples more than 10 minutes ahead (maxAheadTime in
// storage/remote/write_handler.go), no out-of-order window.
func prometheusLimits() Limits {
	return Limits{
		Name:                   "prometheus",
		Backend:                BackendPrometheus,
		NameValidation:         UTF8Names,
		EnforceMetricName:      true,
		CreationGracePeriod:    10 * time.Minute,
		EnableNativeHistograms: true,
		MaxExemplars:           0,
		SeriesLimitStatus:      http.StatusBadRequest,
	}
}

// mimirLimits are Grafana Mimir's defaults (RegisterFlags in
// pkg/util/validation/limits.go at the version e2e/mimir pins) for the
// limits rwkit models. Mimir's series limits are global, before
// replication; the workspace is one ingester, so they apply as they are.
// Mimir has no labels-size limit, and no reject-old-samples:
// -validation.past-grace-period (0, off) is RejectOldSamples here.
func mimirLimits() Limits {
	return Limits{
		Name:                            "mimir",
		Backend:                         BackendMimir,
		NameValidation:                  LegacyNames, // -validation.name-validation-scheme
		EnforceMetricName:               true,
		MaxLabelNamesPerSeries:          30,               // -validation.max-label-names-per-series
		MaxLabelNameLength:              1024,             // -validation.max-length-label-name
		MaxLabelValueLength:             2048,             // -validation.max-length-label-value
		CreationGracePeriod:             10 * time.Minute, // -validation.create-grace-period
		MaxNativeHistogramBuckets:       0,                // -validation.max-native-histogram-buckets
		EnableNativeHistograms:          true,             // -ingester.native-histograms-ingestion-enabled
		MaxExemplars:                    0,                // -ingester.max-global-exemplars-per-user
		MaxMetadataLength:               1024,             // -validation.max-metadata-length
		EnforceMetadataMetricName:       true,
		IngestionRate:                   10000,  // -distributor.ingestion-rate-limit
		IngestionBurstSize:              200000, // -distributor.ingestion-burst-size
		MaxSeriesPerUser:                150000, // -ingester.max-global-series-per-user
		MaxSeriesPerMetric:              0,      // -ingester.max-global-series-per-metric
		MaxMetricsWithMetadataPerUser:   0,
		MaxMetadataPerMetric:            0,
		MaxNativeHistogramSeriesPerUser: 0,
		OutOfOrderTimeWindow:            0, // -ingester.out-of-order-time-window
		// ERROR_CAUSE_TENANT_LIMIT answers 400 (errorCauseToHTTPStatusCode).
		SeriesLimitStatus: http.StatusBadRequest,
	}
}
