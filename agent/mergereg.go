package agent

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// mergeRegisterer registers the scrape manager's metrics, adding to the
// counters the stream loop also feeds (by name, in extra) what it counted:
// prometheus_target_* stays one series whichever loop scraped.
type mergeRegisterer struct {
	prometheus.Registerer
	extra map[string]*atomic.Uint64

	mu      sync.Mutex
	wrapped map[prometheus.Collector]prometheus.Collector
}

func (m *mergeRegisterer) Register(c prometheus.Collector) error {
	x := m.extra[descName(c)]
	if x == nil {
		return m.Registerer.Register(c)
	}
	w := &sumCollector{c: c, extra: x}
	if err := m.Registerer.Register(w); err != nil {
		return err
	}
	m.mu.Lock()
	m.wrapped[c] = w
	m.mu.Unlock()
	return nil
}

func (m *mergeRegisterer) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := m.Register(c); err != nil {
			panic(err)
		}
	}
}

func (m *mergeRegisterer) Unregister(c prometheus.Collector) bool {
	m.mu.Lock()
	w, ok := m.wrapped[c]
	delete(m.wrapped, c)
	m.mu.Unlock()
	if ok {
		return m.Registerer.Unregister(w)
	}
	return m.Registerer.Unregister(c)
}

// descName is the name of c's only metric ("" when it has several).
func descName(c prometheus.Collector) string {
	ch := make(chan *prometheus.Desc, 16)
	go func() {
		c.Describe(ch)
		close(ch)
	}()
	name, n := "", 0
	for d := range ch {
		n++
		_, rest, _ := strings.Cut(d.String(), `fqName: "`)
		name, _, _ = strings.Cut(rest, `"`)
	}
	if n != 1 {
		return ""
	}
	return name
}

// sumCollector is a counter without labels plus extra.
type sumCollector struct {
	c     prometheus.Collector
	extra *atomic.Uint64
}

func (s *sumCollector) Describe(ch chan<- *prometheus.Desc) { s.c.Describe(ch) }

func (s *sumCollector) Collect(ch chan<- prometheus.Metric) {
	in := make(chan prometheus.Metric, 16)
	go func() {
		s.c.Collect(in)
		close(in)
	}()
	for m := range in {
		var d dto.Metric
		if err := m.Write(&d); err != nil || d.Counter == nil || len(d.Label) > 0 {
			ch <- m
			continue
		}
		ch <- prometheus.MustNewConstMetric(m.Desc(), prometheus.CounterValue, d.Counter.GetValue()+float64(s.extra.Load()))
	}
}
