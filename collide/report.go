package collide

import (
	"cmp"
	"slices"
	"sort"
	"strings"

	"github.com/rwkit/rwkit/wire"
)

// Result sums up a Report: what rwkit collide's exit code says.
type Result string

const (
	// ResultNone: no writer shares a series with another or repeats one.
	ResultNone Result = "none"
	// ResultCollisions: some series would be written by more than one writer.
	ResultCollisions Result = "collisions"
	// ResultDuplicates: nothing is shared, but a writer repeats its own series.
	ResultDuplicates Result = "duplicates"
)

// Report is what Find found. Encoded as JSON it is what rwkit collide
// --output json prints.
type Report struct {
	// Result is ResultCollisions when anything collides, else
	// ResultDuplicates when a writer repeats a series, else ResultNone.
	Result Result `json:"result"`
	// Writers summarizes each writer, in input order.
	Writers []WriterSummary `json:"writers"`
	// Series is how many series the writers would send in all (the sum
	// over writers); Distinct is how many different series that is.
	Series   int `json:"series"`
	Distinct int `json:"distinct"`
	// Collisions are the series more than one writer would write, sorted
	// by metric name, then labels.
	Collisions []Collision `json:"collisions"`
	// ByMetric groups Collisions by metric name, sorted by name.
	ByMetric []Metric `json:"by_metric"`
	// Excess is how many samples of one push from every writer the backend
	// could refuse: for each colliding series, every writer but the first.
	Excess int `json:"excess_samples"`
	// Duplicates are series that one writer itself would send more than
	// once per request (what gather.ErrDuplicateSeries refuses).
	Duplicates []Duplicate `json:"duplicates"`
	// Suggest are the labels to add, a different value per writer, so that
	// no two writers share a series: ServiceLabel, InstanceLabel or both,
	// in that order. Empty when nothing collides.
	Suggest []string `json:"suggest"`
	// Advice explains Suggest in a sentence or two.
	Advice string `json:"advice,omitempty"`
}

// WriterSummary is one writer's part in the report.
type WriterSummary struct {
	Name    string `json:"name"`
	Service string `json:"service,omitempty"`
	// Source, Labels, Families and Note are the Writer's.
	Source   string `json:"source,omitempty"`
	Labels   Labels `json:"labels,omitempty"`
	Families int    `json:"families"`
	Note     string `json:"note,omitempty"`
	// Series is how many series the writer sends.
	Series int `json:"series"`
	// Colliding is how many of them another writer sends too.
	Colliding int `json:"colliding"`
	// Duplicates is how many of its series it sends more than once.
	Duplicates int `json:"duplicates"`
}

// Collision is one series that several writers would write.
type Collision struct {
	Metric string `json:"metric"`
	Labels Labels `json:"labels"`
	// Writers are the writers' names, in input order.
	Writers []string `json:"writers"`
}

// Metric is the collisions of one metric name.
type Metric struct {
	Name string `json:"name"`
	// Series is how many series of this metric collide.
	Series int `json:"series"`
	// Writers is every writer involved in one of them, in input order.
	Writers []string `json:"writers"`
	// Suggest is Report.Suggest for this metric's collisions alone.
	Suggest []string `json:"suggest"`
}

// Duplicate is a series one writer would send more than once.
type Duplicate struct {
	Writer string `json:"writer"`
	Metric string `json:"metric"`
	Labels Labels `json:"labels"`
	// Count is how many times the writer's series contain it (>= 2).
	Count int `json:"count"`
}

// need says which identity labels a set of collisions needs.
type need struct{ service, instance bool }

func (n need) labels() []string {
	var s []string
	if n.service {
		s = append(s, ServiceLabel)
	}
	if n.instance {
		s = append(s, InstanceLabel)
	}
	return s
}

func (f *finder) report() *Report {
	// The index only finds series; the report's labels are read from the
	// entries. Dropped now, it is not held while the report is built
	// (FindSources' peak).
	f.index = nil
	total := 0
	for _, n := range f.counts {
		total += n
	}
	r := &Report{
		Writers:  make([]WriterSummary, len(f.writers)),
		Series:   total,
		Distinct: len(f.entries),
		// Empty, not nil: JSON readers get [] rather than null.
		ByMetric:   []Metric{},
		Duplicates: []Duplicate{},
		Suggest:    []string{},
	}
	for i, w := range f.writers {
		r.Writers[i] = WriterSummary{
			Name: w.Name, Service: w.Service, Source: w.Source, Labels: slices.Clone(w.Labels), Families: w.Families, Note: w.Note,
			Series: f.counts[i],
		}
	}
	allNeed := f.reportByMetric(r, f.collisions(r))
	r.Suggest = append(r.Suggest, allNeed.labels()...)
	r.Advice = advice(allNeed)
	f.reportDuplicates(r)
	switch {
	case len(r.Collisions) > 0:
		r.Result = ResultCollisions
	case len(r.Duplicates) > 0:
		r.Result = ResultDuplicates
	default:
		r.Result = ResultNone
	}
	return r
}

// foundCollision is what building a Report needs of a shared series
// besides its Collision: its writers' indexes and the labels that would
// separate them. It is kept apart from the Collision (in a slice sorted
// with Report.Collisions) so that no series is held twice.
type foundCollision struct {
	writer []int32
	need   need
}

