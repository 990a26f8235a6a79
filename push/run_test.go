package push

import (
	"context"
	"errors"
	"math"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/rwkit/rwkit/internal/waitfor"
)

func TestRunPushesEveryInterval(t *testing.T) {
	rc := newReceiver(t)
	clk := newFakeClock()
	reg, _ := testRegistry()
	// rand 0.5 with jitter 0.2: the first push 1s after Run starts.
	p := newPusher(t, rc.url(), reg, append(testOptions(clk), WithInterval(10*time.Second), WithJitter(0.2),
		withClock(clk, func() float64 { return 0.5 }))...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	start := clk.Now()
	go func() { done <- p.Run(ctx) }()

	clk.waitTimers(t, 1)
	clk.Advance(999 * time.Millisecond)
	if n := rc.requests(); n != 0 {
		t.Fatalf("%d requests before the phase, want 0", n)
	}
	clk.Advance(time.Millisecond)
	clk.waitTimers(t, 2)
	for i := 3; i <= 4; i++ {
		clk.Advance(10 * time.Second)
		clk.waitTimers(t, i)
	}
	want := []int64{start.Add(time.Second).UnixMilli(), start.Add(11 * time.Second).UnixMilli(), start.Add(21 * time.Second).UnixMilli()}
	got := rc.timestamps()
	if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("timestamps %v, want %v", got, want)
	}
	if err := p.Run(ctx); !errors.Is(err, ErrRunning) {
		t.Errorf("second Run: %v, want ErrRunning", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
}

// A slow backend: pushes never overlap, ticks that pass during a push are
// skipped and counted, and no goroutines pile up.
func TestRunSlowBackendNoOverlap(t *testing.T) {
	rc := newReceiver(t)
	block := make(chan struct{})
	rc.block = block
	clk := newFakeClock()
	reg, _ := testRegistry()
	var logs logBuffer
	p := newPusher(t, rc.url(), reg, testOptions(clk, WithInterval(10*time.Second), WithJitter(0), WithTimeout(time.Hour), WithLogger(logs.logger()))...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()

	clk.waitTimers(t, 1) // fired at once (no jitter)
	waitfor.True(t, "the first request", func() bool { return rc.inflight.Load() == 1 })
	before := runtime.NumGoroutine()
	// Five intervals pass while the push hangs.
	for range 5 {
		clk.Advance(10 * time.Second)
	}
	if n := runtime.NumGoroutine(); n > before+2 {
		t.Errorf("goroutines grew from %d to %d while a push hung", before, n)
	}
	rc.mu.Lock()
	rc.block = nil
	rc.mu.Unlock()
	close(block)
	clk.waitTimers(t, 2)
	wantMetric(t, "skipped", p.m.skipped, 5)
	// The next push runs at the next tick, on schedule.
	clk.Advance(10 * time.Second)
	clk.waitTimers(t, 3)
	if m := rc.maxInflight.Load(); m != 1 {
		t.Errorf("max concurrent requests %d, want 1", m)
	}
	if n := rc.requests(); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
	if n := logs.count("took longer than the interval"); n != 1 {
		t.Errorf("%d overrun lines, want 1:\n%s", n, logs.String())
	}
	cancel()
	<-done
}

func TestShutdownFinalPushAndStaleMarkers(t *testing.T) {
	rc := newReceiver(t)
	clk := newFakeClock()
	reg, reqs := testRegistry()
	p := newPusher(t, rc.url(), reg, testOptions(clk, WithStaleMarkersOnShutdown(), WithJitter(0))...)
	done := make(chan error)
	go func() { done <- p.Run(context.Background()) }()
	clk.waitTimers(t, 1)
	waitfor.True(t, "the first push", func() bool { return len(rc.accepted()) == 1 })
	clk.waitTimers(t, 2)

	reqs.WithLabelValues("200").Add(5)
	clk.Advance(time.Second)
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
	got := rc.accepted()
	if len(got) != 3 {
		t.Fatalf("%d requests, want first, final, stale markers", len(got))
	}
	final, stale := got[1], got[2]
	var v200 float64
	for _, s := range final.Series {
		if labelValue(s.Labels, "__name__") == "app_requests_total" && labelValue(s.Labels, "code") == "200" {
			v200 = s.Samples[0].Value
		}
	}
	if v200 != 12 {
		t.Errorf("final push carries %v, want 12", v200)
	}
	if len(stale.Series) != len(final.Series) {
		t.Errorf("%d stale markers for %d series", len(stale.Series), len(final.Series))
	}
	finalTS := final.Series[0].Samples[0].Timestamp
	for i, s := range stale.Series {
		if labelsString(s.Labels) != labelsString(final.Series[i].Labels) {
			t.Errorf("stale marker %d for %v, want %v", i, s.Labels, final.Series[i].Labels)
		}
		if len(s.Samples) != 1 || math.Float64bits(s.Samples[0].Value) != 0x7ff0000000000002 || s.Samples[0].Timestamp <= finalTS {
			t.Errorf("stale marker %v, want StaleNaN after %d", s.Samples, finalTS)
		}
	}

	// Idempotent; Push and Run refuse afterwards.
	if err := p.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown = %v", err)
	}
	if n := len(rc.accepted()); n != 3 {
		t.Errorf("second Shutdown sent again: %d requests", n)
	}
	if err := p.Push(context.Background()); !errors.Is(err, ErrShutdown) {
		t.Errorf("Push after Shutdown = %v", err)
	}
	if err := p.Run(context.Background()); !errors.Is(err, ErrShutdown) {
		t.Errorf("Run after Shutdown = %v", err)
	}
}

func TestShutdownWithoutRun(t *testing.T) {
	rc := newReceiver(t)
	reg, _ := testRegistry()
	p := newPusher(t, rc.url(), reg, testOptions(newFakeClock())...)
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(rc.accepted()); n != 1 {
		t.Errorf("%d requests, want the final push", n)
	}
}

// Shutdown delivers what an outage left in the buffer before the final
// snapshot.
func TestShutdownFlushesBuffer(t *testing.T) {
	rc := newReceiver(t)
	rc.setRespond(unavailable)
	clk := newFakeClock()
	reg, _ := testRegistry()
	p := newPusher(t, rc.url(), reg, testOptions(clk)...)
	first := clk.Now().UnixMilli()
	_ = p.Push(context.Background())
	rc.setRespond(nil)
	clk.Advance(time.Second)
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := rc.timestamps(); len(got) != 2 || got[0] != first || got[1] != clk.Now().UnixMilli() {
		t.Errorf("timestamps %v", got)
	}
}

// A hung backend: Shutdown returns by its deadline, cancels Run's push,
// and counts what it could not deliver.
func TestShutdownRespectsDeadline(t *testing.T) {
	rc := newReceiver(t)
	block := make(chan struct{})
	rc.block = block
	t.Cleanup(func() { close(block) }) // runs before the server closes
	clk := newFakeClock()
	reg, _ := testRegistry()
	p := newPusher(t, rc.url(), reg, testOptions(clk, WithJitter(0), WithTimeout(time.Hour))...)
	runDone := make(chan error)
	go func() { runDone <- p.Run(context.Background()) }()
	waitfor.True(t, "a hung push", func() bool { return rc.inflight.Load() == 1 })

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := p.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want the deadline", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Shutdown took %s with a 300ms deadline", d)
	}
	select {
	case <-runDone:
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after Shutdown")
	}
	// A second call returns the first's result at once.
	if err2 := p.Shutdown(context.Background()); !errors.Is(err2, context.DeadlineExceeded) {
		t.Errorf("second Shutdown = %v", err2)
	}
	if v := testutil.ToFloat64(p.m.dropped.WithLabelValues(dropShutdown)); v < 1 {
		t.Errorf("dropped{shutdown} = %v, want at least 1", v)
	}
}
