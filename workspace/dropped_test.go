package workspace_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rwkit/rwkit/wire"
	"github.com/rwkit/rwkit/workspace"
)

// inRequestConflicts is one request that holds a second value for series x
// at ts, and a sample of y older than an earlier one of y.
func inRequestConflicts(ts int64) []byte {
	y := series(1, ts, "__name__", "y")
	y.Samples = append(y.Samples, wire.Sample{Timestamp: ts - 10_000, Value: 2}, wire.Sample{Timestamp: ts + 10_000, Value: 3})
	return rw1Body(series(1, ts, "__name__", "x"), series(2, ts, "__name__", "x"), y)
}

// TestDroppedWithinRequest: Cortex (profiles amp and cortex) answers 200
// to a request holding two values for one series and timestamp, or a
// sample older than an earlier one of its series, keeps the earlier sample
// and counts nothing (internal/difftest holds this against a real
// Cortex). The workspace answers the same and says what Cortex does not:
// the X-Rwkit-Dropped header, rwkit_dropped_samples_total and the
// collisions log. AMP's out-of-order window (60s) keeps y's older sample.
func TestDroppedWithinRequest(t *testing.T) {
	for _, profile := range []string{"amp", "cortex"} {
		t.Run(profile, func(t *testing.T) {
			e := newEnv(t, profile)
			oooWindow := e.ws.Limits().OutOfOrderTimeWindow > 0
			ts := nowMs()
			r := e.push(t, "/workspaces/ws/api/v1/remote_write", inRequestConflicts(ts), "User-Agent", "dup-sender/1.0")
			if r.status != http.StatusOK || r.body != "" {
				t.Fatalf("%d %q, want 200 with an empty body, as Cortex", r.status, r.body)
			}
			header := "2 (new-value-for-timestamp=1, sample-out-of-order=1)"
			if oooWindow {
				header = "1 (new-value-for-timestamp=1)"
			}
			if got := r.header.Get(workspace.DroppedHeader); got != header {
				t.Errorf("%s = %q, want %q", workspace.DroppedHeader, got, header)
			}

			// The earlier sample of each conflict is the one stored.
			stored := map[int64]map[string]string{}
			for _, at := range []int64{ts - 10_000, ts, ts + 10_000} {
				stored[at-ts] = e.query(t, "/workspaces/ws", `{__name__=~"x|y"}`, at)
			}
			want := map[int64]map[string]string{
				-10_000: {},
				0:       {"__name__=x": "1", "__name__=y": "1"},
				10_000:  {"__name__=x": "1", "__name__=y": "3"},
			}
			ooo, accepted := 1.0, 3.0
			if oooWindow {
				want[-10_000] = map[string]string{"__name__=y": "2"}
				ooo, accepted = 0, 4
			}
			if d := cmp.Diff(want, stored); d != "" {
				t.Errorf("stored by offset from ts (-want +got):\n%s", d)
			}

			for _, c := range []struct {
				name, reason string
				want         float64
			}{
				{"rwkit_dropped_samples_total", "new-value-for-timestamp", 1},
				{"rwkit_dropped_samples_total", "sample-out-of-order", ooo},
				// Cortex counts nothing: neither does the counter that mirrors it.
				{"rwkit_discarded_samples_total", "new-value-for-timestamp", 0},
				{"rwkit_discarded_samples_total", "sample-out-of-order", 0},
			} {
				if got := metric(t, e, c.name, "reason", c.reason, "workspace", "ws"); got != c.want {
					t.Errorf("%s{reason=%q} = %v, want %v", c.name, c.reason, got, c.want)
				}
			}
			if got := metric(t, e, "rwkit_accepted_samples_total", "workspace", "ws"); got != accepted {
				t.Errorf("rwkit_accepted_samples_total = %v, want %v", got, accepted)
			}

			got := e.collisions(t, "ws")
			if len(got) != 1+int(ooo) {
				t.Fatalf("collisions: %+v, want two dropped-within-request entries", got)
			}
			byReason := map[string]workspace.Collision{}
			for _, c := range got {
				if c.Kind != workspace.KindDroppedWithinRequest || c.ExistingWriter == nil || !cmp.Equal(*c.ExistingWriter, c.NewWriter) ||
					c.NewWriter.UserAgent != "dup-sender/1.0" || c.Count != 1 || !strings.Contains(c.Note, "one request from this writer") {
					t.Errorf("collision %+v: want kind %s, the request's writer on both sides, and a note", c, workspace.KindDroppedWithinRequest)
				}
				byReason[c.Reason] = c
			}
			dup := byReason["new-value-for-timestamp"]
			if dup.Series["__name__"] != "x" || dup.Timestamp != ts || dup.ExistingValue != "1" || dup.NewValue != "2" {
				t.Errorf("new-value-for-timestamp entry: %+v", dup)
			}
			if o, ok := byReason["sample-out-of-order"]; ok != !oooWindow || ok && (o.Series["__name__"] != "y" || o.Timestamp != ts-10_000 || o.NewValue != "2" || o.ExistingValue != "") {
				t.Errorf("sample-out-of-order entry (want one: %v): %+v", !oooWindow, o)
			}
		})
	}
}

