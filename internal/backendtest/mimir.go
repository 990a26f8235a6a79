package backendtest

import (
	"net/http"
	"path/filepath"
	"strconv"
	"testing"
)

// Tenant is the tenant StartMimir's and StartThanos' servers store writes
// under.
const Tenant = "rwkit-backendtest"

// StartMimir starts Grafana Mimir (module github.com/grafana/mimir at
// v1.3.1-0.20260423142704-aced80d74930, scripts/backend's mimir) in one
// process (-target=all) that lives until the test ends: filesystem
// storage in the test's directory, every ring on the inmemory KV store
// (one process, so nothing to gossip), replication factor 1,
// multi-tenant. Push is /api/v1/push with X-Scope-OrgID: Tenant;
// queries are under /prometheus/api/v1. extraArgs are added to its flags,
// e.g. "-validation.max-length-label-value=100".
func StartMimir(t testing.TB, extraArgs ...string) *Server {
	t.Helper()
	return start(t, backend{name: "mimir", ports: 3, run: func(s *Server, bin string, ports []int) error {
		addr := hostPort(ports[0])
		s.WriteURL = "http://" + addr + "/api/v1/push"
		s.QueryURL = "http://" + addr + "/prometheus"
		s.Tenant, s.TenantHeader = Tenant, "X-Scope-OrgID"
		dir := func(name string) string { return filepath.Join(s.Dir, name) }
		args := []string{
			"-target=all",
			"-auth.multitenancy-enabled=true",
			"-log.level=warn",
			"-server.http-listen-address=127.0.0.1",
			"-server.http-listen-port=" + strconv.Itoa(ports[0]),
			"-server.grpc-listen-address=127.0.0.1",
			"-server.grpc-listen-port=" + strconv.Itoa(ports[1]),
			"-memberlist.bind-addr=127.0.0.1",
			"-memberlist.bind-port=" + strconv.Itoa(ports[2]),
			"-blocks-storage.backend=filesystem",
			"-blocks-storage.filesystem.dir=" + dir("blocks"),
			"-blocks-storage.tsdb.dir=" + dir("tsdb"),
			"-blocks-storage.bucket-store.sync-dir=" + dir("tsdb-sync"),
			"-ruler-storage.backend=filesystem",
			"-ruler-storage.filesystem.dir=" + dir("rules"),
			"-alertmanager-storage.backend=filesystem",
			"-alertmanager-storage.filesystem.dir=" + dir("alertmanager"),
			"-compactor.data-dir=" + dir("compactor"),
			"-activity-tracker.filepath=" + dir("activity.log"),
			// Ready at once and gone at once: no waiting to be sure of the
			// ring, which in one process is only ever this ingester.
			"-ingester.ring.replication-factor=1",
			"-ingester.ring.min-ready-duration=0s",
			"-ingester.ring.final-sleep=0s",
			"-store-gateway.sharding-ring.replication-factor=1",
			"-alertmanager.sharding-ring.replication-factor=1",
			// The querier answers the query-frontend at the address the
			// frontend announces, detected from a network interface
			// unless given.
			"-query-frontend.instance-addr=127.0.0.1",
		}
		for _, ring := range []string{
			"ingester.ring", "ingester.partition-ring", "distributor.ring", "querier.ring",
			"query-scheduler.ring", "store-gateway.sharding-ring", "compactor.ring",
			"ruler.ring", "alertmanager.sharding-ring", "overrides-exporter.ring",
		} {
			args = append(args, "-"+ring+".store=inmemory")
			if ring != "ingester.partition-ring" {
				args = append(args, "-"+ring+".instance-addr=127.0.0.1")
			}
		}
		p, err := s.launch("mimir", bin, append(args, extraArgs...)...)
		if err != nil {
			return err
		}
		return waitReady(p, "http://"+addr+"/ready", http.Header{"X-Scope-Orgid": {Tenant}})
	}})
}