// byCollision sorts Report.Collisions and their foundCollisions together,
// by metric and labels.
type byCollision struct {
	c     []Collision
	found []foundCollision
}

func (b byCollision) Len() int { return len(b.c) }
func (b byCollision) Less(i, j int) bool {
	return compareSeries(b.c[i].Metric, b.c[i].Labels, b.c[j].Metric, b.c[j].Labels) < 0
}
func (b byCollision) Swap(i, j int) {
	b.c[i], b.c[j] = b.c[j], b.c[i]
	b.found[i], b.found[j] = b.found[j], b.found[i]
}

// collisions fills r.Collisions with the shared series, sorted by metric
// and labels, and returns what else is known of each; each writer's
// Colliding and the report's Excess count them.
func (f *finder) collisions(r *Report) []foundCollision {
	r.Collisions = make([]Collision, len(f.colls))
	all := make([]foundCollision, len(f.colls))
	for i, c := range f.colls {
		ls := f.labels(c.entry)
		names := make([]string, len(c.writers))
		for j, w := range c.writers {
			names[j] = f.writers[w].Name
			r.Writers[w].Colliding++
		}
		r.Excess += len(c.writers) - 1
		name, _ := wire.MetricName(ls)
		r.Collisions[i] = Collision{Metric: name, Labels: ls, Writers: names}
		all[i] = foundCollision{writer: c.writers, need: f.need(ls, c.writers)}
	}
	sort.Sort(byCollision{c: r.Collisions, found: all})
	return all
}

// reportByMetric fills the report's ByMetric from its sorted Collisions,
// one row per metric with its writers and the labels that would separate
// them. It returns the labels needed across every metric.
func (f *finder) reportByMetric(r *Report, all []foundCollision) need {
	var allNeed need
	for i := 0; i < len(all); {
		j := i
		var n need
		in := make([]bool, len(f.writers))
		for ; j < len(all) && r.Collisions[j].Metric == r.Collisions[i].Metric; j++ {
			n.service = n.service || all[j].need.service
			n.instance = n.instance || all[j].need.instance
			for _, w := range all[j].writer {
				in[w] = true
			}
		}
		m := Metric{Name: r.Collisions[i].Metric, Series: j - i, Suggest: n.labels()}
		for w, ok := range in {
			if ok {
				m.Writers = append(m.Writers, f.writers[w].Name)
			}
		}
		r.ByMetric = append(r.ByMetric, m)
		allNeed.service = allNeed.service || n.service
		allNeed.instance = allNeed.instance || n.instance
		i = j
	}
	return allNeed
}

// reportDuplicates fills the report's Duplicates, series one writer
// exposes more than once, sorted by writer and series, and counts them in
// each writer's summary.
func (f *finder) reportDuplicates(r *Report) {
	for k, count := range f.dups {
		ls := f.labels(k[1])
		name, _ := wire.MetricName(ls)
		r.Duplicates = append(r.Duplicates, Duplicate{Writer: f.writers[k[0]].Name, Metric: name, Labels: ls, Count: count})
		r.Writers[k[0]].Duplicates++
	}
	slices.SortFunc(r.Duplicates, func(a, b Duplicate) int {
		return cmp.Or(strings.Compare(a.Writer, b.Writer), compareSeries(a.Metric, a.Labels, b.Metric, b.Labels))
	})
}

// need decides which identity labels would separate the writers of one
// shared series with labels ls. Writers of different services need
// ServiceLabel; writers of one service (replicas) need InstanceLabel, as
// ServiceLabel alone would still be the same for all of them.
func (f *finder) need(ls []wire.Label, writers []int32) need {
	known := true
	for _, w := range writers {
		known = known && f.writers[w].Service != ""
	}
	if known {
		// Only now: a map per shared series was most of what building a
		// large report allocated.
		services := make(map[string]bool, len(writers))
		for _, w := range writers {
			services[f.writers[w].Service] = true
		}
		return need{service: len(services) > 1, instance: len(services) < len(writers)}
	}
	if hasLabel(ls, ServiceLabel) {
		// They already agree on a service: replicas of it.
		return need{instance: true}
	}
	// Different writer names and no service label: presumed different
	// services. Replicas among them would need instance as well; Advice says so.
	return need{service: true}
}

func advice(n need) string {
	switch {
	case n.service && n.instance:
		return `add "service" (writers of different services share these series) and "instance" (replicas of one service share them even with "service"), a different value per writer: rwkit agent adds both`
	case n.service:
		return `give every writer its own "service" label value (rwkit agent --service, or push --label service=NAME); with "service" alone, replicas of one service still collide: add "instance" too where a service runs more than one task`
	case n.instance:
		return `these writers are replicas of one service: give each its own "instance" label value (the task, pod or host; rwkit agent discovers it)`
	}
	return ""
}

// compareSeries orders series by metric name, then by their label sets.
func compareSeries(am string, a []wire.Label, bm string, b []wire.Label) int {
	if c := strings.Compare(am, bm); c != 0 {
		return c
	}
	return slices.CompareFunc(a, b, func(x, y wire.Label) int {
		return cmp.Or(strings.Compare(x.Name, y.Name), strings.Compare(x.Value, y.Value))
	})
}
