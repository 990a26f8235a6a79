package cortextest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rwkit/rwkit/internal/cortextest"
	"github.com/rwkit/rwkit/wire"
)

const tenant = "rwkit-cortextest"

func rw1(series ...wire.TimeSeries) []byte {
	raw := wire.AppendWriteRequest(nil, &wire.WriteRequest{Series: series})
	return wire.Compress(nil, raw)
}

func series(name string, value float64, ts int64) wire.TimeSeries {
	return wire.TimeSeries{
		Labels:  []wire.Label{{Name: "__name__", Value: name}, {Name: "job", Value: "cortextest"}},
		Samples: []wire.Sample{{Value: value, Timestamp: ts}},
	}
}

// TestRealCortex pins what the real Cortex answers to the cases rwkit's
// receiver mimics: a new value at an existing timestamp is refused with
// 400 and counted as new-value-for-timestamp on the ingester, the same
// value again is accepted, and the valid series of a refused request are
// kept (partial ingestion).
func TestRealCortex(t *testing.T) {
	start := time.Now()
	c := cortextest.Start(t)
	t.Logf("ready in %v: push %s, query %s", time.Since(start).Round(time.Millisecond), c.PushURL, c.QueryURL)
	ctx := context.Background()

	ts := time.Now().Truncate(time.Millisecond)
	ms := ts.UnixMilli()
	push := func(what string, wantStatus int, body []byte) string {
		t.Helper()
		status, text, err := c.Push(ctx, tenant, body, false)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		t.Logf("%s: %d %q", what, status, text)
		if status != wantStatus {
			t.Fatalf("%s: status %d, want %d; body %q", what, status, wantStatus, text)
		}
		return text
	}

	push("first sample", 200, rw1(series("rwkit_cortextest_dup", 1, ms)))
	push("same value, same timestamp", 200, rw1(series("rwkit_cortextest_dup", 1, ms)))

	before, err := c.DiscardedSamples(ctx, tenant, "new-value-for-timestamp")
	if err != nil {
		t.Fatal(err)
	}
	body := push("new value, same timestamp", 400, rw1(series("rwkit_cortextest_dup", 2, ms)))
	for _, want := range []string{"duplicate sample for timestamp", "rwkit_cortextest_dup"} {
		if !strings.Contains(body, want) {
			t.Errorf("duplicate body %q does not contain %q", body, want)
		}
	}
	after, err := c.DiscardedSamples(ctx, tenant, "new-value-for-timestamp")
	if err != nil {
		t.Fatal(err)
	}
	if after-before != 1 {
		t.Errorf("cortex_discarded_samples_total{reason=\"new-value-for-timestamp\"} went %v -> %v, want +1", before, after)
	}

	// One valid series and one conflicting sample in one request: 400, and
	// the valid one is stored all the same.
	push("partial: one new series, one conflicting sample", 400,
		rw1(series("rwkit_cortextest_partial", 7, ms), series("rwkit_cortextest_dup", 3, ms)))

	push("older timestamp", 400, rw1(series("rwkit_cortextest_dup", 4, ms-60_000)))

	// A distributor-side discard: counted by the other process.
	push("no metric name", 400, rw1(wire.TimeSeries{
		Labels:  []wire.Label{{Name: "job", Value: "cortextest"}},
		Samples: []wire.Sample{{Value: 1, Timestamp: ms}},
	}))
	if n, err := c.DiscardedSamples(ctx, tenant, "missing_metric_name"); err != nil || n != 1 {
		t.Errorf("discarded missing_metric_name = %v, %v; want 1", n, err)
	}

	// Native histograms are off by default: accepted with 200 and dropped.
	push("native histogram, histograms disabled", 200, rw1(histSeries("rwkit_cortextest_hist", 2, ms)))
	if n, err := c.DiscardedSamples(ctx, tenant, "native-histogram-sample"); err != nil || n != 1 {
		t.Errorf("discarded native-histogram-sample = %v, %v; want 1", n, err)
	}

	for name, want := range map[string]string{"rwkit_cortextest_dup": "1", "rwkit_cortextest_partial": "7"} {
		raw, err := c.Query(ctx, tenant, name, ts)
		if err != nil {
			t.Fatal(err)
		}
		if got := instantValue(t, raw); got != want {
			t.Errorf("query %s = %q, want %q; response %s", name, got, want, raw)
		}
	}

	// Another tenant sees none of it.
	raw, err := c.Query(ctx, "someone-else", "rwkit_cortextest_dup", ts)
	if err != nil {
		t.Fatal(err)
	}
	if got := instantValue(t, raw); got != "" {
		t.Errorf("tenant someone-else sees rwkit_cortextest_dup = %q", got)
	}
	for _, p := range []*cortextest.Process{c.Ingester, c.Distributor} {
		text, err := p.Metrics(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s /metrics:\n%s", p.Name, strings.Join(cortextest.MetricLines(text, "cortex_discarded_samples_total"), "\n"))
		rss, err := p.RSS()
		t.Logf("%s: pid %d, RSS %.1f MiB (%v)", p.Name, p.PID(), float64(rss)/(1<<20), err)
	}
}

func histSeries(name string, count uint64, ts int64) wire.TimeSeries {
	return wire.TimeSeries{
		Labels: []wire.Label{{Name: "__name__", Value: name}, {Name: "job", Value: "cortextest"}},
		Histograms: []wire.Histogram{{
			CountInt:       count,
			Sum:            float64(count),
			Schema:         0,
			ZeroThreshold:  1e-128,
			PositiveSpans:  []wire.BucketSpan{{Offset: 0, Length: 1}},
			PositiveDeltas: []int64{int64(count)},
			Timestamp:      ts,
		}},
	}
}

// TestRealCortexNativeHistograms enables native histograms, as a limit
// override, and pins the duplicate-histogram answer.
func TestRealCortexNativeHistograms(t *testing.T) {
	c := cortextest.StartWith(t, cortextest.Options{Limits: map[string]string{"enable_native_histograms": "true"}})
	ctx := context.Background()
	ts := time.Now().Truncate(time.Millisecond)
	ms := ts.UnixMilli()
	for _, step := range []struct {
		what   string
		count  uint64
		status int
	}{
		{"histogram", 2, 200},
		{"same histogram again", 2, 200},
		{"different histogram, same timestamp", 5, 400},
	} {
		status, body, err := c.Push(ctx, tenant, rw1(histSeries("rwkit_cortextest_hist", step.count, ms)), false)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d %q", step.what, status, body)
		if status != step.status {
			t.Fatalf("%s: status %d, want %d", step.what, status, step.status)
		}
	}
	if n, err := c.DiscardedSamples(ctx, tenant, "new-value-for-timestamp"); err != nil || n != 1 {
		t.Errorf("discarded new-value-for-timestamp = %v, %v; want 1", n, err)
	}
	raw, err := c.Query(ctx, tenant, "histogram_count(rwkit_cortextest_hist)", ts)
	if err != nil {
		t.Fatal(err)
	}
	if got := instantValue(t, raw); got != "2" {
		t.Errorf("histogram_count = %q, want 2; response %s", got, raw)
	}
}

// instantValue returns the value of the single sample of an instant
// vector, "" for an empty result.
func instantValue(t *testing.T, raw []byte) string {
	t.Helper()
	var resp struct {
		Status string `json:"status"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &resp); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	switch len(resp.Data.Result) {
	case 0:
		return ""
	case 1:
		return fmt.Sprint(resp.Data.Result[0].Value[1])
	}
	t.Fatalf("%d series, want 1: %s", len(resp.Data.Result), raw)
	return ""
}
