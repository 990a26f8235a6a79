package validate

import (
	"errors"
	"math"
	"math/rand"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/prometheus/model/histogram"

	"github.com/rwkit/rwkit/wire"
)

// The tests compare validate's histogram code with Prometheus' own
// (model/histogram, the version in go.mod). Cortex v1.21.1 builds with
// v0.308.1, whose Validate lacks the span index range check added since:
// histograms that only the newer check refuses are left out of the
// comparison of Validate.

func toProm(h *wire.Histogram) (*histogram.Histogram, *histogram.FloatHistogram) {
	spans := func(s []wire.BucketSpan) []histogram.Span {
		if len(s) == 0 {
			return nil
		}
		out := make([]histogram.Span, len(s))
		for i := range s {
			out[i] = histogram.Span{Offset: s[i].Offset, Length: s[i].Length}
		}
		return out
	}
	// A protobuf decoder leaves an empty list nil (see ValidateHistogram).
	custom := func(v []float64) []float64 {
		if len(v) == 0 {
			return nil
		}
		return append([]float64(nil), v...)
	}
	hint := histogram.CounterResetHint(h.ResetHint)
	if h.IsFloat {
		return nil, &histogram.FloatHistogram{
			CounterResetHint: hint, Schema: h.Schema, ZeroThreshold: h.ZeroThreshold,
			ZeroCount: h.ZeroCountFloat, Count: h.CountFloat, Sum: h.Sum,
			PositiveSpans: spans(h.PositiveSpans), PositiveBuckets: append([]float64(nil), h.PositiveCounts...),
			NegativeSpans: spans(h.NegativeSpans), NegativeBuckets: append([]float64(nil), h.NegativeCounts...),
			CustomValues: custom(h.CustomValues),
		}
	}
	return &histogram.Histogram{
		CounterResetHint: hint, Schema: h.Schema, ZeroThreshold: h.ZeroThreshold,
		ZeroCount: h.ZeroCountInt, Count: h.CountInt, Sum: h.Sum,
		PositiveSpans: spans(h.PositiveSpans), PositiveBuckets: append([]int64(nil), h.PositiveDeltas...),
		NegativeSpans: spans(h.NegativeSpans), NegativeBuckets: append([]int64(nil), h.NegativeDeltas...),
		CustomValues: custom(h.CustomValues),
	}, nil
}

func fromPromSpans(s []histogram.Span) []wire.BucketSpan {
	var out []wire.BucketSpan
	for _, sp := range s {
		out = append(out, wire.BucketSpan{Offset: sp.Offset, Length: sp.Length})
	}
	return out
}

// fromProm is Cortex's HistogramToHistogramProto and
// FloatHistogramToHistogramProto: what the distributor passes on.
func fromProm(ts int64, ih *histogram.Histogram, fh *histogram.FloatHistogram) wire.Histogram {
	if fh != nil {
		return wire.Histogram{IsFloat: true, CountFloat: fh.Count, Sum: fh.Sum, Schema: fh.Schema, ZeroThreshold: fh.ZeroThreshold,
			ZeroCountFloat: fh.ZeroCount, NegativeSpans: fromPromSpans(fh.NegativeSpans), NegativeCounts: fh.NegativeBuckets,
			PositiveSpans: fromPromSpans(fh.PositiveSpans), PositiveCounts: fh.PositiveBuckets,
			ResetHint: wire.ResetHint(fh.CounterResetHint), Timestamp: ts, CustomValues: fh.CustomValues}
	}
	return wire.Histogram{CountInt: ih.Count, Sum: ih.Sum, Schema: ih.Schema, ZeroThreshold: ih.ZeroThreshold,
		ZeroCountInt: ih.ZeroCount, NegativeSpans: fromPromSpans(ih.NegativeSpans), NegativeDeltas: ih.NegativeBuckets,
		PositiveSpans: fromPromSpans(ih.PositiveSpans), PositiveDeltas: ih.PositiveBuckets,
		ResetHint: wire.ResetHint(ih.CounterResetHint), Timestamp: ts, CustomValues: ih.CustomValues}
}

// histCmp compares floats bit for bit (NaN equals NaN, -0 is not 0) and
// treats nil and empty slices alike.
var histCmp = []cmp.Option{
	cmpopts.EquateEmpty(),
	cmp.Comparer(func(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }),
}

