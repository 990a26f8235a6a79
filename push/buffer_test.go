package push

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/wire"
)

func unavailable(int) (int, string) { return http.StatusServiceUnavailable, "ingester unavailable" }

// During an outage snapshots are buffered; when the backend is back they
// are delivered oldest first with their original timestamps, then the new
// one. One log line at each end of the outage.
func TestOutageBuffersAndDeliversOldestFirst(t *testing.T) {
	rc := newReceiver(t)
	rc.setRespond(unavailable)
	clk := newFakeClock()
	reg, _ := testRegistry()
	var logs logBuffer
	p := newPusher(t, rc.url(), reg, testOptions(clk, WithLogger(logs.logger()))...)
	ctx := context.Background()

	var want []int64
	for range 3 {
		want = append(want, clk.Now().UnixMilli())
		if err := p.Push(ctx); err == nil {
			t.Fatal("push during the outage: no error")
		}
		clk.Advance(15 * time.Second)
	}
	wantMetric(t, "buffered", p.m.buffered, 3)
	// The first attempt fails; later pushes only try the oldest snapshot.
	if n := rc.requests(); n != 3 {
		t.Errorf("%d requests during the outage, want 3", n)
	}
	wantMetric(t, "requests{retried}", p.m.requests.WithLabelValues(resultRetried), 3)

	rc.setRespond(nil)
	want = append(want, clk.Now().UnixMilli())
	if err := p.Push(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, rc.timestamps()); diff != "" {
		t.Errorf("delivered timestamps (-want +got):\n%s", diff)
	}
	for i, r := range rc.accepted() {
		if len(r.Series) != 4 {
			t.Errorf("request %d: %d series, want 4", i, len(r.Series))
		}
	}
	wantMetric(t, "buffered", p.m.buffered, 0)
	wantMetric(t, "samples{success}", p.m.samples.WithLabelValues(resultSuccess), 16)
	wantMetric(t, "samples{retried}", p.m.samples.WithLabelValues(resultRetried), 12)
	if n := logs.count("cannot deliver to the backend"); n != 1 {
		t.Errorf("%d outage lines, want 1:\n%s", n, logs.String())
	}
	if n := logs.count("backend reachable again"); n != 1 || logs.count("delivered_from_buffer=3") != 1 {
		t.Errorf("want one outage-end line with delivered_from_buffer=3:\n%s", logs.String())
	}
	if n := logs.count("first push delivered"); n != 1 {
		t.Errorf("%d first-success lines, want 1", n)
	}
	// Start, outage, its end, first success: nothing per push.
	if n := logs.count("level="); n != 4 {
		t.Errorf("%d log lines, want 4:\n%s", n, logs.String())
	}
}

// A closed server (connection refused) is an outage too.
func TestOutageServerDown(t *testing.T) {
	rc := newReceiver(t)
	url := rc.url()
	rc.srv.Close()
	reg, _ := testRegistry()
	p := newPusher(t, url, reg, testOptions(newFakeClock())...)
	if err := p.Push(context.Background()); err == nil {
		t.Fatal("no error")
	}
	wantMetric(t, "buffered", p.m.buffered, 1)
}

func TestBufferBounds(t *testing.T) {
	reg, _ := testRegistry()
	size := func() int {
		req, _, err := gatherForTest(reg)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := encodeSnapshot(1, wire.V1, req, nil)
		return s.size()
	}()

	t.Run("bytes", func(t *testing.T) {
		rc := newReceiver(t)
		rc.setRespond(unavailable)
		clk := newFakeClock()
		var logs logBuffer
		// Room for two snapshots and a bit.
		p := newPusher(t, rc.url(), reg, testOptions(clk, WithBuffer(2*size+size/2, time.Hour), WithLogger(logs.logger()))...)
		var ts []int64
		for range 5 {
			ts = append(ts, clk.Now().UnixMilli())
			_ = p.Push(context.Background())
			clk.Advance(time.Second)
		}
		wantMetric(t, "dropped{buffer_full}", p.m.dropped.WithLabelValues(dropFull), 3)
		wantMetric(t, "samples{failed}", p.m.samples.WithLabelValues(resultFailed), 12)
		if n := logs.count("dropping buffered snapshots"); n != 1 {
			t.Errorf("%d drop lines, want 1:\n%s", n, logs.String())
		}
		rc.setRespond(nil)
		ts = append(ts, clk.Now().UnixMilli())
		if err := p.Push(context.Background()); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(ts[3:], rc.timestamps()); diff != "" {
			t.Errorf("the newest survive (-want +got):\n%s", diff)
		}
		if logs.count("dropped=3") != 1 {
			t.Errorf("outage end does not count the drops:\n%s", logs.String())
		}
	})

	t.Run("age", func(t *testing.T) {
		rc := newReceiver(t)
		rc.setRespond(unavailable)
		clk := newFakeClock()
		p := newPusher(t, rc.url(), reg, testOptions(clk, WithBuffer(1<<20, time.Minute))...)
		var ts []int64
		for range 4 {
			ts = append(ts, clk.Now().UnixMilli())
			_ = p.Push(context.Background())
			clk.Advance(30 * time.Second)
		}
		// Now 120s after the first: the first two are over a minute old.
		rc.setRespond(nil)
		ts = append(ts, clk.Now().UnixMilli())
		if err := p.Push(context.Background()); err != nil {
			t.Fatal(err)
		}
		wantMetric(t, "dropped{too_old}", p.m.dropped.WithLabelValues(dropTooOld), 2)
		if diff := cmp.Diff(ts[2:], rc.timestamps()); diff != "" {
			t.Errorf("delivered (-want +got):\n%s", diff)
		}
	})

	t.Run("off", func(t *testing.T) {
		rc := newReceiver(t)
		rc.setRespond(unavailable)
		p := newPusher(t, rc.url(), reg, testOptions(newFakeClock(), WithBuffer(0, 0))...)
		_ = p.Push(context.Background())
		wantMetric(t, "requests{failed}", p.m.requests.WithLabelValues(resultFailed), 1)
		wantMetric(t, "dropped{buffering_off}", p.m.dropped.WithLabelValues(dropUnbuffered), 1)
	})
}

