package backendtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/rwkit/rwkit/internal/proctest"
)

// StartThanos starts Thanos v0.42.4 (scripts/backend's thanos) as two
// processes that live until the test ends: a Receive that takes remote
// write at /api/v1/receive, the tenant named by its own THANOS-TENANT
// header (Tenant), and a Query reading that Receive through its Store API
// (gRPC), answering PromQL at /api/v1/query. Receive announces the tenant
// as the label tenant_id on every series (AddedLabels). It returns once the
// Query has the Receive among its stores.
//
// The Query asks a store only for the time range the store last announced,
// and refreshes that every five seconds: until then a new Receive's empty
// range hides the first writes. Server.Flush waits for the range to cover
// the present.
func StartThanos(t testing.TB) *Server {
	t.Helper()
	return start(t, backend{name: "thanos", ports: 5, run: func(s *Server, bin string, ports []int) error {
		recvGRPC, recvHTTP, recvWrite, queryGRPC, queryHTTP := hostPort(ports[0]), hostPort(ports[1]), hostPort(ports[2]), hostPort(ports[3]), hostPort(ports[4])
		s.WriteURL = "http://" + recvWrite + "/api/v1/receive"
		s.QueryURL = "http://" + queryHTTP
		s.Tenant, s.TenantHeader = Tenant, "THANOS-TENANT"
		s.AddedLabels = map[string]string{"tenant_id": Tenant}
		recv, err := s.launch("receive", bin, "receive",
			"--log.level=warn",
			"--tsdb.path="+filepath.Join(s.Dir, "receive"),
			"--grpc-address="+recvGRPC,
			"--http-address="+recvHTTP,
			"--remote-write.address="+recvWrite,
			// Receive refuses to start without an external label that
			// names it; the Query treats it as a replica label and drops
			// it, as a deduplicating Thanos setup does.
			`--label=receive_replica="r0"`,
		)
		if err != nil {
			return err
		}
		if err := waitReady(recv, "http://"+recvHTTP+"/-/ready", nil); err != nil {
			return err
		}
		query, err := s.launch("query", bin, "query",
			"--log.level=warn",
			"--grpc-address="+queryGRPC,
			"--http-address="+queryHTTP,
			"--endpoint="+recvGRPC,
			"--query.replica-label=receive_replica",
		)
		if err != nil {
			return err
		}
		if err := waitReady(query, s.QueryURL+"/-/ready", nil); err != nil {
			return err
		}
		s.flush = func(ctx context.Context) error { return waitStoreRange(ctx, query, s.QueryURL, time.Now()) }
		return waitStores(query, s.QueryURL, 1)
	}})
}

// waitStoreRange waits until a store of the Thanos Query at base announces
// a time range that starts at or before t.
func waitStoreRange(ctx context.Context, p *proctest.Process, base string, t time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		stores, err := listStores(ctx, base)
		if err != nil {
			return err
		}
		for _, st := range stores {
			if st.MinTime <= t.UnixMilli() {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: no store's time range starts before %s: %+v", p.Name, t.Format(time.RFC3339Nano), stores)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

type storeInfo struct {
	Name    string `json:"name"`
	MinTime int64  `json:"minTime"`
	MaxTime int64  `json:"maxTime"`
}

// waitStores waits until a Thanos Query at base lists n stores in
// /api/v1/stores: it finds its endpoints some time after it is ready.
func waitStores(p *proctest.Process, base string, n int) error {
	deadline := time.Now().Add(StartTimeout)
	var last string
	for time.Now().Before(deadline) {
		if p.Exited() {
			return fmt.Errorf("%s exited: %v", p.Name, p.Err())
		}
		stores, err := listStores(context.Background(), base)
		if err == nil && len(stores) >= n {
			return nil
		}
		last = fmt.Sprintf("%d stores, %v", len(stores), err)
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("%s: not %d stores after %v: %s", p.Name, n, StartTimeout, last)
}

// listStores returns the stores of a Thanos Query (/api/v1/stores), of
// every type.
func listStores(ctx context.Context, base string) ([]storeInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/stores", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Data map[string][]storeInfo `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("GET /api/v1/stores: %w", err)
	}
	var out []storeInfo
	for _, stores := range body.Data {
		out = append(out, stores...)
	}
	return out, nil
}
