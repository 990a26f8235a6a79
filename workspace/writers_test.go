package workspace_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rwkit/rwkit/wire"
	"github.com/rwkit/rwkit/workspace"
)

// TestWritersFigures: each writer's series count follows its series as
// another writer takes them over, as they are evicted from the bounded
// series table (4 series here: two generations of 2) and as they come back
// from the older generation; its last-seen time is when it last wrote,
// and stays when its series are taken over or evicted.
func TestWritersFigures(t *testing.T) {
	base := time.Now().Truncate(time.Second).Add(-time.Minute)
	now := base
	e := newEnv(t, "amp", workspace.WithMaxTrackedSeries(4), workspace.WithClock(func() time.Time { return now }))
	h := e.ws.Handler()
	push := func(sec int, writer string, targets ...string) {
		t.Helper()
		now = base.Add(time.Duration(sec) * time.Second)
		var ss []wire.TimeSeries
		for _, target := range targets {
			ss = append(ss, series(float64(sec), now.UnixMilli(), "__name__", "up", "target", target))
		}
		req := httptest.NewRequest(http.MethodPost, "/workspaces/figures/api/v1/remote_write", bytes.NewReader(rw1Body(ss...)))
		req.Header.Set("Content-Type", "application/x-protobuf")
		req.Header.Set("Content-Encoding", "snappy")
		req.Header.Set("User-Agent", writer) // the series carry no identity label: the User-Agent tells the writers apart
		req.RemoteAddr = "192.0.2.1:4000"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s at %ds: %d %s", writer, sec, rec.Code, rec.Body)
		}
	}
	type row struct {
		Writer   string
		Series   int
		LastSeen int // seconds after base, -1 for never
	}
	check := func(when string, want []row) {
		t.Helper()
		var got []row
		for _, w := range e.ws.Writers("figures") {
			r := row{Writer: w.UserAgent, Series: w.Series, LastSeen: -1}
			if !w.LastSeen.IsZero() {
				r.LastSeen = int(w.LastSeen.Sub(base) / time.Second)
			}
			got = append(got, r)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s: writers (-want +got):\n%s", when, d)
		}
	}

	push(1, "a", "x1", "x2")
	push(2, "b", "x1") // b takes x1 over from a
	check("after a takeover", []row{{"b", 1, 2}, {"a", 1, 1}})
	push(3, "c", "y1") // the table rotates: x1 and x2 in the older generation
	push(4, "c", "y2")
	push(5, "c", "y3") // rotates again: x1 and x2 evicted
	check("after an eviction", []row{{"c", 3, 5}, {"b", 0, 2}, {"a", 0, 1}})
	push(6, "a", "y1") // a takes y1 over from the older generation
	check("after a takeover from the older generation", []row{{"a", 1, 6}, {"c", 2, 5}, {"b", 0, 2}})
}
