package backendtest_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/rwkit/rwkit/internal/backendtest"
	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
)

// TestPrometheus3 holds rwkit against a real Prometheus 3 (v3.16,
// module v0.316.0) remote-write receiver: RW 1.0 and RW 2.0 stored as
// sent, and its TSDB's refusals, 400 with the error text alone, classified.
func TestPrometheus3(t *testing.T) {
	s := backendtest.StartPrometheus3(t)
	conform(t, s, expect{
		rw2: wire.V2,
		duplicate: answer{status: http.StatusBadRequest, reason: validate.NewValueForTimestamp,
			text: "duplicate sample for timestamp", read: "1"},
		outOfOrder: answer{status: http.StatusBadRequest, reason: validate.SampleOutOfOrder,
			text: "out of order sample", read: ""},
		// Prometheus 3 validates label names as UTF-8 (its default
		// name validation scheme): "bad-name" is a name like any other.
		badName: answer{read: "1"},
		// A series whose labels are not valid UTF-8 is skipped, and the
		// request answered 2xx (RW 1.0: the receiver logs it and moves on).
		badUTF8: answer{read: ""},
		// No label length limit.
		longValue: answer{read: "1"},
		// Older than the head block takes: TSDB's ErrOutOfBounds.
		tooOld: answer{status: http.StatusBadRequest, reason: validate.SampleOutOfBounds,
			text: "out of bounds", read: ""},
	})
}

// TestPrometheus3RW1Only holds rwkit's RW 2.0 fallback against a real
// Prometheus 3 receiver configured to take RW 1.0 only: it answers RW 2.0
// with 415, and the push is resent, and stored, as RW 1.0.
func TestPrometheus3RW1Only(t *testing.T) {
	s := backendtest.StartPrometheus3(t, "--web.remote-write-receiver.accepted-protobuf-messages=prometheus.WriteRequest")
	roundTrip(context.Background(), t, s, wire.V2, time.Now().Truncate(time.Millisecond), wire.V1, http.StatusUnsupportedMediaType)
}
