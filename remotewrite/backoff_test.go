package remotewrite

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rwkit/rwkit/wire"
)

// While the receiver stays down, each write's retries continue the
// backoff where the last write's ended; a delivered request starts it
// again at the minimum.
func TestBackoffCarriesOverWrites(t *testing.T) {
	var down atomic.Bool
	down.Store(true)
	rc := newReceiver(t, func(n int, got *received) (int, map[string]string, string) {
		if down.Load() {
			return 503, nil, "down"
		}
		return 200, nil, ""
	})
	s := &sleeps{}
	c := mustNew(t, rc.url(), testOpts(s, WithRetry(10*time.Millisecond, 80*time.Millisecond, 3))...)
	write := func() error {
		_, err := c.Write(context.Background(), &wire.WriteRequest{Series: series("up", 1, 1)})
		return err
	}
	for range 2 {
		if err := write(); err == nil { // 3 attempts, 2 waits
			t.Fatal("write to a receiver that is down succeeded")
		}
	}
	down.Store(false)
	if err := write(); err != nil {
		t.Fatal(err)
	}
	down.Store(true)
	_ = write()
	ms := time.Millisecond
	want := []time.Duration{
		10 * ms, 20 * ms, // first write: attempts 1-3
		40 * ms, 80 * ms, // second write goes on from there
		// third write: delivered at once
		10 * ms, 20 * ms, // after a delivery: from the minimum again
	}
	if diff := cmp.Diff(want, s.waits); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
}

// A jitter that comes out below the minimum backoff is raised to it; the
// default jitter stays within [d/2, d].
func TestJitterNeverBelowMinimum(t *testing.T) {
	rc := newReceiver(t, func(n int, got *received) (int, map[string]string, string) { return 503, nil, "down" })
	s := &sleeps{}
	c := mustNew(t, rc.url(), WithSleep(s.sleep), WithJitter(func(time.Duration) time.Duration { return 0 }),
		WithRetry(30*time.Millisecond, time.Second, 4))
	_, _ = c.Write(context.Background(), &wire.WriteRequest{Series: series("up", 1, 1)})
	if diff := cmp.Diff([]time.Duration{30 * time.Millisecond, 30 * time.Millisecond, 30 * time.Millisecond}, s.waits); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
	for _, d := range []time.Duration{0, 1, 2, 3, 30 * time.Millisecond, 5 * time.Second} {
		for range 200 {
			if j := equalJitter(d); j < d/2 || j > d {
				t.Fatalf("equalJitter(%s) = %s, outside [%s, %s]", d, j, d/2, d)
			}
		}
	}
}
