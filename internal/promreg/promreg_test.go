package promreg

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestTrackingUnregistersAll(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "c_total", Help: "C."})
	r := New(reg)
	r.MustRegister(c)
	r.UnregisterAll()
	if err := reg.Register(c); err != nil {
		t.Fatalf("after UnregisterAll the collector is still registered: %v", err)
	}
	var nilTracking *Tracking
	nilTracking.UnregisterAll() // does nothing
	if New(nil) != nil || nilTracking.Registerer() != nil {
		t.Error("a Tracking over no registerer is not nil")
	}
}

func TestTrackingDuplicates(t *testing.T) {
	reg := prometheus.NewRegistry()
	mk := func() prometheus.Collector {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: "c_total", Help: "C."})
	}
	reg.MustRegister(mk())
	var logs bytes.Buffer
	New(reg).TolerateDuplicates(slog.New(slog.NewTextHandler(&logs, nil))).MustRegister(mk())
	if !strings.Contains(logs.String(), "already registered") {
		t.Errorf("duplicate not logged: %q", logs.String())
	}
	defer func() {
		if recover() == nil {
			t.Error("MustRegister of a duplicate did not panic without TolerateDuplicates")
		}
	}()
	New(reg).MustRegister(mk())
}
