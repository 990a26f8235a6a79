package collide

import (
	"cmp"
	"encoding/binary"
	"strings"
	"unsafe"

	"github.com/rwkit/rwkit/wire"
)

// A key is a label set, sorted by name, encoded as each name and value
// prefixed by its length (uvarint): unambiguous whatever bytes the values
// hold, and about the size of the series in the text format. appendKey
// also says whether ls is sorted by name (checked here rather than in a
// pass of its own: this loop is Find's hot path).
func appendKey(b []byte, ls []wire.Label) (_ []byte, sorted bool) {
	sorted = true
	for i, l := range ls {
		if i > 0 && l.Name < ls[i-1].Name {
			sorted = false
		}
		b = appendString(b, l.Name)
		b = appendString(b, l.Value)
	}
	return b, sorted
}

func appendString(b []byte, s string) []byte {
	if len(s) < 0x80 {
		b = append(b, byte(len(s))) // the uvarint of a short length
	} else {
		b = binary.AppendUvarint(b, uint64(len(s)))
	}
	return append(b, s...)
}

// decodeKey is appendKey's inverse, for keys appendKey made. The labels
// are allocated at their exact number and their strings point into b,
// which must never change (an arena's keys never do): a report of many
// shared series holds them all, and copies made them half of collide's
// peak memory (issue 18's profile).
func decodeKey(b []byte) []wire.Label {
	if len(b) == 0 {
		return nil
	}
	n := 0
	for rest := b; len(rest) > 0; n++ {
		_, rest = nextString(rest)
		_, rest = nextString(rest)
	}
	ls := make([]wire.Label, 0, n)
	s := unsafe.String(&b[0], len(b))
	for off := 0; off < len(s); {
		var l wire.Label
		l.Name, off = stringAt(s, off)
		l.Value, off = stringAt(s, off)
		ls = append(ls, l)
	}
	return ls
}

func nextString(b []byte) (string, []byte) {
	n, k := binary.Uvarint(b)
	return string(b[k : k+int(n)]), b[k+int(n):]
}

// stringAt is the string encoded at s[off:] and where the next one starts.
func stringAt(s string, off int) (string, int) {
	if c := s[off]; c < 0x80 { // a short length, as appendString writes it
		start := off + 1
		return s[start : start+int(c)], start + int(c)
	}
	n, k := binary.Uvarint([]byte(s[off:min(len(s), off+binary.MaxVarintLen64)]))
	start := off + k
	return s[start : start+int(n)], start + int(n)
}

// keyLabel is the value of the label called name in key (a string over a
// key's bytes), as wire.MetricName reads it of the decoded labels.
func keyLabel(key, name string) (string, bool) {
	for off := 0; off < len(key); {
		var n, v string
		n, off = stringAt(key, off)
		v, off = stringAt(key, off)
		if n == name {
			return v, true
		}
	}
	return "", false
}

// compareKeys orders two keys as compareSeries orders their decoded label
// sets (metric name, then labels), without decoding them.
func compareKeys(a, b string) int {
	am, _ := keyLabel(a, wire.MetricNameLabel)
	bm, _ := keyLabel(b, wire.MetricNameLabel)
	if c := strings.Compare(am, bm); c != 0 {
		return c
	}
	for i, j := 0, 0; ; {
		if i == len(a) || j == len(b) {
			return cmp.Compare(len(a)-i, len(b)-j) // the shorter set first
		}
		var an, av, bn, bv string
		an, i = stringAt(a, i)
		av, i = stringAt(a, i)
		bn, j = stringAt(b, j)
		bv, j = stringAt(b, j)
		if c := cmp.Or(strings.Compare(an, bn), strings.Compare(av, bv)); c != 0 {
			return c
		}
	}
}

// arenaChunk is the size of the arena's blocks: large enough that their
// headers cost nothing per key, small enough that the last one's unused
// part does not matter. Blocks are never copied, unlike one growing slice,
// whose doubling would hold the keys twice for a moment.
const arenaChunk = 1 << 20

// arena keeps keys in large blocks rather than one allocation each.
type arena struct{ chunks [][]byte }

// keyRef locates a key in an arena, or, when len is heldLen, names the
// writer (chunk) and series (off) whose sorted labels are the key.
type keyRef struct{ chunk, off, len uint32 }

const heldLen = ^uint32(0)

func heldKey(w, i int32) keyRef { return keyRef{chunk: uint32(w), off: uint32(i), len: heldLen} }

func (r keyRef) held() (w, i int32, ok bool) {
	return int32(r.chunk), int32(r.off), r.len == heldLen
}

func (a *arena) put(key []byte) keyRef {
	n := len(a.chunks)
	if n == 0 || cap(a.chunks[n-1])-len(a.chunks[n-1]) < len(key) {
		a.chunks = append(a.chunks, make([]byte, 0, max(arenaChunk, len(key))))
		n++
	}
	c := &a.chunks[n-1]
	ref := keyRef{chunk: uint32(n - 1), off: uint32(len(*c)), len: uint32(len(key))}
	*c = append(*c, key...)
	return ref
}

func (a *arena) get(r keyRef) []byte {
	return a.chunks[r.chunk][r.off : r.off+r.len]
}

// str is key r as a string over the arena's bytes, which never change.
func (a *arena) str(r keyRef) string {
	if r.len == 0 {
		return ""
	}
	return unsafe.String(&a.chunks[r.chunk][r.off], int(r.len))
}