// A write split into requests that fails after delivering some keeps only
// the rest.
func TestPartialDeliveryBuffersRest(t *testing.T) {
	rc := newReceiver(t)
	rc.setRespond(func(n int) (int, string) {
		if n == 0 {
			return http.StatusNoContent, ""
		}
		return http.StatusServiceUnavailable, "busy"
	})
	clk := newFakeClock()
	reg, _ := testRegistry()
	p := newPusher(t, rc.url(), reg, testOptions(clk, WithClientOptions(maxSamples(3)))...)
	if err := p.Push(context.Background()); err == nil {
		t.Fatal("no error")
	}
	if got := rc.accepted(); len(got) != 1 || len(got[0].Series) != 3 {
		t.Fatalf("first request: %+v", got)
	}
	rc.setRespond(nil)
	clk.Advance(15 * time.Second)
	if err := p.Push(context.Background()); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range rc.accepted() {
		for _, s := range r.Series {
			seen[labelsString(s.Labels)+"@"+time.UnixMilli(s.Samples[0].Timestamp).String()]++
		}
	}
	if len(seen) != 8 {
		t.Errorf("%d distinct samples delivered, want 8 (4 series, 2 pushes): %v", len(seen), seen)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s delivered %d times", k, n)
		}
	}
}

func TestSeriesDone(t *testing.T) {
	one := wire.TimeSeries{Samples: []wire.Sample{{}}}
	three := wire.TimeSeries{Samples: []wire.Sample{{}}, Exemplars: []wire.Exemplar{{}, {}}}
	for _, tc := range []struct {
		series []wire.TimeSeries
		parts  int
		want   int
	}{
		{[]wire.TimeSeries{one, one, one}, 0, 0},
		{[]wire.TimeSeries{one, one, one}, 2, 2},
		{[]wire.TimeSeries{one, one, one}, 3, 3},
		{[]wire.TimeSeries{one, three, one}, 2, 1}, // the second may be cut in three
		{[]wire.TimeSeries{one, three, one}, 4, 2},
		{[]wire.TimeSeries{{}, one}, 1, 1},
	} {
		if got := seriesDone(tc.series, tc.parts); got != tc.want {
			t.Errorf("seriesDone(%d series, %d) = %d, want %d", len(tc.series), tc.parts, got, tc.want)
		}
	}
}

func gatherForTest(g prometheus.Gatherer) (*wire.WriteRequest, int, error) {
	p, err := New("http://127.0.0.1:1/api/v1/write", g, WithIdentityOptions(noEnv), WithService("auth"), WithInstance("auth-1"))
	if err != nil {
		return nil, 0, err
	}
	ok, err := p.build(time.Now().UnixMilli())
	if !ok {
		return nil, 0, err
	}
	return &p.req, len(p.req.Series), nil
}

// The buffer holds what it counts: under a dead backend, 2,000 series
// pushed until the 4 MiB bound has long been reached leave the live heap
// within 1.25 times the bound (each snapshot used to keep the
// compressor's worst-case capacity, about its raw size).
func TestBufferHeapWithinBound(t *testing.T) {
	if testing.Short() {
		t.Skip("a few hundred snapshots; -short")
	}
	dead := newReceiver(t)
	url := dead.url()
	dead.srv.Close() // connection refused from now on
	reg := prometheus.NewRegistry()
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "app_items", Help: "Items."}, []string{"shard", "kind"})
	for i := range 2000 {
		g.WithLabelValues(fmt.Sprintf("shard-%04d", i), "widget").Set(float64(i))
	}
	reg.MustRegister(g)
	const bound = 4 << 20
	clk := newFakeClock()
	p := newPusher(t, url, reg, testOptions(clk, WithBuffer(bound, time.Hour),
		WithClientOptions(remotewrite.WithRetry(time.Millisecond, time.Millisecond, 1)))...)
	// The Pusher's own steady state (converter and label caches, encoding
	// scratch) fills on the first pushes; measure the buffer after them.
	for range 3 {
		clk.Advance(100 * time.Millisecond)
		_ = p.Push(context.Background())
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for p.buf.bytes < bound*3/4 || testutil.ToFloat64(p.m.dropped.WithLabelValues(dropFull)) < 20 {
		clk.Advance(100 * time.Millisecond)
		_ = p.Push(context.Background())
		if p.buf.len() > 5000 {
			t.Fatalf("%d snapshots buffered and the bound never reached", p.buf.len())
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	growth := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	if growth > bound*5/4 {
		t.Errorf("live heap grew %d bytes with %d snapshots (%d bytes) buffered: over 1.25x the %d-byte bound", growth, p.buf.len(), p.buf.bytes, bound)
	}
	t.Logf("%d snapshots, %d bytes buffered, heap +%d bytes (bound %d)", p.buf.len(), p.buf.bytes, growth, bound)
}
