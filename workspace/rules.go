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
}

// policyFor is the policy of the limits' backend.
func policyFor(b validate.Backend) policy {
	switch b {
	case validate.BackendPrometheus:
		return policy{rollBack: true, collectV2: true, acceptedV1: http.StatusNoContent}
	default:
		// Cortex, and Mimir, which keeps Cortex's distributor and
		// ingester shape.
		return policy{distributor: true, v2NeedsData: b == validate.BackendCortex, acceptedV1: http.StatusOK}
	}
}
