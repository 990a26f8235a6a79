package remotewrite

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/rwkit/rwkit/wire"
)

// TestLabelCacheBodiesUnchanged makes a sequence of writes with one
// long-lived client (label blocks cached by series position) and each
// write again with a new client; every request body must be the same
// bytes. The writes change values, labels (same text in new strings, and
// new text), add, remove and reorder series, split long series over
// requests, carry histograms, exemplars and metadata, and overflow the
// cache.
func TestLabelCacheBodiesUnchanged(t *testing.T) {
	base := func() []wire.TimeSeries { return series("m", 50, 1000) }
	fresh := func(s string) string { return strings.Clone(s) }
	steps := []struct {
		name string
		mod  func([]wire.TimeSeries) []wire.TimeSeries
	}{
		{"first", func(s []wire.TimeSeries) []wire.TimeSeries { return s }},
		{"same", func(s []wire.TimeSeries) []wire.TimeSeries { return s }},
		{"values and timestamp", func(s []wire.TimeSeries) []wire.TimeSeries {
			for i := range s {
				s[i].Samples[0] = wire.Sample{Value: float64(i) * 3, Timestamp: 2000}
			}
			return s
		}},
		// Values and timestamps that keep their bytes, then ones that
		// change them from the middle on.
		{"new values, same widths", func(s []wire.TimeSeries) []wire.TimeSeries {
			for i := range s {
				s[i].Samples[0] = wire.Sample{Value: float64(i)*3 + 0.5, Timestamp: 2001}
			}
			return s
		}},
		{"a zero value in the middle", func(s []wire.TimeSeries) []wire.TimeSeries {
			s[len(s)/2].Samples[0].Value = 0
			return s
		}},
		{"the value back", func(s []wire.TimeSeries) []wire.TimeSeries {
			s[len(s)/2].Samples[0].Value = 7
			return s
		}},
		{"a wider timestamp from the middle on", func(s []wire.TimeSeries) []wire.TimeSeries {
			for i := len(s) / 2; i < len(s); i++ {
				s[i].Samples[0].Timestamp = 1 << 40
			}
			return s
		}},
		{"same text, new strings", func(s []wire.TimeSeries) []wire.TimeSeries {
			for i := range s {
				ls := make([]wire.Label, len(s[i].Labels))
				for j, l := range s[i].Labels {
					ls[j] = wire.Label{Name: fresh(l.Name), Value: fresh(l.Value)}
				}
				s[i].Labels = ls
			}
			return s
		}},
		{"one label value changed", func(s []wire.TimeSeries) []wire.TimeSeries {
			s[7].Labels = []wire.Label{{Name: "__name__", Value: "m"}, {Name: "id", Value: "seven"}}
			return s
		}},
		{"label added", func(s []wire.TimeSeries) []wire.TimeSeries {
			s[8].Labels = append(s[8].Labels, wire.Label{Name: "zone", Value: "a"})
			return s
		}},
		{"series inserted first", func(s []wire.TimeSeries) []wire.TimeSeries {
			return append(series("a", 1, 1000), s...)
		}},
		{"series removed", func(s []wire.TimeSeries) []wire.TimeSeries { return s[:20] }},
		{"long series, histogram, exemplar", func(s []wire.TimeSeries) []wire.TimeSeries {
			long := series("long", 1, 0)[0]
			long.Samples = nil
			for i := range 4500 {
				long.Samples = append(long.Samples, wire.Sample{Value: float64(i), Timestamp: int64(1000 + i)})
			}
			h := series("h", 1, 0)[0]
			h.Samples = nil
			h.Histograms = []wire.Histogram{{CountInt: 3, Sum: 1.5, Schema: 0, ZeroCountInt: 1, Timestamp: 1000,
				PositiveSpans: []wire.BucketSpan{{Offset: 0, Length: 2}}, PositiveDeltas: []int64{1, 0}}}
			s[3].Exemplars = []wire.Exemplar{{Labels: []wire.Label{{Name: "trace_id", Value: "abc"}}, Value: 1, Timestamp: 1000}}
			return append(append(s[:10:10], long, h), s[10:]...)
		}},
		{"same again", func(s []wire.TimeSeries) []wire.TimeSeries { return s }},
		{"back to base", func([]wire.TimeSeries) []wire.TimeSeries { return base() }},
	}
	answer := func(n int, got *received) (int, map[string]string, string) {
		if got.Version == wire.V2 {
			return 204, written(got), ""
		}
		return 200, nil, ""
	}
	// samples: the sample limit; 7 makes it, not the byte limit, cut most
	// requests.
	for _, tc := range []struct {
		v              wire.Version
		limit, samples int
	}{{wire.V1, 64 << 20, 2000}, {wire.V1, 1500, 2000}, {wire.V1, 64 << 20, 7}, {wire.V2, 64 << 20, 2000}, {wire.V2, 1500, 2000}} {
		t.Run(fmt.Sprintf("%s/cache=%d/samples=%d", tc.v, tc.limit, tc.samples), func(t *testing.T) {
			limit := tc.limit
			old := maxCachedLabelBytes
			maxCachedLabelBytes = limit
			defer func() { maxCachedLabelBytes = old }()
			opts := []Option{WithMaxRequestBytes(4096), WithMaxSamplesPerRequest(tc.samples), WithVersion(tc.v), WithLabelCache()}
			kept := newReceiver(t, answer)
			keptClient := mustNew(t, kept.url(), opts...)
			cur := base()
			for round := range 2 {
				for _, st := range steps {
					cur = st.mod(cur)
					req := &wire.WriteRequest{Series: cur, Metadata: []wire.Metadata{{Type: wire.MetricTypeGauge, FamilyName: "m", Help: "h"}}}
					n0 := len(kept.requests())
					gotRes, err := keptClient.Write(context.Background(), req)
					if err != nil {
						t.Fatalf("%d/%s: %v", round, st.name, err)
					}
					got := kept.requests()[n0:]
					ref := newReceiver(t, answer)
					wantRes, err := mustNew(t, ref.url(), opts...).Write(context.Background(), req)
					if err != nil {
						t.Fatalf("%d/%s: reference: %v", round, st.name, err)
					}
					// What the Result counts, too (RW 1.0 from the second
					// write on: planned while encoding, planEncoded).
					gotRes.Duration, wantRes.Duration = 0, 0
					if *gotRes != *wantRes {
						t.Fatalf("%d/%s: result %+v, a new client's %+v", round, st.name, *gotRes, *wantRes)
					}
					want := ref.requests()
					if len(got) != len(want) {
						t.Fatalf("%d/%s: %d requests, want %d", round, st.name, len(got), len(want))
					}
					for i := range got {
						if got[i].Version != tc.v {
							t.Fatalf("%d/%s: request %d sent as %s", round, st.name, i, got[i].Version)
						}
						if !bytes.Equal(got[i].Raw, want[i].Raw) {
							t.Fatalf("%d/%s: request %d body differs from a new client's:\n got %x\nwant %x", round, st.name, i, got[i].Raw, want[i].Raw)
						}
					}
				}
			}
			if limit < 64<<20 && keptClient.labels.size() > limit {
				t.Errorf("cache holds %d bytes, limit %d", keptClient.labels.size(), limit)
			}
		})
	}
}

