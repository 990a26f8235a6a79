package push

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/rwkit/rwkit/internal/waitfor"
	"github.com/rwkit/rwkit/wire"
)

// batch is a scrape-like batch: n series of metric name at timestamp ts,
// each valued v.
func batch(name string, n int, ts int64, v float64) *wire.WriteRequest {
	req := &wire.WriteRequest{}
	for i := range n {
		req.Series = append(req.Series, wire.TimeSeries{
			Labels:  []wire.Label{{Name: "__name__", Value: name}, {Name: "i", Value: fmt.Sprint(i)}},
			Samples: []wire.Sample{{Value: v, Timestamp: ts}},
		})
	}
	return req
}

func startQueue(t *testing.T, url string, opts ...Option) (*Queue, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	q, err := NewQueue(url, append([]Option{WithRegisterer(reg)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := q.Run(ctx); err != nil && !errors.Is(err, ErrShutdown) {
			t.Errorf("Run: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return q, reg
}

// sampleKeys lists series/timestamp/value of every accepted sample, in
// arrival order.
func sampleKeys(reqs []wire.WriteRequest) []string {
	var out []string
	for _, r := range reqs {
		for _, s := range r.Series {
			for _, p := range s.Samples {
				out = append(out, fmt.Sprintf("%s@%d=%g", labelValue(s.Labels, "i"), p.Timestamp, p.Value))
			}
		}
	}
	return out
}

// A receiver slower than the producers' interval: every batch is delivered
// once, in order; none is cancelled and sent again.
func TestQueueSlowReceiverNoDuplicates(t *testing.T) {
	rc := newReceiver(t)
	slow := make(chan struct{})
	rc.block = slow
	go func() {
		// Each request takes ~300ms, while batches come every 50ms.
		for {
			select {
			case <-time.After(300 * time.Millisecond):
				select {
				case slow <- struct{}{}:
				case <-time.After(5 * time.Second):
					return
				}
			case <-t.Context().Done():
				return
			}
		}
	}()
	q, reg := startQueue(t, rc.url(), WithRemoteTimeout(10*time.Second))
	var want []string
	for k := range 8 {
		b := batch("m", 3, int64(1000+k), float64(k))
		want = append(want, sampleKeys([]wire.WriteRequest{*b})...)
		if err := q.Append(b); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := q.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if diff := cmp.Diff(want, sampleKeys(rc.accepted())); diff != "" {
		t.Errorf("delivered samples (-want +got):\n%s", diff)
	}
	if got := rc.requests(); got != 8 {
		t.Errorf("%d requests, want 8 (one per batch, none repeated)", got)
	}
	if got := testutil.ToFloat64(q.m.requests.WithLabelValues(resultSuccess)); got != 8 {
		t.Errorf("requests{success} = %v, want 8", got)
	}
	_ = reg
}

// The backend down for a while: waits double from the minimum up to the
// maximum and hold there, across batches; nothing is lost; after the
// backend is back the backoff starts again at the minimum.
func TestQueueBackoffGrowsHoldsAndCarriesOver(t *testing.T) {
	rc := newReceiver(t)
	var down atomic.Bool
	down.Store(true)
	rc.setRespond(func(n int) (int, string) {
		if down.Load() {
			return http.StatusServiceUnavailable, "down"
		}
		return http.StatusNoContent, ""
	})
	const minB, maxB = 20 * time.Millisecond, 160 * time.Millisecond
	q, _ := startQueue(t, rc.url(), WithBackoff(minB, maxB))
	for k := range 3 {
		if err := q.Append(batch("m", 2, int64(1000+k), float64(k))); err != nil {
			t.Fatal(err)
		}
	}
	waitfor.True(t, "8 failed attempts", func() bool { return rc.requests() >= 8 })
	down.Store(false)
	waitfor.True(t, "3 delivered batches", func() bool { return len(rc.accepted()) == 3 })

	at := rc.arrivals()
	wantMin := []time.Duration{20, 40, 80, 160, 160, 160, 160}
	for i, w := range wantMin {
		gap := at[i+1].Sub(at[i])
		if gap < w*time.Millisecond {
			t.Errorf("wait before attempt %d = %s, want at least %s", i+2, gap, w*time.Millisecond)
		}
	}
	if diff := cmp.Diff([]string{"0@1000=0", "1@1000=0", "0@1001=1", "1@1001=1", "0@1002=2", "1@1002=2"}, sampleKeys(rc.accepted())); diff != "" {
		t.Errorf("delivered (-want +got):\n%s", diff)
	}
	if err := q.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if q.backoff != minB { // read after Run stopped
		t.Errorf("backoff after recovery = %s, want the minimum %s", q.backoff, minB)
	}
}

// 400, 401, 404 and 413 are refusals: one attempt each, the next batch
// goes out, the samples are counted by reason.
func TestQueueRefusalsNotRetried(t *testing.T) {
	for _, status := range []int{400, 401, 404, 413} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			rc := newReceiver(t)
			rc.setRespond(func(n int) (int, string) {
				if n == 0 {
					return status, "no"
				}
				return http.StatusNoContent, ""
			})
			q, _ := startQueue(t, rc.url(), WithBackoff(time.Millisecond, time.Millisecond))
			q.Append(batch("m", 2, 1000, 1))
			q.Append(batch("m", 2, 1001, 2))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := q.Shutdown(ctx); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			if got := rc.requests(); got != 2 {
				t.Errorf("%d requests, want 2 (the refused batch is not retried)", got)
			}
			if diff := cmp.Diff([]string{"0@1001=2", "1@1001=2"}, sampleKeys(rc.accepted())); diff != "" {
				t.Errorf("delivered (-want +got):\n%s", diff)
			}
			if got := testutil.ToFloat64(q.m.samples.WithLabelValues(resultRejected)); got != 2 {
				t.Errorf("samples{rejected} = %v, want 2", got)
			}
		})
	}
}

// A 429 (or 503) with Retry-After is retried after what it asks, not
// after the backoff.
func TestQueueRetryAfter(t *testing.T) {
	for _, status := range []int{http.StatusTooManyRequests, http.StatusServiceUnavailable} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			url, gap := retryAfterServer(t, status, "1")
			q, _ := startQueue(t, url, WithBackoff(time.Millisecond, 2*time.Millisecond))
			q.Append(batch("m", 1, 1000, 1))
			if gap := gap(); gap < time.Second {
				t.Errorf("retried after %s, want at least the 1s Retry-After asked", gap)
			}
		})
	}
}

