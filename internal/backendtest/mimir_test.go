package backendtest_test

import (
	"net/http"
	"testing"

	"github.com/rwkit/rwkit/internal/backendtest"
	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
)

// TestMimir holds rwkit against a real Mimir (module
// v1.3.1-0.20260423142704-aced80d74930) in one process: RW 1.0 and RW 2.0
// on /api/v1/push stored as sent, and each refusal, 400 with a message
// ending in Mimir's error ID, classified by that ID.
func TestMimir(t *testing.T) {
	s := backendtest.StartMimir(t)
	conform(t, s, expect{
		rw2: wire.V2,
		duplicate: answer{status: http.StatusBadRequest, reason: validate.NewValueForTimestamp,
			text: "(err-mimir-sample-duplicate-timestamp)", read: "1"},
		outOfOrder: answer{status: http.StatusBadRequest, reason: validate.SampleOutOfOrder,
			text: "(err-mimir-sample-out-of-order)", read: ""},
		// Mimir validates label names by Prometheus' legacy rules by
		// default, so "bad-name" is refused by the distributor.
		badName: answer{status: http.StatusBadRequest, reason: validate.InvalidLabel,
			text: "received a series with an invalid label: 'bad-name'", read: ""},
		badUTF8: answer{status: http.StatusBadRequest, reason: validate.InvalidLabel,
			text: "(err-mimir-label-invalid)", read: ""},
		longValue: answer{status: http.StatusBadRequest, reason: validate.LabelValueTooLong,
			text: "exceeds the limit of 2048", read: ""},
		// No out-of-order window: the ID Mimir gives TSDB's out of bounds.
		tooOld: answer{status: http.StatusBadRequest, reason: validate.SampleOutOfBounds,
			text: "its timestamp is too old (err-mimir-sample-timestamp-too-old)", read: ""},
	})
}
