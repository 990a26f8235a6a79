package gather

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/rwkit/rwkit/wire"
)

func span(off int32, n uint32) *dto.BucketSpan {
	return &dto.BucketSpan{Offset: proto.Int32(off), Length: proto.Uint32(n)}
}

func nativeFamily(typ dto.MetricType, h *dto.Histogram) []*dto.MetricFamily {
	return []*dto.MetricFamily{{Name: proto.String("rpc_seconds"), Help: proto.String("RPC."), Type: typ.Enum(),
		Metric: []*dto.Metric{{Label: []*dto.LabelPair{{Name: proto.String("op"), Value: proto.String("get")}}, Histogram: h}}}}
}

func intNative() *dto.Histogram {
	return &dto.Histogram{
		SampleCount: proto.Uint64(6), SampleSum: proto.Float64(12.5),
		Schema: proto.Int32(3), ZeroThreshold: proto.Float64(1e-128), ZeroCount: proto.Uint64(1),
		PositiveSpan:  []*dto.BucketSpan{span(0, 0), span(2, 2), span(1, 1)}, // leading no-op span folds away
		PositiveDelta: []int64{2, -1, 1},
		NegativeSpan:  []*dto.BucketSpan{span(-1, 1)},
		NegativeDelta: []int64{1},
		Bucket:        []*dto.Bucket{{UpperBound: proto.Float64(1), CumulativeCount: proto.Uint64(4)}},
	}
}

