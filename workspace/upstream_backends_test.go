package workspace_test

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rwkit/rwkit/internal/backendtest"
	"github.com/rwkit/rwkit/internal/cortextest"
	"github.com/rwkit/rwkit/internal/promtest"
	"github.com/rwkit/rwkit/wire"
	"github.com/rwkit/rwkit/workspace"
)

// upstreamRefusal is the one upstream-refused entry of a workspace.
func upstreamRefusal(t *testing.T, e *env, id string) workspace.Collision {
	t.Helper()
	var found []workspace.Collision
	for _, c := range e.collisions(t, id) {
		if c.Kind == workspace.KindUpstreamRefused {
			found = append(found, c)
		}
	}
	if len(found) != 1 {
		t.Fatalf("upstream-refused entries of %s: %+v, want one", id, found)
	}
	return found[0]
}

// checkIncident checks the refusal of writer-b's value 2 after
// writer-a's 1, and that its reason came from the upstream's body.
func checkIncident(t *testing.T, c workspace.Collision, status int, body string) {
	t.Helper()
	if c.Reason != "new-value-for-timestamp" || c.UpstreamStatus != status || c.UpstreamBody != body {
		t.Errorf("refusal: reason %q, upstream %d %q; want new-value-for-timestamp, %d %q", c.Reason, c.UpstreamStatus, c.UpstreamBody, status, body)
	}
	if c.ExistingWriter == nil || c.ExistingWriter.UserAgent != "writer-a" || c.NewWriter.UserAgent != "writer-b" {
		t.Errorf("refusal writers: existing %+v, new %+v; want writer-a and writer-b", c.ExistingWriter, c.NewWriter)
	}
	if c.ExistingValue != "1" || c.NewValue != "2" || c.Series["__name__"] != "jvm_threads" {
		t.Errorf("refusal: series %v, values %q then %q; want jvm_threads, 1 then 2", c.Series, c.ExistingValue, c.NewValue)
	}
	if !strings.Contains(c.Note, "from the upstream's answer") {
		t.Errorf("note %q: want the reason from the upstream's answer", c.Note)
	}
}

// A real Cortex behind the workspace: the tenant header passes through,
// the first writer's value is stored in Cortex, the second writer gets
// Cortex's own 400 (the same status and body as Cortex answers directly),
// and the workspace names both writers.
func TestUpstreamCortex(t *testing.T) {
	cx := cortextest.Start(t)
	e := newEnv(t, "cortex", workspace.WithUpstream(workspace.Upstream{URL: cx.PushURL}))
	ts := time.Now().Truncate(time.Second)
	a := rw1Body(series(1, ts.UnixMilli(), "__name__", "jvm_threads", "job", "app"))
	b := rw1Body(series(2, ts.UnixMilli(), "__name__", "jvm_threads", "job", "app"))

	if got := e.push(t, "/api/v1/push", a, "X-Scope-OrgID", "team-a", "User-Agent", "writer-a"); got.status != http.StatusOK {
		t.Fatalf("writer-a: %d %q, want Cortex's 200", got.status, got.body)
	}
	viaWorkspace := e.push(t, "/api/v1/push", b, "X-Scope-OrgID", "team-a", "User-Agent", "writer-b")
	status, direct, err := cx.Push(ctx, "team-a", b, false)
	if err != nil {
		t.Fatal(err)
	}
	if viaWorkspace.status != http.StatusBadRequest || viaWorkspace.status != status || viaWorkspace.body != direct {
		t.Errorf("writer-b through the workspace: %d %q; Cortex directly: %d %q; want the same 400", viaWorkspace.status, viaWorkspace.body, status, direct)
	}
	out, err := cx.Query(ctx, "team-a", "jvm_threads", ts)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte(`"1"]`)) {
		t.Errorf("Cortex holds %s, want writer-a's value 1", out)
	}
	if other, err := cx.Query(ctx, "default", "jvm_threads", ts); err == nil && bytes.Contains(other, []byte("jvm_threads")) {
		t.Errorf("the write reached another tenant than team-a: %s", other)
	}
	checkIncident(t, upstreamRefusal(t, e, "team-a"), http.StatusBadRequest, viaWorkspace.body)

	// With ExplainHeader, Cortex's answer comes back the same, and one
	// header names the reason and writer-a.
	ex := newEnv(t, "cortex", workspace.WithUpstream(workspace.Upstream{URL: cx.PushURL, ExplainHeader: true}))
	a = rw1Body(series(1, ts.UnixMilli(), "__name__", "jvm_threads_explained", "job", "app"))
	b = rw1Body(series(2, ts.UnixMilli(), "__name__", "jvm_threads_explained", "job", "app"))
	ex.push(t, "/api/v1/push", a, "X-Scope-OrgID", "team-a", "User-Agent", "writer-a")
	explained := ex.push(t, "/api/v1/push", b, "X-Scope-OrgID", "team-a", "User-Agent", "writer-b")
	if status, direct, err = cx.Push(ctx, "team-a", b, false); err != nil {
		t.Fatal(err)
	}
	want := `new-value-for-timestamp: jvm_threads_explained{job="app"} at ` + strconv.FormatInt(ts.UnixMilli(), 10) + `: value 2 differs from 1 written by (User-Agent writer-a, `
	if h := explained.header.Get(workspace.ExplanationHeader); explained.status != status || explained.body != direct || !strings.HasPrefix(h, want) {
		t.Errorf("explained: %d %q, %s %q; want Cortex's %d %q and a header starting %q", explained.status, explained.body, workspace.ExplanationHeader, h, status, direct, want)
	}
}

