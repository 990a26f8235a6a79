package difftest_test

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rwkit/rwkit/internal/cortextest"
	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
	"github.com/rwkit/rwkit/workspace"
	"github.com/rwkit/rwkit/workspace/workspacetest"
)

// The HA tracker's timings on both sides: short, so that a failover takes
// seconds (Cortex requires failover >= update + jitter + 1s; the jitter is
// 0 on both). Sleeps in the scenarios keep haMargin away from every
// boundary, so that the few milliseconds between a request's arrival at
// Cortex and at the workspace never matter.
const (
	haUpdate   = time.Second
	haFailover = 2 * time.Second
	haMargin   = 500 * time.Millisecond
	// haMaxClusters is ha_max_clusters on both.
	haMaxClusters = 2
)

// haStep is one request of an HA scenario, sent after a pause.
type haStep struct {
	pause time.Duration
	req   request
}

type haScenario struct {
	name  string
	steps func(base int64) []haStep
	// kvText: a known difference (casWrapped says why): Cortex's text for
	// at least one deduplicated request is wrapped by its KV client. The
	// test asserts that it was.
	kvText bool
}

// casWrapped is why Cortex's text for a deduplicated request can carry a
// prefix the workspace's lacks.
const casWrapped = "when the elected replica's time is older than the update timeout, Cortex decides in its KV store's CAS, " +
	"and the memberlist KV client wraps the text (\"failed to CAS-update key ha-tracker/<tenant>/<cluster>: fn returned error: \"); " +
	"from its cache, and with consul or etcd, Cortex answers the bare text, which the workspace always answers"

// casWrapper is the memberlist KV client's wrapping of the HA tracker's
// text (pkg/ring/kv/memberlist/memberlist_client.go CAS).
var casWrapper = regexp.MustCompile(`^failed to CAS-update key \S+: fn returned error: `)

// haObservation is what one side did with an HA scenario.
type haObservation struct {
	// Statuses are exact: 200 and 202 differ here.
	Statuses []string
	// Bodies are the first lines of the non-200 answers.
	Bodies   []string
	Samples  map[string][]string
	Discards map[string]float64
	// Deduplicated samples by cluster (Cortex's
	// cortex_distributor_deduped_samples_total{user,cluster}).
	Deduplicated map[string]float64
}

