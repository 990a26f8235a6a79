// Package workspacetest starts an in-process AMP-shaped workspace for
// tests, as client_golang's testutil and OpenTelemetry's in-process test
// server do for theirs: a real workspace (AMP's limits unless the options
// say otherwise) over a real TSDB in a temporary directory, served on a
// loopback port, stopped and removed when the test ends.
//
//	func TestMetricsReachAMP(t *testing.T) {
//		ws := workspacetest.Start(t)
//		p, err := push.New(ws.WriteURL, reg, push.WithService("auth"), push.WithInstance("auth-1"))
//		...
//		if err := p.Push(ctx); err != nil { // refused as AMP would refuse it, with AMP's text
//			t.Fatal(err)
//		}
//		got := ws.Query(t, `jobs_done_total{service="auth"}`)
//	}
//
// Everything Start needs is in the options of package workspace (limits,
// identity labels, clock, ...). Import it from tests only: it takes the
// embedded Prometheus TSDB with it.
package workspacetest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"

	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/workspace"
)

// WorkspaceID is the workspace (tenant) the URLs of a Server name.
const WorkspaceID = "ws-test"

// Server is a running workspace and the URLs to reach it.
type Server struct {
	// Workspace is the running workspace: its Registry holds its metrics
	// (rwkit_discarded_samples_total, ...) and the TSDB's.
	Workspace *workspace.Workspace
	// Dir is the directory of the workspace's data.
	Dir string
	// URL is the server's root, e.g. http://127.0.0.1:40123.
	URL string
	// WriteURL is the AMP-shaped remote-write URL of WorkspaceID:
	// URL/workspaces/ws-test/api/v1/remote_write.
	WriteURL string
	// PushURL is Cortex's remote-write URL, URL/api/v1/push; the tenant
	// is the X-Scope-OrgID header's ("default" without it).
	PushURL string
	// QueryURL is WorkspaceID's query API base, the part before
	// /api/v1/query, as for AMP: URL/workspaces/ws-test.
	QueryURL string
	// HTTP is the loopback server; HTTP.Client() reaches it.
	HTTP *httptest.Server

	closeOnce sync.Once
	closeErr  error
}

// Start opens a workspace with AMP's limits (validate.Profile("amp"),
// which opts may replace with workspace.WithLimits) in a temporary
// directory and serves it on a loopback port until the test ends. It
// fails the test if the workspace cannot be opened.
func Start(t testing.TB, opts ...workspace.Option) *Server {
	t.Helper()
	amp, err := validate.Profile("amp")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ws, err := workspace.Open(dir, append([]workspace.Option{workspace.WithLimits(amp)}, opts...)...)
	if err != nil {
		t.Fatalf("workspacetest: %v", err)
	}
	srv := httptest.NewServer(ws.Handler())
	s := &Server{
		Workspace: ws,
		Dir:       dir,
		URL:       srv.URL,
		WriteURL:  srv.URL + "/workspaces/" + WorkspaceID + "/api/v1/remote_write",
		PushURL:   srv.URL + "/api/v1/push",
		QueryURL:  srv.URL + "/workspaces/" + WorkspaceID,
		HTTP:      srv,
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("workspacetest: %v", err)
		}
	})
	return s
}

// Close stops the server and closes the workspace and its store; the
// test's end does it too. The directory is removed with the test's
// temporary directories. Closing again returns the first result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.HTTP.Close()
		s.closeErr = s.Workspace.Close()
	})
	return s.closeErr
}

// Sample is one series of a query's instant vector.
type Sample struct {
	Labels map[string]string
	Value  float64
}

// Query evaluates the PromQL instant query expr now over WorkspaceID's
// data. It fails the test when the query is refused.
func (s *Server) Query(t testing.TB, expr string) []Sample {
	t.Helper()
	resp, err := s.HTTP.Client().Get(s.QueryURL + "/api/v1/query?" + url.Values{"query": {expr}}.Encode())
	if err != nil {
		t.Fatalf("workspacetest: query %q: %v", expr, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out struct {
		Status string
		Data   struct {
			ResultType string
			Result     []struct {
				Metric map[string]string
				Value  [2]any
			}
		}
	}
	if err := json.Unmarshal(body, &out); err != nil || resp.StatusCode != http.StatusOK || out.Status != "success" {
		t.Fatalf("workspacetest: query %q: %d %s", expr, resp.StatusCode, body)
	}
	if out.Data.ResultType != "vector" {
		t.Fatalf("workspacetest: query %q: a %s, want an instant vector", expr, out.Data.ResultType)
	}
	samples := make([]Sample, 0, len(out.Data.Result))
	for _, r := range out.Data.Result {
		text, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(text, 64)
		if err != nil {
			t.Fatalf("workspacetest: query %q: value %q: %v", expr, text, err)
		}
		samples = append(samples, Sample{Labels: r.Metric, Value: v})
	}
	return samples
}
