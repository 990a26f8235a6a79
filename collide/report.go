package collide

import (
	"cmp"
	"slices"
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
	// Writers are the writers' names, in input order. Collisions of the
	// same writers share one slice (at full capacity, so append copies):
	// copy it before changing a name in it.
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

// need decides which identity labels would separate the writers of one
// shared series (whose labels have ServiceLabel when hasService). Writers of different services need
// ServiceLabel; writers of one service (replicas) need InstanceLabel, as
// ServiceLabel alone would still be the same for all of them.
func (f *finder) need(hasService bool, writers []int32) need {
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
	if hasService {
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
