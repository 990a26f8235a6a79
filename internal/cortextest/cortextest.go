// Package cortextest starts a real Cortex v1.21.1 (the engine Amazon Managed
// Service for Prometheus runs) for tests, on loopback, as two processes that
// share a memberlist ring:
//
//   - the ingester (-target=ingester), and
//   - the rest (-target=distributor,querier,store-gateway): push, query and
//     the store-gateway that the querier needs with blocks storage.
//
// Two processes because in one the distributor's and the ingester's
// cortex_discarded_samples_total collide on registration and only one of
// them is exported; DiscardedSamples sums the counter over both.
//
// The binary is the launcher in e2e/cortex, built and cached by
// `./scripts/cortex build`, which prints its path; tests find it through
// $RWKIT_CORTEX_BIN. Without it the calling test is skipped, unless
// RWKIT_REQUIRE_CORTEX=1, in which case it fails.
//
// Multi-tenancy is on (auth_enabled: true): every request names its tenant
// in the X-Scope-OrgID header, as rwkit's own /api/v1/push does. Limits are
// Cortex's defaults except the ingestion rate, raised so tests are never
// rate limited (see Config).
package cortextest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Cortex is a running two-process Cortex.
type Cortex struct {
	// PushURL is the remote-write endpoint: POST, snappy protobuf, 200 on
	// success, X-Scope-OrgID names the tenant.
	PushURL string
	// QueryURL is the Prometheus HTTP API base: the part before
	// /api/v1/query (http://127.0.0.1:PORT/prometheus).
	QueryURL string

	// Ingester is the -target=ingester process; Distributor is the
	// -target=distributor,querier,store-gateway one.
	Ingester, Distributor *Process

	// Dir holds both processes' config files, logs and data.
	Dir string
}

// Process is one Cortex process.
type Process struct {
	Name string
	// URL is its HTTP base (/ready, /metrics, /config ...).
	URL string
	// GRPCAddr is its gRPC listen address.
	GRPCAddr string
	// ConfigFile and LogFile are in Cortex.Dir.
	ConfigFile, LogFile string

	cmd  *exec.Cmd
	done chan struct{}
	err  error // Wait's result, set before done is closed
}

// Binary returns $RWKIT_CORTEX_BIN.
func Binary() (string, error) {
	p := os.Getenv("RWKIT_CORTEX_BIN")
	if p == "" {
		return "", errors.New("RWKIT_CORTEX_BIN is not set")
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("RWKIT_CORTEX_BIN: %w", err)
	}
	return p, nil
}

// StartTimeout bounds how long Start waits for both processes to be ready
// and the ingester to be ACTIVE in the distributor's view of the ring.
var StartTimeout = 90 * time.Second

// Options change the configuration Start writes.
type Options struct {
	// Limits are per-tenant limits set over Cortex's defaults, as YAML
	// values by key of Cortex's limits block, e.g.
	// {"enable_native_histograms": "true"} (off by default: Cortex then
	// accepts native histograms with 200 and drops them, counting
	// cortex_discarded_samples_total{reason="native-histogram-sample"}).
	Limits map[string]string
}

// Start starts Cortex for the test and stops it when the test ends; it
// returns once both processes answer /ready and the distributor sees the
// ingester ACTIVE in the ring, so the first push succeeds.
func Start(t testing.TB) *Cortex {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith is Start with options.
func StartWith(t testing.TB, opts Options) *Cortex {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		if os.Getenv("RWKIT_REQUIRE_CORTEX") == "1" {
			t.Fatalf("RWKIT_REQUIRE_CORTEX=1 but no Cortex binary: %v (RWKIT_CORTEX_BIN=\"$(./scripts/cortex build)\")", err)
		}
		t.Skipf("no Cortex binary (%v); set RWKIT_CORTEX_BIN=\"$(./scripts/cortex build)\"", err)
	}
	dir := t.TempDir()
	var lastErr error
	// Ports are found by listening and closing; another process may take
	// one in between, so try a few times.
	for attempt := 0; attempt < 3; attempt++ {
		c, err := start(bin, filepath.Join(dir, fmt.Sprintf("run%d", attempt)), opts)
		if err == nil {
			t.Cleanup(func() {
				c.stop()
				if t.Failed() {
					t.Logf("cortex logs:\n%s", c.Logs(200))
				}
			})
			return c
		}
		lastErr = err
		if c != nil {
			c.stop()
			if !strings.Contains(c.Logs(1000), "address already in use") {
				break // not a port race: retrying will not help
			}
		}
	}
	t.Fatalf("cortex did not start: %v", lastErr)
	return nil
}

