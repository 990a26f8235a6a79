package validate

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/rwkit/rwkit/wire"
)

// ValidateSeries applies the backend's checks of l to one series at now.
// It returns the series as the backend would store it (labels sorted; for
// Cortex, labels with empty values removed and native histograms over
// MaxNativeHistogramBuckets at the lower resolution Cortex stores them at)
// and nil, or an empty series and the refusal. Like Cortex v1.21's
// distributor it refuses the whole series at its first problem, be it a
// label, one sample's timestamp, one exemplar or one histogram. ts is not
// modified.
func ValidateSeries(l *Limits, ts *wire.TimeSeries, now time.Time) (wire.TimeSeries, *Discard) {
	switch l.Backend {
	case BackendPrometheus:
		return prometheusSeries(l, ts, now)
	case BackendMimir:
		kept, d := mimirSeries(l, ts, now)
		if d != nil && d.Status != 0 || kept == nil {
			return wire.TimeSeries{}, d
		}
		return *kept, nil
	}
	return cortexSeries(l, ts, now)
}

// cortexSeries follows prepareSeriesKeys and validateSeries in
// pkg/distributor/distributor.go (v1.21.1).
func cortexSeries(l *Limits, ts *wire.TimeSeries, now time.Time) (wire.TimeSeries, *Discard) {
	if len(ts.Labels) == 0 {
		// Cortex answers this before pushing anything of the request.
		d := bad(Unknown, "empty labels found")
		d.WholeRequest = true
		return wire.TimeSeries{}, removed(d, ts)
	}
	if l.EnforceMetricName {
		for _, rule := range nameRules {
			if d := rule(l, ts.Labels); d != nil {
				return wire.TimeSeries{}, countAll(removed(d, ts), ts)
			}
		}
	}
	ls := sortedCopy(ts.Labels, true)
	if len(ls) == 0 {
		d := &Discard{Reason: DroppedByUserConfigurationOverride}
		return wire.TimeSeries{}, countAll(removed(d, ts), ts)
	}
	if d := checkLabels(l, ls); d != nil {
		d.Counted = 1
		return wire.TimeSeries{}, removed(d, ts)
	}
	for i := range ts.Samples {
		if d := checkTimestamp(l, ls, ts.Samples[i].Timestamp, now); d != nil {
			d.Counted = 1
			return wire.TimeSeries{}, removed(d, ts)
		}
	}
	for i := range ts.Exemplars {
		for _, rule := range exemplarRules {
			if d := rule(ls, &ts.Exemplars[i]); d != nil {
				d.CountedExemplars = 1
				return wire.TimeSeries{}, removed(d, ts)
			}
		}
	}
	var hs []wire.Histogram // ts.Histograms as stored, when one was reduced
	for i := range ts.Histograms {
		h := &ts.Histograms[i]
		d := checkTimestamp(l, ls, h.Timestamp, now)
		for _, rule := range histogramRules {
			if d != nil {
				break
			}
			d = rule(l, ls, h)
		}
		var r wire.Histogram
		if d == nil {
			r, d = histogramBuckets(l, ls, h)
		}
		if d != nil {
			d.Counted = 1
			return wire.TimeSeries{}, removed(d, ts)
		}
		if r.Schema != h.Schema {
			// Cortex stores the histogram at the lower resolution.
			if hs == nil {
				hs = slices.Clone(ts.Histograms)
			}
			hs[i] = r
		}
	}
	kept := *ts
	kept.Labels = ls
	if hs != nil {
		kept.Histograms = hs
	}
	return kept, nil
}

// checkLabels runs ValidateLabels' rules in order.
func checkLabels(l *Limits, ls []wire.Label) *Discard {
	for _, rule := range seriesRules {
		if d := rule(l, ls); d != nil {
			return d
		}
	}
	for i := range ls {
		for _, rule := range labelRules {
			if d := rule(l, ls, i); d != nil {
				return d
			}
		}
	}
	for _, rule := range sizeRules {
		if d := rule(l, ls); d != nil {
			return d
		}
	}
	return nil
}

func checkTimestamp(l *Limits, ls []wire.Label, t int64, now time.Time) *Discard {
	for _, rule := range timestampRules {
		if d := rule(l, ls, t, now); d != nil {
			return d
		}
	}
	return nil
}

