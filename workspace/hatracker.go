package workspace

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
)

// HA deduplication, as Cortex v1.21.1's distributor does it with its HA
// tracker (pkg/ha/ha_tracker.go CheckReplica and checkKVStore;
// pkg/distributor/distributor.go Push and checkSample), for the profiles
// with Limits.AcceptHASamples (amp by default, as AMP does):
//
//   - only the request's first series is looked at: when it carries both
//     the cluster and the replica label, the whole request is the
//     replica's (a series without both labels makes the request an
//     ordinary one, whatever the others carry);
//   - the first replica seen for a (tenant, cluster) is elected; a request
//     of the elected replica goes on with the replica label removed from
//     every series; a request of another replica is answered 202 with
//     Cortex's text and nothing of it is stored or counted as discarded
//     (rwkit_ha_deduplicated_samples_total counts it, as Cortex's
//     cortex_distributor_deduped_samples_total{user,cluster});
//   - the elected replica's time is refreshed when HAUpdateTimeout has
//     passed since it was last refreshed; once that time is
//     HAFailoverTimeout old, the next replica to write is elected;
//   - a cluster past HAMaxClusters (at most maxHAClusters, rwkit's own
//     bound) is refused whole with 400 and counted as too_many_ha_clusters;
//   - a replica value longer than MaxLabelValueLength is not tracked (the
//     request goes on and validation refuses it).
//
// What rwkit does not model: the update timeout's random jitter (Cortex
// adds up to ±ha_tracker_update_timeout_jitter_max, default 5s, chosen
// once per process; the workspace has none, so its failovers are
// reproducible), the KV store's propagation between distributors, and
// accept_mixed_ha_samples (experimental). Cortex forgets a cluster that has
// been silent for 30 minutes at its next cleanup, which runs every 30±6
// minutes; the workspace forgets it after 30 minutes.

// maxHAClusters bounds the clusters one tenant tracks when
// Limits.HAMaxClusters does not (Cortex has no bound of its own): each
// request may name a new cluster, and a hostile writer could otherwise grow
// the map and the metrics for the 30 minutes before a cluster is forgotten.
const maxHAClusters = 10000

// haClusterLimit is the clusters a tenant may track and whether the limit
// is rwkit's own bound rather than Limits.HAMaxClusters.
func haClusterLimit(lim *validate.Limits) (int, bool) {
	if lim.HAMaxClusters > 0 && lim.HAMaxClusters <= maxHAClusters {
		return lim.HAMaxClusters, false
	}
	return maxHAClusters, true
}

// haForgetAfter: a cluster whose elected replica has not been refreshed
// for this long is forgotten (Cortex's deletionTimeout).
const haForgetAfter = 30 * time.Minute

// haTracker is one tenant's elected replicas, by cluster.
type haTracker struct {
	mu       sync.Mutex
	clusters map[string]*haCluster
	pruned   time.Time // last pass over clusters for ones to forget
}

// haCluster is one cluster's election.
type haCluster struct {
	replica    string    // the elected replica
	electedAt  time.Time // when it was elected
	receivedAt time.Time // when its time was last refreshed (Cortex's ReceivedAt)
	changes    int       // elections after the first
	deduped    int       // samples and histograms of the other replicas, not stored
	// lastDeduped is the last replica answered 202, and when.
	lastDeduped   string
	lastDedupedAt time.Time
}

type haVerdict int

const (
	haAccept haVerdict = iota
	haDeduplicate
	haTooManyClusters
)

func newHATracker() *haTracker { return &haTracker{clusters: map[string]*haCluster{}} }

// check decides a request of replica in cluster at now, and returns the
// elected replica. It elects and refreshes as Cortex's CheckReplica does
// with its KV store's CAS (without the jitter). onElect is called with
// the replica before when a cluster's election changes ("" for a new
// cluster); onForget when a silent cluster is forgotten.
func (h *haTracker) check(lim *validate.Limits, cluster, replica string, now time.Time, onElect func(c *haCluster, cluster, before string), onForget func(cluster, replica string)) (haVerdict, *haCluster) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.forgetSilent(now, onForget)
	c, ok := h.clusters[cluster]
	if ok {
		age := now.Sub(c.receivedAt)
		switch {
		case c.replica == replica && age < lim.HAUpdateTimeout:
			return haAccept, c
		case c.replica != replica && age < lim.HAFailoverTimeout:
			c.lastDeduped, c.lastDedupedAt = strings.Clone(replica), now
			return haDeduplicate, c
		}
		before := c.replica
		if c.replica != replica {
			c.replica, c.electedAt = strings.Clone(replica), now
			c.changes++
		}
		c.receivedAt = now
		onElect(c, cluster, before)
		return haAccept, c
	}
	if limit, _ := haClusterLimit(lim); len(h.clusters)+1 > limit {
		return haTooManyClusters, nil
	}
	c = &haCluster{replica: strings.Clone(replica), electedAt: now, receivedAt: now}
	h.clusters[strings.Clone(cluster)] = c
	onElect(c, cluster, "")
	return haAccept, c
}

