package push

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/rwkit/rwkit/gather"
	"github.com/rwkit/rwkit/identity"
	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/wire"
)

func TestPushAddsIdentityAndOneTimestamp(t *testing.T) {
	rc := newReceiver(t)
	clk := newFakeClock()
	reg, _ := testRegistry()
	self := prometheus.NewRegistry()
	p := newPusher(t, rc.url(), reg, testOptions(clk, WithRegisterer(self), WithLabels(map[string]string{"env": "test"}))...)

	if err := p.Push(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := rc.accepted()
	if len(got) != 1 {
		t.Fatalf("got %d requests, want 1", len(got))
	}
	want := clk.Now().UnixMilli()
	for _, s := range got[0].Series {
		for _, l := range []struct{ name, value string }{{"service", "auth"}, {"instance", "auth-1"}, {"env", "test"}} {
			if v := labelValue(s.Labels, l.name); v != l.value {
				t.Errorf("%v: %s=%q, want %q", s.Labels, l.name, v, l.value)
			}
		}
		if len(s.Samples) != 1 || s.Samples[0].Timestamp != want {
			t.Errorf("%v: samples %v, want one at %d", s.Labels, s.Samples, want)
		}
	}
	if n := len(got[0].Series); n != 4 {
		t.Errorf("got %d series, want 4", n)
	}
	wantMetric(t, "requests{success}", p.m.requests.WithLabelValues(resultSuccess), 1)
	wantMetric(t, "samples{success}", p.m.samples.WithLabelValues(resultSuccess), 4)
	if v := testutil.ToFloat64(p.m.lastSuccess); v != float64(clk.Now().UnixNano())/1e9 {
		t.Errorf("last success = %v, want %v", v, float64(clk.Now().UnixNano())/1e9)
	}
	if n, err := testutil.GatherAndCount(self); err != nil || n == 0 {
		t.Errorf("self-metrics: %d, %v", n, err)
	}
	if id := p.Identity(); id == nil || id.Service.Source != "option" {
		t.Errorf("Identity() = %v", id)
	}
}

func TestNewWithoutIdentity(t *testing.T) {
	reg, _ := testRegistry()
	_, err := New("http://127.0.0.1:1/api/v1/write", reg, WithIdentityOptions(noEnv))
	var ue *identity.UnresolvedError
	if !errors.As(err, &ue) {
		t.Fatalf("err = %v, want an *identity.UnresolvedError", err)
	}
	for _, s := range []string{"refusing to start without an identity", "WithoutIdentity()", "tried:", "RWKIT_SERVICE", "push.WithService", "push.WithInstance", "no service and no instance"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error does not mention %q:\n%v", s, err)
		}
	}

	// Only the instance is missing.
	_, err = New("http://127.0.0.1:1/api/v1/write", reg, WithIdentityOptions(noEnv), WithService("auth"))
	if !errors.As(err, &ue) || !cmp.Equal(ue.Missing, []string{"instance"}) {
		t.Fatalf("err = %v, want instance missing", err)
	}

	// The explicit opt-out works, and contradicting it does not.
	if _, err := New("http://127.0.0.1:1/api/v1/write", reg, WithIdentityOptions(noEnv), WithoutIdentity()); err != nil {
		t.Fatal(err)
	}
	if _, err := New("http://127.0.0.1:1/api/v1/write", reg, WithoutIdentity(), WithService("auth")); err == nil {
		t.Fatal("WithoutIdentity with WithService: no error")
	}
}

func TestNewIdentityFromEnv(t *testing.T) {
	reg, _ := testRegistry()
	env := map[string]string{"RWKIT_SERVICE": "billing", "RWKIT_INSTANCE": "billing-7"}
	o := noEnv
	o.Getenv = func(k string) string { return env[k] }
	var logs logBuffer
	p, err := New("http://127.0.0.1:1/api/v1/write", reg, WithIdentityOptions(o), WithIdentityLabels("job", "instance"), WithLogger(logs.logger()))
	if err != nil {
		t.Fatal(err)
	}
	id := p.Identity()
	if id.Service.Label != "job" || id.Service.Value != "billing" || id.Instance.Value != "billing-7" {
		t.Fatalf("identity %v", id)
	}
	if n := logs.count("push: writing as"); n != 1 || !strings.Contains(logs.String(), "RWKIT_SERVICE") {
		t.Errorf("want one start line naming the source, got:\n%s", logs.String())
	}
}

