package collide

import (
	"bytes"
	"hash/maphash"
	"slices"

	"github.com/rwkit/rwkit/wire"
)

// Identity labels that rwkit's push path adds to every series, and that the
// suggestion is made of.
const (
	ServiceLabel  = "service"
	InstanceLabel = "instance"
)

// Writer is one process that would push its series to the shared backend.
type Writer struct {
	// Name identifies the writer in the report. Names should be unique.
	Name string
	// Service is the service the writer belongs to, when known. Writers
	// with the same Service are replicas; empty means unknown. It only
	// steers the suggestion.
	Service string
	// Series are the series the writer would send, as gather.Convert
	// yields them. Only each series' Labels is read. Labels sorted by
	// name are used as they are; unsorted ones are sorted in a copy.
	Series []wire.TimeSeries

	// What Load records for the report; Find copies them into
	// WriterSummary and reads nothing else of them.

	// Source is where the series came from: a file, a URL without its
	// password, or "-".
	Source string
	// Labels are the labels added to every series (Source.Labels), sorted
	// by name.
	Labels Labels
	// Families is how many metric families the exposition held.
	Families int
	// Note says why push would refuse the writer's whole request (the
	// gather.ErrDuplicateSeries error) when its series repeat; empty
	// otherwise.
	Note string
}

// entry is one distinct series seen by Find. Its label set is the
// writer's own when Find holds the writers' series and it was sorted;
// otherwise (FindSources, or labels that needed sorting) it is kept encoded
// in the finder's arena, and nothing of the writer's series is: memory per
// distinct series is then this entry, its place in the index and its
// encoded labels, about 170 bytes for a series of 5 short labels (84 of
// them the key).
type entry struct {
	key   keyRef
	first int32 // the first writer that wrote it
	last  int32 // the last writer that wrote it
	coll  int32 // 1 + index into finder.colls; 0 while one writer
	next  int32 // 1 + index of the next entry with the same hash
}

// coll is one shared series: its entry and its writers, a set that many
// shared series have in common (two writers share all their series with
// the same pair): a list per series was a third of a large report's cost.
// entries holds the entries in blocks of entryBlock, never copied: one
// growing slice held the old and the new array at once while it grew, a
// peak of its own (issue 18's profile).
type entries struct {
	blocks [][]entry
	n      int
}

const entryBlock = 1 << 14

func (es *entries) at(i int32) *entry { return &es.blocks[i/entryBlock][i%entryBlock] }

func (es *entries) len() int { return es.n }

// push adds e and returns its index.
func (es *entries) push(e entry) int32 {
	if es.n%entryBlock == 0 {
		es.blocks = append(es.blocks, make([]entry, entryBlock))
	}
	es.blocks[es.n/entryBlock][es.n%entryBlock] = e
	es.n++
	return int32(es.n - 1)
}

type coll struct {
	entry int32
	set   int32 // index into finder.sets
}

type finder struct {
	writers []Writer         // each writer's summary fields; Series only while held
	held    bool             // the writers' series stay in memory (Find): an entry may refer to them
	counts  []int            // how many series each writer sends
	index   map[uint64]int32 // hash of the encoded label set -> 1 + index into entries
	entries entries
	keys    arena
	colls   []coll
	sets    [][]int32          // writer sets, each in input order, each writer once
	setOf   map[[2]int32]int32 // (set or -1, writer) -> the set with that writer added
	dups    map[[2]int32]int   // (writer, entry) -> times written, for series a writer repeats
	seed    maphash.Seed
	buf     []byte       // the label set being encoded, reused
	scratch []wire.Label // a sorted copy of an unsorted label set, reused
}

// Find returns the series that more than one writer would write, which
// writers, and the labels that would tell them apart. It reads writers and
// does not keep or modify them; the Report shares no memory with them.
func Find(writers []Writer) *Report {
	total := 0
	for _, w := range writers {
		total += len(w.Series)
	}
	f := newFinder(total)
	f.held = true
	for _, w := range writers {
		f.fold(w)
	}
	return f.report()
}

// report is the whole Report of what f found.
func (f *finder) report() *Report { return f.found().Report() }

func newFinder(total int) *finder {
	return &finder{
		index:   make(map[uint64]int32, total),
		entries: entries{blocks: make([][]entry, 0, total/entryBlock+1)},
		seed:    maphash.MakeSeed(),
	}
}

// fold adds one writer and its series.
func (f *finder) fold(w Writer) {
	n := int32(len(f.writers))
	f.counts = append(f.counts, len(w.Series))
	series := w.Series
	if !f.held {
		w.Series = nil
	}
	f.writers = append(f.writers, w)
	for i := range series {
		f.add(n, int32(i), series[i].Labels)
	}
}

// add records that writer w writes the series with labels ls, its i-th.
func (f *finder) add(w, i int32, ls []wire.Label) {
	var sorted bool
	f.buf, sorted = appendKey(f.buf[:0], ls)
	if !sorted {
		f.scratch = append(f.scratch[:0], ls...)
		slices.SortStableFunc(f.scratch, wire.CompareLabels)
		ls = f.scratch
		f.buf, _ = appendKey(f.buf[:0], ls)
	}
	// One call over the whole set: faster than maphash.Hash's per-string writes.
	h := maphash.Bytes(f.seed, f.buf)
	head := f.index[h]
	for n := head; n != 0; n = f.entries.at(n - 1).next {
		e := f.entries.at(n - 1)
		if !f.equal(e.key, ls) {
			continue // a 64-bit hash collision, not the same series
		}
		switch {
		case e.last == w:
			if f.dups == nil {
				f.dups = map[[2]int32]int{}
			}
			k := [2]int32{w, n - 1}
			if f.dups[k] == 0 {
				f.dups[k] = 1
			}
			f.dups[k]++
		case e.coll == 0:
			f.colls = append(f.colls, coll{entry: n - 1, set: f.extend(f.extend(-1, e.first), w)})
			e.coll = int32(len(f.colls))
		default:
			c := &f.colls[e.coll-1]
			c.set = f.extend(c.set, w)
		}
		e.last = w
		return
	}
	key := heldKey(w, i)
	if !f.held || !sorted {
		key = f.keys.put(f.buf)
	}
	f.index[h] = f.entries.push(entry{key: key, first: w, last: w, next: head}) + 1
}

// extend returns the writer set that is set (-1: the empty set) with w,
// which comes after every writer in it, added.
func (f *finder) extend(set, w int32) int32 {
	k := [2]int32{set, w}
	if s, ok := f.setOf[k]; ok {
		return s
	}
	var ws []int32
	if set >= 0 {
		ws = slices.Clip(f.sets[set])
	}
	f.sets = append(f.sets, append(ws, w))
	if f.setOf == nil {
		f.setOf = map[[2]int32]int32{}
	}
	s := int32(len(f.sets) - 1)
	f.setOf[k] = s
	return s
}

// equal says whether key holds the label set ls, encoded in f.buf.
func (f *finder) equal(key keyRef, ls []wire.Label) bool {
	if w, i, ok := key.held(); ok {
		return slices.Equal(f.writers[w].Series[i].Labels, ls)
	}
	return bytes.Equal(f.keys.get(key), f.buf)
}
