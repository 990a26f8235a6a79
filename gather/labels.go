package gather

import (
	"fmt"
	"slices"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"

	"github.com/rwkit/rwkit/wire"
)

// setBase validates the labels of m and computes c.base: its labels with
// empty values dropped (an empty label is an absent label in Prometheus)
// merged with the extra labels, sorted by name. reserved is the label the
// family type generates ("le" or "quantile"), which a metric may not carry.
func (c *Converter) setBase(family string, m *dto.Metric, reserved string) error {
	c.own = c.own[:0]
	for _, lp := range m.GetLabel() {
		if lp == nil {
			continue
		}
		n, v := lp.GetName(), lp.GetValue()
		switch {
		case n == model.MetricNameLabel:
			return fmt.Errorf("gather: family %q series %s: a metric may not carry a %q label", family, metricString(family, m), n)
		case reserved != "" && n == reserved:
			return fmt.Errorf("gather: family %q series %s: label %q is generated for %s families and may not be set", family, metricString(family, m), n, typeName(reserved))
		case !c.scheme.IsValidLabelName(n):
			return fmt.Errorf("gather: family %q series %s: label name %q is invalid under %s name validation", family, metricString(family, m), n, c.scheme)
		case !model.LabelValue(v).IsValid():
			return fmt.Errorf("gather: family %q series %s: value of label %q is not valid UTF-8", family, metricString(family, m), n)
		case v == "":
			continue
		}
		c.own = append(c.own, wire.Label{Name: n, Value: v})
	}
	slices.SortFunc(c.own, wire.CompareLabels)
	for i := 1; i < len(c.own); i++ {
		if c.own[i].Name == c.own[i-1].Name {
			return fmt.Errorf("gather: family %q series %s: duplicate label name %q", family, metricString(family, m), c.own[i].Name)
		}
	}

	own, extra := c.own, c.extra
	c.conflicted = false
	c.base = c.base[:0]
	c.renames = c.renames[:0]
	i, j := 0, 0
	for i < len(own) || j < len(extra) {
		switch {
		case j == len(extra) || (i < len(own) && own[i].Name < extra[j].Name):
			c.base = append(c.base, own[i])
			i++
		case i == len(own) || extra[j].Name < own[i].Name:
			c.base = append(c.base, extra[j])
			j++
		default:
			if c.opts.ConflictPolicy == ConflictRename {
				c.renames = append(c.renames, own[i])
			} else {
				c.conflict(family, own[i], extra[j])
				c.conflicted = true
			}
			c.base = append(c.base, extra[j])
			i++
			j++
		}
	}
	if len(c.renames) == 0 {
		return nil
	}
	// As Prometheus's resolveConflictingExposedLabels: shortest names
	// first, prefix "exported_" until the name is free.
	slices.SortStableFunc(c.renames, func(a, b wire.Label) int { return len(a.Name) - len(b.Name) })
	for _, l := range c.renames {
		n := l.Name
		for {
			n = model.ExportedLabelPrefix + n
			if !hasLabel(c.base, n) {
				break
			}
		}
		c.base = append(c.base, wire.Label{Name: n, Value: l.Value})
	}
	slices.SortFunc(c.base, wire.CompareLabels)
	return nil
}

func typeName(reserved string) string {
	if reserved == model.QuantileLabel {
		return "summary"
	}
	return "histogram"
}

func hasLabel(ls []wire.Label, name string) bool {
	for _, l := range ls {
		if l.Name == name {
			return true
		}
	}
	return false
}

func (c *Converter) conflict(family string, own, extra wire.Label) {
	for i := len(c.conflicts) - 1; i >= 0 && c.conflicts[i].Family == family; i-- {
		if c.conflicts[i].Label == own.Name {
			c.conflicts[i].Count++
			return
		}
	}
	series := make([]wire.Label, 0, len(c.own)+1)
	series = append(series, wire.Label{Name: model.MetricNameLabel, Value: family})
	series = append(series, c.own...)
	slices.SortFunc(series, wire.CompareLabels)
	c.conflicts = append(c.conflicts, LabelConflict{
		Family: family, Series: series, Label: own.Name, Existing: own.Value, Extra: extra.Value, Count: 1,
	})
}

