package store

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rwkit/rwkit/validate"
)

// Two batches in flight at once (two writers pushing concurrently) that
// write the same series and timestamp with different values: the TSDB
// checks each Append against committed data only, so both would pass and
// the later Commit would drop its sample without a word. The store refuses
// the second as new-value-for-timestamp, naming the pending value.
func TestInFlightConflicts(t *testing.T) {
	s, _ := openStore(t, Options{})
	tn := tenant(t, s, "ws-1")
	ctx := context.Background()

	a1, a2 := tn.Appender(ctx), tn.Appender(ctx)
	if err := a1.Append(series("up"), base, 1); err != nil {
		t.Fatal(err)
	}
	ae := appendErr(t, a2.Append(series("up"), base, 2))
	got := *ae
	got.Err = nil
	want := AppendError{Reason: validate.NewValueForTimestamp, Timestamp: base, Existing: 1, HasExisting: true, New: 2}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("concurrent batches (-want +got):\n%s", diff)
	}
	if err := a2.Append(series("up"), base, 1); err != nil {
		t.Errorf("same value from the other batch: %v", err)
	}
	commit(t, a2)
	commit(t, a1)

	// Within one batch: the TSDB's rule, the earlier sample is kept and
	// the other dropped at Commit, reported as WithinBatch.
	a := tn.Appender(ctx)
	if err := a.Append(series("b"), base, 1); err != nil {
		t.Fatal(err)
	}
	if ae := appendErr(t, a.Append(series("b"), base, 2)); ae.Reason != validate.NewValueForTimestamp || ae.Existing != 1 || ae.New != 2 || !ae.WithinBatch {
		t.Errorf("same batch duplicate: %+v", ae)
	}
	if err := a.Append(series("b"), base+2000, 3); err != nil {
		t.Fatal(err)
	}
	if ae := appendErr(t, a.Append(series("b"), base+1000, 2)); ae.Reason != validate.SampleOutOfOrder || !ae.WithinBatch {
		t.Errorf("same batch out of order: %+v", ae)
	}
	commit(t, a)

	// Within one batch, but committed data refuses it first: an ordinary
	// refusal (the same value as the stored one passes, another value at
	// that timestamp is the TSDB's duplicate), as Cortex's ingester
	// refuses it at Append.
	a = tn.Appender(ctx)
	if err := a.Append(series("b"), base+2000, 3); err != nil {
		t.Fatal(err)
	}
	if ae := appendErr(t, a.Append(series("b"), base+2000, 4)); ae.Reason != validate.NewValueForTimestamp || ae.WithinBatch || ae.Existing != 3 {
		t.Errorf("same batch duplicate of a stored value: %+v", ae)
	}
	commit(t, a)

	for name, want := range map[string][]point{
		"up": {{T: base, V: 1}},
		"b":  {{T: base, V: 1}, {T: base + 2000, V: 3}},
	} {
		if diff := cmp.Diff(want, read(t, tn, name)[`{__name__="`+name+`"}`]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}

	// A rolled-back batch leaves nothing pending.
	a = tn.Appender(ctx)
	if err := a.Append(series("c"), base, 1); err != nil {
		t.Fatal(err)
	}
	if err := a.Rollback(); err != nil {
		t.Fatal(err)
	}
	a = tn.Appender(ctx)
	if err := a.Append(series("c"), base, 2); err != nil {
		t.Errorf("after the other batch rolled back: %v", err)
	}
	commit(t, a)
}

// Many writers race on one series and timestamp with different values
// (round by round, as writers with aligned timestamps do): exactly one value
// per timestamp is stored and every other writer hears
// new-value-for-timestamp; none is told "accepted" and then loses its
// sample at Commit.
func TestInFlightRaceNothingLost(t *testing.T) {
	s, _ := openStore(t, Options{})
	tn := tenant(t, s, "ws-1")
	const writers, rounds = 6, 200
	accepted := make([]int, writers)
	for r := range rounds {
		var start, wg sync.WaitGroup
		start.Add(1)
		for w := range writers {
			wg.Go(func() {
				a := tn.Appender(context.Background())
				start.Wait()
				err := a.Append(series("up"), base+int64(r)*1000, float64(w))
				if err := a.Commit(); err != nil {
					t.Error(err)
					return
				}
				var ae *AppendError
				switch {
				case err == nil:
					accepted[w]++
				case !errors.As(err, &ae) || ae.Reason != validate.NewValueForTimestamp:
					t.Errorf("writer %d round %d: %v", w, r, err)
				}
			})
		}
		start.Done()
		wg.Wait()
	}
	total := 0
	for _, n := range accepted {
		total += n
	}
	stored := len(read(t, tn, "up")[`{__name__="up"}`])
	if total != rounds || stored != rounds {
		t.Errorf("accepted %d samples (%v), stored %d; want %d of each", total, accepted, stored, rounds)
	}
}

// A sample dropped within its batch (WithinBatch) is in the WAL with the
// batch; replaying it after a restart keeps the earlier sample, as the
// commit did.
func TestWithinBatchDropSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tn := tenant(t, s, "ws-1")
	a := tn.Appender(context.Background())
	for _, smp := range []point{{T: base, V: 1}, {T: base, V: 2}, {T: base + 2000, V: 3}, {T: base + 1000, V: 4}} {
		err := a.Append(series("b"), smp.T, smp.V)
		var ae *AppendError
		if err != nil && (!errors.As(err, &ae) || !ae.WithinBatch) {
			t.Fatalf("append %+v: %v", smp, err)
		}
	}
	commit(t, a)
	want := []point{{T: base, V: 1}, {T: base + 2000, V: 3}}
	if diff := cmp.Diff(want, read(t, tn, "b")[`{__name__="b"}`]); diff != "" {
		t.Errorf("after commit (-want +got):\n%s", diff)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if diff := cmp.Diff(want, read(t, tenant(t, s2, "ws-1"), "b")[`{__name__="b"}`]); diff != "" {
		t.Errorf("after restart (-want +got):\n%s", diff)
	}
}