// TestHADeduplicationMatchesCortex holds the workspace's HA deduplication
// (profile cortex with accept_ha_samples) against Cortex's HA tracker:
// the same statuses, texts, stored samples, discards and deduplicated
// counts, with no known difference.
func TestHADeduplicationMatchesCortex(t *testing.T) {
	start := time.Now()
	c := cortextest.StartWith(t, cortextest.Options{
		Limits:    map[string]string{"ha_max_clusters": strconv.Itoa(haMaxClusters)},
		HATracker: &cortextest.HATracker{UpdateTimeout: haUpdate, FailoverTimeout: haFailover},
	})
	lim, err := validate.Profile("cortex")
	if err != nil {
		t.Fatal(err)
	}
	lim.IngestionRate, lim.IngestionBurstSize = highRate, highRate
	lim.AcceptHASamples, lim.HAMaxClusters = true, haMaxClusters
	lim.HAUpdateTimeout, lim.HAFailoverTimeout = haUpdate, haFailover
	ws := workspacetest.Start(t, workspace.WithLimits(lim))
	t.Logf("Cortex with its HA tracker and the workspace ready in %v", time.Since(start).Round(time.Millisecond))

	ctx := context.Background()
	for i, sc := range haScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			tenant := fmt.Sprintf("ha-%02d-%s", i, sc.name)
			base := time.Now().Add(-time.Minute).Truncate(time.Second).UnixMilli()
			var co, wo haObservation
			wrapped := false
			for j, s := range sc.steps(base) {
				time.Sleep(s.pause)
				body := s.req.encode()
				cs, cb := post(t, ctx, c.PushURL, tenant, body, s.req)
				wst, wb := post(t, ctx, ws.HTTP.URL+"/api/v1/push", tenant, body, s.req)
				t.Logf("request %d: cortex %d %q; workspace %d %q", j, cs, firstLine(cb), wst, firstLine(wb))
				co.Statuses = append(co.Statuses, strconv.Itoa(cs))
				wo.Statuses = append(wo.Statuses, strconv.Itoa(wst))
				if cs != 200 {
					core := cortexCore(cb)
					if cs == 202 && casWrapper.MatchString(core) {
						// Whether Cortex's cache or its KV store decides can
						// race with the KV store's watch: it is asserted only
						// where the scenario makes it certain (kvText).
						wrapped = true
						core = casWrapper.ReplaceAllString(core, "")
					}
					co.Bodies = append(co.Bodies, core)
				}
				if wst != 200 {
					wo.Bodies = append(wo.Bodies, firstLine(wb))
				}
			}
			at := time.UnixMilli(base).Add(15 * time.Minute)
			co.Samples = stored(t, ctx, c.QueryURL, tenant, at, base)
			wo.Samples = stored(t, ctx, ws.HTTP.URL+"/prometheus", tenant, at, base)
			co.Discards = cortexDiscards(t, ctx, c, tenant)
			wo.Discards = workspaceDiscards(t, ws.Workspace.Registry(), tenant)
			co.Deduplicated = cortexDeduplicated(t, ctx, c, tenant)
			wo.Deduplicated = workspaceDeduplicated(t, ws.Workspace.Registry(), tenant)
			t.Logf("cortex: %+v", co)
			if sc.kvText {
				t.Logf("known difference: %s", casWrapped)
				if !wrapped {
					t.Errorf("known difference (%s) did not show: Cortex answered the bare text; remove the marker", casWrapped)
				}
			}
			if d := cmp.Diff(co, wo); d != "" {
				t.Errorf("the workspace differs from Cortex (-cortex +workspace):\n%s", d)
			}
		})
	}
	t.Logf("total %v", time.Since(start).Round(time.Millisecond))
}

// rep is up{job, cluster, __replica__} (labels sorted; either label left
// out when empty).
func rep(cluster, replica string) []string {
	l := []string{"__name__", "up"}
	if replica != "" {
		l = append(l, "__replica__", replica)
	}
	if cluster != "" {
		l = append(l, "cluster", cluster)
	}
	return append(l, "job", "node")
}

func step(pause time.Duration, series ...wire.TimeSeries) haStep {
	return haStep{pause: pause, req: rw1(series...)}
}

