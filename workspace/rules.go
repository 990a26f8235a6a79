package workspace

import (
	"net/http"

	"github.com/rwkit/rwkit/validate"
)

// Package validate holds the distributor's rules (ValidateRequest), the
// rate limiter and the texts of the ingester, which the workspace plays
// (validate/ingester.go). policy is what differs between the backends the
// workspace plays once a request has been validated.

// policy is how one backend profile treats a request past validation.
type policy struct {
	// distributor: Cortex's distributor and ingester are played. An RW 2.0
	// series without data refuses the whole request (Cortex converts RW
	// 2.0 to 1.0 first: convertV2RequestToV1 in pkg/util/push/push.go), and
	// the ingestion rate limit and the ingester's series limits apply.
	distributor bool
	// v2NeedsData: an RW 2.0 series without samples or histograms refuses
	// the whole request (Cortex, which converts RW 2.0 to 1.0 first).
	// Mimir takes a metadata-only series.
	v2NeedsData bool
	// rollBack: the first sample the TSDB refuses rolls the whole request
	// back and is answered with the TSDB's own text (Prometheus). Without
	// it the refused sample is counted and the request goes on; the answer
	// is the ingester's text for the first refusal (Cortex).
	rollBack bool
	// collectV2: an RW 2.0 request is never rolled back; every refused
	// series or sample adds its line to one 400, in series order, and
	// the rest is written (Prometheus 3's writeHandler.appendV2, with the
	// texts of validate.ValidateRequestV2 and PrometheusV2Message).
	collectV2 bool
	// acceptedV1 is the status of an RW 1.0 write accepted whole: Cortex
	// answers 200 with an empty body, Prometheus 204. RW 2.0 is always 204.
	acceptedV1 int
	// dropWithinRequest: a sample that conflicts with an earlier sample of
	// its series in the same request (a second value for one timestamp, or
	// an older timestamp: store.AppendError.WithinBatch) is dropped as the
	// backend's TSDB drops it at commit, and the request is answered as if
	// it were not there (Cortex, Mimir and Prometheus: 2xx, nothing
	// counted). rwkit tells what they do not: rwkit_dropped_samples_total,
	// the X-Rwkit-Dropped header and the collisions log. Without it
	// (WithStrict) such a sample is refused like any other.
	dropWithinRequest bool
}

// policyFor is the policy of the limits' backend; strict refuses what the
// backend drops silently (WithStrict).
func policyFor(b validate.Backend, strict bool) policy {
	switch b {
	case validate.BackendPrometheus:
		return policy{rollBack: true, collectV2: true, acceptedV1: http.StatusNoContent, dropWithinRequest: !strict}
	default:
		// Cortex, and Mimir, which keeps Cortex's distributor and
		// ingester shape.
		return policy{distributor: true, v2NeedsData: b == validate.BackendCortex, acceptedV1: http.StatusOK, dropWithinRequest: !strict}
	}
}
