package agentdiff

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/rwkit/rwkit/wire"
)

// TargetLabel is the label every scripted target carries (set in
// static_configs): the logical name of the target, the same for both
// scrapers, by which samples are aligned to scrapes. Bodies never carry
// it, so honor_labels cannot take it away.
const TargetLabel = "target"

// maxDuration bounds a plausible scrape_duration_seconds: the scrape
// timeout with room for a loaded machine.
const maxDuration = 10

// normalNaN is the NaN Prometheus's parsers produce (model/value.NormalNaN).
const normalNaN = 0x7ff8000000000001

// Observation is what one scraper delivered, in a form that two scrapers
// running at different times can share: timestamps are replaced by the
// index of the scrape they belong to.
type Observation struct {
	// Series maps every label set received to its points.
	Series map[string]Points
	// Metadata maps each family to the distinct metadata entries received.
	Metadata map[string][]string
	// Problems are what is wrong whatever the other scraper did: a
	// series' timestamps going back in arrival order, samples without a
	// target label, bodies the receiver could not read. Timestamps in
	// them are relative to the base, as in Points.Explicit.
	Problems []string
}

// Points are one series' values.
type Points struct {
	// ByScrape holds, for scrape i (from 1) at index i-1, the values
	// appended at that scrape's timestamp, in arrival order and joined by
	// ","; "" when there are none. "stale" is a staleness marker.
	ByScrape []string
	// Explicit holds samples at timestamps of no scrape of their target
	// (a body's own timestamps under honor_timestamps: true), in arrival
	// order, as "@+<ms after base>=<value>".
	Explicit []string
}

// Observe aligns what a receiver got to the scrapes of each target: a
// target's scrape timestamps are those of its up series (a scrape appends
// every sample, up included, at one timestamp), and scrape i's values fill
// ByScrape[i-1]. Scrapes after the first `scrapes` are left out, so that two
// scrapers stopped at different moments compare the same scrapes. base is
// the ms origin of explicit timestamps.
//
// scrape_duration_seconds is timing: its values become "d" when they lie in
// (0, 10s), so that only a missing or absurd duration differs.
func Observe(samples []Sample, metadata map[string][]string, receiverErrors []string, scrapes int, base int64) Observation {
	o := Observation{Series: map[string]Points{}, Metadata: map[string][]string{}}
	for fam, md := range metadata {
		o.Metadata[fam] = slices.Clone(md)
	}
	for _, e := range receiverErrors {
		o.Problems = append(o.Problems, "receiver refused a request: "+e)
	}

	// Scrape timestamps per target, from up in arrival order.
	scrapeTS := map[string][]int64{}
	for _, s := range samples {
		if s.Exemplar || labelValue(s.Labels, "__name__") != "up" {
			continue
		}
		tg := labelValue(s.Labels, TargetLabel)
		scrapeTS[tg] = append(scrapeTS[tg], s.Timestamp)
	}
	index := map[string]map[int64]int{}
	for tg, ts := range scrapeTS {
		m := map[int64]int{}
		for i, t := range ts {
			if _, dup := m[t]; dup {
				continue // reported below as a timestamp that did not increase
			}
			m[t] = i + 1
		}
		index[tg] = m
	}

	last := map[string]int64{}
	noTarget := map[string]bool{}
	badLabels := map[string]bool{}
	for _, s := range samples {
		if msg := checkLabels(s.Labels); msg != "" && !badLabels[s.Key] {
			badLabels[s.Key] = true
			o.Problems = append(o.Problems, s.Key+": "+msg)
		}
		if prev, ok := last[s.Key]; ok && s.Timestamp < prev {
			o.Problems = append(o.Problems, fmt.Sprintf("%s: timestamp went back from @%+dms to @%+dms in arrival order", s.Key, prev-base, s.Timestamp-base))
		} else if ok && s.Timestamp == prev && !s.Exemplar && labelValue(s.Labels, "__name__") == "up" {
			o.Problems = append(o.Problems, fmt.Sprintf("%s: two samples at timestamp @%+dms", s.Key, s.Timestamp-base))
		}
		last[s.Key] = s.Timestamp
		tg, ok := labelLookup(s.Labels, TargetLabel)
		if !ok {
			if !noTarget[s.Key] {
				noTarget[s.Key] = true
				o.Problems = append(o.Problems, fmt.Sprintf("%s: no %s label: not from a scripted target", s.Key, TargetLabel))
			}
			continue
		}
		v := formatValue(s)
		if !s.Exemplar && labelValue(s.Labels, "__name__") == "scrape_duration_seconds" && s.Value > 0 && s.Value < maxDuration {
			v = "d"
		}
		p := o.Series[s.Key]
		if p.ByScrape == nil {
			p.ByScrape = make([]string, scrapes)
		}
		if i, ok := index[tg][s.Timestamp]; ok {
			if i <= scrapes {
				if p.ByScrape[i-1] != "" {
					v = p.ByScrape[i-1] + "," + v
				}
				p.ByScrape[i-1] = v
			}
		} else {
			p.Explicit = append(p.Explicit, fmt.Sprintf("@%+dms=%s", s.Timestamp-base, v))
		}
		o.Series[s.Key] = p
	}
	// A series seen only after the compared scrapes is not part of them.
	for k, p := range o.Series {
		if len(p.Explicit) == 0 && !slices.ContainsFunc(p.ByScrape, func(v string) bool { return v != "" }) {
			delete(o.Series, k)
		}
	}
	sort.Strings(o.Problems)
	return o
}