// series starts a series named name with c.base and, if lname is set, the
// generated label lname=lvalue. It refuses a series that this conversion
// already produced.
func (c *Converter) series(req *wire.WriteRequest, md *wire.Metadata, name, lname, lvalue string) (*wire.TimeSeries, error) {
	s := nextSeries(req)
	s.Metadata = *md
	c.report.Series++
	var h uint64
	if c.hitLabels != nil {
		if c.opts.ShareLabels {
			// The series shares the cache's labels (full slice: len == cap,
			// so that nextSeries never appends into the cache). The cache
			// changes them only in a later Append.
			s.Labels = c.hitLabels[:len(c.hitLabels):len(c.hitLabels)]
		} else {
			s.Labels = append(s.Labels, c.hitLabels...)
			if len(s.Labels) == cap(s.Labels) {
				s.Labels = slices.Grow(s.Labels, 1) // see below
			}
		}
		h = c.hitHash
		c.hitLabels = nil
	} else {
		s.Labels = append(s.Labels, c.base...)
		s.Labels = insertLabel(s.Labels, wire.Label{Name: model.MetricNameLabel, Value: name})
		if lname != "" {
			s.Labels = insertLabel(s.Labels, wire.Label{Name: lname, Value: lvalue})
		}
		if len(s.Labels) == cap(s.Labels) {
			// len == cap marks a slice shared with the cache (above), which
			// nextSeries does not reuse; keep this one reusable.
			s.Labels = slices.Grow(s.Labels, 1)
		}
		if c.conflicted {
			// The request is refused with a LabelConflictError; its series
			// would only report the same collision again as duplicates.
			c.record = nil
			c.fillSeen(len(c.curHashes))
			return s, nil
		}
		c.hash.Reset()
		for _, l := range s.Labels {
			c.hash.WriteString(l.Name)
			c.hash.WriteByte(0xff)
			c.hash.WriteString(l.Value)
			c.hash.WriteByte(0xff)
		}
		h = c.hash.Sum64()
		c.keep(s.Labels, h)
	}
	k := len(c.curHashes)
	c.curHashes = append(c.curHashes, h)
	if c.stream {
		// req holds one batch: StreamText's checking read finds repeats
		// among every series' hash.
		return s, nil
	}
	if c.lazy {
		// A prefix of a conversion without duplicates has none.
		if k < len(c.prevHashes) && c.prevHashes[k] == h {
			return s, nil
		}
		c.fillSeen(k)
	}
	idx := len(req.Series) - 1
	// A 64-bit hash collision between two different series only skips the
	// check for one of them; it never refuses a valid request.
	if prev, ok := c.seen[h]; ok && slices.Equal(req.Series[prev].Labels, s.Labels) {
		return nil, fmt.Errorf("gather: family %q series %s: %w: another metric of this conversion (family %q) produces it too",
			md.FamilyName, wire.SeriesString(s.Labels), ErrDuplicateSeries, req.Series[prev].Metadata.FamilyName)
	}
	c.seen[h] = idx
	return s, nil
}

// fillSeen ends the lazy duplicate check: the first n series hashed so
// far go into seen.
func (c *Converter) fillSeen(n int) {
	if !c.lazy {
		return
	}
	c.lazy = false
	for k, h := range c.curHashes[:n] {
		c.seen[h] = c.first + k
	}
}

// nextSeries appends a series to req, reusing the storage of a series left
// beyond len(req.Series) by an earlier conversion.
func nextSeries(req *wire.WriteRequest) *wire.TimeSeries {
	n := len(req.Series)
	if n < cap(req.Series) {
		req.Series = req.Series[:n+1]
		s := &req.Series[n]
		if len(s.Labels) == cap(s.Labels) {
			// Possibly a cache's labels (series marks them so): not ours
			// to append to.
			s.Labels = nil
		} else {
			s.Labels = s.Labels[:0]
		}
		s.Samples = s.Samples[:0]
		clear(s.Exemplars)
		s.Exemplars = s.Exemplars[:0]
		clear(s.Histograms)
		s.Histograms = s.Histograms[:0]
		s.Metadata = wire.Metadata{}
		return s
	}
	req.Series = append(req.Series, wire.TimeSeries{})
	return &req.Series[n]
}

// insertLabel inserts l into the sorted ls.
func insertLabel(ls []wire.Label, l wire.Label) []wire.Label {
	i, _ := slices.BinarySearchFunc(ls, l, wire.CompareLabels)
	return slices.Insert(ls, i, l)
}
