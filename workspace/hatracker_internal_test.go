package workspace

import (
	"fmt"
	"testing"
	"time"

	"github.com/rwkit/rwkit/validate"
)

// TestHATrackerBounds: without ha_max_clusters a tenant still tracks at
// most maxHAClusters clusters, and a cluster silent for haForgetAfter is
// forgotten (making room again).
func TestHATrackerBounds(t *testing.T) {
	lim, _ := validate.Profile("amp")
	h := newHATracker()
	now := time.Now()
	elected, forgotten := 0, 0
	onElect := func(*haCluster, string, string) { elected++ }
	onForget := func(string, string) { forgotten++ }
	for i := range maxHAClusters {
		if v, _ := h.check(&lim, fmt.Sprint("c", i), "a", now, onElect, onForget); v != haAccept {
			t.Fatalf("cluster %d: verdict %v, want accepted", i, v)
		}
	}
	if v, _ := h.check(&lim, "one-more", "a", now, onElect, onForget); v != haTooManyClusters {
		t.Fatalf("cluster %d: verdict %v, want too many", maxHAClusters+1, v)
	}
	// A known cluster is still served.
	if v, _ := h.check(&lim, "c0", "b", now.Add(time.Second), onElect, onForget); v != haDeduplicate {
		t.Fatalf("known cluster, other replica: verdict %v, want deduplicated", v)
	}
	later := now.Add(haForgetAfter)
	if v, _ := h.check(&lim, "one-more", "a", later, onElect, onForget); v != haAccept {
		t.Fatalf("after %s: verdict %v, want accepted", haForgetAfter, v)
	}
	if forgotten != maxHAClusters || len(h.clusters) != 1 || elected != maxHAClusters+1 {
		t.Errorf("forgotten %d, tracked %d, elections %d; want %d, 1, %d", forgotten, len(h.clusters), elected, maxHAClusters, maxHAClusters+1)
	}
}
