package wire

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
)

// staleNaN is Prometheus' staleness marker (model/value.StaleNaN).
var staleNaN = math.Float64frombits(0x7ff0000000000002)

// cmpOpts compares floats by value, and NaNs by bit pattern (so StaleNaN
// and an ordinary NaN differ); nil and empty slices are equal.
var cmpOpts = cmp.Options{
	cmp.Comparer(func(a, b float64) bool {
		return a == b || math.Float64bits(a) == math.Float64bits(b)
	}),
	cmpopts.EquateEmpty(),
}

// richRequest is a request exercising every field: many series, unicode and
// empty strings, special float values, negative timestamps, exemplars, int
// and float native histograms (with custom values), metadata and start
// timestamps. Use forV1 for what RW 1.0 can carry.
func richRequest() *WriteRequest {
	req := &WriteRequest{}
	req.Series = append(req.Series,
		TimeSeries{
			Labels: []Label{{"__name__", "http_requests_total"}, {"job", "api"}, {"méthode", "GET ✓"}, {"empty", ""}},
			Samples: []Sample{
				{Value: 1, Timestamp: 1700000000000, StartTimestamp: 1690000000000},
				{Value: math.NaN(), Timestamp: -1},
				{Value: staleNaN, Timestamp: 0},
				{Value: math.Inf(1), Timestamp: math.MaxInt64},
				{Value: math.Inf(-1), Timestamp: math.MinInt64},
				{Value: 0, Timestamp: 5},
				{Value: -1.5e300, Timestamp: -1700000000000},
			},
			Exemplars: []Exemplar{
				{Labels: []Label{{"trace_id", "abc123"}, {"span_id", "ü"}}, Value: 0.25, Timestamp: 1700000000001},
				{Value: math.NaN(), Timestamp: -5},
			},
			Metadata: Metadata{Type: MetricTypeCounter, FamilyName: "http_requests_total", Help: "Requests served.", Unit: "requests"},
		},
		TimeSeries{
			Labels: []Label{{"__name__", "latency_seconds"}, {"job", "api"}},
			Histograms: []Histogram{
				{
					CountInt: 12, Sum: 3.5, Schema: 3, ZeroThreshold: 1e-128, ZeroCountInt: 2,
					NegativeSpans: []BucketSpan{{Offset: -2, Length: 2}, {Offset: 1, Length: 1}}, NegativeDeltas: []int64{1, -1, 3},
					PositiveSpans: []BucketSpan{{Offset: 0, Length: 3}, {Offset: 100000, Length: 0}}, PositiveDeltas: []int64{2, 0, -1 << 40},
					ResetHint: ResetHintNo, Timestamp: 1700000000000, StartTimestamp: 1600000000000,
				},
				{
					IsFloat: true, CountFloat: 7.5, Sum: math.NaN(), Schema: -4, ZeroCountFloat: 0.5,
					PositiveSpans: []BucketSpan{{Offset: 1, Length: 2}}, PositiveCounts: []float64{3, 4},
					NegativeSpans: []BucketSpan{{Offset: -1, Length: 1}}, NegativeCounts: []float64{math.Inf(1)},
					ResetHint: ResetHintGauge, Timestamp: -3,
				},
				{ // count_int = 0 and zero_count_int = 0 must still be emitted
					Timestamp: 1,
				},
				{ // float histogram with zero counts: count_float 0 is emitted too
					IsFloat: true, ResetHint: ResetHintYes,
				},
				{ // native histogram with custom buckets
					IsFloat: true, CountFloat: 3, Sum: 1, Schema: -53,
					PositiveSpans: []BucketSpan{{Length: 3}}, PositiveCounts: []float64{1, 1, 1},
					CustomValues: []float64{0.1, 0.5, 1, math.Inf(1)}, Timestamp: 1700000000000,
				},
				{
					Schema: -53, CountInt: 3, PositiveSpans: []BucketSpan{{Length: 2}}, PositiveDeltas: []int64{1, 1},
					CustomValues: []float64{1, 2}, StartTimestamp: -7,
				},
			},
			Metadata: Metadata{Type: MetricTypeHistogram, FamilyName: "latency_seconds", Help: "Latency.", Unit: "seconds"},
		},
		TimeSeries{ // a series with no labels and nothing else
		},
		TimeSeries{
			Labels:  []Label{{"", "no name"}, {"日本", "語"}},
			Samples: []Sample{{Value: 2}},
			// metadata with a help that is also a label value: one symbol
			Metadata: Metadata{Type: MetricTypeGauge, Help: "語"},
		},
	)
	for i := 0; i < 60; i++ {
		req.Series = append(req.Series, TimeSeries{
			Labels: []Label{
				{"__name__", "generated_" + strconv.Itoa(i%7)},
				{"instance", fmt.Sprintf("10.0.%d.%d:9100", i/256, i%256)},
				{"job", "node"},
				{"le", strconv.FormatFloat(float64(i)/10, 'g', -1, 64)},
			},
			Samples: []Sample{{Value: float64(i) * 1.25, Timestamp: 1700000000000 + int64(i)}},
		})
	}
	req.Metadata = []Metadata{
		{Type: MetricTypeCounter, FamilyName: "http_requests_total", Help: "Requests served.", Unit: "requests"},
		{Type: MetricTypeStateset, FamilyName: "ünïcode"},
		{},
		{Type: MetricTypeInfo, Help: "only help"},
	}
	return req
}

