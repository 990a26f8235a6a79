package demo

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Services are the seed's six ECS services, in the order they are reported.
var Services = []string{"auth", "actor", "document", "notification", "audit", "bff"}

// threads are the live thread counts the seed quotes (auth 21, actor 14,
// document 19), the others in the same range: different per service, so
// that the unlabelled series really get different values at one timestamp.
var threads = map[string]float64{"auth": 21, "actor": 14, "document": 19, "notification": 12, "audit": 9, "bff": 27}

// appMetrics are the metric names the services define themselves (as
// opposed to the Go and process collectors' and push's self-metrics), in
// the order collisions are reported: the seed's example first.
var appMetrics = map[string]int{
	"jvm_threads_live_threads":     1,
	"jvm_memory_used_bytes":        2,
	"http_server_requests_seconds": 3,
}

// service is one of the six: its own registry, as each ECS task has, with
// the collectors every service exports (the seed's jvm_* and process_*
// binders are Go's and process' here) and a few app metrics whose values
// differ per service.
type service struct {
	name     string
	index    int
	reg      *prometheus.Registry
	threads  prometheus.Gauge
	memory   *prometheus.GaugeVec
	requests *prometheus.HistogramVec
}

func newService(index int, name string) *service {
	s := &service{
		name:  name,
		index: index,
		reg:   prometheus.NewRegistry(),
		threads: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "jvm_threads_live_threads", Help: "The current number of live threads.",
		}),
		memory: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "jvm_memory_used_bytes", Help: "The amount of used memory.",
		}, []string{"area"}),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "http_server_requests_seconds", Help: "HTTP server requests.",
			Buckets: []float64{0.005, 0.01, 0.05, 0.1, 0.5, 1},
		}, []string{"method", "uri", "status"}),
	}
	s.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		s.threads, s.memory, s.requests,
	)
	return s
}

// work moves the app metrics as one push interval of traffic would. Every
// service answers the load balancer's health check on the same URI (same
// series without identity labels, different counts) and its own API (a
// series only it writes).
func (s *service) work(round int) {
	s.threads.Set(threads[s.name] + float64(round%3))
	s.memory.WithLabelValues("heap").Set(float64((64 + 8*s.index + round) << 20))
	s.memory.WithLabelValues("nonheap").Set(float64((32 + 4*s.index) << 20))
	health := s.requests.WithLabelValues("GET", "/q/health", "200")
	for i := 0; i <= s.index; i++ {
		health.Observe((time.Duration(2+s.index) * time.Millisecond).Seconds())
	}
	api := s.requests.WithLabelValues("POST", "/api/"+s.name, "200")
	for i := 0; i < 5+3*s.index; i++ {
		api.Observe((time.Duration(20*(s.index+1)) * time.Millisecond).Seconds())
	}
}
