package stream

import (
	"encoding/binary"
	"math"

	"github.com/cespare/xxhash/v2"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/rwkit/rwkit/scrape"
	"github.com/rwkit/rwkit/wire"
)

// cache is a target's series, keyed by the text of their line (name and
// labels as written), as Prometheus' scrape cache is: a line read again
// reuses its series' encoded label block, and only a new line text is
// relabelled and encoded. Each series also keeps what Prometheus' head
// (and rwkit's agent storage) keeps to refuse a sample: its last
// timestamp and value written.
type cache struct {
	// raw finds an entry by the hash of its line text (the entry keeps
	// the text: a hash collision is a miss, never another series), blocks
	// the entry holding a series' state by the hash of its label block.
	raw    map[uint64]*entry
	blocks map[uint64]*entry
	// order holds the entries of the last scrape's lines in their order,
	// next this scrape's: line i is first compared with order[i], as an
	// exposition repeats itself, which reads memory in sequence rather
	// than probing the map at random.
	order, next []*entry

	iter uint32 // the scrape being appended; bumped by every commit
	ok   uint32 // the last scrape that succeeded: a line text read since is "cached" as Prometheus counts it

	// pend holds this scrape's samples in the order they were appended,
	// a series' latest at pend[its cur]; commit makes them the series'
	// last ones, and emit then encodes them into the Output's requests
	// and empties it: no encoded request of a whole scrape is held, only
	// these 24 bytes per sample.
	pend      []pending
	prev, cur []*entry // series tracked for staleness in the last scrape and in this one
	report    [len(reportNames)]*entry

	// Scratch space for a miss.
	key       []byte
	sb        labels.ScratchBuilder
	lb        *labels.Builder
	conflicts []labels.Label
	wl        []wire.Label
	blk       []byte
	text      []byte
	out       []byte // a label block made from its key (appendBlock)
	recipe    []byte // derive's
	field     []byte // derive's
	txt       texts  // where the entries' texts are
	// consts are the label fields (wire.AppendLabel) that a series' block
	// may take besides its key's: the target's labels and the external
	// labels.
	consts  [][]byte
	written int // samples for the Output (a series that write_relabel_configs drop is appended, not written)
	// undo holds the entries this scrape read that were not cached, with
	// their seen before: restart puts it back.
	undo []seenWas

	hist      []iterTime // recent scrapes' times, for eviction
	lastSweep int64
}

// entry is one line text of a target and, unless same is set, the series
// it makes.
type entry struct {
	// text is the line text (its key: see rawKey) followed, in one
	// allocation, by the series' RW 1.0 label block (none when
	// write_relabel_configs drop the series, or when same is set), or,
	// with fDerived, by the recipe that makes the block from the key (see
	// derive).
	text  string
	same  *entry // the entry holding the series' state, when another line text made the series first
	t     int64  // last sample written (fSent)
	bits  uint64
	seen  uint32 // scrape in which the line text was last read (and cached, as Prometheus caches it)
	iter  uint32 // scrape in which the series got a sample: pend[cur] holds it
	cur   int32
	track uint32 // scrape in which the series was tracked for staleness (in cache.cur)
	klen  int32  // the line text's length
	flags uint8
	tgen  uint8 // the texts' compaction that moved text last
}

const (
	fDropped uint8 = 1 << iota // metric_relabel_configs drop the line
	fSent                      // t and bits hold the last sample written
	fDerived                   // the label block is made from the key (appendBlock)
)

func (e *entry) key() string { return e.text[:e.klen] }

// written says the series has a label block: it is written.
func (e *entry) written() bool { return e.flags&fDerived != 0 || len(e.text) > int(e.klen) }

// state is the entry holding the series' state.
func (e *entry) state() *entry {
	if e.same != nil {
		return e.same
	}
	return e
}

type seenWas struct {
	e    *entry
	seen uint32
}

type pending struct {
	e    *entry
	t    int64
	bits uint64
}

type iterTime struct {
	iter uint32
	t    int64
}

// dormantFor is how long, in scrape time, a line text absent from the
// target's scrapes is remembered (rwkit's agent storage keeps a series as
// long): coming back within it, its series cannot resend an old timestamp.
const dormantFor = 10 * 60 * 1000 // ms

// sweepEvery is how often, in scrape time, forgotten entries are dropped.
const sweepEvery = 60 * 1000 // ms

