package validate

// Hint returns a one-line fix for the reason, or "" for a reason rwkit has
// no advice for. The advice is bound to the reason here, in the package
// that owns the reasons (as Mimir binds its advice to the error IDs in
// pkg/util/globalerror), so every place that names a reason gives the same
// fix: remotewrite's Classify for a backend's refusal, rwkit discards for
// AMP's CloudWatch DiscardedSamples reasons and the workspace's counters.
func (r Reason) Hint() string { return hints[r] }

var hints = map[Reason]string{
	NewValueForTimestamp:           "another writer sends the same series at the same timestamp with a different value; add a per-writer label such as instance (e.g. rwkit push --label instance=$HOSTNAME)",
	SampleOutOfOrder:               "a sample is older than the newest one stored for its series: another writer sends the same series, or this one went back in time; add a per-writer label such as instance, and keep each series' timestamps increasing",
	SampleOutOfBounds:              "the timestamp is older than the receiver's head block accepts (about the last hour); send current timestamps and do not replay old buffers",
	SampleTooOld:                   "the sample is older than the receiver's out-of-order window; send current timestamps or widen the window (out_of_order_time_window)",
	GreaterThanMaxSampleAge:        "the timestamp is older than the receiver's max sample age (reject_old_samples_max_age); send current timestamps",
	TooFarInFuture:                 "the timestamp is ahead of the receiver's clock by more than its creation grace period; check this host's clock (NTP) and that timestamps are milliseconds",
	MaxLabelNamesPerSeries:         "a series has more labels than the receiver's max_label_names_per_series limit (AMP: 70 by default); drop labels or raise the limit",
	LabelNameTooLong:               "a label name is longer than the receiver's max_label_name_length limit (Cortex default 1024); shorten it",
	LabelValueTooLong:              "a label value is longer than the receiver's max_label_value_length limit (Cortex default 2048); shorten or drop it",
	InvalidLabel:                   "a label name is not valid ([a-zA-Z_][a-zA-Z0-9_]*); rename it",
	InvalidMetricName:              "a metric name is not valid ([a-zA-Z_:][a-zA-Z0-9_:]*); rename it",
	MissingMetricName:              "a series has no __name__ label; every series needs a metric name",
	DuplicateLabelNames:            "a series has the same label name twice; remove the duplicate",
	LabelsNotSorted:                "a series' labels are not sorted by name; sort them before sending",
	PerUserSeriesLimit:             "the tenant/workspace has reached its active series limit (max_global_series_per_user; AMP: active series per workspace quota); reduce cardinality or ask for a higher limit",
	PerMetricSeriesLimit:           "one metric name has reached the per-metric series limit (max_global_series_per_metric; AMP: active series per metric name quota); reduce that metric's cardinality or ask for a higher limit",
	PerLabelsetSeriesLimit:         "a label set has reached its series limit (limits_per_label_set); reduce cardinality under it or raise the limit",
	MetadataMetricNameTooLong:      "a metric family name in the metadata is longer than the receiver's max metadata length (default 1024); shorten it",
	MetadataUnitTooLong:            "a metric's unit in the metadata is longer than the receiver's max metadata length (default 1024); shorten it",
	NativeHistogramInvalidSchema:   "a native histogram's schema is outside -4..8 (or -53 for custom buckets); fix the client's histogram schema",
	NativeHistogramBucketsExceeded: "a native histogram has more buckets than the receiver's max_native_histogram_buckets even at the lowest resolution; lower the client's bucket factor or raise the limit",
	RateLimited:                    "the tenant's ingestion rate or burst limit is exceeded (ingestion_rate, ingestion_burst_size; AMP: ingestion rate quota); send less often, send fewer samples, or ask for a higher limit",
}
