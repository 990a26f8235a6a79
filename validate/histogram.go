package validate

import (
	"errors"
	"fmt"
	"math"

	"github.com/rwkit/rwkit/wire"
)

// Native histograms as Cortex v1.21.1's distributor checks them
// (ValidateNativeHistogram in pkg/util/validation/validate.go), with the
// parts of Prometheus' model/histogram (v0.308.1, the version Cortex
// v1.21.1 builds with) it calls: histogram.Validate and ReduceResolution.
// validate does not import Prometheus, so both are written out here; the
// tests compare them with Prometheus' own.

// The errors of Prometheus' histogram.Validate (model/histogram/generic.go),
// as Cortex prints them.
var (
	errHistogramCountNotBigEnough       = errors.New("histogram's observation count should be at least the number of observations found in the buckets")
	errHistogramCountMismatch           = errors.New("histogram's observation count should equal the number of observations found in the buckets (in absence of NaN)")
	errHistogramNegativeCount           = errors.New("histogram's observation count is negative")
	errHistogramNegativeBucketCount     = errors.New("histogram has a bucket whose observation count is negative")
	errHistogramSpanNegativeOffset      = errors.New("histogram has a span whose offset is negative")
	errHistogramSpansBucketsMismatch    = errors.New("histogram spans specify different number of buckets than provided")
	errHistogramCustomBucketsMismatch   = errors.New("histogram custom bounds are too few")
	errHistogramCustomBucketsInvalid    = errors.New("histogram custom bounds must be in strictly increasing order")
	errHistogramCustomBucketsInfinite   = errors.New("histogram custom bounds must be finite")
	errHistogramCustomBucketsNaN        = errors.New("histogram custom bounds must not be NaN")
	errHistogramCustomBucketsZeroCount  = errors.New("custom buckets: must have zero count of 0")
	errHistogramCustomBucketsZeroThresh = errors.New("custom buckets: must have zero threshold of 0")
	errHistogramCustomBucketsNegSpans   = errors.New("custom buckets: must not have negative spans")
	errHistogramCustomBucketsNegBuckets = errors.New("custom buckets: must not have negative buckets")
	errHistogramExpSchemaCustomBounds   = errors.New("histogram with exponential schema must not have custom bounds")
	errHistogramsInvalidSchema          = fmt.Errorf("histogram has an invalid schema, which must be between %d and %d for exponential buckets, or %d for custom buckets",
		exponentialSchemaMin, exponentialSchemaMax, customBucketsSchema)
)

// ValidateHistogram returns the error Prometheus' Histogram.Validate or
// FloatHistogram.Validate (v0.308.1) returns for h, with the same text, or
// nil. Like Cortex, it reads an integer histogram's CountInt, ZeroCountInt
// and *Deltas and a float histogram's CountFloat, ZeroCountFloat and
// *Counts; custom bounds count as present when there is at least one (a
// protobuf decoder keeps an empty list as nil).
func ValidateHistogram(h *wire.Histogram) error {
	if h.IsFloat {
		return validateFloatHistogram(h)
	}
	var nCount, pCount uint64
	switch {
	case h.Schema == customBucketsSchema:
		if err := checkCustomBounds(h.CustomValues, h.PositiveSpans, len(h.PositiveDeltas)); err != nil {
			return fmt.Errorf("custom buckets: %w", err)
		}
		if h.ZeroCountInt != 0 {
			return errHistogramCustomBucketsZeroCount
		}
		if h.ZeroThreshold != 0 {
			return errHistogramCustomBucketsZeroThresh
		}
		if len(h.NegativeSpans) > 0 {
			return errHistogramCustomBucketsNegSpans
		}
		if len(h.NegativeDeltas) > 0 {
			return errHistogramCustomBucketsNegBuckets
		}
	case h.Schema >= exponentialSchemaMin && h.Schema <= exponentialSchemaMax:
		if err := checkSpans(h.PositiveSpans, len(h.PositiveDeltas)); err != nil {
			return fmt.Errorf("positive side: %w", err)
		}
		if err := checkSpans(h.NegativeSpans, len(h.NegativeDeltas)); err != nil {
			return fmt.Errorf("negative side: %w", err)
		}
		var err error
		if nCount, err = checkDeltas(h.NegativeDeltas); err != nil {
			return fmt.Errorf("negative side: %w", err)
		}
		if len(h.CustomValues) > 0 {
			return errHistogramExpSchemaCustomBounds
		}
	default:
		return invalidSchemaError(h.Schema)
	}
	pCount, err := checkDeltas(h.PositiveDeltas)
	if err != nil {
		return fmt.Errorf("positive side: %w", err)
	}
	sum := nCount + pCount + h.ZeroCountInt
	if math.IsNaN(h.Sum) {
		if sum > h.CountInt {
			return fmt.Errorf("%d observations found in buckets, but the Count field is %d: %w", sum, h.CountInt, errHistogramCountNotBigEnough)
		}
	} else if sum != h.CountInt {
		return fmt.Errorf("%d observations found in buckets, but the Count field is %d: %w", sum, h.CountInt, errHistogramCountMismatch)
	}
	return nil
}

