package store

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/storage"

	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
)

// AppendError is a sample the TSDB refused. Only that sample is refused:
// the rest of the Appender's batch still commits, as Cortex keeps the valid
// samples of a request.
type AppendError struct {
	// Reason is Cortex's name for the refusal, validate.Unknown when the
	// TSDB error has none (e.g. an invalid native histogram).
	Reason validate.Reason
	// Timestamp is the refused sample's, in milliseconds.
	Timestamp int64
	// Existing is the value already stored at Timestamp; set only for
	// NewValueForTimestamp on a float series (HasExisting).
	Existing    float64
	HasExisting bool
	// New is the refused float value (0 for histograms).
	New float64
	// Err is the TSDB's error (storage.ErrOutOfOrderSample, ...).
	Err error
	// WithinBatch: the sample conflicts with an earlier sample of its
	// series appended by the same Appender (a second value for one
	// timestamp, NewValueForTimestamp, or an older timestamp,
	// SampleOutOfOrder), and committed data allows it. The TSDB drops such
	// a sample at Commit without a word, and so does Cortex's ingester,
	// which answers the request 200: the earlier sample is the one stored.
	// It is not stored whatever the caller does; the rest of the batch
	// commits.
	WithinBatch bool
}

func (e *AppendError) Error() string {
	var b strings.Builder
	if e.Reason != validate.Unknown {
		b.WriteString(string(e.Reason))
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	if e.Reason == validate.NewValueForTimestamp && !strings.Contains(b.String(), "existing") {
		// Histogram duplicates carry no values in the TSDB's text.
		fmt.Fprintf(&b, " (timestamp %d)", e.Timestamp)
	}
	return b.String()
}

// Unwrap returns the TSDB error, so errors.Is(err, storage.ErrOutOfBounds)
// works.
func (e *AppendError) Unwrap() error { return e.Err }

// reasonOf maps the TSDB's per-sample errors to Cortex's reasons. The same
// errors come back for floats and native histograms
// (tsdb/head_append.go memSeries.appendable, appendableHistogram and
// appendableFloatHistogram), and Cortex's ingester maps them the same way
// for both (pkg/ingester/ingester.go, Push: "case storage.ErrOutOfBounds:
// sampleOutOfBoundsCount++" and so on).
func reasonOf(err error) validate.Reason {
	switch {
	case errors.Is(err, storage.ErrDuplicateSampleForTimestamp):
		return validate.NewValueForTimestamp
	case errors.Is(err, storage.ErrOutOfOrderSample):
		return validate.SampleOutOfOrder
	case errors.Is(err, storage.ErrOutOfBounds):
		return validate.SampleOutOfBounds
	case errors.Is(err, storage.ErrTooOldSample):
		return validate.SampleTooOld
	}
	return validate.Unknown
}

// existingFromDuplicate reads the stored value out of the TSDB's duplicate
// error. storage.errDuplicateSampleForTimestamp keeps it in unexported
// fields and prints it with %g (storage/errors.go), which is the shortest
// representation that parses back to the same float64, so nothing is lost.
// ok is false when the text carries no value (histograms, older formats).
func existingFromDuplicate(err error) (existing float64, ok bool) {
	msg := err.Error()
	const pre, post = "existing ", ", new value "
	i := strings.Index(msg, pre)
	if i < 0 {
		return 0, false
	}
	rest := msg[i+len(pre):]
	j := strings.Index(rest, post)
	if j < 0 {
		return 0, false
	}
	v, perr := strconv.ParseFloat(rest[:j], 64)
	if perr != nil {
		return 0, false
	}
	return v, true
}

// Duplicate is the refusal of value v at ts where existing is known to be
// written, as the TSDB would refuse it had existing been stored: the
// workspace's pass-through mode, which stores nothing, checks a sample
// against the last value it forwarded for the series.
func Duplicate(ts int64, existing, v float64) *AppendError {
	return &AppendError{Reason: validate.NewValueForTimestamp, Timestamp: ts, Existing: existing, HasExisting: true, New: v,
		Err: fmt.Errorf("%w: existing %g, new value %g (the existing value was forwarded upstream earlier)", storage.ErrDuplicateSampleForTimestamp, existing, v)}
}

// Errors of samples refused because of a batch still in flight (see
// pendingSet). They match the TSDB's sentinels with errors.Is.
var (
	errPendingDuplicate  = fmt.Errorf("%w: another value for this series and timestamp is being committed", storage.ErrDuplicateSampleForTimestamp)
	errPendingOutOfOrder = fmt.Errorf("%w: a newer sample of this series is being committed", storage.ErrOutOfOrderSample)

	// AppendError.WithinBatch.
	errBatchDuplicate  = fmt.Errorf("%w: an earlier sample of this series in the same batch has this timestamp and another value", storage.ErrDuplicateSampleForTimestamp)
	errBatchOutOfOrder = fmt.Errorf("%w: an earlier sample of this series in the same batch is newer", storage.ErrOutOfOrderSample)
)

const (
	reasonNewValue   = validate.NewValueForTimestamp
	reasonOutOfOrder = validate.SampleOutOfOrder
)

// BatchConflict is the refusal of the float sample (ts, v) of a series
// whose earlier sample in the same batch is (prevTs, prev), as an
// Appender refuses it (AppendError.WithinBatch: another value for the
// timestamp, or an older timestamp unless outOfOrderAllowed), or nil when
// the TSDB takes it. The workspace's pass-through mode, which appends
// nothing, checks its requests with it.
func BatchConflict(prevTs int64, prev float64, ts int64, v float64, outOfOrderAllowed bool) *AppendError {
	e := pendingSample{t: prevTs, v: math.Float64bits(prev)}
	ae, refused := e.conflict(pendingSample{t: ts, v: math.Float64bits(v)}, outOfOrderAllowed)
	if !refused {
		return nil
	}
	ae.WithinBatch = true
	ae.Err = errBatchDuplicate
	if ae.Reason == reasonOutOfOrder {
		ae.Err = errBatchOutOfOrder
	}
	return ae
}

// CheckHistogram is the TSDB's refusal of a native histogram that fails
// its validation (the head checks it before anything else), or nil: what
// an Appender would refuse of h in a batch with no other sample of its
// series, without appending it.
func CheckHistogram(h *wire.Histogram) *AppendError {
	ih, fh := convertHistogram(h)
	var err error
	if fh != nil {
		err = fh.Validate()
	} else {
		err = ih.Validate()
	}
	if err == nil {
		return nil
	}
	return &AppendError{Reason: reasonOf(err), Timestamp: h.Timestamp, Err: err}
}
