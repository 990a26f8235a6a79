package validate

// Reason is why a backend discarded samples. The values are the strings
// Cortex (the engine behind Amazon Managed Service for Prometheus) uses for
// the reason label of cortex_discarded_samples_total and that AMP reports as
// the Reason dimension of the CloudWatch DiscardedSamples metric. They never
// change: users alert on them.
type Reason string

// Reasons reported by Cortex's ingester (per sample, after the series is
// found or created).
const (
	NewValueForTimestamp   Reason = "new-value-for-timestamp"
	SampleOutOfOrder       Reason = "sample-out-of-order"
	SampleOutOfBounds      Reason = "sample-out-of-bounds"
	SampleTooOld           Reason = "sample-too-old"
	PerUserSeriesLimit     Reason = "per_user_series_limit"
	PerMetricSeriesLimit   Reason = "per_metric_series_limit"
	PerLabelsetSeriesLimit Reason = "per_labelset_series_limit"
)

// Reasons reported by Cortex's distributor (per series, before it reaches an
// ingester).
const (
	MissingMetricName       Reason = "missing_metric_name"
	InvalidMetricName       Reason = "metric_name_invalid"
	InvalidLabel            Reason = "label_invalid"
	DuplicateLabelNames     Reason = "duplicate_label_names"
	LabelsNotSorted         Reason = "labels_not_sorted"
	MaxLabelNamesPerSeries  Reason = "max_label_names_per_series"
	LabelNameTooLong        Reason = "label_name_too_long"
	LabelValueTooLong       Reason = "label_value_too_long"
	TooFarInFuture          Reason = "too_far_in_future"
	GreaterThanMaxSampleAge Reason = "greater_than_max_sample_age"
	RateLimited             Reason = "rate_limited"
)

// Unknown is used when a refusal names no reason rwkit recognises.
const Unknown Reason = ""

// String returns the reason's wire name.
func (r Reason) String() string { return string(r) }

// More reasons of Cortex v1.21's distributor (pkg/util/validation/validate.go
// and pkg/distributor/distributor.go), counted in
// cortex_discarded_samples_total unless noted.
const (
	// LabelsSizeBytesExceeded: the labels' combined size is over
	// max_labels_size_bytes (AMP's "Label size" quota).
	LabelsSizeBytesExceeded Reason = "labels_size_bytes_exceeded"
	// ExemplarLabelsMissing, ExemplarLabelsTooLong and
	// ExemplarTimestampInvalid are counted in
	// cortex_discarded_exemplars_total; the series carrying the exemplar is
	// dropped with it.
	ExemplarLabelsMissing    Reason = "exemplar_labels_missing"
	ExemplarLabelsTooLong    Reason = "exemplar_labels_too_long"
	ExemplarTimestampInvalid Reason = "exemplar_timestamp_invalid"
	// NativeHistogramBucketsExceeded: more buckets than
	// max_native_histogram_buckets even at the lowest resolution.
	NativeHistogramBucketsExceeded Reason = "native_histogram_buckets_exceeded"
	// NativeHistogramInvalidSchema: schema outside -4..8 and not -53
	// (custom buckets).
	NativeHistogramInvalidSchema Reason = "native_histogram_invalid_schema"
	// NativeHistogramSampleSizeBytesExceeded: the encoded histogram is over
	// max_native_histogram_sample_size_bytes.
	NativeHistogramSampleSizeBytesExceeded Reason = "native_histogram_sample_size_bytes_exceeded"
	// NativeHistogramInvalid: the histogram fails Prometheus'
	// histogram.Validate (spans and buckets disagree, negative counts...).
	NativeHistogramInvalid Reason = "native_histogram_invalid"
	// NativeHistogramRateLimited: the per-tenant native histogram ingestion
	// rate (unlimited by default) was exceeded.
	NativeHistogramRateLimited Reason = "native_histogram_rate_limited"
	// TooManyHAClusters: the HA tracker's max clusters was exceeded.
	TooManyHAClusters Reason = "too_many_ha_clusters"
	// DroppedByRelabelConfiguration: metric_relabel_configs removed every
	// label.
	DroppedByRelabelConfiguration Reason = "relabel_configuration"
	// DroppedByUserConfigurationOverride: no label was left once labels
	// with empty values were removed. Cortex drops the series without an
	// error.
	DroppedByUserConfigurationOverride Reason = "user_label_removal_configuration"
)

// Reasons counted in cortex_discarded_metadata_total by the distributor
// (ValidateMetadata). A metadata entry without a family name is counted as
// MissingMetricName.
const (
	MetadataMetricNameTooLong Reason = "metric_name_too_long"
	MetadataHelpTooLong       Reason = "help_too_long"
	MetadataUnitTooLong       Reason = "unit_too_long"
)

// SampleDuplicateTimestamp: Mimir's distributor keeps the first of two
// samples of one series at one timestamp in a request and counts the
// others, without an error (validateSamples).
const SampleDuplicateTimestamp Reason = "sample_duplicate_timestamp"

// More reasons of Cortex v1.21's ingester (pkg/ingester/series.go,
// user_state.go).
const (
	// NativeHistogramSample: native histograms are disabled for the tenant
	// (blocks-storage.tsdb.enable-native-histograms=false, Cortex's default)
	// and were dropped without an error.
	NativeHistogramSample Reason = "native-histogram-sample"
	// PerUserNativeHistogramSeriesLimit: the tenant's native histogram
	// series limit was reached.
	PerUserNativeHistogramSeriesLimit Reason = "per_user_native_histogram_series_limit"
)
