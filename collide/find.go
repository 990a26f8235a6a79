package collide

import (
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

// entry is one distinct series seen by Find.
type entry struct {
	writer, series int32 // where it was first seen
	last           int32 // the last writer that wrote it
	coll           int32 // 1 + index into finder.colls; 0 while one writer
	next           int32 // 1 + index of the next entry with the same hash
}

type coll struct {
	entry   int32
	writers []int32 // in input order, each once
}

type finder struct {
	writers []Writer
	sorted  map[[2]int32][]wire.Label // (writer, series) -> sorted copy, for label sets not sorted by name
	index   map[uint64]int32          // hash of the label set -> 1 + index into entries
	entries []entry
	colls   []coll
	dups    map[[2]int32]int // (writer, entry) -> times written, for series a writer repeats
	seed    maphash.Seed
	buf     []byte // the label set being hashed, reused
}

// Find returns the series that more than one writer would write, which
// writers, and the labels that would tell them apart. It reads writers and
// does not keep or modify them; the Report shares no memory with them except
// label strings.
func Find(writers []Writer) *Report {
	total := 0
	for _, w := range writers {
		total += len(w.Series)
	}
	f := newFinder(writers, total)
	for w := range writers {
		for i := range writers[w].Series {
			f.add(int32(w), int32(i))
		}
	}
	return f.report(total)
}

func newFinder(writers []Writer, total int) *finder {
	return &finder{
		writers: writers,
		index:   make(map[uint64]int32, total),
		entries: make([]entry, 0, total),
		seed:    maphash.MakeSeed(),
	}
}

func (f *finder) labels(w, i int32) []wire.Label {
	if f.sorted != nil {
		if ls, ok := f.sorted[[2]int32{w, i}]; ok {
			return ls
		}
	}
	return f.writers[w].Series[i].Labels
}

func (f *finder) add(w, i int32) {
	ls := f.writers[w].Series[i].Labels
	h, sorted := f.sum(ls)
	if !sorted {
		ls = slices.Clone(ls)
		slices.SortStableFunc(ls, wire.CompareLabels)
		if f.sorted == nil {
			f.sorted = map[[2]int32][]wire.Label{}
		}
		f.sorted[[2]int32{w, i}] = ls
		h, _ = f.sum(ls)
	}
	head := f.index[h]
	for n := head; n != 0; n = f.entries[n-1].next {
		e := &f.entries[n-1]
		if !slices.Equal(f.labels(e.writer, e.series), ls) {
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
			f.colls = append(f.colls, coll{entry: n - 1, writers: []int32{e.writer, w}})
			e.coll = int32(len(f.colls))
		default:
			c := &f.colls[e.coll-1]
			c.writers = append(c.writers, w)
		}
		e.last = w
		return
	}
	f.entries = append(f.entries, entry{writer: w, series: i, last: w, next: head})
	f.index[h] = int32(len(f.entries))
}

// sum hashes a label set and says whether it is sorted by name (checked
// here rather than in a pass of its own: this loop is the hot path).
func (f *finder) sum(ls []wire.Label) (h uint64, sorted bool) {
	sorted = true
	b := f.buf[:0]
	for i, l := range ls {
		if i > 0 && l.Name < ls[i-1].Name {
			sorted = false
		}
		// 0xff never occurs in UTF-8, so name/value boundaries are unambiguous.
		b = append(b, l.Name...)
		b = append(b, 0xff)
		b = append(b, l.Value...)
		b = append(b, 0xff)
	}
	f.buf = b
	// One call over the whole set: faster than maphash.Hash's per-string writes.
	return maphash.Bytes(f.seed, b), sorted
}

func hasLabel(ls []wire.Label, name string) bool {
	for _, l := range ls {
		if l.Name == name {
			return true
		}
	}
	return false
}
