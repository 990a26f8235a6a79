package workspace

import (
	"math/rand/v2"
	"testing"
)

// The series table's per-writer counts, kept as entries are put, moved
// and evicted, equal a walk of the table after every put, over random
// writes of 5 writers to 40 series through a table of 16.
func TestSeriesTableHeldMatchesAWalk(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{1, 2, 16} {
		st := newSeriesTable(size)
		for i := range 5000 {
			st.put(uint64(rng.IntN(40)), lastWrite{writer: uint32(1 + rng.IntN(5)), at: int64(i)})
			walked := map[uint32]int{}
			st.each(func(e lastWrite) { walked[e.writer]++ })
			for id := uint32(1); id <= 5; id++ {
				if got := st.held(id); got != walked[id] {
					t.Fatalf("table of %d, put %d: writer %d holds %d series by its count, %d by a walk", size, i, id, got, walked[id])
				}
			}
			if n := len(st.curBy) + len(st.prevBy); n > 10 {
				t.Fatalf("table of %d, put %d: %d count entries for 5 writers", size, i, n)
			}
		}
	}
}