func validateFloatHistogram(h *wire.Histogram) error {
	switch {
	case h.Schema == customBucketsSchema:
		if err := checkCustomBounds(h.CustomValues, h.PositiveSpans, len(h.PositiveCounts)); err != nil {
			return fmt.Errorf("custom buckets: %w", err)
		}
		if h.ZeroCountFloat != 0 {
			return errHistogramCustomBucketsZeroCount
		}
		if h.ZeroThreshold != 0 {
			return errHistogramCustomBucketsZeroThresh
		}
		if len(h.NegativeSpans) > 0 {
			return errHistogramCustomBucketsNegSpans
		}
		if len(h.NegativeCounts) > 0 {
			return errHistogramCustomBucketsNegBuckets
		}
	case h.Schema >= exponentialSchemaMin && h.Schema <= exponentialSchemaMax:
		if err := checkSpans(h.PositiveSpans, len(h.PositiveCounts)); err != nil {
			return fmt.Errorf("positive side: %w", err)
		}
		if err := checkSpans(h.NegativeSpans, len(h.NegativeCounts)); err != nil {
			return fmt.Errorf("negative side: %w", err)
		}
		if err := checkCounts(h.NegativeCounts); err != nil {
			return fmt.Errorf("negative side: %w", err)
		}
		if h.ZeroCountFloat < 0 {
			return fmt.Errorf("zero bucket has observation count of %v: %w", h.ZeroCountFloat, errHistogramNegativeBucketCount)
		}
		if len(h.CustomValues) > 0 {
			return errHistogramExpSchemaCustomBounds
		}
	default:
		return invalidSchemaError(h.Schema)
	}
	if h.CountFloat < 0 {
		// Two spaces, as in Prometheus.
		return fmt.Errorf("observation count is  %v: %w", h.CountFloat, errHistogramNegativeCount)
	}
	if err := checkCounts(h.PositiveCounts); err != nil {
		return fmt.Errorf("positive side: %w", err)
	}
	return nil
}

func invalidSchemaError(s int32) error {
	return fmt.Errorf("%w, got schema %d", errHistogramsInvalidSchema, s)
}

// checkSpans is checkHistogramSpans: no negative offset after the first
// span, and as many buckets as the spans' lengths add up to.
func checkSpans(spans []wire.BucketSpan, buckets int) error {
	n := 0
	for i, sp := range spans {
		if i > 0 && sp.Offset < 0 {
			return fmt.Errorf("span number %d with offset %d: %w", i+1, sp.Offset, errHistogramSpanNegativeOffset)
		}
		n += int(sp.Length)
	}
	if n != buckets {
		return fmt.Errorf("spans need %d buckets, have %d buckets: %w", n, buckets, errHistogramSpansBucketsMismatch)
	}
	return nil
}

// checkDeltas is checkHistogramBuckets for delta-encoded integer buckets:
// no absolute count below zero. It returns the sum of the counts
// (wrapping, as Prometheus' uint64 does).
func checkDeltas(deltas []int64) (uint64, error) {
	var last int64
	var sum uint64
	for i, d := range deltas {
		c := last + d
		if c < 0 {
			return 0, fmt.Errorf("bucket number %d has observation count of %v: %w", i+1, c, errHistogramNegativeBucketCount)
		}
		last = c
		sum += uint64(c)
	}
	return sum, nil
}

