package wire

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// AppendSeriesIDs gives the same bytes as AppendSeries, request after
// request, with the ids kept across Resets, shared by two encoders in
// turn, and mixed with AppendSeries, a second SymbolIDs, "" and exemplar,
// help and unit symbols that are also label strings.
func TestAppendSeriesIDsSameBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	word := func() string {
		if rng.IntN(30) == 0 {
			return "" // always reference 0, with or without an id
		}
		return fmt.Sprintf("w%d", rng.IntN(40))
	}
	var ids, other SymbolIDs
	var plain, withIDs [2]EncoderV2
	for round := range 30 {
		k := round % 2 // alternate encoders: ids move between owners
		plain[k].Reset()
		withIDs[k].Reset()
		for s := range 1 + rng.IntN(20) {
			ts := TimeSeries{Metadata: Metadata{Type: MetricTypeGauge, Help: word(), Unit: word()}}
			for range rng.IntN(6) {
				ts.Labels = append(ts.Labels, Label{Name: word(), Value: word()})
			}
			ts.Samples = []Sample{{Value: float64(s), Timestamp: int64(round)}}
			if rng.IntN(4) == 0 {
				ts.Exemplars = []Exemplar{{Labels: []Label{{Name: word(), Value: word()}}, Value: 1, Timestamp: 2}}
			}
			plain[k].AppendSeries(&ts)
			if rng.IntN(5) == 0 {
				withIDs[k].AppendSeries(&ts)
				continue
			}
			tab := &ids
			if rng.IntN(6) == 0 {
				tab = &other // a second table in one request: looked up as strings
			}
			var lids []uint32
			for _, l := range ts.Labels {
				lids = append(lids, tab.ID(l.Name), tab.ID(l.Value))
			}
			withIDs[k].AppendSeriesIDs(&ts, tab, lids)
		}
		want, got := plain[k].AppendRequest(nil), withIDs[k].AppendRequest(nil)
		if !bytes.Equal(got, want) {
			t.Fatalf("round %d: AppendSeriesIDs request differs:\n got %x\nwant %x", round, got, want)
		}
		if round == 20 {
			ids.Reset()
		}
	}
	// Ids that are not the series' labels' (wrong count) fall back.
	var e1, e2 EncoderV2
	ts := TimeSeries{Labels: []Label{{Name: "a", Value: "b"}}, Samples: []Sample{{Value: 1, Timestamp: 1}}}
	e1.AppendSeries(&ts)
	e2.AppendSeriesIDs(&ts, &ids, []uint32{ids.ID("a")})
	if !bytes.Equal(e1.AppendRequest(nil), e2.AppendRequest(nil)) {
		t.Error("wrong id count: bytes differ from AppendSeries")
	}
}
