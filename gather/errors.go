package gather

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/rwkit/rwkit/wire"
)

// ErrDuplicateSeries is wrapped by the error Convert returns when two
// metrics of one conversion would produce the same series: sent in one
// request they would collide with each other at the backend, exactly like
// two writers without identity labels.
var ErrDuplicateSeries = errors.New("duplicate series")

// LabelConflict is one extra label colliding with a label a metric already
// has.
type LabelConflict struct {
	// Family is the metric family name.
	Family string
	// Series is the first colliding series' own labels (with __name__, before
	// the extra labels are added).
	Series []wire.Label
	// Label is the colliding label name; Existing is the metric's value for
	// it and Extra the value Options.ExtraLabels asked for.
	Label    string
	Existing string
	Extra    string
	// Count is how many series of the family collide on Label.
	Count int
}

func (c LabelConflict) String() string {
	s := fmt.Sprintf("family %q series %s: label %q is %q, extra label wants %q",
		c.Family, wire.SeriesString(c.Series), c.Label, c.Existing, c.Extra)
	if c.Count > 1 {
		s += " (and " + strconv.Itoa(c.Count-1) + " more series)"
	}
	return s
}

// LabelConflictError is returned under ConflictError when extra labels
// collide with labels that metrics already carry. The embedded
// LabelConflict is the first collision; Conflicts lists every colliding
// (family, label) pair, the first included.
type LabelConflictError struct {
	LabelConflict
	Conflicts []LabelConflict
}

func (e *LabelConflictError) Error() string {
	var b strings.Builder
	b.WriteString("gather: ")
	if len(e.Conflicts) > 1 {
		b.WriteString(strconv.Itoa(len(e.Conflicts)))
		b.WriteString(" label conflicts: ")
	} else {
		b.WriteString("label conflict: ")
	}
	for i, c := range e.Conflicts {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(c.String())
	}
	b.WriteString(" (rename the metric's label, drop the extra label, or set ConflictPolicy to ConflictRename to keep the metric's value as exported_")
	b.WriteString(e.Label)
	b.WriteString(")")
	return b.String()
}

// GatherError is returned by FromGatherer when the Gatherer reported an
// error but still returned families. The returned request then holds those
// families converted (client_golang's partial results, as promhttp's
// ContinueOnError serves them); callers decide whether to send it.
type GatherError struct {
	Err error
	// Families is how many families the Gatherer returned despite Err.
	Families int
}

func (e *GatherError) Error() string {
	return fmt.Sprintf("gather: gatherer reported errors, converted the %d families it returned: %v", e.Families, e.Err)
}

func (e *GatherError) Unwrap() error { return e.Err }
