package demo

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rwkit/rwkit/push"
	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/verify"
)

// The third act: the right way to run two writers of one series. One
// service is pushed by an HA pair, two replicas sending the very same
// series with the cluster and __replica__ labels (as two Prometheus agents
// with external labels would); the workspace, AMP-shaped, deduplicates
// them as AMP does: one replica's samples are stored, without __replica__,
// the other's are answered 202 and dropped, and nothing collides or is
// discarded.
const (
	// HAService is the service the pair pushes.
	HAService = "auth"
	// HACluster is the pair's cluster label.
	HACluster = "auth-ha"
	// HAQuery shows what is stored of the pair: one series, without
	// __replica__.
	HAQuery = `count by (cluster, __replica__) (jvm_threads_live_threads{cluster="` + HACluster + `"})`
)

// HAReplicas are the pair's __replica__ values.
var HAReplicas = []string{"replica-1", "replica-2"}

// HAReport is the third act.
type HAReport struct {
	Name    string   `json:"name"`
	Service string   `json:"service"`
	Cluster string   `json:"cluster"`
	Options []string `json:"options"`
	// Replicas are the answers each replica got, by HTTP status.
	Replicas []ReplicaAnswers `json:"replicas"`
	// Elected is the replica whose samples were stored.
	Elected      string    `json:"elected"`
	Received     float64   `json:"received_samples"`
	Accepted     float64   `json:"accepted_samples"`
	Deduplicated float64   `json:"deduplicated_samples"`
	Discards     []Discard `json:"discards"`
	// Collisions counts the collision groups the act added.
	Collisions int         `json:"collisions"`
	Query      *QueryProof `json:"query,omitempty"`
}

// ReplicaAnswers counts one replica's answers by status code.
type ReplicaAnswers struct {
	Replica string         `json:"replica"`
	Status  map[string]int `json:"status"`
}

// haPair plays the third act: both replicas push the same service's
// registry each round, at once, with aligned timestamps.
func (d *Demo) haPair(ctx context.Context, round *int) (*HAReport, error) {
	s := newService(0, HAService)
	hr := &HAReport{
		Name:    "an HA pair of " + HAService + ": two replicas, the same series",
		Service: HAService, Cluster: HACluster,
		Options: append([]string{`push.WithService("` + HAService + `")`, `push.WithInstance("` + HAService + `-task-1")`,
			`push.WithLabels({cluster: "` + HACluster + `", __replica__: replica})`}, d.phaseOptions(true)[2:]...),
	}
	pushers := make([]*pusher, len(HAReplicas))
	answers := make([]*statusCounter, len(HAReplicas))
	defer func() {
		for _, p := range pushers {
			if p != nil {
				p.tr.CloseIdleConnections()
			}
		}
	}()
	for i, r := range HAReplicas {
		p, sc, err := d.newReplica(s, r)
		if err != nil {
			return nil, err
		}
		pushers[i], answers[i] = p, sc
	}
	before := d.workspaceCounts()
	dedupBefore := d.deduplicated()
	seen := collisionCounts(d.ws.Collisions(WorkspaceID))
	for r := 0; r < d.opts.Rounds; r++ {
		s.work(*round)
		*round++
		if _, err := waitForInterval(ctx, d.opts.Interval); err != nil {
			return nil, err
		}
		if err := pushAll(ctx, pushers); err != nil {
			return nil, err
		}
	}
	after := d.workspaceCounts()
	hr.Received, hr.Accepted = after.received-before.received, after.accepted-before.accepted
	hr.Deduplicated = d.deduplicated() - dedupBefore
	hr.Discards = discardDeltas(before.discarded, after.discarded)
	_, byKind := newCollisions(seen, d.ws.Collisions(WorkspaceID))
	for _, n := range byKind {
		hr.Collisions += n
	}
	for i, r := range HAReplicas {
		hr.Replicas = append(hr.Replicas, ReplicaAnswers{Replica: r, Status: answers[i].counts()})
		if err := pushers[i].err; err != nil && !isRefusal(err) {
			return nil, fmt.Errorf("demo: HA %s: %w", r, err)
		}
	}
	for _, c := range d.ws.HA(WorkspaceID).Clusters {
		if c.Cluster == HACluster {
			hr.Elected = c.Elected
		}
	}
	qctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := verify.Query(qctx, &http.Client{}, d.QueryURL(), HAQuery, time.Now(), nil)
	if err != nil {
		return nil, fmt.Errorf("demo: query %s: %w", HAQuery, err)
	}
	hr.Query = &QueryProof{Query: HAQuery, Samples: res.Samples}
	return hr, nil
}

