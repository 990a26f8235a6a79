package workspace

import (
	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
)

// Package validate holds the distributor's rules (ValidateRequest), the
// rate limiter and the texts of the ingester, which the workspace plays
// (validate/ingester.go).

// tsdbText is the ingester's text for a sample the TSDB refused, made by
// validate.IngesterMessage (Cortex's wrappedTSDBIngestErr).
func tsdbText(err error, reason validate.Reason, ts int64, ls []wire.Label) string {
	return validate.IngesterMessage(err, reason, ts, ls)
}
