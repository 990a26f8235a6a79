package agent

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rwkit/rwkit/internal/waitfor"
)

func TestStreamLoopRunsEligibleJob(t *testing.T) {
	tg := newTarget(t, "n 1\nn 2\nm{a=\"1\",b=\"2\"} 10\nm{b=\"2\",a=\"1\"} 20\nlast 1\n")
	if os.Getenv(prometheusLoopEnv) == "1" {
		t.Skip("every job on Prometheus' loop (" + prometheusLoopEnv + ")")
	}
	r := startAgent(t, mustLoad(t, oneJob(tg, "")), Options{StaleMarkersOnShutdown: true})
	if !slices.Equal(r.a.stream.jobs, []string{"j"}) || len(r.a.stream.others) != 0 {
		t.Fatalf("stream loop jobs %v, Prometheus' %v; want j on the stream loop", r.a.stream.jobs, r.a.stream.others)
	}
	s := r.sink(t)
	kl := jobKey("last", tg.host())
	waitfor.True(t, "two scrapes", func() bool { return len(s.series()[kl]) >= 2 })
	if p, _ := last(s, jobKey("up", tg.host())); p.v != 1 {
		t.Errorf("up = %v, want 1", p.v)
	}
	if !hasValue(s, jobKey("n", tg.host()), 1) || hasValue(s, jobKey("n", tg.host()), 2) {
		t.Errorf("n = %v, want 1 only (the first of a series twice)", s.series()[jobKey("n", tg.host())])
	}
	// The same counters as with Prometheus' loop (TestDuplicateSeriesKeepTheFirst).
	if got := counterValue(t, r.reg, "rwkit_agent_duplicate_samples_total", map[string]string{"job": "j"}); got < 1 {
		t.Errorf("rwkit_agent_duplicate_samples_total{job=\"j\"} = %v, want >= 1", got)
	}
	if got := counterValue(t, r.reg, "prometheus_target_scrapes_sample_duplicate_timestamp_total", nil); got < 2 {
		t.Errorf("prometheus_target_scrapes_sample_duplicate_timestamp_total = %v, want >= 2", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.a.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{kl, jobKey("up", tg.host())} {
		if p, _ := last(s, k); !p.stale() {
			t.Errorf("%s: last point %v, want the shutdown stale marker", k, p.v)
		}
	}
}

func TestIneligibleJobStaysOnPrometheusLoop(t *testing.T) {
	tg := newTarget(t, "a 1\n")
	for _, tc := range []struct{ name, yml, why string }{
		{"metadata", withMetadata(oneJob(tg, "")), "j (remote_write rw takes metadata (metadata_config.send))"},
		{"send_exemplars", strings.Replace(oneJob(tg, ""), "    name: rw\n", "    name: rw\n    send_exemplars: true\n", 1), "j (remote_write send_exemplars)"},
		{"target_limit", oneJob(tg, "    target_limit: 5"), "j (target_limit)"},
		{"native histograms", oneJob(tg, "    scrape_native_histograms: true"), "j (scrape_native_histograms)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if os.Getenv(prometheusLoopEnv) == "1" {
				t.Skip("every job on Prometheus' loop (" + prometheusLoopEnv + ")")
			}
			r := startAgent(t, mustLoad(t, tc.yml), Options{})
			if len(r.a.stream.jobs) != 0 || !slices.Equal(r.a.stream.others, []string{tc.why}) {
				t.Fatalf("stream loop jobs %v, Prometheus' %v; want %q on Prometheus'", r.a.stream.jobs, r.a.stream.others, tc.why)
			}
			s := r.sink(t)
			waitfor.True(t, "a scrape", func() bool { return hasValue(s, jobKey("a", tg.host()), 1) })
		})
	}
}

func TestPrometheusScrapeLoopOption(t *testing.T) {
	tg := newTarget(t, "a 1\n")
	r := startAgent(t, mustLoad(t, oneJob(tg, "")), Options{PrometheusScrapeLoop: true})
	if len(r.a.stream.jobs) != 0 {
		t.Fatalf("stream loop jobs %v with PrometheusScrapeLoop", r.a.stream.jobs)
	}
	s := r.sink(t)
	waitfor.True(t, "a scrape", func() bool { return hasValue(s, jobKey("a", tg.host()), 1) })
}

// The limits a stream loop's scrape breaks count in the scrape manager's
// counters, as Prometheus' loop counts them.
func TestStreamLoopCountsLimits(t *testing.T) {
	if os.Getenv(prometheusLoopEnv) == "1" {
		t.Skip("every job on Prometheus' loop (" + prometheusLoopEnv + ")")
	}
	for _, tc := range []struct{ limit, counter string }{
		{"    sample_limit: 1", "prometheus_target_scrapes_exceeded_sample_limit_total"},
		{"    body_size_limit: 5B", "prometheus_target_scrapes_exceeded_body_size_limit_total"},
	} {
		t.Run(tc.counter, func(t *testing.T) {
			tg := newTarget(t, "a 1\nb 2\n")
			r := startAgent(t, mustLoad(t, oneJob(tg, tc.limit)), Options{})
			if !slices.Equal(r.a.stream.jobs, []string{"j"}) {
				t.Fatalf("stream loop jobs %v, want j", r.a.stream.jobs)
			}
			s := r.sink(t)
			waitfor.True(t, "up 0", func() bool { p, ok := last(s, jobKey("up", tg.host())); return ok && p.v == 0 })
			// Counted once the scrape has been handed over.
			waitfor.True(t, tc.counter, func() bool { return counterValue(t, r.reg, tc.counter, nil) >= 1 })
		})
	}
}
