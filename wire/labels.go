package wire

import (
	"math"
	"strings"
)

// MetricNameLabel is the label that holds a series' metric name.
const MetricNameLabel = "__name__"

// MetricName returns the value of the first __name__ label of ls and
// whether there is one, as Cortex's
// extract.UnsafeMetricNameFromLabelAdapters reads it (labels need not be
// sorted).
func MetricName(ls []Label) (string, bool) {
	for _, l := range ls {
		if l.Name == MetricNameLabel {
			return l.Value, true
		}
	}
	return "", false
}

// LabelMap returns ls as a map from name to value, the shape Prometheus'
// HTTP API and prometheus/common's model.Metric give a label set. Should a
// name repeat (remote write forbids it, but a request may carry it), the
// last value wins, as it does in model.Metric.
func LabelMap(ls []Label) map[string]string {
	m := make(map[string]string, len(ls))
	for _, l := range ls {
		m[l.Name] = l.Value
	}
	return m
}

// CompareLabels orders labels by name, the order remote write requires
// within a series (the spec: "Label names MUST be sorted in
// lexicographical order"). Use it with slices.SortFunc or
// slices.BinarySearchFunc.
func CompareLabels(a, b Label) int { return strings.Compare(a.Name, b.Name) }

// StaleNaN is the bit pattern of the value Prometheus writes to mark a
// series stale (model/value.StaleNaN): a NaN that no arithmetic produces,
// so it is compared by its bits, never with ==.
const StaleNaN uint64 = 0x7ff0000000000002

// IsStaleNaN reports whether v is the stale marker.
func IsStaleNaN(v float64) bool { return math.Float64bits(v) == StaleNaN }
