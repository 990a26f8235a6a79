package workspace

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/rwkit/rwkit/wire"
)

// Request limits beyond Cortex's. Cortex bounds a write by its size only
// (max_recv_msg_size); a few bytes of protobuf can stand for much more
// memory once decoded (an empty series is 2 bytes on the wire and 152 in
// a wire.TimeSeries), so the workspace decodes with limits on the series
// and the decoded memory of a body (wire.Decoder: it counts each table
// before allocating it and stops at the first one past a limit), and
// bounds how many writes it handles at once.
const (
	// DefaultMaxSeriesPerRequest bounds the series (and RW 1.0 metadata
	// entries) of one write: 413 past it, counted before any series is
	// decoded. Prometheus sends at most 2000 samples per request
	// (max_samples_per_send), so this leaves two orders of magnitude.
	DefaultMaxSeriesPerRequest = 1 << 18
	// DefaultMaxConcurrentWrites bounds the remote writes handled at once;
	// one more is answered 503 with Retry-After, unread.
	DefaultMaxConcurrentWrites = 16
	// decodedMemoryFactor: a write whose decoded structures would take
	// more than this many times the decoded-bytes limit is refused (413)
	// by the decoder, before it allocates past the limit. Honest RW 1.0
	// traffic takes about twice its bytes.
	decodedMemoryFactor = 4
	// retryAfterSeconds is the Retry-After of a write refused because
	// DefaultMaxConcurrentWrites are in flight.
	retryAfterSeconds = 1
)

// WithMaxSeriesPerRequest bounds the series of one remote write (default
// DefaultMaxSeriesPerRequest). A write with more is refused with 413
// before any of its series is decoded.
func WithMaxSeriesPerRequest(n int) Option {
	return optionFunc(func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("workspace: WithMaxSeriesPerRequest(%d): must be positive", n)
		}
		c.maxSeries = n
		return nil
	})
}

// WithMaxConcurrentWrites bounds the remote writes handled at once
// (default DefaultMaxConcurrentWrites). One more is answered 503 Service
// Unavailable with Retry-After: 1 before its body is read: every
// remote-write client retries 5xx (Prometheus honours Retry-After on
// them), while 429 is Cortex's answer to a tenant over its ingestion rate
// and is counted as rate_limited discards by those who watch it. Queries
// are not counted.
func WithMaxConcurrentWrites(n int) Option {
	return optionFunc(func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("workspace: WithMaxConcurrentWrites(%d): must be positive", n)
		}
		c.maxConcurrent = n
		return nil
	})
}

// decoder is the workspace's decoder of remote-write bodies: strings are
// views of the body (see write), and the series and decoded-memory limits
// apply.
func (w *Workspace) decoder() wire.Decoder {
	return wire.Decoder{View: true, MaxSeries: w.cfg.maxSeries, MaxMemory: int64(w.cfg.maxDecoded) * decodedMemoryFactor}
}

// overLimit is the 413 text and rwkit's hint for a body the decoder
// refused past a limit.
func (w *Workspace) overLimit(le *wire.LimitError) (string, string) {
	if le.Limit == wire.LimitSeries {
		return fmt.Sprintf("received message with more than %d series (limit %d)", w.cfg.maxSeries, w.cfg.maxSeries),
			splitHint(w.cfg.limitNames.MaxSeriesPerRequest)
	}
	maxMemory := int64(w.cfg.maxDecoded) * decodedMemoryFactor
	return fmt.Sprintf("received message that decodes to more than %d bytes of series, labels and samples (limit %d: %d times the decoded size limit)", maxMemory, maxMemory, decodedMemoryFactor),
		"rwkit: the body holds unusually many tiny series, labels, samples or histograms for its size; split the write into smaller requests (the decoded size limit is set by " + w.cfg.limitNames.MaxDecodedBytes + ")"
}

// splitHint is rwkit's line for a write over the limit that setting sets.
func splitHint(setting string) string {
	return "rwkit: split the write into smaller requests (the limit is set by " + setting + ")"
}

// writeLimiter is a semaphore over remote writes.
type writeLimiter chan struct{}

func newWriteLimiter(n int) writeLimiter { return make(writeLimiter, n) }

// acquire takes a slot without waiting; false when all are taken.
func (l writeLimiter) acquire() bool {
	select {
	case l <- struct{}{}:
		return true
	default:
		return false
	}
}

func (l writeLimiter) release() { <-l }

// refuseBusy answers a write over the concurrency limit.
func (w *Workspace) refuseBusy(rw http.ResponseWriter) int {
	rw.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds))
	return refuse(rw, http.StatusServiceUnavailable,
		fmt.Sprintf("too many concurrent remote writes (limit %d)", w.cfg.maxConcurrent),
		"rwkit: the workspace is handling as many writes as it takes at once (the limit is set by "+w.cfg.limitNames.MaxConcurrentWrites+"); retry after the Retry-After seconds")
}
