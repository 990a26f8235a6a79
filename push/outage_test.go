package push

import (
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/rwkit/rwkit/internal/faultproxy"
)

// outageRegistry is testRegistry plus 100 gauges: snapshots of a few
// hundred bytes once compressed, so a small buffer bound binds.
func outageRegistry() prometheus.Gatherer {
	reg, _ := testRegistry()
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "app_queue_depth", Help: "Depth."}, []string{"queue"})
	for i := range 100 {
		g.WithLabelValues("queue-" + strconv.Itoa(i)).Set(float64(i))
	}
	reg.MustRegister(g)
	return reg
}

// The backend is down for 10 minutes of simulated time at a 15s interval:
// 40 snapshots, of which a small buffer keeps the newest ~10. The buffer
// never holds more than its bound, the rest are counted as dropped
// (buffer_full), and recovery delivers the kept ones oldest first with
// their original timestamps, each stored exactly once on a real Prometheus.
func TestOutageTenMinutes(t *testing.T) {
	if testing.Short() {
		t.Skip("real Prometheus; -short")
	}
	e := newFaultEnv(t)
	const outageTicks = 40 // 10 minutes / 15s

	// The size of one buffered snapshot, from a probe pushing into a
	// refused port.
	if err := e.px.Set(faultproxy.Fault{Mode: faultproxy.Refuse}); err != nil {
		t.Fatal(err)
	}
	probe := newPusher(t, e.px.URL()+"/api/v1/write", outageRegistry(), testOptions(newFakeClock(), WithService("probe"))...)
	_ = probe.Push(t.Context())
	size := probe.buf.bytes
	if size == 0 {
		t.Fatal("probe buffered nothing")
	}
	if err := e.px.Clear(); err != nil {
		t.Fatal(err)
	}
	bound := 10*size + size/2

	for _, tc := range []struct {
		name   string
		fault  faultproxy.Fault
		bytes  int
		age    time.Duration
		reason string
	}{
		{"refused", faultproxy.Fault{Mode: faultproxy.Refuse}, bound, DefaultBufferAge, dropFull},
		{"503", faultproxy.Fault{Mode: faultproxy.Status, Status: 503}, bound, DefaultBufferAge, dropFull},
		// The age bound binds instead: 2.5 minutes is 10 intervals.
		{"refused, age bound", faultproxy.Fault{Mode: faultproxy.Refuse}, DefaultBufferBytes, 150 * time.Second, dropTooOld},
	} {
		t.Run(tc.name, func(t *testing.T) {
			service := "outage-" + tc.name
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			r := startFaultRunWith(t, e, service, outageRegistry(), WithBuffer(tc.bytes, tc.age))
			if err := e.px.Set(tc.fault); err != nil {
				t.Fatal(err)
			}
			for range outageTicks {
				r.tick()
			}
			outage := r.ticks[1 : 1+outageTicks]
			runtime.GC()
			runtime.ReadMemStats(&after)

			kept := int(testutil.ToFloat64(r.p.m.buffered))
			dropped := int(testutil.ToFloat64(r.p.m.dropped.WithLabelValues(tc.reason)))
			if kept+dropped != outageTicks {
				t.Errorf("buffered %d + dropped{%s} %d != %d snapshots of the outage", kept, tc.reason, dropped, outageTicks)
			}
			if kept < 9 || kept > 11 || dropped == 0 {
				t.Errorf("buffered %d, dropped %d: want about 10 kept under a bound of %d bytes (%d per snapshot) and %s", kept, dropped, tc.bytes, size, tc.age)
			}
			if r.maxBufBytes > tc.bytes {
				t.Errorf("buffer peaked at %d bytes, over its bound %d", r.maxBufBytes, tc.bytes)
			}
			if v := testutil.ToFloat64(r.p.m.samples.WithLabelValues(resultFailed)); int(v) != dropped*104 {
				t.Errorf("samples{failed} = %v, want %d (104 per dropped snapshot)", v, dropped*104)
			}

			if err := e.px.Clear(); err != nil {
				t.Fatal(err)
			}
			r.tick() // the kept snapshots, oldest first, then this one
			recovery := r.ticks[len(r.ticks)-1]
			final, leaked := r.shutdown(e)

			// The age bound may drop one more at the recovery tick, 15s
			// later; either way the oldest go first.
			droppedEnd := int(testutil.ToFloat64(r.p.m.dropped.WithLabelValues(tc.reason)))
			if droppedEnd < dropped || droppedEnd > dropped+1 {
				t.Errorf("dropped{%s} went from %d to %d at recovery", tc.reason, dropped, droppedEnd)
			}
			want := append([]int64{r.ticks[0]}, outage[droppedEnd:]...)
			want = append(want, recovery, final)
			if got := e.tap.received(service); !slices.Equal(got, want) {
				t.Errorf("receiver got (in order)\n %v\nwant\n %v", got, want)
			}
			at := time.UnixMilli(final).Add(time.Second)
			if got := e.stored(t, service, at); !slices.Equal(got, want) {
				t.Errorf("stored\n %v\nwant\n %v", got, want)
			}
			if n := e.countOverTime(t, service, at); int(n) != len(want) {
				t.Errorf("count_over_time = %v, want %d", n, len(want))
			}
			if m := r.tr.max.Load(); m != 1 {
				t.Errorf("%d requests in flight at once, want 1", m)
			}
			if v := testutil.ToFloat64(r.p.m.buffered); v != 0 {
				t.Errorf("buffered after recovery = %v", v)
			}
			heap := int64(after.HeapAlloc) - int64(before.HeapAlloc)
			if heap > 8<<20 {
				t.Errorf("heap grew %d bytes over a 10-minute outage", heap)
			}
			t.Logf("ROW outage 10m %s | snapshots %d | kept %d dropped{%s} %d (%d after recovery) | buffer peak %d B of %d B bound (%d B each) | heap delta %d B | delivered %d | goroutines base %d peak %d leaked %d",
				tc.name, outageTicks, kept, tc.reason, dropped, droppedEnd, r.maxBufBytes, tc.bytes, size, heap, len(want), r.baseGoroutines, r.peakGoroutines, leaked)
		})
	}
}