// prometheusSeries follows writeHandler.write in Prometheus v0.316's
// storage/remote/write_handler.go (RW 1.0): labels are sorted; a series
// without __name__, with a name or label that is not valid UTF-8, or with a
// duplicate label name is skipped silently and counted once in
// prometheus_api_remote_write_invalid_labels_samples_total; a sample more
// than CreationGracePeriod ahead fails the append, which rolls the whole
// request back. Exemplars are passed on: Prometheus drops bad ones quietly.
func prometheusSeries(l *Limits, ts *wire.TimeSeries, now time.Time) (wire.TimeSeries, *Discard) {
	ls := sortedCopy(ts.Labels, false)
	if r := prometheusLabels(l, ls); r != Unknown {
		d := &Discard{Reason: r, Counted: 1}
		return wire.TimeSeries{}, removed(d, ts)
	}
	ahead := func(t int64) bool {
		return l.CreationGracePeriod > 0 && t > now.Add(l.CreationGracePeriod).UnixMilli()
	}
	for i := range ts.Samples {
		if ahead(ts.Samples[i].Timestamp) {
			return wire.TimeSeries{}, outOfBoundsAhead(ts)
		}
	}
	for i := range ts.Histograms {
		if ahead(ts.Histograms[i].Timestamp) {
			return wire.TimeSeries{}, outOfBoundsAhead(ts)
		}
	}
	kept := *ts
	kept.Labels = ls
	return kept, nil
}

// prometheusLabels returns the reason a sorted label set is skipped, or
// Unknown when it is fine.
func prometheusLabels(l *Limits, ls []wire.Label) Reason {
	name, ok := wire.MetricName(ls)
	if !ok {
		return MissingMetricName
	}
	if l.EnforceMetricName && !l.NameValidation.ValidMetricName(name) {
		return InvalidMetricName
	}
	// ls.IsValid over all labels first, then HasDuplicateLabelNames.
	for _, lb := range ls {
		if !l.NameValidation.ValidLabelName(lb.Name) || !utf8Valid(lb.Value) {
			return InvalidLabel
		}
	}
	for i := 1; i < len(ls); i++ {
		if ls[i-1].Name == ls[i].Name {
			return DuplicateLabelNames
		}
	}
	return Unknown
}

func outOfBoundsAhead(ts *wire.TimeSeries) *Discard {
	d := bad(SampleOutOfBounds, "out of bounds: timestamp is too far in the future")
	d.WholeRequest = true
	return removed(d, ts)
}

// removed records that all of ts was removed.
func removed(d *Discard, ts *wire.TimeSeries) *Discard {
	d.Samples, d.Histograms, d.Exemplars = len(ts.Samples), len(ts.Histograms), len(ts.Exemplars)
	return d
}

// countAll counts every sample, histogram and exemplar of ts, as Cortex
// does for metric-name refusals and empty label sets.
func countAll(d *Discard, ts *wire.TimeSeries) *Discard {
	d.Counted = len(ts.Samples) + len(ts.Histograms)
	d.CountedExemplars = len(ts.Exemplars)
	return d
}

// ValidateMetadata applies Cortex's ValidateMetadata to one metadata entry
// (RW 1.0 WriteRequest.metadata). Refusals are counted in
// cortex_discarded_metadata_total; the Discard has Metadata and
// CountedMetadata set to 1.
func ValidateMetadata(l *Limits, m *wire.Metadata) *Discard {
	switch l.Backend {
	case BackendPrometheus:
		return nil
	case BackendMimir:
		_, d := mimirMetadata(l, m)
		return d
	}
	var d *Discard
	switch max := l.MaxMetadataLength; {
	case l.EnforceMetadataMetricName && m.FamilyName == "":
		d = bad(MissingMetricName, "metadata missing metric name")
	case max > 0 && len(m.FamilyName) > max:
		d = metadataTooLong(MetadataMetricNameTooLong, "METRIC_NAME", m.FamilyName, m)
	case max > 0 && len(m.Help) > max:
		d = metadataTooLong(MetadataHelpTooLong, "HELP", m.Help, m)
	case max > 0 && len(m.Unit) > max:
		d = metadataTooLong(MetadataUnitTooLong, "UNIT", m.Unit, m)
	}
	if d != nil {
		d.Metadata, d.CountedMetadata = 1, 1
	}
	return d
}

