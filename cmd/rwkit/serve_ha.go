package main

import (
	"flag"
	"strconv"
	"time"

	"github.com/rwkit/rwkit/validate"
)

// haFlags are serve's HA deduplication flags, named after Cortex's
// (-distributor.ha-tracker.*) and set over the --limits profile's.
type haFlags struct {
	accept          optionalBool
	clusterLabel    string
	replicaLabel    string
	maxClusters     int
	updateTimeout   time.Duration
	failoverTimeout time.Duration
}

func (h *haFlags) register(fs *flag.FlagSet) {
	fs.Var(&h.accept, "accept-ha-samples", "deduplicate HA pairs: store only the elected replica's samples, without the replica label, and answer the others 202 (default: the --limits profile's: on for amp, off for cortex; prometheus has none)")
	fs.StringVar(&h.clusterLabel, "ha-cluster-label", validate.DefaultHAClusterLabel, "label naming an HA pair's cluster (Cortex's ha_cluster_label)")
	fs.StringVar(&h.replicaLabel, "ha-replica-label", validate.DefaultHAReplicaLabel, "label naming the replica within the cluster, removed from what is stored (ha_replica_label)")
	fs.IntVar(&h.maxClusters, "ha-max-clusters", 0, "HA clusters per workspace; a write for one more gets 400 (0: no limit; ha_max_clusters)")
	fs.DurationVar(&h.updateTimeout, "ha-update-timeout", validate.DefaultHAUpdateTimeout, "how often the elected replica's time is refreshed while it writes (ha_tracker_update_timeout)")
	fs.DurationVar(&h.failoverTimeout, "ha-failover-timeout", validate.DefaultHAFailoverTimeout, "silence of the elected replica after which the next replica to write takes over; at least --ha-update-timeout + 1s (ha_tracker_failover_timeout)")
}

// apply sets the HA limits of lim from the flags, or refuses them.
func (h *haFlags) apply(lim *validate.Limits) error {
	if h.accept.set {
		if h.accept.value && lim.Backend != validate.BackendCortex {
			return flagUsagef("--accept-ha-samples", "serve: --accept-ha-samples: --limits %s has no HA deduplication (Cortex's distributor does it: use --limits amp or cortex)", lim.Name)
		}
		lim.AcceptHASamples = h.accept.value
	}
	switch {
	case h.clusterLabel == "":
		return flagUsagef("--ha-cluster-label", "serve: --ha-cluster-label is empty")
	case h.replicaLabel == "":
		return flagUsagef("--ha-replica-label", "serve: --ha-replica-label is empty")
	case h.clusterLabel == h.replicaLabel:
		return flagUsagef("--ha-replica-label", "serve: --ha-replica-label %q is also --ha-cluster-label; they must differ", h.replicaLabel)
	case h.maxClusters < 0:
		return flagUsagef("--ha-max-clusters", "serve: --ha-max-clusters %d: want 0 (no limit) or more", h.maxClusters)
	case h.updateTimeout < 0:
		return flagUsagef("--ha-update-timeout", "serve: --ha-update-timeout %s: must not be negative", h.updateTimeout)
	case h.failoverTimeout < h.updateTimeout+time.Second:
		// Cortex's HATrackerConfig.Validate, without the jitter.
		return flagUsagef("--ha-failover-timeout", "serve: --ha-failover-timeout %s must be at least --ha-update-timeout (%s) + 1s", h.failoverTimeout, h.updateTimeout)
	}
	lim.HAClusterLabel, lim.HAReplicaLabel, lim.HAMaxClusters = h.clusterLabel, h.replicaLabel, h.maxClusters
	lim.HAUpdateTimeout, lim.HAFailoverTimeout = h.updateTimeout, h.failoverTimeout
	return nil
}

// optionalBool is a boolean flag that knows whether it was given.
type optionalBool struct{ set, value bool }

func (b *optionalBool) String() string {
	if b == nil || !b.set {
		return ""
	}
	return strconv.FormatBool(b.value)
}

func (b *optionalBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	b.set, b.value = true, v
	return nil
}

func (b *optionalBool) IsBoolFlag() bool { return true }
