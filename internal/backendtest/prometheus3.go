package backendtest

import (
	"os"
	"path/filepath"
	"testing"
)

// StartPrometheus3 starts a Prometheus 3 server (v3.16, module
// github.com/prometheus/prometheus v0.316.0, scripts/backend's prometheus3)
// that lives until the test ends, with its remote-write receiver on at
// /api/v1/write taking RW 1.0 and RW 2.0 (Prometheus 3's default
// --web.remote-write-receiver.accepted-protobuf-messages). extraArgs are
// added to its flags, e.g.
// "--web.remote-write-receiver.accepted-protobuf-messages=prometheus.WriteRequest"
// for a receiver that answers RW 2.0 with 415.
//
// It scrapes nothing: its configuration file is empty but for the global
// block.
func StartPrometheus3(t testing.TB, extraArgs ...string) *Server {
	t.Helper()
	return start(t, backend{name: "prometheus3", ports: 1, run: func(s *Server, bin string, ports []int) error {
		addr := hostPort(ports[0])
		s.WriteURL = "http://" + addr + "/api/v1/write"
		s.QueryURL = "http://" + addr
		config := filepath.Join(s.Dir, "prometheus.yml")
		if err := os.WriteFile(config, []byte("global:\n  scrape_interval: 15s\n"), 0o644); err != nil {
			return err
		}
		args := append([]string{
			"--config.file=" + config,
			"--storage.tsdb.path=" + filepath.Join(s.Dir, "data"),
			"--web.listen-address=" + addr,
			"--web.enable-remote-write-receiver",
		}, extraArgs...)
		p, err := s.launch("prometheus", bin, args...)
		if err != nil {
			return err
		}
		return waitReady(p, s.QueryURL+"/-/ready", nil)
	}})
}
