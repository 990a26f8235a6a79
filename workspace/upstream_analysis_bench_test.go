package workspace

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rwkit/rwkit/wire"
)

// BenchmarkUpstreamAnalysis times the pass-through analysis of one
// forwarded write (the work the queue's worker does, off the request
// path, but on the same cores): a service's 1,000 series with 6 labels, a
// new timestamp each write, nothing stored (no Upstream.Store). Its CPU
// is what competes with the forwarding on a busy machine
// (bench/cmd/upstream measures that side by side).
func BenchmarkUpstreamAnalysis(b *testing.B) {
	w, err := Open(b.TempDir(), WithUpstream(Upstream{URL: "http://127.0.0.1:1/api/v1/push"}))
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	const n = 1000
	req := &wire.WriteRequest{Series: make([]wire.TimeSeries, n)}
	for i := range req.Series {
		req.Series[i] = wire.TimeSeries{Labels: []wire.Label{
			{Name: "__name__", Value: fmt.Sprintf("http_server_requests_seconds_%d", i%40)},
			{Name: "code", Value: fmt.Sprint(200 + i%5)}, {Name: "instance", Value: "i-1"},
			{Name: "method", Value: "GET"}, {Name: "route", Value: fmt.Sprintf("/api/v1/items/%d", i/200)},
			{Name: "service", Value: "orders"},
		}, Samples: []wire.Sample{{Value: 1}}}
	}
	r := httptest.NewRequest(http.MethodPost, "/workspaces/ws-1/api/v1/remote_write", nil)
	r.Header.Set("Content-Type", wire.V1.ContentType())
	r.Header.Set("Content-Encoding", "snappy")
	r.Header.Set("User-Agent", "bench/1")
	bodies := make([][]byte, 64)
	for i := range bodies {
		for j := range req.Series {
			req.Series[j].Samples[0] = wire.Sample{Timestamp: int64(1_700_000_000_000 + i*15000), Value: float64(i)}
		}
		bodies[i] = wire.Compress(nil, wire.AppendWriteRequest(nil, req))
	}
	a := upstreamAnswer{status: http.StatusNoContent}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i%len(bodies) == 0 && i > 0 {
			b.StopTimer()
			w.Close()
			if w, err = Open(b.TempDir(), WithUpstream(Upstream{URL: "http://127.0.0.1:1/api/v1/push"})); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		w.analyse(r, "ws-1", bodies[i%len(bodies)], a)
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/series")
}
