package workspace_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
	"github.com/rwkit/rwkit/workspace"
)

// TestPartialIngestion: the valid series of a refused request are stored;
// the answer is the ingester's first error (it beats the distributor's, as
// in Cortex's Distributor.Push), and rwkit's lines count every refusal.
func TestPartialIngestion(t *testing.T) {
	e := newEnv(t, "amp")
	ts := nowMs()
	const path = "/workspaces/ws/api/v1/remote_write"
	if r := e.push(t, path, rw1Body(series(1, ts, "__name__", "x"))); r.status != 200 {
		t.Fatalf("first push: %d %s", r.status, r.body)
	}
	r := e.push(t, path, rw1Body(
		series(2, ts, "__name__", "x"), // new-value-for-timestamp
		series(5, ts, "__name__", "y"),
		series(1, ts, "__name__", "z", "long", strings.Repeat("v", 3000)), // label_value_too_long
		series(6, ts, "__name__", "w"),
	))
	if r.status != 400 {
		t.Fatalf("status %d, want 400: %s", r.status, r.body)
	}
	lines := strings.Split(r.body, "\n")
	if want := "user=ws: err: duplicate sample for timestamp " + strconv.FormatInt(ts, 10) + "; overrides not allowed: existing 1, new value 2. series={__name__=\"x\"}"; lines[0] != want {
		t.Errorf("first line\n got %q\nwant %q", lines[0], want)
	}
	for _, want := range []string{
		"rwkit: discarded 2 samples: label_value_too_long=1, new-value-for-timestamp=1",
		"rwkit: stored the other 2 of 4 samples",
		"same writer",
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("body does not contain %q:\n%s", want, r.body)
		}
	}
	got := e.query(t, "/workspaces/ws", `{__name__=~"x|y|z|w"}`, ts)
	want := map[string]string{"__name__=x": "1", "__name__=y": "5", "__name__=w": "6"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("stored (-want +got):\n%s", d)
	}
	if got := metric(t, e, "rwkit_discarded_samples_total", "reason", "label_value_too_long", "workspace", "ws"); got != 1 {
		t.Errorf("label_value_too_long discards = %v, want 1", got)
	}

	// Only a distributor refusal: its text, Cortex's, and the rest stored.
	r = e.push(t, path, rw1Body(series(1, ts, "__name__", "bad-name"), series(7, ts, "__name__", "v")))
	if r.status != 400 || !strings.HasPrefix(r.body, `sample invalid metric name: "bad-name"`) {
		t.Errorf("distributor refusal: %d %q", r.status, r.body)
	}
	if got := e.query(t, "/workspaces/ws", "v", ts); got["__name__=v"] != "7" {
		t.Errorf("v = %v, want stored", got)
	}
}

// TestOutOfOrderNamesTheWriter: with Cortex's limits (no out-of-order
// window) an older sample is refused and the body says who wrote the
// newest one.
func TestOutOfOrderNamesTheWriter(t *testing.T) {
	e := newEnv(t, "cortex")
	ts := nowMs()
	const path = "/api/v1/push"
	e.push(t, path, rw1Body(series(1, ts, "__name__", "x")), "User-Agent", "writer-a")
	r := e.push(t, path, rw1Body(series(2, ts-1000, "__name__", "x")), "User-Agent", "writer-b")
	if r.status != 400 || !strings.HasPrefix(r.body, "user=default: err: out of order sample. timestamp=") {
		t.Fatalf("%d %q", r.status, r.body)
	}
	if !strings.Contains(r.body, "written by writer (User-Agent writer-a") {
		t.Errorf("body does not name the writer of the newest sample:\n%s", r.body)
	}

	// AMP's 60 s out-of-order window takes the same sample.
	e = newEnv(t, "amp")
	e.push(t, path, rw1Body(series(1, ts, "__name__", "x")))
	if r := e.push(t, path, rw1Body(series(2, ts-1000, "__name__", "x"))); r.status != 200 {
		t.Errorf("amp, 1 s out of order: %d %q, want 200", r.status, r.body)
	}
	if r := e.push(t, path, rw1Body(series(2, ts-120_000, "__name__", "x"))); r.status != 400 || !strings.Contains(r.body, "sample-too-old") {
		t.Errorf("amp, 2 min out of order: %d %q, want 400 sample-too-old", r.status, r.body)
	}
}