func (c *cache) init(l *Loop) {
	c.raw, c.blocks = map[uint64]*entry{}, map[uint64]*entry{}
	c.iter, c.ok = 1, 1
	c.lb = labels.NewBuilder(labels.EmptyLabels())
	c.initConsts(l)
	for i, name := range reportNames {
		e := &entry{}
		c.finish(l, e, nil, reportLabels(c.lb, name, l.target))
		c.report[i] = e
	}
}

func (c *cache) len() int { return len(c.raw) }

// scrapeState counts one scrape.
type scrapeState struct {
	defT, maxT int64
	err        error
	readFailed bool // the body's read failed: nothing of it counts

	total, added, seriesAdded int
	limitCount                int
	limitExceeded             bool

	stale, dups, ooo, oob int
	repeats               int // a line text read twice (Prometheus' scrape loop refuses the second)
	bodyBytes             int64
	promParsed            bool // the body went through Prometheus' parser
}

// rawKey is the line text of s: its name and labels as written, and the
// bound that the parser took out of them. The name (as __name__) and the
// labels are written in their order as RW 1.0 label fields
// (wire.AppendLabel), so that the series' label block can often be made
// of pieces of the key (derive); keyEnd and the kind follow, then the
// bound. A label field starts with another byte than keyEnd, and each
// field is length-delimited: the key cannot be ambiguous.
func rawKey(dst []byte, s *scrape.TextSample) []byte {
	dst = appendKeyLabel(dst, model.MetricNameLabel, s.Name)
	for _, l := range s.Labels {
		dst = appendKeyLabel(dst, l.Name, l.Value)
	}
	dst = append(dst, keyEnd, byte(s.Kind))
	if s.Kind == scrape.KindBucket || s.Kind == scrape.KindQuantile {
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(s.Bound))
	}
	return dst
}

// appendKeyLabel is wire.AppendLabel, its common case (a name and a value
// short enough for one-byte lengths) written here, inline.
func appendKeyLabel(dst []byte, name, value string) []byte {
	n, v := len(name), len(value)
	if n == 0 || v == 0 || n+v+4 >= 0x80 {
		return wire.AppendLabel(dst, name, value)
	}
	dst = append(dst, 0x0a, byte(n+v+4), 0x0a, byte(n))
	dst = append(dst, name...)
	dst = append(dst, 0x12, byte(v))
	return append(dst, value...)
}

// keyEnd ends the label fields of a key.
const keyEnd = 0xff

// lookup finds the entry of a line text: the one at the same position in
// the last scrape, else by its hash. On a miss it returns the hash.
func (c *cache) lookup(key []byte) (*entry, uint64) {
	if pos := len(c.next); pos < len(c.order) {
		if e := c.order[pos]; e.key() == string(key) {
			return e, 0
		}
	}
	h := xxhash.Sum64(key)
	if e := c.raw[h]; e != nil && e.key() == string(key) {
		return e, h
	}
	return nil, h
}

// sample appends one parsed line, as Prometheus' scrape loop appends it
// to its storage.
func (c *cache) sample(l *Loop, s *scrape.TextSample, st *scrapeState) error {
	st.total++
	c.key = rawKey(c.key[:0], s)
	return c.sampleKey(l, s, c.key, st)
}

// sampleKey is sample with the line text's key made.
func (c *cache) sampleKey(l *Loop, s *scrape.TextSample, key []byte, st *scrapeState) error {
	t, hasTS := st.defT, s.HasTimestamp && l.cfg.HonorTimestamps
	if hasTS {
		t = s.Timestamp
	}
	e, h := c.lookup(key)
	cached := e != nil && e.seen >= c.ok
	if e == nil {
		var err error
		if e, err = c.build(l, s, key); err != nil {
			return err
		}
		if c.raw[h] == nil {
			c.raw[h] = e
		}
	}
	c.next = append(c.next, e)
	if !cached {
		c.undo = append(c.undo, seenWas{e, e.seen})
	}
	if e.flags&fDropped != 0 {
		e.seen = c.iter
		return nil
	}
	st.added++
	if cached && e.seen == c.iter && !hasTS {
		// The same line text twice: Prometheus' scrape loop refuses it
		// before its storage sees it.
		st.repeats++
		return nil
	}
	added := c.admit(l, e.state(), t, s.Value, st)
	if cached || added {
		e.seen = c.iter
	}
	if !added {
		return nil
	}
	if !cached && !st.limitExceeded && !st.knownSeries(c, e) {
		st.seriesAdded++
	}
	if !hasTS || l.cfg.TrackTimestampsStaleness {
		c.track(e.state())
	}
	return nil
}

