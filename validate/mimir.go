package validate

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/prometheus/common/model"

	"github.com/rwkit/rwkit/wire"
)

// Grafana Mimir's texts and rules have their one home here: the mimir
// profile (BackendMimir) answers with them, and remotewrite.Classify reads
// a Mimir answer back through MimirErrors. Sources: Mimir at
// v1.3.1-0.20260423142704-aced80d74930 (e2e/mimir/go.mod),
// pkg/util/globalerror/user.go (the IDs), pkg/distributor/validate.go
// (validateLabels, validateSample, cleanAndValidateMetadata),
// pkg/distributor/distributor.go (prePushSortAndFilterMiddleware,
// prePushValidationMiddleware, validateSamples) and pkg/ingester/errors.go
// (the ingester's texts).

// MimirError is one of Mimir's error IDs (pkg/util/globalerror) and the
// reason rwkit reports it as. Every Mimir refusal ends with its ID as
// "(err-mimir-<ID>)"; Mimir's own discard counter
// (cortex_discarded_samples_total) labels the distributor's refusals with
// the ID's underscored form (MimirError.Label).
type MimirError struct {
	ID     string
	Reason Reason
}

// Text is the ID as it appears in a refusal: "err-mimir-<ID>".
func (e MimirError) Text() string { return "err-mimir-" + e.ID }

// Label is the ID as Mimir's distributor counts it in the reason label of
// cortex_discarded_samples_total: dashes become underscores.
func (e MimirError) Label() string { return strings.ReplaceAll(e.ID, "-", "_") }

// The IDs the mimir profile answers with.
var (
	mimirMissingMetricName      = MimirError{"missing-metric-name", MissingMetricName}
	mimirInvalidMetricName      = MimirError{"metric-name-invalid", InvalidMetricName}
	mimirMaxLabelNames          = MimirError{"max-label-names-per-series", MaxLabelNamesPerSeries}
	mimirMaxLabelNamesInfo      = MimirError{"max-label-names-per-info-series", MaxLabelNamesPerSeries}
	mimirLabelNameTooLong       = MimirError{"label-name-too-long", LabelNameTooLong}
	mimirLabelValueTooLong      = MimirError{"label-value-too-long", LabelValueTooLong}
	mimirInvalidLabel           = MimirError{"label-invalid", InvalidLabel}
	mimirInvalidLabelValue      = MimirError{"label-value-invalid", InvalidLabel}
	mimirDuplicateLabelNames    = MimirError{"duplicate-label-names", DuplicateLabelNames}
	mimirLabelsNotSorted        = MimirError{"labels-not-sorted", LabelsNotSorted}
	mimirTooFarInFuture         = MimirError{"too-far-in-future", TooFarInFuture}
	mimirTooFarInPast           = MimirError{"too-far-in-past", GreaterThanMaxSampleAge}
	mimirSampleDuplicate        = MimirError{"sample-duplicate-timestamp", NewValueForTimestamp}
	mimirSampleOutOfOrder       = MimirError{"sample-out-of-order", SampleOutOfOrder}
	mimirSampleTimestampTooOld  = MimirError{"sample-timestamp-too-old", SampleOutOfBounds}
	mimirMaxSeriesPerUser       = MimirError{"max-series-per-user", PerUserSeriesLimit}
	mimirMaxSeriesPerMetric     = MimirError{"max-series-per-metric", PerMetricSeriesLimit}
	mimirIngestionRateLimited   = MimirError{"tenant-max-ingestion-rate", RateLimited}
	mimirMetadataMissingName    = MimirError{"metadata-missing-metric-name", MissingMetricName}
	mimirMetadataNameTooLong    = MimirError{"metric-name-too-long", MetadataMetricNameTooLong}
	mimirMetadataUnitTooLong    = MimirError{"unit-too-long", MetadataUnitTooLong}
	mimirInvalidHistogramSchema = MimirError{"invalid-native-histogram-schema", NativeHistogramInvalidSchema}
	mimirMaxHistogramBuckets    = MimirError{"max-native-histogram-buckets", NativeHistogramBucketsExceeded}
)

