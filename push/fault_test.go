package push

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/rwkit/rwkit/internal/faultproxy"
	"github.com/rwkit/rwkit/internal/promtest"
	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/wire"
)

// The fault tests push through the real stack, each hop a real server:
//
//	Pusher -> overlapTransport -> faultproxy -> tap -> Prometheus (Debian's)
//
// overlapTransport sees the pusher's requests (overlap), faultproxy breaks
// the path, tap decodes what actually reaches the receiver (order, original
// timestamps, re-sends) and Prometheus stores it: a range query then says
// which snapshots are stored, each exactly once.

// tap forwards remote-write requests to a receiver and records the batch
// timestamps of each, in arrival order.
type tap struct {
	srv    *httptest.Server
	target string
	tr     *http.Transport

	mu  sync.Mutex
	got []tapped
}

type tapped struct {
	service string
	ts      []int64 // distinct timestamps of the request, in order
	status  int
}

func newTap(t testing.TB, target string) *tap {
	tp := &tap{target: target, tr: &http.Transport{}}
	tp.srv = httptest.NewServer(http.HandlerFunc(tp.serve))
	t.Cleanup(func() {
		tp.srv.Close()
		tp.tr.CloseIdleConnections()
	})
	return tp
}

func (tp *tap) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	var rec tapped
	if raw, err := wire.Decompress(nil, body, 64<<20); err == nil {
		var req wire.WriteRequest
		if wire.DecodeWriteRequest(raw, &req) == nil {
			for _, s := range req.Series {
				rec.service = labelValue(s.Labels, "service")
				for _, smp := range s.Samples {
					if !slices.Contains(rec.ts, smp.Timestamp) {
						rec.ts = append(rec.ts, smp.Timestamp)
					}
				}
			}
		}
	}
	out, _ := http.NewRequestWithContext(r.Context(), r.Method, tp.target, bytes.NewReader(body))
	out.Header = r.Header.Clone()
	resp, err := tp.tr.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	rec.status = resp.StatusCode
	tp.mu.Lock()
	tp.got = append(tp.got, rec)
	tp.mu.Unlock()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(rb)
}

// received lists, in arrival order, the timestamps of the requests of
// service that the receiver stored (2xx).
func (tp *tap) received(service string) []int64 {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	var out []int64
	for _, r := range tp.got {
		if r.service == service && r.status < 300 {
			out = append(out, r.ts...)
		}
	}
	return out
}

// overlapTransport counts the pusher's requests in flight, from
// RoundTrip until the response body is closed.
type overlapTransport struct {
	next          *http.Transport
	inflight, max atomic.Int32
	total         atomic.Int32
}

func (c *overlapTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	n := c.inflight.Add(1)
	c.total.Add(1)
	for m := c.max.Load(); n > m && !c.max.CompareAndSwap(m, n); m = c.max.Load() {
	}
	resp, err := c.next.RoundTrip(r)
	if err != nil {
		c.inflight.Add(-1)
		return nil, err
	}
	resp.Body = &countedBody{ReadCloser: resp.Body, c: c}
	return resp, nil
}

type countedBody struct {
	io.ReadCloser
	c    *overlapTransport
	once sync.Once
}

func (b *countedBody) Close() error {
	b.once.Do(func() { b.c.inflight.Add(-1) })
	return b.ReadCloser.Close()
}

// sleeps records the client's waits between attempts instead of sleeping
// them: Retry-After is then checked, not waited for.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) list() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.d)
}

// faultEnv is one Prometheus, tap and proxy shared by the subtests of a
// test; each subtest writes as its own service.
type faultEnv struct {
	prom *promtest.Server
	tap  *tap
	px   *faultproxy.Proxy
}

func newFaultEnv(t *testing.T) *faultEnv {
	prom := promtest.Start(t)
	tp := newTap(t, prom.WriteURL)
	px, err := faultproxy.New(tp.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = px.Close() })
	return &faultEnv{prom: prom, tap: tp, px: px}
}

