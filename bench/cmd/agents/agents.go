package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// An agent is one contender: how to start it so that it scrapes the rig's
// target every interval and remote-writes (RW 1.0, Snappy) to the rig's
// receiver, each with its defaults otherwise. All three read the same
// scrape configuration (one job, one static target, interval and timeout
// equal, no relabelling); vmagent takes the remote-write URL as a flag.
type agent struct {
	name string
	bin  string
	// args returns the command line after the binary for a run whose
	// files live in dir.
	args func(dir string, s setup) ([]string, error)
}

// setup is what every agent of a run is given.
type setup struct {
	interval  time.Duration
	targetURL string // http://127.0.0.1:PORT/metrics/TOKEN
	writeURL  string // http://127.0.0.1:PORT/write/TOKEN
}

// scrapeConfig is the Prometheus configuration every agent scrapes by; with
// remoteWrite the remote_write section too (vmagent takes it as a flag).
func scrapeConfig(s setup, remoteWrite bool) (string, error) {
	host, path, ok := strings.Cut(strings.TrimPrefix(s.targetURL, "http://"), "/")
	if !ok {
		return "", fmt.Errorf("target URL %q: want http://HOST:PORT/PATH", s.targetURL)
	}
	cfg := fmt.Sprintf(`global:
  scrape_interval: %[1]s
  scrape_timeout: %[1]s
scrape_configs:
  - job_name: bench
    metrics_path: /%[2]s
    static_configs:
      - targets: [%[3]q]
`, s.interval, path, host)
	if remoteWrite {
		cfg += fmt.Sprintf("remote_write:\n  - url: %q\n", s.writeURL)
	}
	return cfg, nil
}

func writeConfig(dir string, s setup, remoteWrite bool) (string, error) {
	cfg, err := scrapeConfig(s, remoteWrite)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "scrape.yml")
	return path, os.WriteFile(path, []byte(cfg), 0o644)
}

// vmagent: -remoteWrite.forcePromProto sends RW 1.0 protobuf with Snappy
// (instead of VictoriaMetrics' zstd protocol); -promscrape.maxScrapeSize
// lifts its 16 MiB default limit, which the 1M-series target (85 MB)
// exceeds (Prometheus and rwkit have no such limit by default).
func vmagentAgent(bin string) agent {
	return agent{name: "vmagent", bin: bin, args: func(dir string, s setup) ([]string, error) {
		cfg, err := writeConfig(dir, s, false)
		if err != nil {
			return nil, err
		}
		listen, err := freePort()
		if err != nil {
			return nil, err
		}
		return []string{
			"-promscrape.config=" + cfg,
			"-remoteWrite.url=" + s.writeURL,
			"-remoteWrite.forcePromProto",
			"-remoteWrite.tmpDataPath=" + filepath.Join(dir, "vmagent-data"),
			"-promscrape.maxScrapeSize=1073741824",
			"-httpListenAddr=" + listen,
		}, nil
	}}
}

// prometheusAgent: Prometheus in agent mode (a WAL, no TSDB, no rules).
func prometheusAgent(bin string) agent {
	return agent{name: "prometheus-agent", bin: bin, args: func(dir string, s setup) ([]string, error) {
		cfg, err := writeConfig(dir, s, true)
		if err != nil {
			return nil, err
		}
		listen, err := freePort()
		if err != nil {
			return nil, err
		}
		return []string{
			"--enable-feature=agent",
			"--config.file=" + cfg,
			"--storage.agent.path=" + filepath.Join(dir, "agent-wal"),
			"--web.listen-address=" + listen,
		}, nil
	}}
}

// rwkitAgent: `rwkit agent --config.file`, the same file as Prometheus.
func rwkitAgent(bin string) agent {
	return agent{name: "rwkit-agent", bin: bin, args: func(dir string, s setup) ([]string, error) {
		cfg, err := writeConfig(dir, s, true)
		if err != nil {
			return nil, err
		}
		return []string{"agent", "--config.file", cfg}, nil
	}}
}
