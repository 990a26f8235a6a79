package workspace_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/workspace"
	"github.com/rwkit/rwkit/workspace/store"
)

// TestOpenDerivesStoreSettings: the store Open opens takes the limits'
// out-of-order window and the query limits and their names from the
// workspace's options, and Close closes it.
func TestOpenDerivesStoreSettings(t *testing.T) {
	lim, err := validate.Profile("amp")
	if err != nil {
		t.Fatal(err)
	}
	if lim.OutOfOrderTimeWindow < time.Minute {
		t.Fatalf("amp's OutOfOrderTimeWindow is %s; the test needs one of at least a minute", lim.OutOfOrderTimeWindow)
	}
	dir := t.TempDir()
	ws, err := workspace.Open(dir, workspace.WithLimits(lim),
		workspace.WithQueryLimits(workspace.QueryLimits{MaxLength: 10}),
		workspace.WithLimitNames(workspace.LimitNames{QueryMaxLength: "--query-max-length"}))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ws.Handler())
	defer srv.Close()
	e := &env{ws: ws, srv: srv}

	now := nowMs()
	if r := e.push(t, "/workspaces/o/api/v1/remote_write", rw1Body(series(1, now, "__name__", "m"))); r.status != http.StatusOK {
		t.Fatalf("first write: %d %s", r.status, r.body)
	}
	// Inside the window: the TSDB accepts it only if the store was opened
	// with the limits' OutOfOrderTimeWindow.
	if r := e.push(t, "/workspaces/o/api/v1/remote_write", rw1Body(series(2, now-30_000, "__name__", "m"))); r.status != http.StatusOK {
		t.Fatalf("write 30s older, inside amp's out-of-order window: %d %s", r.status, r.body)
	}

	resp, err := srv.Client().Get(srv.URL + "/workspaces/o/api/v1/query?" + url.Values{"query": {"sum(m) + sum(m)"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "--query-max-length") {
		t.Fatalf("query longer than WithQueryLimits' MaxLength: %d %s, want 400 naming --query-max-length", resp.StatusCode, body)
	}

	// While open, the directory is the workspace's; once closed, it can
	// be opened again.
	if _, err := workspace.Open(dir); !errors.Is(err, store.ErrInUse) {
		t.Fatalf("second Open of an open directory: %v, want store.ErrInUse", err)
	}
	if err := ws.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ws.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	again, err := workspace.Open(dir)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	if err := again.Close(); err != nil {
		t.Fatal(err)
	}
}
