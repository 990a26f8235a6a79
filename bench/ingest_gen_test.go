package bench

import (
	"fmt"
	"testing"

	"github.com/rwkit/rwkit/wire"
)

// ingestPayload is one writer's pushes, encoded and Snappy-compressed once
// before anything is timed, so every receiver gets the same bytes.
type ingestPayload struct {
	writer int
	bodies [][]byte // one per push, timestamps increasing
}

// ingestSeries are the label sets of writer w: series series shaped like a
// service's metrics (6 labels, 100 metric names), with the writer's own
// instance and service so that writers never share a series.
func ingestSeries(w, series int) [][]wire.Label {
	out := make([][]wire.Label, series)
	for i := range out {
		out[i] = []wire.Label{
			{Name: "__name__", Value: fmt.Sprintf("bench_requests_%d_total", i%100)},
			{Name: "instance", Value: fmt.Sprintf("10.1.%d.%d:9100", w/256, w%256)},
			{Name: "job", Value: "ingest-bench"},
			{Name: "path", Value: fmt.Sprintf("/api/v1/item/%d", i/100)},
			{Name: "service", Value: fmt.Sprintf("svc-%d", w)},
			{Name: "status", Value: "200"},
		}
	}
	return out
}

// genIngestPayloads builds, for each of writers writers, pushes bodies of
// all its series with one sample each at ts0 + p*15s (a 15 s scrape
// interval), RW 1.0 or RW 2.0.
func genIngestPayloads(tb testing.TB, v wire.Version, writers, series, pushes int, ts0 int64) []ingestPayload {
	tb.Helper()
	out := make([]ingestPayload, writers)
	var raw []byte
	for w := range out {
		ls := ingestSeries(w, series)
		req := wire.WriteRequest{Series: make([]wire.TimeSeries, series)}
		for i := range req.Series {
			req.Series[i] = wire.TimeSeries{Labels: ls[i], Samples: make([]wire.Sample, 1)}
		}
		out[w].writer = w
		for p := 0; p < pushes; p++ {
			for i := range req.Series {
				req.Series[i].Samples[0] = wire.Sample{Timestamp: ts0 + int64(p)*15_000, Value: float64(p*1000 + i)}
			}
			if v == wire.V2 {
				raw = wire.AppendRequestV2(raw[:0], &req)
			} else {
				raw = wire.AppendWriteRequest(raw[:0], &req)
			}
			out[w].bodies = append(out[w].bodies, wire.Compress(nil, raw))
		}
	}
	return out
}
