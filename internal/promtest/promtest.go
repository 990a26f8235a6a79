// Package promtest starts a real Prometheus server for tests: the binary
// from Debian's prometheus package (installed by scripts/test), listening on
// a free loopback port with a temporary data directory. Start runs a server
// with the remote-write receiver enabled; StartAgent runs an agent
// (--enable-feature=agent) that scrapes and remote-writes as a given
// prometheus.yml says.
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
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/rwkit/rwkit/internal/proctest"
)

// Server is a running Prometheus.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:40123.
	URL string
	// WriteURL is the remote-write receiver endpoint (Start only: an agent
	// started by StartAgent has no receiver).
	WriteURL string

	proc *proctest.Process
	stop sync.Once

	user, password string // basic auth of every request (StartWithBasicAuth)
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
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("global:\n  scrape_interval: 1h\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return start(t, func(attempt int, addr string) []string {
		return []string{
			"--config.file=" + cfg,
			"--storage.tsdb.path=" + filepath.Join(dir, fmt.Sprintf("data%d", attempt)),
			"--web.listen-address=" + addr,
			"--web.enable-remote-write-receiver",
			"--enable-feature=native-histograms",
			"--log.level=warn",
		}
	}, true)
}

// StartWithBasicAuth starts a Prometheus server like Start whose HTTP
// endpoints (remote write and queries included) take only basic auth as
// user with password, through --web.config.file and a bcrypt hash, as a
// Prometheus is protected in production. Query sends the credentials.
func StartWithBasicAuth(t testing.TB, user, password string) *Server {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("global:\n  scrape_interval: 1h\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	web := filepath.Join(dir, "web.yml")
	if err := os.WriteFile(web, []byte(fmt.Sprintf("basic_auth_users:\n  %s: %s\n", user, hash)), 0o600); err != nil {
		t.Fatal(err)
	}
	return startAs(t, user, password, func(attempt int, addr string) []string {
		return []string{
			"--config.file=" + cfg,
			"--web.config.file=" + web,
			"--storage.tsdb.path=" + filepath.Join(dir, fmt.Sprintf("data%d", attempt)),
			"--web.listen-address=" + addr,
			"--web.enable-remote-write-receiver",
			"--log.level=warn",
		}
	}, true)
}

// StartAgent starts Prometheus in agent mode (--enable-feature=agent) with
// configYAML as its prometheus.yml; it scrapes and remote-writes as that
// file says until Stop or the end of the test. flags are added to the
// command line (e.g. --enable-feature=native-histograms). The log is
// printed when the test fails.
func StartAgent(t testing.TB, configYAML string, flags ...string) *Server {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(configYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	s := start(t, func(attempt int, addr string) []string {
		return append([]string{
			"--enable-feature=agent",
			"--config.file=" + cfg,
			// Agent mode keeps a WAL only, under its own flag; the
			// --storage.tsdb.* flags are refused with it.
			"--storage.agent.path=" + filepath.Join(dir, fmt.Sprintf("agent%d", attempt)),
			"--web.listen-address=" + addr,
			"--log.level=debug",
		}, flags...)
	}, false)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("prometheus agent (%s) log:\n%s", s.URL, s.Log())
		}
	})
	return s
}

// start runs the binary with args(attempt, addr) until it is ready, trying
// a few free ports; the process is stopped when the test ends.
func start(t testing.TB, args func(attempt int, addr string) []string, withWriteURL bool) *Server {
	t.Helper()
	return startAs(t, "", "", args, withWriteURL)
}

// startAs is start for a server whose endpoints take basic auth as user.
func startAs(t testing.TB, user, password string, args func(attempt int, addr string) []string, withWriteURL bool) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		if os.Getenv("RWKIT_REQUIRE_PROMETHEUS") == "1" {
			t.Fatalf("RWKIT_REQUIRE_PROMETHEUS=1 but no Prometheus binary: %v (scripts/test installs Debian's prometheus package)", err)
		}
		t.Skipf("no Prometheus binary (%v); run ./scripts/test to install one", err)
	}
	dir := t.TempDir() // the logs; each attempt's is prometheusN.log
	var lastErr error
	// The free port is found by listening and closing; another process may
	// take it in between, so try a few times.
	for attempt := 0; attempt < 3; attempt++ {
		ports, err := proctest.FreePorts(1)
		if err != nil {
			t.Fatal(err)
		}
		addr := proctest.HostPort(ports[0])
		s := &Server{URL: "http://" + addr, user: user, password: password}
		if withWriteURL {
			s.WriteURL = "http://" + addr + "/api/v1/write"
		}
		s.proc, err = proctest.Launch(dir, fmt.Sprintf("prometheus%d", attempt), bin, args(attempt, addr)...)
		if err != nil {
			t.Fatal(err)
		}
		if lastErr = s.waitReady(30 * time.Second); lastErr == nil {
			t.Cleanup(s.kill)
			return s
		}
		s.kill()
	}
	t.Fatalf("prometheus did not become ready: %v", lastErr)
	return nil
}

func (s *Server) waitReady(timeout time.Duration) error {
	var header http.Header
	if s.user != "" {
		req, _ := http.NewRequest(http.MethodGet, s.URL, nil)
		req.SetBasicAuth(s.user, s.password)
		header = req.Header
	}
	if err := s.proc.WaitReady(s.URL+"/-/ready", header, time.Now().Add(timeout)); err != nil {
		return fmt.Errorf("%w\n%s", err, s.Log())
	}
	return nil
}

// Stop asks Prometheus to shut down (SIGTERM: an agent flushes what its
// remote-write queues hold, up to its flush deadline) and waits for it to
// exit, killing it after timeout or when ctx ends. It is safe to call more
// than once and reports whether the process exited by itself.
func (s *Server) Stop(ctx context.Context, timeout time.Duration) error {
	var err error
	s.stop.Do(func() {
		if e := s.proc.Signal(syscall.SIGTERM); e != nil {
			err = fmt.Errorf("signal prometheus: %w", e)
			s.proc.Kill()
			return
		}
		tm := time.NewTimer(timeout)
		defer tm.Stop()
		select {
		case <-s.proc.Done():
			if e := s.proc.Err(); e != nil {
				err = fmt.Errorf("prometheus exited with %v", e)
			}
			return
		case <-tm.C:
			err = fmt.Errorf("prometheus did not exit within %s of SIGTERM; killed", timeout)
		case <-ctx.Done():
			err = fmt.Errorf("prometheus stop: %w; killed", ctx.Err())
		}
		s.proc.Kill()
	})
	return err
}

// Log returns what the process has written to stdout and stderr so far.
func (s *Server) Log() string { return s.proc.Log() }

func (s *Server) kill() {
	s.stop.Do(s.proc.Kill)
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
	if s.user != "" {
		req.SetBasicAuth(s.user, s.password)
	}
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
