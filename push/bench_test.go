package push

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/rwkit/rwkit/wire"
)

// serviceRegistry is what a typical HTTP service exports: Go runtime and
// process collectors, a request histogram over 20 routes x 4 codes with
// the default 11 buckets, a request counter and a few gauges.
func serviceRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	dur := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "http_request_duration_seconds", Help: "Latency."}, []string{"route", "code"})
	cnt := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "http_requests_total", Help: "Requests."}, []string{"route", "code"})
	for r := range 20 {
		for _, c := range []string{"200", "201", "404", "500"} {
			route := "/api/v1/resource" + strconv.Itoa(r)
			dur.WithLabelValues(route, c).Observe(0.01 * float64(r))
			cnt.WithLabelValues(route, c).Add(float64(r))
		}
	}
	pool := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "db_pool_connections", Help: "Pool."}, []string{"state"})
	pool.WithLabelValues("idle").Set(3)
	pool.WithLabelValues("busy").Set(7)
	reg.MustRegister(dur, cnt, pool)
	return reg
}

// BenchmarkPushCycle is one push of a realistic service registry: gather,
// convert with identity labels, encode, compress, send to a server that
// discards the body.
func BenchmarkPushCycle(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	reg := serviceRegistry()
	clk := newFakeClock()
	p, err := New(srv.URL+"/api/v1/write", reg, testOptions(clk)...)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := p.Push(ctx); err != nil {
		b.Fatal(err)
	}
	series := len(p.req.Series)
	s, _ := encodeSnapshot(1, wire.V1, &p.req, nil)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := p.Push(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(series), "series")
	b.ReportMetric(float64(s.size()), "snapshot-bytes")
	b.ReportMetric(float64(s.rawLen), "raw-bytes")
}