// mimirErrors lists every ID rwkit recognises, most specific first (an ID
// that contains another comes before it).
var mimirErrors = []MimirError{
	mimirSampleDuplicate,
	mimirSampleOutOfOrder,
	mimirTooFarInPast,
	mimirTooFarInFuture,
	mimirMaxLabelNamesInfo,
	mimirMaxLabelNames,
	mimirLabelNameTooLong,
	mimirLabelValueTooLong,
	mimirInvalidLabel,
	mimirInvalidLabelValue,
	mimirDuplicateLabelNames,
	mimirLabelsNotSorted,
	mimirMetadataMissingName,
	mimirMissingMetricName,
	mimirInvalidMetricName,
	mimirMaxSeriesPerUser,
	mimirMaxSeriesPerMetric,
	mimirIngestionRateLimited,
	{"tenant-max-request-rate", RateLimited},
	{"distributor-max-ingestion-rate", RateLimited},
	{"ingester-max-ingestion-rate", RateLimited},
	mimirMetadataNameTooLong,
	mimirMetadataUnitTooLong,
	mimirInvalidHistogramSchema,
	mimirMaxHistogramBuckets,
	// sample-timestamp-too-old is one ID for two TSDB refusals;
	// remotewrite.Classify tells them apart by the text.
	mimirSampleTimestampTooOld,
}

// MimirErrors returns the Mimir error IDs rwkit recognises with their
// reasons, most specific first.
func MimirErrors() []MimirError { return append([]MimirError(nil), mimirErrors...) }

// MimirReason returns the reason of a label value of Mimir's
// cortex_discarded_samples_total: a distributor ID's underscored form
// (label_value_invalid), or one of the ingester's reasons, which are
// Cortex's (new-value-for-timestamp). It returns the value itself as a
// Reason when it is neither.
func MimirReason(label string) Reason {
	if r, ok := mimirIngesterReasons[label]; ok {
		return r
	}
	for _, e := range mimirErrors {
		if e.Label() == label {
			return e.Reason
		}
	}
	return Reason(label)
}

// mimirIngesterReasons are the reason labels of Mimir's counters that are
// not Cortex's names (pkg/ingester/ingester.go; the distributor's
// sample_duplicate_timestamp, whose ID names the ingester's refusal in
// texts).
var mimirIngesterReasons = map[string]Reason{
	"sample-timestamp-too-old":       SampleOutOfBounds,
	"sample-too-far-in-future":       TooFarInFuture,
	"invalid-native-histogram":       NativeHistogramInvalid,
	"labels-not-sorted":              LabelsNotSorted,
	string(SampleDuplicateTimestamp): SampleDuplicateTimestamp,
}

// mimirMessage is globalerror's ID.Message: the text and the ID.
func mimirMessage(e MimirError, msg string) string {
	return msg + " (" + e.Text() + ")"
}

// mimirLimitMessage is ID.MessageWithPerTenantLimitConfig.
func mimirLimitMessage(e MimirError, msg string, flags ...string) string {
	plural := ""
	if len(flags) > 1 {
		plural = "s"
	}
	list := "-" + flags[0]
	if len(flags) > 1 {
		list = "-" + strings.Join(flags[:len(flags)-1], ", -") + " and -" + flags[len(flags)-1]
	}
	return fmt.Sprintf("%s (%s). To adjust the related per-tenant limit%s, configure %s, or contact your service administrator.", msg, e.Text(), plural, list)
}

func mimirBad(e MimirError, msg string) *Discard {
	d := bad(e.Reason, msg)
	d.Counted = 1
	return d
}

// mimirInfoLabelNames is -validation.max-label-names-per-info-series'
// default: series whose name ends in _info may have this many labels.
const mimirInfoLabelNames = 80

// validateMimirRequest is Mimir's distributor (prePushSortAndFilterMiddleware
// then prePushValidationMiddleware): each series is validated on its own
// and a refused one removed, counted once whatever it held; the request
// goes on with the rest and answers the first refusal.
func validateMimirRequest(l *Limits, req *wire.WriteRequest, now time.Time) Result {
	var r Result
	r.Series = make([]wire.TimeSeries, 0, len(req.Series))
	for i := range req.Series {
		kept, d := mimirSeries(l, &req.Series[i], now)
		if d != nil {
			d.Index = i
			r.Discards = append(r.Discards, *d)
		}
		if kept != nil {
			r.Series = append(r.Series, *kept)
		}
	}
	for i := range req.Metadata {
		m, d := mimirMetadata(l, &req.Metadata[i])
		if d != nil {
			d.Index = i
			r.Discards = append(r.Discards, *d)
			continue
		}
		r.Metadata = append(r.Metadata, m)
	}
	return r
}

