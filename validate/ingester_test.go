package validate

import (
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The expected texts are the ones a real Cortex v1.21.1 answered.
func TestIngesterMessage(t *testing.T) {
	s := lbls("__name__", "m", "job", "j")
	tests := []struct {
		name          string
		reason        Reason
		ts            int64
		existing, new float64
		want          string
	}{
		{"duplicate", NewValueForTimestamp, 1795611126435, 1, 2,
			`err: duplicate sample for timestamp 1795611126435; overrides not allowed: existing 1, new value 2. series={__name__="m", job="j"}`},
		{"duplicate over histogram", NewValueForTimestamp, 5, math.NaN(), 2.5,
			`err: duplicate sample for timestamp 5; overrides not allowed: existing is a histogram, new value 2.5. series={__name__="m", job="j"}`},
		{"out of order", SampleOutOfOrder, 1795611066435, 0, 0,
			`err: out of order sample. timestamp=2026-11-25T12:51:06.435Z, series={__name__="m", job="j"}`},
		{"out of bounds", SampleOutOfBounds, 1795611066000, 0, 0,
			`err: out of bounds. timestamp=2026-11-25T12:51:06Z, series={__name__="m", job="j"}`},
		{"too old", SampleTooOld, 1795611066435, 0, 0,
			`err: too old sample. timestamp=2026-11-25T12:51:06.435Z, series={__name__="m", job="j"}`},
		{"not a tsdb reason", RateLimited, 1, 0, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, IngesterMessage(tt.reason, tt.ts, s, tt.existing, tt.new)); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestWrappers(t *testing.T) {
	msg := UserMessage("T", IngesterMessage(SampleOutOfOrder, 1795611066435, lbls("__name__", "m", "job", "j"), 0, 0))
	want := `user=T: err: out of order sample. timestamp=2026-11-25T12:51:06.435Z, series={__name__="m", job="j"}`
	if diff := cmp.Diff(want, msg); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	got := CortexWrap("127.0.0.1:9095", 400, msg)
	want = "maxFailure (quorum) on a given error family, addr=127.0.0.1:9095 state=ACTIVE zone=, rpc error: code = Code(400) desc = " + want
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

func TestSeriesLimitMessages(t *testing.T) {
	l := mustProfile(t, "cortex")
	if diff := cmp.Diff("per-user series limit of 5000000 exceeded, please contact administrator to raise it (local limit: 5000000 global limit: 0 actual local limit: 5000000)",
		PerUserSeriesLimitMessage(&l)); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	got := PerMetricSeriesLimitMessage(&l, lbls("__name__", "m", "a.b", "1"))
	want := `per-metric series limit of 50000 exceeded for metric m, please contact administrator to raise it (local limit: 50000 global limit: 0 actual local limit: 50000) for series {__name__="m", "a.b"="1"}`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if SeriesLimitReached(49999, 50000) || !SeriesLimitReached(50000, 50000) || SeriesLimitReached(10, 0) {
		t.Error("SeriesLimitReached disagrees with Cortex's limiter (refuse when count >= limit)")
	}
	if got := IngesterStatus(&l, PerUserSeriesLimit); got != http.StatusBadRequest {
		t.Errorf("IngesterStatus = %d", got)
	}
}

func TestStatus(t *testing.T) {
	for r, want := range map[Reason]int{
		NewValueForTimestamp:               400,
		MissingMetricName:                  400,
		RateLimited:                        429,
		NativeHistogramRateLimited:         429,
		DroppedByUserConfigurationOverride: 0,
		NativeHistogramSample:              0,
	} {
		if got := Status(r); got != want {
			t.Errorf("Status(%q) = %d, want %d", r, got, want)
		}
	}
}

func TestPrometheusMessage(t *testing.T) {
	if got := PrometheusMessage(NewValueForTimestamp, 10, 1, 2); got != "duplicate sample for timestamp 10; overrides not allowed: existing 1, new value 2" {
		t.Error(got)
	}
	if got := PrometheusMessage(SampleOutOfOrder, 10, 0, 0); got != "out of order sample" {
		t.Error(got)
	}
}

func TestRateLimiter(t *testing.T) {
	t0 := time.Unix(1000, 0)
	rl := NewRateLimiter(10, 20)
	steps := []struct {
		at   time.Duration
		n    int
		want bool
	}{
		{0, 20, true},                     // starts full
		{0, 1, false},                     // empty
		{500 * time.Millisecond, 5, true}, // 5 tokens refilled
		{500 * time.Millisecond, 1, false},
		{10 * time.Second, 21, false}, // more than burst: never
		{10 * time.Second, 20, true},  // refilled up to burst only
		{9 * time.Second, 1, false},   // clock going back adds nothing
	}
	for i, s := range steps {
		if got := rl.Allow(t0.Add(s.at), s.n); got != s.want {
			t.Errorf("step %d: Allow(+%v, %d) = %v, want %v", i, s.at, s.n, got, s.want)
		}
	}
	if !NewRateLimiter(0, 0).Allow(t0, 1e9) {
		t.Error("rate 0 should not limit")
	}
	if got := RateLimitedMessage(6666.666666666667, 499, 0); got != "ingestion rate limit (6666.666666666667) exceeded while adding 499 samples and 0 metadata" {
		t.Error(got)
	}
}

func TestProfiles(t *testing.T) {
	if diff := cmp.Diff([]string{"amp", "cortex", "prometheus"}, ProfileNames()); diff != "" {
		t.Error(diff)
	}
	for _, n := range ProfileNames() {
		l := mustProfile(t, n)
		if l.Name != n {
			t.Errorf("Profile(%q).Name = %q", n, l.Name)
		}
	}
	if _, err := Profile("mimir"); err == nil {
		t.Error("unknown profile accepted")
	}
	type vals struct {
		Labels, NameLen, ValueLen, SizeBytes int
		Rate                                 float64
		Burst, PerUser, PerMetric            int
		OOO, Grace                           time.Duration
		Enforce, RejectOld, Histograms       bool
		Backend                              Backend
		Names                                NameValidation
	}
	get := func(l Limits) vals {
		return vals{l.MaxLabelNamesPerSeries, l.MaxLabelNameLength, l.MaxLabelValueLength, l.MaxLabelsSizeBytes,
			l.IngestionRate, l.IngestionBurstSize, l.MaxSeriesPerUser, l.MaxSeriesPerMetric,
			l.OutOfOrderTimeWindow, l.CreationGracePeriod, l.EnforceMetricName, l.RejectOldSamples, l.EnableNativeHistograms,
			l.Backend, l.NameValidation}
	}
	want := map[string]vals{
		"cortex":     {30, 1024, 2048, 0, 25000, 50000, 5000000, 50000, 0, 10 * time.Minute, true, false, false, BackendCortex, LegacyNames},
		"amp":        {70, 1024, 2048, 7168, 70000, 1000000, 10000000, 200000, time.Minute, 10 * time.Minute, true, false, true, BackendCortex, LegacyNames},
		"prometheus": {0, 0, 0, 0, 0, 0, 0, 0, 0, 10 * time.Minute, true, false, true, BackendPrometheus, UTF8Names},
	}
	for n, w := range want {
		if diff := cmp.Diff(w, get(mustProfile(t, n))); diff != "" {
			t.Errorf("%s (-want +got)\n%s", n, diff)
		}
	}
	c := mustProfile(t, "cortex")
	if c.RejectOldSamplesMaxAge != 14*24*time.Hour || c.MaxMetadataLength != 1024 || c.MaxMetricsWithMetadataPerUser != 8000 || c.MaxMetadataPerMetric != 10 {
		t.Errorf("cortex metadata/age defaults: %+v", c)
	}
}

func TestIngesterMessageHistogramDuplicate(t *testing.T) {
	got := IngesterMessage(NewValueForTimestamp, 0, lbls("__name__", "h"), 0, 0)
	if want := `err: duplicate sample for timestamp. series={__name__="h"}`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