func haScenarios() []haScenario {
	return []haScenario{
		{name: "elected-stored-without-replica", steps: func(b int64) []haStep {
			return []haStep{
				step(0, ser(rep("c1", "a"), at(b, 1))),
				step(0, ser(rep("c1", "b"), at(b, 2))),
				step(0, ser(rep("c1", "a"), at(b+1000, 3))),
				step(0, ser(rep("c1", "b"), at(b+1000, 4)), ser(ls("__name__", "other", "cluster", "c1"), at(b+1000, 4))),
			}
		}},
		{name: "failover-after-timeout", steps: func(b int64) []haStep {
			return []haStep{
				step(0, ser(rep("c1", "a"), at(b, 1))),
				step(0, ser(rep("c1", "b"), at(b, 2))),
				// a is silent for the failover timeout: b takes over.
				step(haFailover+haMargin, ser(rep("c1", "b"), at(b+1000, 3))),
				step(0, ser(rep("c1", "a"), at(b+2000, 4))),
			}
		}},
		{name: "refresh-delays-failover", kvText: true, steps: func(b int64) []haStep {
			return []haStep{
				step(0, ser(rep("c1", "a"), at(b, 1))),
				// Past the update timeout: a's time is refreshed ...
				step(haUpdate+haMargin, ser(rep("c1", "a"), at(b+1000, 2))),
				// ... so that b, past the failover timeout since the
				// election but not since the refresh, is deduplicated.
				step(haFailover-haUpdate, ser(rep("c1", "b"), at(b+2000, 3))),
				// b's answered request refreshed nothing: once a's refresh
				// is the failover timeout old, b takes over.
				step(haUpdate+haMargin, ser(rep("c1", "b"), at(b+3000, 4))),
			}
		}},
		{name: "first-series-decides", steps: func(b int64) []haStep {
			return []haStep{
				step(0, ser(rep("c1", "a"), at(b, 1))),
				// The elected replica first: all stored, __replica__ removed
				// from every series.
				step(0, ser(rep("c1", "a"), at(b+1000, 2)), ser(ls("__name__", "second", "__replica__", "b", "cluster", "c1"), at(b+1000, 2))),
				// Another replica first: nothing stored.
				step(0, ser(rep("c1", "b"), at(b+2000, 3)), ser(ls("__name__", "third", "__replica__", "a", "cluster", "c1"), at(b+2000, 3))),
				// An ordinary series first: an ordinary request.
				step(0, ser(ls("__name__", "plain"), at(b+3000, 4)), ser(ls("__name__", "fourth", "__replica__", "b", "cluster", "c1"), at(b+3000, 4))),
			}
		}},
		{name: "one-label-only", steps: func(b int64) []haStep {
			return []haStep{
				step(0, ser(ls("__name__", "lonely", "__replica__", "a"), at(b, 1))),
				step(0, ser(ls("__name__", "lonely", "__replica__", "b"), at(b, 2))),
				step(0, ser(ls("__name__", "clustered", "cluster", "c1"), at(b, 3))),
			}
		}},
		{name: "deduplicated-before-validation", steps: func(b int64) []haStep {
			return []haStep{
				step(0, ser(rep("c1", "a"), at(b, 1))),
				// Invalid (a bad label name), but b's: 202, no discard.
				step(0, ser(ls("__name__", "up", "__replica__", "b", "bad-label", "x", "cluster", "c1"), at(b, 2))),
				// Invalid and a's: refused by validation.
				step(0, ser(ls("__name__", "up", "__replica__", "a", "bad-label", "x", "cluster", "c1"), at(b, 3))),
			}
		}},
		{name: "replica-too-long", steps: func(b int64) []haStep {
			long := strings.Repeat("r", 2049) // past max_label_value_length (2048)
			return []haStep{
				step(0, ser(rep("c1", "a"), at(b, 1))),
				// Not tracked (checkSample): validation refuses it, as
				// label_value_too_long, instead of a 202.
				step(0, ser(rep("c1", long), at(b, 2))),
			}
		}},
		{name: "too-many-clusters", steps: func(b int64) []haStep {
			return []haStep{
				step(0, ser(rep("c1", "a"), at(b, 1))),
				step(0, ser(rep("c2", "a"), at(b, 2))),
				// Cortex counts the clusters it knows from its KV store's
				// watch, which follows the CAS by a few milliseconds.
				step(haMargin, ser(rep("c3", "a"), at(b, 3)), ser(ls("__name__", "other"), at(b, 3))),
				step(0, ser(rep("c2", "b"), at(b, 4))),
			}
		}},
	}
}

// cortexDeduplicated reads the distributor's
// cortex_distributor_deduped_samples_total{user=tenant} by cluster.
func cortexDeduplicated(t *testing.T, ctx context.Context, c *cortextest.Cortex, tenant string) map[string]float64 {
	t.Helper()
	text, err := c.Distributor.Metrics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, l := range cortextest.MetricLines(text, "cortex_distributor_deduped_samples_total") {
		if !strings.Contains(l, `user="`+tenant+`"`) {
			continue
		}
		m := clusterRE.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("no cluster in %q", l)
		}
		v, err := strconv.ParseFloat(l[strings.LastIndexByte(l, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		out[m[1]] += v
	}
	return out
}

var clusterRE = regexp.MustCompile(`cluster="([^"]*)"`)

// workspaceDeduplicated reads rwkit_ha_deduplicated_samples_total{workspace=tenant} by cluster.
func workspaceDeduplicated(t *testing.T, reg *prometheus.Registry, tenant string) map[string]float64 {
	t.Helper()
	return workspaceCounterBy(t, reg, "rwkit_ha_deduplicated_samples_total", "cluster", tenant)
}