// newReplica is one replica's pusher: the service's registry, the pair's
// labels, and a transport that counts the answers.
func (d *Demo) newReplica(s *service, replica string) (*pusher, *statusCounter, error) {
	self := prometheus.NewRegistry()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	sc := &statusCounter{next: tr, n: map[string]int{}}
	p, err := push.New(d.WriteURL(), prometheus.Gatherers{s.reg, self},
		push.WithInterval(d.opts.Interval),
		push.WithAlignedTimestamps(),
		push.WithTimeout(pushTimeout),
		push.WithRegisterer(self),
		push.WithHTTPClient(&http.Client{Transport: sc}),
		push.WithClientOptions(remotewrite.WithUserAgent(s.name+"-"+replica+"/demo")),
		push.WithService(s.name), push.WithInstance(s.name+"-task-1"),
		push.WithLabels(map[string]string{"cluster": HACluster, "__replica__": replica}),
	)
	if err != nil {
		return nil, nil, fmt.Errorf("demo: HA %s: %w", replica, err)
	}
	return &pusher{svc: s, p: p, self: self, tr: tr}, sc, nil
}

// deduplicated is rwkit_ha_deduplicated_samples_total of the demo's
// workspace and the pair's cluster.
func (d *Demo) deduplicated() float64 {
	fams, _ := d.ws.Registry().Gather()
	sum := 0.0
	for _, mf := range fams {
		if mf.GetName() != "rwkit_ha_deduplicated_samples_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label(m, "workspace") == WorkspaceID && label(m, "cluster") == HACluster {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// statusCounter counts the status codes of the answers it carries.
type statusCounter struct {
	next http.RoundTripper
	mu   sync.Mutex
	n    map[string]int
}

func (c *statusCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if err == nil {
		c.mu.Lock()
		c.n[fmt.Sprint(resp.StatusCode)]++
		c.mu.Unlock()
	}
	return resp, err
}

func (c *statusCounter) counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.n))
	for k, v := range c.n {
		out[k] = v
	}
	return out
}

// haChecks state the third act: one replica stored, the other answered 202
// and not stored, nothing discarded or colliding; one series without
// __replica__.
func haChecks(hr *HAReport, rounds int) []Check {
	var got []string
	stored, deduped := 0, 0
	for _, r := range hr.Replicas {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(r.Status)) {
			parts = append(parts, fmt.Sprintf("%d x %s", r.Status[k], k))
		}
		got = append(got, r.Replica+" "+strings.Join(parts, ","))
		switch {
		case r.Status["200"] == rounds && len(r.Status) == 1:
			stored++
		case r.Status["202"] == rounds && len(r.Status) == 1:
			deduped++
		}
	}
	discards := 0.0
	for _, d := range hr.Discards {
		discards += d.Samples
	}
	pair := Check{
		Name: "phase 3: HA pair: one replica stored, the other 202, no discards",
		Pass: stored == 1 && deduped == 1 && hr.Deduplicated > 0 && discards == 0 && hr.Collisions == 0,
		Got: fmt.Sprintf("%s; %s deduplicated, %s discarded, %d collisions", strings.Join(got, "; "),
			formatCount(hr.Deduplicated), formatCount(discards), hr.Collisions),
	}
	one := Check{Name: "phase 3: HA pair stored as one series, without __replica__", Got: "no query"}
	if q := hr.Query; q != nil {
		var series []string
		for _, s := range q.Samples {
			series = append(series, verify.LabelString(s.Labels)+" "+formatCount(s.Value))
		}
		one.Got = fmt.Sprintf("%d series", len(q.Samples))
		if len(series) > 0 {
			one.Got += ": " + strings.Join(series, ", ")
		}
		one.Pass = len(q.Samples) == 1 && q.Samples[0].Labels["__replica__"] == "" && q.Samples[0].Value == 1
	}
	return []Check{pair, one}
}

func formatCount(v float64) string { return fmt.Sprintf("%g", v) }
