package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rwkit/rwkit/internal/promtest"
)

// lockedBuffer is a bytes.Buffer safe for the agent's logger and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestAgentPushesTargetsToPrometheus runs the agent against two processes
// serving /metrics (client_golang registries behind promhttp, as a Java
// service's /q/metrics would be) and a real Prometheus: both arrive with
// their own service label and the shared instance, and stopping the agent
// makes a final push.
func TestAgentPushesTargetsToPrometheus(t *testing.T) {
	prom := promtest.Start(t)
	target := func(threads float64) *httptest.Server {
		reg := prometheus.NewRegistry()
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "jvm_threads_live_threads", Help: "Live threads."})
		g.Set(threads)
		reg.MustRegister(g, collectors.NewGoCollector())
		srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		t.Cleanup(srv.Close)
		return srv
	}
	auth, bff := target(21), target(14)

	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := &lockedBuffer{}, &lockedBuffer{}
	ready := make(chan string, 1)
	cmd := &agentCommand{stdio: stdio{in: strings.NewReader(""), out: out, err: errOut, getenv: func(string) string { return "" }}, ready: ready}
	done := make(chan error, 1)
	go func() {
		done <- cmd.Run(ctx, []string{"--url", prom.WriteURL, "--instance", "host-1", "--interval", "200ms",
			"--scrape", "auth=" + auth.URL, "--scrape", "bff=" + bff.URL, "--listen", "127.0.0.1:0"})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("agent exited early: %v\n%s\n%s", err, out, errOut)
	case <-time.After(30 * time.Second):
		t.Fatalf("agent not ready\n%s\n%s", out, errOut)
	}

	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := prom.Query(context.Background(), `jvm_threads_live_threads{instance="host-1"}`, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 2 {
			byService := map[string]float64{}
			for _, r := range got {
				byService[r.Metric["service"]] = r.Value
			}
			if byService["auth"] != 21 || byService["bff"] != 14 {
				t.Fatalf("stored %v, want auth=21 bff=14", got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("series not stored after 30s: %v\nstdout:\n%s\nstderr:\n%s", got, out, errOut)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The agent's own metrics carry the fixed self-metric names, per target.
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `rwkit_push_requests_total{result="success",target="`+auth.URL+`"}`) {
		t.Errorf("self-metrics lack the success counter for the auth target:\n%s", body)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("agent: %v\n%s", err, errOut)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("agent did not stop within 30s of cancellation")
	}
	if !strings.Contains(out.String(), "stopped after a final push") || !strings.Contains(out.String(), `service="auth"`) {
		t.Errorf("stdout:\n%s", out)
	}
}

func TestAgentUsage(t *testing.T) {
	_, stderr, code := runCLI(t, nil, nil, "agent", "--url", "http://127.0.0.1:1/api/v1/write")
	if code != exitUsage || !strings.Contains(stderr, "at least one --scrape") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}
