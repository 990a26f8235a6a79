package collide

import (
	"hash/maphash"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/rwkit/rwkit/wire"
)

// series builds a TimeSeries from name and alternating label names and
// values, sorted as gather yields them.
func series(name string, kv ...string) wire.TimeSeries {
	ls := []wire.Label{{Name: "__name__", Value: name}}
	for i := 0; i < len(kv); i += 2 {
		ls = append(ls, wire.Label{Name: kv[i], Value: kv[i+1]})
	}
	return wire.TimeSeries{Labels: ls}
}

func labels(ts wire.TimeSeries) []wire.Label { return ts.Labels }

func TestFind(t *testing.T) {
	threads := series("jvm_threads_live_threads")
	gc := series("jvm_gc_pause_seconds_count", "action", "end of minor GC")
	for _, tc := range []struct {
		name       string
		writers    []Writer
		collisions []Collision
		suggest    []string
		dups       []Duplicate
	}{
		{
			name: "distinct services, no labels",
			writers: []Writer{
				{Name: "auth", Series: []wire.TimeSeries{threads, gc, series("auth_logins_total")}},
				{Name: "bff", Series: []wire.TimeSeries{threads, series("bff_calls_total")}},
				{Name: "audit", Series: []wire.TimeSeries{gc, threads}},
			},
			collisions: []Collision{
				{Metric: "jvm_gc_pause_seconds_count", Labels: labels(gc), Writers: []string{"auth", "audit"}},
				{Metric: "jvm_threads_live_threads", Labels: labels(threads), Writers: []string{"auth", "bff", "audit"}},
			},
			suggest: []string{"service"},
		},
		{
			name: "service label given, replicas collide",
			writers: []Writer{
				{Name: "auth-1", Series: []wire.TimeSeries{series("up", "service", "auth")}},
				{Name: "auth-2", Series: []wire.TimeSeries{series("up", "service", "auth")}},
				{Name: "bff", Series: []wire.TimeSeries{series("up", "service", "bff")}},
			},
			collisions: []Collision{
				{Metric: "up", Labels: labels(series("up", "service", "auth")), Writers: []string{"auth-1", "auth-2"}},
			},
			suggest: []string{"instance"},
		},
		{
			name: "known services: two services and two replicas",
			writers: []Writer{
				{Name: "auth/1", Service: "auth", Series: []wire.TimeSeries{threads}},
				{Name: "auth/2", Service: "auth", Series: []wire.TimeSeries{threads}},
				{Name: "bff/1", Service: "bff", Series: []wire.TimeSeries{threads}},
			},
			collisions: []Collision{
				{Metric: "jvm_threads_live_threads", Labels: labels(threads), Writers: []string{"auth/1", "auth/2", "bff/1"}},
			},
			suggest: []string{"service", "instance"},
		},
		{
			name: "nothing shared",
			writers: []Writer{
				{Name: "a", Series: []wire.TimeSeries{series("up", "service", "a")}},
				{Name: "b", Series: []wire.TimeSeries{series("up", "service", "b")}},
			},
		},
		{
			name: "unsorted labels are the same series",
			writers: []Writer{
				{Name: "a", Series: []wire.TimeSeries{{Labels: []wire.Label{{Name: "z", Value: "1"}, {Name: "__name__", Value: "up"}}}}},
				{Name: "b", Series: []wire.TimeSeries{series("up", "z", "1")}},
			},
			collisions: []Collision{{Metric: "up", Labels: labels(series("up", "z", "1")), Writers: []string{"a", "b"}}},
			suggest:    []string{"service"},
		},
		{
			name: "a writer repeats a series",
			writers: []Writer{
				{Name: "a", Series: []wire.TimeSeries{series("up"), series("x"), series("up"), series("up")}},
				{Name: "b", Series: []wire.TimeSeries{series("y")}},
			},
			dups: []Duplicate{{Writer: "a", Metric: "up", Labels: labels(series("up")), Count: 3}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Find(tc.writers)
			if diff := cmp.Diff(tc.collisions, r.Collisions, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("collisions (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.suggest, r.Suggest, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("suggest (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.dups, r.Duplicates, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("duplicates (-want +got):\n%s", diff)
			}
			result := ResultNone
			switch {
			case len(tc.collisions) > 0:
				result = ResultCollisions
			case len(tc.dups) > 0:
				result = ResultDuplicates
			}
			if r.Result != result {
				t.Errorf("result %q, want %q", r.Result, result)
			}
			if (r.Advice == "") != (len(tc.suggest) == 0) {
				t.Errorf("advice %q with suggest %v", r.Advice, tc.suggest)
			}
		})
	}
}

func TestFindCounts(t *testing.T) {
	threads := series("jvm_threads_live_threads")
	r := Find([]Writer{
		{Name: "auth", Series: []wire.TimeSeries{threads, series("process_cpu_usage"), series("auth_logins_total")}},
		{Name: "bff", Series: []wire.TimeSeries{threads, series("process_cpu_usage")}},
		{Name: "audit", Series: []wire.TimeSeries{threads}},
	})
	want := &Report{
		Result: ResultCollisions,
		Writers: []WriterSummary{
			{Name: "auth", Series: 3, Colliding: 2},
			{Name: "bff", Series: 2, Colliding: 2},
			{Name: "audit", Series: 1, Colliding: 1},
		},
		Series:   6,
		Distinct: 3,
		Collisions: []Collision{
			{Metric: "jvm_threads_live_threads", Labels: labels(threads), Writers: []string{"auth", "bff", "audit"}},
			{Metric: "process_cpu_usage", Labels: labels(series("process_cpu_usage")), Writers: []string{"auth", "bff"}},
		},
		ByMetric: []Metric{
			{Name: "jvm_threads_live_threads", Series: 1, Writers: []string{"auth", "bff", "audit"}, Suggest: []string{"service"}},
			{Name: "process_cpu_usage", Series: 1, Writers: []string{"auth", "bff"}, Suggest: []string{"service"}},
		},
		Excess:  3,
		Suggest: []string{"service"},
		Advice:  advice(need{service: true}),
	}
	if diff := cmp.Diff(want, r, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
}

// TestHashCollision forces two different series onto one hash: they must
// stay two series, and each must still be found again by its labels, both
// when the finder refers to the writers' labels (Find) and when it keeps
// them encoded (FindSources).
func TestHashCollision(t *testing.T) {
	x, y := series("x"), series("y")
	writers := []Writer{
		{Name: "a", Series: []wire.TimeSeries{x}},
		{Name: "b", Series: []wire.TimeSeries{y}},
		{Name: "c", Series: []wire.TimeSeries{x, y}},
	}
	for _, held := range []bool{true, false} {
		f := newFinder(4)
		f.held = held
		f.fold(writers[0])
		// Pretend y hashes like x: y's bucket starts at x's entry.
		hash := func(ls []wire.Label) uint64 { k, _ := appendKey(nil, ls); return maphash.Bytes(f.seed, k) }
		f.index[hash(y.Labels)] = f.index[hash(x.Labels)]
		f.fold(writers[1])
		if f.entries.len() != 2 || len(f.colls) != 0 {
			t.Fatalf("held %v: x and y merged on a shared hash: %d entries, %d collisions", held, f.entries.len(), len(f.colls))
		}
		f.fold(writers[2])
		r := f.report()
		want := []Collision{
			{Metric: "x", Labels: x.Labels, Writers: []string{"a", "c"}},
			{Metric: "y", Labels: y.Labels, Writers: []string{"b", "c"}},
		}
		if diff := cmp.Diff(want, r.Collisions); diff != "" {
			t.Errorf("held %v: collisions (-want +got):\n%s", held, diff)
		}
	}
}

func TestFindEmpty(t *testing.T) {
	r := Find(nil)
	if r.Series != 0 || len(r.Collisions) != 0 || len(r.Suggest) != 0 || r.Result != ResultNone {
		t.Errorf("Find(nil) = %+v", r)
	}
}
