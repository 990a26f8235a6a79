package wire

// The types below mirror the messages of the Prometheus remote-write
// protocols. One in-memory shape serves both versions: RW 1.0
// (prometheus.WriteRequest) and RW 2.0 (io.prometheus.write.v2.Request,
// where labels become references into a per-request symbol table and
// metadata moves onto each series).
//
// Field numbers and semantics follow prompb/remote.proto, prompb/types.proto
// and prompb/io/prometheus/write/v2/types.proto in prometheus/prometheus.

// Label is one name/value pair of a series.
type Label struct {
	Name  string
	Value string
}

// Sample is one float value at a timestamp in milliseconds since the epoch.
type Sample struct {
	Value     float64
	Timestamp int64
	// StartTimestamp is the RW 2.0 start (created) timestamp of a cumulative
	// series, in milliseconds; 0 means unset. RW 1.0 has no such field and
	// drops it.
	StartTimestamp int64
}

// Exemplar is an exemplar attached to a series.
type Exemplar struct {
	Labels    []Label
	Value     float64
	Timestamp int64
}

// BucketSpan is a run of consecutive native-histogram buckets.
type BucketSpan struct {
	Offset int32
	Length uint32
}

// ResetHint tells a receiver whether a native histogram was reset.
type ResetHint int32

// Reset hints, numbered as in the protobuf enum of both versions.
const (
	ResetHintUnknown ResetHint = 0
	ResetHintYes     ResetHint = 1
	ResetHintNo      ResetHint = 2
	ResetHintGauge   ResetHint = 3
)

// Histogram is a native histogram sample. An integer histogram uses
// CountInt, ZeroCountInt and the *Deltas slices; a float histogram sets
// IsFloat and uses CountFloat, ZeroCountFloat and the *Counts slices.
type Histogram struct {
	IsFloat        bool
	CountInt       uint64
	CountFloat     float64
	Sum            float64
	Schema         int32
	ZeroThreshold  float64
	ZeroCountInt   uint64
	ZeroCountFloat float64
	NegativeSpans  []BucketSpan
	NegativeDeltas []int64
	NegativeCounts []float64
	PositiveSpans  []BucketSpan
	PositiveDeltas []int64
	PositiveCounts []float64
	ResetHint      ResetHint
	Timestamp      int64
	CustomValues   []float64
	// StartTimestamp is RW 2.0 only; 0 means unset.
	StartTimestamp int64
}

// MetricType is the type of a metric family, numbered as in both versions'
// protobuf enums.
type MetricType int32

// Metric types.
const (
	MetricTypeUnknown        MetricType = 0
	MetricTypeCounter        MetricType = 1
	MetricTypeGauge          MetricType = 2
	MetricTypeHistogram      MetricType = 3
	MetricTypeGaugeHistogram MetricType = 4
	MetricTypeSummary        MetricType = 5
	MetricTypeInfo           MetricType = 6
	MetricTypeStateset       MetricType = 7
)

// String is the type's name in the exposition formats and the Prometheus
// API ("counter", "gaugehistogram", ...); "unknown" for MetricTypeUnknown
// and for any number neither protocol defines.
func (t MetricType) String() string {
	switch t {
	case MetricTypeCounter:
		return "counter"
	case MetricTypeGauge:
		return "gauge"
	case MetricTypeHistogram:
		return "histogram"
	case MetricTypeGaugeHistogram:
		return "gaugehistogram"
	case MetricTypeSummary:
		return "summary"
	case MetricTypeInfo:
		return "info"
	case MetricTypeStateset:
		return "stateset"
	}
	return "unknown"
}

// Metadata describes a metric family. In RW 1.0 it travels in
// WriteRequest.Metadata keyed by FamilyName; in RW 2.0 it travels on each
// series (FamilyName is then not sent: the series' __name__ says it).
type Metadata struct {
	Type       MetricType
	FamilyName string
	Help       string
	Unit       string
}

// TimeSeries is one series and its data points.
type TimeSeries struct {
	Labels     []Label
	Samples    []Sample
	Exemplars  []Exemplar
	Histograms []Histogram
	// Metadata is sent with the series in RW 2.0 and ignored by RW 1.0.
	Metadata Metadata
}

// WriteRequest is one logical remote write.
type WriteRequest struct {
	Series []TimeSeries
	// Metadata is sent in RW 1.0 only; RW 2.0 uses TimeSeries.Metadata.
	Metadata []Metadata
}
