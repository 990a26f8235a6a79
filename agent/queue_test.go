package agent

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/sigv4"

	"github.com/rwkit/rwkit/internal/waitfor"
	"github.com/rwkit/rwkit/push"
	"github.com/rwkit/rwkit/wire"
)

var _ Sink = (*push.Queue)(nil)

// The default sink, a push.Queue, delivers to a remote-write receiver
// with the configured authentication, headers and protocol version.
func TestQueueSinkDelivers(t *testing.T) {
	for _, tc := range []struct {
		message string
		version wire.Version
	}{
		{"prometheus.WriteRequest", wire.V1},
		{"io.prometheus.write.v2.Request", wire.V2},
	} {
		t.Run(tc.version.String(), func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("rw-secret\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			var (
				mu       sync.Mutex
				received = map[string]float64{}
				problems []string
			)
			rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				if u, p, ok := r.BasicAuth(); !ok || u != "writer" || p != "rw-secret" {
					problems = append(problems, "basic auth")
				}
				if got := r.Header.Get("X-Scope-OrgID"); got != "team-a" {
					problems = append(problems, "X-Scope-OrgID "+got)
				}
				if got := r.Header.Get("Content-Type"); got != tc.version.ContentType() {
					problems = append(problems, "Content-Type "+got)
				}
				body, _ := io.ReadAll(r.Body)
				raw, err := wire.Decompress(nil, body, 64<<20)
				if err != nil {
					problems = append(problems, err.Error())
					return
				}
				var req wire.WriteRequest
				if tc.version == wire.V2 {
					err = wire.DecodeRequestV2(raw, &req)
				} else {
					err = wire.DecodeWriteRequest(raw, &req)
				}
				if err != nil {
					problems = append(problems, err.Error())
					return
				}
				n := 0
				for _, ts := range req.Series {
					for _, s := range ts.Samples {
						received[key(ts.Labels)] = s.Value
						n++
					}
				}
				if tc.version == wire.V2 {
					// A RW 2.0 receiver says what it wrote (else the
					// client takes it for a 1.0 one).
					w.Header().Set("X-Prometheus-Remote-Write-Samples-Written", fmt.Sprint(n))
					w.Header().Set("X-Prometheus-Remote-Write-Histograms-Written", "0")
					w.Header().Set("X-Prometheus-Remote-Write-Exemplars-Written", "0")
					w.WriteHeader(http.StatusNoContent)
				}
			}))
			defer rcv.Close()

			tg := newTarget(t, "app_up 1\n")
			cfg := mustLoad(t, fmt.Sprintf(`
global:
  scrape_interval: 200ms
  external_labels: {cluster: c1}
scrape_configs:
  - job_name: j
    static_configs:
      - targets: [%q]
remote_write:
  - url: %s/api/v1/push
    name: cortex
    protobuf_message: %s
    headers: {X-Scope-OrgID: team-a}
    basic_auth: {username: writer, password_file: %s}
    remote_timeout: 2s
    queue_config: {min_backoff: 10ms, max_backoff: 100ms, max_samples_per_send: 3}
`, tg.host(), rcv.URL, tc.message, filepath.Join(dir, "pw")))
			reg := prometheus.NewRegistry()
			a, err := New(cfg, Options{Registerer: reg})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- a.Run(ctx) }()
			k := fmt.Sprintf("{__name__=\"app_up\", cluster=\"c1\", instance=%q, job=\"j\"}", tg.host())
			waitfor.True(t, "app_up at the receiver", func() bool {
				mu.Lock()
				defer mu.Unlock()
				_, ok := received[k]
				return ok
			})
			// Read while the agent runs: Shutdown unregisters its metrics.
			waitfor.True(t, "rwkit_push_requests_total{remote_write=\"cortex\",result=\"success\"} >= 1", func() bool {
				return counterValue(t, reg, "rwkit_push_requests_total", map[string]string{"remote_write": "cortex", "result": "success"}) >= 1
			})
			sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer scancel()
			if err := a.Shutdown(sctx); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(problems) > 0 {
				t.Errorf("receiver saw: %s", strings.Join(problems[:min(len(problems), 5)], "; "))
			}
		})
	}
}

func TestQueueSinkRefusesSigV4Credentials(t *testing.T) {
	cfg := mustLoad(t, minimal)
	rw := cfg.RemoteWriteConfigs[0]
	rw.SigV4Config = &sigv4.SigV4Config{Region: "us-west-2", AccessKey: "AKIA", SecretKey: "s3cr3t"}
	_, err := QueueSink(rw, "x", Options{})
	if err == nil || !strings.Contains(err.Error(), "sigv4.access_key/secret_key: not supported") || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("error %v", err)
	}
}

// The remote_write section AWS documents for AMP (queue_config with
// max_samples_per_send, max_shards and capacity) runs unchanged; the keys
// that size Prometheus' sharded queue are logged as having no effect,
// once, and sample_age_limit bounds the outage buffer's age.
func TestQueueSinkTakesDocumentedQueueConfig(t *testing.T) {
	cfg := mustLoad(t, `
scrape_configs:
  - job_name: j
    static_configs: [{targets: ['127.0.0.1:1']}]
remote_write:
  - url: http://127.0.0.1:1/api/v1/write
    queue_config:
      max_samples_per_send: 1000
      max_shards: 200
      capacity: 2500
      batch_send_deadline: 5s
      retry_on_http_429: true
      sample_age_limit: 5m
    metadata_config: {send_interval: 1m}
`)
	var logs strings.Builder
	o := Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	if _, err := QueueSink(cfg.RemoteWriteConfigs[0], "rw", o); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(logs.String(), "have no effect"); got != 1 || !strings.Contains(logs.String(), "max_shards=200") {
		t.Errorf("logged:\n%s\nwant one line saying capacity, min_shards and max_shards have no effect", logs.String())
	}
}
