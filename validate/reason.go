// Package validate holds the rules remote-write backends apply to incoming
// series and samples, and the names of the reasons they give when they
// discard data.
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
