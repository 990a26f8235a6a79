package workspace_test

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rwkit/rwkit/internal/disktest"
	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
	"github.com/rwkit/rwkit/workspace"
	"github.com/rwkit/rwkit/workspace/store"
)

// TestDiskFullAnswers checks what writers and probes are told while a
// workspace's disk is full (a 2 MiB tmpfs): 503 with a sentence that shows
// no server path, /-/ready 503 naming the workspace (and only it), and,
// once the disk has room again, 200 for both.
func TestDiskFullAnswers(t *testing.T) {
	fs := disktest.Mount(t, 2<<20)
	lim, err := validate.Profile("prometheus")
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(fs.Dir, "data"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ws, err := workspace.New(st, workspace.WithLimits(lim))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ws.Handler())
	e := &env{ws: ws, srv: srv}
	defer func() {
		srv.Close()
		_ = ws.Close()
		_ = st.Close()
	}()
	ready := func() response {
		t.Helper()
		resp, err := srv.Client().Get(srv.URL + "/-/ready")
		if err != nil {
			t.Fatal(err)
		}
		return answer(resp)
	}
	// ws-2 writes once, before the disk fills: it is not named later.
	if r := e.push(t, "/workspaces/ws-2/api/v1/remote_write", rw1Body(series(1, nowMs(), "__name__", "up"))); r.status/100 != 2 {
		t.Fatalf("ws-2: %d %s", r.status, r.body)
	}

	var refusal response
	ts := nowMs()
	for i := 0; i < 3000 && refusal.status == 0; i++ {
		var ss []wire.TimeSeries
		for s := range 100 {
			ss = append(ss, series(float64(s), ts+int64(i), "__name__", "fill", "i", strconv.Itoa(i), "s", strconv.Itoa(s)))
		}
		if r := e.push(t, "/workspaces/ws-1/api/v1/remote_write", rw1Body(ss...)); r.status/100 != 2 {
			refusal = r
		}
	}
	if refusal.status != http.StatusServiceUnavailable || !strings.Contains(refusal.body, "the workspace cannot write to its disk; nothing of this request was stored, retry it") {
		t.Errorf("write on a full disk: %d %q, want 503 saying the disk failed", refusal.status, refusal.body)
	}
	if strings.Contains(refusal.body, fs.Dir) || strings.Contains(refusal.body, "no space left") {
		t.Errorf("the refusal shows the server's path or the OS error: %q", refusal.body)
	}
	r := ready()
	if r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "workspace ws-1 cannot write to disk") || strings.Contains(r.body, "ws-2") {
		t.Errorf("/-/ready while ws-1's disk is full: %d %q, want 503 naming ws-1 only", r.status, r.body)
	}

	fs.Resize(32 << 20)
	// The recovery is tried at most once a second, by writes and by
	// readiness checks.
	deadline := time.Now().Add(20 * time.Second)
	for r = ready(); r.status != http.StatusOK && time.Now().Before(deadline); r = ready() {
		time.Sleep(100 * time.Millisecond)
	}
	if r.status != http.StatusOK {
		t.Fatalf("/-/ready after the disk grew: %d %q", r.status, r.body)
	}
	if r := e.push(t, "/workspaces/ws-1/api/v1/remote_write", rw1Body(series(7, ts+5000, "__name__", "after"))); r.status/100 != 2 {
		t.Errorf("write after the disk grew: %d %q", r.status, r.body)
	}
}