func metadataTooLong(r Reason, field, value string, m *wire.Metadata) *Discard {
	return bad(r, fmt.Sprintf("metadata '%s' value too long: %.200q metric %.200q", field, value, m.FamilyName))
}

// Result is what a backend's front door makes of one write request.
type Result struct {
	// Series and Metadata are what goes on to storage.
	Series   []wire.TimeSeries
	Metadata []wire.Metadata
	// Discards are the refusals in request order: series first, then
	// metadata, as Cortex checks them.
	Discards []Discard
	// Index is the request position of each of Series; only
	// ValidateRequestV2 fills it, for BackendPrometheus.
	Index []int

	limits *Limits // whose texts RateLimited answers with
}

// ValidateRequest validates every series and metadata entry of req. When a
// Discard has WholeRequest set, Series and Metadata are empty and
// validation stopped there.
func ValidateRequest(l *Limits, req *wire.WriteRequest, now time.Time) Result {
	if l.Backend == BackendMimir {
		r := validateMimirRequest(l, req, now)
		r.limits = l
		return r
	}
	r := Result{limits: l}
	r.Series = make([]wire.TimeSeries, 0, len(req.Series))
	for i := range req.Series {
		kept, d := ValidateSeries(l, &req.Series[i], now)
		if d == nil {
			r.Series = append(r.Series, kept)
			continue
		}
		d.Index = i
		r.Discards = append(r.Discards, *d)
		if d.WholeRequest {
			r.Series = nil
			return r
		}
	}
	for i := range req.Metadata {
		if d := ValidateMetadata(l, &req.Metadata[i]); d != nil {
			d.Index = i
			r.Discards = append(r.Discards, *d)
			continue
		}
		r.Metadata = append(r.Metadata, req.Metadata[i])
	}
	return r
}

// FirstError is the refusal the backend answers with: the first Discard
// that reports to the client (Status != 0), or nil. Cortex answers with it
// after storing the valid series, unless the ingester refuses something:
// then the ingester's first error wins.
func (r *Result) FirstError() *Discard {
	for i := range r.Discards {
		if r.Discards[i].Status != 0 {
			return &r.Discards[i]
		}
	}
	return nil
}

// Counts returns the float samples, histogram samples and exemplars that
// passed validation.
func (r *Result) Counts() (samples, histograms, exemplars int) {
	for i := range r.Series {
		samples += len(r.Series[i].Samples)
		histograms += len(r.Series[i].Histograms)
		exemplars += len(r.Series[i].Exemplars)
	}
	return samples, histograms, exemplars
}

// RateCost is what Cortex takes from the tenant's ingestion rate limiter
// for the request: samples, histograms, exemplars and metadata that passed
// validation. Cortex consults the limiter only when something passed.
func (r *Result) RateCost() int {
	s, h, e := r.Counts()
	return s + h + e + len(r.Metadata)
}

// RateLimited turns r into Cortex's 429 answer: everything that passed
// validation is dropped and counted as rate_limited, and the validation
// error (if any) is no longer reported.
func (r *Result) RateLimited(limit float64) Discard {
	s, h, e := r.Counts()
	d := Discard{
		Reason:           RateLimited,
		Status:           http.StatusTooManyRequests,
		Message:          r.rateLimitedMessage(limit, s+h, len(r.Metadata)),
		Samples:          s,
		Histograms:       h,
		Exemplars:        e,
		Metadata:         len(r.Metadata),
		Counted:          s + h,
		CountedExemplars: e,
		CountedMetadata:  len(r.Metadata),
		Index:            -1,
	}
	r.Series, r.Metadata = nil, nil
	return d
}

func (r *Result) rateLimitedMessage(limit float64, samples, metadata int) string {
	if r.limits != nil && r.limits.Backend == BackendMimir {
		return mimirRateLimitedMessage(r.limits)
	}
	return RateLimitedMessage(limit, samples, metadata)
}
