package push

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/rwkit/rwkit/internal/waitfor"
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
	waitfor.True(t, "the first request in flight", func() bool { return rc.inflight.Load() == 1 })

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

// A Queue sends only from its buffer: buffering off would drop every
// batch while Append reports success, so NewQueue refuses it.
func TestNewQueueRefusesBufferingOff(t *testing.T) {
	_, err := NewQueue("http://127.0.0.1:1/api/v1/write", WithBuffer(0, time.Minute))
	if err == nil || !strings.Contains(err.Error(), "WithBuffer") {
		t.Fatalf("NewQueue = %v, want WithBuffer(0, ...) refused", err)
	}
}

// A batch larger than the whole buffer cannot be kept: Append says so
// instead of returning nil for a batch that is already dropped.
func TestQueueAppendTooLarge(t *testing.T) {
	rc := newReceiver(t)
	q, err := NewQueue(rc.url(), WithBuffer(64, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Append(batch("m", 50, 1000, 1)); err == nil {
		t.Error("Append of a batch larger than the buffer = nil, want an error")
	}
	if got := testutil.ToFloat64(q.m.dropped.WithLabelValues(dropTooLarge)); got != 1 {
		t.Errorf("dropped{too_large} = %v, want 1", got)
	}
	if err := q.Append(batch("m", 1, 1000, 1)); err != nil {
		t.Errorf("Append of a small batch = %v", err)
	}
	if err := q.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := len(rc.accepted()); got != 1 {
		t.Errorf("%d requests accepted, want 1", got)
	}
}

// Producers appending while Shutdown runs, the receiver failing one
// request in three with a 503: every batch Append accepted arrives once,
// none that it refused arrives, whatever the interleaving.
func TestQueueAppendRacingShutdownExactlyOnce(t *testing.T) {
	for seed := range 8 {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rc := newReceiver(t)
			rc.setRespond(func(n int) (int, string) {
				if (n+seed)%3 == 0 {
					return http.StatusServiceUnavailable, "busy"
				}
				return http.StatusNoContent, ""
			})
			q, err := NewQueue(rc.url(), WithBackoff(time.Millisecond, 2*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			runDone := make(chan struct{})
			go func() {
				defer close(runDone)
				q.Run(context.Background())
			}()
			const producers, perProducer = 4, 40
			var (
				mu       sync.Mutex
				accepted = map[string]bool{}
				wg       sync.WaitGroup
			)
			for p := range producers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for k := range perProducer {
						b := batch(fmt.Sprintf("p%d", p), 1, int64(k), float64(k))
						if q.Append(b) == nil {
							mu.Lock()
							accepted[fmt.Sprintf("p%d@%d", p, k)] = true
							mu.Unlock()
						}
						if k == perProducer/2 && p == seed%producers {
							go q.Shutdown(context.Background())
						}
					}
				}()
			}
			wg.Wait()
			if err := q.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			<-runDone
			got := map[string]int{}
			for _, r := range rc.accepted() {
				for _, s := range r.Series {
					for _, smp := range s.Samples {
						got[fmt.Sprintf("%s@%d", labelValue(s.Labels, "__name__"), smp.Timestamp)]++
					}
				}
			}
			for k, n := range got {
				if n != 1 {
					t.Errorf("%s delivered %d times", k, n)
				}
				if !accepted[k] {
					t.Errorf("%s delivered but Append refused it", k)
				}
			}
			for k := range accepted {
				if got[k] == 0 {
					t.Errorf("%s accepted by Append, never delivered", k)
				}
			}
		})
	}
}

// A Retry-After of 0, or a date in the past, asks for no wait: the queue
// still waits its backoff, never less than the minimum.
func TestQueueRetryAfterZeroWaitsTheMinimum(t *testing.T) {
	for _, ra := range []string{"0", "Mon, 02 Jan 2006 15:04:05 GMT"} {
		t.Run(ra, func(t *testing.T) {
			url, gap := retryAfterServer(t, http.StatusTooManyRequests, ra)
			const minB = 300 * time.Millisecond
			q, err := NewQueue(url, WithBackoff(minB, time.Second))
			if err != nil {
				t.Fatal(err)
			}
			go q.Run(context.Background())
			defer q.Shutdown(context.Background())
			q.Append(batch("m", 1, 1000, 1))
			if gap := gap(); gap < minB {
				t.Errorf("retried after %s, want at least the minimum backoff %s", gap, minB)
			}
		})
	}
}

// Shutdown while Run waits to retry: the wait is kept (the rest of the
// backoff, or of what Retry-After asked), not cut short by taking over.
func TestQueueShutdownKeepsTheRetryWait(t *testing.T) {
	for _, tc := range []struct {
		name, retryAfter string
		status           int
		want             time.Duration
	}{
		{"backoff", "", http.StatusServiceUnavailable, 600 * time.Millisecond},
		{"Retry-After", "1", http.StatusTooManyRequests, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newRetryServer(t, tc.status, tc.retryAfter)
			q, err := NewQueue(srv.URL, WithBackoff(600*time.Millisecond, time.Second))
			if err != nil {
				t.Fatal(err)
			}
			go q.Run(context.Background())
			q.Append(batch("m", 1, 1000, 1))
			waitfor.True(t, "the first attempt", func() bool { return srv.requests() >= 1 })
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := q.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			if got := srv.requests(); got != 2 {
				t.Fatalf("%d requests, want 2", got)
			}
			if gap := srv.gap(); gap < tc.want {
				t.Errorf("retried after %s, want at least %s", gap, tc.want)
			}
		})
	}
}