// forV1 drops what RW 1.0 cannot carry: start timestamps and per-series
// metadata.
func forV1(in *WriteRequest) *WriteRequest {
	out := &WriteRequest{Metadata: in.Metadata}
	for _, ts := range in.Series {
		ts.Metadata = Metadata{}
		ts.Samples = append([]Sample(nil), ts.Samples...)
		for i := range ts.Samples {
			ts.Samples[i].StartTimestamp = 0
		}
		ts.Histograms = append([]Histogram(nil), ts.Histograms...)
		for i := range ts.Histograms {
			ts.Histograms[i].StartTimestamp = 0
		}
		out.Series = append(out.Series, ts)
	}
	return out
}

// forV2 is what RW 2.0 carries: no request-level metadata, and a series'
// FamilyName is its __name__ when it has metadata.
func forV2(in *WriteRequest) *WriteRequest {
	out := &WriteRequest{}
	for _, ts := range in.Series {
		md := ts.Metadata
		md.FamilyName = ""
		if md != (Metadata{}) {
			for _, l := range ts.Labels {
				if l.Name == "__name__" {
					md.FamilyName = l.Value
				}
			}
		}
		ts.Metadata = md
		out.Series = append(out.Series, ts)
	}
	return out
}

func toPrompbLabels(ls []Label) []prompb.Label {
	var out []prompb.Label
	for _, l := range ls {
		out = append(out, prompb.Label{Name: l.Name, Value: l.Value})
	}
	return out
}

func toPrompbSpans(ss []BucketSpan) []prompb.BucketSpan {
	var out []prompb.BucketSpan
	for _, s := range ss {
		out = append(out, prompb.BucketSpan{Offset: s.Offset, Length: s.Length})
	}
	return out
}

func toPrompb(req *WriteRequest) *prompb.WriteRequest {
	out := &prompb.WriteRequest{}
	for _, ts := range req.Series {
		pts := prompb.TimeSeries{Labels: toPrompbLabels(ts.Labels)}
		for _, s := range ts.Samples {
			pts.Samples = append(pts.Samples, prompb.Sample{Value: s.Value, Timestamp: s.Timestamp})
		}
		for _, e := range ts.Exemplars {
			pts.Exemplars = append(pts.Exemplars, prompb.Exemplar{Labels: toPrompbLabels(e.Labels), Value: e.Value, Timestamp: e.Timestamp})
		}
		for _, h := range ts.Histograms {
			ph := prompb.Histogram{
				Sum: h.Sum, Schema: h.Schema, ZeroThreshold: h.ZeroThreshold,
				NegativeSpans: toPrompbSpans(h.NegativeSpans), NegativeDeltas: h.NegativeDeltas, NegativeCounts: h.NegativeCounts,
				PositiveSpans: toPrompbSpans(h.PositiveSpans), PositiveDeltas: h.PositiveDeltas, PositiveCounts: h.PositiveCounts,
				ResetHint: prompb.Histogram_ResetHint(h.ResetHint), Timestamp: h.Timestamp, CustomValues: h.CustomValues,
			}
			if h.IsFloat {
				ph.Count = &prompb.Histogram_CountFloat{CountFloat: h.CountFloat}
				ph.ZeroCount = &prompb.Histogram_ZeroCountFloat{ZeroCountFloat: h.ZeroCountFloat}
			} else {
				ph.Count = &prompb.Histogram_CountInt{CountInt: h.CountInt}
				ph.ZeroCount = &prompb.Histogram_ZeroCountInt{ZeroCountInt: h.ZeroCountInt}
			}
			pts.Histograms = append(pts.Histograms, ph)
		}
		out.Timeseries = append(out.Timeseries, pts)
	}
	for _, md := range req.Metadata {
		out.Metadata = append(out.Metadata, prompb.MetricMetadata{
			Type: prompb.MetricMetadata_MetricType(md.Type), MetricFamilyName: md.FamilyName, Help: md.Help, Unit: md.Unit,
		})
	}
	return out
}

