package workspace

import (
	"testing"
	"time"
)

// The history keeps the last historyLen samples, oldest first, as
// differences, and adds the interval since the last sample.
func TestHistoryRing(t *testing.T) {
	h := newHistory()
	t0 := time.Unix(1000, 0)
	for i := 1; i <= historyLen+5; i++ {
		h.sample(map[string]map[string]float64{"a": {"r": float64(i * 2)}}, t0.Add(time.Duration(i)*historyEvery))
	}
	pts := h.of("a", map[string]map[string]float64{"a": {"r": float64((historyLen+5)*2 + 7)}}, t0.Add(time.Hour*5))
	if len(pts) != historyLen+1 {
		t.Fatalf("%d points, want %d", len(pts), historyLen+1)
	}
	if first := t0.Add(6 * historyEvery); !pts[0].T.Equal(first) {
		t.Errorf("oldest point at %v, want %v (the first five overwritten)", pts[0].T, first)
	}
	for i := 1; i < len(pts); i++ {
		if !pts[i].T.After(pts[i-1].T) {
			t.Fatalf("point %d at %v, not after %v", i, pts[i].T, pts[i-1].T)
		}
	}
	if pts[0].Counts["r"] != 2 || pts[len(pts)-1].Counts["r"] != 7 {
		t.Errorf("first delta %v, last %v; want 2 and 7", pts[0].Counts["r"], pts[len(pts)-1].Counts["r"])
	}
	if pts := h.of("idle", nil, t0); len(pts[0].Counts) != 0 || pts[0].Counts == nil {
		t.Errorf("an idle workspace's point: %v, want an empty map", pts[0].Counts)
	}
}
