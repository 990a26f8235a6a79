package validate

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/rwkit/rwkit/wire"
)

// The rules below are Cortex v1.21.1's distributor checks, one small pure
// function each. The lists give the order Cortex runs them in; the first
// rule that fails decides the series' fate. Each returns nil or a Discard
// with Reason, Status and Message; ValidateSeries fills in the counts.

// A labelsRule checks a series' labels as a whole.
type labelsRule func(l *Limits, ls []wire.Label) *Discard

// A labelRule checks label i of labels sorted by name.
type labelRule func(l *Limits, ls []wire.Label, i int) *Discard

// A timestampRule checks the timestamp of one float or histogram sample.
type timestampRule func(l *Limits, ls []wire.Label, ts int64, now time.Time) *Discard

// An exemplarRule checks one exemplar.
type exemplarRule func(ls []wire.Label, e *wire.Exemplar) *Discard

// A histogramRule checks one native histogram after its timestamp passed.
type histogramRule func(l *Limits, ls []wire.Label, h *wire.Histogram) *Discard

// nameRules run first, before labels with empty values are removed
// (ValidateMetricName, distributor.go prepareSeriesKeys), and only when
// Limits.EnforceMetricName is set.
var nameRules = []labelsRule{missingMetricName, invalidMetricName}

// seriesRules, labelRules and sizeRules are ValidateLabels
// (pkg/util/validation/validate.go) in its order: the label count, then
// each label in turn through every labelRule, then the combined size.
var (
	seriesRules = []labelsRule{tooManyLabels}
	labelRules  = []labelRule{invalidLabelName, labelNameTooLong, labelValueTooLong, duplicateLabelName, labelsNotSorted}
	sizeRules   = []labelsRule{labelsTooBig}
)

// timestampRules are ValidateSampleTimestamp: too old first, then too new.
var timestampRules = []timestampRule{tooOld, tooFarInFuture}

// exemplarRules are ValidateExemplar.
var exemplarRules = []exemplarRule{exemplarLabelsMissing, exemplarTimestampMissing, exemplarLabelsTooLong}

// histogramRules are ValidateNativeHistogram, minus its sample-size limit
// (see doc.go) and its bucket limit, which histogramBuckets applies last.
var histogramRules = []histogramRule{histogramSchema, histogramInvalid}

func bad(r Reason, msg string) *Discard {
	return &Discard{Reason: r, Status: http.StatusBadRequest, Message: msg}
}

func missingMetricName(_ *Limits, ls []wire.Label) *Discard {
	if _, ok := wire.MetricName(ls); !ok {
		return bad(MissingMetricName, "sample missing metric name")
	}
	return nil
}

func invalidMetricName(l *Limits, ls []wire.Label) *Discard {
	if name, _ := wire.MetricName(ls); !l.NameValidation.ValidMetricName(name) {
		return bad(InvalidMetricName, fmt.Sprintf("sample invalid metric name: %.200q", name))
	}
	return nil
}

func tooManyLabels(l *Limits, ls []wire.Label) *Discard {
	if l.MaxLabelNamesPerSeries > 0 && len(ls) > l.MaxLabelNamesPerSeries {
		return bad(MaxLabelNamesPerSeries, fmt.Sprintf("series has too many labels (actual: %d, limit: %d) series: '%s'",
			len(ls), l.MaxLabelNamesPerSeries, metricString(ls)))
	}
	return nil
}

func invalidLabelName(l *Limits, ls []wire.Label, i int) *Discard {
	if !l.NameValidation.ValidLabelName(ls[i].Name) {
		return bad(InvalidLabel, fmt.Sprintf("sample invalid label: %.200q metric %.200q", ls[i].Name, formatLabelSet(ls)))
	}
	return nil
}

func labelNameTooLong(l *Limits, ls []wire.Label, i int) *Discard {
	if n := ls[i].Name; l.MaxLabelNameLength > 0 && len(n) > l.MaxLabelNameLength {
		return bad(LabelNameTooLong, fmt.Sprintf("label name too long for metric (actual: %d, limit: %d) metric: %.200q label name: %.200q",
			len(n), l.MaxLabelNameLength, formatLabelSet(ls), n))
	}
	return nil
}

func labelValueTooLong(l *Limits, ls []wire.Label, i int) *Discard {
	if v := ls[i].Value; l.MaxLabelValueLength > 0 && len(v) > l.MaxLabelValueLength {
		return bad(LabelValueTooLong, fmt.Sprintf("label value too long for metric (actual: %d, limit: %d) metric: %.200q label name: %.200q label value: %.200q",
			len(v), l.MaxLabelValueLength, formatLabelSet(ls), ls[i].Name, v))
	}
	return nil
}

// previousName is the name a label is compared with: Cortex starts from "".
func previousName(ls []wire.Label, i int) string {
	if i == 0 {
		return ""
	}
	return ls[i-1].Name
}

func duplicateLabelName(_ *Limits, ls []wire.Label, i int) *Discard {
	if previousName(ls, i) == ls[i].Name {
		return bad(DuplicateLabelNames, fmt.Sprintf("duplicate label name: %.200q metric %.200q", ls[i].Name, formatLabelSet(ls)))
	}
	return nil
}

// labelsNotSorted cannot fire behind ValidateSeries, which sorts labels
// first as Cortex's distributor does; it stays for callers that check
// labels as sent.
func labelsNotSorted(_ *Limits, ls []wire.Label, i int) *Discard {
	if previousName(ls, i) > ls[i].Name {
		return bad(LabelsNotSorted, fmt.Sprintf("labels not sorted: %.200q metric %.200q", ls[i].Name, formatLabelSet(ls)))
	}
	return nil
}

