package store

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestRegistererTwoTenantsAndReopen(t *testing.T) {
	reg := prometheus.NewRegistry()
	dir := t.TempDir()
	for round := range 2 {
		s, err := Open(dir, Options{Registerer: reg})
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for _, id := range []string{"a", "b"} {
			a := tenant(t, s, id).Appender(context.Background())
			if err := a.Append(series("up"), base+int64(round)*1000, 1); err != nil {
				t.Fatal(err)
			}
			commit(t, a)
		}
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatalf("round %d: gather: %v", round, err)
		}
		found := false
		for _, mf := range mfs {
			if mf.GetName() == "prometheus_tsdb_head_series" {
				found = len(mf.GetMetric()) == 2
			}
		}
		if !found {
			t.Errorf("round %d: want prometheus_tsdb_head_series for two workspaces", round)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
