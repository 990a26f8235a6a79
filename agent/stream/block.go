package stream

import (
	"bytes"
	"encoding/binary"
	"unsafe"

	"github.com/rwkit/rwkit/scrape"
	"github.com/rwkit/rwkit/wire"
)

// A series' label block is most often its line's labels with the target's
// labels (job, instance) and the external labels put in their places: the
// key (rawKey) holds the line's labels as label fields already, so the
// entry keeps, instead of the block, a recipe saying where each of those
// constant labels goes. That halves what the cache holds per series; the
// block is made again from the two when the series is written.

// initConsts encodes the labels a block may take from the loop rather
// than from its key.
func (c *cache) initConsts(l *Loop) {
	for _, lb := range l.target {
		c.consts = append(c.consts, wire.AppendLabel(nil, lb.Name, lb.Value))
	}
	for _, lb := range l.external {
		c.consts = append(c.consts, wire.AppendLabel(nil, lb.Name, lb.Value))
	}
}

// derive returns the recipe that makes c.blk (the block of c.wl) from key,
// when there is one: c.wl must be the key's label fields, in the key's
// order, with constant labels between them. The recipe is, for each
// constant label in turn, the offset in the key where it goes (uvarint)
// and its index in c.consts. Keys that end with a bound (le, quantile),
// whose block has a label the key lacks, have none.
func (c *cache) derive(key []byte) ([]byte, bool) {
	end := len(key) - 2
	if end < 0 || key[end] != keyEnd || len(c.consts) > 255 {
		return nil, false
	}
	if k := scrape.SampleKind(key[end+1]); k == scrape.KindBucket || k == scrape.KindQuantile {
		return nil, false
	}
	c.recipe = c.recipe[:0]
	pos := 0
	for _, lb := range c.wl {
		c.field = wire.AppendLabel(c.field[:0], lb.Name, lb.Value)
		if bytes.HasPrefix(key[pos:end], c.field) {
			pos += len(c.field)
			continue
		}
		i := c.constIndex(c.field)
		if i < 0 {
			return nil, false
		}
		c.recipe = binary.AppendUvarint(c.recipe, uint64(pos))
		c.recipe = append(c.recipe, byte(i))
	}
	return c.recipe, pos == end
}

func (c *cache) constIndex(field []byte) int {
	for i, f := range c.consts {
		if bytes.Equal(f, field) {
			return i
		}
	}
	return -1
}

// appendSeries appends e's series with its one sample s, its label block
// written from the key's pieces and the constant labels straight into
// dst when it has a recipe.
func (c *cache) appendSeries(dst []byte, e *entry, s *wire.Sample) []byte {
	if e.flags&fDerived == 0 {
		b := e.text[e.klen:]
		return wire.AppendSampleSeries(dst, unsafe.Slice(unsafe.StringData(b), len(b)), s)
	}
	key, recipe := e.text[:e.klen-2], e.text[e.klen:]
	n := len(key)
	for r := recipe; len(r) > 0; {
		_, m := uvarint(r)
		n += len(c.consts[r[m]])
		r = r[m+1:]
	}
	dst = wire.AppendSampleSeriesStart(dst, n, s)
	dst = c.appendDerived(dst, key, recipe)
	return wire.AppendSampleSeriesEnd(dst, s)
}

// appendBlock appends e's label block: the one it keeps, or the one its
// recipe makes from its key.
func (c *cache) appendBlock(dst []byte, e *entry) []byte {
	if e.flags&fDerived == 0 {
		return append(dst, e.text[e.klen:]...)
	}
	return c.appendDerived(dst, e.text[:e.klen-2], e.text[e.klen:])
}

// appendDerived appends the block recipe makes of key's label fields and
// the constant labels.
func (c *cache) appendDerived(dst []byte, key, recipe string) []byte {
	prev := 0
	for len(recipe) > 0 {
		off, n := uvarint(recipe)
		dst = append(dst, key[prev:off]...)
		dst = append(dst, c.consts[recipe[n]]...)
		prev, recipe = off, recipe[n+1:]
	}
	return append(dst, key[prev:]...)
}

// uvarint decodes a recipe's offset (binary.AppendUvarint's) from s and
// returns it and its length.
func uvarint(s string) (int, int) {
	v := 0
	for i := 0; ; i++ {
		b := s[i]
		v |= int(b&0x7f) << (7 * i)
		if b < 0x80 {
			return v, i + 1
		}
	}
}
