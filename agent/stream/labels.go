package stream

import (
	"fmt"
	"slices"

	"github.com/cespare/xxhash/v2"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"

	"github.com/rwkit/rwkit/scrape"
	"github.com/rwkit/rwkit/wire"
)

// build makes the entry of a line text read for the first time: its
// labels as Prometheus' scrape loop makes them (the target's labels with
// honor_labels or exported_<name>, then metric_relabel_configs), checked
// as it checks them, then as rwkit's agent hands them to a remote_write
// (external labels where missing, write_relabel_configs), encoded once.
func (c *cache) build(l *Loop, s *scrape.TextSample, key []byte) (*entry, error) {
	c.sb.Reset()
	c.sb.Add(model.MetricNameLabel, s.Name)
	for _, lb := range s.Labels {
		c.sb.Add(lb.Name, lb.Value) // empty values too: honor_labels looks at them
	}
	switch s.Kind {
	case scrape.KindBucket:
		c.sb.Add(model.BucketLabel, labels.FormatOpenMetricsFloat(s.Bound))
	case scrape.KindQuantile:
		c.sb.Add(model.QuantileLabel, labels.FormatOpenMetricsFloat(s.Bound))
	}
	c.sb.Sort()
	lset := c.sb.Labels()
	c.targetLabels(l, lset)
	e := &entry{}
	if !relabel.ProcessBuilder(c.lb, l.cfg.MetricRelabelConfigs...) {
		e.text, e.klen, e.flags = c.txt.store(key), int32(len(key)), fDropped
		return e, nil
	}
	lset = c.lb.Labels()
	if lset.IsEmpty() {
		e.text, e.klen, e.flags = c.txt.store(key), int32(len(key)), fDropped
		return e, nil
	}
	if err := l.check(lset); err != nil {
		return nil, err
	}
	c.finish(l, e, key, lset)
	return e, nil
}

// targetLabels sets c.lb to lset with the target's labels, as Prometheus'
// mutateSampleLabels: with honor_labels the exposed value wins, else the
// target's, the exposed one kept as exported_<name> (exported_exported_...
// while taken).
func (c *cache) targetLabels(l *Loop, lset labels.Labels) {
	c.lb.Reset(lset)
	if l.cfg.HonorLabels {
		for _, t := range l.target {
			if !lset.Has(t.Name) {
				c.lb.Set(t.Name, t.Value)
			}
		}
		return
	}
	c.conflicts = c.conflicts[:0]
	for _, t := range l.target {
		if v := lset.Get(t.Name); v != "" {
			c.conflicts = append(c.conflicts, labels.Label{Name: t.Name, Value: v})
		}
		c.lb.Set(t.Name, t.Value)
	}
	slices.SortStableFunc(c.conflicts, func(a, b labels.Label) int { return len(a.Name) - len(b.Name) })
	for _, cl := range c.conflicts {
		name := cl.Name
		for {
			name = model.ExportedLabelPrefix + name
			if c.lb.Get(name) == "" {
				c.lb.Set(name, cl.Value)
				break
			}
		}
	}
}

// check refuses a series as Prometheus' scrape loop does, failing the
// scrape: no name, an invalid name, a label limit broken.
func (l *Loop) check(lset labels.Labels) error {
	name := lset.Get(model.MetricNameLabel)
	if name == "" {
		return fmt.Errorf("series %s has no metric name (__name__ label) after metric_relabel_configs", lset)
	}
	if !lset.IsValid(l.scheme) {
		return fmt.Errorf("invalid metric name or label names: %s", lset)
	}
	if lim := int(l.cfg.LabelLimit); lim > 0 && lset.Len() > lim {
		return fmt.Errorf("label_limit exceeded (metric: %.50s, number of labels: %d, limit: %d)", name, lset.Len(), lim)
	}
	var err error
	lset.Range(func(lb labels.Label) {
		if lim := int(l.cfg.LabelNameLengthLimit); err == nil && lim > 0 && len(lb.Name) > lim {
			err = fmt.Errorf("label_name_length_limit exceeded (metric: %.50s, label name: %.50s, length: %d, limit: %d)", name, lb.Name, len(lb.Name), lim)
		}
		if lim := int(l.cfg.LabelValueLengthLimit); err == nil && lim > 0 && len(lb.Value) > lim {
			err = fmt.Errorf("label_value_length_limit exceeded (metric: %.50s, label name: %.50s, value: %.50q, length: %d, limit: %d)", name, lb.Name, lb.Value, len(lb.Value), lim)
		}
	})
	return err
}

// finish gives e its text: the line text, then the label block of lset
// as written (external labels added where lset lacks them, then
// write_relabel_configs; nothing when they drop it) or the recipe that
// makes it from the line text. A series another line text made already
// shares that one's state, so that the head's rules apply to the series,
// not to each spelling of it.
func (c *cache) finish(l *Loop, e *entry, key []byte, lset labels.Labels) {
	e.klen = int32(len(key))
	c.text = append(c.text[:0], key...)
	c.appendBlockText(l, e, key, lset)
	e.text = c.txt.store(c.text)
}

// appendBlockText appends to c.text what finish says, after the line
// text.
func (c *cache) appendBlockText(l *Loop, e *entry, key []byte, lset labels.Labels) {
	c.lb.Reset(lset)
	for _, x := range l.external {
		if c.lb.Get(x.Name) == "" {
			c.lb.Set(x.Name, x.Value)
		}
	}
	if !relabel.ProcessBuilder(c.lb, l.writeRelabel...) {
		return
	}
	out := c.lb.Labels()
	if out.IsEmpty() {
		return
	}
	c.wl = c.wl[:0]
	out.Range(func(lb labels.Label) { c.wl = append(c.wl, wire.Label{Name: lb.Name, Value: lb.Value}) })
	c.blk = wire.AppendLabels(c.blk[:0], c.wl)
	h := xxhash.Sum64(c.blk)
	if o := c.blocks[h]; o != nil {
		if c.out = c.appendBlock(c.out[:0], o); string(c.out) == string(c.blk) {
			e.same = o.state()
			return
		}
	}
	if recipe, ok := c.derive(key); ok {
		c.text = append(c.text, recipe...)
		e.flags |= fDerived
	} else {
		c.text = append(c.text, c.blk...)
	}
	if c.blocks[h] == nil {
		c.blocks[h] = e
	}
}

// reportNames are the report series Prometheus' scrape loop writes after
// every scrape, in its order.
var reportNames = [...]string{
	"up",
	"scrape_duration_seconds",
	"scrape_samples_scraped",
	"scrape_samples_post_metric_relabeling",
	"scrape_series_added",
}

// reportLabels are a report series' labels, as Prometheus'
// mutateReportSampleLabels makes them: the target's labels.
func reportLabels(b *labels.Builder, name string, target []labels.Label) labels.Labels {
	lset := labels.FromStrings(model.MetricNameLabel, name)
	b.Reset(lset)
	for _, t := range target {
		b.Set(model.ExportedLabelPrefix+t.Name, lset.Get(t.Name))
		b.Set(t.Name, t.Value)
	}
	return b.Labels()
}

// report appends the report series at the scrape's time.
func (c *cache) reportSeries(l *Loop, st *scrapeState, seconds float64) {
	up := 1.0
	if st.err != nil {
		up = 0
	}
	vals := [len(reportNames)]float64{up, seconds, float64(st.total), float64(st.added), float64(st.seriesAdded)}
	for i, e := range c.report {
		// Refused when the exposition had the series at this timestamp:
		// Prometheus ignores that, as here.
		c.append(l, e.state(), st.defT, vals[i])
	}
}
