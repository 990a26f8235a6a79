package store

import (
	"github.com/prometheus/prometheus/model/histogram"

	"github.com/rwkit/rwkit/wire"
)

// convertHistogram turns a wire histogram into the TSDB's integer or float
// histogram, as prompb's ToIntHistogram and ToFloatHistogram do
// (prompb/codec.go): integer buckets stay delta-encoded, float buckets are
// absolute counts. The result owns its slices (the head keeps it).
func convertHistogram(h *wire.Histogram) (*histogram.Histogram, *histogram.FloatHistogram) {
	hint := histogram.CounterResetHint(h.ResetHint)
	if h.IsFloat {
		return nil, &histogram.FloatHistogram{
			CounterResetHint: hint,
			Schema:           h.Schema,
			ZeroThreshold:    h.ZeroThreshold,
			ZeroCount:        h.ZeroCountFloat,
			Count:            h.CountFloat,
			Sum:              h.Sum,
			PositiveSpans:    convertSpans(h.PositiveSpans),
			PositiveBuckets:  cloneOrNil(h.PositiveCounts),
			NegativeSpans:    convertSpans(h.NegativeSpans),
			NegativeBuckets:  cloneOrNil(h.NegativeCounts),
			CustomValues:     cloneOrNil(h.CustomValues),
		}
	}
	return &histogram.Histogram{
		CounterResetHint: hint,
		Schema:           h.Schema,
		ZeroThreshold:    h.ZeroThreshold,
		ZeroCount:        h.ZeroCountInt,
		Count:            h.CountInt,
		Sum:              h.Sum,
		PositiveSpans:    convertSpans(h.PositiveSpans),
		PositiveBuckets:  cloneOrNil(h.PositiveDeltas),
		NegativeSpans:    convertSpans(h.NegativeSpans),
		NegativeBuckets:  cloneOrNil(h.NegativeDeltas),
		CustomValues:     cloneOrNil(h.CustomValues),
	}, nil
}

func convertSpans(s []wire.BucketSpan) []histogram.Span {
	if len(s) == 0 {
		return nil
	}
	out := make([]histogram.Span, len(s))
	for i := range s {
		out[i] = histogram.Span{Offset: s[i].Offset, Length: s[i].Length}
	}
	return out
}

func cloneOrNil[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return append([]T(nil), s...)
}