// diff is cmp.Diff with histCmp, after a quick check: cmp is too slow for
// the many comparisons of the randomized test.
func diff(a, b wire.Histogram) string {
	if sameHistogram(&a, &b) {
		return ""
	}
	return cmp.Diff(a, b, histCmp...)
}

func sameHistogram(a, b *wire.Histogram) bool {
	bits := math.Float64bits
	if a.IsFloat != b.IsFloat || a.CountInt != b.CountInt || bits(a.CountFloat) != bits(b.CountFloat) || bits(a.Sum) != bits(b.Sum) ||
		a.Schema != b.Schema || bits(a.ZeroThreshold) != bits(b.ZeroThreshold) || a.ZeroCountInt != b.ZeroCountInt ||
		bits(a.ZeroCountFloat) != bits(b.ZeroCountFloat) || a.ResetHint != b.ResetHint || a.Timestamp != b.Timestamp ||
		a.StartTimestamp != b.StartTimestamp {
		return false
	}
	floats := func(x, y []float64) bool {
		return slices.EqualFunc(x, y, func(p, q float64) bool { return bits(p) == bits(q) })
	}
	return slices.Equal(a.PositiveSpans, b.PositiveSpans) && slices.Equal(a.NegativeSpans, b.NegativeSpans) &&
		slices.Equal(a.PositiveDeltas, b.PositiveDeltas) && slices.Equal(a.NegativeDeltas, b.NegativeDeltas) &&
		floats(a.PositiveCounts, b.PositiveCounts) && floats(a.NegativeCounts, b.NegativeCounts) && floats(a.CustomValues, b.CustomValues)
}

func deepCopy(h *wire.Histogram) wire.Histogram {
	c := *h
	c.PositiveSpans = append([]wire.BucketSpan(nil), h.PositiveSpans...)
	c.NegativeSpans = append([]wire.BucketSpan(nil), h.NegativeSpans...)
	c.PositiveDeltas = append([]int64(nil), h.PositiveDeltas...)
	c.NegativeDeltas = append([]int64(nil), h.NegativeDeltas...)
	c.PositiveCounts = append([]float64(nil), h.PositiveCounts...)
	c.NegativeCounts = append([]float64(nil), h.NegativeCounts...)
	c.CustomValues = append([]float64(nil), h.CustomValues...)
	return c
}

// promValidate is Prometheus' Validate of h; skip reports an error only
// newer Prometheus versions than Cortex v1.21.1's return.
func promValidate(h *wire.Histogram) (err error, skip bool) {
	ih, fh := toProm(h)
	if fh != nil {
		err = fh.Validate()
	} else {
		err = ih.Validate()
	}
	return err, errors.Is(err, histogram.ErrHistogramSpanIndexOutOfRange)
}

// promReduce is Prometheus' ReduceResolution of a copy of h.
func promReduce(t testing.TB, h *wire.Histogram, to int32) wire.Histogram {
	t.Helper()
	ih, fh := toProm(h)
	var err error
	if fh != nil {
		err = fh.ReduceResolution(to)
	} else {
		err = ih.ReduceResolution(to)
	}
	if err != nil {
		t.Fatalf("prometheus ReduceResolution(%d) of %+v: %v", to, h, err)
	}
	return fromProm(h.Timestamp, ih, fh)
}