// A real Prometheus (2.42) behind the workspace, on the AMP-shaped path:
// the same bytes arrive, and Prometheus' own refusal comes back.
func TestUpstreamPrometheus(t *testing.T) {
	p := promtest.Start(t)
	e := newEnv(t, "prometheus", workspace.WithUpstream(workspace.Upstream{URL: p.WriteURL}))
	ts := time.Now().Truncate(time.Second)
	path := "/workspaces/ws-1/api/v1/remote_write"
	if got := e.push(t, path, rw1Body(series(1, ts.UnixMilli(), "__name__", "jvm_threads", "job", "app")), "User-Agent", "writer-a"); got.status/100 != 2 {
		t.Fatalf("writer-a: %d %q, want Prometheus' 2xx", got.status, got.body)
	}
	got := e.push(t, path, rw1Body(series(2, ts.UnixMilli(), "__name__", "jvm_threads", "job", "app")), "User-Agent", "writer-b")
	if got.status != http.StatusBadRequest || !strings.Contains(got.body, "duplicate sample for timestamp") {
		t.Errorf("writer-b: %d %q, want Prometheus' 400 duplicate sample for timestamp", got.status, got.body)
	}
	res, err := p.Query(ctx, "jvm_threads", ts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Value != 1 || res[0].Metric["job"] != "app" {
		t.Errorf("Prometheus holds %+v, want writer-a's jvm_threads{job=app} 1", res)
	}
	checkIncident(t, upstreamRefusal(t, e, "ws-1"), http.StatusBadRequest, got.body)
}

// A real Prometheus 3 behind the workspace, written with RW 2.0: its 204
// and X-Prometheus-Remote-Write-*-Written headers reach the sender, and
// the sample is stored in Prometheus.
func TestUpstreamPrometheus3RW2(t *testing.T) {
	p := backendtest.StartPrometheus3(t)
	e := newEnv(t, "prometheus", workspace.WithUpstream(workspace.Upstream{URL: p.WriteURL}))
	ts := time.Now().Truncate(time.Second)
	got := e.push(t, "/api/v1/write", rw2Body(series(7, ts.UnixMilli(), "__name__", "rw2_through", "job", "app")),
		"Content-Type", wire.V2.ContentType(), "X-Prometheus-Remote-Write-Version", "2.0.0")
	if got.status != http.StatusNoContent || got.header.Get("X-Prometheus-Remote-Write-Samples-Written") != "1" {
		t.Fatalf("answer %d %q, Samples-Written %q; want Prometheus 3's 204 with 1 written", got.status, got.body,
			got.header.Get("X-Prometheus-Remote-Write-Samples-Written"))
	}
	res, err := p.Query(ctx, "rw2_through", ts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Value != 7 {
		t.Errorf("Prometheus 3 holds %+v, want rw2_through 7", res)
	}
}
