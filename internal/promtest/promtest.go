// Package promtest starts a real Prometheus server for tests: the binary
// from Debian's prometheus package (installed by scripts/test), listening on
// a free loopback port with the remote-write receiver enabled and a
// temporary data directory.
//
// Where no binary is found the calling test is skipped, unless
// RWKIT_REQUIRE_PROMETHEUS=1 (set by scripts/test and so by CI), in which
// case it fails: a suite that silently skips its real-server tests proves
// nothing.
package promtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Server is a running Prometheus.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:40123.
	URL string
	// WriteURL is the remote-write receiver endpoint.
	WriteURL string

	cmd *exec.Cmd
	log *bytes.Buffer
}

// Binary returns the path of the Prometheus binary: $RWKIT_PROMETHEUS_BIN,
// else "prometheus" on $PATH.
func Binary() (string, error) {
	if p := os.Getenv("RWKIT_PROMETHEUS_BIN"); p != "" {
		return p, nil
	}
	return exec.LookPath("prometheus")
}

// Start starts a Prometheus server that lives until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		if os.Getenv("RWKIT_REQUIRE_PROMETHEUS") == "1" {
			t.Fatalf("RWKIT_REQUIRE_PROMETHEUS=1 but no Prometheus binary: %v (scripts/test installs Debian's prometheus package)", err)
		}
		t.Skipf("no Prometheus binary (%v); run ./scripts/test to install one", err)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("global:\n  scrape_interval: 1h\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var lastErr error
	// The free port is found by listening and closing; another process may
	// take it in between, so try a few times.
	for attempt := 0; attempt < 3; attempt++ {
		addr, err := freeAddr()
		if err != nil {
			t.Fatal(err)
		}
		s := &Server{URL: "http://" + addr, WriteURL: "http://" + addr + "/api/v1/write", log: new(bytes.Buffer)}
		s.cmd = exec.Command(bin,
			"--config.file="+cfg,
			"--storage.tsdb.path="+filepath.Join(dir, fmt.Sprintf("data%d", attempt)),
			"--web.listen-address="+addr,
			"--web.enable-remote-write-receiver",
			"--enable-feature=native-histograms",
			"--log.level=warn",
		)
		s.cmd.Stdout = s.log
		s.cmd.Stderr = s.log
		if err := s.cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", bin, err)
		}
		if lastErr = s.waitReady(30 * time.Second); lastErr == nil {
			t.Cleanup(s.stop)
			return s
		}
		s.stop()
	}
	t.Fatalf("prometheus did not become ready: %v", lastErr)
	return nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func (s *Server) waitReady(timeout time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			return fmt.Errorf("prometheus exited: %v\n%s", err, s.log.String())
		default:
		}
		resp, err := http.Get(s.URL + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				// Hand Wait's result back so stop can reap the process.
				go func() { <-done }()
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("not ready after %s\n%s", timeout, s.log.String())
}

func (s *Server) stop() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
	}
}

// Result is one element of an instant-query vector.
type Result struct {
	Metric    map[string]string
	Value     float64
	Timestamp time.Time
}

// Query runs an instant PromQL query at time at (zero: now) and returns the
// vector it yields.
func (s *Server) Query(ctx context.Context, query string, at time.Time) ([]Result, error) {
	v := url.Values{"query": {query}}
	if !at.IsZero() {
		v.Set("time", strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/api/v1/query", bytes.NewBufferString(v.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("query %q: decode response (status %s): %w", query, resp.Status, err)
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("query %q: %s", query, body.Error)
	}
	if body.Data.ResultType != "vector" {
		return nil, fmt.Errorf("query %q: result type %q, want vector", query, body.Data.ResultType)
	}
	out := make([]Result, 0, len(body.Data.Result))
	for _, r := range body.Data.Result {
		ts, _ := r.Value[0].(float64)
		vs, _ := r.Value[1].(string)
		val, err := strconv.ParseFloat(vs, 64)
		if err != nil {
			return nil, fmt.Errorf("query %q: value %q: %w", query, vs, err)
		}
		out = append(out, Result{Metric: r.Metric, Value: val, Timestamp: time.UnixMilli(int64(ts * 1000))})
	}
	return out, nil
}
