package cortextest

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
)

// Config is what differs between the two processes' config files; YAML
// renders the whole file.
type Config struct {
	// Dir is shared by both processes: the filesystem bucket is common,
	// the TSDB and store-gateway directories are per process.
	Dir string
	// HTTPPort, GRPCPort and MemberlistPort are this process's listeners
	// (all on 127.0.0.1); JoinPort is the other process's memberlist port.
	HTTPPort, GRPCPort, MemberlistPort, JoinPort int
	// Limits are set in the limits block after the defaults below (see
	// Options.Limits).
	Limits map[string]string
	// HATracker, if set, is the distributor's ha_tracker block.
	HATracker *HATracker
}

// YAML returns the Cortex config file. Every listener is on 127.0.0.1; the
// ring is in memberlist; blocks go to a filesystem bucket. Limits are
// Cortex v1.21.1's defaults (validation, series limits, out-of-order
// window 0, native histograms off) except the ingestion rate, raised from
// 25000 samples/s (burst 50000) so that tests are never rate limited. The
// lifecycler timings are shortened so the ingester is ACTIVE and ready at
// once and stops without the 30s final sleep.
func (c Config) YAML() string {
	d := func(name string) string { return filepath.Join(c.Dir, name) }
	return fmt.Sprintf(`# Written by rwkit's internal/cortextest.
auth_enabled: true

server:
  http_listen_address: 127.0.0.1
  http_listen_port: %[1]d
  grpc_listen_address: 127.0.0.1
  grpc_listen_port: %[2]d
  log_level: info

memberlist:
  bind_addr: [127.0.0.1]
  bind_port: %[3]d
  advertise_addr: 127.0.0.1
  advertise_port: %[3]d
  join_members: [127.0.0.1:%[4]d]
  abort_if_cluster_join_fails: false
  min_join_backoff: 100ms
  max_join_backoff: 1s
  rejoin_interval: 2s

ingester:
  lifecycler:
    address: 127.0.0.1
    id: ingester-%[2]d
    join_after: 0s
    observe_period: 0s
    min_ready_duration: 0s
    final_sleep: 0s
    num_tokens: 128
    ring:
      kvstore:
        store: memberlist
      replication_factor: 1

blocks_storage:
  backend: filesystem
  filesystem:
    dir: %[5]s
  tsdb:
    dir: %[6]s
  bucket_store:
    sync_dir: %[7]s

store_gateway:
  sharding_enabled: false

querier:
  store_gateway_addresses: 127.0.0.1:%[2]d
%[9]s
limits:
  ingestion_rate: 100000000
  ingestion_burst_size: 100000000
%[8]s`, c.HTTPPort, c.GRPCPort, c.MemberlistPort, c.JoinPort,
		d("bucket"), d(fmt.Sprintf("tsdb-%d", c.HTTPPort)), d(fmt.Sprintf("store-gateway-%d", c.HTTPPort)), c.limits(), c.distributor())
}

// distributor is the distributor block: the HA tracker, when asked for.
func (c Config) distributor() string {
	if c.HATracker == nil {
		return ""
	}
	return fmt.Sprintf(`
distributor:
  ha_tracker:
    enable_ha_tracker: true
    ha_tracker_update_timeout: %s
    ha_tracker_update_timeout_jitter_max: 0s
    ha_tracker_failover_timeout: %s
    kvstore:
      store: memberlist
`, c.HATracker.UpdateTimeout, c.HATracker.FailoverTimeout)
}

func (c Config) limits() string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(c.Limits)) {
		fmt.Fprintf(&b, "  %s: %s\n", k, c.Limits[k])
	}
	return b.String()
}
