package stream

import "unsafe"

// texts packs the entries' texts (line text and label block or recipe) into
// large chunks, one after the other in the order they are made, which is
// the order the target exposes its series: a scrape then reads them in
// sequence, twice (its lookups, then emit), instead of chasing small
// allocations scattered among the garbage that building labels leaves in
// the same size classes. A chunk lives while one of its texts does; when
// the texts dropped since the last compaction outweigh those in use,
// compact copies the live ones into new chunks, so that a target whose
// series churn never holds more than about twice its texts.
type texts struct {
	chunk      []byte
	live, dead int   // bytes of texts in use, and dropped since the last compaction
	gen        uint8 // compactions so far (mod 256): entry.tgen says which moved
}

// textChunk is the size of a chunk; a text over an eighth of it has an
// allocation of its own.
const textChunk = 256 << 10

// store copies b into the chunks and returns it as a string.
func (t *texts) store(b []byte) string {
	t.live += len(b)
	switch {
	case len(b) == 0:
		return ""
	case len(b) > textChunk/8:
		return string(b)
	case cap(t.chunk)-len(t.chunk) < len(b):
		t.chunk = make([]byte, 0, textChunk)
	}
	off := len(t.chunk)
	t.chunk = append(t.chunk, b...)
	return unsafe.String(&t.chunk[off], len(b))
}

// drop counts the text of an entry the cache forgot.
func (t *texts) drop(s string) {
	t.live -= len(s)
	t.dead += len(s)
}

// needsCompaction: more bytes of the chunks are dead than live.
func (t *texts) needsCompaction() bool { return t.dead > t.live && t.dead > textChunk }

// compact moves the texts of c's entries into new chunks: the last
// scrape's first, in their order, then the rest.
func (c *cache) compact() {
	t := &c.txt
	t.chunk, t.live, t.dead = nil, 0, 0
	t.gen++
	move := func(e *entry) {
		if e.tgen != t.gen {
			e.text, e.tgen = t.store(unsafe.Slice(unsafe.StringData(e.text), len(e.text))), t.gen
		}
	}
	for _, e := range c.report {
		move(e)
	}
	for _, e := range c.order {
		move(e)
		if e.same != nil {
			move(e.same)
		}
	}
	for _, e := range c.raw {
		move(e)
		if e.same != nil {
			move(e.same)
		}
	}
}