// knownSeries: in a scrape that Prometheus' parser parsed, a line text
// new to the cache whose series a line text of the stream parser made
// and read lately. It is not new to Prometheus, whose cache never saw
// another parser's keys: the body that moved the target to Prometheus'
// parser does not count its series as added again.
func (st *scrapeState) knownSeries(c *cache, e *entry) bool {
	o := e.same
	return st.promParsed && o != nil && o.klen > 0 && o.text[0] != promKeyPrefix && o.seen >= c.ok
}

// admit applies sample_limit and the 10 minutes' bound on timestamps
// ahead, then appends.
func (c *cache) admit(l *Loop, s *entry, t int64, v float64, st *scrapeState) bool {
	if l.sampleLimit > 0 {
		if st.limitCount++; st.limitCount > l.sampleLimit {
			st.limitExceeded = true
			return false
		}
	}
	if t > st.maxT {
		st.oob++
		return false
	}
	ok, r := c.append(l, s, t, v)
	st.count(r)
	return ok
}

// append writes a sample of series s with the in-order rules of
// Prometheus' head, as rwkit's agent storage applies them: a second sample
// at one timestamp is refused (the first is kept; the same value again,
// across scrapes, is accepted and not written again), an older one too.
func (c *cache) append(l *Loop, s *entry, t int64, v float64) (bool, refusal) {
	bits := math.Float64bits(v)
	if s.iter == c.iter {
		p := &c.pend[s.cur]
		switch {
		case t == p.t:
			return false, refusedDuplicate
		case t < p.t:
			return false, refusedOutOfOrder
		}
	} else if s.flags&fSent != 0 {
		switch {
		case t < s.t:
			return false, refusedOutOfOrder
		case t == s.t && bits == s.bits:
			return true, 0
		case t == s.t:
			return false, refusedDuplicate
		}
	}
	s.iter, s.cur = c.iter, int32(len(c.pend))
	c.pend = append(c.pend, pending{e: s, t: t, bits: bits})
	if s.written() {
		c.written++
	}
	return true, 0
}

type refusal uint8

const (
	refusedDuplicate refusal = iota + 1
	refusedOutOfOrder
)

func (st *scrapeState) count(r refusal) {
	switch r {
	case refusedDuplicate:
		st.dups++
	case refusedOutOfOrder:
		st.ooo++
	}
}

func (c *cache) track(s *entry) {
	if s.track != c.iter {
		s.track = c.iter
		c.cur = append(c.cur, s)
	}
}

// staleMarkers writes a stale marker at the scrape's time for each series
// tracked in the last scrape and not in this one (all of them when this
// one failed).
func (c *cache) staleMarkers(l *Loop, st *scrapeState) {
	stale := math.Float64frombits(wire.StaleNaN)
	for _, e := range c.prev {
		if e.track != c.iter {
			// A refused marker is not counted, as in Prometheus.
			if ok, _ := c.append(l, e, st.defT, stale); ok {
				st.stale++
			}
		}
	}
}

// rollback forgets the samples a failed scrape appended; its stale
// markers and report follow, as Prometheus appends an empty body after a
// failed one. Like Prometheus, a body that failed to parse or broke a
// limit reports what was read before the failure, and the series read
// before it get no stale marker this time; a body that could not be read
// (Prometheus reads it whole before parsing) counts nothing and marks
// every series stale.
func (c *cache) rollback(st *scrapeState) {
	c.written = 0
	for _, p := range c.pend {
		p.e.iter = 0
	}
	clear(c.pend)
	c.pend = c.pend[:0]
	if st.readFailed {
		for _, e := range c.cur {
			e.track = 0
		}
		clear(c.cur)
		c.cur = c.cur[:0]
		st.total, st.added, st.seriesAdded = 0, 0, 0
	}
}

