package push

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/rwkit/rwkit/internal/promtest"
)

// The seed incident against a real Prometheus: writers with identity labels
// are two series per metric; writers without them, stamping the same
// aligned millisecond, collide and the second is refused.
func TestPrometheusIdentityAndCollision(t *testing.T) {
	prom := promtest.Start(t)
	ctx := context.Background()
	clk := newFakeClock()
	clk.now = time.Now().Truncate(time.Second).Add(123 * time.Millisecond)

	t.Run("identity", func(t *testing.T) {
		for _, svc := range []string{"auth", "actor"} {
			reg, reqs := testRegistry()
			reqs.WithLabelValues("200").Add(float64(len(svc))) // different values
			p := newPusher(t, prom.WriteURL, reg, testOptions(clk, WithService(svc), WithInstance(svc+"-1"), WithAlignedTimestamps())...)
			if err := p.Push(ctx); err != nil {
				t.Fatalf("%s: %v", svc, err)
			}
		}
		res, err := prom.Query(ctx, `count by (service) (app_requests_total{code="200"})`, clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, r := range res {
			got[r.Metric["service"]] = r.Value
		}
		if len(got) != 2 || got["auth"] != 1 || got["actor"] != 1 {
			t.Errorf("count by (service) = %v, want auth and actor", res)
		}
	})

	t.Run("stale markers", func(t *testing.T) {
		reg, _ := testRegistry()
		p, err := New(prom.WriteURL, reg, testOptions(clk, WithService("doc"), WithInstance("doc-1"), WithStaleMarkersOnShutdown())...)
		if err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Second)
		at := clk.Now()
		if err := p.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			at   time.Time
			want int
		}{{at, 1}, {at.Add(time.Second), 0}} {
			res, err := prom.Query(ctx, `app_up{service="doc"}`, tc.at)
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != tc.want {
				t.Errorf("at %s: %v, want %d series", tc.at, res, tc.want)
			}
		}
	})

	t.Run("without identity", func(t *testing.T) {
		var pushers []*Pusher
		var logs [2]logBuffer
		for i, v := range []float64{21, 14} {
			reg, reqs := testRegistry()
			reqs.WithLabelValues("200").Add(v)
			reqs.WithLabelValues("999").Add(v) // a series only these two write
			p := newPusher(t, prom.WriteURL, reg, anonymousOptions(clk, WithoutIdentity(), WithAlignedTimestamps(),
				WithInterval(time.Minute), WithLogger(logs[i].logger()))...)
			pushers = append(pushers, p)
		}
		if err := pushers[0].Push(ctx); err != nil {
			t.Fatalf("first writer: %v", err)
		}
		for range 2 {
			err := pushers[1].Push(ctx)
			if err == nil || !strings.Contains(err.Error(), "400") {
				t.Fatalf("second writer: %v, want a 400", err)
			}
			clk.Advance(time.Minute) // the next interval collides again
			if err := pushers[0].Push(ctx); err != nil {
				t.Fatalf("first writer: %v", err)
			}
		}
		second := pushers[1]
		if v := testutil.ToFloat64(second.m.rejectedSamples.WithLabelValues("new-value-for-timestamp")); v == 0 {
			t.Errorf("rejected{new-value-for-timestamp} = 0; logs:\n%s", logs[1].String())
		}
		if v := testutil.ToFloat64(second.m.buffered); v != 0 {
			t.Errorf("a refused snapshot was buffered: %v", v)
		}
		if n := logs[1].count("backend refused samples"); n != 1 {
			t.Errorf("%d refusal lines, want 1:\n%s", n, logs[1].String())
		}
		if !strings.Contains(logs[1].String(), "reason=new-value-for-timestamp") || !strings.Contains(logs[1].String(), "WithoutIdentity") {
			t.Errorf("refusal line lacks reason or identity:\n%s", logs[1].String())
		}
		res, err := prom.Query(ctx, `app_requests_total{code="999"}`, clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 1 || res[0].Value != 21 {
			t.Errorf("stored %v, want the first writer's 21 only", res)
		}
	})
}
