package backendtest

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
)

// StartVictoriaMetrics starts a VictoriaMetrics single-node server
// (v1.151.0, scripts/backend's victoriametrics) that lives until the test
// ends. It takes remote write at /api/v1/write and answers PromQL
// (MetricsQL) at /api/v1/query.
//
// Two flags differ from the defaults so that a test reads back exactly
// what it wrote, at once: -search.latencyOffset=0s (by default queries do
// not see the last 30 seconds, to hide samples still in flight) and
// -search.disableCache (the rollup cache would keep an answer computed
// before a later write). VictoriaMetrics buffers new samples in memory for
// up to a second before they are searchable; Server.Flush forces them out.
func StartVictoriaMetrics(t testing.TB) *Server {
	t.Helper()
	return start(t, backend{name: "victoriametrics", ports: 1, run: func(s *Server, bin string, ports []int) error {
		addr := hostPort(ports[0])
		s.WriteURL = "http://" + addr + "/api/v1/write"
		s.QueryURL = "http://" + addr
		s.flush = func(ctx context.Context) error { return forceFlush(ctx, s.QueryURL) }
		p, err := s.launch("victoria-metrics", bin,
			"-httpListenAddr="+addr,
			"-storageDataPath="+filepath.Join(s.Dir, "data"),
			"-search.latencyOffset=0s",
			"-search.disableCache",
			"-loggerLevel=INFO",
		)
		if err != nil {
			return err
		}
		return waitReady(p, s.QueryURL+"/health", nil)
	}})
}

// forceFlush makes every sample VictoriaMetrics has taken searchable
// (/internal/force_flush).
func forceFlush(ctx context.Context, base string) error {
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/internal/force_flush", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("victoriametrics: GET /internal/force_flush: %s", resp.Status)
	}
	return nil
}