func TestNativeHistogram(t *testing.T) {
	md := wire.Metadata{Type: wire.MetricTypeHistogram, FamilyName: "rpc_seconds", Help: "RPC."}
	got, rep, err := Convert(nativeFamily(dto.MetricType_HISTOGRAM, intNative()), Options{Timestamp: ts0, NativeHistograms: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []wire.TimeSeries{{
		Labels: ls("__name__", "rpc_seconds", "op", "get"),
		Histograms: []wire.Histogram{{
			CountInt: 6, Sum: 12.5, Schema: 3, ZeroThreshold: 1e-128, ZeroCountInt: 1,
			PositiveSpans: []wire.BucketSpan{{Offset: 2, Length: 2}, {Offset: 1, Length: 1}}, PositiveDeltas: []int64{2, -1, 1},
			NegativeSpans: []wire.BucketSpan{{Offset: -1, Length: 1}}, NegativeDeltas: []int64{1},
			Timestamp: ts0,
		}},
		Metadata: md,
	}}
	if diff := cmp.Diff(want, got.Series, cmpOpts...); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if rep.Histograms != 1 || rep.Samples != 0 || len(rep.Notes) != 0 {
		t.Errorf("report = %+v", rep)
	}
}

func TestGaugeFloatNativeHistogram(t *testing.T) {
	h := &dto.Histogram{
		SampleCountFloat: proto.Float64(2.5), SampleSum: proto.Float64(3), Schema: proto.Int32(0),
		ZeroThreshold: proto.Float64(0.001), ZeroCountFloat: proto.Float64(0.5),
		PositiveSpan: []*dto.BucketSpan{span(1, 1)}, PositiveCount: []float64{2},
	}
	got, _, err := Convert(nativeFamily(dto.MetricType_GAUGE_HISTOGRAM, h), Options{Timestamp: ts0, NativeHistograms: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []wire.Histogram{{
		IsFloat: true, CountFloat: 2.5, Sum: 3, ZeroThreshold: 0.001, ZeroCountFloat: 0.5,
		PositiveSpans: []wire.BucketSpan{{Offset: 1, Length: 1}}, PositiveCounts: []float64{2},
		ResetHint: wire.ResetHintGauge, Timestamp: ts0,
	}}
	if diff := cmp.Diff(want, got.Series[0].Histograms, cmpOpts...); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got.Metadata[0].Type != wire.MetricTypeGaugeHistogram {
		t.Errorf("metadata type %v, want gauge histogram", got.Metadata[0].Type)
	}
}

func TestNativeHistogramOff(t *testing.T) {
	// With classic buckets: the classic series, no note.
	got, rep, err := Convert(nativeFamily(dto.MetricType_HISTOGRAM, intNative()), Options{Timestamp: ts0})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range got.Series {
		names = append(names, wire.SeriesString(s.Labels))
	}
	wantNames := []string{`rpc_seconds_bucket{le="1.0",op="get"}`, `rpc_seconds_bucket{le="+Inf",op="get"}`, `rpc_seconds_sum{op="get"}`, `rpc_seconds_count{op="get"}`}
	if diff := cmp.Diff(wantNames, names); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if len(rep.Notes) != 0 {
		t.Errorf("notes = %v, want none", rep.Notes)
	}

	// Without classic buckets: what Prometheus stores with native off,
	// and a note that the buckets were not sent.
	h := intNative()
	h.Bucket = nil
	got, rep, err = Convert(nativeFamily(dto.MetricType_HISTOGRAM, h), Options{Timestamp: ts0})
	if err != nil {
		t.Fatal(err)
	}
	names = names[:0]
	for _, s := range got.Series {
		names = append(names, wire.SeriesString(s.Labels))
	}
	if diff := cmp.Diff(wantNames[1:], names); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if len(rep.Notes) != 1 || rep.Notes[0].Family != "rpc_seconds" || rep.Notes[0].Series != 1 || !strings.Contains(rep.Notes[0].Message, "NativeHistograms") {
		t.Errorf("notes = %v, want one about rpc_seconds naming Options.NativeHistograms", rep.Notes)
	}
}

func TestNativeHistogramInvalid(t *testing.T) {
	h := intNative()
	h.PositiveDelta = h.PositiveDelta[:2]
	_, _, err := Convert(nativeFamily(dto.MetricType_HISTOGRAM, h), Options{Timestamp: ts0, NativeHistograms: true})
	if err == nil || !strings.Contains(err.Error(), "positive spans cover 3 buckets but 2 are given") || !strings.Contains(err.Error(), `rpc_seconds{op="get"}`) {
		t.Errorf("err = %v", err)
	}
	h = intNative()
	h.Schema = proto.Int32(9)
	if _, _, err := Convert(nativeFamily(dto.MetricType_HISTOGRAM, h), Options{Timestamp: ts0, NativeHistograms: true}); err == nil {
		t.Error("schema 9 accepted")
	}
}

func TestNativeHistogramFromRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "n_seconds", Help: "N.", NativeHistogramBucketFactor: 1.1})
	empty := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "empty_seconds", Help: "E.", NativeHistogramBucketFactor: 1.1})
	reg.MustRegister(h, empty)
	for _, v := range []float64{0.01, 0.2, 0.2, 3, -1, 0} {
		h.Observe(v)
	}
	req, rep, err := FromGatherer(reg, Options{Timestamp: ts0, NativeHistograms: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(req.Series) != 2 || rep.Histograms != 2 {
		t.Fatalf("%d series, report %+v; want 2 native histograms", len(req.Series), rep)
	}
	e, n := req.Series[0].Histograms[0], req.Series[1].Histograms[0]
	if e.CountInt != 0 || len(e.PositiveSpans) != 0 {
		t.Errorf("empty histogram = %+v; want count 0 and its no-op span folded away", e)
	}
	if n.CountInt != 6 || n.ZeroCountInt != 1 || n.Sum != 2.41 || spanLength(n.PositiveSpans) != len(n.PositiveDeltas) || len(n.NegativeDeltas) != 1 {
		t.Errorf("histogram = %+v", n)
	}
}

func TestExemplars(t *testing.T) {
	exTS := time.UnixMilli(ts0 - 5000)
	ex := func(v float64, withTS bool) *dto.Exemplar {
		e := &dto.Exemplar{Value: proto.Float64(v), Label: []*dto.LabelPair{
			{Name: proto.String("trace_id"), Value: proto.String("abc")}, {Name: proto.String("span_id"), Value: proto.String("1")}}}
		if withTS {
			e.Timestamp = timestamppb.New(exTS)
		}
		return e
	}
	fams := []*dto.MetricFamily{
		{Name: proto.String("c_total"), Type: dto.MetricType_COUNTER.Enum(), Metric: []*dto.Metric{{Counter: &dto.Counter{Value: proto.Float64(3), Exemplar: ex(1, true)}}}},
		{Name: proto.String("h"), Type: dto.MetricType_HISTOGRAM.Enum(), Metric: []*dto.Metric{{Histogram: &dto.Histogram{
			SampleCount: proto.Uint64(1), SampleSum: proto.Float64(0.5),
			Bucket: []*dto.Bucket{{UpperBound: proto.Float64(1), CumulativeCount: proto.Uint64(1), Exemplar: ex(0.5, false)}},
		}}}},
	}
	exLabels := ls("span_id", "1", "trace_id", "abc")

	got, rep, err := Convert(fams, Options{Timestamp: ts0, Exemplars: true})
	if err != nil {
		t.Fatal(err)
	}
	var all [][]wire.Exemplar
	for _, s := range got.Series {
		all = append(all, s.Exemplars)
	}
	want := [][]wire.Exemplar{
		{{Labels: exLabels, Value: 1, Timestamp: ts0 - 5000}}, // c_total: own timestamp kept
		{{Labels: exLabels, Value: 0.5, Timestamp: ts0}},      // h_bucket{le="1.0"}: batch timestamp
		nil, nil, nil, // +Inf, _sum, _count
	}
	if diff := cmp.Diff(want, all, cmpOpts...); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if rep.Exemplars != 2 {
		t.Errorf("report counts %d exemplars, want 2", rep.Exemplars)
	}

	off, _, err := Convert(fams, Options{Timestamp: ts0})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range off.Series {
		if len(s.Exemplars) != 0 {
			t.Errorf("%s carries exemplars with Exemplars off", wire.SeriesString(s.Labels))
		}
	}
}

func TestStartTimestamps(t *testing.T) {
	created := timestamppb.New(time.UnixMilli(ts0 - 60_000))
	fams := []*dto.MetricFamily{{Name: proto.String("c_total"), Type: dto.MetricType_COUNTER.Enum(),
		Metric: []*dto.Metric{{Counter: &dto.Counter{Value: proto.Float64(3), CreatedTimestamp: created}}}}}
	for _, on := range []bool{false, true} {
		got, _, err := Convert(fams, Options{Timestamp: ts0, StartTimestamps: on})
		if err != nil {
			t.Fatal(err)
		}
		want := int64(0)
		if on {
			want = ts0 - 60_000
		}
		if st := got.Series[0].Samples[0].StartTimestamp; st != want {
			t.Errorf("StartTimestamps=%v: StartTimestamp %d, want %d", on, st, want)
		}
	}
}

type failingGatherer struct{ fams []*dto.MetricFamily }

func (g failingGatherer) Gather() ([]*dto.MetricFamily, error) {
	return g.fams, errors.New("collector broke")
}

func TestFromGathererPartial(t *testing.T) {
	fams := []*dto.MetricFamily{{Name: proto.String("up"), Type: dto.MetricType_GAUGE.Enum(), Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: proto.Float64(1)}}}}}
	req, rep, err := FromGatherer(failingGatherer{fams}, Options{Timestamp: ts0})
	var ge *GatherError
	if !errors.As(err, &ge) || ge.Families != 1 || !strings.Contains(err.Error(), "collector broke") {
		t.Fatalf("err = %v, want a *GatherError for 1 family", err)
	}
	if req == nil || len(req.Series) != 1 || rep.Series != 1 {
		t.Errorf("partial result not converted: %v %+v", req, rep)
	}

	req, _, err = FromGatherer(failingGatherer{}, Options{Timestamp: ts0})
	if !errors.As(err, &ge) || req != nil {
		t.Errorf("nothing gathered: req %v err %v; want nil and a *GatherError", req, err)
	}
}
