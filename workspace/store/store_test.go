package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
)

// base is a fixed sample time (2024-01-01T00:00:00Z) so tests are
// deterministic; the TSDB accepts any time for a fresh head.
const base = int64(1704067200000)

func openStore(t testing.TB, opts Options) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	return openStoreIn(t, dir, opts), dir
}

// openStoreIn opens a store in dir, closed when the test ends.
func openStoreIn(t testing.TB, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// reopen closes s, failing the test on an error, and opens dir again with
// opts (the new store closed when the test ends), as a restart does.
func reopen(t testing.TB, s *Store, dir string, opts Options) *Store {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return openStoreIn(t, dir, opts)
}

func tenant(t testing.TB, s *Store, id string) *Tenant {
	t.Helper()
	tn, err := s.Tenant(id)
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

func series(name string, kv ...string) []wire.Label {
	ls := []wire.Label{{Name: "__name__", Value: name}}
	for i := 0; i < len(kv); i += 2 {
		ls = append(ls, wire.Label{Name: kv[i], Value: kv[i+1]})
	}
	return ls
}

type point struct {
	T int64
	V float64
	H *histogram.FloatHistogram
}

// read returns every sample of the series named name, by series.
func read(t testing.TB, tn *Tenant, name string) map[string][]point {
	t.Helper()
	q, err := tn.Querier(math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	set := q.Select(context.Background(), true, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", name))
	out := map[string][]point{}
	for set.Next() {
		s := set.At()
		it := s.Iterator(nil)
		var ps []point
		for {
			typ := it.Next()
			if typ == chunkenc.ValNone {
				break
			}
			switch typ {
			case chunkenc.ValFloat:
				ts, v := it.At()
				ps = append(ps, point{T: ts, V: v})
			case chunkenc.ValHistogram, chunkenc.ValFloatHistogram:
				ts, fh := it.AtFloatHistogram(nil)
				ps = append(ps, point{T: ts, H: fh})
			}
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
		out[s.Labels().String()] = ps
	}
	if err := set.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func commit(t testing.TB, a *Appender) {
	t.Helper()
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
}

func TestAppendFloatRoundTrip(t *testing.T) {
	s, _ := openStore(t, Options{})
	tn := tenant(t, s, "ws-1")
	a := tn.Appender(context.Background())
	for i := range 3 {
		if err := a.Append(series("up", "service", "auth"), base+int64(i)*15000, float64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Append(series("up", "service", "bff"), base, math.Inf(1)); err != nil {
		t.Fatal(err)
	}
	commit(t, a)

	want := map[string][]point{
		`{__name__="up", service="auth"}`: {{T: base, V: 0}, {T: base + 15000, V: 1}, {T: base + 30000, V: 2}},
		`{__name__="up", service="bff"}`:  {{T: base, V: math.Inf(1)}},
	}
	if diff := cmp.Diff(want, read(t, tn, "up")); diff != "" {
		t.Errorf("stored samples (-want +got):\n%s", diff)
	}
	if got := tn.NumSeries(); got != 2 {
		t.Errorf("NumSeries = %d, want 2", got)
	}
}

// Labels with empty values are absent in Prometheus; unsorted input is
// sorted rather than corrupting the index.
func TestAppendNormalisesLabels(t *testing.T) {
	s, _ := openStore(t, Options{})
	tn := tenant(t, s, "ws-1")
	a := tn.Appender(context.Background())
	ls := []wire.Label{{Name: "__name__", Value: "up"}, {Name: "z", Value: "1"}, {Name: "empty", Value: ""}, {Name: "a", Value: "2"}}
	if err := a.Append(ls, base, 1); err != nil {
		t.Fatal(err)
	}
	commit(t, a)
	want := map[string][]point{`{__name__="up", a="2", z="1"}`: {{T: base, V: 1}}}
	if diff := cmp.Diff(want, read(t, tn, "up")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func intHistogram(ts int64) *wire.Histogram {
	return &wire.Histogram{
		CountInt:       11,
		Sum:            18.4,
		Schema:         1,
		ZeroThreshold:  0.001,
		ZeroCountInt:   2,
		PositiveSpans:  []wire.BucketSpan{{Offset: 0, Length: 2}, {Offset: 1, Length: 2}},
		PositiveDeltas: []int64{1, 1, -1, 0},
		NegativeSpans:  []wire.BucketSpan{{Offset: 0, Length: 1}},
		NegativeDeltas: []int64{4},
		ResetHint:      wire.ResetHintNo,
		Timestamp:      ts,
	}
}

func TestAppendHistogramRoundTrip(t *testing.T) {
	s, _ := openStore(t, Options{})
	tn := tenant(t, s, "ws-1")
	a := tn.Appender(context.Background())
	if err := a.AppendHistogram(series("rpc_seconds", "kind", "int"), intHistogram(base)); err != nil {
		t.Fatal(err)
	}
	fh := &wire.Histogram{
		IsFloat:        true,
		CountFloat:     6.5,
		Sum:            3,
		Schema:         -53, // custom buckets
		PositiveSpans:  []wire.BucketSpan{{Offset: 0, Length: 3}},
		PositiveCounts: []float64{1, 2.5, 3},
		CustomValues:   []float64{0.1, 0.5},
		Timestamp:      base,
	}
	if err := a.AppendHistogram(series("rpc_seconds", "kind", "nhcb"), fh); err != nil {
		t.Fatal(err)
	}
	commit(t, a)

	wantInt := &histogram.FloatHistogram{
		CounterResetHint: histogram.NotCounterReset,
		Schema:           1, ZeroThreshold: 0.001, ZeroCount: 2, Count: 11, Sum: 18.4,
		PositiveSpans:   []histogram.Span{{Offset: 0, Length: 2}, {Offset: 1, Length: 2}},
		PositiveBuckets: []float64{1, 2, 1, 1},
		NegativeSpans:   []histogram.Span{{Offset: 0, Length: 1}},
		NegativeBuckets: []float64{4},
	}
	wantNHCB := &histogram.FloatHistogram{
		Schema: -53, Count: 6.5, Sum: 3,
		PositiveSpans:   []histogram.Span{{Offset: 0, Length: 3}},
		PositiveBuckets: []float64{1, 2.5, 3},
		CustomValues:    []float64{0.1, 0.5},
	}
	got := read(t, tn, "rpc_seconds")
	for name, want := range map[string]*histogram.FloatHistogram{
		`{__name__="rpc_seconds", kind="int"}`:  wantInt,
		`{__name__="rpc_seconds", kind="nhcb"}`: wantNHCB,
	} {
		ps := got[name]
		if len(ps) != 1 || ps[0].T != base || ps[0].H == nil {
			t.Fatalf("%s: got %+v, want one histogram at %d", name, ps, base)
		}
		// The TSDB may set the first sample's reset hint itself.
		ps[0].H.CounterResetHint = want.CounterResetHint
		if !ps[0].H.Equals(want) {
			t.Errorf("%s:\n got %s\nwant %s", name, ps[0].H, want)
		}
	}
}

func appendErr(t *testing.T, err error) *AppendError {
	t.Helper()
	var ae *AppendError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v (%T), want *AppendError", err, err)
	}
	return ae
}

func TestAppendErrors(t *testing.T) {
	ls := series("requests_total", "service", "auth")
	for _, tc := range []struct {
		name  string
		opts  Options
		first []int64 // committed first, value 1 each
		ts    int64
		v     float64
		want  AppendError
		is    error
	}{
		{
			name:  "duplicate",
			first: []int64{base},
			ts:    base, v: 2.5,
			want: AppendError{Reason: validate.NewValueForTimestamp, Timestamp: base, Existing: 1, HasExisting: true, New: 2.5},
			is:   storage.ErrDuplicateSampleForTimestamp,
		},
		{
			name:  "out of order",
			first: []int64{base, base + 60_000},
			ts:    base + 30_000, v: 2,
			want: AppendError{Reason: validate.SampleOutOfOrder, Timestamp: base + 30_000, New: 2},
			is:   storage.ErrOutOfOrderSample,
		},
		{
			// The head accepts samples down to half a block (1h) before its
			// newest sample.
			name:  "out of bounds",
			first: []int64{base + 3*3600_000},
			ts:    base, v: 2,
			want: AppendError{Reason: validate.SampleOutOfBounds, Timestamp: base, New: 2},
			is:   storage.ErrOutOfBounds,
		},
		{
			name:  "too old with out-of-order window",
			opts:  Options{OutOfOrderWindow: 10 * time.Minute},
			first: []int64{base + 3600_000},
			ts:    base, v: 2,
			want: AppendError{Reason: validate.SampleTooOld, Timestamp: base, New: 2},
			is:   storage.ErrTooOldSample,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := openStore(t, tc.opts)
			tn := tenant(t, s, "ws-1")
			a := tn.Appender(context.Background())
			for _, ts := range tc.first {
				if err := a.Append(ls, ts, 1); err != nil {
					t.Fatal(err)
				}
			}
			commit(t, a)

			a = tn.Appender(context.Background())
			ae := appendErr(t, a.Append(ls, tc.ts, tc.v))
			if !errors.Is(ae, tc.is) {
				t.Errorf("errors.Is(%v, %v) = false", ae, tc.is)
			}
			got := *ae
			got.Err = nil
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("AppendError (-want +got):\n%s\n%v", diff, ae)
			}
			if err := a.Rollback(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestOutOfOrderWindowAccepts(t *testing.T) {
	s, _ := openStore(t, Options{OutOfOrderWindow: 10 * time.Minute})
	tn := tenant(t, s, "ws-1")
	a := tn.Appender(context.Background())
	for _, ts := range []int64{base + 600_000, base + 60_000} {
		if err := a.Append(series("up"), ts, 1); err != nil {
			t.Fatal(err)
		}
		commit(t, a)
		a = tn.Appender(context.Background())
	}
	_ = a.Rollback()
	if got := len(read(t, tn, "up")[`{__name__="up"}`]); got != 2 {
		t.Errorf("got %d samples, want 2", got)
	}
}

func TestHistogramAppendErrors(t *testing.T) {
	s, _ := openStore(t, Options{})
	tn := tenant(t, s, "ws-1")
	ls := series("rpc_seconds")
	a := tn.Appender(context.Background())
	for _, ts := range []int64{base, base + 60_000} {
		if err := a.AppendHistogram(ls, intHistogram(ts)); err != nil {
			t.Fatal(err)
		}
	}
	commit(t, a)

	a = tn.Appender(context.Background())
	defer a.Rollback()
	if err := a.AppendHistogram(ls, intHistogram(base+60_000)); err != nil {
		t.Errorf("identical histogram at the same timestamp: %v, want accepted", err)
	}
	changed := intHistogram(base + 60_000)
	changed.Sum = 99
	if ae := appendErr(t, a.AppendHistogram(ls, changed)); ae.Reason != validate.NewValueForTimestamp || ae.HasExisting {
		t.Errorf("changed histogram: %+v", ae)
	}
	if ae := appendErr(t, a.AppendHistogram(ls, intHistogram(base+30_000))); ae.Reason != validate.SampleOutOfOrder {
		t.Errorf("older histogram: %+v", ae)
	}
	if ae := appendErr(t, a.Append(ls, base+60_000, 1)); ae.Reason != validate.NewValueForTimestamp || ae.HasExisting {
		t.Errorf("float over histogram: %+v", ae)
	}
	bad := intHistogram(base + 90_000)
	bad.CountInt = 1 // fewer than the buckets hold
	if ae := appendErr(t, a.AppendHistogram(ls, bad)); ae.Reason != validate.Unknown {
		t.Errorf("invalid histogram: %+v", ae)
	}
}

func TestIdenticalDuplicateAccepted(t *testing.T) {
	s, _ := openStore(t, Options{})
	tn := tenant(t, s, "ws-1")
	for range 2 {
		a := tn.Appender(context.Background())
		if err := a.Append(series("up"), base, 1); err != nil {
			t.Fatalf("same value at the same timestamp: %v", err)
		}
		commit(t, a)
	}
	// NaN compares by bits, as the TSDB does.
	for range 2 {
		a := tn.Appender(context.Background())
		if err := a.Append(series("nan"), base, math.NaN()); err != nil {
			t.Fatalf("NaN again: %v", err)
		}
		commit(t, a)
	}
	if diff := cmp.Diff(map[string][]point{`{__name__="up"}`: {{T: base, V: 1}}}, read(t, tn, "up")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// A refused sample does not spoil its batch (Cortex keeps the valid
// samples of a request).
func TestPartialBatchCommits(t *testing.T) {
	s, _ := openStore(t, Options{})
	tn := tenant(t, s, "ws-1")
	a := tn.Appender(context.Background())
	if err := a.Append(series("up"), base+60_000, 1); err != nil {
		t.Fatal(err)
	}
	commit(t, a)

	a = tn.Appender(context.Background())
	if err := a.Append(series("a"), base, 1); err != nil {
		t.Fatal(err)
	}
	appendErr(t, a.Append(series("up"), base+60_000, 2)) // duplicate
	appendErr(t, a.Append(series("up"), base, 2))        // out of order
	if err := a.Append(series("up"), base+120_000, 3); err != nil {
		t.Fatal(err)
	}
	if err := a.Append(series("b"), base, 1); err != nil {
		t.Fatal(err)
	}
	commit(t, a)

	for name, want := range map[string][]point{
		"a":  {{T: base, V: 1}},
		"b":  {{T: base, V: 1}},
		"up": {{T: base + 60_000, V: 1}, {T: base + 120_000, V: 3}},
	} {
		if diff := cmp.Diff(want, read(t, tn, name)[fmt.Sprintf("{__name__=%q}", name)]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	if err := a.Append(series("c"), base, 1); !errors.Is(err, ErrAppenderDone) {
		t.Errorf("Append after Commit: %v, want ErrAppenderDone", err)
	}
}

func TestRollback(t *testing.T) {
	s, _ := openStore(t, Options{})
	tn := tenant(t, s, "ws-1")
	a := tn.Appender(context.Background())
	if err := a.Append(series("up"), base, 1); err != nil {
		t.Fatal(err)
	}
	if err := a.Rollback(); err != nil {
		t.Fatal(err)
	}
	if got := read(t, tn, "up"); len(got) != 0 {
		t.Errorf("after Rollback: %v", got)
	}
}

func TestTenantsIsolated(t *testing.T) {
	s, dir := openStore(t, Options{})
	for i, id := range []string{"ws-a", "ws-b"} {
		a := tenant(t, s, id).Appender(context.Background())
		if err := a.Append(series("up"), base, float64(i)); err != nil {
			t.Fatal(err)
		}
		commit(t, a)
	}
	if diff := cmp.Diff([]string{"ws-a", "ws-b"}, s.Tenants()); diff != "" {
		t.Errorf("Tenants (-want +got):\n%s", diff)
	}
	if got := read(t, tenant(t, s, "ws-b"), "up"); got[`{__name__="up"}`][0].V != 1 {
		t.Errorf("ws-b sees %v", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "ws-a", "wal")); err != nil {
		t.Errorf("tenant directory: %v", err)
	}
	// The same series in another tenant is not a duplicate.
	a := tenant(t, s, "ws-c").Appender(context.Background())
	if err := a.Append(series("up"), base, 7); err != nil {
		t.Errorf("same series, other tenant: %v", err)
	}
	commit(t, a)
}

func TestTenantIDValidation(t *testing.T) {
	s, _ := openStore(t, Options{})
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"ws-12345678-abcd-1234-abcd-1234567890ab", true},
		{"default", true},
		{"Org_1.prod", true},
		{string(bytesOf('a', 150)), true},
		{"", false},
		{string(bytesOf('a', 151)), false},
		{".", false},
		{"..", false},
		{"a..b", false},
		{"a/b", false},
		{"../etc", false},
		{"a b", false},
		{"ü", false},
		{"a\x00", false},
	} {
		_, err := s.Tenant(tc.id)
		if (err == nil) != tc.ok {
			t.Errorf("Tenant(%q): err = %v, want ok=%v", tc.id, err, tc.ok)
		}
	}
}

func bytesOf(c byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return b
}

// Committed samples survive Close and Open, replayed from the WAL (no
// block has been cut: the head covers less than a block).
func TestRestartDurability(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tn := tenant(t, s, "ws-1")
	a := tn.Appender(context.Background())
	for i := range 100 {
		if err := a.Append(series("up", "i", fmt.Sprint(i%10)), base+int64(i/10)*15000, float64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.AppendHistogram(series("rpc_seconds"), intHistogram(base)); err != nil {
		t.Fatal(err)
	}
	if err := a.UpdateMetadata(series("up"), wire.Metadata{Type: wire.MetricTypeGauge, Help: "Up."}); err != nil {
		t.Fatal(err)
	}
	commit(t, a)
	want := read(t, tn, "up")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := s.Tenant("ws-1"); !errors.Is(err, ErrClosed) {
		t.Errorf("Tenant after Close: %v", err)
	}
	blocks, _ := filepath.Glob(filepath.Join(dir, "ws-1", "01*"))
	if len(blocks) != 0 {
		t.Fatalf("blocks were cut (%v); the test means to read the WAL", blocks)
	}

	s2, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if diff := cmp.Diff([]string{"ws-1"}, s2.Tenants()); diff != "" {
		t.Errorf("Tenants after reopen (-want +got):\n%s", diff)
	}
	tn2 := tenant(t, s2, "ws-1")
	if diff := cmp.Diff(want, read(t, tn2, "up")); diff != "" {
		t.Errorf("after restart (-want +got):\n%s", diff)
	}
	if got := read(t, tn2, "rpc_seconds")[`{__name__="rpc_seconds"}`]; len(got) != 1 || got[0].H == nil {
		t.Errorf("histogram after restart: %+v", got)
	}
	if got := tn2.metadata("up"); len(got["up"]) != 1 {
		t.Errorf("metadata after restart: %+v", got)
	}
	if tn2.NumSeries() != 11 {
		t.Errorf("NumSeries after restart = %d, want 11", tn2.NumSeries())
	}
}

func TestConcurrentAppenders(t *testing.T) {
	s, _ := openStore(t, Options{})
	const goroutines, perG = 8, 200
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			tn, err := s.Tenant(fmt.Sprintf("ws-%d", g%2))
			if err != nil {
				errs <- err
				return
			}
			for i := range perG {
				a := tn.Appender(context.Background())
				// Shared series "up" (identical values) and one per goroutine.
				if err := a.Append(series("up"), base+int64(i)*1000, 1); err != nil {
					var ae *AppendError
					if !errors.As(err, &ae) {
						errs <- err
						return
					}
				}
				if err := a.Append(series("mine", "g", fmt.Sprint(g)), base+int64(i)*1000, float64(i)); err != nil {
					errs <- err
					return
				}
				if err := a.Commit(); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, id := range []string{"ws-0", "ws-1"} {
		got := read(t, tenant(t, s, id), "mine")
		if len(got) != goroutines/2 {
			t.Errorf("%s: %d series, want %d", id, len(got), goroutines/2)
		}
		for name, ps := range got {
			if len(ps) != perG {
				t.Errorf("%s %s: %d samples, want %d", id, name, len(ps), perG)
			}
		}
	}
}

func TestMetadata(t *testing.T) {
	s, _ := openStore(t, Options{})
	tn := tenant(t, s, "ws-1")
	a := tn.Appender(context.Background())
	for _, m := range []struct {
		ls []wire.Label
		m  wire.Metadata
	}{
		{nil, wire.Metadata{Type: wire.MetricTypeCounter, FamilyName: "requests_total", Help: "Requests."}},
		{series("rpc_seconds_bucket", "le", "1"), wire.Metadata{Type: wire.MetricTypeHistogram, Help: "RPC latency.", Unit: "seconds"}},
		{series("rpc_seconds_count"), wire.Metadata{Type: wire.MetricTypeHistogram, Help: "RPC latency.", Unit: "seconds"}},
		{series("temp"), wire.Metadata{Type: wire.MetricTypeGauge, Help: "A."}},
		{series("temp"), wire.Metadata{Type: wire.MetricTypeGauge, Help: "B."}},
	} {
		if err := a.UpdateMetadata(m.ls, m.m); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.UpdateMetadata(nil, wire.Metadata{}); err == nil {
		t.Error("metadata without a family: want error")
	}
	if got := tn.metadata(""); len(got) != 0 {
		t.Errorf("metadata visible before Commit: %v", got)
	}
	commit(t, a)
	want := map[string][]metricMetadata{
		"requests_total": {{Type: "counter", Help: "Requests."}},
		"rpc_seconds":    {{Type: "histogram", Help: "RPC latency.", Unit: "seconds"}},
		"temp":           {{Type: "gauge", Help: "A."}, {Type: "gauge", Help: "B."}},
	}
	if diff := cmp.Diff(want, tn.metadata("")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestExemplars(t *testing.T) {
	for _, max := range []int64{0, 100} {
		t.Run(fmt.Sprint("max=", max), func(t *testing.T) {
			s, _ := openStore(t, Options{MaxExemplars: max})
			tn := tenant(t, s, "ws-1")
			a := tn.Appender(context.Background())
			ls := series("requests_total")
			if err := a.Append(ls, base, 1); err != nil {
				t.Fatal(err)
			}
			e := &wire.Exemplar{Labels: []wire.Label{{Name: "trace_id", Value: "abc"}}, Value: 1, Timestamp: base}
			if err := a.AppendExemplar(ls, e); err != nil {
				t.Fatal(err)
			}
			if err := a.AppendExemplar(ls, e); err != nil {
				t.Errorf("duplicate exemplar: %v, want dropped silently", err)
			}
			commit(t, a)
			if max == 0 {
				return
			}
			a = tn.Appender(context.Background())
			defer a.Rollback()
			old := &wire.Exemplar{Labels: []wire.Label{{Name: "trace_id", Value: "def"}}, Value: 1, Timestamp: base - 1000}
			if err := a.AppendExemplar(ls, old); !errors.Is(err, storage.ErrOutOfOrderExemplar) {
				t.Errorf("old exemplar: %v, want ErrOutOfOrderExemplar", err)
			}
		})
	}
}