// stored queries Prometheus for the timestamps stored for app_up of
// service: TSDB keeps one sample per timestamp (an identical re-send is
// accepted and not stored twice), so this is the set of snapshots stored.
func (e *faultEnv) stored(t testing.TB, service string, at time.Time) []int64 {
	t.Helper()
	v := url.Values{
		"query": {fmt.Sprintf(`app_up{service=%q}[2h]`, service)},
		"time":  {strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64)},
	}
	resp, err := http.PostForm(e.prom.URL+"/api/v1/query", v)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string
		Error  string
		Data   struct {
			Result []struct {
				Values [][2]any
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Status != "success" {
		t.Fatalf("query: %v %s", err, body.Error)
	}
	var out []int64
	for _, r := range body.Data.Result {
		for _, v := range r.Values {
			f, _ := v[0].(float64)
			out = append(out, int64(f*1000+0.5))
		}
	}
	return out
}

// countOverTime is PromQL's count of stored app_up samples of service.
func (e *faultEnv) countOverTime(t testing.TB, service string, at time.Time) float64 {
	t.Helper()
	res, err := e.prom.Query(context.Background(), fmt.Sprintf(`count_over_time(app_up{service=%q}[2h])`, service), at)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 {
		return 0
	}
	return res[0].Value
}

// faultRun is one pusher under Run with a fake clock, pushing through the
// proxy.
type faultRun struct {
	t       *testing.T
	p       *Pusher
	clk     *fakeClock
	tr      *overlapTransport
	sleeps  *sleeps
	service string
	timers  int
	done    chan error
	cancel  context.CancelFunc

	baseGoroutines, peakGoroutines int
	maxBufBytes, maxBuffered       int
	ticks                          []int64 // the timestamp of each scheduled push
}

const faultInterval = 15 * time.Second

// startFaultRun starts a pusher for service. The push timeout is in real
// time: 5s, generous on a loaded machine, or 1s where a case waits for it
// (stalls); the schedule runs on the fake clock.
func startFaultRun(t *testing.T, e *faultEnv, service string, extra ...Option) *faultRun {
	t.Helper()
	reg, _ := testRegistry()
	return startFaultRunWith(t, e, service, reg, extra...)
}

func startFaultRunWith(t *testing.T, e *faultEnv, service string, reg prometheus.Gatherer, extra ...Option) *faultRun {
	t.Helper()
	e.px.CloseIdleConnections()
	r := &faultRun{t: t, clk: newFakeClock(), sleeps: &sleeps{}, service: service, done: make(chan error, 1)}
	// Prometheus takes samples within an hour of its newest: start in the
	// recent past, so that a 10-minute simulated outage stays in it.
	r.clk.now = time.Now().Add(-40 * time.Minute).Truncate(time.Second)
	r.tr = &overlapTransport{next: &http.Transport{}}
	r.baseGoroutines = runtime.NumGoroutine()
	opts := append(testOptions(r.clk,
		WithService(service), WithInterval(faultInterval), WithJitter(0), WithTimeout(5*time.Second),
		WithTransport(r.tr),
		WithClientOptions(remotewrite.WithRetry(time.Millisecond, time.Millisecond, 2), remotewrite.WithSleep(r.sleeps.sleep)),
	), extra...)
	p, err := New(e.px.URL()+"/api/v1/write", reg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	r.p = p
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	t.Cleanup(cancel)
	go func() { r.done <- p.Run(ctx) }()
	// The first tick fires at once (no jitter): wait for its push.
	r.ticks = append(r.ticks, r.clk.Now().UnixMilli())
	r.timers = 2
	r.clk.waitTimers(t, r.timers)
	r.observe()
	return r
}

// tick advances the fake clock one interval and waits for that push.
func (r *faultRun) tick() {
	r.t.Helper()
	r.clk.Advance(faultInterval)
	r.ticks = append(r.ticks, r.clk.Now().UnixMilli())
	r.timers++
	r.clk.waitTimers(r.t, r.timers)
	r.observe()
}

// observe records the bounded quantities between pushes; Run is idle then
// (waiting on its timer), and waitTimers ordered its writes before these
// reads.
func (r *faultRun) observe() {
	r.peakGoroutines = max(r.peakGoroutines, runtime.NumGoroutine())
	r.maxBufBytes = max(r.maxBufBytes, r.p.buf.bytes)
	r.maxBuffered = max(r.maxBuffered, r.p.buf.len())
	if r.p.buf.bytes > r.p.cfg.bufBytes {
		r.t.Errorf("buffer holds %d bytes, over its bound %d", r.p.buf.bytes, r.p.cfg.bufBytes)
	}
}

// shutdown stops Run, shuts down, closes idle connections on every hop and
// returns the goroutines left over the baseline.
func (r *faultRun) shutdown(e *faultEnv) (final int64, leaked int) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r.clk.Advance(time.Second)
	final = max(r.clk.Now().UnixMilli(), r.ticks[len(r.ticks)-1]+1)
	if err := r.p.Shutdown(ctx); err != nil {
		r.t.Errorf("Shutdown: %v", err)
	}
	if err := <-r.done; err != nil {
		r.t.Errorf("Run = %v", err)
	}
	r.tr.next.CloseIdleConnections()
	e.px.CloseIdleConnections()
	e.tap.tr.CloseIdleConnections()
	deadline := time.Now().Add(20 * time.Second)
	for {
		leaked = runtime.NumGoroutine() - r.baseGoroutines
		if leaked <= 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if leaked > 0 {
		buf := make([]byte, 1<<20)
		r.t.Errorf("%d goroutines more than before New:\n%s", leaked, buf[:runtime.Stack(buf, true)])
	}
	return final, leaked
}

// faultCase is one row of the fault table.
type faultCase struct {
	name  string
	fault faultproxy.Fault
	// during is how many scheduled pushes run under the fault.
	during int
	// buffered is how many snapshots the buffer holds when the fault
	// clears.
	buffered int
	// resent: the receiver stores some requests whose answer the pusher
	// never gets, so it sees those snapshots twice (TSDB keeps one).
	resent bool
	// waits are the client's waits between attempts (Retry-After).
	waits []time.Duration
	opts  []Option
}

func faultCases() []faultCase {
	return []faultCase{
		{name: "refused", fault: faultproxy.Fault{Mode: faultproxy.Refuse}, during: 3, buffered: 3},
		{name: "closed", fault: faultproxy.Fault{Mode: faultproxy.Close}, during: 3, buffered: 3},
		{name: "reset-request", fault: faultproxy.Fault{Mode: faultproxy.ResetRequest, Bytes: 100}, during: 3, buffered: 3},
		{name: "reset-response", fault: faultproxy.Fault{Mode: faultproxy.ResetResponse, Bytes: 9}, during: 3, buffered: 3, resent: true},
		{name: "stall", fault: faultproxy.Fault{Mode: faultproxy.Stall}, during: 2, buffered: 2, opts: []Option{WithTimeout(time.Second)}},
		// 2 attempts per write: a burst of 5 fails the first snapshot (2),
		// the buffered one at the next push (2), then 1 more: the third
		// push's buffered write succeeds on its second attempt.
		{name: "503 burst of 5", fault: faultproxy.Fault{Mode: faultproxy.Status, Count: 5}, during: 3, buffered: 0},
		{name: "429 without Retry-After", fault: faultproxy.Fault{Mode: faultproxy.Status, Status: 429}, during: 3, buffered: 3},
		{name: "429 Retry-After 1s", fault: faultproxy.Fault{Mode: faultproxy.Status, Status: 429, RetryAfter: "1"}, during: 2, buffered: 2,
			waits: []time.Duration{time.Second, time.Second}},
		// A wait past the push's deadline is not started.
		{name: "429 Retry-After 1h", fault: faultproxy.Fault{Mode: faultproxy.Status, Status: 429, RetryAfter: "3600"}, during: 2, buffered: 2,
			waits: []time.Duration{}},
		// A snapshot split in two requests (2 series each): the first is
		// delivered, the second stored but its answer lost; only the
		// second half is kept and re-sent (Count 2: both attempts of it).
		{name: "reset-response, 2nd request of a split write", fault: faultproxy.Fault{Mode: faultproxy.ResetResponse, Bytes: 9, After: 1, Count: 2},
			during: 1, buffered: 1, resent: true, opts: []Option{WithClientOptions(maxSamples(2))}},
		{name: "slow 300ms", fault: faultproxy.Fault{Mode: faultproxy.Delay, Delay: 300 * time.Millisecond}, during: 2, buffered: 0},
		{name: "slower than the timeout", fault: faultproxy.Fault{Mode: faultproxy.Delay, Delay: 1500 * time.Millisecond}, during: 2, buffered: 2, resent: true,
			opts: []Option{WithTimeout(time.Second)}},
	}
}

// TestFaults pushes through each fault and checks, on a real Prometheus,
// that every snapshot is stored exactly once after the fault clears, that
// pushes never overlap, and that goroutines and the buffer stay bounded.
func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("real Prometheus; -short")
	}
	e := newFaultEnv(t)
	for i, tc := range faultCases() {
		t.Run(tc.name, func(t *testing.T) {
			service := fmt.Sprintf("fault%d", i)
			r := startFaultRun(t, e, service, tc.opts...)
			r.tick() // healthy
			if err := e.px.Set(tc.fault); err != nil {
				t.Fatal(err)
			}
			for range tc.during {
				r.tick()
			}
			if got := int(testutil.ToFloat64(r.p.m.buffered)); got != tc.buffered {
				t.Errorf("buffered snapshots under the fault = %d, want %d", got, tc.buffered)
			}
			if err := e.px.Clear(); err != nil {
				t.Fatal(err)
			}
			r.tick() // delivers the buffer, then its own
			r.tick()
			if got := testutil.ToFloat64(r.p.m.buffered); got != 0 {
				t.Errorf("buffered after recovery = %v, want 0", got)
			}
			final, leaked := r.shutdown(e)
			want := append(slices.Clone(r.ticks), final)

			// Exactly once: every snapshot is stored, at its own timestamp.
			at := time.UnixMilli(final).Add(time.Second)
			if got := e.stored(t, service, at); !slices.Equal(got, want) {
				t.Errorf("stored timestamps\n got %v\nwant %v", got, want)
			}
			n := e.countOverTime(t, service, at)
			if int(n) != len(want) {
				t.Errorf("count_over_time = %v, want %d", n, len(want))
			}
			// What reached the receiver: oldest first, and a snapshot twice
			// only where the answer was lost.
			recv := e.tap.received(service)
			if !slices.IsSorted(recv) {
				t.Errorf("receiver got timestamps out of order: %v", recv)
			}
			if dup := len(recv) - len(slices.Compact(slices.Clone(recv))); (dup > 0) != tc.resent {
				t.Errorf("receiver got %d re-sent snapshots (resent=%v): %v", dup, tc.resent, recv)
			}
			if v := testutil.ToFloat64(r.p.m.dropped.WithLabelValues(dropFull)) + testutil.ToFloat64(r.p.m.dropped.WithLabelValues(dropShutdown)); v != 0 {
				t.Errorf("dropped = %v, want 0", v)
			}
			if v := testutil.ToFloat64(r.p.m.requests.WithLabelValues(resultRejected)); v != 0 {
				t.Errorf("requests{rejected} = %v, want 0 (a duplicate refused means a double delivery)", v)
			}
			if m := r.tr.max.Load(); m != 1 {
				t.Errorf("%d requests in flight at once, want 1", m)
			}
			if tc.waits != nil {
				if got := r.sleeps.list(); !slices.Equal(got, tc.waits) && !(len(got) == 0 && len(tc.waits) == 0) {
					t.Errorf("client waits %v, want %v", got, tc.waits)
				}
			}
			t.Logf("ROW %s | snapshots %d stored %d | receiver got %d requests | max buffered %d (%d B) | goroutines base %d peak %d leaked %d | requests %d | proxy %+v",
				tc.name, len(want), int(n), len(recv), r.maxBuffered, r.maxBufBytes, r.baseGoroutines, r.peakGoroutines, leaked, r.tr.total.Load(), e.px.Stats())
		})
	}
}