func fromPrompbLabels(ls []prompb.Label) []Label {
	var out []Label
	for _, l := range ls {
		out = append(out, Label{Name: l.Name, Value: l.Value})
	}
	return out
}

func fromSpans(ss []prompb.BucketSpan) []BucketSpan {
	var out []BucketSpan
	for _, s := range ss {
		out = append(out, BucketSpan{Offset: s.Offset, Length: s.Length})
	}
	return out
}

func fromSpansV2(ss []writev2.BucketSpan) []BucketSpan {
	var out []BucketSpan
	for _, s := range ss {
		out = append(out, BucketSpan{Offset: s.Offset, Length: s.Length})
	}
	return out
}

func fromPrompbHistogram(h *prompb.Histogram) Histogram {
	out := Histogram{
		Sum: h.Sum, Schema: h.Schema, ZeroThreshold: h.ZeroThreshold,
		NegativeSpans: fromSpans(h.NegativeSpans), NegativeDeltas: h.NegativeDeltas, NegativeCounts: h.NegativeCounts,
		PositiveSpans: fromSpans(h.PositiveSpans), PositiveDeltas: h.PositiveDeltas, PositiveCounts: h.PositiveCounts,
		ResetHint: ResetHint(h.ResetHint), Timestamp: h.Timestamp, CustomValues: h.CustomValues,
	}
	switch c := h.Count.(type) {
	case *prompb.Histogram_CountFloat:
		out.IsFloat, out.CountFloat = true, c.CountFloat
	case *prompb.Histogram_CountInt:
		out.CountInt = c.CountInt
	}
	out.ZeroCountInt = h.GetZeroCountInt()
	out.ZeroCountFloat = h.GetZeroCountFloat()
	return out
}

func fromPrompb(req *prompb.WriteRequest) *WriteRequest {
	out := &WriteRequest{}
	for _, pts := range req.Timeseries {
		ts := TimeSeries{Labels: fromPrompbLabels(pts.Labels)}
		for _, s := range pts.Samples {
			ts.Samples = append(ts.Samples, Sample{Value: s.Value, Timestamp: s.Timestamp})
		}
		for _, e := range pts.Exemplars {
			ts.Exemplars = append(ts.Exemplars, Exemplar{Labels: fromPrompbLabels(e.Labels), Value: e.Value, Timestamp: e.Timestamp})
		}
		for i := range pts.Histograms {
			ts.Histograms = append(ts.Histograms, fromPrompbHistogram(&pts.Histograms[i]))
		}
		out.Series = append(out.Series, ts)
	}
	for _, md := range req.Metadata {
		out.Metadata = append(out.Metadata, Metadata{Type: MetricType(md.Type), FamilyName: md.MetricFamilyName, Help: md.Help, Unit: md.Unit})
	}
	return out
}

// toWritev2 builds the writev2.Request for req, adding symbols in the order
// EncoderV2 does: per series, labels, exemplar labels, help, unit.
func toWritev2(req *WriteRequest) *writev2.Request {
	st := writev2.NewSymbolTable()
	out := &writev2.Request{}
	refs := func(ls []Label) []uint32 {
		var r []uint32
		for _, l := range ls {
			r = append(r, st.Symbolize(l.Name), st.Symbolize(l.Value))
		}
		return r
	}
	for _, ts := range req.Series {
		pts := writev2.TimeSeries{LabelsRefs: refs(ts.Labels)}
		for _, s := range ts.Samples {
			pts.Samples = append(pts.Samples, writev2.Sample{Value: s.Value, Timestamp: s.Timestamp, StartTimestamp: s.StartTimestamp})
		}
		for _, h := range ts.Histograms {
			ph := writev2.Histogram{
				Sum: h.Sum, Schema: h.Schema, ZeroThreshold: h.ZeroThreshold,
				NegativeDeltas: h.NegativeDeltas, NegativeCounts: h.NegativeCounts,
				PositiveDeltas: h.PositiveDeltas, PositiveCounts: h.PositiveCounts,
				ResetHint: writev2.Histogram_ResetHint(h.ResetHint), Timestamp: h.Timestamp, CustomValues: h.CustomValues,
				StartTimestamp: h.StartTimestamp,
			}
			for _, s := range h.NegativeSpans {
				ph.NegativeSpans = append(ph.NegativeSpans, writev2.BucketSpan{Offset: s.Offset, Length: s.Length})
			}
			for _, s := range h.PositiveSpans {
				ph.PositiveSpans = append(ph.PositiveSpans, writev2.BucketSpan{Offset: s.Offset, Length: s.Length})
			}
			if h.IsFloat {
				ph.Count = &writev2.Histogram_CountFloat{CountFloat: h.CountFloat}
				ph.ZeroCount = &writev2.Histogram_ZeroCountFloat{ZeroCountFloat: h.ZeroCountFloat}
			} else {
				ph.Count = &writev2.Histogram_CountInt{CountInt: h.CountInt}
				ph.ZeroCount = &writev2.Histogram_ZeroCountInt{ZeroCountInt: h.ZeroCountInt}
			}
			pts.Histograms = append(pts.Histograms, ph)
		}
		for _, e := range ts.Exemplars {
			pts.Exemplars = append(pts.Exemplars, writev2.Exemplar{LabelsRefs: refs(e.Labels), Value: e.Value, Timestamp: e.Timestamp})
		}
		pts.Metadata = writev2.Metadata{
			Type:    writev2.Metadata_MetricType(ts.Metadata.Type),
			HelpRef: st.Symbolize(ts.Metadata.Help),
			UnitRef: st.Symbolize(ts.Metadata.Unit),
		}
		out.Timeseries = append(out.Timeseries, pts)
	}
	out.Symbols = st.Symbols()
	return out
}

