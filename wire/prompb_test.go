//go:build !noprompb

// Conversions between this package's types and prompb's, for the
// compatibility tests. The noprompb build tag leaves prompb (and its large
// dependency tree) out of the test binary, which keeps fuzzing fast:
//
//	go test -tags noprompb -run='^$' -fuzz=FuzzDecodeWriteRequest ./wire

package wire

import (
	"testing"

	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
)

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
