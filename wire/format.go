package wire

import (
	"strconv"
	"strings"
)

// SeriesString renders labels as PromQL shows a series,
// name{a="1",b="2"}, the other labels in the order given, so that
// unsorted labels (which a backend refuses) stay visible. A second
// __name__ with another value is shown as a label.
func SeriesString(ls []Label) string {
	name, _ := MetricName(ls)
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('{')
	first := true
	for _, l := range ls {
		if l.Name == MetricNameLabel && l.Value == name && name != "" {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteString(l.Name)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(l.Value))
	}
	b.WriteByte('}')
	return b.String()
}
