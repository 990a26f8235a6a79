// Package backendtest starts real remote-write backends for tests, each on
// free loopback ports with its own temporary directory, and stops them when
// the test ends:
//
//   - StartVictoriaMetrics: VictoriaMetrics single-node;
//   - StartPrometheus3: Prometheus 3 with its remote-write receiver (RW 1.0
//     and 2.0);
//   - StartMimir: Mimir in one process (-target=all), filesystem storage,
//     rings on the inmemory KV store, multi-tenant;
//   - StartThanos: Thanos Receive and a Thanos Query reading it.
//
// The binaries are built from each server's Go module and cached by
// `./scripts/backend build NAME`, which prints the path; tests find them
// through RWKIT_<NAME>_BIN (RWKIT_VICTORIAMETRICS_BIN, RWKIT_PROMETHEUS3_BIN,
// RWKIT_MIMIR_BIN, RWKIT_THANOS_BIN). Without one the calling test is
// skipped, unless RWKIT_REQUIRE_<NAME>=1 (scripts/test sets it, and so CI),
// in which case it fails: a suite that silently skips its real servers
// proves nothing.
//
// What is shared lives here (the skip-or-fail rule, retrying a start that
// lost a port race, querying) and in internal/proctest (finding the
// binary, ports, starting, waiting until ready, stopping); each server's
// file holds only its flags and configuration.
package backendtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rwkit/rwkit/internal/proctest"
)

// Server is a running backend.
type Server struct {
	// Name is the backend's name in scripts/backend (victoriametrics, ...).
	Name string
	// WriteURL is the remote-write endpoint.
	WriteURL string
	// QueryURL is the Prometheus HTTP API base, the part before
	// /api/v1/query.
	QueryURL string
	// Tenant is the tenant a multi-tenant backend (Mimir, Thanos) stores
	// writes under, sent in the TenantHeader on writes and by Query; "" for
	// a single-tenant one.
	Tenant       string
	TenantHeader string
	// AddedLabels are labels the server adds to every series a query
	// returns (Thanos announces the tenant as tenant_id).
	AddedLabels map[string]string
	// Dir holds the processes' configuration, logs and data.
	Dir string

	procs proctest.Group
	flush func(ctx context.Context) error // nil where writes are searchable at once
}

// Flush makes everything the server has acknowledged searchable; a no-op
// for servers where it is at once.
func (s *Server) Flush(ctx context.Context) error {
	if s.flush == nil {
		return nil
	}
	return s.flush(ctx)
}

// StartTimeout bounds how long a Start waits for its server to be ready.
var StartTimeout = 2 * time.Minute

// backend is what a server's Start gives the shared code.
type backend struct {
	name string // as in scripts/backend: the env variables are RWKIT_<NAME>_BIN, RWKIT_REQUIRE_<NAME>
	// ports is how many free loopback ports run needs.
	ports int
	// run starts the server's processes in dir on ports and fills s; it
	// returns once they are ready.
	run func(s *Server, bin string, ports []int) error
}

// Binary returns $RWKIT_<NAME>_BIN for a backend name of scripts/backend.
func Binary(name string) (string, error) {
	return proctest.Binary("RWKIT_" + strings.ToUpper(name) + "_BIN")
}

// start finds b's binary (skipping or failing the test without it), runs
// b in a temporary directory and stops it when the test ends, printing its
// logs if the test failed; a start that lost a port to another process is
// tried again (proctest.StartRetrying).
func start(t testing.TB, b backend) *Server {
	t.Helper()
	upper := strings.ToUpper(b.name)
	bin := proctest.NeedBinary(t, b.name, "RWKIT_"+upper+"_BIN", "RWKIT_REQUIRE_"+upper,
		fmt.Sprintf("set RWKIT_%s_BIN=\"$(./scripts/backend build %s)\"", upper, b.name))
	dir := t.TempDir()
	var s *Server
	proctest.StartRetrying(t, b.name, func(attempt int) (*proctest.Group, error) {
		s = &Server{Name: b.name, Dir: filepath.Join(dir, fmt.Sprintf("run%d", attempt))}
		if err := os.MkdirAll(s.Dir, 0o755); err != nil {
			return nil, err
		}
		ports, err := proctest.FreePorts(b.ports)
		if err != nil {
			return nil, err
		}
		return &s.procs, b.run(s, bin, ports)
	})
	return s
}

// launch starts one process of s in s.Dir, its output going to
// DIR/NAME.log; s stops it.
func (s *Server) launch(name, bin string, args ...string) (*proctest.Process, error) {
	return s.procs.Launch(s.Dir, name, bin, args...)
}

// waitReady waits until p answers 200 at u, for at most StartTimeout.
func waitReady(p *proctest.Process, u string, header http.Header) error {
	return p.WaitReady(u, header, time.Now().Add(StartTimeout))
}

// Logs returns the last n lines of each process's log.
func (s *Server) Logs(n int) string { return s.procs.Logs(n) }

// Sample is one series of an instant query's answer.
type Sample struct {
	Metric map[string]string
	Value  float64
}

// QueryTimeout bounds one Query, so that a server that never answers
// fails the test instead of hanging it.
var QueryTimeout = 30 * time.Second

// Query runs an instant PromQL query at ts (with the server's tenant) and
// returns the vector.
func (s *Server) Query(ctx context.Context, query string, ts time.Time) ([]Sample, error) {
	ctx, cancel := context.WithTimeout(ctx, QueryTimeout)
	defer cancel()
	header := http.Header{}
	if s.Tenant != "" {
		header.Set(s.TenantHeader, s.Tenant)
	}
	status, raw, err := proctest.Query(ctx, s.QueryURL, header, query, ts)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("%s query %q: %d %s", s.Name, query, status, raw)
	}
	var body struct {
		Data struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return nil, fmt.Errorf("%s query %q: %w: %s", s.Name, query, err, raw)
	}
	if body.Data.ResultType != "vector" {
		return nil, fmt.Errorf("%s query %q: result type %q, want vector: %s", s.Name, query, body.Data.ResultType, raw)
	}
	out := make([]Sample, 0, len(body.Data.Result))
	for _, r := range body.Data.Result {
		str, ok := r.Value[1].(string)
		if !ok {
			return nil, fmt.Errorf("%s query %q: value %v is not a string: %s", s.Name, query, r.Value[1], raw)
		}
		v, err := strconv.ParseFloat(str, 64)
		if err != nil {
			return nil, fmt.Errorf("%s query %q: %w", s.Name, query, err)
		}
		out = append(out, Sample{Metric: r.Metric, Value: v})
	}
	return out, nil
}

// hostPort is 127.0.0.1:port.
func hostPort(port int) string { return proctest.HostPort(port) }
