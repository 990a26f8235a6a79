package collide

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/rwkit/rwkit/wire"
)

// Found is a Report held in the compact form it is found in: each shared
// series as a reference to its encoded label set and to its writers (a set
// that many shared series have in common), about 20 bytes per shared series
// besides its encoded labels, where a Report's Collision with its labels
// decoded is about 250. Everything else of the Report is held as it is.
// Report materialises the whole Report; a caller that only prints it
// (rwkit collide) reads the collisions one at a time with Collision, or
// writes the Report's JSON with WriteJSON, without ever holding them all.
type Found struct {
	head   Report     // the Report but its Collisions
	keys   arena      // the encoded label sets
	shared []shared   // the shared series, sorted as Report.Collisions
	names  [][]string // the writers' names of each writer set
}

type shared struct {
	key keyRef // in Found.keys
	set int32  // index into Found.names
}

// FindSourcesCompact is FindSources returning what it found as a Found,
// for reports too large to hold as a whole: memory after it is the
// finder's encoded label sets and about 20 bytes per shared series.
func FindSourcesCompact(ctx context.Context, client *http.Client, sources []Source) (*Found, error) {
	f := newFinder(0)
	errs := make([]error, len(sources))
	for i, s := range sources {
		errs[i] = f.foldSource(ctx, client, s)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return f.found(), nil
}

// NumCollisions is how many series more than one writer would write:
// len(Report().Collisions).
func (fd *Found) NumCollisions() int { return len(fd.shared) }

// Collision is Report().Collisions[i], made anew at each call. Its Labels
// point into fd's memory, and its Writers is shared with every collision
// of the same writers: copy it before modifying it.
func (fd *Found) Collision(i int) Collision {
	s := fd.shared[i]
	ls := decodeKey(fd.keys.get(s.key))
	name, _ := wire.MetricName(ls)
	return Collision{Metric: name, Labels: ls, Writers: fd.names[s.set]}
}

// Summary is the Report without its Collisions (nil): every other field
// as Report has it. It shares memory with fd.
func (fd *Found) Summary() *Report {
	r := fd.head
	return &r
}

// Report is the whole Report, its Collisions made at this call (see
// Collision). It shares memory with fd and with other calls' Reports.
func (fd *Found) Report() *Report {
	r := fd.head
	r.Collisions = make([]Collision, len(fd.shared))
	for i := range fd.shared {
		r.Collisions[i] = fd.Collision(i)
	}
	return &r
}

// WriteJSON writes what json.MarshalIndent(fd.Report(), prefix, indent)
// returns, one collision at a time rather than the whole Report.
func (fd *Found) WriteJSON(w io.Writer, prefix, indent string) error {
	head := fd.head
	head.Collisions = []Collision{}
	b, err := json.MarshalIndent(&head, prefix, indent)
	if err != nil {
		return err
	}
	// The Report's own "collisions" key, at its depth: a label name in a
	// writer's labels is deeper, and a string's quotes are escaped.
	marker := []byte("\n" + prefix + indent + `"collisions": []`)
	at := bytes.Index(b, marker)
	if at < 0 {
		return errors.New("collide: no collisions in the report's JSON") // cannot happen: Report has the field
	}
	at += len(marker) - 1 // before the "]"
	if _, err := w.Write(b[:at]); err != nil {
		return err
	}
	inner := prefix + indent + indent
	for i := range fd.shared {
		c, err := json.MarshalIndent(fd.Collision(i), inner, indent)
		if err != nil {
			return err
		}
		sep := ",\n" + inner
		if i == 0 {
			sep = "\n" + inner
		}
		if _, err := io.WriteString(w, sep); err != nil {
			return err
		}
		if _, err := w.Write(c); err != nil {
			return err
		}
	}
	if len(fd.shared) > 0 {
		if _, err := io.WriteString(w, "\n"+prefix+indent); err != nil {
			return err
		}
	}
	_, err = w.Write(b[at:])
	return err
}

// found turns what f found into a Found, dropping f's index and entries
// first: only the shared series' and the duplicates' keys are kept.
func (f *finder) found() *Found {
	f.index = nil
	fd := &Found{shared: make([]shared, len(f.colls))}
	for i, c := range f.colls {
		fd.shared[i] = shared{key: f.arenaKey(c.entry), set: c.set}
	}
	dups := make([]dupRec, 0, len(f.dups))
	for k, count := range f.dups {
		dups = append(dups, dupRec{writer: k[0], key: f.arenaKey(k[1]), count: count})
	}
	distinct := f.entries.len()
	f.entries, f.colls, f.dups = entries{}, nil, nil
	for i := range f.writers {
		f.writers[i].Series = nil
	}
	fd.keys = f.keys
	slices.SortFunc(fd.shared, func(a, b shared) int { return compareKeys(fd.keys.str(a.key), fd.keys.str(b.key)) })
	fd.names = make([][]string, len(f.sets))
	for s, ws := range f.sets {
		fd.names[s] = make([]string, len(ws))
		for j, w := range ws {
			fd.names[s][j] = f.writers[w].Name
		}
	}
	f.head(fd, distinct)
	f.reportDuplicates(fd, dups)
	r := &fd.head
	switch {
	case len(fd.shared) > 0:
		r.Result = ResultCollisions
	case len(r.Duplicates) > 0:
		r.Result = ResultDuplicates
	default:
		r.Result = ResultNone
	}
	return fd
}

// arenaKey is entry e's key in f.keys, put there if the writer's series
// held it.
func (f *finder) arenaKey(e int32) keyRef {
	key := f.entries.at(e).key
	if w, i, ok := key.held(); ok {
		f.buf, _ = appendKey(f.buf[:0], f.writers[w].Series[i].Labels)
		return f.keys.put(f.buf)
	}
	return key
}

// head fills fd.head's counts, writers, ByMetric and suggestion from the
// sorted shared series.
func (f *finder) head(fd *Found, distinct int) {
	total := 0
	for _, n := range f.counts {
		total += n
	}
	r := &fd.head
	*r = Report{
		Writers:  make([]WriterSummary, len(f.writers)),
		Series:   total,
		Distinct: distinct,
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
	for _, s := range fd.shared {
		for _, w := range f.sets[s.set] {
			r.Writers[w].Colliding++
		}
		r.Excess += len(f.sets[s.set]) - 1
	}
	allNeed := f.reportByMetric(fd)
	r.Suggest = append(r.Suggest, allNeed.labels()...)
	r.Advice = advice(allNeed)
}

// reportByMetric fills the report's ByMetric from the sorted shared
// series, one row per metric with its writers and the labels that would
// separate them. It returns the labels needed across every metric.
func (f *finder) reportByMetric(fd *Found) need {
	var allNeed need
	needs := map[[2]int32]need{} // (writer set, has ServiceLabel) -> need
	for i := 0; i < len(fd.shared); {
		metric, _ := keyLabel(fd.keys.str(fd.shared[i].key), wire.MetricNameLabel)
		j := i
		var n need
		in := make([]bool, len(f.writers))
		for ; j < len(fd.shared); j++ {
			key := fd.keys.str(fd.shared[j].key)
			if m, _ := keyLabel(key, wire.MetricNameLabel); m != metric {
				break
			}
			set := fd.shared[j].set
			_, svc := keyLabel(key, ServiceLabel)
			k := [2]int32{set, 0}
			if svc {
				k[1] = 1
			}
			sn, ok := needs[k]
			if !ok {
				sn = f.need(svc, f.sets[set])
				needs[k] = sn
			}
			n.service = n.service || sn.service
			n.instance = n.instance || sn.instance
			for _, w := range f.sets[set] {
				in[w] = true
			}
		}
		m := Metric{Name: metric, Series: j - i, Suggest: n.labels()}
		for w, ok := range in {
			if ok {
				m.Writers = append(m.Writers, f.writers[w].Name)
			}
		}
		fd.head.ByMetric = append(fd.head.ByMetric, m)
		allNeed.service = allNeed.service || n.service
		allNeed.instance = allNeed.instance || n.instance
		i = j
	}
	return allNeed
}

// dupRec is a series one writer repeats, count times.
type dupRec struct {
	writer int32
	key    keyRef
	count  int
}

// reportDuplicates fills the report's Duplicates, series one writer
// exposes more than once, sorted by writer and series, and counts them in
// each writer's summary.
func (f *finder) reportDuplicates(fd *Found, dups []dupRec) {
	r := &fd.head
	for _, d := range dups {
		ls := decodeKey(fd.keys.get(d.key))
		name, _ := wire.MetricName(ls)
		r.Duplicates = append(r.Duplicates, Duplicate{Writer: f.writers[d.writer].Name, Metric: name, Labels: ls, Count: d.count})
		r.Writers[d.writer].Duplicates++
	}
	slices.SortFunc(r.Duplicates, func(a, b Duplicate) int {
		return cmp.Or(strings.Compare(a.Writer, b.Writer), compareSeries(a.Metric, a.Labels, b.Metric, b.Labels))
	})
}
