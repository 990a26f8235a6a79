package gather

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/rwkit/rwkit/wire"
)

const ts0 = int64(1_700_000_000_000)

func mustParse(t *testing.T, text string) []*dto.MetricFamily {
	t.Helper()
	fams, err := ParseText(strings.NewReader(text))
	if err != nil {
		t.Fatalf("ParseText: %v", err)
	}
	return fams
}

// mustConverter is NewConverter(opts), which the test needs to succeed.
func mustConverter(t testing.TB, opts Options) *Converter {
	t.Helper()
	c, err := NewConverter(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ls builds labels from name/value pairs, in the order given: the golden
// expectations below are written sorted by hand.
func ls(kv ...string) []wire.Label {
	out := make([]wire.Label, 0, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		out = append(out, wire.Label{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

func series(md wire.Metadata, v float64, labels ...string) wire.TimeSeries {
	return wire.TimeSeries{Labels: ls(labels...), Samples: []wire.Sample{{Value: v, Timestamp: ts0}}, Metadata: md}
}

var cmpOpts = []cmp.Option{cmpopts.EquateNaNs(), cmpopts.EquateEmpty()}

func TestConvertKinds(t *testing.T) {
	counter := wire.Metadata{Type: wire.MetricTypeCounter, FamilyName: "req_total", Help: "Requests."}
	gauge := wire.Metadata{Type: wire.MetricTypeGauge, FamilyName: "temp", Help: "T."}
	untyped := wire.Metadata{Type: wire.MetricTypeUnknown, FamilyName: "thing"}
	summary := wire.Metadata{Type: wire.MetricTypeSummary, FamilyName: "lat", Help: "L."}
	hist := wire.Metadata{Type: wire.MetricTypeHistogram, FamilyName: "size", Help: "S."}
	id := []wire.Label{{Name: "service", Value: "auth"}, {Name: "instance", Value: "i-1"}}

	tests := []struct {
		name string
		text string
		opts Options
		want *wire.WriteRequest
	}{
		{
			name: "counter with identity labels sorted in",
			text: "# HELP req_total Requests.\n# TYPE req_total counter\nreq_total{code=\"200\"} 7\nreq_total{code=\"500\"} 1\n",
			opts: Options{ExtraLabels: id},
			want: &wire.WriteRequest{
				Series: []wire.TimeSeries{
					series(counter, 7, "__name__", "req_total", "code", "200", "instance", "i-1", "service", "auth"),
					series(counter, 1, "__name__", "req_total", "code", "500", "instance", "i-1", "service", "auth"),
				},
				Metadata: []wire.Metadata{counter},
			},
		},
		{
			name: "gauge: NaN and +Inf values, empty label value dropped, upper-case label sorts before __name__",
			text: "# HELP temp T.\n# TYPE temp gauge\ntemp{Zone=\"a\",room=\"\"} NaN\ntemp{Zone=\"b\"} +Inf\n",
			want: &wire.WriteRequest{
				Series: []wire.TimeSeries{
					series(gauge, math.NaN(), "Zone", "a", "__name__", "temp"),
					series(gauge, math.Inf(1), "Zone", "b", "__name__", "temp"),
				},
				Metadata: []wire.Metadata{gauge},
			},
		},
		{
			name: "untyped, exposition timestamp ignored by default",
			text: "thing 3 1000\n",
			want: &wire.WriteRequest{
				Series:   []wire.TimeSeries{series(untyped, 3, "__name__", "thing")},
				Metadata: []wire.Metadata{untyped},
			},
		},
		{
			name: "summary with 2 quantiles is 4 series",
			text: "# HELP lat L.\n# TYPE lat summary\nlat{op=\"r\",quantile=\"0.5\"} 0.2\nlat{op=\"r\",quantile=\"1\"} 0.9\nlat_sum{op=\"r\"} 12.5\nlat_count{op=\"r\"} 40\n",
			want: &wire.WriteRequest{
				Series: []wire.TimeSeries{
					series(summary, 0.2, "__name__", "lat", "op", "r", "quantile", "0.5"),
					series(summary, 0.9, "__name__", "lat", "op", "r", "quantile", "1.0"),
					series(summary, 12.5, "__name__", "lat_sum", "op", "r"),
					series(summary, 40, "__name__", "lat_count", "op", "r"),
				},
				Metadata: []wire.Metadata{summary},
			},
		},
		{
			name: "classic histogram: le normalized as Prometheus 3 stores it",
			text: "# HELP size S.\n# TYPE size histogram\nsize_bucket{le=\"0.005\"} 1\nsize_bucket{le=\"1\"} 2\nsize_bucket{le=\"1e+06\"} 3\nsize_bucket{le=\"+Inf\"} 4\nsize_sum 1e6\nsize_count 4\n",
			want: &wire.WriteRequest{
				Series: []wire.TimeSeries{
					series(hist, 1, "__name__", "size_bucket", "le", "0.005"),
					series(hist, 2, "__name__", "size_bucket", "le", "1.0"),
					series(hist, 3, "__name__", "size_bucket", "le", "1e+06"),
					series(hist, 4, "__name__", "size_bucket", "le", "+Inf"),
					series(hist, 1e6, "__name__", "size_sum"),
					series(hist, 4, "__name__", "size_count"),
				},
				Metadata: []wire.Metadata{hist},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Timestamp = ts0
			got, _, err := Convert(mustParse(t, tt.text), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmpOpts...); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestImplicitInfBucket(t *testing.T) {
	// client_golang leaves the +Inf bucket implicit; it equals the count.
	fam := &dto.MetricFamily{
		Name: proto.String("h"), Type: dto.MetricType_HISTOGRAM.Enum(),
		Metric: []*dto.Metric{{Histogram: &dto.Histogram{
			SampleCount: proto.Uint64(5), SampleSum: proto.Float64(2),
			Bucket: []*dto.Bucket{{UpperBound: proto.Float64(0.1), CumulativeCount: proto.Uint64(3)}},
		}}},
	}
	md := wire.Metadata{Type: wire.MetricTypeHistogram, FamilyName: "h"}
	got, _, err := Convert([]*dto.MetricFamily{fam}, Options{Timestamp: ts0})
	if err != nil {
		t.Fatal(err)
	}
	want := []wire.TimeSeries{
		series(md, 3, "__name__", "h_bucket", "le", "0.1"),
		series(md, 5, "__name__", "h_bucket", "le", "+Inf"),
		series(md, 2, "__name__", "h_sum"),
		series(md, 5, "__name__", "h_count"),
	}
	if diff := cmp.Diff(want, got.Series, cmpOpts...); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestOneBatchTimestamp(t *testing.T) {
	text := "a 1 1000\nb{x=\"1\"} 2 2000\n# TYPE c summary\nc_sum 1 3000\nc_count 2 3000\n"
	got, _, err := Convert(mustParse(t, text), Options{Timestamp: ts0})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range got.Series {
		for _, smp := range s.Samples {
			if smp.Timestamp != ts0 {
				t.Errorf("%s: timestamp %d, want the batch timestamp %d", wire.SeriesString(s.Labels), smp.Timestamp, ts0)
			}
		}
	}
	// The same registry through the Gatherer: every sample at the batch time.
	req, _, err := FromGatherer(parityRegistry(t), Options{Timestamp: ts0})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range req.Series {
		if len(s.Samples) != 1 || s.Samples[0].Timestamp != ts0 {
			t.Errorf("%s: samples %v, want one at %d", wire.SeriesString(s.Labels), s.Samples, ts0)
		}
	}

	honored, _, err := Convert(mustParse(t, text), Options{Timestamp: ts0, HonorTimestamps: true})
	if err != nil {
		t.Fatal(err)
	}
	var tss []int64
	for _, s := range honored.Series {
		tss = append(tss, s.Samples[0].Timestamp)
	}
	if diff := cmp.Diff([]int64{1000, 2000, 3000, 3000}, tss); diff != "" {
		t.Errorf("HonorTimestamps (-want +got):\n%s", diff)
	}
}

func TestLabelConflict(t *testing.T) {
	text := "a{instance=\"x\",service=\"old\"} 1\na{instance=\"y\"} 2\nb{service=\"s\"} 3\nc 4\n"
	extra := []wire.Label{{Name: "service", Value: "auth"}, {Name: "instance", Value: "i-1"}}
	_, _, err := Convert(mustParse(t, text), Options{Timestamp: ts0, ExtraLabels: extra})
	var lce *LabelConflictError
	if !errors.As(err, &lce) {
		t.Fatalf("err = %v, want a *LabelConflictError", err)
	}
	want := []LabelConflict{
		{Family: "a", Series: ls("__name__", "a", "instance", "x", "service", "old"), Label: "instance", Existing: "x", Extra: "i-1", Count: 2},
		{Family: "a", Series: ls("__name__", "a", "instance", "x", "service", "old"), Label: "service", Existing: "old", Extra: "auth", Count: 1},
		{Family: "b", Series: ls("__name__", "b", "service", "s"), Label: "service", Existing: "s", Extra: "auth", Count: 1},
	}
	if diff := cmp.Diff(want, lce.Conflicts); diff != "" {
		t.Errorf("conflicts (-want +got):\n%s", diff)
	}
	if lce.Family != "a" || lce.Label != "instance" || lce.Existing != "x" || lce.Extra != "i-1" {
		t.Errorf("first conflict = %+v", lce.LabelConflict)
	}
	for _, s := range []string{`family "a"`, `family "b"`, `label "service" is "s"`, "ConflictRename", "exported_instance"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("message %q lacks %q", err, s)
		}
	}
}

func TestConflictRename(t *testing.T) {
	text := "a{instance=\"x\",exported_instance=\"taken\"} 1\n"
	got, _, err := Convert(mustParse(t, text), Options{
		Timestamp: ts0, ConflictPolicy: ConflictRename,
		ExtraLabels: []wire.Label{{Name: "instance", Value: "i-1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := ls("__name__", "a", "exported_exported_instance", "x", "exported_instance", "taken", "instance", "i-1")
	if diff := cmp.Diff(want, got.Series[0].Labels); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestConvertErrors(t *testing.T) {
	lbl := func(n, v string) *dto.LabelPair { return &dto.LabelPair{Name: proto.String(n), Value: proto.String(v)} }
	gauge := func(name string, labels ...*dto.LabelPair) *dto.MetricFamily {
		return &dto.MetricFamily{Name: proto.String(name), Type: dto.MetricType_GAUGE.Enum(),
			Metric: []*dto.Metric{{Label: labels, Gauge: &dto.Gauge{Value: proto.Float64(1)}}}}
	}
	tests := []struct {
		name string
		fams []*dto.MetricFamily
		opts Options
		want []string // substrings of the message
		is   error
	}{
		{name: "zero timestamp", opts: Options{}, want: []string{"Options.Timestamp is 0"}},
		{name: "reserved extra label", opts: Options{Timestamp: ts0, ExtraLabels: ls("le", "1")}, want: []string{`extra label "le" is reserved`}},
		{name: "empty extra value", opts: Options{Timestamp: ts0, ExtraLabels: ls("service", "")}, want: []string{`extra label "service" has an empty value`}},
		{name: "duplicate extra", opts: Options{Timestamp: ts0, ExtraLabels: ls("a", "1", "a", "2")}, want: []string{`extra label "a" is given twice`}},
		{name: "invalid extra name", opts: Options{Timestamp: ts0, ExtraLabels: ls("a-b", "1")}, want: []string{`extra label name "a-b" is invalid`}},
		{name: "empty family name", fams: []*dto.MetricFamily{gauge("")}, want: []string{"empty name"}},
		{name: "invalid metric name", fams: []*dto.MetricFamily{gauge("a.b")}, want: []string{`family "a.b"`, "invalid under legacy"}},
		{name: "invalid label name", fams: []*dto.MetricFamily{gauge("g", lbl("a.b", "1"))}, want: []string{`family "g" series g{a.b="1"}`, `label name "a.b" is invalid`}},
		{name: "duplicate label names", fams: []*dto.MetricFamily{gauge("g", lbl("x", "1"), lbl("x", "2"))}, want: []string{`family "g"`, `duplicate label name "x"`}},
		{name: "__name__ label", fams: []*dto.MetricFamily{gauge("g", lbl("__name__", "h"))}, want: []string{`may not carry a "__name__" label`}},
		{name: "invalid utf-8 value", fams: []*dto.MetricFamily{gauge("g", lbl("x", "\xff"))}, want: []string{"not valid UTF-8"}},
		{
			name: "le on a histogram",
			fams: []*dto.MetricFamily{{Name: proto.String("h"), Type: dto.MetricType_HISTOGRAM.Enum(),
				Metric: []*dto.Metric{{Label: []*dto.LabelPair{lbl("le", "1")}, Histogram: &dto.Histogram{}}}}},
			want: []string{`label "le" is generated for histogram families`},
		},
		{
			name: "type without its value",
			fams: []*dto.MetricFamily{{Name: proto.String("c"), Type: dto.MetricType_COUNTER.Enum(),
				Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: proto.Float64(1)}}}}},
			want: []string{"COUNTER family has a metric without a counter value"},
		},
		{
			name: "duplicate series across families",
			fams: []*dto.MetricFamily{
				{Name: proto.String("h"), Type: dto.MetricType_SUMMARY.Enum(), Metric: []*dto.Metric{{Summary: &dto.Summary{}}}},
				gauge("h_count"),
			},
			want: []string{`family "h_count" series h_count{}`, `(family "h")`},
			is:   ErrDuplicateSeries,
		},
		{
			name: "duplicate series in one family",
			fams: []*dto.MetricFamily{{Name: proto.String("g"), Type: dto.MetricType_GAUGE.Enum(), Metric: []*dto.Metric{
				{Label: []*dto.LabelPair{lbl("a", "1")}, Gauge: &dto.Gauge{Value: proto.Float64(1)}},
				{Label: []*dto.LabelPair{lbl("a", "1"), lbl("b", "")}, Gauge: &dto.Gauge{Value: proto.Float64(2)}},
			}}},
			is: ErrDuplicateSeries,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			if tt.fams != nil {
				opts.Timestamp = ts0
			}
			req, _, err := Convert(tt.fams, opts)
			if err == nil {
				t.Fatalf("no error; got %d series", len(req.Series))
			}
			if req != nil {
				t.Errorf("request returned with error %v", err)
			}
			for _, s := range tt.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
		})
	}
}

func TestUTF8Names(t *testing.T) {
	fams := mustParse(t, "{\"my.metric\",\"läbel\"=\"v\"} 1\n")
	if _, _, err := Convert(fams, Options{Timestamp: ts0}); err == nil {
		t.Error("legacy validation accepted a dotted name")
	}
	got, _, err := Convert(fams, Options{Timestamp: ts0, UTF8Names: true})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ls("__name__", "my.metric", "läbel", "v"), got.Series[0].Labels); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestErrorLeavesRequestUntouched(t *testing.T) {
	c := mustConverter(t, Options{Timestamp: ts0, ExtraLabels: ls("a", "x")})
	req := &wire.WriteRequest{}
	if _, err := c.Append(req, mustParse(t, "ok 1\n")); err != nil {
		t.Fatal(err)
	}
	before := len(req.Series)
	if _, err := c.Append(req, mustParse(t, "z 1\nzz{a=\"y\"} 1\n")); err == nil {
		t.Fatal("want a conflict error")
	}
	if len(req.Series) != before || len(req.Metadata) != 1 {
		t.Errorf("after a failed Append: %d series, %d metadata; want %d, 1", len(req.Series), len(req.Metadata), before)
	}
}
