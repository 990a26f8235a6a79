package stream_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/prometheus/config"

	"github.com/rwkit/rwkit/agent"
	"github.com/rwkit/rwkit/agent/stream"
	"github.com/rwkit/rwkit/internal/waitfor"
	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
)

// answer is one scrape's response.
type answer struct {
	status int // 0: 200
	body   string
}

// target serves answers[n-1] to its n-th request, the last one after;
// once pinned to scrape n, it serves answers[n-1] to every request (a
// stream loop fetches a body its parser failed a second time).
type target struct {
	*httptest.Server
	answers  []answer
	n        atomic.Int64
	pinned   atomic.Int64
	requests atomic.Int64
}

func newTarget(t testing.TB, answers []answer) *target {
	tg := &target{answers: answers}
	tg.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		tg.requests.Add(1)
		n := int(tg.pinned.Load())
		if n == 0 {
			n = int(tg.n.Add(1))
		}
		a := answers[min(n, len(answers))-1]
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		if a.status != 0 {
			w.WriteHeader(a.status)
		}
		fmt.Fprint(w, a.body)
	}))
	t.Cleanup(tg.Close)
	return tg
}

func (tg *target) host() string { return strings.TrimPrefix(tg.URL, "http://") }

// point is a sample as an output received it: at is the scrape it was
// stamped with (its index), or -1 when it had its own timestamp t.
type point struct {
	at int
	t  int64
	v  string
}

// recorder keeps what an output received: series by their labels.
type recorder struct {
	mu     sync.Mutex
	series map[string][]sample
}

type sample struct {
	t int64
	v float64
}

func (r *recorder) add(req *wire.WriteRequest) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.series == nil {
		r.series = map[string][]sample{}
	}
	for _, ts := range req.Series {
		k := validate.LabelsString(ts.Labels)
		for _, s := range ts.Samples {
			r.series[k] = append(r.series[k], sample{s.Timestamp, s.Value})
		}
	}
}

// Append implements agent.Sink.
func (r *recorder) Append(req *wire.WriteRequest) error { r.add(req); return nil }
func (r *recorder) Run(ctx context.Context) error       { <-ctx.Done(); return nil }
func (r *recorder) Shutdown(context.Context) error      { return nil }

// Write implements stream.Output.
func (r *recorder) Write(body []byte, samples int) error {
	var req wire.WriteRequest
	if err := wire.DecodeWriteRequest(body, &req); err != nil {
		return err
	}
	n := 0
	for _, ts := range req.Series {
		n += len(ts.Samples)
	}
	if n != samples {
		return fmt.Errorf("Write says %d samples, the body has %d", samples, n)
	}
	r.add(&req)
	return nil
}

// upTimes are the timestamps of the up series: one per scrape, in order.
func (r *recorder) upTimes() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ts []int64
	for k, ss := range r.series {
		if strings.HasPrefix(k, `{__name__="up",`) {
			for _, s := range ss {
				ts = append(ts, s.t)
			}
		}
	}
	slices.Sort(ts)
	return slices.Compact(ts)
}

// points are the samples of the first n scrapes, by series, stamped with
// their scrape's index when they have its timestamp; the value of
// scrape_duration_seconds is left out.
func (r *recorder) points(n int) map[string][]point {
	scrapes := r.upTimes()
	at := map[int64]int{}
	for i, t := range scrapes {
		at[t] = i
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string][]point{}
	for k, ss := range r.series {
		for _, s := range ss {
			p := point{at: -1, t: s.t, v: value(s.v)}
			if i, ok := at[s.t]; ok {
				if i >= n {
					continue
				}
				p = point{at: i, v: p.v}
			}
			if strings.HasPrefix(k, `{__name__="scrape_duration_seconds",`) {
				p.v = "duration"
			}
			out[k] = append(out[k], p)
		}
		sort.SliceStable(out[k], func(i, j int) bool { return less(out[k][i], out[k][j]) })
	}
	return out
}

func less(a, b point) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	return a.t < b.t
}

func value(v float64) string {
	if wire.IsStaleNaN(v) {
		return "stale"
	}
	if math.IsNaN(v) {
		return "NaN"
	}
	return fmt.Sprint(v)
}

// runAgent scrapes tg with rwkit's agent (Prometheus' scrape loop and the
// agent's storage) until it has scraped every answer once and the next
// scrape too, and returns what its remote_write received.
func runAgent(t *testing.T, cfg *config.Config, tg *target) *recorder {
	t.Helper()
	rec := &recorder{}
	a, err := agent.New(cfg, agent.Options{NewSink: func(*config.RemoteWriteConfig, string) (agent.Sink, error) { return rec, nil }})
	if err != nil {
		t.Fatal(err)
	}
	go a.Run(context.Background())
	want := len(tg.answers) + 1
	waitfor.True(t, "the agent's scrapes", func() bool { return len(rec.upTimes()) >= want })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	return rec
}

// runStream scrapes tg with a stream.Loop once per answer, and the next
// time too, a second apart from now.
func runStream(t *testing.T, cfg *config.Config, tg *target) (*recorder, []stream.Report) {
	t.Helper()
	rec := &recorder{}
	l := newLoop(t, cfg, rec)
	now := time.Now().Truncate(time.Second)
	var reports []stream.Report
	for i := range len(tg.answers) + 1 {
		tg.pinned.Store(int64(i + 1))
		r, err := l.Scrape(context.Background(), now.Add(time.Duration(i)*time.Second))
		if err != nil && r.Err == nil {
			t.Fatalf("scrape %d: %v", i, err)
		}
		reports = append(reports, r)
	}
	return rec, reports
}

func newLoop(t testing.TB, cfg *config.Config, out stream.Output) *stream.Loop {
	t.Helper()
	sc := cfg.ScrapeConfigs[0]
	targets, err := stream.Targets(sc)
	if err != nil || len(targets) != 1 {
		t.Fatalf("Targets: %v, %d targets", err, len(targets))
	}
	var opts []stream.Option
	opts = append(opts, stream.WithExternalLabels(cfg.GlobalConfig.ExternalLabels))
	if len(cfg.RemoteWriteConfigs) > 0 {
		opts = append(opts, stream.WithWriteRelabel(cfg.RemoteWriteConfigs[0].WriteRelabelConfigs))
	}
	l, err := stream.New(sc, targets[0], out, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// loadConfig is one job j scraping tg, with extra (indented under the
// job) and global (under global:) settings.
func loadConfig(t testing.TB, tg *target, global, job, remote string) *config.Config {
	t.Helper()
	yml := fmt.Sprintf(`
global:
  scrape_interval: 250ms
  scrape_timeout: 250ms
%s
scrape_configs:
  - job_name: j
    static_configs:
      - targets: [%q]
%s
remote_write:
  - url: http://127.0.0.1:1/write
    name: rw
%s
`, global, tg.host(), job, remote)
	cfg, err := agent.Load([]byte(yml), "test.yml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return cfg
}