// Shutdown with the backend down: bounded by its context, reports what
// was lost, and Append is refused afterwards.
func TestQueueShutdownReportsLoss(t *testing.T) {
	rc := newReceiver(t)
	rc.setRespond(func(int) (int, string) { return http.StatusBadGateway, "down" })
	q, reg := startQueue(t, rc.url(), WithBackoff(5*time.Millisecond, 20*time.Millisecond))
	q.Append(batch("m", 2, 1000, 1))
	q.Append(batch("m", 3, 1001, 1))
	waitfor.True(t, "a failed attempt", func() bool { return rc.requests() >= 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := q.Shutdown(ctx)
	if err == nil || !strings.Contains(err.Error(), "2 batches (5 samples) not delivered") {
		t.Fatalf("Shutdown = %v, want the loss counted", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown error %v does not wrap the context's", err)
	}
	if err := q.Append(batch("m", 1, 1002, 1)); !errors.Is(err, ErrShutdown) {
		t.Errorf("Append after Shutdown = %v, want ErrShutdown", err)
	}
	if got := testutil.ToFloat64(q.m.dropped.WithLabelValues(dropShutdown)); got != 2 {
		t.Errorf("dropped{shutdown} = %v, want 2", got)
	}
	if n, err := testutil.GatherAndCount(reg, "rwkit_push_requests_total"); err != nil || n == 0 {
		t.Errorf("self-metrics not registered: %d, %v", n, err)
	}
}

// Options that shape a Pusher's snapshots are refused by NewQueue.
func TestNewQueueRefusesPusherOptions(t *testing.T) {
	_, err := NewQueue("http://127.0.0.1:1/api/v1/write", WithService("a"), WithAlignedTimestamps())
	if err == nil || !strings.Contains(err.Error(), "WithAlignedTimestamps") {
		t.Fatalf("NewQueue = %v, want the Pusher-only options named", err)
	}
}

// retryAfterServer answers its first request status with Retry-After
// retryAfter, and 204 after that; gap is the time between the first two
// requests, once they have come.
func retryAfterServer(t *testing.T, status int, retryAfter string) (url string, gap func() time.Duration) {
	t.Helper()
	s := newRetryServer(t, status, retryAfter)
	return s.URL, func() time.Duration {
		waitfor.True(t, "the retry", func() bool { return s.requests() >= 2 })
		return s.gap()
	}
}

// retryServer answers its first request status, with Retry-After
// retryAfter unless that is empty, and 204 after that, and keeps the times
// of the first two requests.
type retryServer struct {
	URL   string
	n     atomic.Int32
	times [2]atomic.Int64
}

func newRetryServer(t *testing.T, status int, retryAfter string) *retryServer {
	t.Helper()
	s := &retryServer{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := s.n.Add(1) - 1
		if i < 2 {
			s.times[i].Store(time.Now().UnixNano())
		}
		if i == 0 {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			http.Error(w, "slow down", status)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

func (s *retryServer) requests() int32 { return s.n.Load() }

// gap is the time between the first two requests (meaningful once both
// have come).
func (s *retryServer) gap() time.Duration {
	return time.Duration(s.times[1].Load() - s.times[0].Load())
}
