package workspace

import (
	"hash/maphash"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/rwkit/rwkit/wire"
)

// Writer is who sent a remote-write request: the values of the identity
// labels (service and instance by default) found on the request's series,
// its User-Agent and the remote address of its connection.
type Writer struct {
	Labels     map[string]string `json:"labels,omitempty"`
	UserAgent  string            `json:"user_agent,omitempty"`
	RemoteAddr string            `json:"remote_addr,omitempty"`
}

// String is the writer as the refusal bodies name it:
// (service="auth", instance="i-1", User-Agent rwkit/dev, 127.0.0.1:53422).
func (w Writer) String() string {
	var b strings.Builder
	b.WriteByte('(')
	names := make([]string, 0, len(w.Labels))
	for n := range w.Labels {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		b.WriteString(n)
		b.WriteString(`="`)
		b.WriteString(w.Labels[n])
		b.WriteString(`", `)
	}
	b.WriteString("User-Agent ")
	if w.UserAgent == "" {
		b.WriteString("(none)")
	} else {
		b.WriteString(w.UserAgent)
	}
	b.WriteString(", ")
	b.WriteString(w.RemoteAddr)
	b.WriteByte(')')
	return b.String()
}

// key identifies the writer in the writer table.
func (w Writer) key() string { return w.String() }

// requestWriter is the writer of one request. Identity labels are taken
// from the first series that carries any of them: the series that collide
// usually lack them (that is why they collide), but the same writer's other
// series often have them.
func requestWriter(series []wire.TimeSeries, identity []string, userAgent, remoteAddr string) Writer {
	w := Writer{UserAgent: userAgent, RemoteAddr: remoteAddr}
	if len(identity) == 0 {
		return w
	}
	for i := range series {
		if w.Labels = identityLabels(series[i].Labels, identity); w.Labels != nil {
			return w
		}
	}
	return w
}

// identityLabels are the non-empty identity labels of one series, nil when
// it has none. The names are identity's and the values cloned: the writer
// outlives the request, whose strings may be views of its buffer.
func identityLabels(ls []wire.Label, identity []string) map[string]string {
	var m map[string]string
	for _, l := range ls {
		k := slices.Index(identity, l.Name)
		if k < 0 || l.Value == "" {
			continue
		}
		if m == nil {
			m = make(map[string]string, len(identity))
		}
		m[identity[k]] = strings.Clone(l.Value)
	}
	return m
}

// writerTable interns writers to small ids so the series table stores 4
// bytes per writer reference. It is bounded: past max writers it forgets
// the ones no tracked series refers to (see tenant.pruneWriters).
type writerTable struct {
	ids     map[string]uint32
	writers map[uint32]Writer
	// seen is when each writer's request last had a tracked sample
	// accepted (unix ns), kept as writes arrive so that the page's writers
	// table (Workspace.Writers) reads it without walking the series.
	seen map[uint32]int64
	next uint32
}

func newWriterTable() *writerTable {
	return &writerTable{ids: map[string]uint32{}, writers: map[uint32]Writer{}, seen: map[uint32]int64{}, next: 1}
}

// saw records that writer id's request had tracked samples accepted at
// at (unix ns). The newest time is kept: the clock may step back.
func (t *writerTable) saw(id uint32, at int64) {
	if at > t.seen[id] {
		t.seen[id] = at
	}
}

// id returns w's id, adding w. Id 0 is never used: it means "no writer".
func (t *writerTable) id(w Writer) uint32 {
	k := w.key()
	if id, ok := t.ids[k]; ok {
		return id
	}
	id := t.next
	t.next++
	if t.next == 0 {
		t.next = 1
	}
	t.ids[k] = id
	t.writers[id] = w
	return id
}

func (t *writerTable) get(id uint32) (Writer, bool) {
	w, ok := t.writers[id]
	return w, ok
}

func (t *writerTable) len() int { return len(t.writers) }

// retain keeps only the writers keep reports as in use.
func (t *writerTable) retain(keep func(uint32) bool) {
	for id, w := range t.writers {
		if !keep(id) {
			delete(t.writers, id)
			delete(t.ids, w.key())
			delete(t.seen, id)
		}
	}
}

// lastWrite is what the workspace remembers of a series: who wrote its
// newest accepted sample, when, and the writer before that one (to see two
// writers taking turns). 48 bytes; with the map's key and overhead about
// 100 bytes per tracked series.
type lastWrite struct {
	writer, prevWriter uint32
	ts, prevTs         int64   // sample timestamps (ms)
	val, prevVal       float64 // sample values
	at                 int64   // wall clock of the write, unix ns
}

// seriesTable maps a series hash to its lastWrite, bounded to max entries
// with two generations: when the current map holds max/2 entries it becomes
// the previous one and the old previous is dropped. An entry used again is
// moved to the current map, so what is evicted is what was least recently
// written (approximately LRU, no per-entry list).
//
// curBy and prevBy count each map's entries by writer, kept as entries are
// put, moved and evicted, so that how many series a writer holds is known
// without walking the table (the page asks every few seconds).
type seriesTable struct {
	max           int
	cur, prev     map[uint64]lastWrite
	curBy, prevBy map[uint32]int
}

func newSeriesTable(max int) *seriesTable {
	return &seriesTable{max: max, cur: map[uint64]lastWrite{}, curBy: map[uint32]int{}}
}

func (t *seriesTable) get(h uint64) (lastWrite, bool) {
	if e, ok := t.cur[h]; ok {
		return e, true
	}
	e, ok := t.prev[h]
	return e, ok
}

func (t *seriesTable) put(h uint64, e lastWrite) {
	if t.max <= 0 {
		return
	}
	old, inCur := t.cur[h]
	if !inCur && len(t.cur) >= max(t.max/2, 1) {
		t.prev, t.cur = t.cur, make(map[uint64]lastWrite, len(t.cur))
		t.prevBy, t.curBy = t.curBy, make(map[uint32]int, len(t.curBy))
	}
	t.cur[h] = e
	switch {
	case inCur && old.writer == e.writer:
		return // the common case: a writer rewriting its series
	case inCur:
		uncount(t.curBy, old.writer)
	case t.prev != nil:
		// A series is in one map at most, so one found in cur is not in
		// prev (saves a cache miss per sample on a large table).
		if old, inPrev := t.prev[h]; inPrev {
			delete(t.prev, h)
			uncount(t.prevBy, old.writer)
		}
	}
	t.curBy[e.writer]++
}

// uncount takes one entry of writer id off by, forgetting writers with
// none so that by stays as small as the writers that hold series.
func uncount(by map[uint32]int, id uint32) {
	if by[id] <= 1 {
		delete(by, id)
		return
	}
	by[id]--
}

// held is the number of entries whose newest sample writer id wrote.
func (t *seriesTable) held(id uint32) int { return t.curBy[id] + t.prevBy[id] }

func (t *seriesTable) len() int { return len(t.cur) + len(t.prev) }

// each calls f for every entry.
func (t *seriesTable) each(f func(lastWrite)) {
	for _, e := range t.cur {
		f(e)
	}
	for _, e := range t.prev {
		f(e)
	}
}

// seriesHash hashes a sorted label set.
func seriesHash(seed maphash.Seed, ls []wire.Label) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	for _, l := range ls {
		h.WriteString(l.Name)
		h.WriteByte(0xff)
		h.WriteString(l.Value)
		h.WriteByte(0xff)
	}
	return h.Sum64()
}

// formatTime is how refusal bodies print wall-clock and sample times.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
