package validate

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rwkit/rwkit/wire"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func lbls(kv ...string) []wire.Label {
	out := make([]wire.Label, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, wire.Label{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

func series(ls []wire.Label, ts ...int64) wire.TimeSeries {
	s := wire.TimeSeries{Labels: ls}
	for _, t := range ts {
		s.Samples = append(s.Samples, wire.Sample{Value: 1, Timestamp: t})
	}
	return s
}

func mustProfile(t *testing.T, name string) Limits {
	t.Helper()
	l, err := Profile(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestValidateSeriesCortex(t *testing.T) {
	l := mustProfile(t, "cortex")
	l.RejectOldSamples = true
	l.MaxLabelsSizeBytes = 40
	l.MaxNativeHistogramBuckets = 2
	ms := now.UnixMilli()
	long := strings.Repeat("x", 2049)
	many := []string{"__name__", "m"}
	var manyText []string
	for i := 0; i < 30; i++ {
		many = append(many, fmt.Sprintf("l%02d", i), "v")
		manyText = append(manyText, fmt.Sprintf("l%02d=\"v\"", i))
	}

	tests := []struct {
		name string
		in   wire.TimeSeries
		want *Discard
	}{
		{"ok", series(lbls("__name__", "m", "job", "j"), ms), nil},
		{"missing name", series(lbls("job", "j"), ms, ms+1),
			&Discard{Reason: MissingMetricName, Status: 400, Message: "sample missing metric name", Samples: 2, Counted: 2}},
		{"empty name", series(lbls("__name__", "", "job", "j"), ms),
			&Discard{Reason: InvalidMetricName, Status: 400, Message: `sample invalid metric name: ""`, Samples: 1, Counted: 1}},
		{"invalid name", series(lbls("__name__", "a-b"), ms),
			&Discard{Reason: InvalidMetricName, Status: 400, Message: `sample invalid metric name: "a-b"`, Samples: 1, Counted: 1}},
		{"too many labels", series(lbls(many...), ms, ms),
			&Discard{Reason: MaxLabelNamesPerSeries, Status: 400, Samples: 2, Counted: 1,
				Message: "series has too many labels (actual: 31, limit: 30) series: 'm{" + strings.Join(manyText, ", ") + "}'"}},
		{"invalid label", series(lbls("__name__", "m", "a.b", "1"), ms),
			&Discard{Reason: InvalidLabel, Status: 400, Samples: 1, Counted: 1,
				Message: `sample invalid label: "a.b" metric "m{a.b=\"1\"}"`}},
		{"label name too long", series(lbls("__name__", "m", strings.Repeat("n", 1025), "1"), ms),
			&Discard{Reason: LabelNameTooLong, Status: 400, Samples: 1, Counted: 1,
				Message: `label name too long for metric (actual: 1025, limit: 1024) metric: "m{` + strings.Repeat("n", 198) + `" label name: "` + strings.Repeat("n", 200) + `"`}},
		{"label value too long", series(lbls("__name__", "m", "a", long), ms),
			&Discard{Reason: LabelValueTooLong, Status: 400, Samples: 1, Counted: 1,
				Message: `label value too long for metric (actual: 2049, limit: 2048) metric: "m{a=\"` + strings.Repeat("x", 195) + `" label name: "a" label value: "` + strings.Repeat("x", 200) + `"`}},
		{"duplicate", series(lbls("__name__", "m", "b", "1", "a", "2", "b", "3"), ms),
			&Discard{Reason: DuplicateLabelNames, Status: 400, Samples: 1, Counted: 1,
				Message: `duplicate label name: "b" metric "m{a=\"2\", b=\"1\", b=\"3\"}"`}},
		{"labels too big", series(lbls("__name__", "m", "aaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbb"), ms),
			&Discard{Reason: LabelsSizeBytesExceeded, Status: 400, Samples: 1, Counted: 1,
				Message: `labels size bytes exceeded for metric (actual: 47, limit: 40) metric: "m{aaaaaaaaaa=\"bbbbbbbbbbbbbbbbbbbb\"}"`}},
		{"too old", series(lbls("__name__", "m"), ms, ms-15*24*3600*1000),
			&Discard{Reason: GreaterThanMaxSampleAge, Status: 400, Samples: 2, Counted: 1,
				Message: `timestamp too old: 1794312000000 metric: "m"`}},
		{"too new", series(lbls("__name__", "m"), ms+10*60*1000+1),
			&Discard{Reason: TooFarInFuture, Status: 400, Samples: 1, Counted: 1,
				Message: `timestamp too new: 1795608600001 metric: "m"`}},
		{"grace edge", series(lbls("__name__", "m"), ms+10*60*1000), nil},
		{"exemplar without labels", wire.TimeSeries{Labels: lbls("__name__", "m"), Samples: []wire.Sample{{Timestamp: ms}}, Exemplars: []wire.Exemplar{{Timestamp: ms}}},
			&Discard{Reason: ExemplarLabelsMissing, Status: 400, Samples: 1, Exemplars: 1, CountedExemplars: 1,
				Message: `exemplar missing labels, timestamp: 1795608000000 series: {__name__="m"} labels: {}`}},
		{"exemplar without timestamp", wire.TimeSeries{Labels: lbls("__name__", "m"), Exemplars: []wire.Exemplar{{Labels: lbls("trace_id", "t")}}},
			&Discard{Reason: ExemplarTimestampInvalid, Status: 400, Exemplars: 1, CountedExemplars: 1,
				Message: `exemplar missing timestamp, timestamp: 0 series: {__name__="m"} labels: {trace_id="t"}`}},
		{"exemplar labels too long", wire.TimeSeries{Labels: lbls("__name__", "m"), Exemplars: []wire.Exemplar{{Timestamp: 1, Labels: lbls("trace_id", strings.Repeat("t", 121))}}},
			&Discard{Reason: ExemplarLabelsTooLong, Status: 400, Exemplars: 1, CountedExemplars: 1,
				Message: `exemplar combined labelset exceeds 128 characters, timestamp: 1 series: {__name__="m"} labels: {trace_id="` + strings.Repeat("t", 121) + `"}`}},
		{"histogram schema", wire.TimeSeries{Labels: lbls("__name__", "h"), Histograms: []wire.Histogram{{Schema: 9, Timestamp: ms}}},
			&Discard{Reason: NativeHistogramInvalidSchema, Status: 400, Histograms: 1, Counted: 1,
				Message: `invalid native histogram schema 9 for metric: "h". supported schema from -4 to 8`}},
		{"histogram invalid", wire.TimeSeries{Labels: lbls("__name__", "h", "job", "j"), Histograms: []wire.Histogram{{Schema: 0, Timestamp: ms, CountInt: 1,
			PositiveSpans: []wire.BucketSpan{{Offset: 1, Length: 2}}, PositiveDeltas: []int64{1}}}},
			&Discard{Reason: NativeHistogramInvalid, Status: 400, Histograms: 1, Counted: 1,
				Message: `invalid native histogram, validation err: positive side: spans need 2 buckets, have 1 buckets: histogram spans specify different number of buckets than provided, metric: "h{job=\"j\"}"`}},
		{"histogram invalid before buckets exceeded", wire.TimeSeries{Labels: lbls("__name__", "h"), Histograms: []wire.Histogram{{Schema: -4, Timestamp: ms,
			PositiveSpans: []wire.BucketSpan{{Offset: 0, Length: 3}}, PositiveDeltas: []int64{1, 0, 0}}}},
			&Discard{Reason: NativeHistogramInvalid, Status: 400, Histograms: 1, Counted: 1,
				Message: `invalid native histogram, validation err: 3 observations found in buckets, but the Count field is 0: histogram's observation count should equal the number of observations found in the buckets (in absence of NaN), metric: "h"`}},
		{"histogram buckets reducible", wire.TimeSeries{Labels: lbls("__name__", "h"), Histograms: []wire.Histogram{{Schema: 0, Timestamp: ms, CountInt: 4,
			PositiveSpans: []wire.BucketSpan{{Offset: 1, Length: 4}}, PositiveDeltas: []int64{1, 0, 0, 0}}}}, nil},
		{"histogram buckets exceeded", wire.TimeSeries{Labels: lbls("__name__", "h"), Histograms: []wire.Histogram{{Schema: -4, Timestamp: ms, CountInt: 3,
			PositiveSpans: []wire.BucketSpan{{Offset: 0, Length: 3}}, PositiveDeltas: []int64{1, 0, 0}}}},
			&Discard{Reason: NativeHistogramBucketsExceeded, Status: 400, Histograms: 1, Counted: 1,
				Message: `native histogram bucket count exceeded for metric (limit: 2) metric: "h"`}},
		{"empty values only", series(lbls("__name__", "m", "a", ""), ms), nil},
		{"no labels", series(nil, ms),
			&Discard{Status: 400, Message: "empty labels found", WholeRequest: true, Samples: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			_, got := ValidateSeries(&l, &in, now)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestValidateSeriesKeepsStoredShape(t *testing.T) {
	l := mustProfile(t, "cortex")
	in := series(lbls("job", "j", "__name__", "m", "empty", ""), 5)
	kept, d := ValidateSeries(&l, &in, now)
	if d != nil {
		t.Fatal(d)
	}
	if diff := cmp.Diff(lbls("__name__", "m", "job", "j"), kept.Labels); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if in.Labels[0].Name != "job" || len(in.Labels) != 3 {
		t.Errorf("input modified: %v", in.Labels)
	}
}

// Cortex stores a histogram over the bucket limit at the lower resolution
// where it fits; the input is not modified.
func TestValidateSeriesReducesHistograms(t *testing.T) {
	l := mustProfile(t, "cortex")
	l.EnableNativeHistograms = true
	l.MaxNativeHistogramBuckets = 4
	ms := now.UnixMilli()
	small := wire.Histogram{Schema: 2, Timestamp: ms, CountInt: 1, PositiveSpans: []wire.BucketSpan{{Length: 1}}, PositiveDeltas: []int64{1}}
	many := wire.Histogram{Schema: 2, Timestamp: ms + 1, CountInt: 8, Sum: 8, ZeroThreshold: 1e-128,
		PositiveSpans: []wire.BucketSpan{{Length: 8}}, PositiveDeltas: []int64{1, 0, 0, 0, 0, 0, 0, 0}}
	manyFloat := wire.Histogram{IsFloat: true, Schema: 1, Timestamp: ms + 2, CountFloat: 6,
		NegativeSpans: []wire.BucketSpan{{Offset: -2, Length: 6}}, NegativeCounts: []float64{1, 1, 1, 1, 1, 1}}
	in := wire.TimeSeries{Labels: lbls("__name__", "h"), Histograms: []wire.Histogram{small, many, manyFloat}}
	before := deepCopy(&in.Histograms[1])
	kept, d := ValidateSeries(&l, &in, now)
	if d != nil {
		t.Fatal(d)
	}
	want := []wire.Histogram{
		small,
		// Schema 1 still has 5 buckets; schema 0 has 3 (0; 1..4; 5..7).
		{Schema: 0, Timestamp: ms + 1, CountInt: 8, Sum: 8, ZeroThreshold: 1e-128,
			PositiveSpans: []wire.BucketSpan{{Length: 3}}, PositiveDeltas: []int64{1, 3, -1}},
		// -2..3 at schema 1 are -1, 0, 0, 1, 1, 2 at schema 0
		// (((i-1) >> 1) + 1).
		{IsFloat: true, Schema: 0, Timestamp: ms + 2, CountFloat: 6,
			NegativeSpans: []wire.BucketSpan{{Offset: -1, Length: 4}}, NegativeCounts: []float64{1, 2, 2, 1}},
	}
	if d := cmp.Diff(want, kept.Histograms, histCmp...); d != "" {
		t.Errorf("stored (-want +got)\n%s", d)
	}
	if d := diff(before, in.Histograms[1]); d != "" {
		t.Errorf("input modified (-before +after)\n%s", d)
	}
	// What is stored passes again unchanged.
	again, d := ValidateSeries(&l, &kept, now)
	if d != nil {
		t.Fatal(d)
	}
	if d := cmp.Diff(kept.Histograms, again.Histograms, histCmp...); d != "" {
		t.Errorf("second pass (-first +second)\n%s", d)
	}
}

func TestNoLabelsLeft(t *testing.T) {
	l := mustProfile(t, "cortex")
	l.EnforceMetricName = false
	in := series(lbls("a", ""), 1, 2)
	_, got := ValidateSeries(&l, &in, now)
	want := &Discard{Reason: DroppedByUserConfigurationOverride, Samples: 2, Counted: 2}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

// A series with several problems reports the first one Cortex checks.
func TestRuleOrder(t *testing.T) {
	l := mustProfile(t, "cortex")
	l.MaxLabelNamesPerSeries = 2
	l.RejectOldSamples = true
	tests := []struct {
		name string
		in   wire.TimeSeries
		want Reason
	}{
		{"name before label count", series(lbls("a", "1", "b", "2", "c", "3")), MissingMetricName},
		{"label count before invalid label", series(lbls("__name__", "m", "a.b", "1", "c", "3")), MaxLabelNamesPerSeries},
		{"invalid name before length of same label", series(lbls("__name__", "m", strings.Repeat(".", 2000), "1")), InvalidLabel},
		{"earlier label first", series(lbls("__name__", "m", "a", strings.Repeat("x", 3000))), LabelValueTooLong},
		{"name check before value length", series(lbls("__name__", "m", "a.b", strings.Repeat("x", 3000))), InvalidLabel},
		{"labels before samples", series(lbls("__name__", "m", "a", strings.Repeat("x", 3000)), 1), LabelValueTooLong},
		{"too old before too new", series(lbls("__name__", "m"), now.Add(time.Hour).UnixMilli(), 1), TooFarInFuture},
		{"first bad sample", series(lbls("__name__", "m"), 1, now.Add(time.Hour).UnixMilli()), GreaterThanMaxSampleAge},
		{"samples before exemplars", wire.TimeSeries{Labels: lbls("__name__", "m"), Samples: []wire.Sample{{Timestamp: 1}}, Exemplars: []wire.Exemplar{{}}}, GreaterThanMaxSampleAge},
		{"exemplars before histograms", wire.TimeSeries{Labels: lbls("__name__", "m"), Exemplars: []wire.Exemplar{{}}, Histograms: []wire.Histogram{{Schema: 50}}}, ExemplarLabelsMissing},
		{"histogram timestamp before schema", wire.TimeSeries{Labels: lbls("__name__", "m"), Histograms: []wire.Histogram{{Schema: 50, Timestamp: 1}}}, GreaterThanMaxSampleAge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, d := ValidateSeries(&l, &tt.in, now)
			var got Reason = "(none)"
			if d != nil {
				got = d.Reason
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLabelsNotSortedRule(t *testing.T) {
	l := mustProfile(t, "cortex")
	ls := lbls("__name__", "m", "b", "1", "a", "2")
	d := checkLabels(&l, ls)
	want := &Discard{Reason: LabelsNotSorted, Status: 400, Message: `labels not sorted: "a" metric "m{b=\"1\", a=\"2\"}"`}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

func TestValidateRequest(t *testing.T) {
	l := mustProfile(t, "cortex")
	req := &wire.WriteRequest{
		Series: []wire.TimeSeries{
			series(lbls("__name__", "ok"), 1),
			series(lbls("job", "x"), 1),
			series(lbls("__name__", "ok2"), 2, 3),
			series(lbls("__name__", "bad", "a.b", "1"), 1),
		},
		Metadata: []wire.Metadata{{FamilyName: ""}, {FamilyName: "ok"}},
	}
	r := ValidateRequest(&l, req, now)
	if len(r.Series) != 2 || len(r.Metadata) != 1 || len(r.Discards) != 3 {
		t.Fatalf("series %d metadata %d discards %d", len(r.Series), len(r.Metadata), len(r.Discards))
	}
	first := r.FirstError()
	if first.Message != "sample missing metric name" || first.Index != 1 {
		t.Errorf("first error %+v", first)
	}
	md := r.Discards[2]
	if md.Message != "metadata missing metric name" || md.CountedMetadata != 1 {
		t.Errorf("metadata discard %+v", md)
	}
	if got := r.RateCost(); got != 4 {
		t.Errorf("RateCost = %d, want 4", got)
	}
	d := r.RateLimited(25000)
	want := Discard{Reason: RateLimited, Status: http.StatusTooManyRequests, Index: -1,
		Message: "ingestion rate limit (25000) exceeded while adding 3 samples and 1 metadata",
		Samples: 3, Metadata: 1, Counted: 3, CountedMetadata: 1}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if len(r.Series) != 0 {
		t.Error("rate-limited result still has series")
	}
}

func TestValidateRequestEmptyLabels(t *testing.T) {
	l := mustProfile(t, "amp")
	req := &wire.WriteRequest{Series: []wire.TimeSeries{series(lbls("__name__", "ok"), 1), series(nil, 1)}}
	r := ValidateRequest(&l, req, now)
	if len(r.Series) != 0 || r.FirstError().Message != "empty labels found" || !r.FirstError().WholeRequest {
		t.Errorf("%+v", r)
	}
}

func TestMetadata(t *testing.T) {
	l := mustProfile(t, "cortex")
	long := strings.Repeat("h", 1025)
	tests := []struct {
		in   wire.Metadata
		want *Discard
	}{
		{wire.Metadata{FamilyName: "m", Help: "fine"}, nil},
		{wire.Metadata{FamilyName: "m", Help: long}, &Discard{Reason: MetadataHelpTooLong, Status: 400, Metadata: 1, CountedMetadata: 1,
			Message: `metadata 'HELP' value too long: "` + strings.Repeat("h", 200) + `" metric "m"`}},
		{wire.Metadata{FamilyName: "m", Unit: long}, &Discard{Reason: MetadataUnitTooLong, Status: 400, Metadata: 1, CountedMetadata: 1,
			Message: `metadata 'UNIT' value too long: "` + strings.Repeat("h", 200) + `" metric "m"`}},
	}
	for i, tt := range tests {
		if diff := cmp.Diff(tt.want, ValidateMetadata(&l, &tt.in)); diff != "" {
			t.Errorf("%d (-want +got)\n%s", i, diff)
		}
	}
}

func TestPrometheusBackend(t *testing.T) {
	l := mustProfile(t, "prometheus")
	ms := now.UnixMilli()
	tests := []struct {
		name string
		in   wire.TimeSeries
		want *Discard
	}{
		{"utf8 names ok", series(lbls("__name__", "a.b", "c.d", "1"), ms), nil},
		{"many labels ok", series(lbls("__name__", "m", "a", strings.Repeat("x", 5000)), ms), nil},
		{"missing name silent", series(lbls("a", "1"), ms, ms), &Discard{Reason: MissingMetricName, Samples: 2, Counted: 1}},
		{"duplicate silent", series(lbls("__name__", "m", "a", "1", "a", "2"), ms), &Discard{Reason: DuplicateLabelNames, Samples: 1, Counted: 1}},
		{"bad utf8 value", series(lbls("__name__", "m", "a", "\xff"), ms), &Discard{Reason: InvalidLabel, Samples: 1, Counted: 1}},
		{"too far ahead", series(lbls("__name__", "m"), ms+11*60*1000),
			&Discard{Reason: SampleOutOfBounds, Status: 400, WholeRequest: true, Samples: 1, Message: "out of bounds: timestamp is too far in the future"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := ValidateSeries(&l, &tt.in, now)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}
