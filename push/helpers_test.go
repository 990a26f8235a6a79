package push

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/rwkit/rwkit/identity"
	"github.com/rwkit/rwkit/internal/syncbuf"
	"github.com/rwkit/rwkit/internal/waitfor"
	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/wire"
)

// fakeClock is a manual clock: timers fire only when Advance passes them.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	timers  []*fakeTimer
	created int
}

type fakeTimer struct {
	c       chan time.Time
	at      time.Time
	stopped bool
	clk     *fakeClock
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.UnixMilli(1_767_323_045_123)} // 2026-01-02T03:04:05.123Z
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: make(chan time.Time, 1), at: c.now.Add(d), clk: c}
	c.created++
	if d <= 0 {
		t.c <- c.now
		return t
	}
	c.timers = append(c.timers, t)
	return t
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	t.clk.mu.Lock()
	defer t.clk.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}

// Advance moves the clock and fires the timers it passes.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	keep := c.timers[:0]
	for _, t := range c.timers {
		switch {
		case t.stopped:
		case !t.at.After(c.now):
			t.stopped = true
			t.c <- c.now
		default:
			keep = append(keep, t)
		}
	}
	c.timers = keep
}

func (c *fakeClock) Created() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.created
}

// waitTimers waits until the Run loop has created n timers: it is then
// idle, waiting for the next tick.
func (c *fakeClock) waitTimers(t testing.TB, n int) {
	t.Helper()
	waitfor.True(t, "timer "+strconv.Itoa(n), func() bool { return c.Created() >= n })
}

// receiver is an httptest remote-write server that decodes every request
// and answers with what respond says.
type receiver struct {
	srv *httptest.Server

	mu      sync.Mutex
	got     []wire.WriteRequest // accepted requests, decoded
	refused []wire.WriteRequest
	n       int
	arrived []time.Time               // when each request arrived
	respond func(n int) (int, string) // n counts requests from 0

	inflight, maxInflight atomic.Int32
	block                 chan struct{} // when set, each request waits for it (or its own context)
}

func newReceiver(t testing.TB) *receiver {
	rc := &receiver{}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) url() string { return rc.srv.URL + "/api/v1/write" }

func (rc *receiver) setRespond(f func(n int) (int, string)) {
	rc.mu.Lock()
	rc.respond = f
	rc.mu.Unlock()
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	in := rc.inflight.Add(1)
	defer rc.inflight.Add(-1)
	for {
		m := rc.maxInflight.Load()
		if in <= m || rc.maxInflight.CompareAndSwap(m, in) {
			break
		}
	}
	rc.mu.Lock()
	block := rc.block
	rc.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-r.Context().Done():
			return
		}
	}
	body, _ := io.ReadAll(r.Body)
	raw, err := wire.Decompress(nil, body, 64<<20)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req wire.WriteRequest
	v2 := r.Header.Get("X-Prometheus-Remote-Write-Version") == wire.V2.HeaderValue()
	if v2 {
		err = wire.DecodeRequestV2(raw, &req)
	} else {
		err = wire.DecodeWriteRequest(raw, &req)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	n := rc.n
	rc.n++
	rc.arrived = append(rc.arrived, time.Now())
	status, msg := http.StatusNoContent, ""
	if rc.respond != nil {
		status, msg = rc.respond(n)
	}
	if status < 300 {
		rc.got = append(rc.got, req)
	} else {
		rc.refused = append(rc.refused, req)
	}
	rc.mu.Unlock()
	if v2 && status < 300 {
		s, h := 0, 0
		for _, ts := range req.Series {
			s += len(ts.Samples)
			h += len(ts.Histograms)
		}
		w.Header().Set("X-Prometheus-Remote-Write-Samples-Written", strconv.Itoa(s))
		w.Header().Set("X-Prometheus-Remote-Write-Histograms-Written", strconv.Itoa(h))
	}
	if status >= 300 {
		http.Error(w, msg, status)
		return
	}
	w.WriteHeader(status)
}

func (rc *receiver) accepted() []wire.WriteRequest {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]wire.WriteRequest(nil), rc.got...)
}

// arrivals lists when each request arrived.
func (rc *receiver) arrivals() []time.Time {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]time.Time(nil), rc.arrived...)
}

func (rc *receiver) requests() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.n
}

// timestamps lists the batch timestamp of each accepted request.
func (rc *receiver) timestamps() []int64 {
	var out []int64
	for _, r := range rc.accepted() {
		if len(r.Series) > 0 && len(r.Series[0].Samples) > 0 {
			out = append(out, r.Series[0].Samples[0].Timestamp)
		}
	}
	return out
}

// testRegistry is a small registry with fixed values: 2 counters and a
// gauge, 4 series.
func testRegistry() (*prometheus.Registry, *prometheus.CounterVec) {
	reg := prometheus.NewRegistry()
	req := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "app_requests_total", Help: "Requests."}, []string{"code"})
	req.WithLabelValues("200").Add(7)
	req.WithLabelValues("500").Add(1)
	up := prometheus.NewGauge(prometheus.GaugeOpts{Name: "app_up", Help: "Up."})
	up.Set(1)
	jobs := prometheus.NewCounter(prometheus.CounterOpts{Name: "app_jobs_total", Help: "Jobs."})
	jobs.Add(3)
	reg.MustRegister(req, up, jobs)
	return reg, req
}

// noEnv keeps the test process's environment, ECS, Kubernetes and host
// name out of identity resolution.
var noEnv = identity.Options{
	Getenv:            func(string) string { return "" },
	DisableECS:        true,
	DisableKubernetes: true,
	DisableHostname:   true,
}

// testOptions: explicit identity, no client retries, the fake clock, no
// jitter.
func testOptions(clk *fakeClock, extra ...Option) []Option {
	return append([]Option{WithService("auth"), WithInstance("auth-1")}, anonymousOptions(clk, extra...)...)
}

// anonymousOptions is testOptions without identity values.
func anonymousOptions(clk *fakeClock, extra ...Option) []Option {
	return append([]Option{
		WithIdentityOptions(noEnv),
		WithClientOptions(remotewrite.WithRetry(time.Millisecond, time.Millisecond, 1)),
		withClock(clk, func() float64 { return 0 }),
	}, extra...)
}

// logBuffer collects log lines; goroutines of the Pusher write while the
// test reads.
type logBuffer struct {
	syncbuf.Buffer
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// count counts lines containing s.
func (b *logBuffer) count(s string) int {
	n := 0
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.Contains(l, s) {
			n++
		}
	}
	return n
}

func newPusher(t testing.TB, url string, g prometheus.Gatherer, opts ...Option) *Pusher {
	t.Helper()
	p, err := New(url, g, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = p.Shutdown(ctx)
	})
	return p
}

func labelValue(ls []wire.Label, name string) string {
	for _, l := range ls {
		if l.Name == name {
			return l.Value
		}
	}
	return ""
}

func maxSamples(n int) remotewrite.Option { return remotewrite.WithMaxSamplesPerRequest(n) }

// wantMetric checks that the single-valued metric c, called name in the
// error, is want.
func wantMetric(t *testing.T, name string, c prometheus.Collector, want float64) {
	t.Helper()
	if v := testutil.ToFloat64(c); v != want {
		t.Errorf("%s = %v, want %v", name, v, want)
	}
}
