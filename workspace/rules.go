package workspace

import (
	"fmt"
	"strings"
	"time"

	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
)

// Package validate holds the distributor's rules (ValidateRequest) and the
// rate limiter; the workspace plays the ingester, whose texts are here.

const metricNameLabel = "__name__"

func metricName(ls []wire.Label) string {
	for _, l := range ls {
		if l.Name == metricNameLabel {
			return l.Value
		}
	}
	return ""
}

// Cortex's ingester texts (pkg/ingester/ingester.go, errors.go, limiter.go
// at v1.21.1).

// userText is wrapWithUser: every ingester error is prefixed with the tenant.
func userText(tenant, msg string) string { return "user=" + tenant + ": " + msg }

// tsdbText is wrappedTSDBIngestErr: "err: %v. timestamp=%s, series=%s", or
// without the timestamp for a duplicate (the TSDB's text carries it).
func tsdbText(err error, reason validate.Reason, ts int64, ls []wire.Label) string {
	if reason == validate.NewValueForTimestamp {
		return fmt.Sprintf("err: %v. series=%s", err, validate.LabelsString(ls))
	}
	return fmt.Sprintf("err: %v. timestamp=%s, series=%s", err, time.UnixMilli(ts).UTC().Format(time.RFC3339Nano), validate.LabelsString(ls))
}

const adminLimitMessage = "please contact administrator to raise it"

func perUserSeriesText(limit int) string {
	return fmt.Sprintf("per-user series limit of %d exceeded, %s (local limit: %d global limit: %d actual local limit: %d)",
		limit, adminLimitMessage, limit, 0, limit)
}

func perMetricSeriesText(limit int, ls []wire.Label) string {
	return fmt.Sprintf("per-metric series limit of %d exceeded for metric %s, %s (local limit: %d global limit: %d actual local limit: %d) for series %s",
		limit, metricName(ls), adminLimitMessage, limit, 0, limit, validate.LabelsString(ls))
}

func compareLabels(a, b wire.Label) int { return strings.Compare(a.Name, b.Name) }