// restart undoes what a scrape appended so far, so that the scrape can
// read its body again from the start, with Prometheus' parser: the
// series, cache and counts are as before the scrape.
func (c *cache) restart(l *Loop, st *scrapeState) {
	st.readFailed = true
	c.rollback(st)
	for i := len(c.undo) - 1; i >= 0; i-- {
		c.undo[i].e.seen = c.undo[i].seen
	}
	clear(c.undo)
	c.undo = c.undo[:0]
	clear(c.next)
	c.next = c.next[:0]
	// The entries read so far keep seen at this scrape's number, which
	// is now the last one's: still cached, not read twice.
	c.iter++
	*st = scrapeState{defT: st.defT, maxT: st.maxT}
}

// commit makes this scrape's samples the series' last ones, and its
// tracked series the ones the next scrape's stale markers are for.
func (c *cache) commit(st *scrapeState) {
	c.commitPending()
	clear(c.undo)
	if c.undo = c.undo[:0]; cap(c.undo) > 4096 {
		c.undo = nil // a scrape of many new series: do not hold their count
	}
	clear(c.prev)
	c.prev, c.cur = c.cur, c.prev[:0]
	if len(c.next) > 0 {
		clear(c.order)
		c.order, c.next = c.next, c.order[:0]
	}
	if st.err == nil && st.bodyBytes > 0 {
		// Prometheus' cache forgets the line texts an empty body lacked
		// only after a body with some.
		c.ok = c.iter
	}
	c.hist = append(c.hist, iterTime{c.iter, st.defT})
	c.iter++
	c.sweep(st.defT)
}

// commitPending makes the samples appended the series' last ones (in
// the order appended: a series' latest last); pend keeps them for emit.
func (c *cache) commitPending() {
	for _, p := range c.pend {
		s := p.e
		s.t, s.bits, s.flags = p.t, p.bits, s.flags|fSent
	}
}

// emit encodes the committed samples, those of series that are written,
// into requests of at most l.writeSeries series each, in the order
// appended, and hands each to the Output; pend is empty after it.
func (c *cache) emit(l *Loop) error {
	defer func() {
		clear(c.pend)
		c.pend = c.pend[:0]
	}()
	n := 0
	l.body = l.body[:0]
	for _, p := range c.pend {
		if !p.e.written() {
			continue
		}
		l.body = c.appendSeries(l.body, p.e, &wire.Sample{Value: math.Float64frombits(p.bits), Timestamp: p.t})
		if n++; n == l.writeSeries {
			if err := l.out.Write(l.body, n); err != nil {
				return err
			}
			l.body, n = l.body[:0], 0
		}
	}
	if n == 0 {
		return nil
	}
	return l.out.Write(l.body, n)
}

// staleAll writes a stale marker at t, or just after the series' last
// sample, for each series the last scrape tracked and each report series,
// and stops tracking them.
func (c *cache) staleAll(l *Loop, t int64) {
	stale := math.Float64frombits(wire.StaleNaN)
	for _, e := range c.prev {
		// After the last sample even when the last scrape was stamped this
		// very millisecond: a second sample at its timestamp is a
		// duplicate a backend refuses.
		c.append(l, e, max(t, e.t+1), stale)
	}
	for _, r := range c.report {
		// The report series too, as rwkit's agent storage marks them.
		if e := r.state(); e.flags&fSent != 0 && e.bits != wire.StaleNaN {
			c.append(l, e, max(t, e.t+1), stale)
		}
	}
	c.commitPending()
	clear(c.prev)
	c.prev = c.prev[:0]
	c.iter++
}

// sweep drops, once a minute of scrape time, the line texts not read for
// dormantFor, so that a target whose series churn does not grow the cache
// forever.
func (c *cache) sweep(now int64) {
	if now-c.lastSweep < sweepEvery {
		return
	}
	c.lastSweep = now
	i := 0
	for i < len(c.hist) && c.hist[i].t < now-dormantFor {
		i++
	}
	if i == 0 {
		return
	}
	before := c.hist[i-1].iter + 1 // entries last read in a scrape before that are forgotten
	c.hist = append(c.hist[:0], c.hist[i:]...)
	for h, e := range c.raw {
		if e.seen >= before {
			continue
		}
		delete(c.raw, h)
		c.txt.drop(e.text)
		if e.same != nil || !e.written() {
			continue
		}
		c.out = c.appendBlock(c.out[:0], e)
		if bh := xxhash.Sum64(c.out); c.blocks[bh] == e {
			delete(c.blocks, bh)
		}
	}
	if c.txt.needsCompaction() {
		c.compact()
	}
}
