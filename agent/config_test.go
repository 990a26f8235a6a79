package agent

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/prometheus/config"
)

const minimal = `
scrape_configs:
  - job_name: app
    static_configs:
      - targets: [localhost:8080]
remote_write:
  - url: http://localhost:9090/api/v1/write
`

func TestLoadRefusesWhatItDoesNotRun(t *testing.T) {
	for _, tc := range []struct {
		name, yml string
		want      []string // each in the error
	}{
		{"kubernetes discovery", `
global:
  scrape_interval: 15s
scrape_configs:
  - job_name: app
    static_configs:
      - targets: [localhost:8080]
  - job_name: pods
    kubernetes_sd_configs:
      - role: pod
remote_write:
  - url: http://localhost:9090/api/v1/write
`, []string{"test.yml:9: scrape_configs[1].kubernetes_sd_configs: not supported by rwkit agent (supported: static_configs)"}},
		{"rule_files", "rule_files: [rules.yml]\n" + minimal,
			[]string{"test.yml:1: rule_files: not supported by rwkit agent (supported: global, remote_write, scrape_configs)"}},
		{"alerting", minimal + "alerting:\n  alertmanagers: []\n",
			[]string{"test.yml:8: alerting: not supported"}},
		{"remote_read", minimal + "remote_read:\n  - url: http://x/read\n", []string{"test.yml:8: remote_read: not supported"}},
		{"sigv4 keys", `
scrape_configs:
  - job_name: app
    static_configs:
      - targets: [localhost:8080]
remote_write:
  - url: https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-1/api/v1/remote_write
    sigv4:
      region: us-west-2
      access_key: AKIA
      secret_key: s3cr3t
      role_arn: arn:aws:iam::1:role/x
`, []string{
			"test.yml:10: remote_write[0].sigv4.access_key: not supported by rwkit agent: credentials come from the AWS default chain (supported: region)",
			"test.yml:11: remote_write[0].sigv4.secret_key: not supported",
			"test.yml:12: remote_write[0].sigv4.role_arn: not supported",
		}},
		{"queue_config typo", minimal + "    queue_config:\n      max_sample_per_send: 10\n",
			[]string{"test.yml:9: remote_write[0].queue_config.max_sample_per_send: not supported by rwkit agent (supported: batch_send_deadline, capacity, max_backoff, max_samples_per_send, max_shards, min_backoff, min_shards, retry_on_http_429, sample_age_limit)"}},
		{"global query_log_file", "global:\n  query_log_file: q.log\n" + minimal, []string{"test.yml:2: global.query_log_file: not supported"}},
		{"scrape_config_files", "scrape_config_files: [more/*.yml]\n" + minimal, []string{"test.yml:1: scrape_config_files"}},
		{"secret manager ref", `
scrape_configs:
  - job_name: app
    basic_auth:
      username: u
      password_ref: vault-key
    static_configs:
      - targets: [localhost:8080]
remote_write:
  - url: http://localhost:9090/api/v1/write
`, []string{"test.yml:6: scrape_configs[0].basic_auth.password_ref: not supported by rwkit agent: rwkit has no secret manager; use the _file key"}},
		{"oauth2 on remote write", minimal + "    oauth2:\n      client_id: x\n      token_url: http://t\n",
			[]string{"test.yml:8: remote_write[0].oauth2: not supported"}},
		{"a typo", `
scrape_configs:
  - job_name: app
    scrape_intervall: 10s
    static_configs:
      - targets: [localhost:8080]
remote_write:
  - url: http://localhost:9090/api/v1/write
`, []string{"test.yml:4: scrape_configs[0].scrape_intervall: not supported by rwkit agent (supported: "}},
		{"through a merge key", `
defaults: &d
  send_exemplars: true
scrape_configs:
  - job_name: app
    static_configs:
      - targets: [localhost:8080]
remote_write:
  - <<: {round_robin_dns: true}
    url: http://localhost:9090/api/v1/write
`, []string{"test.yml:2: defaults: not supported", "test.yml:9: remote_write[0].round_robin_dns: not supported"}},
		{"no remote_write", "scrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: [localhost:8080]\n",
			[]string{"test.yml: remote_write: at least one is required"}},
		{"no targets", "scrape_configs:\n  - job_name: app\nremote_write:\n  - url: http://x/write\n",
			[]string{`test.yml:2: scrape_configs[0] (job "app"): no targets`}},
		{"empty", "", []string{"remote_write: at least one is required", "scrape_configs: at least one job"}},
		{"Prometheus' own checks", strings.Replace(minimal, "job_name: app", "job_name: app\n    scrape_interval: 5s\n    scrape_timeout: 10s", 1),
			[]string{"test.yml: scrape timeout greater than scrape interval"}},
		{"not YAML", "scrape_configs: [", []string{"test.yml: yaml:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load([]byte(tc.yml), "test.yml")
			if err == nil {
				t.Fatal("loaded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
		})
	}
}

// A configuration using every supported key loads, with Prometheus'
// defaults where it says nothing.
func TestLoadSupported(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	yml := `
global:
  scrape_interval: 30s
  scrape_timeout: 20s
  evaluation_interval: 1m
  external_labels: {cluster: c1}
scrape_configs:
  - job_name: app
    metrics_path: /q/metrics
    scheme: https
    params: {format: [prometheus]}
    honor_labels: true
    honor_timestamps: false
    scrape_interval: 10s
    scrape_timeout: 5s
    basic_auth: {username: u, password_file: pw}
    tls_config: {insecure_skip_verify: true, server_name: app.local}
    relabel_configs:
      - source_labels: [__address__]
        target_label: host
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: go_.*
        action: drop
    static_configs:
      - targets: [localhost:8080, localhost:8081]
        labels: {service: app}
  - job_name: legacy
    bearer_token_file: token
    scrape_native_histograms: true
    static_configs:
      - targets: [localhost:9100]
remote_write:
  - url: https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-1/api/v1/remote_write
    name: amp
    sigv4: {region: us-west-2}
    protobuf_message: io.prometheus.write.v2.Request
    send_exemplars: true
    send_native_histograms: true
    remote_timeout: 10s
    queue_config: {max_samples_per_send: 500, min_backoff: 100ms, max_backoff: 10s}
    metadata_config: {send: false}
    write_relabel_configs:
      - regex: host
        action: labeldrop
  - url: http://cortex:9009/api/v1/push
    headers: {X-Scope-OrgID: team-a}
    authorization: {credentials_file: pw}
`
	path := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	app, legacy := cfg.ScrapeConfigs[0], cfg.ScrapeConfigs[1]
	got := map[string]any{
		"app interval":            time.Duration(app.ScrapeInterval),
		"legacy interval":         time.Duration(legacy.ScrapeInterval), // the global's
		"legacy timeout":          time.Duration(legacy.ScrapeTimeout),
		"legacy honor_timestamps": legacy.HonorTimestamps, // Prometheus' default
		"legacy metrics_path":     legacy.MetricsPath,
		"legacy bearer":           legacy.HTTPClientConfig.Authorization.CredentialsFile,
		"app password_file":       app.HTTPClientConfig.BasicAuth.PasswordFile,
		"amp timeout":             time.Duration(cfg.RemoteWriteConfigs[0].RemoteTimeout),
		"cortex timeout":          time.Duration(cfg.RemoteWriteConfigs[1].RemoteTimeout),
		"cortex max_samples":      cfg.RemoteWriteConfigs[1].QueueConfig.MaxSamplesPerSend,
		"cortex metadata":         cfg.RemoteWriteConfigs[1].MetadataConfig.Send,
		"amp metadata":            cfg.RemoteWriteConfigs[0].MetadataConfig.Send,
		"amp rw":                  rwVersion(cfg.RemoteWriteConfigs[0]).String(),
		"cortex rw":               rwVersion(cfg.RemoteWriteConfigs[1]).String(),
		"external":                cfg.GlobalConfig.ExternalLabels.Get("cluster"),
	}
	want := map[string]any{
		"app interval":            10 * time.Second,
		"legacy interval":         30 * time.Second,
		"legacy timeout":          20 * time.Second,
		"legacy honor_timestamps": true,
		"legacy metrics_path":     "/metrics",
		"legacy bearer":           filepath.Join(dir, "token"),
		"app password_file":       filepath.Join(dir, "pw"),
		"amp timeout":             10 * time.Second,
		"cortex timeout":          30 * time.Second,
		"cortex max_samples":      2000,
		"cortex metadata":         true,
		"amp metadata":            false,
		"amp rw":                  "2.0",
		"cortex rw":               "1.0",
		"external":                "c1",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	// The same defaults as Prometheus' loader gives the same text.
	ref, err := config.LoadFile(path, true, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	// but for the one default rwkit adds: text 0.0.4 for a target that
	// answers without a Content-Type, as Prometheus 2.x parsed it.
	for _, sc := range ref.ScrapeConfigs {
		if sc.ScrapeFallbackProtocol != "" {
			t.Fatalf("the test file sets fallback_scrape_protocol; the comparison needs it unset")
		}
		sc.ScrapeFallbackProtocol = config.PrometheusText0_0_4
	}
	if cfg.String() != ref.String() {
		t.Errorf("differs from config.LoadFile:\n%s", cmp.Diff(ref.String(), cfg.String()))
	}
	if !ref.ScrapeConfigs[1].ScrapeNativeHistogramsEnabled() || ref.ScrapeConfigs[0].ScrapeNativeHistogramsEnabled() {
		t.Errorf("scrape_native_histograms not as configured")
	}
}

func FuzzLoad(f *testing.F) {
	f.Add([]byte(minimal))
	f.Add([]byte("global: {external_labels: {a: b}}\n" + minimal))
	f.Add([]byte("scrape_configs:\n  - job_name: x\n    kubernetes_sd_configs: [{role: pod}]\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("remote_write:\n  - <<: *m\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Load(data, "fuzz.yml")
		if err != nil {
			return
		}
		// What loads has something to scrape and somewhere to send it.
		if len(cfg.RemoteWriteConfigs) == 0 || len(cfg.ScrapeConfigs) == 0 {
			t.Fatalf("loaded without remote_write or scrape_configs")
		}
	})
}
