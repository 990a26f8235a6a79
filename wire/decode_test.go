package wire

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A tiny protobuf writer for hand-crafted, non-canonical inputs.
type pb []byte

func (b pb) tag(num, wt int) pb { return appendVarint(b, uint64(num)<<3|uint64(wt)) }
func (b pb) varint(num int, v uint64) pb {
	return appendVarint(b.tag(num, wtVarint), v)
}
func (b pb) double(num int, v float64) pb { return appendFixed64(b.tag(num, wtFixed64), v) }
func (b pb) bytes(num int, p []byte) pb {
	b = appendVarint(b.tag(num, wtBytes), uint64(len(p)))
	return append(b, p...)
}
func (b pb) str(num int, s string) pb { return b.bytes(num, []byte(s)) }

// unknown appends one unknown field of every wire type, a nested group
// included.
func (b pb) unknown() pb {
	b = b.varint(90, 1<<63)
	b = b.double(91, 1)
	b = append(b.tag(92, wtFixed32), 1, 2, 3, 4)
	b = b.str(93, "ignored")
	b = b.tag(94, wtStartGroup).varint(1, 5).tag(95, wtStartGroup).str(2, "x").tag(95, wtEndGroup).tag(94, wtEndGroup)
	return b
}

func TestDecodeWriteRequestNonCanonical(t *testing.T) {
	label := func(name, value string) []byte { return pb{}.unknown().str(2, value).str(1, name) }
	hist := pb{}.unknown().
		varint(15, 42).                // timestamp first
		varint(12, zigzag64(-3)).      // positive_deltas unpacked...
		bytes(12, pb{}.tag(0, 0)[:0]). // ...an empty packed run...
		varint(12, zigzag64(4)).       // ...and more unpacked
		bytes(11, pb{}.varint(2, 2).varint(1, zigzag32(-1))).
		double(13, 1.5).double(13, 2.5).                    // counts unpacked too
		bytes(16, appendFixed64(appendFixed64(nil, 1), 2)). // custom_values packed
		double(16, 3).                                      // then unpacked
		varint(6, 9).                                       // zero_count_int
		double(2, 4).                                       // count_float: the float kind wins
		varint(4, zigzag32(-53)).
		varint(17, 77) // start_timestamp is not RW 1.0: skipped
	series := pb{}.
		bytes(4, hist).
		bytes(2, pb{}.varint(2, uint64(1<<64-5)).double(1, math.Inf(-1)).varint(3, 99)). // RW2's start_timestamp: unknown in RW1
		bytes(1, label("b", "2")).
		unknown().
		bytes(3, pb{}.varint(3, 7).bytes(1, label("trace_id", "t")).double(2, 0.5)).
		bytes(1, label("a", ""))
	data := pb{}.
		bytes(3, pb{}.str(5, "unit").str(4, "help").varint(1, 2).str(2, "fam").unknown()).
		unknown().
		bytes(1, series).
		bytes(1, nil) // an empty series
	want := &WriteRequest{
		Series: []TimeSeries{
			{
				Labels:    []Label{{"b", "2"}, {"a", ""}},
				Samples:   []Sample{{Value: math.Inf(-1), Timestamp: -5}},
				Exemplars: []Exemplar{{Labels: []Label{{"trace_id", "t"}}, Value: 0.5, Timestamp: 7}},
				Histograms: []Histogram{{
					IsFloat: true, CountFloat: 4, Schema: -53, Timestamp: 42,
					PositiveSpans:  []BucketSpan{{Offset: -1, Length: 2}},
					PositiveDeltas: []int64{-3, 4}, PositiveCounts: []float64{1.5, 2.5},
					CustomValues: []float64{1, 2, 3},
				}},
			},
			{},
		},
		Metadata: []Metadata{{Type: MetricTypeGauge, FamilyName: "fam", Help: "help", Unit: "unit"}},
	}
	var got WriteRequest
	if err := DecodeWriteRequest(data, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, &got, cmpOpts); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestDecodeRequestV2NonCanonical(t *testing.T) {
	series := pb{}.
		bytes(5, pb{}.varint(4, 4).varint(1, 2).unknown().varint(3, 3)). // metadata: unit, type, help
		varint(6, 1000).                                                 // created_timestamp (Prometheus 3.0-3.4)
		bytes(2, pb{}.varint(2, 10)).                                    // gets start 1000
		bytes(2, pb{}.varint(3, 5).varint(2, 11)).                       // keeps its own start
		bytes(3, pb{}.varint(15, 12).varint(1, 3)).                      // histogram gets 1000
		bytes(4, pb{}.varint(1, 1).varint(1, 2).double(2, 1)).           // exemplar refs unpacked
		varint(1, 1).                                                    // labels_refs unpacked...
		bytes(1, []byte{2}).                                             // ...then packed
		unknown()
	data := pb{}.
		bytes(5, series).
		unknown().
		str(4, "").str(4, "__name__").str(4, "up").str(4, "help!").str(4, "bytes") // symbols last
	want := &WriteRequest{Series: []TimeSeries{{
		Labels:     []Label{{"__name__", "up"}},
		Samples:    []Sample{{Timestamp: 10, StartTimestamp: 1000}, {Timestamp: 11, StartTimestamp: 5}},
		Histograms: []Histogram{{CountInt: 3, Timestamp: 12, StartTimestamp: 1000}},
		Exemplars:  []Exemplar{{Labels: []Label{{"__name__", "up"}}, Value: 1}},
		Metadata:   Metadata{Type: MetricTypeGauge, FamilyName: "up", Help: "help!", Unit: "bytes"},
	}}}
	var got WriteRequest
	if err := DecodeRequestV2(data, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, &got, cmpOpts); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestDecodeErrors(t *testing.T) {
	okSeries := pb{}.bytes(1, pb{}.str(1, "a").str(2, "b"))
	for _, tc := range []struct {
		name   string
		v2     bool
		data   []byte
		want   string // the whole error message
		offset int
	}{
		{
			name: "truncated varint in a label",
			data: append(pb{}.bytes(1, okSeries).bytes(1, okSeries), append(pb{}.tag(1, wtBytes), 4, 0x0a, 2, 0x0a, 0x80)...),
			want: "timeseries[2].labels[0].name: truncated varint at offset 25",
		},
		{
			name: "length past the end",
			data: pb{}.bytes(1, append(pb{}.tag(2, wtBytes), 50)),
			want: "timeseries[0].samples[0]: length 50 exceeds the 0 remaining bytes at offset 3",
		},
		{
			name: "wrong wire type",
			data: pb{}.bytes(1, pb{}.varint(1, 3)),
			want: "timeseries[0].labels[0]: field labels has wire type 0, want 2 at offset 2",
		},
		{
			name: "bad packed doubles",
			data: pb{}.bytes(1, pb{}.bytes(4, pb{}.bytes(13, []byte{1, 2, 3}))),
			want: "timeseries[0].histograms[0].positive_counts: packed doubles of 3 bytes, not a multiple of 8 at offset 5",
		},
		{
			name: "varint overflow",
			data: append(pb{}.tag(99, wtVarint), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02),
			want: "varint overflows 64 bits at offset 2",
		},
		{
			name: "field number 0",
			data: []byte{0x02, 0x00},
			want: "invalid field number 0 at offset 0",
		},
		{
			name: "unterminated group",
			data: pb{}.tag(7, wtStartGroup).varint(1, 1),
			want: "unterminated group 7 at offset 3",
		},
		{
			name: "v2 ref out of range",
			v2:   true,
			data: pb{}.str(4, "").str(4, "a").bytes(5, pb{}).bytes(5, pb{}.bytes(1, []byte{1, 2})),
			want: "timeseries[1].labels_refs[1]: symbol reference 2 outside the symbol table of 2 entries at offset 9",
		},
		{
			name: "v2 odd refs",
			v2:   true,
			data: pb{}.str(4, "").str(4, "a").bytes(5, pb{}.bytes(1, []byte{1})),
			want: "timeseries[0].labels_refs: odd number of label references (1) at offset 7",
		},
		{
			name: "v2 help ref out of range",
			v2:   true,
			data: pb{}.str(4, "").bytes(5, pb{}.bytes(5, pb{}.varint(3, 300))),
			want: "timeseries[0].metadata.help_ref: symbol reference 300 outside the symbol table of 1 entries at offset 6",
		},
		{
			name: "v2 exemplar ref out of range",
			v2:   true,
			data: pb{}.str(4, "").bytes(5, pb{}.bytes(4, pb{}.bytes(1, []byte{0, 9}))),
			want: "timeseries[0].exemplars[0].labels_refs[1]: symbol reference 9 outside the symbol table of 1 entries at offset 6",
		},
		{
			name: "v2 first symbol not empty",
			v2:   true,
			data: pb{}.str(4, "x"),
			want: `symbols[0]: the first symbol must be the empty string, got "x" at offset 0`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var req WriteRequest
			var err error
			if tc.v2 {
				err = DecodeRequestV2(tc.data, &req)
			} else {
				err = DecodeWriteRequest(tc.data, &req)
			}
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if err.Error() != tc.want {
				t.Errorf("error\n got %q\nwant %q", err.Error(), tc.want)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Errorf("error %T is not a *DecodeError", err)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	for _, tc := range []struct {
		v               Version
		str, ct, header string
	}{
		{V1, "1.0", "application/x-protobuf", "0.1.0"},
		{V2, "2.0", "application/x-protobuf;proto=io.prometheus.write.v2.Request", "2.0.0"},
	} {
		if got := tc.v.String(); got != tc.str {
			t.Errorf("String = %q, want %q", got, tc.str)
		}
		if got := tc.v.ContentType(); got != tc.ct {
			t.Errorf("ContentType = %q, want %q", got, tc.ct)
		}
		if got := tc.v.HeaderValue(); got != tc.header {
			t.Errorf("HeaderValue = %q, want %q", got, tc.header)
		}
	}
}

func TestDetectVersion(t *testing.T) {
	req := richRequest()
	for _, tc := range []struct {
		name    string
		body    []byte
		want    Version
		wantErr string
	}{
		{"empty", nil, V1, ""},
		{"rw1", AppendWriteRequest(nil, req), V1, ""},
		{"rw1 metadata only", AppendWriteRequest(nil, &WriteRequest{Metadata: req.Metadata}), V1, ""},
		{"rw2", AppendRequestV2(nil, req), V2, ""},
		{"rw2 series first", pb{}.bytes(5, nil), V2, ""},
		{"unknown field", pb{}.varint(2, 1), 0, "first field is 2 with wire type 0"},
		{"garbage", []byte{0xff}, 0, "truncated varint at offset 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DetectVersion(tc.body)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("DetectVersion = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}