// checkCounts is checkHistogramBuckets for absolute float buckets.
func checkCounts(counts []float64) error {
	for i, c := range counts {
		if c < 0 {
			return fmt.Errorf("bucket number %d has observation count of %v: %w", i+1, c, errHistogramNegativeBucketCount)
		}
	}
	return nil
}

// checkCustomBounds is checkHistogramCustomBounds.
func checkCustomBounds(bounds []float64, spans []wire.BucketSpan, buckets int) error {
	prev := math.Inf(-1)
	for i, b := range bounds {
		if math.IsNaN(b) {
			return errHistogramCustomBucketsNaN
		}
		if i > 0 && b <= prev {
			return fmt.Errorf("previous bound is %f and current is %f: %w", prev, b, errHistogramCustomBucketsInvalid)
		}
		prev = b
	}
	if math.IsInf(prev, 1) {
		return fmt.Errorf("last +Inf bound must not be explicitly defined: %w", errHistogramCustomBucketsInfinite)
	}
	n, total := 0, 0
	for i, sp := range spans {
		if sp.Offset < 0 {
			return fmt.Errorf("span number %d with offset %d: %w", i+1, sp.Offset, errHistogramSpanNegativeOffset)
		}
		n += int(sp.Length)
		total += int(sp.Length) + int(sp.Offset)
	}
	if n != buckets {
		return fmt.Errorf("spans need %d buckets, have %d buckets: %w", n, buckets, errHistogramSpansBucketsMismatch)
	}
	if len(bounds)+1 < total {
		return fmt.Errorf("only %d custom bounds defined which is insufficient to cover total span length of %d: %w", len(bounds), total, errHistogramCustomBucketsMismatch)
	}
	return nil
}

// histogramInvalid is Cortex's call of histogram.Validate.
func histogramInvalid(_ *Limits, ls []wire.Label, h *wire.Histogram) *Discard {
	if err := ValidateHistogram(h); err != nil {
		return bad(NativeHistogramInvalid, fmt.Sprintf("invalid native histogram, validation err: %v, metric: %.200q", err, formatLabelSet(ls)))
	}
	return nil
}

// histogramBucketCount is the number of buckets Cortex compares with
// max_native_histogram_buckets.
func histogramBucketCount(h *wire.Histogram) int {
	if h.IsFloat {
		return len(h.PositiveCounts) + len(h.NegativeCounts)
	}
	return len(h.PositiveDeltas) + len(h.NegativeDeltas)
}

// LimitHistogramBuckets returns h as Cortex v1.21.1 stores it under
// max_native_histogram_buckets = max, and true; or false when Cortex
// refuses it as native_histogram_buckets_exceeded. A histogram with more
// than max buckets loses resolution one schema at a time (ReduceResolution)
// until it has at most max, and is refused when it reaches schema -4
// first; one with custom buckets is refused outright. max <= 0 means no
// limit. h must be valid (ValidateHistogram); it is not modified, and the
// result shares no bucket or span slices with it when it was reduced.
func LimitHistogramBuckets(h *wire.Histogram, max int) (wire.Histogram, bool) {
	if max <= 0 || histogramBucketCount(h) <= max {
		return *h, true
	}
	if h.Schema == customBucketsSchema || h.Schema <= exponentialSchemaMin {
		return *h, false
	}
	r := *h
	for histogramBucketCount(&r) > max {
		if r.Schema <= exponentialSchemaMin {
			return *h, false
		}
		r = ReduceResolution(&r, r.Schema-1)
	}
	return r, true
}