// TestDroppedWithinRequestAgainstStored: a second value within the request
// that committed data already refuses is refused, as Cortex's ingester
// refuses it at append (400), not dropped.
func TestDroppedWithinRequestAgainstStored(t *testing.T) {
	e := newEnv(t, "cortex")
	ts := nowMs()
	if r := e.push(t, "/api/v1/push", rw1Body(series(1, ts, "__name__", "x"))); r.status != http.StatusOK {
		t.Fatalf("first push: %d %s", r.status, r.body)
	}
	r := e.push(t, "/api/v1/push", rw1Body(series(1, ts, "__name__", "x"), series(3, ts, "__name__", "x")))
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "existing 1, new value 3") || r.header.Get(workspace.DroppedHeader) != "" {
		t.Errorf("%d %s=%q %q, want 400 new-value-for-timestamp against the stored value", r.status, workspace.DroppedHeader, r.header.Get(workspace.DroppedHeader), r.body)
	}
	if got := metric(t, e, "rwkit_discarded_samples_total", "reason", "new-value-for-timestamp", "workspace", "default"); got != 1 {
		t.Errorf("discarded = %v, want 1", got)
	}
}

// TestDroppedWithinRequestAndRefused: a request Cortex refuses for another
// sample still drops its in-request conflict silently; the refusal's body
// says so beside the header.
func TestDroppedWithinRequestAndRefused(t *testing.T) {
	e := newEnv(t, "cortex")
	ts := nowMs()
	r := e.push(t, "/api/v1/push", rw1Body(series(1, ts, "__name__", "x"), series(2, ts, "__name__", "x"), series(1, ts, "__name__", "bad-name")))
	if r.status != http.StatusBadRequest || r.header.Get(workspace.DroppedHeader) != "1 (new-value-for-timestamp=1)" {
		t.Fatalf("%d %s=%q, want 400 (metric_name_invalid) and the drop", r.status, workspace.DroppedHeader, r.header.Get(workspace.DroppedHeader))
	}
	for _, want := range []string{
		`sample invalid metric name: "bad-name"`,
		"rwkit: discarded 1 samples: metric_name_invalid=1",
		"rwkit: dropped 1 (new-value-for-timestamp=1) without a word",
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("body does not contain %q:\n%s", want, r.body)
		}
	}
}

