package remotewrite

import (
	"bytes"
	"slices"
	"unsafe"

	"github.com/rwkit/rwkit/wire"
)

// labelCache keeps, per series position, the labels of the last write and
// what encoding them cost: their RW 1.0 encoding (the series' repeated
// labels fields) and their RW 2.0 symbol ids (wire.SymbolIDs). A series
// whose labels are those of the same position last time is then encoded
// by copying one contiguous block (RW 1.0) or by finding its symbol
// references through an array (RW 2.0), instead of walking label strings
// scattered over the heap or hashing them. A pusher sends the same series
// in the same order write after write; the comparison reads only the label
// headers (equal strings from one registry share their bytes, and string
// comparison stops at equal pointers).
//
// Under WithLabelCache, the cache is filled from a client's second write
// on, so a client that writes once pays nothing, and holds at most
// maxCachedLabelBytes (label headers, blocks, ids and symbol entries);
// series beyond it are encoded as before.
type labelCache struct {
	labels []wire.Label
	blocks []byte
	ids    []uint32
	syms   wire.SymbolIDs
	ents   []labelEnt // by series position
	// Accounting in upper bounds (labelEnt.need): used is what live and
	// dropped entries may hold, symbol entries included (each counted with
	// the entry that made it), garbage what dropped ones may.
	used, garbage int
	refused       bool // an entry did not fit since the last begin
}

// labelEnt is one position's labels (labels[l0:l1], ok false: none),
// RW 1.0 block (blocks[b0:b1], b1 < 0: not encoded yet; its length is
// size) and RW 2.0 ids (ids[i0:i1], i1 < 0: not yet).
type labelEnt struct {
	ok                     bool
	l0, l1, b0, b1, i0, i1 int
	size                   int // wire.LabelsSize of the labels
	need                   int // bound of the bytes the entry may come to hold
}

const labelHeaderSize = int(unsafe.Sizeof(wire.Label{}))

// maxCachedLabelBytes bounds a client's label cache (a variable for tests).
var maxCachedLabelBytes = 64 << 20

// symbolEntrySize bounds what wire.SymbolIDs keeps per string besides its
// bytes: a map entry, a string header, a reference and a generation.
const symbolEntrySize = 80

func (lc *labelCache) symsSize() int { return lc.syms.Bytes() + lc.syms.Len()*symbolEntrySize }

// size is what the cache holds (for tests; bounded by used).
func (lc *labelCache) size() int {
	return len(lc.blocks) + len(lc.labels)*labelHeaderSize + len(lc.ids)*4 + lc.symsSize()
}

// begin prepares the cache for a write of n series: when more than half of
// what it holds is garbage (an eighth, when entries did not fit), it starts
// again (symbol ids too: strings of dropped entries go with them).
func (lc *labelCache) begin(n int) {
	if len(lc.ents) > n {
		for _, e := range lc.ents[n:] {
			lc.drop(e)
		}
		lc.ents = lc.ents[:n]
	}
	// A cache that refused entries starts again sooner: its garbage is
	// what keeps them out.
	if lc.garbage > lc.used/2 || lc.refused && lc.garbage > lc.used/8 {
		clear(lc.labels)
		lc.labels, lc.blocks, lc.ids, lc.ents = lc.labels[:0], lc.blocks[:0], lc.ids[:0], lc.ents[:0]
		lc.used, lc.garbage = 0, 0
		lc.syms.Reset()
	}
	lc.refused = false
}

func (lc *labelCache) drop(e labelEnt) {
	if e.ok {
		lc.garbage += e.need
	}
}

// check makes the entry at position si hold ls, keeping what was encoded
// when it already did, and returns the RW 1.0 size of ls
// (wire.LabelsSize) when ls is cached there, -1 when not (the cache is
// full).
func (lc *labelCache) check(si int, ls []wire.Label) int {
	if si < len(lc.ents) {
		e := &lc.ents[si]
		if e.ok && sameLabels(lc.labels[e.l0:e.l1], ls) {
			return e.size
		}
		lc.drop(*e)
		*e = labelEnt{}
	}
	for len(lc.ents) <= si {
		lc.ents = append(lc.ents, labelEnt{})
	}
	// At most what the entry can come to hold: label headers, RW 1.0 block
	// (the strings and up to 12 bytes of tags and lengths per label) and
	// ids. Symbol entries are counted as they are made (symbolIDs).
	need := 0
	for _, l := range ls {
		need += labelHeaderSize + 12 + 8 + len(l.Name) + len(l.Value)
	}
	if lc.used+need > maxCachedLabelBytes {
		lc.refused = true
		return -1
	}
	lc.used += need
	e := labelEnt{ok: true, l0: len(lc.labels), b1: -1, i1: -1, size: wire.LabelsSize(ls), need: need}
	lc.labels = append(lc.labels, ls...)
	e.l1 = len(lc.labels)
	lc.ents[si] = e
	return e.size
}

// hit returns the RW 1.0 label block of position si when the entry there
// holds ls and its block is encoded: check and block in one, for the
// series that a pusher sends write after write. Otherwise it returns nil
// and leaves the entry alone (check then does what it must).
func (lc *labelCache) hit(si int, ls []wire.Label) []byte {
	if si >= len(lc.ents) {
		return nil
	}
	e := &lc.ents[si]
	if !e.ok || e.b1 < 0 || !sameLabels(lc.labels[e.l0:e.l1], ls) {
		return nil
	}
	return lc.blocks[e.b0:e.b1]
}

// block returns the RW 1.0 label block of position si, which check
// accepted in this write, or nil.
func (lc *labelCache) block(si int) []byte {
	if si >= len(lc.ents) || !lc.ents[si].ok {
		return nil
	}
	e := &lc.ents[si]
	if e.b1 < 0 {
		e.b0 = len(lc.blocks)
		lc.blocks = wire.AppendLabels(lc.blocks, lc.labels[e.l0:e.l1])
		e.b1 = len(lc.blocks)
	}
	return lc.blocks[e.b0:e.b1]
}

// symbolIDs returns the RW 2.0 symbol ids (name, value per label) of
// position si, which check accepted in this write, or nil.
func (lc *labelCache) symbolIDs(si int) []uint32 {
	if si >= len(lc.ents) || !lc.ents[si].ok {
		return nil
	}
	e := &lc.ents[si]
	if e.i1 < 0 {
		worst := 0 // every string new
		for _, l := range lc.labels[e.l0:e.l1] {
			worst += 2*symbolEntrySize + len(l.Name) + len(l.Value)
		}
		if lc.used+worst > maxCachedLabelBytes {
			lc.refused = true
			return nil
		}
		before := lc.symsSize()
		e.i0 = len(lc.ids)
		for _, l := range lc.labels[e.l0:e.l1] {
			lc.ids = append(lc.ids, lc.syms.ID(l.Name), lc.syms.ID(l.Value))
		}
		e.i1 = len(lc.ids)
		made := lc.symsSize() - before
		e.need += made
		lc.used += made
	}
	return lc.ids[e.i0:e.i1]
}

// sameLabels reports whether a and b hold equal labels. A pusher hands
// over, write after write, labels whose headers are the very ones cached
// (the same string pointers and lengths), so the headers are first
// compared as memory, one vectorised comparison per series instead of a
// string comparison per name and value; equal headers are equal strings.
// Headers that differ may still hold equal strings (a copy): then the
// strings are compared.
func sameLabels(a, b []wire.Label) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 0 {
		return true
	}
	n := len(a) * labelHeaderSize
	ha := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(a))), n)
	hb := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(b))), n)
	return bytes.Equal(ha, hb) || slices.Equal(a, b)
}
