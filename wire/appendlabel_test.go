package wire

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

// AppendLabel of each label in turn is AppendLabels of them all, empty
// names and values and lengths past one varint byte included.
func TestAppendLabelIsOneLabelOfAppendLabels(t *testing.T) {
	ls := []Label{{Name: "__name__", Value: "up"}, {Name: "a", Value: ""}, {Name: "", Value: "v"},
		{Name: "long", Value: strings.Repeat("x", 300)}, {Name: strings.Repeat("n", 130), Value: "é"}}
	var one []byte
	for _, l := range ls {
		one = AppendLabel(one, l.Name, l.Value)
	}
	if want := AppendLabels(nil, ls); !bytes.Equal(one, want) {
		t.Fatalf("AppendLabel one by one:\n%x\nAppendLabels:\n%x", one, want)
	}
}

// AppendSampleSeries is AppendTimeSeriesLabels of a series of that one
// sample: zero and negative-zero values, NaN, zero, negative and wide
// timestamps, empty and long label blocks (series lengths of one to three
// varint bytes); and the same in pieces (AppendSampleSeriesStart, the
// block, AppendSampleSeriesEnd).
func TestAppendSampleSeriesIsAppendTimeSeriesLabels(t *testing.T) {
	blocks := [][]byte{nil, AppendLabels(nil, []Label{{Name: "__name__", Value: "up"}}),
		AppendLabels(nil, []Label{{Name: "__name__", Value: "a"}, {Name: "b", Value: strings.Repeat("v", 200)}}),
		AppendLabels(nil, []Label{{Name: "b", Value: strings.Repeat("v", 16370)}}), // a series length of 2 or 3 varint bytes
		AppendLabels(nil, []Label{{Name: "b", Value: strings.Repeat("v", 17000)}})}
	negZero := math.Copysign(0, -1)
	samples := []Sample{{}, {Value: 1.5}, {Timestamp: 1700000000000}, {Value: negZero, Timestamp: 1},
		{Value: math.NaN(), Timestamp: -1}, {Value: math.Inf(-1), Timestamp: math.MaxInt64},
		{Value: 2, Timestamp: 127, StartTimestamp: 5}, {Value: -3, Timestamp: 128}}
	for _, block := range blocks {
		for _, s := range samples {
			got := AppendSampleSeries([]byte{7}, block, &s)
			want := AppendTimeSeriesLabels([]byte{7}, block, &TimeSeries{Samples: []Sample{s}})
			if !bytes.Equal(got, want) {
				t.Fatalf("block %d bytes, sample %+v:\n%x\nwant (AppendTimeSeriesLabels):\n%x", len(block), s, got, want)
			}
			// In pieces, the block split in two.
			half := len(block) / 2
			pieces := AppendSampleSeriesStart([]byte{7}, len(block), &s)
			pieces = append(append(pieces, block[:half]...), block[half:]...)
			if pieces = AppendSampleSeriesEnd(pieces, &s); !bytes.Equal(pieces, want) {
				t.Fatalf("block %d bytes, sample %+v, in pieces:\n%x\nwant:\n%x", len(block), s, pieces, want)
			}
		}
	}
}