// cortexLimit is Cortex v1.21.1's loop in ValidateNativeHistogram, on
// Prometheus' histograms.
func cortexLimit(t testing.TB, h *wire.Histogram, max int) (wire.Histogram, bool) {
	t.Helper()
	ih, fh := toProm(h)
	n := func() int {
		if fh != nil {
			return len(fh.PositiveBuckets) + len(fh.NegativeBuckets)
		}
		return len(ih.PositiveBuckets) + len(ih.NegativeBuckets)
	}
	if n() <= max {
		return *h, true
	}
	if h.Schema == histogram.CustomBucketsSchema || h.Schema <= histogram.ExponentialSchemaMin {
		return wire.Histogram{}, false
	}
	for n() > max {
		var err error
		if fh != nil {
			if fh.Schema <= histogram.ExponentialSchemaMin {
				return wire.Histogram{}, false
			}
			err = fh.ReduceResolution(fh.Schema - 1)
		} else {
			if ih.Schema <= histogram.ExponentialSchemaMin {
				return wire.Histogram{}, false
			}
			err = ih.ReduceResolution(ih.Schema - 1)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return fromProm(h.Timestamp, ih, fh), true
}

// compareWithPrometheus checks ValidateHistogram, ReduceResolution to
// every lower schema and LimitHistogramBuckets for limits from 1 bucket to
// all of them against Prometheus', and that h is not modified.
func compareWithPrometheus(t testing.TB, h *wire.Histogram) {
	t.Helper()
	orig := deepCopy(h)
	defer func() {
		if d := diff(orig, *h); d != "" {
			t.Fatalf("input modified (-before +after):\n%s", d)
		}
	}()
	err := ValidateHistogram(h)
	want, skip := promValidate(h)
	if !skip {
		if (err == nil) != (want == nil) || err != nil && err.Error() != want.Error() {
			t.Fatalf("ValidateHistogram(%+v)\n got: %v\nwant: %v", h, err, want)
		}
	}
	if err != nil || h.Schema == customBucketsSchema {
		return
	}
	for to := h.Schema - 1; to >= exponentialSchemaMin; to-- {
		got := ReduceResolution(h, to)
		if d := diff(promReduce(t, h, to), got); d != "" {
			t.Fatalf("ReduceResolution(%+v, %d) (-prometheus +validate):\n%s", h, to, d)
		}
	}
	n := histogramBucketCount(h)
	for _, max := range []int{1, 2, 3, 4, n / 3, n / 2, n - 2, n - 1, n} {
		if max < 1 || max > n {
			continue
		}
		got, ok := LimitHistogramBuckets(h, max)
		want, wantOK := cortexLimit(t, h, max)
		if ok != wantOK {
			t.Fatalf("LimitHistogramBuckets(%+v, %d): ok %v, want %v", h, max, ok, wantOK)
		}
		if !ok {
			continue
		}
		if d := diff(want, got); d != "" {
			t.Fatalf("LimitHistogramBuckets(%+v, %d) (-cortex +validate):\n%s", h, max, d)
		}
	}
}

func TestReduceResolutionHandComputed(t *testing.T) {
	tests := []struct {
		name string
		in   wire.Histogram
		to   int32
		want wire.Histogram
	}{{
		// README's example: 8 buckets of 1 at schema 2. Bucket i goes to
		// ((i-1)>>2)+1 at schema 0: 0 -> 0, 1..4 -> 1, 5..7 -> 2.
		name: "schema 2 to 0",
		in: wire.Histogram{CountInt: 8, Sum: 8, Schema: 2, ZeroThreshold: 1e-128, Timestamp: 7, ResetHint: wire.ResetHintNo,
			PositiveSpans: []wire.BucketSpan{{Offset: 0, Length: 8}}, PositiveDeltas: []int64{1, 0, 0, 0, 0, 0, 0, 0}},
		to: 0,
		want: wire.Histogram{CountInt: 8, Sum: 8, Schema: 0, ZeroThreshold: 1e-128, Timestamp: 7, ResetHint: wire.ResetHintNo,
			PositiveSpans: []wire.BucketSpan{{Offset: 0, Length: 3}}, PositiveDeltas: []int64{1, 3, -1}},
	}, {
		// 0 -> 0, 1,2 -> 1, 3,4 -> 2, 5,6 -> 3, 7 -> 4.
		name: "schema 2 to 1",
		in: wire.Histogram{CountInt: 8, Schema: 2,
			PositiveSpans: []wire.BucketSpan{{Offset: 0, Length: 8}}, PositiveDeltas: []int64{1, 0, 0, 0, 0, 0, 0, 0}},
		to: 1,
		want: wire.Histogram{CountInt: 8, Schema: 1,
			PositiveSpans: []wire.BucketSpan{{Offset: 0, Length: 5}}, PositiveDeltas: []int64{1, 1, 0, 0, -1}},
	}, {
		// Negative side, two spans: indexes -3, -2, 1, 2 with counts 5, 3,
		// 2, 4 go to -1, -1, 1, 1: 8 at -1, 6 at 1, a gap between.
		name: "negative side with a gap",
		in: wire.Histogram{CountInt: 14, Schema: 1,
			NegativeSpans: []wire.BucketSpan{{Offset: -3, Length: 2}, {Offset: 2, Length: 2}}, NegativeDeltas: []int64{5, -2, -1, 2}},
		to: 0,
		want: wire.Histogram{CountInt: 14, Schema: 0,
			NegativeSpans: []wire.BucketSpan{{Offset: -1, Length: 1}, {Offset: 1, Length: 1}}, NegativeDeltas: []int64{8, -2}},
	}, {
		// Indexes 0 and 2 at schema 1 become 0 and 1: the gap closes, one
		// span.
		name: "gap closes",
		in: wire.Histogram{CountInt: 3, Schema: 1,
			PositiveSpans: []wire.BucketSpan{{Offset: 0, Length: 1}, {Offset: 1, Length: 1}}, PositiveDeltas: []int64{1, 1}},
		to: 0,
		want: wire.Histogram{CountInt: 3, Schema: 0,
			PositiveSpans: []wire.BucketSpan{{Offset: 0, Length: 2}}, PositiveDeltas: []int64{1, 1}},
	}, {
		// Float, both sides; indexes 1..4 at schema 3 all go to 1 at
		// schema 1, 5 goes to 2; -1 goes to 0, -4 to -1 (from -5>>2 = -2).
		name: "float both sides",
		in: wire.Histogram{IsFloat: true, CountFloat: 10, ZeroCountFloat: 0.5, Schema: 3,
			PositiveSpans: []wire.BucketSpan{{Offset: 1, Length: 5}}, PositiveCounts: []float64{1, 0.5, 0.25, 2, 3},
			NegativeSpans: []wire.BucketSpan{{Offset: -4, Length: 1}, {Offset: 2, Length: 1}}, NegativeCounts: []float64{1.5, 1.25}},
		to: 1,
		want: wire.Histogram{IsFloat: true, CountFloat: 10, ZeroCountFloat: 0.5, Schema: 1,
			PositiveSpans: []wire.BucketSpan{{Offset: 1, Length: 2}}, PositiveCounts: []float64{3.75, 3},
			NegativeSpans: []wire.BucketSpan{{Offset: -1, Length: 2}}, NegativeCounts: []float64{1.5, 1.25}},
	}, {
		// Zero-length spans only move the index.
		name: "empty spans",
		in: wire.Histogram{CountInt: 2, Schema: 0,
			PositiveSpans: []wire.BucketSpan{{Offset: 3, Length: 0}, {Offset: 2, Length: 2}}, PositiveDeltas: []int64{1, 0}},
		to: -1,
		want: wire.Histogram{CountInt: 2, Schema: -1,
			PositiveSpans: []wire.BucketSpan{{Offset: 3, Length: 1}}, PositiveDeltas: []int64{2}},
	}, {
		name: "custom buckets are kept",
		in: wire.Histogram{CountInt: 1, Schema: customBucketsSchema, CustomValues: []float64{1},
			PositiveSpans: []wire.BucketSpan{{Offset: 0, Length: 1}}, PositiveDeltas: []int64{1}},
		to: 0,
		want: wire.Histogram{CountInt: 1, Schema: customBucketsSchema, CustomValues: []float64{1},
			PositiveSpans: []wire.BucketSpan{{Offset: 0, Length: 1}}, PositiveDeltas: []int64{1}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := ValidateHistogram(&tt.in); err != nil {
				t.Fatal(err)
			}
			got := ReduceResolution(&tt.in, tt.to)
			if d := cmp.Diff(tt.want, got, histCmp...); d != "" {
				t.Errorf("(-want +got)\n%s", d)
			}
			compareWithPrometheus(t, &tt.in)
		})
	}
}

func TestLimitHistogramBuckets(t *testing.T) {
	in := wire.Histogram{CountInt: 8, Sum: 8, Schema: 2,
		PositiveSpans: []wire.BucketSpan{{Offset: 0, Length: 8}}, PositiveDeltas: []int64{1, 0, 0, 0, 0, 0, 0, 0}}
	for _, tt := range []struct {
		max    int
		schema int32
		n      int
		ok     bool
	}{
		// At schema -4 bucket 0 stays apart from 1..7: 2 buckets at best.
		{0, 2, 8, true}, {8, 2, 8, true}, {7, 1, 5, true}, {5, 1, 5, true}, {4, 0, 3, true}, {3, 0, 3, true}, {2, -1, 2, true}, {1, 2, 8, false}} {
		got, ok := LimitHistogramBuckets(&in, tt.max)
		if ok != tt.ok || got.Schema != tt.schema || histogramBucketCount(&got) != tt.n {
			t.Errorf("max %d: schema %d, %d buckets, %v; want %d, %d, %v", tt.max, got.Schema, histogramBucketCount(&got), ok, tt.schema, tt.n, tt.ok)
		}
	}
	// Two buckets far apart stay two down to schema -4.
	far := wire.Histogram{CountInt: 2, Schema: 0,
		PositiveSpans: []wire.BucketSpan{{Offset: 0, Length: 1}, {Offset: 100, Length: 1}}, PositiveDeltas: []int64{1, 0}}
	if _, ok := LimitHistogramBuckets(&far, 1); ok {
		t.Error("far apart: fits in 1 bucket")
	}
	custom := wire.Histogram{CountInt: 2, Schema: customBucketsSchema, CustomValues: []float64{1},
		PositiveSpans: []wire.BucketSpan{{Offset: 0, Length: 2}}, PositiveDeltas: []int64{1, 0}}
	if _, ok := LimitHistogramBuckets(&custom, 1); ok {
		t.Error("custom buckets: reduced")
	}
	if got, ok := LimitHistogramBuckets(&custom, 2); !ok || got.Schema != customBucketsSchema {
		t.Errorf("custom buckets within the limit: %+v, %v", got, ok)
	}
}

func TestValidateHistogramTexts(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name string
		in   wire.Histogram
		want string
	}{
		{"valid", wire.Histogram{CountInt: 3, ZeroCountInt: 1, PositiveSpans: []wire.BucketSpan{{Length: 2}}, PositiveDeltas: []int64{1, -1},
			NegativeSpans: []wire.BucketSpan{{Offset: -2, Length: 1}}, NegativeDeltas: []int64{1}}, ""},
		{"spans and buckets disagree", wire.Histogram{CountInt: 2, PositiveSpans: []wire.BucketSpan{{Length: 2}}, PositiveDeltas: []int64{2}},
			"positive side: spans need 2 buckets, have 1 buckets: histogram spans specify different number of buckets than provided"},
		{"negative offset", wire.Histogram{NegativeSpans: []wire.BucketSpan{{Offset: -2, Length: 1}, {Offset: -1, Length: 1}}, NegativeDeltas: []int64{1, 0}},
			"negative side: span number 2 with offset -1: histogram has a span whose offset is negative"},
		{"negative bucket", wire.Histogram{CountInt: 1, PositiveSpans: []wire.BucketSpan{{Length: 2}}, PositiveDeltas: []int64{1, -2}},
			"positive side: bucket number 2 has observation count of -1: histogram has a bucket whose observation count is negative"},
		{"count mismatch", wire.Histogram{CountInt: 5, ZeroCountInt: 1, PositiveSpans: []wire.BucketSpan{{Length: 1}}, PositiveDeltas: []int64{2}},
			"3 observations found in buckets, but the Count field is 5: histogram's observation count should equal the number of observations found in the buckets (in absence of NaN)"},
		{"NaN sum, count too small", wire.Histogram{CountInt: 1, Sum: nan, PositiveSpans: []wire.BucketSpan{{Length: 1}}, PositiveDeltas: []int64{2}},
			"2 observations found in buckets, but the Count field is 1: histogram's observation count should be at least the number of observations found in the buckets"},
		{"NaN sum, count bigger", wire.Histogram{CountInt: 3, Sum: nan, PositiveSpans: []wire.BucketSpan{{Length: 1}}, PositiveDeltas: []int64{2}}, ""},
		{"exponential with custom bounds", wire.Histogram{CustomValues: []float64{1}},
			"histogram with exponential schema must not have custom bounds"},
		{"invalid schema", wire.Histogram{Schema: 9},
			"histogram has an invalid schema, which must be between -4 and 8 for exponential buckets, or -53 for custom buckets, got schema 9"},
		{"custom bounds not increasing", wire.Histogram{Schema: customBucketsSchema, CustomValues: []float64{2, 1}},
			"custom buckets: previous bound is 2.000000 and current is 1.000000: histogram custom bounds must be in strictly increasing order"},
		{"custom bounds too few", wire.Histogram{CountInt: 3, Schema: customBucketsSchema, CustomValues: []float64{1},
			PositiveSpans: []wire.BucketSpan{{Offset: 1, Length: 2}}, PositiveDeltas: []int64{1, 0}},
			"custom buckets: only 1 custom bounds defined which is insufficient to cover total span length of 3: histogram custom bounds are too few"},
		{"custom with zero count", wire.Histogram{Schema: customBucketsSchema, ZeroCountInt: 1, CountInt: 1},
			"custom buckets: must have zero count of 0"},
		{"float negative count", wire.Histogram{IsFloat: true, CountFloat: -1},
			"observation count is  -1: histogram's observation count is negative"},
		{"float negative zero bucket", wire.Histogram{IsFloat: true, ZeroCountFloat: -0.5},
			"zero bucket has observation count of -0.5: histogram has a bucket whose observation count is negative"},
		{"float negative bucket", wire.Histogram{IsFloat: true, CountFloat: 3, NegativeSpans: []wire.BucketSpan{{Length: 2}}, NegativeCounts: []float64{1, -2.5}},
			"negative side: bucket number 2 has observation count of -2.5: histogram has a bucket whose observation count is negative"},
		{"float count not checked against buckets", wire.Histogram{IsFloat: true, CountFloat: 1, PositiveSpans: []wire.BucketSpan{{Length: 1}}, PositiveCounts: []float64{7}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if err := ValidateHistogram(&tt.in); err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			compareWithPrometheus(t, &tt.in)
		})
	}
}

// randHistogram makes a histogram that is valid most of the time and
// invalid in every way Validate checks some of the time.
func randHistogram(r *rand.Rand) wire.Histogram {
	h := wire.Histogram{IsFloat: r.Intn(2) == 0, Timestamp: r.Int63(), ResetHint: wire.ResetHint(r.Intn(4))}
	rare := func() bool { return r.Intn(40) == 0 }
	switch {
	case rare():
		h.Schema = []int32{-5, 9, 52, -53, -53, -53}[r.Intn(6)]
	default:
		h.Schema = int32(r.Intn(13)) - 4
	}
	if h.Schema == customBucketsSchema {
		h.ZeroThreshold = 0
	} else if r.Intn(2) == 0 {
		h.ZeroThreshold = 1e-128
	}
	side := func() ([]wire.BucketSpan, int) {
		var spans []wire.BucketSpan
		n := 0
		for i := r.Intn(5); i > 0; i-- {
			sp := wire.BucketSpan{Offset: int32(r.Intn(6)), Length: uint32(r.Intn(6))}
			if len(spans) == 0 {
				sp.Offset = int32(r.Intn(41)) - 20
				if rare() {
					// Near the ends of the int32 range: indexes wrap.
					sp.Offset = []int32{math.MaxInt32 - 3, math.MinInt32, math.MinInt32 + 2, math.MaxInt32}[r.Intn(4)]
				}
			} else if rare() {
				sp.Offset = -1
			}
			spans = append(spans, sp)
			n += int(sp.Length)
		}
		if rare() {
			n += r.Intn(3) - 1
			if n < 0 {
				n = 0
			}
		}
		return spans, n
	}
	var pn, nn int
	h.PositiveSpans, pn = side()
	if h.Schema != customBucketsSchema || rare() {
		h.NegativeSpans, nn = side()
	}
	var total float64
	var totalInt uint64
	if h.IsFloat {
		counts := func(n int) []float64 {
			var out []float64
			for range n {
				c := float64(r.Intn(1000)) / 8
				switch {
				case rare():
					c = -c - 1
				case rare():
					c = math.NaN()
				case r.Intn(8) == 0:
					c = r.Float64() * 1e6 // not exact in binary: addition order matters
				}
				out = append(out, c)
				total += c
			}
			return out
		}
		h.PositiveCounts, h.NegativeCounts = counts(pn), counts(nn)
		if h.Schema != customBucketsSchema || rare() {
			h.ZeroCountFloat = float64(r.Intn(5))
			if rare() {
				h.ZeroCountFloat = -1
			}
		}
		h.CountFloat = total + h.ZeroCountFloat
		if rare() {
			h.CountFloat = -2
		}
	} else {
		deltas := func(n int) []int64 {
			var out []int64
			var prev int64
			for range n {
				c := int64(r.Intn(20))
				switch {
				case rare():
					c = -c - 1
				case rare():
					c = math.MaxInt64 / 2 // sums wrap
				}
				out = append(out, c-prev)
				prev = c
				totalInt += uint64(c)
			}
			return out
		}
		h.PositiveDeltas, h.NegativeDeltas = deltas(pn), deltas(nn)
		if h.Schema != customBucketsSchema || rare() {
			h.ZeroCountInt = uint64(r.Intn(5))
		}
		h.CountInt = totalInt + h.ZeroCountInt
		if rare() {
			h.CountInt++
		}
	}
	h.Sum = float64(r.Intn(100))
	if rare() {
		h.Sum = math.NaN()
		if r.Intn(2) == 0 {
			h.CountInt += 5
		}
	}
	if h.Schema == customBucketsSchema || rare() {
		n := 0
		for _, sp := range h.PositiveSpans {
			n += int(sp.Offset) + int(sp.Length)
		}
		if n > 1000 {
			n = 1000
		}
		if rare() && n > 0 {
			n--
		}
		for i := range n {
			h.CustomValues = append(h.CustomValues, float64(i)+0.5)
		}
		if len(h.CustomValues) > 0 && rare() {
			h.CustomValues[r.Intn(len(h.CustomValues))] = []float64{math.NaN(), math.Inf(1), -1}[r.Intn(3)]
		}
	}
	return h
}

// TestHistogramMatchesPrometheus compares Validate, ReduceResolution and
// the bucket limit with Prometheus' on random histograms.
func TestHistogramMatchesPrometheus(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 2000
	}
	r := rand.New(rand.NewSource(1))
	valid, reduced := 0, 0
	for range n {
		h := randHistogram(r)
		if ValidateHistogram(&h) == nil {
			valid++
			if h.Schema > exponentialSchemaMin && h.Schema != customBucketsSchema && histogramBucketCount(&h) > 1 {
				reduced++
			}
		}
		compareWithPrometheus(t, &h)
	}
	t.Logf("%d histograms, %d valid, %d reduced", n, valid, reduced)
	if valid < n/4 || reduced < n/10 {
		t.Errorf("too few valid (%d) or reducible (%d) histograms of %d: the generator needs adjusting", valid, reduced, n)
	}
}