func start(bin, dir string, opts Options) (*Cortex, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	ports, err := freePorts(6)
	if err != nil {
		return nil, err
	}
	ing := Config{Dir: dir, HTTPPort: ports[0], GRPCPort: ports[1], MemberlistPort: ports[2], JoinPort: ports[5], Limits: opts.Limits}
	dist := Config{Dir: dir, HTTPPort: ports[3], GRPCPort: ports[4], MemberlistPort: ports[5], JoinPort: ports[2], Limits: opts.Limits}
	c := &Cortex{
		Dir:         dir,
		PushURL:     fmt.Sprintf("http://127.0.0.1:%d/api/v1/push", dist.HTTPPort),
		QueryURL:    fmt.Sprintf("http://127.0.0.1:%d/prometheus", dist.HTTPPort),
		Ingester:    newProcess(dir, "ingester", ing),
		Distributor: newProcess(dir, "distributor", dist),
	}
	if err := os.WriteFile(c.Ingester.ConfigFile, []byte(ing.YAML()), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(c.Distributor.ConfigFile, []byte(dist.YAML()), 0o644); err != nil {
		return nil, err
	}
	// The ingester first: the distributor process's memberlist then joins
	// it on its first try.
	if err := c.Ingester.start(bin, "ingester"); err != nil {
		return c, err
	}
	if err := c.Distributor.start(bin, "distributor,querier,store-gateway"); err != nil {
		return c, err
	}
	deadline := time.Now().Add(StartTimeout)
	for _, p := range []*Process{c.Ingester, c.Distributor} {
		if err := p.waitReady(deadline); err != nil {
			return c, err
		}
	}
	if err := c.waitRing(deadline); err != nil {
		return c, err
	}
	return c, nil
}

func newProcess(dir, name string, cfg Config) *Process {
	return &Process{
		Name:       name,
		URL:        fmt.Sprintf("http://127.0.0.1:%d", cfg.HTTPPort),
		GRPCAddr:   fmt.Sprintf("127.0.0.1:%d", cfg.GRPCPort),
		ConfigFile: filepath.Join(dir, name+".yaml"),
		LogFile:    filepath.Join(dir, name+".log"),
	}
}

func (p *Process) start(bin, target string) error {
	logf, err := os.Create(p.LogFile)
	if err != nil {
		return err
	}
	p.cmd = exec.Command(bin, "-config.file="+p.ConfigFile, "-target="+target)
	// Cortex writes some files relative to its working directory (the
	// querier's active-query-tracker): keep them in the test's temp dir.
	p.cmd.Dir = filepath.Dir(p.ConfigFile)
	p.cmd.Stdout = logf
	p.cmd.Stderr = logf
	if err := p.cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", bin, err)
	}
	p.done = make(chan struct{})
	go func() {
		p.err = p.cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	return nil
}

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	if p.done == nil {
		return true
	}
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// PID is the process id (0 when not started).
func (p *Process) PID() int {
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// RSS returns the process's resident set size in bytes (from
// /proc/PID/status; Linux only).
func (p *Process) RSS() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.PID()))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS in /proc/PID/status")
}

func (p *Process) waitReady(deadline time.Time) error {
	var last string
	for time.Now().Before(deadline) {
		if p.Exited() {
			return fmt.Errorf("cortex %s exited: %v\n%s", p.Name, p.err, tail(p.LogFile, 40))
		}
		resp, err := http.Get(p.URL + "/ready")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(b)))
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("cortex %s not ready: %s\n%s", p.Name, last, tail(p.LogFile, 40))
}

