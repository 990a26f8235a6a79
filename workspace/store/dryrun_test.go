package store

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rwkit/rwkit/wire"
)

// BatchConflict and CheckHistogram, which the workspace's pass-through
// mode uses instead of appending, answer what an Appender answers: the
// same refusal (reason, values, WithinBatch, text) for a second value at
// a timestamp and an older sample within one batch, none for the same
// value again or a newer sample, and the same refusal of an invalid
// native histogram.
func TestDryRunChecksMatchTheAppender(t *testing.T) {
	s, _ := openStore(t, Options{})
	tn := tenant(t, s, "ws-1")
	a := tn.Appender(context.Background())
	defer func() { _ = a.Rollback() }()
	if err := a.Append(series("b"), base, 1); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ts int64
		v  float64
	}{{base, 2}, {base - 1000, 1}, {base, 1}} {
		var want *AppendError
		if err := a.Append(series("b"), tc.ts, tc.v); err != nil {
			want = appendErr(t, err)
		}
		got := BatchConflict(base, 1, tc.ts, tc.v, false)
		if (want == nil) != (got == nil) {
			t.Fatalf("(%d, %v) after (%d, 1): Appender %v, BatchConflict %v", tc.ts, tc.v, base, want, got)
		}
		if want != nil {
			if d := cmp.Diff(want.Error(), got.Error()); d != "" || want.Reason != got.Reason || !got.WithinBatch || got.New != want.New {
				t.Errorf("(%d, %v): BatchConflict %+v, Appender %+v", tc.ts, tc.v, got, want)
			}
		}
	}
	if got := BatchConflict(base, 1, base+1000, 5, false); got != nil {
		t.Errorf("a newer sample: %v, want none", got)
	}

	invalid := &wire.Histogram{CountInt: 1, Timestamp: base, PositiveSpans: []wire.BucketSpan{{Offset: 0, Length: 1}}, PositiveDeltas: []int64{5}}
	want := appendErr(t, a.AppendHistogram(series("h"), invalid))
	got := CheckHistogram(invalid)
	if got == nil || got.Error() != want.Error() || got.Reason != want.Reason {
		t.Errorf("invalid histogram: CheckHistogram %v, Appender %v", got, want)
	}
	valid := &wire.Histogram{CountInt: 5, Timestamp: base, PositiveSpans: []wire.BucketSpan{{Offset: 0, Length: 1}}, PositiveDeltas: []int64{5}}
	if got := CheckHistogram(valid); got != nil {
		t.Errorf("valid histogram: %v", got)
	}
	if err := a.AppendHistogram(series("h2"), valid); err != nil {
		t.Errorf("the Appender refuses the valid histogram: %v", err)
	}
}
