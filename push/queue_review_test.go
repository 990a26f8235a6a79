package push

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// Shutdown whose context ends while Run's request is in flight: the
// request finishes, but nothing more is sent after Shutdown returned, Run
// stops, and the batches left behind are reported as lost.
func TestQueueShutdownDuringInFlightStopsRun(t *testing.T) {
	rc := newReceiver(t)
	release := make(chan struct{})
	rc.block = release
	q, err := NewQueue(rc.url(), WithRemoteTimeout(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	runDone := make(chan error, 1)
	go func() { runDone <- q.Run(context.Background()) }()
	for k := range 3 {
		if err := q.Append(batch("m", 2, int64(1000+k), 1)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the first request in flight", func() bool { return rc.inflight.Load() == 1 })

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err = q.Shutdown(ctx)
	if err == nil || !strings.Contains(err.Error(), "2 batches (4 samples) not delivered") {
		t.Errorf("Shutdown = %v, want the 2 batches left behind counted", err)
	}
	close(release) // the request in flight finishes
	select {
	case err := <-runDone:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run still running after Shutdown and its request in flight")
	}
	if got := rc.requests(); got != 1 {
		t.Errorf("%d requests reached the receiver, want 1: nothing is sent after Shutdown returned", got)
	}
	if got := testutil.ToFloat64(q.m.dropped.WithLabelValues(dropShutdown)); got != 2 {
		t.Errorf("dropped{shutdown} = %v, want 2", got)
	}
	if !errors.Is(err, context.DeadlineExceeded) && err != nil {
		t.Errorf("Shutdown error does not wrap the context's: %v", err)
	}
}
