package wire

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
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

// benchSeries builds n realistic series: 9 labels each as a service's
// metrics look after identity labels are added, one sample each.
func benchSeries(n int) []TimeSeries {
	methods := []string{"GET", "POST", "PUT", "DELETE"}
	statuses := []string{"200", "201", "400", "404", "500"}
	les := []string{"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"}
	series := make([]TimeSeries, n)
	for i := range series {
		series[i] = TimeSeries{
			Labels: []Label{
				{"__name__", "http_server_request_duration_seconds_bucket"},
				{"cluster", "prod-eu-west-1"},
				{"handler", "/api/v1/things/" + strconv.Itoa(i%50)},
				{"instance", fmt.Sprintf("10.1.%d.%d:8080", (i/1000)%256, (i/10)%100)},
				{"job", "document-service"},
				{"le", les[i%len(les)]},
				{"method", methods[(i/10)%len(methods)]},
				{"service", "document"},
				{"status", statuses[(i/40)%len(statuses)]},
			},
			Samples: []Sample{{Value: float64(i%1000) * 3.5, Timestamp: 1700000000000}},
		}
	}
	return series
}

// benchBody is the RW 1.0 body of benchSeries(n).
func benchBody(n int) []byte {
	return AppendWriteRequest(nil, &WriteRequest{Series: benchSeries(n)})
}