// TestIdenticalDuplicateIsAccepted: the same value again is no collision.
func TestIdenticalDuplicateIsAccepted(t *testing.T) {
	e := newEnv(t, "amp")
	ts := nowMs()
	for i := 0; i < 2; i++ {
		if r := e.push(t, "/api/v1/write", rw1Body(series(3, ts, "__name__", "x"))); r.status != 200 {
			t.Fatalf("push %d: %d %q", i, r.status, r.body)
		}
	}
	if cs := e.collisions(t, "default"); len(cs) != 0 {
		t.Errorf("collisions = %+v, want none", cs)
	}
}

// TestAlternatingWriters: two writers taking turns on one series at
// different timestamps are all accepted and reported as
// alternating-writers.
func TestAlternatingWriters(t *testing.T) {
	e := newEnv(t, "amp")
	ts := nowMs()
	for i, w := range []struct {
		ua string
		v  float64
	}{{"writer-a", 10}, {"writer-b", 99}, {"writer-a", 11}} {
		r := e.push(t, "/api/v1/write", rw1Body(series(w.v, ts+int64(i)*1000, "__name__", "zigzag")), "User-Agent", w.ua)
		if r.status != 200 {
			t.Fatalf("push %d: %d %q", i, r.status, r.body)
		}
	}
	cs := e.collisions(t, "default")
	if len(cs) != 1 {
		t.Fatalf("collisions = %+v, want 1", cs)
	}
	c := cs[0]
	if c.Kind != workspace.KindAlternatingWriters || c.ExistingWriter == nil || c.ExistingWriter.UserAgent != "writer-b" ||
		c.NewWriter.UserAgent != "writer-a" || c.ExistingValue != "99" || c.NewValue != "11" || c.Timestamp != ts+2000 {
		t.Errorf("collision = %+v, existing writer %+v", c, c.ExistingWriter)
	}
	if got := metric(t, e, "rwkit_collisions_total", "kind", "alternating-writers", "workspace", "default"); got != 1 {
		t.Errorf("rwkit_collisions_total{kind=alternating-writers} = %v, want 1", got)
	}
}

// TestIdentityLabelsNameTheWriter: a writer's service and instance come
// from its other series when the colliding one has none.
func TestIdentityLabelsNameTheWriter(t *testing.T) {
	e := newEnv(t, "amp")
	ts := nowMs()
	e.push(t, "/api/v1/write", rw1Body(series(1, ts, "__name__", "shared"), series(1, ts, "__name__", "up", "service", "auth", "instance", "i-1")))
	r := e.push(t, "/api/v1/write", rw1Body(series(2, ts, "__name__", "shared"), series(1, ts, "__name__", "up", "service", "bff", "instance", "i-2")))
	for _, want := range []string{`written by writer (instance="i-1", service="auth", User-Agent rwkit-test`, `refused from writer (instance="i-2", service="bff", User-Agent rwkit-test`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("body does not contain %q:\n%s", want, r.body)
		}
	}
}

// TestTenantsAreWorkspaces: X-Scope-OrgID x and /workspaces/x are the same
// data, counters and collisions; other tenants see nothing.
func TestTenantsAreWorkspaces(t *testing.T) {
	e := newEnv(t, "amp")
	ts := nowMs()
	e.push(t, "/api/v1/push", rw1Body(series(1, ts, "__name__", "x")), "X-Scope-OrgID", "team-a")
	r := e.push(t, "/workspaces/team-a/api/v1/remote_write", rw1Body(series(2, ts, "__name__", "x")))
	if r.status != 400 {
		t.Fatalf("same series through the AMP path: %d, want 400 (same tenant)", r.status)
	}
	if got := e.query(t, "/workspaces/team-a", "x", ts); got["__name__=x"] != "1" {
		t.Errorf("/workspaces/team-a: %v", got)
	}
	if got := e.query(t, "/prometheus", "x", ts, "X-Scope-OrgID", "team-a"); got["__name__=x"] != "1" {
		t.Errorf("/prometheus with X-Scope-OrgID: %v", got)
	}
	if got := e.query(t, "/workspaces/team-b", "x", ts); len(got) != 0 {
		t.Errorf("/workspaces/team-b sees %v, want nothing", got)
	}
	if got := e.query(t, "/prometheus", "x", ts); len(got) != 0 {
		t.Errorf("default tenant sees %v, want nothing", got)
	}
	if len(e.collisions(t, "team-a")) != 1 || len(e.collisions(t, "team-b")) != 0 {
		t.Errorf("collisions not per tenant")
	}
	if got := metric(t, e, "rwkit_received_samples_total", "workspace", "team-a"); got != 2 {
		t.Errorf("received{team-a} = %v, want 2", got)
	}
}

// TestRateLimit: over the tenant's ingestion rate the whole request is
// refused with Cortex's 429 before anything is stored.
func TestRateLimit(t *testing.T) {
	lim, _ := validate.Profile("amp")
	lim.IngestionRate, lim.IngestionBurstSize = 1, 2
	now := time.Now()
	e := newEnvLimits(t, lim, workspace.WithClock(func() time.Time { return now }))
	ts := now.UnixMilli()
	r := e.push(t, "/workspaces/ws/api/v1/remote_write", rw1Body(series(1, ts, "__name__", "a"), series(1, ts, "__name__", "b"), series(1, ts, "__name__", "c")))
	if r.status != 429 || !strings.HasPrefix(r.body, "ingestion rate limit (1) exceeded while adding 3 samples and 0 metadata") {
		t.Fatalf("%d %q", r.status, r.body)
	}
	if got := e.query(t, "/workspaces/ws", `{__name__=~"a|b|c"}`, ts); len(got) != 0 {
		t.Errorf("stored %v, want nothing", got)
	}
	if got := metric(t, e, "rwkit_discarded_samples_total", "reason", "rate_limited", "workspace", "ws"); got != 3 {
		t.Errorf("rate_limited = %v, want 3", got)
	}
	if r := e.push(t, "/workspaces/ws/api/v1/remote_write", rw1Body(series(1, ts, "__name__", "a"))); r.status != 200 {
		t.Errorf("within the burst: %d %q", r.status, r.body)
	}
}

func TestSeriesLimits(t *testing.T) {
	ts := nowMs()
	t.Run("per user", func(t *testing.T) {
		lim, _ := validate.Profile("amp")
		lim.MaxSeriesPerUser = 2
		e := newEnvLimits(t, lim)
		r := e.push(t, "/api/v1/write", rw1Body(series(1, ts, "__name__", "a"), series(1, ts, "__name__", "b"), series(1, ts, "__name__", "c")))
		want := "user=default: per-user series limit of 2 exceeded, please contact administrator to raise it (local limit: 2 global limit: 0 actual local limit: 2)"
		if r.status != 400 || !strings.HasPrefix(r.body, want+"\n") {
			t.Fatalf("%d %q", r.status, r.body)
		}
		if got := e.query(t, "/workspaces/default", `{__name__=~"a|b|c"}`, ts); len(got) != 2 {
			t.Errorf("stored %v, want 2 series", got)
		}
		// An existing series still takes samples.
		if r := e.push(t, "/api/v1/write", rw1Body(series(2, ts+1, "__name__", "a"))); r.status != 200 {
			t.Errorf("existing series: %d %q", r.status, r.body)
		}
	})
	t.Run("per metric", func(t *testing.T) {
		lim, _ := validate.Profile("amp")
		lim.MaxSeriesPerMetric = 1
		e := newEnvLimits(t, lim)
		r := e.push(t, "/api/v1/write", rw1Body(series(1, ts, "__name__", "a", "i", "1"), series(1, ts, "__name__", "a", "i", "2"), series(1, ts, "__name__", "b")))
		want := `user=default: per-metric series limit of 1 exceeded for metric a, please contact administrator to raise it (local limit: 1 global limit: 0 actual local limit: 1) for series {__name__="a", i="2"}`
		if r.status != 400 || !strings.HasPrefix(r.body, want+"\n") {
			t.Fatalf("%d %q", r.status, r.body)
		}
		if got := metric(t, e, "rwkit_discarded_samples_total", "reason", "per_metric_series_limit", "workspace", "default"); got != 1 {
			t.Errorf("per_metric_series_limit = %v, want 1", got)
		}
	})
}

// TestPrometheusProfile: like Prometheus' own receiver, the first refused
// sample rolls the whole request back: 400 with the TSDB's text, nothing
// stored; success is 204.
func TestPrometheusProfile(t *testing.T) {
	e := newEnv(t, "prometheus")
	ts := nowMs()
	if r := e.push(t, "/api/v1/write", rw1Body(series(1, ts, "__name__", "x"))); r.status != 204 {
		t.Fatalf("first push: %d %q, want 204", r.status, r.body)
	}
	r := e.push(t, "/api/v1/write", rw1Body(series(1, ts, "__name__", "y"), series(2, ts, "__name__", "x")))
	want := "duplicate sample for timestamp " + strconv.FormatInt(ts, 10) + "; overrides not allowed: existing 1, new value 2"
	if r.status != 400 || !strings.HasPrefix(r.body, want+"\n") {
		t.Fatalf("%d %q, want 400 %q", r.status, r.body, want)
	}
	// The rolled-back valid sample is no discard (Prometheus counts none,
	// the sender hears the 400): the body says so and rwkit counts it on a
	// counter of its own.
	if !strings.Contains(r.body, "rwkit: discarded 1 samples: new-value-for-timestamp=1\nrwkit: stored none of the 2 samples (the request is refused as a whole: 1 valid samples not stored)") {
		t.Errorf("body does not count the rolled-back sample:\n%s", r.body)
	}
	if got := metric(t, e, "rwkit_refused_whole_samples_total", "workspace", "default"); got != 1 {
		t.Errorf("rwkit_refused_whole_samples_total = %v, want 1", got)
	}
	if got := metric(t, e, "rwkit_discarded_samples_total", "reason", "request_refused_whole", "workspace", "default"); got != 0 {
		t.Errorf("rwkit_discarded_samples_total{reason=request_refused_whole} = %v, want none: no backend has that reason", got)
	}
	if got := e.query(t, "/workspaces/default", "y", ts); len(got) != 0 {
		t.Errorf("y stored (%v), want the whole request refused", got)
	}
	// Invalid labels are dropped silently, as Prometheus does.
	if r := e.push(t, "/api/v1/write", rw1Body(series(1, ts, "job", "no-name"), series(1, ts+1, "__name__", "z"))); r.status != 204 {
		t.Errorf("invalid labels: %d %q, want 204", r.status, r.body)
	}
}

// TestRW2PartialWriteHeaders: a refused RW 2.0 request says what was
// written.
func TestRW2PartialWriteHeaders(t *testing.T) {
	e := newEnv(t, "amp")
	ts := nowMs()
	e.push(t, "/api/v1/write", rw1Body(series(1, ts, "__name__", "x")))
	r := e.push(t, "/api/v1/write", rw2Body(series(2, ts, "__name__", "x"), series(1, ts, "__name__", "y")), "Content-Type", wire.V2.ContentType())
	if r.status != 400 || r.header.Get("X-Prometheus-Remote-Write-Samples-Written") != "1" {
		t.Errorf("%d written %q, want 400 and 1 written: %s", r.status, r.header.Get("X-Prometheus-Remote-Write-Samples-Written"), r.body)
	}
	// Cortex refuses an RW 2.0 series without samples outright.
	empty := wire.TimeSeries{Labels: []wire.Label{{Name: "__name__", Value: "e"}}}
	r = e.push(t, "/api/v1/write", rw2Body(empty, series(1, ts, "__name__", "f")), "Content-Type", wire.V2.ContentType())
	if r.status != 400 || !strings.HasPrefix(r.body, `TimeSeries must contain at least one sample or histogram for series {__name__="e"}`) {
		t.Errorf("%d %q", r.status, r.body)
	}
}