// mimirSeries returns what Mimir keeps of ts (nil for nothing) and the
// refusal, if any. A series with two samples at one timestamp keeps the
// first: the others are dropped and counted as sample_duplicate_timestamp
// without an error (the Discard then has Status 0 and the series is kept).
func mimirSeries(l *Limits, ts *wire.TimeSeries, now time.Time) (*wire.TimeSeries, *Discard) {
	ls := sortedCopy(ts.Labels, true)
	if len(ls) == 0 {
		// Removed before validation, without a count or an error.
		return nil, removed(&Discard{Reason: Unknown}, ts)
	}
	if d := mimirLabels(l, ls); d != nil {
		return nil, removed(d, ts)
	}
	kept := *ts
	kept.Labels = ls
	seen := make(map[int64]struct{}, len(ts.Samples))
	kept.Samples = kept.Samples[:0:0]
	for _, s := range ts.Samples {
		if _, dup := seen[s.Timestamp]; dup {
			continue
		}
		seen[s.Timestamp] = struct{}{}
		if d := mimirTimestamp(l, ls, s.Timestamp, now); d != nil {
			return nil, removed(d, ts)
		}
		kept.Samples = append(kept.Samples, s)
	}
	clear(seen)
	kept.Histograms = kept.Histograms[:0:0]
	for i := range ts.Histograms {
		h := &ts.Histograms[i]
		if _, dup := seen[h.Timestamp]; dup {
			continue
		}
		seen[h.Timestamp] = struct{}{}
		d := mimirTimestamp(l, ls, h.Timestamp, now)
		if d == nil {
			d = mimirHistogramSchema(h)
		}
		if d != nil {
			return nil, removed(d, ts)
		}
		kept.Histograms = append(kept.Histograms, *h)
	}
	// Invalid exemplars are dropped without an error (validateExemplars:
	// "OTel sends empty exemplars by default").
	kept.Exemplars = kept.Exemplars[:0:0]
	for i := range ts.Exemplars {
		e := &ts.Exemplars[i]
		if exemplarLabelsMissing(ls, e) == nil && exemplarTimestampMissing(ls, e) == nil && exemplarLabelsTooLong(ls, e) == nil {
			kept.Exemplars = append(kept.Exemplars, *e)
		}
	}
	if n := len(ts.Samples) - len(kept.Samples) + len(ts.Histograms) - len(kept.Histograms); n > 0 {
		return &kept, &Discard{Reason: SampleDuplicateTimestamp, Samples: len(ts.Samples) - len(kept.Samples),
			Histograms: len(ts.Histograms) - len(kept.Histograms), Counted: n}
	}
	return &kept, nil
}

