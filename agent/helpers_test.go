package agent

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/config"

	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
)

// recordingSink keeps a deep copy of every Append, as a Sink must.
type recordingSink struct {
	name string

	mu       sync.Mutex
	batches  []wire.WriteRequest
	running  atomic.Bool
	shutdown atomic.Int32
}

func (s *recordingSink) Append(req *wire.WriteRequest) error {
	cp := wire.WriteRequest{Series: make([]wire.TimeSeries, len(req.Series))}
	for i, ts := range req.Series {
		cp.Series[i] = wire.TimeSeries{
			Labels:     slices.Clone(ts.Labels),
			Samples:    slices.Clone(ts.Samples),
			Histograms: slices.Clone(ts.Histograms),
			Exemplars:  slices.Clone(ts.Exemplars),
			Metadata:   ts.Metadata,
		}
	}
	s.mu.Lock()
	s.batches = append(s.batches, cp)
	s.mu.Unlock()
	return nil
}

func (s *recordingSink) Run(ctx context.Context) error {
	s.running.Store(true)
	<-ctx.Done()
	return nil
}

func (s *recordingSink) Shutdown(context.Context) error {
	s.shutdown.Add(1)
	return nil
}

// point is one sample or histogram of a series as a sink received it.
type point struct {
	t         int64
	v         float64
	hist      *wire.Histogram
	exemplars []wire.Exemplar
	meta      wire.Metadata
}

func (p point) stale() bool { return p.hist == nil && wire.IsStaleNaN(p.v) }

// key renders labels as {a="1", b="2"} in their order (sorted by the
// agent), as validate renders a series for Cortex's errors.
func key(ls []wire.Label) string { return validate.LabelsString(ls) }

// series returns every series received, by key, points in arrival order.
func (s *recordingSink) series() map[string][]point {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]point{}
	for _, b := range s.batches {
		for _, ts := range b.Series {
			k := key(ts.Labels)
			for _, smp := range ts.Samples {
				out[k] = append(out[k], point{t: smp.Timestamp, v: smp.Value, exemplars: ts.Exemplars, meta: ts.Metadata})
			}
			for i := range ts.Histograms {
				out[k] = append(out[k], point{t: ts.Histograms[i].Timestamp, hist: &ts.Histograms[i], exemplars: ts.Exemplars, meta: ts.Metadata})
			}
		}
	}
	return out
}

// labelSets returns every label set received.
func (s *recordingSink) labelSets() [][]wire.Label {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out [][]wire.Label
	for _, b := range s.batches {
		for _, ts := range b.Series {
			out = append(out, ts.Labels)
		}
	}
	return out
}

// target is an httptest /metrics endpoint whose body and status can change.
type target struct {
	*httptest.Server
	mu          sync.Mutex
	body        string
	contentType string
	status      int
	scrapes     atomic.Int64
	bodyOf      func(n int64) string // when set, the body of the n-th scrape (from 1)
}

func newTarget(t *testing.T, body string) *target {
	tg := &target{body: body, contentType: "text/plain; version=0.0.4", status: http.StatusOK}
	tg.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := tg.scrapes.Add(1)
		tg.mu.Lock()
		body, ct, status := tg.body, tg.contentType, tg.status
		if tg.bodyOf != nil {
			body = tg.bodyOf(n)
		}
		tg.mu.Unlock()
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(tg.Close)
	return tg
}

func (tg *target) set(body string) {
	tg.mu.Lock()
	tg.body = body
	tg.mu.Unlock()
}

func (tg *target) setStatus(status int) {
	tg.mu.Lock()
	tg.status = status
	tg.mu.Unlock()
}

func (tg *target) host() string { return strings.TrimPrefix(tg.URL, "http://") }

// run starts an agent for cfg whose sinks record; it is shut down at the
// end of the test.
type run struct {
	a     *Agent
	sinks map[string]*recordingSink
	reg   *prometheus.Registry
	done  chan error
}

func startAgent(t *testing.T, cfg *config.Config, o Options) *run {
	t.Helper()
	r := &run{sinks: map[string]*recordingSink{}, reg: prometheus.NewRegistry(), done: make(chan error, 1)}
	var mu sync.Mutex
	o.NewSink = func(rw *config.RemoteWriteConfig, name string) (Sink, error) {
		mu.Lock()
		defer mu.Unlock()
		s := &recordingSink{name: name}
		r.sinks[name] = s
		return s, nil
	}
	if o.Registerer == nil {
		o.Registerer = r.reg
	}
	if os.Getenv(prometheusLoopEnv) == "1" {
		o.PrometheusScrapeLoop = true
	}
	a, err := New(cfg, o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	r.a = a
	go func() { r.done <- a.Run(context.Background()) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := a.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return r
}

func (r *run) sink(t *testing.T) *recordingSink {
	t.Helper()
	if len(r.sinks) != 1 {
		t.Fatalf("%d sinks, want 1", len(r.sinks))
	}
	for _, s := range r.sinks {
		return s
	}
	return nil
}

func mustLoad(t *testing.T, yml string) *config.Config {
	t.Helper()
	cfg, err := Load([]byte(yml), "test.yml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return cfg
}

// last returns the last point of series k, and whether there is one.
func last(s *recordingSink, k string) (point, bool) {
	ps := s.series()[k]
	if len(ps) == 0 {
		return point{}, false
	}
	return ps[len(ps)-1], true
}

// hasValue reports whether series k received a non-stale value v.
func hasValue(s *recordingSink, k string, v float64) bool {
	for _, p := range s.series()[k] {
		if !p.stale() && p.hist == nil && p.v == v {
			return true
		}
	}
	return false
}

func counterValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue metrics
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// config for one job scraping tg every 200ms, one remote_write.
func oneJob(tg *target, extra string) string {
	return fmt.Sprintf(`
global:
  scrape_interval: 200ms
  scrape_timeout: 150ms
scrape_configs:
  - job_name: j
    static_configs:
      - targets: [%q]
%s
remote_write:
  - url: http://127.0.0.1:1/write
    name: rw
    metadata_config:
      send: false
`, tg.host(), extra)
}

// withMetadata is oneJob's configuration with metadata sent (the
// default): the recording sink then needs Prometheus' scrape loop.
func withMetadata(yml string) string {
	return strings.Replace(yml, "    metadata_config:\n      send: false\n", "", 1)
}

// prometheusLoopEnv, set to 1, runs every test agent on Prometheus' scrape
// loop (Options.PrometheusScrapeLoop): oneJob's jobs run on the stream loop
// otherwise. Run the package both ways after changing the agent.
const prometheusLoopEnv = "RWKIT_AGENT_TEST_PROMETHEUS_LOOP"

// jobKey is the key, as sinks name series, of the metric name scraped by
// job j from the target at host.
func jobKey(name, host string) string {
	return fmt.Sprintf("{__name__=%q, instance=%q, job=\"j\"}", name, host)
}
