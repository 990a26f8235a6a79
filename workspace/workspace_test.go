package workspace_test

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
	"github.com/rwkit/rwkit/workspace"
)

// TestPushAndQuery pushes RW 1.0 and RW 2.0 through the rwkit client to
// all three write paths and reads the samples back with PromQL.
func TestPushAndQuery(t *testing.T) {
	e := newEnv(t, "amp")
	ts := nowMs()
	for _, tc := range []struct {
		name    string
		path    string
		version wire.Version
		opts    []remotewrite.Option
		base    string
		headers []string
	}{
		{"amp rw1", "/workspaces/ws-1/api/v1/remote_write", wire.V1, nil, "/workspaces/ws-1", nil},
		{"amp rw2", "/workspaces/ws-2/api/v1/remote_write", wire.V2, nil, "/workspaces/ws-2", nil},
		{"cortex", "/api/v1/push", wire.V1, []remotewrite.Option{remotewrite.WithHeader("X-Scope-OrgID", "team-a")}, "/prometheus", []string{"X-Scope-OrgID", "team-a"}},
		{"prometheus", "/api/v1/write", wire.V2, nil, "/workspaces/default", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := e.client(t, tc.path, append(tc.opts, remotewrite.WithVersion(tc.version))...)
			res, err := c.Write(ctx, &wire.WriteRequest{Series: []wire.TimeSeries{
				series(21, ts, "__name__", "jvm_threads_live_threads", "service", "auth"),
				series(14, ts, "__name__", "jvm_threads_live_threads", "service", "bff"),
			}})
			if err != nil {
				t.Fatal(err)
			}
			if tc.version == wire.V2 && res.Written.Samples != 2 {
				t.Errorf("RW 2.0 written samples = %d, want 2 (%v)", res.Written.Samples, res)
			}
			got := e.query(t, tc.base, "jvm_threads_live_threads", ts, tc.headers...)
			want := map[string]string{
				"__name__=jvm_threads_live_threads,service=auth": "21",
				"__name__=jvm_threads_live_threads,service=bff":  "14",
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("query (-want +got):\n%s", d)
			}
		})
	}
}

// TestRW1SuccessIsCortexShaped: 200 with an empty body; RW 2.0: 204 with
// the Written headers.
func TestSuccessAnswers(t *testing.T) {
	e := newEnv(t, "amp")
	ts := nowMs()
	r := e.push(t, "/workspaces/ws/api/v1/remote_write", rw1Body(series(1, ts, "__name__", "up")))
	if r.status != http.StatusOK || r.body != "" {
		t.Errorf("RW 1.0: %d %q, want 200 and an empty body", r.status, r.body)
	}
	r = e.push(t, "/workspaces/ws/api/v1/remote_write", rw2Body(series(1, ts+1, "__name__", "up")),
		"Content-Type", wire.V2.ContentType())
	if r.status != http.StatusNoContent {
		t.Errorf("RW 2.0: %d %q, want 204", r.status, r.body)
	}
	for h, want := range map[string]string{
		"X-Prometheus-Remote-Write-Samples-Written":    "1",
		"X-Prometheus-Remote-Write-Histograms-Written": "0",
		"X-Prometheus-Remote-Write-Exemplars-Written":  "0",
	} {
		if got := r.header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
}

// TestTwoWritersCollide is the seed incident: two writers without identity
// labels push the same series at the same millisecond with different
// values. The second is refused with Cortex's 400 and text, the body names
// both writers, the discard is counted by reason, the collisions endpoint
// lists it and PromQL returns the first writer's value.
func TestTwoWritersCollide(t *testing.T) {
	e := newEnv(t, "amp")
	ts := nowMs()
	path := "/api/v1/write" // tenant "default"
	auth := e.client(t, path, remotewrite.WithUserAgent("auth-service/1.0"))
	actor := e.client(t, path, remotewrite.WithUserAgent("actor-service/1.0"))
	if _, err := auth.Write(ctx, &wire.WriteRequest{Series: []wire.TimeSeries{series(21, ts, "__name__", "jvm_threads_live_threads")}}); err != nil {
		t.Fatal(err)
	}
	_, err := actor.Write(ctx, &wire.WriteRequest{Series: []wire.TimeSeries{series(14, ts, "__name__", "jvm_threads_live_threads")}})
	var rwErr *remotewrite.Error
	if !errors.As(err, &rwErr) {
		t.Fatalf("second writer: err = %v, want a *remotewrite.Error", err)
	}
	if rwErr.StatusCode != http.StatusBadRequest || rwErr.Reason != validate.NewValueForTimestamp {
		t.Errorf("status %d reason %q, want 400 new-value-for-timestamp", rwErr.StatusCode, rwErr.Reason)
	}
	wantFirst := "user=default: err: duplicate sample for timestamp " + strconv.FormatInt(ts, 10) +
		"; overrides not allowed: existing 21, new value 14. series={__name__=\"jvm_threads_live_threads\"}"
	lines := strings.Split(rwErr.Body, "\n")
	if lines[0] != wantFirst {
		t.Errorf("first line:\n got %q\nwant %q", lines[0], wantFirst)
	}
	for _, want := range []string{
		"rwkit: discarded 1 samples: new-value-for-timestamp=1",
		"written by writer (User-Agent auth-service/1.0, 127.0.0.1:",
		"value 14 refused from writer (User-Agent actor-service/1.0, 127.0.0.1:",
		"GET /workspaces/default/api/v1/collisions",
	} {
		if !strings.Contains(rwErr.Body, want) {
			t.Errorf("body does not contain %q:\n%s", want, rwErr.Body)
		}
	}
	if got := metric(t, e, "rwkit_discarded_samples_total", "reason", "new-value-for-timestamp", "workspace", "default"); got != 1 {
		t.Errorf(`rwkit_discarded_samples_total{workspace="default",reason="new-value-for-timestamp"} = %v, want 1`, got)
	}
	got := e.query(t, "/workspaces/default", "jvm_threads_live_threads", ts)
	if d := cmp.Diff(map[string]string{"__name__=jvm_threads_live_threads": "21"}, got); d != "" {
		t.Errorf("stored value (-want +got):\n%s", d)
	}
	cs := e.collisions(t, "default")
	if len(cs) != 1 {
		t.Fatalf("collisions: %+v, want 1", cs)
	}
	c := cs[0]
	if c.Kind != workspace.KindNewValueForTimestamp || c.Timestamp != ts || c.ExistingValue != "21" || c.NewValue != "14" || c.Count != 1 ||
		c.ExistingWriter == nil || c.ExistingWriter.UserAgent != "auth-service/1.0" || c.NewWriter.UserAgent != "actor-service/1.0" ||
		c.Series["__name__"] != "jvm_threads_live_threads" {
		t.Errorf("collision = %+v (existing writer %+v)", c, c.ExistingWriter)
	}
}

// metric returns the value of the counter name with exactly labels
// (name, value pairs) in e's registry, 0 when absent.
func metric(t testing.TB, e *env, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel())*2 != len(labels) {
				continue
			}
			for i, l := range m.GetLabel() {
				if l.GetName() != labels[2*i] || l.GetValue() != labels[2*i+1] {
					continue next
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}
