package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rwkit/rwkit/internal/promtest"
)

// TestAgentPushesTargetsToPrometheus runs the agent in flag mode against
// two processes serving /metrics (client_golang registries behind
// promhttp, as a Java service's /q/metrics would be) and a real Prometheus:
// both arrive with their own service label and the shared instance, with
// up and the scrape_* series, the first scrape included (a counter that
// counts scrapes is stored from 0), and stopping the agent flushes.
func TestAgentPushesTargetsToPrometheus(t *testing.T) {
	prom := promtest.Start(t)
	target := func(threads float64) *httptest.Server {
		reg := prometheus.NewRegistry()
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "jvm_threads_live_threads", Help: "Live threads."})
		g.Set(threads)
		scrapes := prometheus.NewCounter(prometheus.CounterOpts{Name: "app_scrapes_total", Help: "Scrapes served before this one."})
		reg.MustRegister(g, scrapes, collectors.NewGoCollector())
		h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(w, r)
			scrapes.Inc()
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	auth, bff := target(21), target(14)

	ready := make(chan string, 1)
	agent := start(t, nil, func(s stdio) command { return &agentCommand{stdio: s, ready: ready} },
		"--url", prom.WriteURL, "--instance", "host-1", "--interval", "200ms",
		"--scrape", "auth="+auth.URL, "--scrape", "bff="+bff.URL, "--listen", "127.0.0.1:0")
	addr := agent.await(t, "agent", ready, 30*time.Second)
	out, errOut := agent.out, agent.errOut

	query := func(q string, want int) []promtest.Result {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			got, err := prom.Query(context.Background(), q, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == want {
				return got
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %v after 30s, want %d series\nstdout:\n%s\nstderr:\n%s", q, got, want, out, errOut)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	byService := func(got []promtest.Result) map[string]float64 {
		m := map[string]float64{}
		for _, r := range got {
			if _, hasJob := r.Metric["job"]; hasJob {
				t.Errorf("flag mode added a job label: %v", r.Metric)
			}
			m[r.Metric["service"]] = r.Value
		}
		return m
	}
	if got := byService(query(`jvm_threads_live_threads{instance="host-1"}`, 2)); got["auth"] != 21 || got["bff"] != 14 {
		t.Fatalf("stored %v, want auth=21 bff=14", got)
	}
	if got := byService(query(`up{instance="host-1"}`, 2)); got["auth"] != 1 || got["bff"] != 1 {
		t.Errorf("up = %v, want 1 for both targets", got)
	}
	query(`scrape_duration_seconds{instance="host-1"}`, 2)
	query(`scrape_samples_scraped{instance="host-1"} > 0`, 2)
	// The first scrape is sent: the counter is stored from its first value.
	if got := byService(query(`min_over_time(app_scrapes_total{instance="host-1"}[5m])`, 2)); got["auth"] != 0 || got["bff"] != 0 {
		t.Errorf("lowest stored app_scrapes_total = %v, want 0 (the first scrape)", got)
	}

	// The agent's own metrics: the queue's, per remote write.
	_, body := get(t, "http://"+addr+"/metrics")
	if !strings.Contains(body, `rwkit_push_requests_total{remote_write="`) {
		t.Errorf("self-metrics lack the queue's request counter:\n%s", body)
	}
	// Without GOGC in its environment the agent collects at 50, and says
	// so as Go's collector does.
	if !strings.Contains(body, "\ngo_gc_gogc_percent 50\n") || !strings.Contains(body, "\nprocess_resident_memory_bytes ") {
		t.Errorf("self-metrics lack go_gc_gogc_percent 50 or process_resident_memory_bytes:\n%s", body)
	}

	if err := agent.stop(t, 30*time.Second); err != nil {
		t.Fatalf("agent: %v\n%s", err, errOut)
	}
	if !strings.Contains(out.String(), "stopped after delivering everything queued") || !strings.Contains(out.String(), `service="auth"`) {
		t.Errorf("stdout:\n%s", out)
	}
	// Stale markers on shutdown (the default): the series end at once.
	query(`jvm_threads_live_threads{instance="host-1"}`, 0)
}

func TestAgentUsage(t *testing.T) {
	_, stderr, code := runCLI(t, nil, nil, "agent", "--url", "http://127.0.0.1:1/api/v1/write")
	if code != exitUsage || !strings.Contains(stderr, "at least one --scrape") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}

// --prometheus-scrape-loop (or its variable) puts every job on
// Prometheus' scrape loop, and the start-up line says so; without it the
// job runs on the streaming loop.
func TestAgentPrometheusScrapeLoopFlag(t *testing.T) {
	target := serveHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "a 1") }))
	receiver := serveHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"default", nil, nil, `stream=svc prometheus=""`},
		{"flag", nil, []string{"--prometheus-scrape-loop"}, `stream="" prometheus="svc (PrometheusScrapeLoop)"`},
		{"variable", map[string]string{"RWKIT_PROMETHEUS_SCRAPE_LOOP": "true"}, nil, `stream="" prometheus="svc (PrometheusScrapeLoop)"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--url", receiver + "/write", "--instance", "i-1", "--scrape", "svc=" + target, "--interval", "1s", "--scrape-timeout", "1s"}, tc.args...)
			a := start(t, tc.env, func(s stdio) command { return &agentCommand{stdio: s} }, args...)
			deadline := time.Now().Add(20 * time.Second)
			for !strings.Contains(a.errOut.String(), "agent scrape loops") && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			a.stop(t, 30*time.Second)
			if !strings.Contains(a.errOut.String(), tc.want) {
				t.Errorf("start-up log lacks %s:\n%s", tc.want, a.errOut)
			}
		})
	}
}
