package workspace_test

import (
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rwkit/rwkit/wire"
)

// TestPrometheusProfileRW2: Prometheus 3 answers RW 2.0 unlike 1.0: every
// bad series and refused sample is a 400 line naming its series, in
// request order, and the rest is written and counted in the Written
// headers (writeHandler.appendV2). internal/difftest holds this against a
// real Prometheus 3.
func TestPrometheusProfileRW2(t *testing.T) {
	e := newEnv(t, "prometheus")
	ts := nowMs()
	v2 := []string{"Content-Type", wire.V2.ContentType()}
	if r := e.push(t, "/api/v1/write", rw2Body(series(1, ts, "__name__", "x")), v2...); r.status != 204 {
		t.Fatalf("first push: %d %q, want 204", r.status, r.body)
	}
	exemplarOnly := wire.TimeSeries{
		Labels:    []wire.Label{{Name: "__name__", Value: "ex"}},
		Exemplars: []wire.Exemplar{{Labels: []wire.Label{{Name: "trace_id", Value: "a"}}, Value: 1, Timestamp: ts}},
	}
	r := e.push(t, "/api/v1/write", rw2Body(
		series(1, ts, "job", "no-name"),
		series(2, ts, "__name__", "x"),
		exemplarOnly,
		series(3, ts, "__name__", "y"),
		wire.TimeSeries{Samples: []wire.Sample{{Value: 4, Timestamp: ts}}},
	), v2...)
	want := `invalid metric name or labels, got {job="no-name"}` + "\n" +
		"duplicate sample for timestamp " + strconv.FormatInt(ts, 10) + `; overrides not allowed: existing 1, new value 2 for series {__name__="x"}` + "\n" +
		`TimeSeries must contain at least one sample or histogram for series {__name__="ex"}` + "\n" +
		"invalid metric name or labels, got {}\n"
	if r.status != 400 || len(r.body) < len(want) || r.body[:len(want)] != want {
		t.Errorf("%d, body (-want +got):\n%s", r.status, cmp.Diff(want, r.body))
	}
	if got := r.header.Get("X-Prometheus-Remote-Write-Samples-Written"); got != "1" {
		t.Errorf("samples written %q, want 1 (y)", got)
	}
	if got := e.query(t, "/workspaces/default", "y", ts); got["__name__=y"] != "3" {
		t.Errorf("y: %v, want 3 stored (a 400 from appendV2 is a partial write)", got)
	}
}