// mimirLabels is validateLabels: the name, the count, then each label in
// turn (name, name length, value, value length, duplicate).
func mimirLabels(l *Limits, ls []wire.Label) *Discard {
	name, ok := wire.MetricName(ls)
	if !ok {
		return mimirBad(mimirMissingMetricName, mimirMessage(mimirMissingMetricName, "received series has no metric name"))
	}
	if !l.NameValidation.ValidMetricName(name) {
		return mimirBad(mimirInvalidMetricName, mimirMessage(mimirInvalidMetricName,
			fmt.Sprintf("received a series with invalid metric name: '%.200s'", removeNonASCII(name))))
	}
	if max := l.MaxLabelNamesPerSeries; max > 0 && len(ls) > max {
		id, flag := mimirMaxLabelNames, "validation.max-label-names-per-series"
		format := "received a series whose number of labels exceeds the limit (actual: %d, limit: %d) series: '%.200s%s'"
		if strings.HasSuffix(name, "_info") {
			id, flag, max = mimirMaxLabelNamesInfo, "validation.max-label-names-per-info-series", mimirInfoLabelNames
			format = "received an info series whose number of labels exceeds the limit (actual: %d, limit: %d) series: '%.200s%s'"
		}
		if len(ls) > max {
			series, ellipsis := formatLabelSet(ls), ""
			if utf8.RuneCountInString(series) > 200 {
				ellipsis = "\u2026"
			}
			return mimirBad(id, mimirLimitMessage(id, fmt.Sprintf(format, len(ls), max, series, ellipsis), flag))
		}
	}
	last := ""
	for _, lb := range ls {
		switch {
		case !l.NameValidation.ValidLabelName(lb.Name):
			return mimirBad(mimirInvalidLabel, mimirMessage(mimirInvalidLabel,
				fmt.Sprintf("received a series with an invalid label: '%.200s' series: '%.200s'", lb.Name, formatLabelSet(ls))))
		case l.MaxLabelNameLength > 0 && len(lb.Name) > l.MaxLabelNameLength:
			return mimirBad(mimirLabelNameTooLong, mimirLimitMessage(mimirLabelNameTooLong,
				fmt.Sprintf("received a series whose label name length exceeds the limit, label: '%.200s' series: '%.200s'", lb.Name, formatLabelSet(ls)),
				"validation.max-length-label-name"))
		case !utf8.ValidString(lb.Value):
			return mimirBad(mimirInvalidLabelValue, mimirMessage(mimirInvalidLabelValue,
				fmt.Sprintf("received a series with invalid value in label '%.200s': '%.200s' metric: '%.200s'", lb.Name, strings.ToValidUTF8(lb.Value, string(utf8.RuneError)), name)))
		case l.MaxLabelValueLength > 0 && len(lb.Value) > l.MaxLabelValueLength:
			return mimirBad(mimirLabelValueTooLong, mimirLimitMessage(mimirLabelValueTooLong,
				fmt.Sprintf("received a series whose label value length of %d exceeds the limit of %d, label: '%s', value: '%.200s' (truncated) series: '%.200s'",
					len(lb.Value), l.MaxLabelValueLength, lb.Name, lb.Value, formatLabelSet(ls)),
				"validation.max-length-label-value"))
		}
		if lb.Name == last {
			return mimirBad(mimirDuplicateLabelNames, mimirMessage(mimirDuplicateLabelNames,
				fmt.Sprintf("received a series with duplicate label name, label: '%.200s' series: '%.200s'", lb.Name, formatLabelSet(ls))))
		}
		last = lb.Name
	}
	return nil
}

// mimirTimestamp is validateSample: too far in the future, then (with a
// past grace period, RejectOldSamples here) too far in the past.
func mimirTimestamp(l *Limits, ls []wire.Label, t int64, now time.Time) *Discard {
	name, _ := wire.MetricName(ls)
	if l.CreationGracePeriod > 0 && t > now.Add(l.CreationGracePeriod).UnixMilli() {
		return mimirBad(mimirTooFarInFuture, mimirLimitMessage(mimirTooFarInFuture,
			fmt.Sprintf("received a sample whose timestamp is too far in the future, timestamp: %d series: '%.200s'", t, name),
			"validation.create-grace-period"))
	}
	if l.RejectOldSamples && t < now.Add(-l.RejectOldSamplesMaxAge-l.OutOfOrderTimeWindow).UnixMilli() {
		return mimirBad(mimirTooFarInPast, mimirLimitMessage(mimirTooFarInPast,
			fmt.Sprintf("received a sample whose timestamp is too far in the past, timestamp: %d series: '%.200s'", t, name),
			"validation.past-grace-period"))
	}
	return nil
}

func mimirHistogramSchema(h *wire.Histogram) *Discard {
	s := h.Schema
	if s == customBucketsSchema || s >= exponentialSchemaMin && s <= exponentialSchemaMax {
		return nil
	}
	return mimirBad(mimirInvalidHistogramSchema, mimirMessage(mimirInvalidHistogramSchema,
		fmt.Sprintf("received a native histogram sample with an invalid schema: %d", s)))
}

