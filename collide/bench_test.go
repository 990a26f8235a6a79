package collide

import (
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/rwkit/rwkit/wire"
)

// benchWriters makes n writers of m series each, 9 labels per series as a
// Micrometer exposition has with env and region added. shared of every 100
// series are the same in every writer (JVM and process metrics without
// identity labels); the others carry the writer's service label.
func benchWriters(n, m, shared int) []Writer {
	ws := make([]Writer, n)
	for w := range ws {
		svc := "service-" + strconv.Itoa(w)
		series := make([]wire.TimeSeries, m)
		for i := range series {
			ls := []wire.Label{
				{Name: "__name__", Value: "http_server_requests_seconds_bucket"},
				{Name: "env", Value: "prod"},
				{Name: "exception", Value: "none"},
				{Name: "le", Value: strconv.Itoa(i % 16)},
				{Name: "method", Value: "GET"},
				{Name: "outcome", Value: "SUCCESS"},
				{Name: "region", Value: "us-west-2"},
				{Name: "status", Value: "200"},
				{Name: "uri", Value: "/api/v1/items/" + strconv.Itoa(i/16)},
			}
			if i%100 >= shared {
				ls = slices.Insert(ls, 7, wire.Label{Name: "service", Value: svc}) // sorted: before status
			}
			series[i] = wire.TimeSeries{Labels: ls}
		}
		ws[w] = Writer{Name: svc, Series: series}
	}
	return ws
}

func BenchmarkFind(b *testing.B) {
	for _, bc := range []struct{ writers, series, shared int }{
		{50, 50_000, 0},   // identity labels everywhere: nothing collides
		{50, 50_000, 10},  // 10% shared by all 50 writers
		{50, 50_000, 100}, // no identity labels at all
	} {
		ws := benchWriters(bc.writers, bc.series, bc.shared)
		b.Run(fmt.Sprintf("writers=%d/series=%d/shared=%d%%", bc.writers, bc.series, bc.shared), func(b *testing.B) {
			b.ReportAllocs()
			var r *Report
			for b.Loop() {
				r = Find(ws)
			}
			if want := bc.series * bc.shared / 100; len(r.Collisions) != want {
				b.Fatalf("%d collisions, want %d", len(r.Collisions), want)
			}
			b.ReportMetric(float64(bc.writers*bc.series*b.N)/b.Elapsed().Seconds()/1e6, "Mseries/s")
		})
	}
}
