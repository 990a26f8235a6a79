package validate

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rwkit/rwkit/wire"
)

// TestMimirSeries: Mimir's distributor texts, built by the formats of
// pkg/distributor/validate.go, and what it keeps.
func TestMimirSeries(t *testing.T) {
	l := mustProfile(t, "mimir")
	now := time.UnixMilli(1_800_000_000_000)
	ts := now.UnixMilli()
	for _, tt := range []struct {
		name   string
		in     wire.TimeSeries
		reason Reason
		msg    string
	}{
		{"missing name", wire.TimeSeries{Labels: lbls("job", "j"), Samples: []wire.Sample{{Timestamp: ts}}}, MissingMetricName,
			"received series has no metric name (err-mimir-missing-metric-name)"},
		{"invalid label", wire.TimeSeries{Labels: lbls("__name__", "m", "bad-label", "x"), Samples: []wire.Sample{{Timestamp: ts}}}, InvalidLabel,
			`received a series with an invalid label: 'bad-label' series: 'm{bad-label="x"}' (err-mimir-label-invalid)`},
		{"invalid value", wire.TimeSeries{Labels: lbls("__name__", "m", "v", "a\xffb"), Samples: []wire.Sample{{Timestamp: ts}}}, InvalidLabel,
			"received a series with invalid value in label 'v': 'a\uFFFDb' metric: 'm' (err-mimir-label-value-invalid)"},
		{"too far in future", wire.TimeSeries{Labels: lbls("__name__", "m"), Samples: []wire.Sample{{Timestamp: ts + 3_600_000}}}, TooFarInFuture,
			"received a sample whose timestamp is too far in the future, timestamp: 1800003600000 series: 'm' (err-mimir-too-far-in-future). " +
				"To adjust the related per-tenant limit, configure -validation.create-grace-period, or contact your service administrator."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, d := ValidateSeries(&l, &tt.in, now)
			if d == nil {
				t.Fatal("accepted")
			}
			if d.Reason != tt.reason || d.Status != 400 || d.Counted != 1 {
				t.Errorf("reason %q status %d counted %d", d.Reason, d.Status, d.Counted)
			}
			if d.Message != tt.msg {
				t.Errorf("message (-want +got):\n%s", cmp.Diff(tt.msg, d.Message))
			}
		})
	}

	// A second sample at one timestamp is dropped and counted, not refused.
	in := wire.TimeSeries{Labels: lbls("__name__", "m"), Samples: []wire.Sample{{Timestamp: ts, Value: 1}, {Timestamp: ts, Value: 2}}}
	r := ValidateRequest(&l, &wire.WriteRequest{Series: []wire.TimeSeries{in}}, now)
	if len(r.Series) != 1 || len(r.Series[0].Samples) != 1 || r.Series[0].Samples[0].Value != 1 {
		t.Errorf("kept %+v, want the first sample", r.Series)
	}
	if len(r.Discards) != 1 || r.Discards[0].Reason != SampleDuplicateTimestamp || r.Discards[0].Counted != 1 || r.FirstError() != nil {
		t.Errorf("discards %+v", r.Discards)
	}
	// A series without labels is dropped silently.
	r = ValidateRequest(&l, &wire.WriteRequest{Series: []wire.TimeSeries{{Samples: []wire.Sample{{Timestamp: ts}}}}}, now)
	if len(r.Series) != 0 || r.FirstError() != nil || r.Discards[0].Counted != 0 {
		t.Errorf("%+v", r)
	}
}

// TestMimirIngesterTexts: the ingester's sampleError texts, and that
// remotewrite's classifier, fed from MimirErrors, can read each ID back.
func TestMimirIngesterTexts(t *testing.T) {
	l := mustProfile(t, "mimir")
	ls := lbls("__name__", "m", "job", "j")
	got := IngesterRefusal(&l, "t1", errors.New("duplicate sample for timestamp 1; overrides not allowed: existing 1, new value 2"), NewValueForTimestamp, 1_800_000_000_000, ls)
	want := `user=t1: duplicate sample for timestamp 1; overrides not allowed: existing 1, new value 2 (err-mimir-sample-duplicate-timestamp). ` +
		`The affected sample has timestamp 2027-01-15T08:00:00Z and is from series m{job="j"}`
	if got != want {
		t.Errorf("(-want +got):\n%s", cmp.Diff(want, got))
	}
	if got := PerUserSeriesLimitMessage(&l); got != "per-user series limit of 150000 exceeded (err-mimir-max-series-per-user). "+
		"To adjust the related per-tenant limit, configure -ingester.max-global-series-per-user, or contact your service administrator." {
		t.Error(got)
	}
	for _, e := range MimirErrors() {
		if e.Reason.Hint() == "" {
			t.Errorf("%s: reason %q has no hint", e.ID, e.Reason)
		}
		if _, ingester := mimirIngesterReasons[e.Label()]; !ingester && MimirReason(e.Label()) != e.Reason {
			t.Errorf("MimirReason(%q) = %q, want %q", e.Label(), MimirReason(e.Label()), e.Reason)
		}
	}
	// The distributor counts its in-series duplicates under the ID's
	// label; the ingester's refusal of one is new-value-for-timestamp.
	if MimirReason("sample_duplicate_timestamp") != SampleDuplicateTimestamp || MimirReason("sample-timestamp-too-old") != SampleOutOfBounds {
		t.Error("Mimir's own counter labels")
	}
	if MimirReason("new-value-for-timestamp") != NewValueForTimestamp {
		t.Error("the ingester's reasons are Cortex's")
	}
}