// FuzzHistogramMatchesPrometheus builds a histogram from the fuzzer's
// bytes and compares it as TestHistogramMatchesPrometheus does.
func FuzzHistogramMatchesPrometheus(f *testing.F) {
	f.Add([]byte{0x02, 0x08, 0x00, 1, 0, 0, 0, 0, 0, 0, 0}, false, uint64(8))
	f.Add([]byte{0x01, 0x02, 0xfd, 5, 0xfe, 0x01, 0x02, 0xff, 0x02}, true, uint64(14))
	f.Add([]byte{0x08, 0x10, 0x00, 3, 1, 4, 1, 5, 9, 2, 6}, true, uint64(31))
	f.Fuzz(func(t *testing.T, data []byte, float bool, count uint64) {
		next := func() byte {
			if len(data) == 0 {
				return 0
			}
			b := data[0]
			data = data[1:]
			return b
		}
		h := wire.Histogram{IsFloat: float, Schema: int32(int8(next())) % 10, CountInt: count, CountFloat: float64(count)}
		if next()&1 == 1 {
			h.Schema = customBucketsSchema
		}
		for s := next() % 6; s > 0; s-- {
			sp := wire.BucketSpan{Offset: int32(int8(next())), Length: uint32(next() % 16)}
			if s%2 == 0 {
				h.NegativeSpans = append(h.NegativeSpans, sp)
			} else {
				h.PositiveSpans = append(h.PositiveSpans, sp)
			}
		}
		for len(data) > 0 {
			b := next()
			neg := b&0x80 != 0
			switch {
			case float && neg:
				h.NegativeCounts = append(h.NegativeCounts, float64(b&0x7f)/3)
			case float:
				h.PositiveCounts = append(h.PositiveCounts, float64(b)/3)
			case neg:
				h.NegativeDeltas = append(h.NegativeDeltas, int64(int8(b<<1))/2)
			default:
				h.PositiveDeltas = append(h.PositiveDeltas, int64(int8(b<<1))/2)
			}
		}
		if h.Schema == customBucketsSchema {
			for i := range 64 {
				h.CustomValues = append(h.CustomValues, float64(i))
			}
		}
		compareWithPrometheus(t, &h)
	})
}
