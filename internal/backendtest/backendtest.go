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
// What is shared lives here (finding the binary, ports, starting a
// process, waiting until it is ready, stopping it, querying); each server's
// file holds only its flags and configuration.
package backendtest

import (
	"context"
	"encoding/json"
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

	procs []*process
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

// process is one started server process.
type process struct {
	name    string
	logFile string
	cmd     *exec.Cmd
	done    chan struct{}
	err     error // Wait's result, set before done is closed
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
	env := "RWKIT_" + strings.ToUpper(name) + "_BIN"
	p := os.Getenv(env)
	if p == "" {
		return "", fmt.Errorf("%s is not set", env)
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%s: %w", env, err)
	}
	return p, nil
}

// start finds b's binary (skipping or failing the test without it), runs
// b in a temporary directory and stops it when the test ends, printing its
// logs if the test failed. Ports are found by listening and closing, and
// another process may take one in between, so a start that fails with
// "address already in use" is tried again on other ports.
func start(t testing.TB, b backend) *Server {
	t.Helper()
	bin, err := Binary(b.name)
	if err != nil {
		if os.Getenv("RWKIT_REQUIRE_"+strings.ToUpper(b.name)) == "1" {
			t.Fatalf("RWKIT_REQUIRE_%s=1 but no %s binary: %v (build it with ./scripts/backend build %s)",
				strings.ToUpper(b.name), b.name, err, b.name)
		}
		t.Skipf("no %s binary (%v); set RWKIT_%s_BIN=\"$(./scripts/backend build %s)\"", b.name, err, strings.ToUpper(b.name), b.name)
	}
	dir := t.TempDir()
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		s := &Server{Name: b.name, Dir: filepath.Join(dir, fmt.Sprintf("run%d", attempt))}
		if err := os.MkdirAll(s.Dir, 0o755); err != nil {
			t.Fatal(err)
		}
		ports, err := freePorts(b.ports)
		if err != nil {
			t.Fatal(err)
		}
		err = b.run(s, bin, ports)
		if err == nil {
			t.Cleanup(func() {
				s.stop()
				if t.Failed() {
					t.Logf("%s logs:\n%s", s.Name, s.Logs(100))
				}
			})
			return s
		}
		lastErr = fmt.Errorf("%w\n%s", err, s.Logs(40))
		s.stop()
		if !strings.Contains(s.Logs(1000), "address already in use") {
			break
		}
	}
	t.Fatalf("starting %s: %v", b.name, lastErr)
	return nil
}

// launch starts one process of s, its output going to DIR/NAME.log.
func (s *Server) launch(name, bin string, args ...string) (*process, error) {
	p := &process{name: name, logFile: filepath.Join(s.Dir, name+".log"), done: make(chan struct{})}
	f, err := os.Create(p.logFile)
	if err != nil {
		return nil, err
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = s.Dir
	p.cmd.Stdout, p.cmd.Stderr = f, f
	// Its own process group, so a signal to the test's group (Ctrl-C) does
	// not race the orderly stop; and killed with the test binary (go
	// test's timeout kills it with no cleanup), so no server outlives it.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	s.procs = append(s.procs, p)
	go func() {
		p.err = p.cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitReady polls u until it answers 200, the process exits or the start
// timeout passes.
func (p *process) waitReady(u string, header http.Header) error {
	deadline := time.Now().Add(StartTimeout)
	var last string
	for time.Now().Before(deadline) {
		if p.exited() {
			return fmt.Errorf("%s exited: %v", p.name, p.err)
		}
		req, _ := http.NewRequest("GET", u, nil)
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
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
	return fmt.Errorf("%s not ready at %s after %v: %s", p.name, u, StartTimeout, last)
}

// stop sends SIGTERM to every process, the last started first (a querier
// before the store it reads), and SIGKILL to any still running after 15
// seconds.
func (s *Server) stop() {
	for i := len(s.procs) - 1; i >= 0; i-- {
		p := s.procs[i]
		if p.exited() {
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
func (s *Server) Logs(n int) string {
	var b strings.Builder
	for _, p := range s.procs {
		fmt.Fprintf(&b, "--- %s (%s)\n%s", p.name, p.logFile, tail(p.logFile, n))
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
	u := s.QueryURL + "/api/v1/query?" + url.Values{
		"query": {query},
		"time":  {strconv.FormatFloat(float64(ts.UnixMilli())/1000, 'f', 3, 64)},
	}.Encode()
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return nil, err
	}
	if s.Tenant != "" {
		req.Header.Set(s.TenantHeader, s.Tenant)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s query %q: %d %s", s.Name, query, resp.StatusCode, raw)
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

// freePorts returns n distinct loopback ports that were free for TCP and
// UDP (memberlist, where a server uses it, listens on both).
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

// hostPort is 127.0.0.1:port.
func hostPort(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }
