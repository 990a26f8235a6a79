package workspace_test

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
	"github.com/rwkit/rwkit/workspace"
)

// clock is a settable clock for WithClock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// haSeries is up{cluster, __replica__} with one sample (labels sorted).
func haSeries(cluster, replica string, ts int64, v float64) wire.TimeSeries {
	ls := []string{"__name__", "up"}
	if replica != "" {
		ls = append(ls, "__replica__", replica)
	}
	if cluster != "" {
		ls = append(ls, "cluster", cluster)
	}
	return series(v, ts, append(ls, "job", "node")...)
}

// TestHADeduplication follows one HA pair through Cortex's HA tracker as
// the amp profile plays it: election, deduplication, no refresh within the
// update timeout, failover after the failover timeout.
func TestHADeduplication(t *testing.T) {
	clk := &clock{now: time.Now()}
	e := newEnv(t, "amp", workspace.WithClock(clk.Now))
	path := "/workspaces/ha/api/v1/remote_write"
	t0 := clk.Now().UnixMilli()
	steps := []struct {
		name     string
		advance  time.Duration
		replica  string
		status   int
		body     string // prefix
		elected  string
		dedupTot float64
	}{
		{"first replica is elected", 0, "a", 200, "", "a", 0},
		{"other replica is deduplicated", time.Second, "b", 202, "replicas did not match, rejecting sample: replica=b, elected=a\n", "a", 1},
		{"elected again", 13 * time.Second, "a", 200, "", "a", 1},
		// 16s after the election: the update timeout (15s) has passed, so
		// this refreshes the election's time.
		{"elected refreshes", 2 * time.Second, "a", 200, "", "a", 1},
		// 29s after the refresh: within the failover timeout (30s).
		{"other replica within the failover timeout", 29 * time.Second, "b", 202, "replicas did not match, rejecting sample: replica=b, elected=a", "a", 2},
		{"other replica takes over", time.Second, "b", 200, "", "b", 2},
		{"former elected is deduplicated", time.Second, "a", 202, "replicas did not match, rejecting sample: replica=a, elected=b", "b", 3},
	}
	for i, s := range steps {
		clk.advance(s.advance)
		ts := t0 + int64(i)*1000
		r := e.push(t, path, rw1Body(haSeries("prom-1", s.replica, ts, float64(i))))
		if r.status != s.status || !strings.HasPrefix(r.body, s.body) {
			t.Fatalf("%s: %d %q, want %d %q...", s.name, r.status, r.body, s.status, s.body)
		}
		st := e.ws.HA("ha")
		if len(st.Clusters) != 1 || st.Clusters[0].Elected != s.elected {
			t.Fatalf("%s: HA status %+v, want %s elected", s.name, st, s.elected)
		}
		if got := metric(t, e, "rwkit_ha_deduplicated_samples_total", "cluster", "prom-1", "workspace", "ha"); got != s.dedupTot {
			t.Errorf("%s: rwkit_ha_deduplicated_samples_total = %v, want %v", s.name, got, s.dedupTot)
		}
	}
	// One series, without __replica__, holding the elected replicas'
	// samples only.
	got := e.query(t, "/workspaces/ha", "count_over_time(up[10m])", t0+10_000)
	want := map[string]string{"cluster=prom-1,job=node": "4"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("stored (-want +got):\n%s", d)
	}
	if got := values(t, e, "rwkit_discarded_samples_total"); len(got) != 0 {
		t.Errorf("deduplicated samples counted as discarded: %v", got)
	}
	if got := metric(t, e, "rwkit_ha_elected_replica_changes_total", "cluster", "prom-1", "workspace", "ha"); got != 1 {
		t.Errorf("rwkit_ha_elected_replica_changes_total = %v, want 1", got)
	}
	if g := values(t, e, "rwkit_ha_elected_replica_timestamp_seconds"); len(g) != 1 || g["cluster=prom-1,replica=b,workspace=ha"] == 0 {
		t.Errorf("rwkit_ha_elected_replica_timestamp_seconds = %v, want one series for replica b", g)
	}
	st := e.ws.HA("ha")
	if c := st.Clusters[0]; !st.Enabled || c.Changes != 1 || c.DeduplicatedSamples != 3 || c.LastDeduplicated != "a" {
		t.Errorf("HA status %+v", st)
	}
	resp, err := e.srv.Client().Get(e.srv.URL + "/workspaces/ha/api/v1/ha")
	if err != nil {
		t.Fatal(err)
	}
	var served workspace.HAStatus
	if err := json.NewDecoder(resp.Body).Decode(&served); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if d := cmp.Diff(st, served); d != "" {
		t.Errorf("GET .../api/v1/ha (-Workspace.HA +served):\n%s", d)
	}
}

// TestHARequestShapes: the first series decides for the whole request;
// one label alone is no HA request.
func TestHARequestShapes(t *testing.T) {
	e := newEnv(t, "amp")
	path := "/workspaces/shapes/api/v1/remote_write"
	ts := nowMs()
	// Elect a for prom-1.
	if r := e.push(t, path, rw1Body(haSeries("prom-1", "a", ts, 1))); r.status != 200 {
		t.Fatalf("%d %q", r.status, r.body)
	}
	cases := []struct {
		name   string
		series []wire.TimeSeries
		status int
	}{
		// The second series is b's, but the first decides: all stored,
		// __replica__ removed from both.
		{"elected first", []wire.TimeSeries{haSeries("prom-1", "a", ts+1, 2), series(2, ts+1, "__name__", "second", "__replica__", "b", "cluster", "prom-1")}, 200},
		// b first: the whole request is deduplicated, a's series too.
		{"deduplicated first", []wire.TimeSeries{haSeries("prom-1", "b", ts+2, 3), series(3, ts+2, "__name__", "third", "__replica__", "a", "cluster", "prom-1")}, 202},
		// No HA labels on the first series: an ordinary request; the
		// second keeps its __replica__.
		{"ordinary first", []wire.TimeSeries{series(4, ts+3, "__name__", "plain"), series(4, ts+3, "__name__", "fourth", "__replica__", "b", "cluster", "prom-1")}, 200},
		{"replica only", []wire.TimeSeries{series(5, ts+4, "__name__", "lonely", "__replica__", "b")}, 200},
		{"cluster only", []wire.TimeSeries{series(6, ts+5, "__name__", "clustered", "cluster", "prom-1")}, 200},
		// A replica value past max_label_value_length is not tracked:
		// validation refuses it rather than a 202 (Cortex's checkSample).
		{"replica too long", []wire.TimeSeries{haSeries("prom-1", strings.Repeat("r", 2049), ts+6, 7)}, 400},
	}
	for _, c := range cases {
		if r := e.push(t, path, rw1Body(c.series...)); r.status != c.status {
			t.Errorf("%s: %d %q, want %d", c.name, r.status, r.body, c.status)
		}
	}
	got := e.query(t, "/workspaces/shapes", `{__name__!=""}`, ts+10)
	want := map[string]string{
		"__name__=up,cluster=prom-1,job=node":          "2",
		"__name__=second,cluster=prom-1":               "2",
		"__name__=plain":                               "4",
		"__name__=fourth,__replica__=b,cluster=prom-1": "4",
		"__name__=lonely,__replica__=b":                "5",
		"__name__=clustered,cluster=prom-1":            "6",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("stored (-want +got):\n%s", d)
	}
}

// TestHAMaxClusters: one cluster more than ha_max_clusters is refused
// whole with Cortex's 400 and counted as too_many_ha_clusters.
func TestHAMaxClusters(t *testing.T) {
	lim, _ := validate.Profile("cortex")
	lim.AcceptHASamples, lim.HAMaxClusters = true, 1
	e := newEnvLimits(t, lim, workspace.WithLimitNames(workspace.LimitNames{HAMaxClusters: "rwkit serve --ha-max-clusters"}))
	ts := nowMs()
	path := "/workspaces/max/api/v1/remote_write"
	if r := e.push(t, path, rw1Body(haSeries("prom-1", "a", ts, 1))); r.status != 200 {
		t.Fatalf("%d %q", r.status, r.body)
	}
	r := e.push(t, path, rw1Body(haSeries("prom-2", "a", ts, 1), series(1, ts, "__name__", "other")))
	if r.status != 400 || !strings.HasPrefix(r.body, "too many HA replicaGroups (limit: 1)\n") || !strings.Contains(r.body, "rwkit serve --ha-max-clusters") {
		t.Fatalf("%d %q", r.status, r.body)
	}
	if got := metric(t, e, "rwkit_discarded_samples_total", "reason", "too_many_ha_clusters", "workspace", "max"); got != 2 {
		t.Errorf("too_many_ha_clusters = %v, want 2", got)
	}
}

// TestHAOffByDefaultForCortex: the cortex profile stores both replicas
// (accept_ha_samples is off by default in Cortex).
func TestHAOffByDefaultForCortex(t *testing.T) {
	e := newEnv(t, "cortex")
	ts := nowMs()
	for _, rep := range []string{"a", "b"} {
		if r := e.push(t, "/workspaces/c/api/v1/remote_write", rw1Body(haSeries("prom-1", rep, ts, 1))); r.status != 200 {
			t.Fatalf("%s: %d %q", rep, r.status, r.body)
		}
	}
	if got := e.query(t, "/workspaces/c", "up", ts); len(got) != 2 {
		t.Errorf("stored %v, want both replicas' series", got)
	}
	if e.ws.HA("c").Enabled {
		t.Error("HA status says enabled")
	}
}

// TestHARW2Written: a deduplicated RW 2.0 write is answered 202 with
// Written headers counting everything, as Cortex does.
func TestHARW2Written(t *testing.T) {
	e := newEnv(t, "amp")
	ts := nowMs()
	h := []string{"Content-Type", wire.V2.ContentType(), "X-Prometheus-Remote-Write-Version", "2.0.0"}
	path := "/workspaces/v2/api/v1/remote_write"
	if r := e.push(t, path, rw2Body(haSeries("prom-1", "a", ts, 1)), h...); r.status != 204 {
		t.Fatalf("%d %q", r.status, r.body)
	}
	r := e.push(t, path, rw2Body(haSeries("prom-1", "b", ts, 1), haSeries("prom-1", "b", ts+1, 2)), h...)
	if r.status != 202 || r.header.Get("X-Prometheus-Remote-Write-Samples-Written") != "2" {
		t.Errorf("%d %q %v", r.status, r.body, r.header)
	}
}

func TestHAConfigErrors(t *testing.T) {
	for _, c := range []struct {
		name  string
		tweak func(*validate.Limits)
		want  string
	}{
		{"prometheus", func(l *validate.Limits) { *l, _ = validate.Profile("prometheus"); l.AcceptHASamples = true }, "use a Cortex profile"},
		{"failover too short", func(l *validate.Limits) { l.HAFailoverTimeout = l.HAUpdateTimeout }, "validate.Limits.HAFailoverTimeout (15s) must be at least 1s more than the update timeout validate.Limits.HAUpdateTimeout (15s)"},
		{"same labels", func(l *validate.Limits) { l.HAReplicaLabel = "cluster" }, "they must differ"},
		{"negative max", func(l *validate.Limits) { l.HAMaxClusters = -1 }, "validate.Limits.HAMaxClusters (-1) must not be negative"},
	} {
		lim, _ := validate.Profile("amp")
		c.tweak(&lim)
		_, err := workspace.Open(t.TempDir(), workspace.WithLimits(lim))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

// values returns a counter's or gauge's values by label set.
func values(t *testing.T, e *env, name string) map[string]float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			ls := map[string]string{}
			for _, l := range m.GetLabel() {
				ls[l.GetName()] = l.GetValue()
			}
			out[metricKey(ls)] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	return out
}
