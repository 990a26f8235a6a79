package validate

import (
	"fmt"
	"math"

	"github.com/rwkit/rwkit/wire"
)

// The workspace's store reports what its TSDB refused; the functions below
// give those refusals Cortex v1.21.1's ingester texts
// (pkg/ingester/ingester.go wrappedTSDBIngestErr, limiter.go FormatError,
// errors.go). Cortex's ingester keeps appending after such a refusal,
// counts each refused sample under its reason, and answers with the first
// one, which the distributor passes on in place of its own validation
// error.

// IngesterMessage is the ingester's text for a sample the TSDB refused,
// without the "user=T: " prefix (see UserMessage):
//
//	err: duplicate sample for timestamp 1795611126435; overrides not allowed: existing 1, new value 2. series={__name__="m", job="j"}
//	err: out of order sample. timestamp=2026-11-25T12:51:06.435Z, series={__name__="m", job="j"}
//
// series are the stored (sorted) labels; existing and new matter only for
// NewValueForTimestamp. An existing value of NaN stands for "the existing
// sample is a histogram" (a float sent over a histogram); for a histogram
// sent over an existing sample the TSDB gives no details: pass ts 0, which
// yields "err: duplicate sample for timestamp. series=...". Reasons that
// are not TSDB refusals give "".
func IngesterMessage(reason Reason, ts int64, series []wire.Label, existing, new float64) string {
	var cause string
	switch reason {
	case NewValueForTimestamp:
		// Prometheus' errDuplicateSampleForTimestamp; the ingester leaves
		// the timestamp out of the suffix because the cause has it.
		return fmt.Sprintf("err: %s. series=%s", duplicateCause(ts, existing, new), LabelsString(series))
	case SampleOutOfOrder:
		cause = "out of order sample"
	case SampleOutOfBounds:
		cause = "out of bounds"
	case SampleTooOld:
		cause = "too old sample"
	default:
		return ""
	}
	return fmt.Sprintf("err: %s. timestamp=%s, series=%s", cause, formatTimestamp(ts), LabelsString(series))
}

func duplicateCause(ts int64, existing, new float64) string {
	switch {
	case ts == 0:
		return "duplicate sample for timestamp"
	case math.IsNaN(existing):
		return fmt.Sprintf("duplicate sample for timestamp %d; overrides not allowed: existing is a histogram, new value %g", ts, new)
	}
	return fmt.Sprintf("duplicate sample for timestamp %d; overrides not allowed: existing %g, new value %g", ts, existing, new)
}

// UserMessage prefixes an ingester text with the tenant, as the ingester's
// wrapWithUser does: "user=T: ...".
func UserMessage(tenant, msg string) string {
	return "user=" + tenant + ": " + msg
}

// CortexWrap adds what Cortex's distributor puts in front of an ingester's
// error when it passes it on (ring.DoBatch via
// httpgrpcutil.WrapHTTPGrpcError): the ingester's address, ring state and
// zone, then the gRPC status text. addr is e.g. "127.0.0.1:9095"; a single
// ACTIVE ingester without zone is assumed.
func CortexWrap(addr string, status int, msg string) string {
	return fmt.Sprintf("maxFailure (quorum) on a given error family, addr=%s state=ACTIVE zone=, rpc error: code = Code(%d) desc = %s", addr, status, msg)
}

// adminLimitMessage is Cortex's default -ingester.admin-limit-message.
const adminLimitMessage = "please contact administrator to raise it"

// PerUserSeriesLimitMessage is the ingester's text when the tenant has
// MaxSeriesPerUser series and a new one arrives (without "user=T: ").
// Limits holds local limits only: the global limit prints as 0.
func PerUserSeriesLimitMessage(l *Limits) string {
	return fmt.Sprintf("per-user series limit of %d exceeded, %s (local limit: %d global limit: %d actual local limit: %d)",
		l.MaxSeriesPerUser, adminLimitMessage, l.MaxSeriesPerUser, 0, actualLimit(l.MaxSeriesPerUser))
}

// PerMetricSeriesLimitMessage is the ingester's text when the metric of
// series has MaxSeriesPerMetric series and a new one arrives (without
// "user=T: "). series are the stored labels of the refused series.
func PerMetricSeriesLimitMessage(l *Limits, series []wire.Label) string {
	name, _ := wire.MetricName(series)
	return fmt.Sprintf("per-metric series limit of %d exceeded for metric %s, %s (local limit: %d global limit: %d actual local limit: %d) for series %s",
		l.MaxSeriesPerMetric, name, adminLimitMessage, l.MaxSeriesPerMetric, 0, actualLimit(l.MaxSeriesPerMetric), LabelsString(series))
}

// actualLimit is what the limiter enforces: a disabled (0) limit becomes
// math.MaxInt32.
func actualLimit(n int) int {
	if n <= 0 {
		return math.MaxInt32
	}
	return n
}

// SeriesLimitReached reports whether a new series is refused when the
// tenant (or the metric) already has count series: Cortex's limiter refuses
// once count reaches the limit; 0 means no limit.
func SeriesLimitReached(count, limit int) bool {
	return limit > 0 && count >= limit
}

// IngesterStatus is the HTTP status for a refusal the ingester reports:
// 400 for TSDB refusals, l.SeriesLimitStatus for series limits.
func IngesterStatus(l *Limits, r Reason) int {
	switch r {
	case PerUserSeriesLimit, PerMetricSeriesLimit, PerLabelsetSeriesLimit, PerUserNativeHistogramSeriesLimit:
		if l != nil && l.SeriesLimitStatus != 0 {
			return l.SeriesLimitStatus
		}
	}
	return Status(r)
}

// PrometheusMessage is the text Prometheus' own receiver answers (400) for
// the first sample its TSDB refuses; it then rolls the whole request back.
func PrometheusMessage(reason Reason, ts int64, existing, new float64) string {
	switch reason {
	case NewValueForTimestamp:
		return duplicateCause(ts, existing, new)
	case SampleOutOfOrder:
		return "out of order sample"
	case SampleOutOfBounds:
		return "out of bounds"
	case SampleTooOld:
		return "too old sample"
	}
	return ""
}
