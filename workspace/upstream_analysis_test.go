package workspace_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/rwkit/rwkit/workspace"
)

// The pass-through's dry run (nothing stored) still finds what the store
// would within one request: a second value for a series and timestamp,
// and an older sample, which the backend drops at commit; both are
// reported as dropped, the same writer on both sides.
func TestUpstreamDryRunWithinRequest(t *testing.T) {
	up := newFakeUpstream(t, func(rw http.ResponseWriter) { rw.WriteHeader(http.StatusOK) })
	e := newUpstreamEnv(t, up.srv.URL)
	ts := nowMs()
	body := rw1Body(
		series(1, ts, "__name__", "twice", "job", "app"),
		series(2, ts, "__name__", "twice", "job", "app"),
		series(1, ts, "__name__", "older", "job", "app"),
		series(1, ts-1000, "__name__", "older", "job", "app"),
		series(1, ts, "__name__", "fine", "job", "app"),
	)
	if got := e.push(t, "/workspaces/ws-1/api/v1/remote_write", body, "User-Agent", "writer-a"); got.status != http.StatusOK {
		t.Fatalf("write: %d %q, want the upstream's 200", got.status, got.body)
	}
	var kinds []string
	for _, c := range e.collisions(t, "ws-1") {
		if c.Kind != workspace.KindDroppedWithinRequest || c.NewWriter.UserAgent != "writer-a" {
			t.Errorf("collision %+v: want a dropped-within-request of writer-a", c)
		}
		kinds = append(kinds, c.Reason+" "+seriesText(c.Series))
	}
	want := []string{`new-value-for-timestamp {__name__="twice", job="app"}`, `sample-out-of-order {__name__="older", job="app"}`}
	if len(kinds) != 2 || !strings.Contains(strings.Join(kinds, "\n"), want[0]) || !strings.Contains(strings.Join(kinds, "\n"), want[1]) {
		t.Errorf("collisions %q, want %q", kinds, want)
	}
	if err := testutil.GatherAndCompare(e.reg, strings.NewReader(`
# HELP rwkit_dropped_samples_total Samples the modelled backend accepts with 2xx and drops without counting them (Cortex: a second value for one series and timestamp, or an older sample, in the same request; the earlier sample is kept), by the reason it would have had. Not in rwkit_discarded_samples_total, as not in Cortex's discard counter; --strict refuses them instead.
# TYPE rwkit_dropped_samples_total counter
rwkit_dropped_samples_total{reason="new-value-for-timestamp",workspace="ws-1"} 1
rwkit_dropped_samples_total{reason="sample-out-of-order",workspace="ws-1"} 1
`), "rwkit_dropped_samples_total"); err != nil {
		t.Error(err)
	}
}