// forgetSilent forgets the clusters not refreshed for haForgetAfter,
// looking at most once a minute.
func (h *haTracker) forgetSilent(now time.Time, onForget func(cluster, replica string)) {
	if now.Sub(h.pruned) < time.Minute {
		return
	}
	h.pruned = now
	for name, c := range h.clusters {
		if now.Sub(c.receivedAt) >= haForgetAfter {
			delete(h.clusters, name)
			onForget(name, c.replica)
		}
	}
}

// haLabels returns the values of the cluster and replica labels in ls
// (Cortex's findHALabels: the last of each name wins).
func haLabels(lim *validate.Limits, ls []wire.Label) (cluster, replica string) {
	for _, l := range ls {
		if l.Name == lim.HAReplicaLabel {
			replica = l.Value
		}
		if l.Name == lim.HAClusterLabel {
			cluster = l.Value
		}
	}
	return cluster, replica
}

// removeLabel removes the first label called name from ls, keeping the
// order of the others (Cortex's removeLabel).
func removeLabel(ls []wire.Label, name string) []wire.Label {
	for i := range ls {
		if ls[i].Name == name {
			return append(ls[:i], ls[i+1:]...)
		}
	}
	return ls
}

// deduplicate is the HA tracker's step of Cortex's Distributor.Push,
// before validation and the rate limit. It reports whether the request
// goes on; when not, b.o is its answer.
func (b *batch) deduplicate() bool {
	lim := &b.w.cfg.limits
	if !lim.AcceptHASamples || !b.policy.distributor || len(b.req.Series) == 0 {
		return true
	}
	if b.v == wire.V2 && seriesWithoutData(b.req) != nil {
		// Cortex refuses it while converting RW 2.0 to 1.0, before the
		// distributor: distribute answers it.
		return true
	}
	cluster, replica := haLabels(lim, b.req.Series[0].Labels)
	if cluster == "" || replica == "" {
		return true
	}
	if lim.MaxLabelValueLength > 0 && len(replica) > lim.MaxLabelValueLength {
		// Not tracked; validation refuses the series (checkSample).
		return true
	}
	t := b.t
	verdict, c := t.ha.check(lim, cluster, replica, b.now, t.elected, t.forgetCluster)
	switch verdict {
	case haDeduplicate:
		n := requestCounts(b.req)
		t.countDeduplicated(c, cluster, n.data())
		// Cortex answers an RW 2.0 write with Written headers counting
		// everything, as if it had been stored.
		b.o.written = n
		b.o.fail(http.StatusAccepted, fmt.Sprintf("replicas did not match, rejecting sample: replica=%s, elected=%s", replica, c.replica))
		b.o.note(fmt.Sprintf("rwkit: HA deduplication: %s=%q is the elected replica of %s=%q; the %d samples of %s=%q were dropped, not stored and not counted as discarded. "+
			"It takes over once %s has been silent for the failover timeout (%s, set by %s); GET /workspaces/%s/api/v1/ha shows the elections",
			lim.HAReplicaLabel, c.replica, lim.HAClusterLabel, cluster, n.data(), lim.HAReplicaLabel, replica,
			c.replica, lim.HAFailoverTimeout, b.w.cfg.limitNames.HAFailoverTimeout, t.id))
		return false
	case haTooManyClusters:
		n := requestCounts(b.req).data()
		limit, own := haClusterLimit(lim)
		b.discard(validate.TooManyHAClusters, n, n)
		b.o.fail(http.StatusBadRequest, fmt.Sprintf("too many HA replicaGroups (limit: %d)", limit))
		setBy := "is set by " + b.w.cfg.limitNames.HAMaxClusters
		if own {
			setBy = "is rwkit's bound when " + b.w.cfg.limitNames.HAMaxClusters + " sets none lower"
		}
		b.o.note(fmt.Sprintf("rwkit: %s=%q would be one more HA cluster than workspace %s tracks (the limit, %d, %s); a cluster silent for %s is forgotten",
			lim.HAClusterLabel, cluster, t.id, limit, setBy, haForgetAfter))
		return false
	}
	// Stored without the replica label, so that the series stays one
	// series when another replica takes over; in every series of the
	// request, as Cortex does.
	for i := range b.req.Series {
		s := &b.req.Series[i]
		s.Labels = removeLabel(s.Labels, lim.HAReplicaLabel)
	}
	return true
}

// elected records a cluster's new election in the metrics.
// cluster may be a view of the request's buffer: the metrics keep copies.
func (t *tenant) elected(c *haCluster, cluster, before string) {
	if before != "" && before != c.replica {
		t.haElected.DeleteLabelValues(t.id, cluster, before)
		t.haChanges.WithLabelValues(t.id, strings.Clone(cluster)).Inc()
	}
	t.haElected.WithLabelValues(t.id, strings.Clone(cluster), c.replica).Set(float64(c.receivedAt.UnixMilli()) / 1000)
}

// forgetCluster removes a forgotten cluster's series from the metrics.
func (t *tenant) forgetCluster(cluster, replica string) {
	t.haElected.DeleteLabelValues(t.id, cluster, replica)
	t.haChanges.DeleteLabelValues(t.id, cluster)
	t.haDeduplicated.DeleteLabelValues(t.id, cluster)
}

