package agent_test

import (
	"fmt"
	"time"

	"github.com/rwkit/rwkit/agent"
)

func ExampleLoad() {
	_, err := agent.Load([]byte(`
global:
  scrape_interval: 15s
scrape_configs:
  - job_name: pods
    kubernetes_sd_configs:
      - role: pod
remote_write:
  - url: http://cortex:9009/api/v1/push
`), "prometheus.yml")
	fmt.Println(err)
	// Output: prometheus.yml:6: scrape_configs[0].kubernetes_sd_configs: not supported by rwkit agent (supported: static_configs)
}

func ExampleStaticConfig() {
	cfg, err := agent.StaticConfig([]agent.Target{{
		URL:    "http://app:secret@127.0.0.1:8080/q/metrics",
		Labels: map[string]string{"service": "auth", "instance": "task-1"},
	}}, agent.Global{
		ScrapeInterval:  15 * time.Second,
		HonorTimestamps: true,
		RemoteWriteURL:  "http://127.0.0.1:9095/api/v1/push",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	job := cfg.ScrapeConfigs[0]
	fmt.Println(job.Scheme, job.MetricsPath, job.HTTPClientConfig.BasicAuth.Username, job.JobName)
	// Output: http /q/metrics app auth
}
