package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

	"github.com/rwkit/rwkit/wire"
)

// benchSeries is a snapshot of n series shaped like a service's metrics.
func benchSeries(n int) [][]wire.Label {
	out := make([][]wire.Label, n)
	for i := range out {
		out[i] = []wire.Label{
			{Name: "__name__", Value: fmt.Sprintf("metric_%d", i%200)},
			{Name: "instance", Value: "10.0.0.1:8080"},
			{Name: "path", Value: fmt.Sprintf("/api/v1/item/%d", i/200)},
			{Name: "service", Value: "auth"},
		}
	}
	return out
}

// BenchmarkAppend appends snapshots of 10k series, one sample each, one
// Commit per snapshot (one remote-write request), and reports samples/s.
// "store" is this package's Appender; "prometheus-receiver" is the TSDB
// used the way Prometheus's remote-write handler uses it (labels built
// per series, no reference cache), as the baseline.
func BenchmarkAppend(b *testing.B) {
	const n = 10_000
	ss := benchSeries(n)
	b.Run("store", func(b *testing.B) {
		s, _ := openStore(b, Options{})
		tn := tenant(b, s, "ws-1")
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			a := tn.Appender(context.Background())
			ts := base + int64(i)*1000
			for j, ls := range ss {
				if err := a.Append(ls, ts, float64(j)); err != nil {
					b.Fatal(err)
				}
			}
			if err := a.Commit(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "samples/s")
		b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N*n), "ns/sample")
	})
	b.Run("prometheus-receiver", func(b *testing.B) {
		s, _ := openStore(b, Options{})
		db, err := tenant(b, s, "ws-1").open()
		if err != nil {
			b.Fatal(err)
		}
		var sb labels.ScratchBuilder
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			app := db.AppenderV2(context.Background())
			ts := base + int64(i)*1000
			for j, ls := range ss {
				sb.Reset()
				for _, l := range ls {
					sb.Add(l.Name, l.Value)
				}
				if _, err := app.Append(0, sb.Labels(), 0, ts, float64(j), nil, nil, storage.AOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			if err := app.Commit(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "samples/s")
		b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N*n), "ns/sample")
	})
}