// ReduceResolution returns h with its buckets merged into those of the
// lower schema to, as Prometheus' Histogram.ReduceResolution and
// FloatHistogram.ReduceResolution (v0.308.1) do: bucket i of schema s goes
// into bucket ((i-1) >> (s-to)) + 1, counts add up, integer buckets stay
// delta-encoded, adjacent buckets share a span and no span is empty. The
// result carries only the counts and buckets of its kind (CountInt,
// ZeroCountInt and the *Deltas of an integer histogram; CountFloat,
// ZeroCountFloat and the *Counts of a float one), as Cortex's conversion
// back from Prometheus' histogram does; every other field is h's. h is not
// modified.
//
// h must be valid (ValidateHistogram): buckets beyond what its spans
// describe are dropped. When h uses custom buckets or to is not lower than
// h.Schema, ReduceResolution returns *h (Prometheus' panics).
func ReduceResolution(h *wire.Histogram, to int32) wire.Histogram {
	if h.Schema == customBucketsSchema || to == customBucketsSchema || to >= h.Schema {
		return *h
	}
	r := *h
	if h.IsFloat {
		r.PositiveSpans, r.PositiveCounts = reduceBuckets(h.PositiveSpans, h.PositiveCounts, h.Schema, to, false)
		r.NegativeSpans, r.NegativeCounts = reduceBuckets(h.NegativeSpans, h.NegativeCounts, h.Schema, to, false)
		r.PositiveDeltas, r.NegativeDeltas = nil, nil
		r.CountInt, r.ZeroCountInt = 0, 0
	} else {
		r.PositiveSpans, r.PositiveDeltas = reduceBuckets(h.PositiveSpans, h.PositiveDeltas, h.Schema, to, true)
		r.NegativeSpans, r.NegativeDeltas = reduceBuckets(h.NegativeSpans, h.NegativeDeltas, h.Schema, to, true)
		r.PositiveCounts, r.NegativeCounts = nil, nil
		r.CountFloat, r.ZeroCountFloat = 0, 0
	}
	r.Schema = to
	return r
}

// reduceBuckets merges one side's buckets from schema from into schema to.
// With deltas, buckets and the result are delta-encoded: the sums are
// taken over absolute counts (wrapping like Prometheus' int64 arithmetic),
// then encoded again. Float counts are added in bucket order, so that the
// result is bit for bit Prometheus'. Bucket indexes are int32 and wrap as
// in Prometheus; a bucket whose target index falls below the previous one
// (possible only when offsets wrap past the int32 range) is dropped, as
// Prometheus' reduceResolution drops it.
func reduceBuckets[T int64 | float64](spans []wire.BucketSpan, buckets []T, from, to int32, deltas bool) ([]wire.BucketSpan, []T) {
	var (
		outSpans []wire.BucketSpan
		out      []T   // absolute counts of the target buckets
		idx      int32 // index of the current bucket in schema from
		last     int32 // index of the last target bucket
		abs      T     // absolute count of the current bucket (deltas)
		k        int   // position of the current bucket in buckets
	)
	for _, sp := range spans {
		idx += sp.Offset
		for j := uint32(0); j < sp.Length; j++ {
			if k == len(buckets) {
				return outSpans, encode(out, deltas)
			}
			c := buckets[k]
			if deltas {
				// The running count moves only when the bucket is kept,
				// as lastBucketCount does in Prometheus.
				c += abs
			}
			t := ((idx - 1) >> (from - to)) + 1
			kept := true
			switch {
			case len(out) == 0:
				outSpans = append(outSpans, wire.BucketSpan{Offset: t, Length: 1})
				out = append(out, c)
				last = t
			case t == last:
				out[len(out)-1] += c
			case t == last+1:
				outSpans[len(outSpans)-1].Length++
				out = append(out, c)
				last = t
			case t > last+1:
				outSpans = append(outSpans, wire.BucketSpan{Offset: t - last - 1, Length: 1})
				out = append(out, c)
				last = t
			default:
				kept = false
			}
			if deltas && kept {
				abs = c
			}
			idx++
			k++
		}
	}
	return outSpans, encode(out, deltas)
}

// encode delta-encodes absolute counts in place when deltas is set.
func encode[T int64 | float64](counts []T, deltas bool) []T {
	if deltas {
		var prev T
		for i, c := range counts {
			counts[i] = c - prev
			prev = c
		}
	}
	return counts
}
