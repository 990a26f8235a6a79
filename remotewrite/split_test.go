package remotewrite

import (
	"context"
	"fmt"
	"testing"

	"github.com/rwkit/rwkit/wire"
)

// TestSplit100k writes 100,000 single-sample series plus one series of
// 10,000 samples and checks, from what the receiver decoded, that every
// series arrives exactly once, each request stays within both limits, and
// the long series arrives in order, in chunks.
func TestSplit100k(t *testing.T) {
	if testing.Short() {
		t.Skip("100k series")
	}
	const n, long = 100_000, 10_000
	req := &wire.WriteRequest{Series: series("rwkit_split_test_metric_with_a_longish_name", n, 1_700_000_000_000)}
	big := wire.TimeSeries{Labels: []wire.Label{{Name: "__name__", Value: "long_series"}}}
	for i := range long {
		big.Samples = append(big.Samples, wire.Sample{Value: float64(i), Timestamp: int64(i)})
	}
	req.Series = append(req.Series, big)
	for i := range 50 {
		req.Metadata = append(req.Metadata, wire.Metadata{Type: wire.MetricTypeCounter, FamilyName: fmt.Sprint("m", i), Help: "help text"})
	}

	for _, tc := range []struct {
		v                    wire.Version
		maxBytes, maxSamples int
	}{
		{wire.V1, DefaultMaxRequestBytes, DefaultMaxSamplesPerRequest},
		{wire.V2, DefaultMaxRequestBytes, DefaultMaxSamplesPerRequest},
		{wire.V1, 64 << 10, 5000}, // bytes bind before samples
		{wire.V2, 64 << 10, 5000},
	} {
		t.Run(fmt.Sprintf("%s/%dB/%d", tc.v, tc.maxBytes, tc.maxSamples), func(t *testing.T) {
			rc := newReceiver(t, func(_ int, got *received) (int, map[string]string, string) {
				return 200, written(got), ""
			})
			c := mustNew(t, rc.url(), WithVersion(tc.v), WithMaxRequestBytes(tc.maxBytes), WithMaxSamplesPerRequest(tc.maxSamples))
			res, err := c.Write(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			seen := make([]int, n)
			var longTS []int64
			longChunks, metadata, samples := 0, 0, 0
			for i, r := range rc.requests() {
				if r.RawLen > tc.maxBytes {
					t.Errorf("request %d: %d bytes uncompressed, over the limit of %d", i, r.RawLen, tc.maxBytes)
				}
				points := 0
				for _, ts := range r.Req.Series {
					points += len(ts.Samples) + len(ts.Histograms) + len(ts.Exemplars)
					samples += len(ts.Samples)
					if label(&ts, "__name__") == "long_series" {
						longChunks++
						for _, s := range ts.Samples {
							longTS = append(longTS, s.Timestamp)
						}
						continue
					}
					var id int
					fmt.Sscan(label(&ts, "id"), &id)
					seen[id]++
				}
				if points > tc.maxSamples {
					t.Errorf("request %d: %d samples, over the limit of %d", i, points, tc.maxSamples)
				}
				metadata += len(r.Req.Metadata)
			}
			for id, k := range seen {
				if k != 1 {
					t.Fatalf("series id=%d delivered %d times, want once", id, k)
				}
			}
			if len(longTS) != long {
				t.Fatalf("long series: %d samples delivered, want %d", len(longTS), long)
			}
			for i, ts := range longTS {
				if ts != int64(i) {
					t.Fatalf("long series out of order at %d: timestamp %d", i, ts)
				}
			}
			if want := (long + tc.maxSamples - 1) / tc.maxSamples; longChunks < want {
				t.Errorf("long series in %d chunks, want at least %d", longChunks, want)
			}
			wantMD := 0
			if tc.v == wire.V1 {
				wantMD = 50
			}
			if metadata != wantMD {
				t.Errorf("metadata delivered %d, want %d", metadata, wantMD)
			}
			if res.Requests != len(rc.requests()) || res.Samples != n+long || samples != n+long {
				t.Errorf("result %v; receiver saw %d requests and %d samples", res, len(rc.requests()), samples)
			}
			t.Logf("%s", res)
		})
	}
}

// TestOversizedSeriesSentAlone: a series bigger than the byte limit is not
// dropped; it goes in a request of its own.
func TestOversizedSeriesSentAlone(t *testing.T) {
	rc := newReceiver(t, nil)
	c := mustNew(t, rc.url(), WithMaxRequestBytes(1024))
	huge := wire.TimeSeries{Labels: []wire.Label{{Name: "__name__", Value: "huge"}, {Name: "blob", Value: string(make([]byte, 4000))}},
		Samples: []wire.Sample{{Value: 1, Timestamp: 1}}}
	req := &wire.WriteRequest{Series: append(series("small", 2, 1), huge)}
	req.Series = append(req.Series, series("after", 1, 1)...)
	if _, err := c.Write(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	var names [][]string
	for _, r := range rc.requests() {
		var ns []string
		for _, ts := range r.Req.Series {
			ns = append(ns, label(&ts, "__name__"))
		}
		names = append(names, ns)
	}
	if len(names) != 3 || len(names[1]) != 1 || names[1][0] != "huge" {
		t.Errorf("requests = %v, want the huge series alone in the second", names)
	}
}

// TestBuffersReused: steady-state writes do not grow the client's buffers.
func TestBuffersReused(t *testing.T) {
	rc := newReceiver(t, nil)
	c := mustNew(t, rc.url())
	req := &wire.WriteRequest{Series: series("up", 1000, 1)}
	if _, err := c.Write(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	raw, comp := &c.raw[:1][0], &c.comp[:1][0]
	if _, err := c.Write(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if &c.raw[:1][0] != raw || &c.comp[:1][0] != comp {
		t.Error("encode/compress buffers were reallocated between identical writes")
	}
}

// TestFallbackMidWrite: the receiver takes the first RW 2.0 request, then
// answers 415; the rest of the write goes as RW 1.0 and every sample
// arrives exactly once, in order.
func TestFallbackMidWrite(t *testing.T) {
	rc := newReceiver(t, func(n int, got *received) (int, map[string]string, string) {
		if got.Version == wire.V2 {
			if n == 0 {
				return 204, written(got), ""
			}
			return 415, nil, ""
		}
		return 200, nil, ""
	})
	c := mustNew(t, rc.url(), WithVersion(wire.V2), WithMaxRequestBytes(4096), WithMaxSamplesPerRequest(300))
	long := wire.TimeSeries{Labels: []wire.Label{{Name: "__name__", Value: "long"}}}
	for i := range 2000 {
		long.Samples = append(long.Samples, wire.Sample{Value: float64(i), Timestamp: int64(i)})
	}
	req := &wire.WriteRequest{Series: append(series("up", 40, 1), long)}
	req.Series = append(req.Series, series("after", 40, 1)...)
	req.Metadata = []wire.Metadata{{Type: wire.MetricTypeGauge, FamilyName: "up", Help: "h"}}
	res, err := c.Write(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	var longTS []int64
	var versions []wire.Version
	metadata := 0
	for _, r := range rc.requests() {
		versions = append(versions, r.Version)
		if r.Version == wire.V2 && len(versions) > 1 {
			continue // refused with 415
		}
		metadata += len(r.Req.Metadata)
		for _, ts := range r.Req.Series {
			name := label(&ts, "__name__")
			if name == "long" {
				for _, s := range ts.Samples {
					longTS = append(longTS, s.Timestamp)
				}
				continue
			}
			counts[name+"/"+label(&ts, "id")]++
		}
	}
	if versions[0] != wire.V2 || versions[1] != wire.V2 || versions[2] != wire.V1 || c.Version() != wire.V1 {
		t.Fatalf("versions sent %v, client now %s", versions, c.Version())
	}
	if len(counts) != 80 {
		t.Errorf("%d distinct short series delivered, want 80", len(counts))
	}
	for k, n := range counts {
		if n != 1 {
			t.Errorf("%s delivered %d times", k, n)
		}
	}
	if len(longTS) != 2000 {
		t.Fatalf("long series: %d samples delivered, want 2000", len(longTS))
	}
	for i, ts := range longTS {
		if ts != int64(i) {
			t.Fatalf("long series sample %d has timestamp %d", i, ts)
		}
	}
	if metadata != 1 || res.Samples != 2080 {
		t.Errorf("metadata %d (want 1), result %v", metadata, res)
	}
}

// TestConcurrentWrites: writes from many goroutines are serialised and all
// delivered (run with -race).
func TestConcurrentWrites(t *testing.T) {
	rc := newReceiver(t, nil)
	c := mustNew(t, rc.url(), WithMaxSamplesPerRequest(7))
	done := make(chan error)
	for g := range 8 {
		go func() {
			_, err := c.Write(context.Background(), &wire.WriteRequest{Series: series(fmt.Sprint("m", g), 20, 1)})
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	total := 0
	for _, r := range rc.requests() {
		total += len(r.Req.Series)
	}
	if total != 160 {
		t.Errorf("receiver got %d series, want 160", total)
	}
}
