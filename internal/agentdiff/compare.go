package agentdiff

import (
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/google/go-cmp/cmp"
)

// Known is a known difference between a reference scraper (Prometheus)
// and the one under test: Patch turns the reference's observation into the
// one expected from the other. Every known difference must show: when the
// scraper under test agrees with the reference without it, Compare fails
// so that it is removed.
type Known struct {
	// Why, in one line: which behaviour of which version.
	Why string
	// Patch edits the reference observation (see Rename, SetScrapes,
	// Delete, SetMetadata); it fails when what it edits is not there.
	Patch func(o *Observation) error
}

// Compare checks that got (the scraper under test) equals want (the
// reference) with the known differences applied. It returns "" when they
// agree, else a report for people: each failure, then the differing series
// side by side.
func Compare(want, got Observation, wantName, gotName string, known []Known) string {
	var report strings.Builder
	patched := want.Clone()
	for _, k := range known {
		if err := k.Patch(&patched); err != nil {
			fmt.Fprintf(&report, "known difference %q does not apply to %s's observation: %v\n", k.Why, wantName, err)
		}
	}
	if report.Len() > 0 {
		return report.String()
	}
	for i, k := range known {
		others := want.Clone()
		for j, o := range known {
			if j != i {
				_ = o.Patch(&others)
			}
		}
		if cmp.Equal(others, got) {
			fmt.Fprintf(&report, "known difference %q did not show: %s now agrees with %s there; remove it from the table\n", k.Why, gotName, wantName)
		}
	}
	if !cmp.Equal(patched, got) {
		if len(known) > 0 {
			fmt.Fprintf(&report, "%s differs from %s with the %d known differences applied:\n", gotName, wantName, len(known))
		} else {
			fmt.Fprintf(&report, "%s differs from %s:\n", gotName, wantName)
		}
		report.WriteString(SideBySide(patched, got, wantName, gotName))
		if len(known) > 0 {
			fmt.Fprintf(&report, "\nwithout the known differences:\n%s", SideBySide(want, got, wantName, gotName))
		}
	}
	return report.String()
}

// SideBySide renders the series, metadata and problems on which a and b
// differ, a series' scrapes in aligned columns.
func SideBySide(a, b Observation, aName, bName string) string {
	var out strings.Builder
	tw := tabwriter.NewWriter(&out, 0, 0, 1, ' ', 0)
	keys := unionKeys(a.Series, b.Series)
	n := 0
	for _, k := range keys {
		pa, ina := a.Series[k]
		pb, inb := b.Series[k]
		if ina && inb && cmp.Equal(pa, pb) {
			continue
		}
		n++
		fmt.Fprintf(tw, "%s\n", k)
		width := max(len(pa.ByScrape), len(pb.ByScrape))
		head := []string{""}
		for i := 1; i <= width; i++ {
			head = append(head, fmt.Sprintf("#%d", i))
		}
		fmt.Fprintf(tw, "  %s\t\n", strings.Join(head, "\t"))
		for _, row := range []struct {
			name string
			p    Points
			in   bool
		}{{aName, pa, ina}, {bName, pb, inb}} {
			if !row.in {
				fmt.Fprintf(tw, "  %s:\t(no such series)\t\n", row.name)
				continue
			}
			cells := []string{row.name + ":"}
			for i := 0; i < width; i++ {
				v := "-"
				if i < len(row.p.ByScrape) && row.p.ByScrape[i] != "" {
					v = row.p.ByScrape[i]
				}
				cells = append(cells, v)
			}
			if len(row.p.Explicit) > 0 {
				cells = append(cells, "explicit: "+strings.Join(row.p.Explicit, " "))
			}
			fmt.Fprintf(tw, "  %s\t\n", strings.Join(cells, "\t"))
		}
	}
	_ = tw.Flush()
	for _, fam := range unionKeys(a.Metadata, b.Metadata) {
		ma, mb := a.Metadata[fam], b.Metadata[fam]
		if slices.Equal(ma, mb) {
			continue
		}
		n++
		fmt.Fprintf(&out, "metadata %s\n  %s: %s\n  %s: %s\n", fam, aName, orNone(ma), bName, orNone(mb))
	}
	if !slices.Equal(a.Problems, b.Problems) {
		n++
		fmt.Fprintf(&out, "problems\n  %s: %s\n  %s: %s\n", aName, orNone(a.Problems), bName, orNone(b.Problems))
	}
	if n == 0 {
		return "(no difference)\n"
	}
	return out.String()
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	return strings.Join(s, "; ")
}

