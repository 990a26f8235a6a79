//go:build !noprompb

package wire

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
)

// The tests here hold the hand-written encoding against prompb's gogo
// generated code, in all three directions.

func TestRW1EncodeMatchesPrompb(t *testing.T) {
	req := forV1(richRequest())
	want, err := toPrompb(req).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	checkBytes(t, "AppendWriteRequest", AppendWriteRequest(nil, req), want)

	// Series by series, with cached label blocks, and the size function.
	var body []byte
	for i := range req.Series {
		ts := &req.Series[i]
		one := AppendTimeSeries(nil, ts)
		if got := TimeSeriesSize(ts); got != len(one) {
			t.Errorf("series %d: TimeSeriesSize = %d, encoded %d bytes", i, got, len(one))
		}
		block := AppendLabels(nil, ts.Labels)
		checkBytes(t, "AppendTimeSeriesLabels", AppendTimeSeriesLabels(nil, block, ts), one)
		body = AppendTimeSeriesLabels(body, block, ts)
	}
	for i := range req.Metadata {
		body = AppendMetadata(body, &req.Metadata[i])
	}
	checkBytes(t, "concatenated fields", body, want)
}

func TestRW1DecodePrompb(t *testing.T) {
	want := forV1(richRequest())
	data, err := toPrompb(want).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var got WriteRequest
	if err := DecodeWriteRequest(data, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, &got, cmpOpts); diff != "" {
		t.Errorf("DecodeWriteRequest(prompb Marshal) mismatch (-want +got):\n%s", diff)
	}
}

func TestRW1PrompbUnmarshalsOurs(t *testing.T) {
	want := forV1(richRequest())
	var p prompb.WriteRequest
	if err := p.Unmarshal(AppendWriteRequest(nil, want)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, fromPrompb(&p), cmpOpts); diff != "" {
		t.Errorf("prompb Unmarshal(AppendWriteRequest) mismatch (-want +got):\n%s", diff)
	}
}

func TestRW2EncodeMatchesPrompb(t *testing.T) {
	req := richRequest()
	want, err := toWritev2(req).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	checkBytes(t, "AppendRequestV2", AppendRequestV2(nil, req), want)

	var e EncoderV2
	for round := 0; round < 2; round++ { // the second round reuses the encoder
		e.Reset()
		for i := range req.Series {
			e.AppendSeries(&req.Series[i])
		}
		if e.NumSeries() != len(req.Series) {
			t.Errorf("NumSeries = %d, want %d", e.NumSeries(), len(req.Series))
		}
		got := e.AppendRequest(nil)
		if e.Len() != len(got) {
			t.Errorf("Len = %d, AppendRequest wrote %d bytes", e.Len(), len(got))
		}
		checkBytes(t, "EncoderV2", got, want)
	}
	e.Reset()
	empty, _ := (&writev2.Request{Symbols: []string{""}}).Marshal()
	checkBytes(t, "empty EncoderV2", e.AppendRequest(nil), empty)
	if e.Len() != len(empty) {
		t.Errorf("empty Len = %d, want %d", e.Len(), len(empty))
	}
}

func TestRW2DecodePrompb(t *testing.T) {
	req := richRequest()
	data, err := toWritev2(req).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var got WriteRequest
	if err := DecodeRequestV2(data, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(forV2(req), &got, cmpOpts); diff != "" {
		t.Errorf("DecodeRequestV2(writev2 Marshal) mismatch (-want +got):\n%s", diff)
	}
}

func TestRW2PrompbUnmarshalsOurs(t *testing.T) {
	req := richRequest()
	var p writev2.Request
	if err := p.Unmarshal(AppendRequestV2(nil, req)); err != nil {
		t.Fatal(err)
	}
	if p.Symbols[0] != "" {
		t.Errorf("symbols[0] = %q, want the empty string", p.Symbols[0])
	}
	if diff := cmp.Diff(forV2(req), fromWritev2(t, &p), cmpOpts); diff != "" {
		t.Errorf("writev2 Unmarshal(AppendRequestV2) mismatch (-want +got):\n%s", diff)
	}
}

// Decoding into a request that held a bigger one must not leak old data.
func TestDecodeReusesRequest(t *testing.T) {
	big := richRequest()
	small := &WriteRequest{Series: []TimeSeries{{
		Labels:     []Label{{"__name__", "x"}},
		Histograms: []Histogram{{CountInt: 1}},
		Exemplars:  []Exemplar{{Value: 1}},
	}}}
	var got WriteRequest
	for _, tc := range []struct {
		name   string
		encode func(*WriteRequest) []byte
		decode func([]byte, *WriteRequest) error
		want   func(*WriteRequest) *WriteRequest
	}{
		{"v1", func(r *WriteRequest) []byte { return AppendWriteRequest(nil, r) }, DecodeWriteRequest, forV1},
		{"v2", func(r *WriteRequest) []byte { return AppendRequestV2(nil, r) }, DecodeRequestV2, forV2},
	} {
		for _, in := range []*WriteRequest{big, small, big} {
			want := tc.want(in)
			if tc.name == "v1" && in == small {
				want.Metadata = nil
			}
			if err := tc.decode(tc.encode(want), &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, &got, cmpOpts); diff != "" {
				t.Errorf("%s: reused decode mismatch (-want +got):\n%s", tc.name, diff)
			}
		}
	}
}

// A histogram without a count field is an integer histogram, whatever its
// zero_count's kind, as Prometheus' and Cortex's IsFloatHistogram decide.
func TestHistogramKindFromCount(t *testing.T) {
	for _, h := range []prompb.Histogram{
		{ZeroCount: &prompb.Histogram_ZeroCountFloat{ZeroCountFloat: 2}, Sum: 1, Timestamp: 5},
		{ZeroCount: &prompb.Histogram_ZeroCountInt{ZeroCountInt: 2}, Sum: 1, Timestamp: 5},
		{Count: &prompb.Histogram_CountFloat{CountFloat: 0}, ZeroCount: &prompb.Histogram_ZeroCountInt{ZeroCountInt: 2}, Timestamp: 5},
		{Count: &prompb.Histogram_CountInt{CountInt: 0}, ZeroCount: &prompb.Histogram_ZeroCountFloat{ZeroCountFloat: 2}, Timestamp: 5},
	} {
		pb := prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{
			Labels: []prompb.Label{{Name: "__name__", Value: "h"}}, Histograms: []prompb.Histogram{h},
		}}}
		body, err := pb.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		var req WriteRequest
		if err := DecodeWriteRequest(body, &req); err != nil {
			t.Fatal(err)
		}
		got := req.Series[0].Histograms[0]
		if got.IsFloat != h.IsFloatHistogram() {
			t.Errorf("%v: IsFloat = %v, Prometheus says %v", h, got.IsFloat, h.IsFloatHistogram())
		}
		if got.IsFloat && got.ZeroCountFloat != h.GetZeroCountFloat() || !got.IsFloat && got.ZeroCountInt != h.GetZeroCountInt() {
			t.Errorf("%v: zero count %v / %v, Prometheus' getters say %v / %v", h, got.ZeroCountInt, got.ZeroCountFloat, h.GetZeroCountInt(), h.GetZeroCountFloat())
		}
	}
}
