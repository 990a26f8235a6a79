package remotewrite

import (
	"slices"
	"unsafe"

	"github.com/rwkit/rwkit/wire"
)

// labelCache keeps, per series position, the labels of the last write and
// their RW 1.0 encoding (the series' repeated labels fields), so that a
// series whose labels are those of the same position last time is encoded
// by copying one contiguous block instead of walking its label strings,
// which are scattered over the heap. A pusher sends the same series in the
// same order write after write; the comparison reads only the label
// headers (equal strings from one registry share their bytes, and string
// comparison stops at equal pointers).
//
// The cache is filled from a client's second write on, so a client that
// writes once pays nothing, and holds at most maxCachedLabelBytes of blocks
// and label headers; series beyond it are encoded as before.
type labelCache struct {
	labels  []wire.Label
	blocks  []byte
	ents    []labelEnt // by series position; b1 < 0: not cached
	garbage int        // bytes of labels and blocks no entry refers to
}

type labelEnt struct{ l0, l1, b0, b1 int }

const labelHeaderSize = int(unsafe.Sizeof(wire.Label{}))

// maxCachedLabelBytes bounds a client's label cache (a variable for tests).
var maxCachedLabelBytes = 64 << 20

func (lc *labelCache) size() int { return len(lc.blocks) + len(lc.labels)*labelHeaderSize }

// begin prepares the cache for a write of n series: when more than half of
// what it holds is garbage, it starts again.
func (lc *labelCache) begin(n int) {
	if len(lc.ents) > n {
		for _, e := range lc.ents[n:] {
			lc.drop(e)
		}
		lc.ents = lc.ents[:n]
	}
	if lc.garbage > lc.size()/2 {
		clear(lc.labels)
		lc.labels, lc.blocks, lc.ents, lc.garbage = lc.labels[:0], lc.blocks[:0], lc.ents[:0], 0
	}
}

func (lc *labelCache) drop(e labelEnt) {
	if e.b1 >= 0 {
		lc.garbage += e.b1 - e.b0 + (e.l1-e.l0)*labelHeaderSize
	}
}

// block returns the encoded labels of the series at position si, from the
// cache when they are the labels cached there, else encoded and cached.
// It returns nil when the series is not cached (the cache is full): the
// caller encodes the labels itself.
func (lc *labelCache) block(si int, ls []wire.Label) []byte {
	if si < len(lc.ents) {
		e := lc.ents[si]
		if e.b1 >= 0 && slices.Equal(lc.labels[e.l0:e.l1], ls) {
			return lc.blocks[e.b0:e.b1]
		}
		lc.drop(e)
		lc.ents[si] = labelEnt{b1: -1}
	}
	for len(lc.ents) <= si {
		lc.ents = append(lc.ents, labelEnt{b1: -1})
	}
	if lc.size()+len(ls)*(labelHeaderSize+16) > maxCachedLabelBytes {
		return nil
	}
	e := labelEnt{l0: len(lc.labels), b0: len(lc.blocks)}
	lc.labels = append(lc.labels, ls...)
	lc.blocks = wire.AppendLabels(lc.blocks, ls)
	e.l1, e.b1 = len(lc.labels), len(lc.blocks)
	lc.ents[si] = e
	return lc.blocks[e.b0:e.b1]
}

// cached returns the block that block returned for position si in this
// write, or nil.
func (lc *labelCache) cached(si int) []byte {
	if si >= len(lc.ents) || lc.ents[si].b1 < 0 {
		return nil
	}
	e := lc.ents[si]
	return lc.blocks[e.b0:e.b1]
}
