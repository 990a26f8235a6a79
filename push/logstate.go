package push

import (
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/rwkit/rwkit/identity"
	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/wire"
)

// logState turns outcomes into one log line per state change: the first
// delivered push, a refusal (again when its status or reason changes), the
// end of refusals, an outage and its end, the first buffer drop of an
// outage, a snapshot that cannot be built and its repair, pushes overrunning
// the interval. Steady states log nothing. Guarded by Pusher.sem.
//
// It keeps what its lines name (logger, clock, endpoint, identity, buffer
// bounds) from newLogState, and is told the rest, so that it does not
// reach back into the Pusher or Queue that owns it.
type logState struct {
	log         *slog.Logger
	clock       clock
	url         string // the endpoint, secrets hidden
	identity    string
	bufMaxBytes int
	bufMaxAge   time.Duration

	delivered bool // the first delivery was logged

	reached bool // a write reached the backend in this push

	outage      bool
	outageSince time.Time
	fromBuffer  int // snapshots delivered from the buffer during the outage
	dropped     int // snapshots dropped during the outage
	dropLogged  bool

	refusal  string // status and reason of the current run of refusals
	refusals int

	buildErr string
}

// newLogState returns the log state of a sender to url (secrets hidden)
// whose identity labels are id (nil without them) and whose buffer is buf.
func newLogState(log *slog.Logger, clk clock, url string, id *identity.Identity, buf *buffer) logState {
	s := logState{log: log, clock: clk, url: url, identity: "none (WithoutIdentity)", bufMaxBytes: buf.maxBytes, bufMaxAge: buf.maxAge}
	if id != nil {
		s.identity = id.String()
	}
	return s
}

func (s *logState) noteOutage(err error) {
	if s.outage {
		return
	}
	s.outage, s.outageSince, s.fromBuffer, s.dropped, s.dropLogged = true, s.clock.Now(), 0, 0, false
	attrs := []any{"url", s.url, "buffer_max_bytes", s.bufMaxBytes, "buffer_max_age", s.bufMaxAge, "err", err.Error()}
	var e *remotewrite.Error
	if errors.As(err, &e) {
		attrs = append(attrs, "status", e.StatusCode, "hint", e.Hint, "attempts", e.Attempts)
		if e.RetryAfter > 0 {
			attrs = append(attrs, "retry_after", e.RetryAfter)
		}
	}
	if s.bufMaxBytes > 0 {
		s.log.Warn("push: cannot deliver to the backend; buffering snapshots until it is back", attrs...)
	} else {
		s.log.Warn("push: cannot deliver to the backend; buffering is off, snapshots are dropped", attrs...)
	}
}

// noteReachable is called at the end of a push in which no write failed
// retryably; series and version describe what was sent.
func (s *logState) noteReachable(delivered bool, series int, version wire.Version) {
	if !s.reached {
		return
	}
	s.reached = false
	if delivered && !s.delivered {
		s.delivered = true
		s.log.Info("push: first push delivered", "url", s.url, "series", series, "version", version.String())
	}
	if s.outage {
		s.outage = false
		s.log.Info("push: backend reachable again", "url", s.url, "outage", s.clock.Now().Sub(s.outageSince),
			"delivered_from_buffer", s.fromBuffer, "dropped", s.dropped)
	}
}

func (s *logState) noteRefusal(e *remotewrite.Error, req *wire.WriteRequest) {
	key := strconv.Itoa(e.StatusCode) + " " + string(e.Reason)
	s.refusals++
	if key == s.refusal {
		return
	}
	s.refusal = key
	attrs := []any{
		"status", e.StatusCode, "reason", reasonLabel(e), "hint", e.Hint, "body", e.Body,
		"url", e.URL, "version", e.Version.String(),
		"request", e.Request, "requests", e.Requests,
		"bytes", e.BytesCompressed, "raw_bytes", e.BytesUncompressed,
		"series", e.Series, "samples", e.Samples, "histograms", e.Histograms,
		"write_series", e.Total.Series, "write_samples", e.Total.Samples,
		"delivered_samples", e.Delivered.Samples,
		"identity", s.identity,
	}
	if len(req.Series) > 0 && len(req.Series[0].Samples) > 0 {
		attrs = append(attrs, "timestamp", req.Series[0].Samples[0].Timestamp)
	}
	s.log.Error("push: backend refused samples; they are not retried", attrs...)
}

// noteAccepted ends a run of refusals.
func (s *logState) noteAccepted() {
	if s.refusal == "" {
		return
	}
	s.log.Info("push: backend accepts writes again", "url", s.url, "refused_writes", s.refusals, "last_refusal", s.refusal)
	s.refusal, s.refusals = "", 0
}

// noteDrops logs the first drops of an outage; buffered and bufferBytes
// are what the buffer holds after them.
func (s *logState) noteDrops(drops []drop, buffered, bufferBytes int) {
	s.dropped += len(drops)
	if s.dropLogged {
		return
	}
	s.dropLogged = true
	d := drops[0]
	s.log.Warn("push: dropping buffered snapshots; later drops are counted, not logged, until the backend is back",
		"reason", d.reason, "snapshots", len(drops), "oldest_timestamp", d.s.ts, "samples", d.s.samples,
		"buffered", buffered, "buffer_bytes", bufferBytes, "buffer_max_bytes", s.bufMaxBytes, "buffer_max_age", s.bufMaxAge)
}

func (s *logState) noteBuild(err error, partial bool) {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	if msg == s.buildErr {
		return
	}
	prev := s.buildErr
	s.buildErr = msg
	switch {
	case err == nil:
		s.log.Info("push: snapshots build again", "previous_error", prev)
	case partial:
		s.log.Warn("push: a collector failed; pushing the metrics the others gathered", "err", msg)
	default:
		s.log.Error("push: cannot build a snapshot; nothing is sent until this is fixed", "err", msg)
	}
}