func (t *tenant) countDeduplicated(c *haCluster, cluster string, n int) {
	t.ha.mu.Lock()
	c.deduped += n
	t.ha.mu.Unlock()
	t.haDeduplicated.WithLabelValues(t.id, strings.Clone(cluster)).Add(float64(n))
}

// HAStatus is a workspace's HA deduplication state, what GET
// /workspaces/{id}/api/v1/ha serves.
type HAStatus struct {
	Enabled         bool        `json:"enabled"`
	ClusterLabel    string      `json:"cluster_label"`
	ReplicaLabel    string      `json:"replica_label"`
	UpdateTimeout   string      `json:"update_timeout"`
	FailoverTimeout string      `json:"failover_timeout"`
	MaxClusters     int         `json:"max_clusters"`
	Clusters        []HACluster `json:"clusters"`
}

// HACluster is one cluster's election.
type HACluster struct {
	Cluster string `json:"cluster"`
	// Elected is the replica whose samples are stored, since ElectedAt.
	Elected   string `json:"elected"`
	ElectedAt string `json:"elected_at"`
	// RefreshedAt is when the elected replica's time was last refreshed;
	// another replica takes over from FailoverFrom on if the elected one
	// writes nothing more by then.
	RefreshedAt  string `json:"refreshed_at"`
	FailoverFrom string `json:"failover_from"`
	Changes      int    `json:"changes"`
	// DeduplicatedSamples are the other replicas' samples, dropped.
	DeduplicatedSamples int    `json:"deduplicated_samples"`
	LastDeduplicated    string `json:"last_deduplicated_replica,omitempty"`
	LastDeduplicatedAt  string `json:"last_deduplicated_at,omitempty"`
}

// HA returns tenant id's HA deduplication state, clusters by name.
func (w *Workspace) HA(id string) HAStatus {
	lim := &w.cfg.limits
	st := HAStatus{
		Enabled:         lim.AcceptHASamples && w.policy.distributor,
		ClusterLabel:    lim.HAClusterLabel,
		ReplicaLabel:    lim.HAReplicaLabel,
		UpdateTimeout:   lim.HAUpdateTimeout.String(),
		FailoverTimeout: lim.HAFailoverTimeout.String(),
		MaxClusters:     lim.HAMaxClusters,
		Clusters:        []HACluster{},
	}
	w.mu.Lock()
	t, ok := w.tenants[id]
	w.mu.Unlock()
	if !ok {
		return st
	}
	t.ha.mu.Lock()
	defer t.ha.mu.Unlock()
	for name, c := range t.ha.clusters {
		hc := HACluster{
			Cluster: name, Elected: c.replica, ElectedAt: formatTime(c.electedAt),
			RefreshedAt: formatTime(c.receivedAt), FailoverFrom: formatTime(c.receivedAt.Add(lim.HAFailoverTimeout)),
			Changes: c.changes, DeduplicatedSamples: c.deduped, LastDeduplicated: c.lastDeduped,
		}
		if c.lastDeduped != "" {
			hc.LastDeduplicatedAt = formatTime(c.lastDedupedAt)
		}
		st.Clusters = append(st.Clusters, hc)
	}
	slices.SortFunc(st.Clusters, func(a, b HACluster) int { return cmp.Compare(a.Cluster, b.Cluster) })
	return st
}

// checkHA refuses HA settings the workspace cannot apply.
func checkHA(l *validate.Limits, n LimitNames) error {
	if !l.AcceptHASamples {
		return nil
	}
	switch {
	case l.Backend != validate.BackendCortex:
		return fmt.Errorf("workspace: limits %q: HA deduplication (Limits.AcceptHASamples) is Cortex's distributor's; use a Cortex profile (amp, cortex)", l.Name)
	case l.HAClusterLabel == "" || l.HAReplicaLabel == "":
		return fmt.Errorf("workspace: HA deduplication needs both label names (Limits.HAClusterLabel %q, Limits.HAReplicaLabel %q)", l.HAClusterLabel, l.HAReplicaLabel)
	case l.HAClusterLabel == l.HAReplicaLabel:
		return fmt.Errorf("workspace: the HA cluster and replica labels are both %q; they must differ", l.HAClusterLabel)
	case l.HAMaxClusters < 0:
		return fmt.Errorf("workspace: %s (%d) must not be negative; 0 means no limit", n.HAMaxClusters, l.HAMaxClusters)
	case l.HAUpdateTimeout < 0:
		return fmt.Errorf("workspace: %s (%s) must not be negative", n.HAUpdateTimeout, l.HAUpdateTimeout)
	case l.HAFailoverTimeout < l.HAUpdateTimeout+time.Second:
		// Cortex's HATrackerConfig.Validate, with no jitter.
		return fmt.Errorf("workspace: the HA failover timeout %s (%s) must be at least 1s more than the update timeout %s (%s)",
			n.HAFailoverTimeout, l.HAFailoverTimeout, n.HAUpdateTimeout, l.HAUpdateTimeout)
	}
	return nil
}