// fromWritev2 resolves a writev2.Request independently of our decoder.
func fromWritev2(t testing.TB, req *writev2.Request) *WriteRequest {
	t.Helper()
	sym := func(ref uint32) string {
		if int(ref) >= len(req.Symbols) {
			t.Fatalf("ref %d outside %d symbols", ref, len(req.Symbols))
		}
		return req.Symbols[ref]
	}
	labels := func(refs []uint32) []Label {
		var out []Label
		for i := 0; i+1 < len(refs); i += 2 {
			out = append(out, Label{sym(refs[i]), sym(refs[i+1])})
		}
		return out
	}
	out := &WriteRequest{}
	for _, pts := range req.Timeseries {
		ts := TimeSeries{Labels: labels(pts.LabelsRefs)}
		for _, s := range pts.Samples {
			ts.Samples = append(ts.Samples, Sample{Value: s.Value, Timestamp: s.Timestamp, StartTimestamp: s.StartTimestamp})
		}
		for _, e := range pts.Exemplars {
			ts.Exemplars = append(ts.Exemplars, Exemplar{Labels: labels(e.LabelsRefs), Value: e.Value, Timestamp: e.Timestamp})
		}
		for i := range pts.Histograms {
			h := &pts.Histograms[i]
			oh := Histogram{
				Sum: h.Sum, Schema: h.Schema, ZeroThreshold: h.ZeroThreshold,
				NegativeSpans: fromSpansV2(h.NegativeSpans), NegativeDeltas: h.NegativeDeltas, NegativeCounts: h.NegativeCounts,
				PositiveSpans: fromSpansV2(h.PositiveSpans), PositiveDeltas: h.PositiveDeltas, PositiveCounts: h.PositiveCounts,
				ResetHint: ResetHint(h.ResetHint), Timestamp: h.Timestamp, CustomValues: h.CustomValues, StartTimestamp: h.StartTimestamp,
				IsFloat: h.IsFloatHistogram(), CountInt: h.GetCountInt(), CountFloat: h.GetCountFloat(),
				ZeroCountInt: h.GetZeroCountInt(), ZeroCountFloat: h.GetZeroCountFloat(),
			}
			ts.Histograms = append(ts.Histograms, oh)
		}
		md := pts.Metadata
		ts.Metadata = Metadata{Type: MetricType(md.Type), Help: sym(md.HelpRef), Unit: sym(md.UnitRef)}
		out.Series = append(out.Series, ts)
	}
	return forV2(out)
}

// firstDiff describes where two encodings first differ.
func firstDiff(got, want []byte) string {
	n := min(len(got), len(want))
	for i := 0; i < n; i++ {
		if got[i] != want[i] {
			lo := max(0, i-8)
			return fmt.Sprintf("first difference at offset %d (len got %d, want %d)\n got[%d:]: % x\nwant[%d:]: % x",
				i, len(got), len(want), lo, got[lo:min(len(got), i+16)], lo, want[lo:min(len(want), i+16)])
		}
	}
	return fmt.Sprintf("one is a prefix of the other: len got %d, want %d", len(got), len(want))
}

func checkBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Errorf("%s: encodings differ: %s", what, firstDiff(got, want))
	}
}