// labelsTooBig sums the protobuf size of each label message, as Cortex's
// LabelAdapter.Size does.
func labelsTooBig(l *Limits, ls []wire.Label) *Discard {
	if l.MaxLabelsSizeBytes <= 0 {
		return nil
	}
	size := 0
	for _, lb := range ls {
		size += fieldSize(len(lb.Name)) + fieldSize(len(lb.Value))
	}
	if size > l.MaxLabelsSizeBytes {
		return bad(LabelsSizeBytesExceeded, fmt.Sprintf("labels size bytes exceeded for metric (actual: %d, limit: %d) metric: %.200q",
			size, l.MaxLabelsSizeBytes, formatLabelSet(ls)))
	}
	return nil
}

// fieldSize is the size of a non-empty length-delimited protobuf field.
func fieldSize(n int) int {
	if n == 0 {
		return 0
	}
	v := 1
	for x := uint64(n); x >= 0x80; x >>= 7 {
		v++
	}
	return 1 + v + n
}

func tooOld(l *Limits, ls []wire.Label, ts int64, now time.Time) *Discard {
	if l.RejectOldSamples && ts < now.Add(-l.RejectOldSamplesMaxAge).UnixMilli() {
		name, _ := wire.MetricName(ls)
		return bad(GreaterThanMaxSampleAge, fmt.Sprintf("timestamp too old: %d metric: %.200q", ts, name))
	}
	return nil
}

func tooFarInFuture(l *Limits, ls []wire.Label, ts int64, now time.Time) *Discard {
	if l.CreationGracePeriod > 0 && ts > now.Add(l.CreationGracePeriod).UnixMilli() {
		name, _ := wire.MetricName(ls)
		return bad(TooFarInFuture, fmt.Sprintf("timestamp too new: %d metric: %.200q", ts, name))
	}
	return nil
}

// exemplarMaxLabelSetLength is OpenMetrics' limit on an exemplar's label
// names and values together, in runes.
const exemplarMaxLabelSetLength = 128

func exemplarText(format string, ls []wire.Label, e *wire.Exemplar, exemplarLabels []wire.Label) string {
	return fmt.Sprintf(format, e.Timestamp, LabelsString(ls), LabelsString(exemplarLabels))
}

func exemplarLabelsMissing(ls []wire.Label, e *wire.Exemplar) *Discard {
	if len(e.Labels) == 0 {
		return bad(ExemplarLabelsMissing, exemplarText("exemplar missing labels, timestamp: %d series: %s labels: %s", ls, e, nil))
	}
	return nil
}

func exemplarTimestampMissing(ls []wire.Label, e *wire.Exemplar) *Discard {
	if e.Timestamp == 0 {
		return bad(ExemplarTimestampInvalid, exemplarText("exemplar missing timestamp, timestamp: %d series: %s labels: %s", ls, e, e.Labels))
	}
	return nil
}

func exemplarLabelsTooLong(ls []wire.Label, e *wire.Exemplar) *Discard {
	n := 0
	for _, l := range e.Labels {
		n += utf8.RuneCountInString(l.Name) + utf8.RuneCountInString(l.Value)
	}
	if n > exemplarMaxLabelSetLength {
		return bad(ExemplarLabelsTooLong, exemplarText("exemplar combined labelset exceeds "+strconv.Itoa(exemplarMaxLabelSetLength)+
			" characters, timestamp: %d series: %s labels: %s", ls, e, e.Labels))
	}
	return nil
}

// Native histogram schemas (model/histogram in prometheus/prometheus).
const (
	exponentialSchemaMin = -4
	exponentialSchemaMax = 8
	customBucketsSchema  = -53
)

func histogramSchema(_ *Limits, ls []wire.Label, h *wire.Histogram) *Discard {
	s := h.Schema
	if s == customBucketsSchema || s >= exponentialSchemaMin && s <= exponentialSchemaMax {
		return nil
	}
	return bad(NativeHistogramInvalidSchema, fmt.Sprintf("invalid native histogram schema %d for metric: %.200q. supported schema from %d to %d",
		s, formatLabelSet(ls), exponentialSchemaMin, exponentialSchemaMax))
}

// histogramBuckets applies max_native_histogram_buckets to a histogram
// that passed histogramRules: it returns the histogram Cortex stores, at
// a lower resolution when it has more buckets than the limit (see
// LimitHistogramBuckets), or refuses it when even schema -4 is not enough.
func histogramBuckets(l *Limits, ls []wire.Label, h *wire.Histogram) (wire.Histogram, *Discard) {
	r, ok := LimitHistogramBuckets(h, l.MaxNativeHistogramBuckets)
	if ok {
		return r, nil
	}
	return wire.Histogram{}, bad(NativeHistogramBucketsExceeded, fmt.Sprintf("native histogram bucket count exceeded for metric (limit: %d) metric: %.200q",
		l.MaxNativeHistogramBuckets, formatLabelSet(ls)))
}

// sortedCopy returns ls sorted by name (stable, so duplicates keep their
// order) without labels whose value is empty when dropEmpty is set. It
// returns ls itself when nothing changes.
func sortedCopy(ls []wire.Label, dropEmpty bool) []wire.Label {
	sorted, empty := true, false
	for i, l := range ls {
		if i > 0 && ls[i-1].Name > l.Name {
			sorted = false
		}
		if l.Value == "" {
			empty = true
		}
	}
	if sorted && !(dropEmpty && empty) {
		return ls
	}
	out := make([]wire.Label, 0, len(ls))
	for _, l := range ls {
		if dropEmpty && l.Value == "" {
			continue
		}
		out = append(out, l)
	}
	if !sorted {
		slices.SortStableFunc(out, wire.CompareLabels)
	}
	return out
}
