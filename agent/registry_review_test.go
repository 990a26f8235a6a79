package agent

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// Shutdown unregisters everything the agent registered, the default
// sinks' rwkit_push_* included, so that an agent built again on the same
// registry (a configuration reload) starts; so does a New that failed.
func TestRegistererReusableAfterShutdown(t *testing.T) {
	tg := newTarget(t, "a 1\n")
	reg := prometheus.NewRegistry()
	cfg := mustLoad(t, oneJob(tg, ""))
	for i := range 2 {
		a, err := New(cfg, Options{Registerer: reg})
		if err != nil {
			t.Fatalf("New #%d: %v", i+1, err)
		}
		if n, err := testutil.GatherAndCount(reg, "rwkit_push_requests_total"); err != nil || n == 0 {
			t.Errorf("New #%d: rwkit_push_requests_total not registered (%d, %v)", i+1, n, err)
		}
		if err := a.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n, err := testutil.GatherAndCount(reg); err != nil || n != 0 {
			t.Errorf("after Shutdown #%d: %d series still registered (%v)", i+1, n, err)
		}
	}

	// The second remote_write fails: the first's metrics go too.
	bad := mustLoad(t, oneJob(tg, "")+"  - url: http://127.0.0.1:1/w2\n")
	bad.RemoteWriteConfigs[1].QueueConfig.MinBackoff = 0
	if _, err := New(bad, Options{Registerer: reg}); err == nil {
		t.Fatal("New with a bad remote_write succeeded")
	}
	if n, err := testutil.GatherAndCount(reg); err != nil || n != 0 {
		t.Errorf("after a failed New: %d series still registered (%v)", n, err)
	}
}
