package validate

import (
	"fmt"
	"slices"
	"time"

	"github.com/rwkit/rwkit/wire"
)

// ValidateRequestV2 validates an RW 2.0 request. For Cortex (and AMP) it is
// ValidateRequest: Cortex converts RW 2.0 to 1.0 before validating. For
// BackendPrometheus it follows writeHandler.appendV2 in Prometheus
// v0.316's storage/remote/write_handler.go, which treats RW 2.0 unlike
// 1.0 (https://prometheus.io/docs/specs/remote_write_spec_2_0/#invalid-samples):
// every problem is a 400 that names its series, and the rest of the request
// is written:
//
//   - a series without __name__, with an empty label set or with a name or
//     value that is not valid UTF-8: "invalid metric name or labels, got
//     {...}" (InvalidLabel, MissingMetricName);
//   - a duplicate label name: "invalid labels for series, labels {...},
//     duplicated label NAME" (DuplicateLabelNames);
//   - a series without samples or histograms (exemplars or metadata only):
//     "TimeSeries must contain at least one sample or histogram for series
//     {...}" (Unknown: no sample is lost);
//   - a sample more than CreationGracePeriod ahead: "out of bounds:
//     timestamp is too far in the future for series {...}", for that
//     sample alone (SampleOutOfBounds).
//
// Result.Index gives the request position of each kept series, so that the
// TSDB's refusals, which Prometheus lists in series order among these, can
// be put in their place.
func ValidateRequestV2(l *Limits, req *wire.WriteRequest, now time.Time) Result {
	if l.Backend != BackendPrometheus {
		return ValidateRequest(l, req, now)
	}
	r := Result{Series: make([]wire.TimeSeries, 0, len(req.Series)), Index: make([]int, 0, len(req.Series))}
	for i := range req.Series {
		ts := &req.Series[i]
		kept, ds := prometheusSeriesV2(l, ts, now)
		for _, d := range ds {
			d.Index = i
			r.Discards = append(r.Discards, d)
		}
		if kept != nil {
			r.Series = append(r.Series, *kept)
			r.Index = append(r.Index, i)
		}
	}
	return r
}

// prometheusSeriesV2 is one series of appendV2: the series to append (nil
// when nothing of it is) and its refusals.
func prometheusSeriesV2(l *Limits, ts *wire.TimeSeries, now time.Time) (*wire.TimeSeries, []Discard) {
	ls := sortedCopy(ts.Labels, false)
	var d *Discard
	switch r := prometheusLabels(l, ls); r {
	case Unknown:
	case DuplicateLabelNames:
		d = bad(r, fmt.Sprintf("invalid labels for series, labels %s, duplicated label %s", LabelsString(ls), duplicatedLabel(ls)))
	default:
		d = bad(r, "invalid metric name or labels, got "+LabelsString(ls))
	}
	if d != nil {
		d.Counted = len(ts.Samples) + len(ts.Histograms)
		return nil, []Discard{*removed(d, ts)}
	}
	if len(ts.Samples) == 0 && len(ts.Histograms) == 0 {
		d := bad(Unknown, "TimeSeries must contain at least one sample or histogram for series "+LabelsString(ls))
		return nil, []Discard{*removed(d, ts)}
	}
	kept := *ts
	kept.Labels = ls
	var ds []Discard
	limit := now.Add(l.CreationGracePeriod).UnixMilli()
	ahead := func(t int64) bool { return l.CreationGracePeriod > 0 && t > limit }
	aheadDiscard := func() Discard {
		d := bad(SampleOutOfBounds, "out of bounds: timestamp is too far in the future for series "+LabelsString(ls))
		d.Counted = 1
		return *d
	}
	var n int
	kept.Samples, n = withoutAhead(ts.Samples, func(s wire.Sample) int64 { return s.Timestamp }, ahead)
	for range n {
		d := aheadDiscard()
		d.Samples = 1
		ds = append(ds, d)
	}
	kept.Histograms, n = withoutAhead(ts.Histograms, func(h wire.Histogram) int64 { return h.Timestamp }, ahead)
	for range n {
		d := aheadDiscard()
		d.Histograms = 1
		ds = append(ds, d)
	}
	return &kept, ds
}

// withoutAhead returns items without those whose timestamp is ahead, and
// how many it left out; items itself when none is.
func withoutAhead[T any](items []T, at func(T) int64, ahead func(int64) bool) ([]T, int) {
	if !slices.ContainsFunc(items, func(x T) bool { return ahead(at(x)) }) {
		return items, 0
	}
	var kept []T
	for _, x := range items {
		if !ahead(at(x)) {
			kept = append(kept, x)
		}
	}
	return kept, len(items) - len(kept)
}

// duplicatedLabel is the first name that occurs twice in sorted labels.
func duplicatedLabel(ls []wire.Label) string {
	for i := 1; i < len(ls); i++ {
		if ls[i-1].Name == ls[i].Name {
			return ls[i].Name
		}
	}
	return ""
}

// PrometheusV2Message is Prometheus' line for a sample of an RW 2.0
// request its TSDB refused (cause, the TSDB's error): "%w for series %v"
// in appendV2.
func PrometheusV2Message(cause error, series []wire.Label) string {
	return fmt.Sprintf("%v for series %s", cause, LabelsString(series))
}
