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
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rwkit/rwkit/internal/proctest"
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

	procs proctest.Group
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

	proc *proctest.Process // nil until started
}

// Binary returns $RWKIT_CORTEX_BIN.
func Binary() (string, error) { return proctest.Binary("RWKIT_CORTEX_BIN") }

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
	// HATracker, when set, turns the distributor's HA tracker on with
	// these timings and sets accept_ha_samples for every tenant.
	HATracker *HATracker
}

// HATracker are the distributor's ha_tracker settings. Its KV store is
// memberlist, the ring's: Cortex v1.21.1 refuses inmemory for the HA
// tracker (HATrackerConfig.Validate allows consul, etcd, memberlist and
// multi), and with one distributor memberlist's CAS is local, so an
// election is seen by the next request. The update timeout's jitter is 0,
// so that elections and failovers are reproducible; Cortex requires
// FailoverTimeout >= UpdateTimeout + 1s.
type HATracker struct {
	UpdateTimeout, FailoverTimeout time.Duration
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
	bin := proctest.NeedBinary(t, "Cortex", "RWKIT_CORTEX_BIN", "RWKIT_REQUIRE_CORTEX",
		`set RWKIT_CORTEX_BIN="$(./scripts/cortex build)"`)
	dir := t.TempDir()
	var c *Cortex
	proctest.StartRetrying(t, "cortex", func(attempt int) (*proctest.Group, error) {
		var err error
		c, err = start(bin, filepath.Join(dir, fmt.Sprintf("run%d", attempt)), opts)
		if c == nil {
			return nil, err
		}
		return &c.procs, err
	})
	return c
}

func start(bin, dir string, opts Options) (*Cortex, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	ports, err := proctest.FreePorts(6)
	if err != nil {
		return nil, err
	}
	limits := opts.Limits
	if opts.HATracker != nil {
		limits = maps.Clone(limits)
		if limits == nil {
			limits = map[string]string{}
		}
		limits["accept_ha_samples"] = "true"
	}
	ing := Config{Dir: dir, HTTPPort: ports[0], GRPCPort: ports[1], MemberlistPort: ports[2], JoinPort: ports[5], Limits: limits, HATracker: opts.HATracker}
	dist := Config{Dir: dir, HTTPPort: ports[3], GRPCPort: ports[4], MemberlistPort: ports[5], JoinPort: ports[2], Limits: limits, HATracker: opts.HATracker}
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
	if err := c.launch(c.Ingester, bin, "ingester"); err != nil {
		return c, err
	}
	if err := c.launch(c.Distributor, bin, "distributor,querier,store-gateway"); err != nil {
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

// launch starts p as the Cortex target in p's config directory (Cortex
// writes some files relative to its working directory: the querier's
// active-query tracker).
func (c *Cortex) launch(p *Process, bin, target string) error {
	proc, err := c.procs.Launch(filepath.Dir(p.ConfigFile), p.Name, bin, "-config.file="+p.ConfigFile, "-target="+target)
	if err != nil {
		return err
	}
	p.proc = proc
	return nil
}

// Exited reports whether the process has exited (true when it was never
// started).
func (p *Process) Exited() bool { return p.proc.Exited() }

// PID is the process id (0 when not started).
func (p *Process) PID() int { return p.proc.PID() }

// RSS returns the process's resident set size in bytes (from
// /proc/PID/status; Linux only).
func (p *Process) RSS() (int64, error) { return p.proc.RSS() }

func (p *Process) waitReady(deadline time.Time) error {
	if err := p.proc.WaitReady(p.URL+"/ready", nil, deadline); err != nil {
		return fmt.Errorf("cortex %w", err)
	}
	return nil
}

// waitRing waits until the distributor process's view of the ingester ring
// (GET /ingester/ring as JSON) has our ingester ACTIVE.
func (c *Cortex) waitRing(deadline time.Time) error {
	var last string
	for time.Now().Before(deadline) {
		if c.Distributor.Exited() || c.Ingester.Exited() {
			return errors.New("cortex exited while joining the ring")
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
	return fmt.Errorf("ingester not ACTIVE in the distributor's ring: %s", last)
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

// Logs returns the last n lines of each process's log.
func (c *Cortex) Logs(n int) string { return c.procs.Logs(n) }

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
	header := http.Header{}
	header.Set("X-Scope-OrgID", tenant)
	status, b, err := proctest.Query(ctx, base, header, query, ts)
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
