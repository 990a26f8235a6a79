package workspace_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rwkit/rwkit/workspace"
	"github.com/rwkit/rwkit/workspace/internal/costtest"
	"github.com/rwkit/rwkit/workspace/store"
)

// maxEmptyWorkspaceBytes is what a workspace that holds no data may cost.
const maxEmptyWorkspaceBytes = 256 << 10

// serveLocal answers one request in-process (no connection, so no file
// descriptor comes and goes with it).
func serveLocal(h http.Handler, method, path string, body []byte, headers ...string) (int, string) {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-protobuf")
		req.Header.Set("Content-Encoding", "snappy")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// useEmpty uses workspace id every way that does not store a sample:
// writes whose samples are all refused (AMP and Cortex paths), the query
// API, the collisions list and /metrics (what rwkit discards --from reads).
func useEmpty(t testing.TB, h http.Handler, id string) {
	t.Helper()
	now := nowMs()
	refused := rw1Body(
		series(1, now, "job", "no-metric-name"),
		series(1, now+3_600_000, "__name__", "too_far_in_the_future"),
	)
	for _, w := range []struct {
		path    string
		headers []string
	}{
		{"/workspaces/" + id + "/api/v1/remote_write", nil},
		{"/api/v1/push", []string{"X-Scope-OrgID", id}},
	} {
		if code, body := serveLocal(h, http.MethodPost, w.path, refused, w.headers...); code != http.StatusBadRequest || !strings.Contains(body, "rwkit: discarded 2 samples") {
			t.Fatalf("refused write to %s: %d %s", w.path, code, body)
		}
	}
	for _, q := range []string{
		"query?" + url.Values{"query": {"up"}}.Encode(),
		"query_range?" + url.Values{"query": {"rate(up[5m])"}, "start": {"1704067200"}, "end": {"1704070800"}, "step": {"60"}}.Encode(),
		"series?" + url.Values{"match[]": {"up"}}.Encode(),
		"labels",
		"metadata",
		"collisions",
	} {
		if code, body := serveLocal(h, http.MethodGet, "/workspaces/"+id+"/api/v1/"+q, nil); code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", q, code, body)
		}
	}
	if code, body := serveLocal(h, http.MethodGet, "/metrics", nil); code != http.StatusOK || !strings.Contains(body, `rwkit_discarded_samples_total{reason="missing_metric_name",workspace="`+id+`"}`) {
		t.Fatalf("GET /metrics: %d, no discards counted for %s", code, id)
	}
}

// A workspace costs at most 256 KiB and no open file until its first
// accepted sample, which opens its storage; what it stores survives a
// restart.
func TestEmptyWorkspacesAreCheap(t *testing.T) {
	e := newEnv(t, "amp")
	h := e.ws.Handler()
	useEmpty(t, h, "warm-up") // builds what every workspace shares

	const n = 64
	heap0, fds0 := costtest.HeapInUse(), costtest.OpenFiles(t)
	for i := range n {
		useEmpty(t, h, fmt.Sprintf("ws-%d", i))
	}
	heap1, fds1 := costtest.HeapInUse(), costtest.OpenFiles(t)
	perWorkspace := (int64(heap1) - int64(heap0)) / n
	t.Logf("%d workspaces without data: %d bytes of heap and %.2f open files each", n, perWorkspace, float64(fds1-fds0)/n)
	if perWorkspace > maxEmptyWorkspaceBytes {
		t.Errorf("a workspace without data costs %d bytes of heap; the bound is %d", perWorkspace, maxEmptyWorkspaceBytes)
	}
	if fds1 > fds0 {
		t.Errorf("%d workspaces without data opened %d files", n, fds1-fds0)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "ws-0")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a workspace without data has a folder: %v", err)
	}

	// The first accepted sample opens the workspace's storage.
	ts := nowMs()
	if code, body := serveLocal(h, http.MethodPost, "/workspaces/ws-0/api/v1/remote_write", rw1Body(series(42, ts, "__name__", "up"))); code != http.StatusOK {
		t.Fatalf("write: %d %s", code, body)
	}
	if fds := costtest.OpenFiles(t); fds <= fds1 {
		t.Errorf("open files %d after the first sample, %d before: the storage was not opened", fds, fds1)
	}
	if got := e.query(t, "/workspaces/ws-0", "up", ts); got["__name__=up"] != "42" {
		t.Errorf("query after the first sample: %v", got)
	}

	// Restart on the same folder (Close closes the store too).
	if err := e.ws.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(e.dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got := st.Tenants(); len(got) != 1 || got[0] != "ws-0" {
		t.Errorf("workspaces on disk after restart: %v, want [ws-0]", got)
	}
	ws, err := workspace.New(st)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	code, body := serveLocal(ws.Handler(), http.MethodGet, "/workspaces/ws-0/api/v1/query?"+url.Values{"query": {"up"}, "time": {formatSeconds(ts)}}.Encode(), nil)
	if code != http.StatusOK || !strings.Contains(body, `"value":[`+formatSeconds(ts)+`,"42"]`) {
		t.Errorf("query after restart: %d %s", code, body)
	}
}

