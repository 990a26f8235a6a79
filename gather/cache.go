package gather

import (
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"

	"github.com/rwkit/rwkit/wire"
)

// A registry exposes the same series push after push. famCache keeps,
// per family position and metric position, the finished labels (own
// labels merged with the extra labels and __name__, sorted) and their hash
// from the last conversion, so that an unchanged counter, gauge or untyped
// metric is not validated, sorted, merged and hashed again.
//
// Whether a metric is unchanged is decided in one of two ways:
//   - Its []*dto.LabelPair holds the very pointers it held last time. A
//     client_golang metric hands out the same label pairs on every Write
//     (a vector's child creates them once; concurrent Gathers share them),
//     so for a registry this is the common case, and it costs no read of
//     the pairs themselves: reading them is several dependent cache misses
//     per label, most of a conversion's time at 100k series. It relies on
//     a label pair not being changed after it was handed out, which every
//     Gatherer that can be gathered concurrently already guarantees.
//   - Otherwise its pairs are compared with the cached labels by name and
//     value (string comparisons that stop at equal pointers). A family
//     whose metrics match this way but with new pair pointers (a parsed
//     exposition, a wrapping Registerer, const metrics) stops keeping
//     pointers, so that the pairs of one Gather are not kept alive until
//     the next.
//
// Under Options.ShareLabels a hit's series shares the cached labels rather
// than copying them, and the cache is used (and changed) only by an Append
// into an empty request: a later Append into the same request would
// otherwise rewrite the labels of the series an earlier one made.
//
// Only metrics whose labels converted without error or conflict are kept,
// and only under ConflictError: then the cached labels minus __name__ and
// the extra labels are exactly the metric's non-empty label pairs, in name
// order, which is how client_golang exposes them. A metric exposed in
// another order, or with other labels, misses and is converted in full.
type famCache struct {
	name   string
	typ    dto.MetricType
	ends   []int32      // ends[j]: end of metric j's labels in labels
	hashes []uint64     // hashes[j]: hash of metric j's labels
	labels []wire.Label // every cached metric's labels, one after another

	// pairs[pairEnds[j-1]:pairEnds[j]] are metric j's label pairs as last
	// seen, while fresh is true; otherwise pairs and pairEnds are empty.
	pairs    []*dto.LabelPair
	pairEnds []int32
	fresh    bool
}

// cacheFamily returns the cache of the family at position fi, emptied
// when that position held another family, or nil when fam is not cached.
func (c *Converter) cacheFamily(fi int, fam *dto.MetricFamily) *famCache {
	switch fam.GetType() {
	case dto.MetricType_COUNTER, dto.MetricType_GAUGE, dto.MetricType_UNTYPED:
	default:
		return nil
	}
	if c.opts.ConflictPolicy != ConflictError || !c.caching {
		return nil
	}
	for len(c.fams) <= fi {
		c.fams = append(c.fams, &famCache{})
	}
	fc := c.fams[fi]
	if fc.name != fam.GetName() || fc.typ != fam.GetType() {
		fc.name, fc.typ = fam.GetName(), fam.GetType()
		fc.truncate(0)
		fc.fresh = true
	}
	return fc
}

func (fc *famCache) start(j int) int32 {
	if j == 0 {
		return 0
	}
	return fc.ends[j-1]
}

// truncate drops metric j and every later one.
func (fc *famCache) truncate(j int) {
	fc.labels = fc.labels[:fc.start(j)]
	fc.ends, fc.hashes = fc.ends[:j], fc.hashes[:j]
	if fc.fresh {
		p := int32(0)
		if j > 0 {
			p = fc.pairEnds[j-1]
		}
		clear(fc.pairs[p:])
		fc.pairs, fc.pairEnds = fc.pairs[:p], fc.pairEnds[:j]
	}
}

// samePairs reports whether metric j was last seen with exactly the label
// pair pointers in lps.
func (fc *famCache) samePairs(j int, lps []*dto.LabelPair) bool {
	if !fc.fresh {
		return false
	}
	p := int32(0)
	if j > 0 {
		p = fc.pairEnds[j-1]
	}
	kept := fc.pairs[p:fc.pairEnds[j]]
	if len(kept) != len(lps) {
		return false
	}
	for i, lp := range lps {
		if kept[i] != lp {
			return false
		}
	}
	return true
}

// stale stops keeping label pair pointers for the family: its metrics
// come with new pairs every time.
func (fc *famCache) stale() {
	clear(fc.pairs)
	fc.pairs, fc.pairEnds, fc.fresh = fc.pairs[:0], fc.pairEnds[:0], false
}

// lookup reports whether metric j of the family is cached with m's labels;
// on a hit c.hitLabels and c.hitHash are set. On a miss the cache is cut
// at j and, when j is next in line, c.record is set so that series keeps
// what it computes.
func (c *Converter) lookup(fc *famCache, j int, m *dto.Metric) bool {
	c.hitLabels, c.record, c.recordPairs = nil, nil, nil
	if fc == nil {
		return false
	}
	if j < len(fc.ends) {
		ls := fc.labels[fc.start(j):fc.ends[j]]
		if fc.samePairs(j, m.Label) {
			c.hitLabels, c.hitHash = ls, fc.hashes[j]
			return true
		}
		if c.sameLabels(ls, m) {
			if fc.fresh {
				fc.stale()
			}
			c.hitLabels, c.hitHash = ls, fc.hashes[j]
			return true
		}
		fc.truncate(j)
	}
	if j == len(fc.ends) {
		c.record, c.recordPairs = fc, m.Label
	}
	return false
}

// sameLabels reports whether ls are the labels that setBase and series
// make of m: ls minus __name__ and the extra labels are m's non-empty
// label pairs in order.
func (c *Converter) sameLabels(ls []wire.Label, m *dto.Metric) bool {
	extra := c.extra
	i := 0
	next := func() (wire.Label, bool) {
		for ; i < len(ls); i++ {
			l := ls[i]
			if l.Name == model.MetricNameLabel {
				continue
			}
			if len(extra) > 0 && l.Name == extra[0].Name {
				extra = extra[1:]
				continue
			}
			i++
			return l, true
		}
		return wire.Label{}, false
	}
	for _, lp := range m.GetLabel() {
		if lp == nil {
			continue
		}
		if lp.Value == nil || *lp.Value == "" {
			// Not in the cached labels, but its name must still be valid:
			// setBase checks it.
			return false
		}
		l, ok := next()
		if !ok || l.Name != lp.GetName() || l.Value != *lp.Value {
			return false
		}
	}
	_, more := next()
	return !more && len(extra) == 0
}

// keep stores the labels and hash series computed for the metric recorded
// by lookup.
func (c *Converter) keep(ls []wire.Label, h uint64) {
	fc := c.record
	c.record = nil
	if fc == nil {
		return
	}
	fc.labels = append(fc.labels, ls...)
	fc.ends = append(fc.ends, int32(len(fc.labels)))
	fc.hashes = append(fc.hashes, h)
	if fc.fresh {
		fc.pairs = append(fc.pairs, c.recordPairs...)
		fc.pairEnds = append(fc.pairEnds, int32(len(fc.pairs)))
	}
	c.recordPairs = nil
}