func TestNewValidates(t *testing.T) {
	reg, _ := testRegistry()
	for _, tc := range []struct {
		name string
		opts []Option
		want string
	}{
		{"interval", []Option{WithInterval(0)}, "WithInterval"},
		{"timeout", []Option{WithTimeout(-time.Second)}, "WithTimeout"},
		{"jitter", []Option{WithJitter(1.5)}, "WithJitter"},
		{"buffer", []Option{WithBuffer(-1, time.Minute)}, "WithBuffer"},
		{"buffer age", []Option{WithBuffer(1024, 0)}, "maxAge"},
		{"version", []Option{WithRWVersion(3)}, "WithRWVersion"},
		{"label empty", []Option{WithLabels(map[string]string{"env": ""})}, "empty value"},
		{"label is identity", []Option{WithLabels(map[string]string{"service": "x"})}, "identity label"},
		{"label name", []Option{WithLabels(map[string]string{"bad-name": "x"})}, "bad-name"},
		{"identity labels", []Option{WithIdentityLabels("job", "job")}, "two label names"},
		{"aligned sub-ms", []Option{WithInterval(1500 * time.Microsecond), WithAlignedTimestamps()}, "whole milliseconds"},
		{"sigv4 region", []Option{WithSigV4("eu-west-1")}, "region"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := "http://127.0.0.1:1/api/v1/write"
			if tc.name == "sigv4 region" {
				url = "https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-1/api/v1/remote_write"
			}
			opts := append([]Option{WithIdentityOptions(noEnv), WithService("a"), WithInstance("b"), nil}, tc.opts...)
			_, err := New(url, reg, opts...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
	if _, err := New("http://127.0.0.1:1/api/v1/write", nil); err == nil {
		t.Error("nil Gatherer: no error")
	}
}

func TestNewRefusesLabelConflict(t *testing.T) {
	reg, _ := testRegistry()
	clash := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "grpc_up", Help: "Up."}, []string{"service"})
	clash.WithLabelValues("Greeter").Set(1)
	reg.MustRegister(clash)
	_, err := New("http://127.0.0.1:1/api/v1/write", reg, WithIdentityOptions(noEnv), WithService("auth"), WithInstance("auth-1"))
	var lce *gather.LabelConflictError
	if !errors.As(err, &lce) || lce.Family != "grpc_up" || !strings.Contains(err.Error(), "WithRenameConflictingLabels") {
		t.Fatalf("err = %v, want a *gather.LabelConflictError for grpc_up with a way out", err)
	}

	rc := newReceiver(t)
	p := newPusher(t, rc.url(), reg, testOptions(newFakeClock(), WithRenameConflictingLabels())...)
	if err := p.Push(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, s := range rc.accepted()[0].Series {
		if labelValue(s.Labels, "__name__") == "grpc_up" && labelValue(s.Labels, "exported_service") != "Greeter" {
			t.Errorf("renamed series %v", s.Labels)
		}
	}
}

// A conflicting metric registered after New stops every push until it is
// fixed; it is logged once.
func TestLabelConflictAfterNew(t *testing.T) {
	rc := newReceiver(t)
	reg, _ := testRegistry()
	var logs logBuffer
	p := newPusher(t, rc.url(), reg, testOptions(newFakeClock(), WithLogger(logs.logger()))...)
	clash := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "grpc_up", Help: "Up."}, []string{"instance"})
	clash.WithLabelValues("x").Set(1)
	reg.MustRegister(clash)

	for range 3 {
		err := p.Push(context.Background())
		var lce *gather.LabelConflictError
		if !errors.As(err, &lce) {
			t.Fatalf("err = %v, want a *gather.LabelConflictError", err)
		}
	}
	if n := rc.requests(); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
	wantMetric(t, "requests{failed}", p.m.requests.WithLabelValues(resultFailed), 3)
	if n := logs.count("cannot build a snapshot"); n != 1 {
		t.Errorf("%d error lines, want 1:\n%s", n, logs.String())
	}
	reg.Unregister(clash)
	if err := p.Push(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := logs.count("snapshots build again"); n != 1 {
		t.Errorf("%d repair lines, want 1:\n%s", n, logs.String())
	}
}

func TestRegisterTwice(t *testing.T) {
	reg, _ := testRegistry()
	opts := []Option{WithIdentityOptions(noEnv), WithService("a"), WithInstance("b"), WithRegisterer(reg)}
	if _, err := New("http://127.0.0.1:1/api/v1/write", reg, opts...); err != nil {
		t.Fatal(err)
	}
	_, err := New("http://127.0.0.1:1/api/v1/write", reg, opts...)
	var are prometheus.AlreadyRegisteredError
	if !errors.As(err, &are) || !strings.Contains(err.Error(), "WrapRegistererWith") {
		t.Fatalf("err = %v, want an AlreadyRegisteredError with a way out", err)
	}
	// Each wrapped with its own label, two Pushers share a registry.
	other := prometheus.NewRegistry()
	for _, name := range []string{"first", "second"} {
		opts[3] = WithRegisterer(prometheus.WrapRegistererWith(prometheus.Labels{"pusher": name}, other))
		if _, err := New("http://127.0.0.1:1/api/v1/write", reg, opts...); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTimestamps(t *testing.T) {
	rc := newReceiver(t)
	clk := newFakeClock() // ...05.123
	reg, _ := testRegistry()
	p := newPusher(t, rc.url(), reg, testOptions(clk, WithAlignedTimestamps(), WithInterval(10*time.Second))...)
	ctx := context.Background()
	for range 2 { // the second push of one interval gets the current time
		if err := p.Push(ctx); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(10 * time.Second)
	if err := p.Push(ctx); err != nil {
		t.Fatal(err)
	}
	now := clk.Now().UnixMilli()
	boundary := now - now%10000
	want := []int64{boundary - 10000, now - 10000, boundary}
	if diff := cmp.Diff(want, rc.timestamps()); diff != "" {
		t.Errorf("timestamps (-want +got):\n%s", diff)
	}

	// Without alignment, two pushes in one millisecond still get distinct
	// timestamps.
	rc2 := newReceiver(t)
	p2 := newPusher(t, rc2.url(), reg, testOptions(clk)...)
	for range 2 {
		if err := p2.Push(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff([]int64{now, now + 1}, rc2.timestamps()); diff != "" {
		t.Errorf("timestamps (-want +got):\n%s", diff)
	}
}

func TestRefusedIsNotBuffered(t *testing.T) {
	rc := newReceiver(t)
	rc.setRespond(func(int) (int, string) {
		return http.StatusBadRequest, `user=fake: err: duplicate sample for timestamp. timestamp=2026-01-02T03:04:05Z, series={__name__="app_up"}`
	})
	clk := newFakeClock()
	reg, _ := testRegistry()
	var logs logBuffer
	p := newPusher(t, rc.url(), reg, testOptions(clk, WithLogger(logs.logger()))...)
	for range 3 {
		err := p.Push(context.Background())
		if err == nil || !strings.Contains(err.Error(), "400") {
			t.Fatalf("err = %v, want the 400", err)
		}
		clk.Advance(time.Second)
	}
	wantMetric(t, "rejected samples", p.m.rejectedSamples.WithLabelValues("new-value-for-timestamp"), 12)
	wantMetric(t, "requests{rejected}", p.m.requests.WithLabelValues(resultRejected), 3)
	wantMetric(t, "buffered", p.m.buffered, 0)
	if n := rc.requests(); n != 3 {
		t.Errorf("%d requests, want 3 (no retries)", n)
	}
	if n := logs.count("backend refused samples"); n != 1 {
		t.Errorf("%d refusal lines, want 1:\n%s", n, logs.String())
	}
	line := logs.String()
	for _, s := range []string{"status=400", "reason=new-value-for-timestamp", "hint=", "body=", "bytes=", "series=4", "samples=4", "identity="} {
		if !strings.Contains(line, s) {
			t.Errorf("refusal line lacks %q:\n%s", s, line)
		}
	}
	rc.setRespond(nil)
	if err := p.Push(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := logs.count("accepts writes again"); n != 1 {
		t.Errorf("%d end-of-refusal lines, want 1:\n%s", n, logs.String())
	}
}

// A refused request among several: the others are still delivered.
func TestRefusedRequestOthersDelivered(t *testing.T) {
	rc := newReceiver(t)
	rc.setRespond(func(n int) (int, string) {
		if n == 1 {
			return http.StatusBadRequest, "out of order sample"
		}
		return http.StatusNoContent, ""
	})
	reg, _ := testRegistry()
	p := newPusher(t, rc.url(), reg, testOptions(newFakeClock(), WithClientOptions(maxSamples(1)))...)
	if err := p.Push(context.Background()); err == nil {
		t.Fatal("no error")
	}
	var n int
	for _, r := range rc.accepted() {
		n += len(r.Series)
	}
	if n != 3 || rc.requests() != 4 {
		t.Errorf("delivered %d series in %d requests, want 3 of 4", n, rc.requests())
	}
	wantMetric(t, "rejected", p.m.rejectedSamples.WithLabelValues("sample-out-of-order"), 1)
}

type countingTransport struct {
	n    atomic.Int32
	orgs chan string
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	c.orgs <- r.Header.Get("X-Scope-OrgID")
	return http.DefaultTransport.RoundTrip(r)
}

func TestTransportAndClientOptions(t *testing.T) {
	rc := newReceiver(t)
	reg, _ := testRegistry()
	tr := &countingTransport{orgs: make(chan string, 10)}
	p := newPusher(t, rc.url(), reg, testOptions(newFakeClock(), WithTransport(tr),
		WithClientOptions(remotewrite.WithHeader("X-Scope-OrgID", "team-a")))...)
	if err := p.Push(context.Background()); err != nil {
		t.Fatal(err)
	}
	if tr.n.Load() != 1 || <-tr.orgs != "team-a" {
		t.Errorf("transport saw %d requests", tr.n.Load())
	}
}

func TestRWVersion2(t *testing.T) {
	rc := newReceiver(t)
	reg, _ := testRegistry()
	p := newPusher(t, rc.url(), reg, testOptions(newFakeClock(), WithRWVersion(wire.V2))...)
	if err := p.Push(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := rc.accepted(); len(got) != 1 || len(got[0].Series) != 4 || got[0].Series[0].Metadata.Type == wire.MetricTypeUnknown {
		t.Fatalf("got %+v", got)
	}
}

func TestNativeHistogramsAndExemplars(t *testing.T) {
	rc := newReceiver(t)
	reg := prometheus.NewRegistry()
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "lat_seconds", Help: "Latency.", NativeHistogramBucketFactor: 1.1})
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "hits_total", Help: "Hits."})
	reg.MustRegister(h, c)
	h.Observe(0.2)
	c.(prometheus.ExemplarAdder).AddWithExemplar(1, prometheus.Labels{"trace_id": "abc"})
	p := newPusher(t, rc.url(), reg, testOptions(newFakeClock(), WithNativeHistograms(), WithExemplars())...)
	if err := p.Push(context.Background()); err != nil {
		t.Fatal(err)
	}
	var hist, ex int
	for _, s := range rc.accepted()[0].Series {
		hist += len(s.Histograms)
		ex += len(s.Exemplars)
	}
	if hist != 1 || ex != 1 {
		t.Errorf("%d native histograms and %d exemplars, want 1 and 1", hist, ex)
	}
}
