package validate

import (
	"fmt"
	"math"

	"github.com/rwkit/rwkit/wire"
)

// Cortex's ingester texts have their one home here: the workspace plays the
// ingester (its store reports what the TSDB refused, its admit the series
// limits) and answers with the functions below, which give those refusals
// Cortex v1.21.1's ingester texts
// (pkg/ingester/ingester.go wrappedTSDBIngestErr, limiter.go FormatError,
// errors.go). Cortex's ingester keeps appending after such a refusal,
// counts each refused sample under its reason, and answers with the first
// one, which the distributor passes on in place of its own validation
// error.

// IngesterMessage is the ingester's text for a sample its TSDB refused
// with cause, without the "user=T: " prefix (see UserMessage). It is
// Cortex's wrappedTSDBIngestErr: the TSDB's error text, the timestamp and
// the stored (sorted) series labels:
//
//	err: out of order sample. timestamp=2026-11-25T12:51:06.435Z, series={__name__="m", job="j"}
//	err: duplicate sample for timestamp 1795611126435; overrides not allowed: existing 1, new value 2. series={__name__="m", job="j"}
//
// For NewValueForTimestamp the timestamp is left out, because the TSDB's
// text carries it (for a histogram over an existing sample it gives no
// details: "err: duplicate sample for timestamp. series=..."). The cause's
// text is used as it is, so a refusal the workspace's store adds (a batch
// still being committed) reads as it was raised.
func IngesterMessage(cause error, reason Reason, ts int64, series []wire.Label) string {
	if reason == NewValueForTimestamp {
		return fmt.Sprintf("err: %v. series=%s", cause, LabelsString(series))
	}
	return fmt.Sprintf("err: %v. timestamp=%s, series=%s", cause, formatTimestamp(ts), LabelsString(series))
}

// IngesterRefusal is the ingester's answer, for the limits' backend, to a
// sample its TSDB refused with cause: IngesterMessage prefixed with the
// tenant for Cortex, Mimir's sampleError text for Mimir.
func IngesterRefusal(l *Limits, tenant string, cause error, reason Reason, ts int64, series []wire.Label) string {
	if l.Backend == BackendMimir {
		return UserMessage(tenant, mimirIngesterMessage(l, cause, reason, ts, series))
	}
	return UserMessage(tenant, IngesterMessage(cause, reason, ts, series))
}

// UserMessage prefixes an ingester text with the tenant, as the ingester's
// wrapWithUser does: "user=T: ...".
func UserMessage(tenant, msg string) string {
	return "user=" + tenant + ": " + msg
}

// adminLimitMessage is Cortex's default -ingester.admin-limit-message.
const adminLimitMessage = "please contact administrator to raise it"

// PerUserSeriesLimitMessage is the ingester's text when the tenant has
// MaxSeriesPerUser series and a new one arrives (without "user=T: ").
// Limits holds local limits only: the global limit prints as 0.
func PerUserSeriesLimitMessage(l *Limits) string {
	if l.Backend == BackendMimir {
		return mimirPerUserSeriesLimitMessage(l)
	}
	return fmt.Sprintf("per-user series limit of %d exceeded, %s (local limit: %d global limit: %d actual local limit: %d)",
		l.MaxSeriesPerUser, adminLimitMessage, l.MaxSeriesPerUser, 0, actualLimit(l.MaxSeriesPerUser))
}

// PerMetricSeriesLimitMessage is the ingester's text when the metric of
// series has MaxSeriesPerMetric series and a new one arrives (without
// "user=T: "). series are the stored labels of the refused series.
func PerMetricSeriesLimitMessage(l *Limits, series []wire.Label) string {
	if l.Backend == BackendMimir {
		return mimirPerMetricSeriesLimitMessage(l, series)
	}
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
