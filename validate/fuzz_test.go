package validate

import (
	"testing"
	"time"

	"github.com/rwkit/rwkit/wire"
)

// FuzzValidateSeries: no label set, timestamp or histogram shape panics,
// and a kept series always passes again unchanged.
func FuzzValidateSeries(f *testing.F) {
	f.Add("__name__", "m", "job", "j", int64(0), int32(0), int32(1), uint32(3), 3)
	f.Add("", "", "a.b", "\xff", int64(-1), int32(-53), int32(-5), uint32(1<<31), 2)
	f.Add("__name__", "", "__name__", "x", int64(1<<62), int32(9), int32(0), uint32(0), 0)
	f.Fuzz(func(t *testing.T, n1, v1, n2, v2 string, ts int64, schema, offset int32, length uint32, buckets int) {
		if buckets < 0 || buckets > 64 {
			buckets = 64
		}
		h := wire.Histogram{Schema: schema, Timestamp: ts, PositiveSpans: []wire.BucketSpan{{Offset: offset, Length: length}},
			PositiveDeltas: make([]int64, buckets), NegativeSpans: []wire.BucketSpan{{Offset: -offset, Length: length / 2}}}
		in := wire.TimeSeries{
			Labels:     []wire.Label{{Name: n1, Value: v1}, {Name: n2, Value: v2}},
			Samples:    []wire.Sample{{Timestamp: ts}},
			Exemplars:  []wire.Exemplar{{Labels: []wire.Label{{Name: n2, Value: v1}}, Timestamp: ts}},
			Histograms: []wire.Histogram{h},
		}
		now := time.Unix(1700000000, 0)
		for _, name := range ProfileNames() {
			l, _ := Profile(name)
			l.MaxNativeHistogramBuckets = 3
			l.RejectOldSamples = true
			l.MaxLabelsSizeBytes = 50
			kept, d := ValidateSeries(&l, &in, now)
			if d != nil {
				if d.Message == "" && d.Status != 0 {
					t.Fatalf("%s: refusal without text: %+v", name, d)
				}
				continue
			}
			if _, d := ValidateSeries(&l, &kept, now); d != nil {
				t.Fatalf("%s: kept series refused on second pass: %+v", name, d)
			}
		}
	})
}
