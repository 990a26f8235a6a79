package validate

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The expected texts are the ones a real Cortex v1.21.1 answered; the
// causes are the texts of Prometheus' TSDB errors (storage/errors.go,
// storage/interface.go).
func TestIngesterMessage(t *testing.T) {
	s := lbls("__name__", "m", "job", "j")
	tests := []struct {
		name   string
		cause  string
		reason Reason
		ts     int64
		want   string
	}{
		{"duplicate", "duplicate sample for timestamp 1795611126435; overrides not allowed: existing 1, new value 2", NewValueForTimestamp, 1795611126435,
			`err: duplicate sample for timestamp 1795611126435; overrides not allowed: existing 1, new value 2. series={__name__="m", job="j"}`},
		{"duplicate histogram", "duplicate sample for timestamp", NewValueForTimestamp, 5,
			`err: duplicate sample for timestamp. series={__name__="m", job="j"}`},
		{"out of order", "out of order sample", SampleOutOfOrder, 1795611066435,
			`err: out of order sample. timestamp=2026-11-25T12:51:06.435Z, series={__name__="m", job="j"}`},
		{"out of bounds", "out of bounds", SampleOutOfBounds, 1795611066000,
			`err: out of bounds. timestamp=2026-11-25T12:51:06Z, series={__name__="m", job="j"}`},
		{"too old", "too old sample", SampleTooOld, 1795611066435,
			`err: too old sample. timestamp=2026-11-25T12:51:06.435Z, series={__name__="m", job="j"}`},
		{"no reason", "histogram has fewer buckets than the count", Unknown, 1795611066435,
			`err: histogram has fewer buckets than the count. timestamp=2026-11-25T12:51:06.435Z, series={__name__="m", job="j"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, IngesterMessage(errors.New(tt.cause), tt.reason, tt.ts, s)); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestUserMessage(t *testing.T) {
	msg := UserMessage("T", IngesterMessage(errors.New("out of order sample"), SampleOutOfOrder, 1795611066435, lbls("__name__", "m", "job", "j")))
	want := `user=T: err: out of order sample. timestamp=2026-11-25T12:51:06.435Z, series={__name__="m", job="j"}`
	if diff := cmp.Diff(want, msg); diff != "" {
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
	if diff := cmp.Diff([]string{"amp", "cortex", "prometheus", "mimir"}, ProfileNames()); diff != "" {
		t.Error(diff)
	}
	for _, n := range ProfileNames() {
		l := mustProfile(t, n)
		if l.Name != n {
			t.Errorf("Profile(%q).Name = %q", n, l.Name)
		}
	}
	if _, err := Profile("no-such-backend"); err == nil {
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
