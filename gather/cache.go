package gather

import (
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"

	"github.com/rwkit/rwkit/wire"
)

// A registry exposes the same series push after push. seriesCache keeps,
// per family position and metric position, the finished labels (own
// labels merged with the extra labels and __name__, sorted) and their hash
// from the last conversion, so that an unchanged counter, gauge or untyped
// metric is not validated, sorted, merged and hashed again: only its label
// pairs are compared with the cached labels (string comparisons that stop
// at equal pointers, as a Gatherer hands out the same strings every time).
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
}

// cacheFamily returns the cache of the family at position fi, emptied
// when that position held another family, or nil when fam is not cached.
func (c *Converter) cacheFamily(fi int, fam *dto.MetricFamily) *famCache {
	switch fam.GetType() {
	case dto.MetricType_COUNTER, dto.MetricType_GAUGE, dto.MetricType_UNTYPED:
	default:
		return nil
	}
	if c.opts.ConflictPolicy != ConflictError {
		return nil
	}
	for len(c.fams) <= fi {
		c.fams = append(c.fams, &famCache{})
	}
	fc := c.fams[fi]
	if fc.name != fam.GetName() || fc.typ != fam.GetType() {
		fc.name, fc.typ = fam.GetName(), fam.GetType()
		fc.truncate(0)
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
}

// lookup reports whether metric j of the family is cached with m's labels;
// on a hit c.hitLabels and c.hitHash are set. On a miss the cache is cut
// at j and, when j is next in line, c.record is set so that series keeps
// what it computes.
func (c *Converter) lookup(fc *famCache, j int, m *dto.Metric) bool {
	c.hitLabels, c.record = nil, nil
	if fc == nil {
		return false
	}
	if j < len(fc.ends) {
		ls := fc.labels[fc.start(j):fc.ends[j]]
		if c.sameLabels(ls, m) {
			c.hitLabels, c.hitHash = ls, fc.hashes[j]
			return true
		}
		fc.truncate(j)
	}
	if j == len(fc.ends) {
		c.record = fc
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
		if lp == nil || lp.Value == nil || *lp.Value == "" {
			continue
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
}
