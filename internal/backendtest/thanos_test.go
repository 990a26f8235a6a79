package backendtest_test

import (
	"net/http"
	"testing"

	"github.com/rwkit/rwkit/internal/backendtest"
	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
)

// TestThanos holds rwkit against a real Thanos v0.42.4 Receive, read back
// through a Thanos Query: RW 1.0 stored as sent; the TSDB's refusals come
// as 409 Conflict (Thanos' status for them, where Prometheus answers 400),
// with Prometheus' texts after Receive's own context, and are classified
// by those texts.
func TestThanos(t *testing.T) {
	s := backendtest.StartThanos(t)
	conform(t, s, expect{
		// No RW 2.0 receiver in v0.42: an RW 2.0 request is answered 200
		// without the written-count headers, so rwkit resends as RW 1.0.
		rw2:            wire.V1,
		fallbackStatus: http.StatusOK,
		duplicate: answer{status: http.StatusConflict, reason: validate.NewValueForTimestamp,
			text: "writing locally: add 1 samples: duplicate sample for timestamp", read: "1"},
		outOfOrder: answer{status: http.StatusConflict, reason: validate.SampleOutOfOrder,
			text: "out of order sample", read: ""},
		// Receive checks only that labels are non-empty, sorted and
		// unique: any name is stored, valid UTF-8 or not, at any length.
		badName:   answer{read: "1"},
		badUTF8:   answer{read: "1"},
		longValue: answer{read: "1"},
		tooOld: answer{status: http.StatusConflict, reason: validate.SampleOutOfBounds,
			text: "out of bounds", read: ""},
	})
}
