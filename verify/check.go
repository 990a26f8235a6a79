package verify

import (
	"fmt"
	"sort"
	"strings"
)

// Expectation is one thing a query result must show. Build one with
// ExpectSeries, ExpectMin, ExpectLabel or ExpectDistinct.
type Expectation interface {
	// String names the expectation as Outcome.Expectation does, e.g.
	// "distinct service = 6".
	String() string
	check(r *Result) Outcome
}

// Outcome is whether one expectation held, and what was found.
type Outcome struct {
	Expectation string `json:"expectation"`
	Pass        bool   `json:"pass"`
	// Got is what the result showed, e.g. "5 series" or
	// "5 values: actor, audit, auth, bff, document".
	Got string `json:"got"`
}

// maxListed bounds the values and series an outcome lists.
const maxListed = 10

// Check compares r with each expectation, in order. A nil r counts as an
// empty result.
func Check(r *Result, exps []Expectation) []Outcome {
	if r == nil {
		r = &Result{}
	}
	out := make([]Outcome, 0, len(exps))
	for _, e := range exps {
		o := e.check(r)
		o.Expectation = e.String()
		out = append(out, o)
	}
	return out
}

// Passed reports whether every outcome passed.
func Passed(outcomes []Outcome) bool {
	for _, o := range outcomes {
		if !o.Pass {
			return false
		}
	}
	return true
}

type seriesCount struct{ n int }

// ExpectSeries expects exactly n series (n = 0: the query returns nothing,
// e.g. a failure counter that never moved).
func ExpectSeries(n int) Expectation { return seriesCount{n} }

func (e seriesCount) String() string { return fmt.Sprintf("series = %d", e.n) }

func (e seriesCount) check(r *Result) Outcome {
	return Outcome{Pass: len(r.Samples) == e.n, Got: plural(len(r.Samples), "series", "series")}
}

type seriesMin struct{ n int }

// ExpectMin expects at least n series.
func ExpectMin(n int) Expectation { return seriesMin{n} }

func (e seriesMin) String() string { return fmt.Sprintf("series >= %d", e.n) }

func (e seriesMin) check(r *Result) Outcome {
	return Outcome{Pass: len(r.Samples) >= e.n, Got: plural(len(r.Samples), "series", "series")}
}

type hasLabel struct{ name string }

// ExpectLabel expects every series to carry label name with a non-empty
// value. An empty result passes: combine it with ExpectMin to require data.
func ExpectLabel(name string) Expectation { return hasLabel{name} }

func (e hasLabel) String() string { return fmt.Sprintf("every series has %s", e.name) }

func (e hasLabel) check(r *Result) Outcome {
	var missing []string
	for _, s := range r.Samples {
		if s.Labels[e.name] == "" {
			missing = append(missing, LabelString(s.Labels))
		}
	}
	if len(missing) == 0 {
		return Outcome{Pass: true, Got: fmt.Sprintf("%s, all with %s", plural(len(r.Samples), "series", "series"), e.name)}
	}
	return Outcome{Got: fmt.Sprintf("%d of %s without %s: %s", len(missing), plural(len(r.Samples), "series", "series"), e.name, list(missing))}
}

type distinct struct {
	label string
	n     int
}

// ExpectDistinct expects exactly n distinct non-empty values of label
// across the result, e.g. ExpectDistinct("service", 6) for six writers.
func ExpectDistinct(label string, n int) Expectation { return distinct{label, n} }

func (e distinct) String() string { return fmt.Sprintf("distinct %s = %d", e.label, e.n) }

func (e distinct) check(r *Result) Outcome {
	seen := map[string]bool{}
	for _, s := range r.Samples {
		if v := s.Labels[e.label]; v != "" {
			seen[v] = true
		}
	}
	values := make([]string, 0, len(seen))
	for v := range seen {
		values = append(values, v)
	}
	sort.Strings(values)
	got := plural(len(values), "value", "values")
	if len(values) > 0 {
		got += ": " + list(values)
	}
	return Outcome{Pass: len(values) == e.n, Got: got}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func list(items []string) string {
	if len(items) <= maxListed {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:maxListed], ", ") + fmt.Sprintf(", ... (%d more)", len(items)-maxListed)
}
