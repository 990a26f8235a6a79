package workspacetest_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
	"github.com/rwkit/rwkit/workspace"
	"github.com/rwkit/rwkit/workspace/workspacetest"
)

// TestStart runs the package example's test against a real workspace.
func TestStart(t *testing.T) { testJobsReachAMP(t) }

// TestStartURLs: the Cortex push URL reaches the X-Scope-OrgID tenant,
// the AMP write URL WorkspaceID, whose data QueryURL answers; options
// replace AMP's limits; Close is safe to call before the test's end.
func TestStartURLs(t *testing.T) {
	lim, err := validate.Profile("cortex")
	if err != nil {
		t.Fatal(err)
	}
	ws := workspacetest.Start(t, workspace.WithLimits(lim))
	if got := ws.Workspace.Limits().Name; got != "cortex" {
		t.Fatalf("limits %q, want the cortex profile given as an option", got)
	}
	now := time.Now().UnixMilli() - 1000 // in the past of the query
	body := func(v float64) []byte {
		req := &wire.WriteRequest{Series: []wire.TimeSeries{{
			Labels:  []wire.Label{{Name: "__name__", Value: "m"}},
			Samples: []wire.Sample{{Value: v, Timestamp: now + int64(v)}},
		}}}
		return wire.Compress(nil, wire.AppendWriteRequest(nil, req))
	}
	post := func(url, tenant string, v float64) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body(v)))
		req.Header.Set("Content-Type", "application/x-protobuf")
		req.Header.Set("Content-Encoding", "snappy")
		if tenant != "" {
			req.Header.Set("X-Scope-OrgID", tenant)
		}
		resp, err := ws.HTTP.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST %s: %d", url, resp.StatusCode)
		}
	}
	post(ws.WriteURL, "", 1)
	post(ws.PushURL, workspacetest.WorkspaceID, 2)
	post(ws.PushURL, "other", 5)
	got := ws.Query(t, "sum(m)")
	// Cortex's profile refuses nothing here; both writes to WorkspaceID
	// are one series, whose newest value is 2.
	if len(got) != 1 || got[0].Value != 2 {
		t.Fatalf("sum(m) in %s: %v, want 2 (the other tenant's 5 kept apart)", workspacetest.WorkspaceID, got)
	}
	if !strings.HasPrefix(ws.WriteURL, ws.QueryURL+"/") {
		t.Fatalf("WriteURL %s is not under QueryURL %s, as AMP's are", ws.WriteURL, ws.QueryURL)
	}
	if err := ws.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ws.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