func unionKeys[V any](a, b map[string]V) []string {
	set := map[string]bool{}
	for k := range a {
		set[k] = true
	}
	for k := range b {
		set[k] = true
	}
	return sortedKeys(set)
}

// Clone returns a deep copy.
func (o Observation) Clone() Observation {
	c := Observation{Series: make(map[string]Points, len(o.Series)), Metadata: make(map[string][]string, len(o.Metadata)), Problems: slices.Clone(o.Problems)}
	for k, p := range o.Series {
		c.Series[k] = Points{ByScrape: slices.Clone(p.ByScrape), Explicit: slices.Clone(p.Explicit)}
	}
	for k, m := range o.Metadata {
		c.Metadata[k] = slices.Clone(m)
	}
	return c
}

// Patches for Known differences. Each fails when the series or family it
// edits is missing, so that a difference cannot silently stop applying.

// Rename moves series from to key to.
func Rename(from, to string) func(*Observation) error {
	return func(o *Observation) error {
		p, ok := o.Series[from]
		if !ok {
			return fmt.Errorf("rename: no series %s", from)
		}
		if _, ok := o.Series[to]; ok {
			return fmt.Errorf("rename: series %s exists", to)
		}
		delete(o.Series, from)
		o.Series[to] = p
		return nil
	}
}

// Delete removes a series.
func Delete(key string) func(*Observation) error {
	return func(o *Observation) error {
		if _, ok := o.Series[key]; !ok {
			return fmt.Errorf("delete: no series %s", key)
		}
		delete(o.Series, key)
		return nil
	}
}

// SetScrapes sets the values of a series at scrapes from, from+1, ...
// (from 1) to vs; "" is no value. The series is created if missing.
func SetScrapes(key string, from int, vs ...string) func(*Observation) error {
	return func(o *Observation) error {
		p := o.Series[key]
		n := len(p.ByScrape)
		if n == 0 {
			for _, q := range o.Series {
				n = len(q.ByScrape)
				break
			}
			p.ByScrape = make([]string, n)
		}
		if from < 1 || from-1+len(vs) > n {
			return fmt.Errorf("set: scrapes %d..%d outside 1..%d", from, from-1+len(vs), n)
		}
		p.ByScrape = slices.Clone(p.ByScrape)
		copy(p.ByScrape[from-1:], vs)
		o.Series[key] = p
		return nil
	}
}

// SetExplicit sets the explicitly timestamped points of a series.
func SetExplicit(key string, pts ...string) func(*Observation) error {
	return func(o *Observation) error {
		p, ok := o.Series[key]
		if !ok {
			return fmt.Errorf("set explicit: no series %s", key)
		}
		p.Explicit = slices.Clone(pts)
		if len(pts) == 0 {
			p.Explicit = nil
		}
		o.Series[key] = p
		return nil
	}
}

// SetMetadata sets a family's metadata entries; none removes the family.
func SetMetadata(family string, entries ...string) func(*Observation) error {
	return func(o *Observation) error {
		if len(entries) == 0 {
			if _, ok := o.Metadata[family]; !ok {
				return fmt.Errorf("metadata: no family %s", family)
			}
			delete(o.Metadata, family)
			return nil
		}
		o.Metadata[family] = slices.Clone(entries)
		return nil
	}
}

// All applies patches in order.
func All(patches ...func(*Observation) error) func(*Observation) error {
	return func(o *Observation) error {
		for _, p := range patches {
			if err := p(o); err != nil {
				return err
			}
		}
		return nil
	}
}

// Render writes an observation as text, one series a line with its
// scrapes in order ("-" for none): the form of the golden files.
func Render(o Observation) string {
	var out strings.Builder
	tw := tabwriter.NewWriter(&out, 0, 0, 1, ' ', 0)
	for _, k := range sortedKeys(o.Series) {
		p := o.Series[k]
		cells := []string{k}
		for _, v := range p.ByScrape {
			if v == "" {
				v = "-"
			}
			cells = append(cells, v)
		}
		if len(p.Explicit) > 0 {
			cells = append(cells, "explicit: "+strings.Join(p.Explicit, " "))
		}
		fmt.Fprintf(tw, "%s\t\n", strings.Join(cells, "\t"))
	}
	_ = tw.Flush()
	for _, fam := range sortedKeys(o.Metadata) {
		fmt.Fprintf(&out, "metadata %s: %s\n", fam, strings.Join(o.Metadata[fam], "; "))
	}
	for _, p := range o.Problems {
		fmt.Fprintf(&out, "problem: %s\n", p)
	}
	return out.String()
}