// TestStrictRefusesWithinRequest: WithStrict keeps the refusals: 400 with
// the ingester's text, the samples counted as discards, none dropped; the
// same samples stored.
func TestStrictRefusesWithinRequest(t *testing.T) {
	e := newEnv(t, "cortex", workspace.WithStrict(true))
	ts := nowMs()
	r := e.push(t, "/workspaces/ws/api/v1/remote_write", inRequestConflicts(ts))
	if r.status != http.StatusBadRequest || r.header.Get(workspace.DroppedHeader) != "" {
		t.Fatalf("%d %s=%q, want 400 and no header", r.status, workspace.DroppedHeader, r.header.Get(workspace.DroppedHeader))
	}
	for _, want := range []string{
		"user=ws: err: duplicate sample for timestamp: an earlier sample of this series in the same batch has this timestamp and another value. series={__name__=\"x\"}",
		"rwkit: discarded 2 samples: new-value-for-timestamp=1, sample-out-of-order=1",
		"value 2 refused from the same writer, which sent two values for one timestamp",
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("body does not contain %q:\n%s", want, r.body)
		}
	}
	for _, reason := range []string{"new-value-for-timestamp", "sample-out-of-order"} {
		if got := metric(t, e, "rwkit_discarded_samples_total", "reason", reason, "workspace", "ws"); got != 1 {
			t.Errorf("discarded{reason=%q} = %v, want 1", reason, got)
		}
		if got := metric(t, e, "rwkit_dropped_samples_total", "reason", reason, "workspace", "ws"); got != 0 {
			t.Errorf("dropped{reason=%q} = %v, want 0", reason, got)
		}
	}
	got := e.query(t, "/workspaces/ws", `{__name__=~"x|y"}`, ts)
	if d := cmp.Diff(map[string]string{"__name__=x": "1", "__name__=y": "1"}, got); d != "" {
		t.Errorf("stored at ts (-want +got):\n%s", d)
	}
	for _, c := range e.collisions(t, "ws") {
		if c.Kind == workspace.KindDroppedWithinRequest {
			t.Errorf("strict: collision %+v, want none dropped", c)
		}
	}
}

// TestPrometheusProfileWithinRequest: Prometheus 3 answers 204 to an RW
// 1.0 request holding in-request conflicts and keeps the earlier samples
// (internal/difftest holds this against a real Prometheus 3); the
// workspace answers the same and names the drop. With WithStrict it
// refuses the request and rolls it back, as for any refused sample.
func TestPrometheusProfileWithinRequest(t *testing.T) {
	e := newEnv(t, "prometheus")
	ts := nowMs()
	r := e.push(t, "/api/v1/write", inRequestConflicts(ts))
	if want := "2 (new-value-for-timestamp=1, sample-out-of-order=1)"; r.status != http.StatusNoContent || r.header.Get(workspace.DroppedHeader) != want {
		t.Fatalf("%d %s=%q %q, want 204 and %q", r.status, workspace.DroppedHeader, r.header.Get(workspace.DroppedHeader), r.body, want)
	}
	if got, want := e.query(t, "/workspaces/default", `{__name__=~"x|y"}`, ts), map[string]string{"__name__=x": "1", "__name__=y": "1"}; !cmp.Equal(got, want) {
		t.Errorf("stored %v, want %v: the earlier samples", got, want)
	}

	strict := newEnv(t, "prometheus", workspace.WithStrict(true))
	r = strict.push(t, "/api/v1/write", inRequestConflicts(ts))
	if r.status != http.StatusBadRequest || r.header.Get(workspace.DroppedHeader) != "" {
		t.Fatalf("strict: %d %s=%q %q, want 400 and no header", r.status, workspace.DroppedHeader, r.header.Get(workspace.DroppedHeader), r.body)
	}
	if got := strict.query(t, "/workspaces/default", `{__name__=~"x|y"}`, ts); len(got) != 0 {
		t.Errorf("strict: stored %v, want the request rolled back", got)
	}
}

// TestRefusedWholeIsNoDiscard: Cortex refuses a request with an empty
// label set as a whole and counts no discard; the workspace counts the
// valid samples it did not store on a counter of its own.
func TestRefusedWholeIsNoDiscard(t *testing.T) {
	e := newEnv(t, "cortex")
	ts := nowMs()
	ok := series(1, ts, "__name__", "x")
	ok.Samples = append(ok.Samples, wire.Sample{Timestamp: ts + 1000, Value: 2})
	r := e.push(t, "/api/v1/push", rw1Body(ok, wire.TimeSeries{Samples: []wire.Sample{{Timestamp: ts, Value: 3}}}))
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "rwkit: stored none of the 3 samples (the request is refused as a whole: 2 valid samples not stored)") {
		t.Fatalf("%d %q, want 400 and the whole request refused", r.status, r.body)
	}
	if got := metric(t, e, "rwkit_refused_whole_samples_total", "workspace", "default"); got != 2 {
		t.Errorf("rwkit_refused_whole_samples_total = %v, want 2", got)
	}
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "rwkit_discarded_samples_total" {
			for _, m := range mf.GetMetric() {
				t.Errorf("a discard counted: %v = %v, want none, as Cortex", m.GetLabel(), m.GetCounter().GetValue())
			}
		}
	}
}
