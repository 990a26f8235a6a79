package validate

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rwkit/rwkit/wire"
)

// Cortex renders a series three ways depending on the error; each function
// below reproduces one of them byte for byte.

// formatLabelSet renders labels as Cortex's validation errors do
// (formatLabelSet in pkg/util/validation/errors.go): the first non-empty
// __name__ in front, the other labels in their order, duplicates kept,
// values quoted with %q.
func formatLabelSet(ls []wire.Label) string {
	name, hasName := "", false
	var b strings.Builder
	n := 0
	for _, l := range ls {
		if l.Name == wire.MetricNameLabel && !hasName && l.Value != "" {
			name, hasName = l.Value, true
			continue
		}
		if n > 0 {
			b.WriteString(", ")
		}
		b.WriteString(l.Name)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(l.Value))
		n++
	}
	if n == 0 {
		if hasName {
			return name
		}
		return "{}"
	}
	return name + "{" + b.String() + "}"
}

// LabelsString renders labels as Prometheus' labels.Labels.String does
// (model/labels/labels_common.go), which the ingester's errors use:
// {a="1", b="2"} in the given order, names quoted when they are not legacy
// names.
func LabelsString(ls []wire.Label) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, l := range ls {
		if i > 0 {
			b.WriteString(", ")
		}
		if validLegacyLabelName(l.Name) {
			b.WriteString(l.Name)
		} else {
			b.WriteString(strconv.Quote(l.Name))
		}
		b.WriteByte('=')
		b.WriteString(strconv.Quote(l.Value))
	}
	b.WriteByte('}')
	return b.String()
}

// metricString renders labels as prometheus/common's model.Metric.String
// does, which Cortex uses for "too many labels": the labels go through a
// map (the last of duplicate names wins), the name goes in front and the
// rest are sorted as name="value" strings.
func metricString(ls []wire.Label) string {
	m := wire.LabelMap(ls)
	name, hasName := m[wire.MetricNameLabel]
	parts := make([]string, 0, len(m))
	for k, v := range m {
		if k != wire.MetricNameLabel {
			parts = append(parts, k+"="+strconv.Quote(v))
		}
	}
	if len(parts) == 0 {
		if hasName {
			return name
		}
		return "{}"
	}
	sort.Strings(parts)
	return name + "{" + strings.Join(parts, ", ") + "}"
}

// formatTimestamp renders a millisecond timestamp as the ingester does:
// model.Time(ts).Time().UTC().Format(time.RFC3339Nano).
func formatTimestamp(ms int64) string {
	return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano)
}