// A 503 or 429 that ends in the push's deadline (a Retry-After past it, or
// the backoff cut short) is an outage: the snapshot is kept, not counted as
// refused and dropped. Regression: both were dropped as rejected.
func TestRetryableStatusPastDeadlineIsBuffered(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault faultproxy.Fault
		opts  []remotewrite.Option
	}{
		{"429 Retry-After past the deadline", faultproxy.Fault{Mode: faultproxy.Status, Status: 429, RetryAfter: "3600"}, nil},
		{"503 Retry-After past the deadline", faultproxy.Fault{Mode: faultproxy.Status, Status: 503, RetryAfter: "3600"}, nil},
		// The client's backoff sleep outlives the push: ctx ends after a 503.
		{"503 then the deadline in backoff", faultproxy.Fault{Mode: faultproxy.Status},
			[]remotewrite.Option{remotewrite.WithRetry(time.Minute, time.Minute, 3), remotewrite.WithJitter(func(d time.Duration) time.Duration { return d / 1000 })}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := newReceiver(t)
			px, err := faultproxy.New(rc.srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = px.Close() })
			clk := newFakeClock()
			reg, _ := testRegistry()
			p := newPusher(t, px.URL()+"/api/v1/write", reg, testOptions(clk, WithTimeout(time.Minute), WithClientOptions(tc.opts...))...)
			_ = px.Set(tc.fault)
			first := clk.Now().UnixMilli()
			// The first push's deadline (20 ms) ends before the Retry-After
			// or the backoff; the second one has time to deliver both
			// snapshots however loaded the machine is.
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			if err := p.Push(ctx); err == nil {
				t.Fatal("no error")
			}
			wantMetric(t, "buffered", p.m.buffered, 1)
			wantMetric(t, "requests{rejected}", p.m.requests.WithLabelValues(resultRejected), 0)
			_ = px.Clear()
			clk.Advance(faultInterval)
			if err := p.Push(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := rc.timestamps(); len(got) != 2 || got[0] != first {
				t.Errorf("delivered %v, want the kept snapshot (%d) then the new one", got, first)
			}
		})
	}
}