// waitRing waits until the distributor process's view of the ingester ring
// (GET /ingester/ring as JSON) has our ingester ACTIVE.
func (c *Cortex) waitRing(deadline time.Time) error {
	var last string
	for time.Now().Before(deadline) {
		if c.Distributor.Exited() || c.Ingester.Exited() {
			return fmt.Errorf("cortex exited while joining the ring\n%s", c.Logs(40))
		}
		state, err := c.ingesterState()
		if err == nil && state == "ACTIVE" {
			return nil
		}
		if err != nil {
			last = err.Error()
		} else {
			last = "ingester is " + state
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("ingester not ACTIVE in the distributor's ring: %s\n%s", last, c.Logs(40))
}

func (c *Cortex) ingesterState() (string, error) {
	req, _ := http.NewRequest("GET", c.Distributor.URL+"/ingester/ring", nil)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var ring struct {
		Shards []struct {
			ID      string `json:"id"`
			State   string `json:"state"`
			Address string `json:"address"`
		} `json:"shards"`
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return "", fmt.Errorf("GET /ingester/ring: %d %s", resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(&ring); err != nil {
		return "", fmt.Errorf("GET /ingester/ring: %w", err)
	}
	for _, s := range ring.Shards {
		if s.Address == c.Ingester.GRPCAddr {
			return s.State, nil
		}
	}
	return "", fmt.Errorf("ingester %s not in the ring yet (%d members)", c.Ingester.GRPCAddr, len(ring.Shards))
}

// stop sends SIGTERM to both processes (the distributor first), and
// SIGKILL to any still running after 15 seconds.
func (c *Cortex) stop() {
	for _, p := range []*Process{c.Distributor, c.Ingester} {
		if p.Exited() {
			continue
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
}

// Logs returns the last n lines of each process's log.
func (c *Cortex) Logs(n int) string {
	var b strings.Builder
	for _, p := range []*Process{c.Ingester, c.Distributor} {
		fmt.Fprintf(&b, "--- %s (%s)\n%s", p.Name, p.LogFile, tail(p.LogFile, n))
	}
	return b.String()
}

func tail(file string, n int) string {
	b, err := os.ReadFile(file)
	if err != nil {
		return err.Error() + "\n"
	}
	lines := strings.SplitAfter(string(b), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "")
}

// Push POSTs a remote-write body (snappy-compressed protobuf; rw2 selects
// the RW 2.0 content type) for tenant and returns the status and body.
func (c *Cortex) Push(ctx context.Context, tenant string, body []byte, rw2 bool) (int, string, error) {
	req, err := NewPushRequest(ctx, c.PushURL, tenant, body, rw2)
	if err != nil {
		return 0, "", err
	}
	status, b, err := send(req)
	return status, string(b), err
}

// send sends req and returns the answer's status and body.
func send(req *http.Request) (int, []byte, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// NewPushRequest is the request Push sends: a POST of body to u for tenant
// with the headers a Prometheus remote write sends (snappy; RW 1.0's or,
// with rw2, RW 2.0's content type and version). Tests that send the same
// request to Cortex and to another receiver build it here, so that both
// see the same headers.
func NewPushRequest(ctx context.Context, u, tenant string, body []byte, rw2 bool) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Encoding", "snappy")
	if rw2 {
		req.Header.Set("Content-Type", "application/x-protobuf;proto=io.prometheus.write.v2.Request")
		req.Header.Set("X-Prometheus-Remote-Write-Version", "2.0.0")
	} else {
		req.Header.Set("Content-Type", "application/x-protobuf")
		req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	}
	req.Header.Set("X-Scope-OrgID", tenant)
	return req, nil
}

// Query runs an instant PromQL query for tenant at time ts and returns the
// raw Prometheus API JSON.
func (c *Cortex) Query(ctx context.Context, tenant, query string, ts time.Time) ([]byte, error) {
	return QueryAPI(ctx, c.QueryURL, tenant, query, ts)
}

// QueryAPI runs an instant PromQL query for tenant at time ts on the
// Prometheus query API at base (the part before /api/v1/query: Cortex's,
// or another backend's that a test compares with it) and returns the raw
// JSON; an answer other than 200 is an error that carries the body.
func QueryAPI(ctx context.Context, base, tenant, query string, ts time.Time) ([]byte, error) {
	u := base + "/api/v1/query?" + url.Values{
		"query": {query},
		"time":  {strconv.FormatFloat(float64(ts.UnixMilli())/1000, 'f', 3, 64)},
	}.Encode()
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-Scope-OrgID", tenant)
	status, b, err := send(req)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return b, fmt.Errorf("query %q: %d %s", query, status, b)
	}
	return b, nil
}

// Metrics returns a process's /metrics text.
func (p *Process) Metrics(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", p.URL+"/metrics", nil)
	if err != nil {
		return "", err
	}
	status, b, err := send(req)
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("GET %s/metrics: %d", p.URL, status)
	}
	return string(b), err
}

// DiscardedSamples returns cortex_discarded_samples_total for tenant and
// reason, summed over both processes' /metrics (the distributor counts
// what it refuses in validation, the ingester what the TSDB refuses).
func (c *Cortex) DiscardedSamples(ctx context.Context, tenant, reason string) (float64, error) {
	var sum float64
	for _, p := range []*Process{c.Ingester, c.Distributor} {
		text, err := p.Metrics(ctx)
		if err != nil {
			return 0, err
		}
		for _, l := range MetricLines(text, "cortex_discarded_samples_total") {
			if !strings.Contains(l, `reason="`+reason+`"`) || !strings.Contains(l, `user="`+tenant+`"`) {
				continue
			}
			v, err := strconv.ParseFloat(l[strings.LastIndexByte(l, ' ')+1:], 64)
			if err != nil {
				return 0, fmt.Errorf("%s: %q: %w", p.Name, l, err)
			}
			sum += v
		}
	}
	return sum, nil
}

// MetricLines returns the sample lines of metric name (with labels) in a
// /metrics text.
func MetricLines(text, name string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, name+"{") || strings.HasPrefix(l, name+" ") {
			out = append(out, l)
		}
	}
	return out
}

// freePorts returns n distinct loopback ports free for both TCP and UDP
// (memberlist uses both on its port).
func freePorts(n int) ([]int, error) {
	var ports []int
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	for len(ports) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		closers = append(closers, l)
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue // UDP side taken: keep the TCP one held and pick another
		}
		closers = append(closers, u)
		ports = append(ports, port)
	}
	return ports, nil
}