// A series whose labels change every write, next to stable ones, stays
// cached in both versions: what its old symbol entries held is counted as
// garbage, so a full cache is rebuilt rather than refusing it for good.
// Without WithLabelCache nothing is kept.
func TestLabelCacheChurnAndOptIn(t *testing.T) {
	answer := func(n int, got *received) (int, map[string]string, string) {
		if got.Version == wire.V2 {
			return 204, written(got), ""
		}
		return 200, nil, ""
	}
	old := maxCachedLabelBytes
	maxCachedLabelBytes = 6000
	defer func() { maxCachedLabelBytes = old }()
	for _, v := range []wire.Version{wire.V1, wire.V2} {
		rc := newReceiver(t, answer)
		c := mustNew(t, rc.url(), WithVersion(v), WithLabelCache())
		plain := mustNew(t, rc.url(), WithVersion(v))
		stable := series("m", 20, 1000)
		cached := 0
		for i := range 100 {
			churn := series("churn", 1, 1000)
			churn[0].Labels = append(churn[0].Labels, wire.Label{Name: "pod", Value: fmt.Sprintf("pod-%d", i)})
			req := &wire.WriteRequest{Series: append(slices.Clip(stable), churn...)}
			for _, cl := range []*Client{c, plain} {
				if _, err := cl.Write(context.Background(), req); err != nil {
					t.Fatal(err)
				}
			}
			if k := len(stable); k < len(c.labels.ents) {
				if e := c.labels.ents[k]; e.ok && (v == wire.V1 && e.b1 >= 0 || v == wire.V2 && e.i1 >= 0) {
					cached++
				}
			}
			if c.labels.size() > maxCachedLabelBytes {
				t.Fatalf("%s: write %d: cache holds %d bytes, limit %d", v, i, c.labels.size(), maxCachedLabelBytes)
			}
		}
		if cached < 70 { // a write that finds it full refuses it; the next starts again
			t.Errorf("%s: the changing series was cached in %d of 100 writes", v, cached)
		}
		if len(plain.labels.ents) != 0 || plain.labels.size() != 0 {
			t.Errorf("%s: without WithLabelCache the client keeps %d entries, %d bytes", v, len(plain.labels.ents), plain.labels.size())
		}
	}
}

// sameLabels: equal headers, equal strings in other memory, and every way
// labels can differ.
func TestSameLabels(t *testing.T) {
	ls := []wire.Label{{Name: "__name__", Value: "up"}, {Name: "job", Value: "api"}}
	clone := func(s string) string { return string([]byte(s)) }
	copied := []wire.Label{{Name: clone("__name__"), Value: clone("up")}, {Name: clone("job"), Value: clone("api")}}
	for _, tc := range []struct {
		name string
		a, b []wire.Label
		want bool
	}{
		{"same slice", ls, ls, true},
		{"same headers, other slice", ls, append([]wire.Label(nil), ls...), true},
		{"equal strings in other memory", ls, copied, true},
		{"both empty", nil, []wire.Label{}, true},
		{"other value", ls, []wire.Label{ls[0], {Name: "job", Value: "apj"}}, false},
		{"other name", ls, []wire.Label{ls[0], {Name: "jobs", Value: "api"}}, false},
		{"shorter", ls, ls[:1], false},
		{"prefix of a value", ls, []wire.Label{ls[0], {Name: "job", Value: "ap"}}, false},
	} {
		if got := sameLabels(tc.a, tc.b); got != tc.want {
			t.Errorf("%s: sameLabels = %v, want %v", tc.name, got, tc.want)
		}
		if got := sameLabels(tc.b, tc.a); got != tc.want {
			t.Errorf("%s (swapped): sameLabels = %v, want %v", tc.name, got, tc.want)
		}
	}
}