// The cap on workspaces names its limit, and the setting the program's
// users know (WithLimitNames) or else the option; the first refusal is
// logged at Warn, later ones at Debug.
func TestMaxTenants(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    []workspace.Option
		setting string
	}{
		{"library", nil, "workspace.WithMaxTenants"},
		{"named", []workspace.Option{workspace.WithLimitNames(workspace.LimitNames{MaxTenants: "rwkit serve --max-workspaces"})}, "rwkit serve --max-workspaces"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
			e := newEnv(t, "amp", append(tc.opts, workspace.WithMaxTenants(2), workspace.WithLogger(logger))...)
			body := rw1Body(series(1, nowMs(), "__name__", "up"))
			for _, id := range []string{"a", "b", "a"} {
				if r := e.push(t, "/workspaces/"+id+"/api/v1/remote_write", body); r.status != http.StatusOK {
					t.Fatalf("workspace %s: %d %s", id, r.status, r.body)
				}
			}
			for range 2 {
				r := e.push(t, "/api/v1/push", body, "X-Scope-OrgID", "c")
				want := `too many workspaces: workspace "c" would be one more than the limit of 2` + "\n" +
					"rwkit: the limit (2) is set by " + tc.setting + "; every workspace written to since the server started counts, even one whose samples were all refused\n"
				if r.status != http.StatusBadRequest || r.body != want {
					t.Errorf("third workspace: %d %q, want 400 %q", r.status, r.body, want)
				}
			}
			// The store's lines (component=store: Open gives it the
			// workspace's logger) are not the workspace's.
			var lines []string
			for _, l := range strings.Split(strings.TrimSpace(log.String()), "\n") {
				if !strings.Contains(l, " component=store ") {
					lines = append(lines, l)
				}
			}
			if len(lines) != 2 || !strings.HasPrefix(lines[0], "time=") || !strings.Contains(lines[0], " level=WARN ") || !strings.Contains(lines[1], " level=DEBUG ") {
				t.Fatalf("log, want one WARN line then one DEBUG line:\n%s", log.String())
			}
			for _, l := range lines {
				if !strings.Contains(l, " workspace=c ") || !strings.Contains(l, " limit=2 ") || !strings.Contains(l, tc.setting) {
					t.Errorf("log line lacks the workspace, limit or setting: %s", l)
				}
				if tc.setting != "workspace.WithMaxTenants" && strings.Contains(l, "WithMaxTenants") {
					t.Errorf("log line names the option where the program named the setting: %s", l)
				}
			}
			// The refused workspace is not counted under its name: any
			// writer could add label values without end.
			if n := testCounter(t, e.reg, "rwkit_remote_write_requests_total", "c"); n != 0 {
				t.Errorf("refused workspace counted as one: %v", n)
			}
		})
	}
}

// testCounter sums metric name's samples with workspace="id".
func testCounter(t testing.TB, reg *prometheus.Registry, name, id string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "workspace" && l.GetValue() == id {
					sum += m.GetCounter().GetValue()
				}
			}
		}
	}
	return sum
}
