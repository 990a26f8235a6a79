package wire

// Field numbers of the remote-write messages, named once: encoders build
// their tags from them (field<<3 | wire type) and decoders switch on them.
// RW 1.0: prompb/remote.proto and prompb/types.proto; RW 2.0:
// prompb/io/prometheus/write/v2/types.proto.

// prometheus.WriteRequest.
const (
	fieldWRTimeSeries = 1
	fieldWRMetadata   = 3
)

// prometheus.TimeSeries.
const (
	fieldTSLabels     = 1
	fieldTSSamples    = 2
	fieldTSExemplars  = 3
	fieldTSHistograms = 4
)

// prometheus.Label.
const (
	fieldLabelName  = 1
	fieldLabelValue = 2
)

// Sample, in both versions; start_timestamp is RW 2.0's only.
const (
	fieldSampleValue          = 1
	fieldSampleTimestamp      = 2
	fieldSampleStartTimestamp = 3
)

// Exemplar: labels in RW 1.0, labels_refs in RW 2.0, under one number.
const (
	fieldExemplarLabels    = 1
	fieldExemplarValue     = 2
	fieldExemplarTimestamp = 3
)

// prometheus.MetricMetadata (RW 1.0).
const (
	fieldMDType   = 1
	fieldMDFamily = 2
	fieldMDHelp   = 4
	fieldMDUnit   = 5
)

// io.prometheus.write.v2.Request.
const (
	fieldReqSymbols    = 4
	fieldReqTimeSeries = 5
)

// io.prometheus.write.v2.TimeSeries. Field 6 was created_timestamp in
// Prometheus 3.0 to 3.4 and is reserved since; decoders still read it.
const (
	fieldV2LabelsRefs       = 1
	fieldV2Samples          = 2
	fieldV2Histograms       = 3
	fieldV2Exemplars        = 4
	fieldV2Metadata         = 5
	fieldV2CreatedTimestamp = 6
)

// io.prometheus.write.v2.Metadata.
const (
	fieldV2MDType    = 1
	fieldV2MDHelpRef = 3
	fieldV2MDUnitRef = 4
)

// Histogram, the same message in both versions but for start_timestamp,
// RW 2.0's only.
const (
	fieldHCountInt       = 1
	fieldHCountFloat     = 2
	fieldHSum            = 3
	fieldHSchema         = 4
	fieldHZeroThreshold  = 5
	fieldHZeroCountInt   = 6
	fieldHZeroCountFloat = 7
	fieldHNegSpans       = 8
	fieldHNegDeltas      = 9
	fieldHNegCounts      = 10
	fieldHPosSpans       = 11
	fieldHPosDeltas      = 12
	fieldHPosCounts      = 13
	fieldHResetHint      = 14
	fieldHTimestamp      = 15
	fieldHCustomValues   = 16
	fieldHStartTimestamp = 17
)

// BucketSpan.
const (
	fieldSpanOffset = 1
	fieldSpanLength = 2
)
