package agent

import (
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rwkit/rwkit/internal/waitfor"
)

// A native histogram, scraped over protobuf, reaches the remote write
// that sends native histograms and not the other.
func TestNativeHistograms(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "latency_seconds", Help: "h", NativeHistogramBucketFactor: 1.1})
	reg.MustRegister(h)
	for _, v := range []float64{0.01, 0.2, 0.2, 3} {
		h.Observe(v)
	}
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	host := srv.Listener.Addr().String()
	r := startAgent(t, mustLoad(t, fmt.Sprintf(`
global:
  scrape_interval: 200ms
scrape_configs:
  - job_name: j
    scrape_native_histograms: true
    static_configs:
      - targets: [%q]
remote_write:
  - url: http://127.0.0.1:1/nh
    name: nh
    send_native_histograms: true
  - url: http://127.0.0.1:1/plain
    name: plain
`, host)), Options{})
	k := jobKey("latency_seconds", host)
	nh, plain := r.sinks["nh"], r.sinks["plain"]
	waitfor.True(t, "the native histogram", func() bool { _, ok := last(nh, k); return ok })
	p, _ := last(nh, k)
	if p.hist == nil || p.hist.CountInt != 4 || p.hist.Sum != 3.41 || p.hist.Schema != 3 {
		t.Errorf("histogram %+v, want count 4, sum 3.41, schema 3", p.hist)
	}
	if p.meta.Type != 3 || p.meta.Help != "h" {
		t.Errorf("metadata %+v, want histogram, help h", p.meta)
	}
	waitfor.True(t, "up in plain", func() bool {
		_, ok := last(plain, jobKey("up", host))
		return ok
	})
	if ps := plain.series()[k]; len(ps) > 0 {
		t.Errorf("plain got the native histogram: %+v", ps)
	}
}

// An OpenMetrics exemplar reaches the remote write that sends exemplars.
func TestExemplars(t *testing.T) {
	tg := newTarget(t, "# TYPE c counter\nc_total 1 # {trace_id=\"abc\"} 0.5 1700000000.123\n# EOF\n")
	tg.contentType = "application/openmetrics-text; version=1.0.0; charset=utf-8"
	r := startAgent(t, mustLoad(t, fmt.Sprintf(`
global:
  scrape_interval: 200ms
scrape_configs:
  - job_name: j
    static_configs:
      - targets: [%q]
remote_write:
  - url: http://127.0.0.1:1/ex
    name: ex
    send_exemplars: true
  - url: http://127.0.0.1:1/plain
    name: plain
`, tg.host())), Options{})
	k := jobKey("c_total", tg.host())
	ex, plain := r.sinks["ex"], r.sinks["plain"]
	waitfor.True(t, "c_total in both", func() bool { return hasValue(ex, k, 1) && hasValue(plain, k, 1) })
	ps := ex.series()[k]
	p := ps[0]
	if len(p.exemplars) != 1 || key(p.exemplars[0].Labels) != `{trace_id="abc"}` || p.exemplars[0].Value != 0.5 || p.exemplars[0].Timestamp != 1700000000123 {
		t.Errorf("exemplars %+v", p.exemplars)
	}
	// Sent once, as Prometheus stores an exemplar once, though every
	// scrape repeats it.
	waitfor.True(t, "another scrape", func() bool { return len(ex.series()[k]) >= 3 })
	for _, q := range ex.series()[k][1:] {
		if len(q.exemplars) > 0 {
			t.Errorf("exemplar sent again: %+v", q.exemplars)
		}
	}
	for _, q := range plain.series()[k] {
		if len(q.exemplars) > 0 {
			t.Errorf("plain got exemplars %+v", q.exemplars)
		}
	}
}
