package remotewrite

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/rwkit/rwkit/wire"
)

// TestFullSeriesCutsAsOneWrite: writing FullSeries' prefix, keeping the
// rest and adding the next series to it sends the bodies one Write of
// everything sends, metadata first, for both versions and both limits.
func TestFullSeriesCutsAsOneWrite(t *testing.T) {
	ok := func(_ int, got *received) (int, map[string]string, string) { return 204, written(got), "" }
	all := series("g", 3000, 1700000000000)
	for i := range all {
		// Label values of varying length, so that the byte limit cuts at
		// no regular place.
		all[i].Labels = append(all[i].Labels, wire.Label{Name: "pad", Value: fmt.Sprintf("%0*d", i%37, i)})
	}
	meta := []wire.Metadata{{Type: wire.MetricTypeGauge, FamilyName: "g", Help: "a gauge"}}
	for _, tc := range []struct {
		name string
		opts []Option
	}{
		{"RW 1.0 by samples", []Option{WithMaxSamplesPerRequest(128)}},
		{"RW 1.0 by bytes", []Option{WithMaxRequestBytes(5000)}},
		{"RW 2.0 by bytes", []Option{WithVersion(wire.V2), WithMaxRequestBytes(6000)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			whole := newReceiver(t, ok)
			if _, err := mustNew(t, whole.url(), tc.opts...).Write(context.Background(), &wire.WriteRequest{Series: all, Metadata: meta}); err != nil {
				t.Fatal(err)
			}
			parts := newReceiver(t, ok)
			c := mustNew(t, parts.url(), tc.opts...)
			var kept []wire.TimeSeries
			sentMeta := false
			send := func(req *wire.WriteRequest) {
				if _, err := c.Write(context.Background(), req); err != nil {
					t.Fatal(err)
				}
				sentMeta = true
			}
			for from := 0; from < len(all); from += 250 {
				kept = append(kept, all[from:min(from+250, len(all))]...)
				req := wire.WriteRequest{Series: kept}
				if !sentMeta {
					req.Metadata = meta
				}
				if n := c.FullSeries(&req); n > 0 {
					req.Series = kept[:n]
					send(&req)
					kept = append([]wire.TimeSeries(nil), kept[n:]...)
				}
			}
			send(&wire.WriteRequest{Series: kept})
			w, p := whole.requests(), parts.requests()
			if len(w) < 5 || len(w) != len(p) {
				t.Fatalf("%d requests in parts, %d in one write (want equal, and a split)", len(p), len(w))
			}
			for i := range w {
				if !bytes.Equal(w[i].Raw, p[i].Raw) {
					t.Fatalf("request %d differs (%d and %d bytes)", i+1, w[i].RawLen, p[i].RawLen)
				}
			}
		})
	}
}

// TestFullSeriesKeepsACutSeriesWhole: a series cut across requests is
// not counted full, and nothing is full in a single request.
func TestFullSeriesKeepsACutSeriesWhole(t *testing.T) {
	c := mustNew(t, "http://127.0.0.1:1/api/v1/push", WithMaxSamplesPerRequest(10))
	long := series("g", 1, 1)[0]
	for i := range 14 {
		long.Samples = append(long.Samples, wire.Sample{Value: 1, Timestamp: int64(i + 2)})
	}
	req := wire.WriteRequest{Series: append(series("a", 5, 1), long)}
	if n := c.FullSeries(&req); n != 5 {
		t.Errorf("FullSeries = %d, want 5 (the 15-sample series straddles requests 1 to 3)", n)
	}
	if n := c.FullSeries(&wire.WriteRequest{Series: series("a", 10, 1)}); n != 0 {
		t.Errorf("FullSeries of one full request = %d, want 0: it is the last", n)
	}
}
