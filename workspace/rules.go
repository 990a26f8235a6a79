package workspace

import (
	"fmt"
	"time"

	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
)

// Package validate holds the distributor's rules (ValidateRequest) and the
// rate limiter; the workspace plays the ingester, whose texts are here.

// Cortex's ingester texts (pkg/ingester/ingester.go, errors.go, limiter.go
// at v1.21.1).

// tsdbText is wrappedTSDBIngestErr: "err: %v. timestamp=%s, series=%s", or
// without the timestamp for a duplicate (the TSDB's text carries it).
func tsdbText(err error, reason validate.Reason, ts int64, ls []wire.Label) string {
	if reason == validate.NewValueForTimestamp {
		return fmt.Sprintf("err: %v. series=%s", err, validate.LabelsString(ls))
	}
	return fmt.Sprintf("err: %v. timestamp=%s, series=%s", err, time.UnixMilli(ts).UTC().Format(time.RFC3339Nano), validate.LabelsString(ls))
}
