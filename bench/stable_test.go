package bench

import (
	"bytes"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rwkit/rwkit/wire"
)

func stableFrom(series []wire.TimeSeries, ts int64) *StableBody {
	var sb StableBody
	sb.Reset(ts)
	for i := range series {
		sb.AppendSeries(wire.AppendLabels(nil, series[i].Labels), series[i].Samples[0].Value)
	}
	return &sb
}

func withSamples(series []wire.TimeSeries, ts int64, value func(i int) float64) []wire.TimeSeries {
	out := make([]wire.TimeSeries, len(series))
	for i := range series {
		out[i] = wire.TimeSeries{Labels: series[i].Labels, Samples: []wire.Sample{{Value: value(i), Timestamp: ts}}}
	}
	return out
}

func decodeSeries(t *testing.T, body []byte) []wire.TimeSeries {
	t.Helper()
	var req wire.WriteRequest
	if err := wire.DecodeWriteRequest(body, &req); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return req.Series
}

// TestStableBodyBytes: with no zero values, a StableBody is byte for byte
// what wire.AppendWriteRequest (and so gogo's Marshal) produces, before and after
// patching.
func TestStableBodyBytes(t *testing.T) {
	const ts0, ts1 = 1700000000000, 1700000015000
	series := withSamples(FleetSeries(500), ts0, func(i int) float64 { return float64(i) + 0.5 })
	sb := stableFrom(series, ts0)
	checkSame(t, "built", sb.Bytes(), wire.AppendWriteRequest(nil, &wire.WriteRequest{Series: series}))

	next := withSamples(series, ts1, func(i int) float64 { return -float64(i) - 1e9 })
	values := make([]float64, len(next))
	for i := range next {
		values[i] = next[i].Samples[0].Value
	}
	if !sb.SetSamples(ts1, values) {
		t.Fatal("SetSamples refused a timestamp of the same width")
	}
	checkSame(t, "patched", sb.Bytes(), wire.AppendWriteRequest(nil, &wire.WriteRequest{Series: next}))
	if sb.Timestamp() != ts1 || sb.NumSeries() != len(series) {
		t.Errorf("Timestamp, NumSeries = %d, %d; want %d, %d", sb.Timestamp(), sb.NumSeries(), int64(ts1), len(series))
	}
}

// TestStableBodyDecodes covers what gogo's bytes cannot show: zero and
// negative-zero values (written, not omitted), SetValue, SetTimestamp,
// Range and timestamps of every varint width.
func TestStableBodyDecodes(t *testing.T) {
	base := FleetSeries(50)
	for _, ts := range []int64{1, 200, 1700000000000, 1 << 50, math.MaxInt64, -5} {
		series := withSamples(base, ts, func(i int) float64 {
			switch i % 4 {
			case 0:
				return 0
			case 1:
				return math.Inf(-1)
			}
			return float64(i)
		})
		sb := stableFrom(series, ts)
		if diff := cmp.Diff(series, decodeSeries(t, sb.Bytes())); diff != "" {
			t.Fatalf("ts %d: built body decodes differently (-want +got):\n%s", ts, diff)
		}
		// The same width: the varint of ts+1 or ts-1 (one of them).
		next := ts + 1
		if varintLen(uint64(next)) != varintLen(uint64(ts)) {
			next = ts - 1
		}
		values := make([]float64, len(series))
		for i := range values {
			values[i] = float64(i * i)
		}
		if !sb.SetSamples(next, values) {
			t.Fatalf("ts %d: SetSamples(%d) refused", ts, next)
		}
		want := withSamples(base, next, func(i int) float64 { return values[i] })
		if diff := cmp.Diff(want, decodeSeries(t, sb.Bytes())); diff != "" {
			t.Fatalf("ts %d: patched body (-want +got):\n%s", ts, diff)
		}
		sb.SetValue(3, 42)
		if !sb.SetTimestamp(ts) {
			t.Fatalf("SetTimestamp(%d) refused", ts)
		}
		want = withSamples(base, ts, func(i int) float64 { return values[i] })
		want[3].Samples[0].Value = 42
		if diff := cmp.Diff(want, decodeSeries(t, sb.Bytes())); diff != "" {
			t.Fatalf("ts %d: SetValue+SetTimestamp (-want +got):\n%s", ts, diff)
		}
		for _, r := range [][2]int{{0, 0}, {0, 1}, {10, 20}, {49, 50}, {0, 50}} {
			got := decodeSeries(t, sb.Range(r[0], r[1]))
			if diff := cmp.Diff(want[r[0]:r[1]], got, cmp.Comparer(func(a, b []wire.TimeSeries) bool {
				return len(a) == 0 && len(b) == 0 || cmp.Equal(a, b)
			})); diff != "" {
				t.Errorf("ts %d: Range(%d, %d) (-want +got):\n%s", ts, r[0], r[1], diff)
			}
		}
	}

	negZero := math.Copysign(0, -1)
	sb := stableFrom(withSamples(base[:1], 1000, func(int) float64 { return negZero }), 1000)
	if v := decodeSeries(t, sb.Bytes())[0].Samples[0].Value; !math.Signbit(v) || v != 0 {
		t.Errorf("-0 decoded as %v, want -0", v)
	}
}

func TestStableBodyWidthChange(t *testing.T) {
	series := withSamples(FleetSeries(3), 1000, func(i int) float64 { return 1 })
	sb := stableFrom(series, 1000)
	before := bytes.Clone(sb.Bytes())
	for _, ts := range []int64{100, 1 << 30, -1} {
		if sb.SetSamples(ts, []float64{2, 2, 2}) || sb.SetTimestamp(ts) {
			t.Errorf("SetSamples/SetTimestamp(%d) accepted a different varint width", ts)
		}
	}
	checkSame(t, "after refusals", sb.Bytes(), before)
	var empty StableBody
	empty.Reset(1000)
	if !empty.SetSamples(1001, nil) || len(empty.Bytes()) != 0 || len(empty.Range(0, 0)) != 0 {
		t.Error("empty StableBody")
	}
}

func TestStableBodySteadyStateAllocs(t *testing.T) {
	series := FleetSeries(1000)
	sb := stableFrom(series, 1700000000000)
	values := make([]float64, len(series))
	out := make([]byte, 0, wire.MaxCompressedLen(len(sb.Bytes())))
	ts := int64(1700000000000)
	allocs := testing.AllocsPerRun(20, func() {
		ts += 15000
		sb.SetSamples(ts, values)
		out = wire.Compress(out, sb.Bytes())
	})
	if allocs != 0 {
		t.Errorf("SetSamples + wire.Compress allocate %v times per push, want 0", allocs)
	}
	// Rebuilding into the kept memory does not allocate either.
	blocks := make([][]byte, len(series))
	for i := range series {
		blocks[i] = wire.AppendLabels(nil, series[i].Labels)
	}
	allocs = testing.AllocsPerRun(5, func() {
		sb.Reset(ts)
		for i := range blocks {
			sb.AppendSeries(blocks[i], 1)
		}
	})
	if allocs != 0 {
		t.Errorf("Reset + AppendSeries allocate %v times, want 0", allocs)
	}
}

func checkSame(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Errorf("%s: bodies differ (%d and %d bytes)", what, len(got), len(want))
	}
}