// checkLabels returns what breaks the remote-write spec's rules for a
// series' labels ("Label names MUST be sorted", no repeated names, no empty
// values, a __name__), or "".
// https://prometheus.io/docs/specs/prw/remote_write_spec/#labels
func checkLabels(ls []wire.Label) string {
	if _, ok := labelLookup(ls, "__name__"); !ok {
		return "no __name__ label"
	}
	for i, l := range ls {
		if l.Value == "" {
			return fmt.Sprintf("label %s has an empty value", l.Name)
		}
		if i > 0 && ls[i-1].Name >= l.Name {
			return fmt.Sprintf("labels not sorted by name, or repeated: %s after %s", l.Name, ls[i-1].Name)
		}
	}
	return ""
}

// formatValue renders a sample so that equal renderings mean equal bits:
// the staleness marker and other NaNs are told apart.
func formatValue(s Sample) string {
	if h := s.Histogram; h != nil {
		return fmt.Sprintf("hist{count=%d/%g sum=%g schema=%d zero=%d/%g pos=%v%v%v neg=%v%v%v}",
			h.CountInt, h.CountFloat, h.Sum, h.Schema, h.ZeroCountInt, h.ZeroCountFloat,
			h.PositiveSpans, h.PositiveDeltas, h.PositiveCounts, h.NegativeSpans, h.NegativeDeltas, h.NegativeCounts)
	}
	bits := math.Float64bits(s.Value)
	switch {
	case bits == wire.StaleNaN:
		return "stale"
	case bits == normalNaN:
		return "NaN"
	case math.IsNaN(s.Value):
		return fmt.Sprintf("NaN(%#x)", bits)
	}
	return strconv.FormatFloat(s.Value, 'g', -1, 64)
}

// SeriesKey renders labels as name{a="b",...} with the other labels sorted
// by name.
func SeriesKey(labels []wire.Label) string {
	ls := slices.Clone(labels)
	sort.SliceStable(ls, func(i, j int) bool { return ls[i].Name < ls[j].Name })
	return wire.SeriesString(ls)
}

func labelLookup(ls []wire.Label, name string) (string, bool) {
	for _, l := range ls {
		if l.Name == name {
			return l.Value, true
		}
	}
	return "", false
}

func labelValue(ls []wire.Label, name string) string {
	v, _ := labelLookup(ls, name)
	return v
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// familySuffixes are the endings by which a series name belongs to a
// metric family other than its own name (OpenMetrics 1.0, "Metric types").
var familySuffixes = []string{"_total", "_created", "_bucket", "_sum", "_count", "_gsum", "_gcount", "_info"}

// SeriesMetadata expands o's family metadata (RW 1.0 sends one entry per
// family) to the metric names of o's series, the way RW 2.0 carries it on
// each series: a name takes the entries of the family of that name, else
// of the family it makes with a suffix removed (c_total -> c). Names of no
// family take none.
func SeriesMetadata(o Observation) map[string][]string {
	out := map[string][]string{}
	for key := range o.Series {
		name, _, _ := strings.Cut(key, "{")
		md, ok := o.Metadata[name]
		for _, suf := range familySuffixes {
			if ok {
				break
			}
			if base, cut := strings.CutSuffix(name, suf); cut {
				md, ok = o.Metadata[base]
			}
		}
		if ok {
			out[name] = slices.Clone(md)
		}
	}
	return out
}