// mimirMetadata is cleanAndValidateMetadata: a HELP over the limit is cut
// (no error), a long name or unit refused.
func mimirMetadata(l *Limits, m *wire.Metadata) (wire.Metadata, *Discard) {
	var d *Discard
	max := l.MaxMetadataLength
	switch {
	case l.EnforceMetadataMetricName && m.FamilyName == "":
		d = bad(MissingMetricName, mimirMessage(mimirMetadataMissingName, "received a metric metadata with no metric name"))
	case max > 0 && len(m.FamilyName) > max:
		d = bad(MetadataMetricNameTooLong, mimirLimitMessage(mimirMetadataNameTooLong,
			fmt.Sprintf("received a metric metadata whose metric name length exceeds the limit, metric name: '%.200s'", m.FamilyName),
			"validation.max-metadata-length"))
	case max > 0 && len(m.Unit) > max:
		d = bad(MetadataUnitTooLong, mimirLimitMessage(mimirMetadataUnitTooLong,
			fmt.Sprintf("received a metric metadata whose unit name length exceeds the limit, unit: '%.200s' metric name: '%.200s'", m.Unit, m.FamilyName),
			"validation.max-metadata-length"))
	}
	if d != nil {
		d.Metadata, d.CountedMetadata = 1, 1
		return wire.Metadata{}, d
	}
	out := *m
	if max > 0 && len(out.Help) > max {
		n := 0
		for i := range out.Help {
			if i > max {
				break
			}
			n = i
		}
		out.Help = out.Help[:n]
	}
	return out, nil
}

func removeNonASCII(s string) string {
	found := false
	out := strings.Map(func(r rune) rune {
		if r <= unicode.MaxASCII {
			return r
		}
		found = true
		return -1
	}, s)
	if found {
		out += " (non-ascii characters removed)"
	}
	return out
}

// mimirIngesterMessage is the ingester's sampleError text for a sample its
// TSDB refused: "<text> (err-mimir-<ID>). The affected sample has
// timestamp <RFC 3339> and is from series <series>".
func mimirIngesterMessage(l *Limits, cause error, reason Reason, ts int64, series []wire.Label) string {
	var e MimirError
	var msg string
	switch reason {
	case NewValueForTimestamp:
		e, msg = mimirSampleDuplicate, cause.Error()
	case SampleOutOfOrder:
		e, msg = mimirSampleOutOfOrder, "the sample has been rejected because another sample with a more recent timestamp has already been ingested and out-of-order samples are not allowed"
	case SampleTooOld:
		e, msg = mimirSampleTimestampTooOld, "the sample has been rejected because another sample with a more recent timestamp has already been ingested and this sample is beyond the out-of-order time window of "+model.Duration(l.OutOfOrderTimeWindow).String()
	case SampleOutOfBounds:
		e, msg = mimirSampleTimestampTooOld, "the sample has been rejected because its timestamp is too old"
	default:
		return cause.Error()
	}
	return fmt.Sprintf("%s. The affected sample has timestamp %s and is from series %s", mimirMessage(e, msg), formatTimestamp(ts), formatLabelSet(series))
}

// mimirPerUserSeriesLimitMessage and mimirPerMetricSeriesLimitMessage are
// the ingester's series-limit texts (without "user=T: ").
func mimirPerUserSeriesLimitMessage(l *Limits) string {
	return mimirLimitMessage(mimirMaxSeriesPerUser, fmt.Sprintf("per-user series limit of %d exceeded", l.MaxSeriesPerUser),
		"ingester.max-global-series-per-user")
}

func mimirPerMetricSeriesLimitMessage(l *Limits, series []wire.Label) string {
	return mimirLimitMessage(mimirMaxSeriesPerMetric, fmt.Sprintf("per-metric series limit of %d exceeded", l.MaxSeriesPerMetric),
		"ingester.max-global-series-per-metric") + " This is for series " + formatLabelSet(series)
}

// mimirRateLimitedMessage is the distributor's 429 text.
func mimirRateLimitedMessage(l *Limits) string {
	return mimirLimitMessage(mimirIngestionRateLimited,
		fmt.Sprintf("the request has been rejected because the tenant exceeded the ingestion rate limit, set to %v items/s with a maximum allowed burst of %d. This limit is applied on the total number of samples, exemplars and metadata received across all distributors",
			l.IngestionRate, l.IngestionBurstSize),
		"distributor.ingestion-rate-limit", "distributor.ingestion-burst-size")
}
