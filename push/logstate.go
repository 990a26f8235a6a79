package push

import (
	"errors"
	"strconv"
	"time"

	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/wire"
)

// logState turns outcomes into one log line per state change: the first
// delivered push, a refusal (again when its status or reason changes), the
// end of refusals, an outage and its end, the first buffer drop of an
// outage, a snapshot that cannot be built and its repair, pushes overrunning
// the interval. Steady states log nothing. Guarded by Pusher.sem.
type logState struct {
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

func (s *logState) noteOutage(p *sender, err error) {
	if s.outage {
		return
	}
	s.outage, s.outageSince, s.fromBuffer, s.dropped, s.dropLogged = true, p.clock.Now(), 0, 0, false
	attrs := []any{"url", p.client.URL(), "buffer_max_bytes", p.buf.maxBytes, "buffer_max_age", p.buf.maxAge, "err", err.Error()}
	var e *remotewrite.Error
	if errors.As(err, &e) {
		attrs = append(attrs, "status", e.StatusCode, "hint", e.Hint, "attempts", e.Attempts)
		if e.RetryAfter > 0 {
			attrs = append(attrs, "retry_after", e.RetryAfter)
		}
	}
	if p.buf.maxBytes > 0 {
		p.log.Warn("push: cannot deliver to the backend; buffering snapshots until it is back", attrs...)
	} else {
		p.log.Warn("push: cannot deliver to the backend; buffering is off, snapshots are dropped", attrs...)
	}
}

// noteReachable is called at the end of a push in which no write failed
// retryably.
func (s *logState) noteReachable(p *sender, delivered bool, series int) {
	if !s.reached {
		return
	}
	s.reached = false
	if delivered && !s.delivered {
		s.delivered = true
		p.log.Info("push: first push delivered", "url", p.client.URL(), "series", series, "version", p.client.Version().String())
	}
	if s.outage {
		s.outage = false
		p.log.Info("push: backend reachable again", "url", p.client.URL(), "outage", p.clock.Now().Sub(s.outageSince),
			"delivered_from_buffer", s.fromBuffer, "dropped", s.dropped)
	}
}

func (s *logState) noteRefusal(p *sender, e *remotewrite.Error, req *wire.WriteRequest) {
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
	}
	if p.id != nil {
		attrs = append(attrs, "identity", p.id.String())
	} else {
		attrs = append(attrs, "identity", "none (WithoutIdentity)")
	}
	if len(req.Series) > 0 && len(req.Series[0].Samples) > 0 {
		attrs = append(attrs, "timestamp", req.Series[0].Samples[0].Timestamp)
	}
	p.log.Error("push: backend refused samples; they are not retried", attrs...)
}

// noteAccepted ends a run of refusals.
func (s *logState) noteAccepted(p *sender) {
	if s.refusal == "" {
		return
	}
	p.log.Info("push: backend accepts writes again", "url", p.client.URL(), "refused_writes", s.refusals, "last_refusal", s.refusal)
	s.refusal, s.refusals = "", 0
}

func (s *logState) noteDrops(p *sender, drops []drop) {
	s.dropped += len(drops)
	if s.dropLogged {
		return
	}
	s.dropLogged = true
	d := drops[0]
	p.log.Warn("push: dropping buffered snapshots; later drops are counted, not logged, until the backend is back",
		"reason", d.reason, "snapshots", len(drops), "oldest_timestamp", d.s.ts, "samples", d.s.samples,
		"buffered", p.buf.len(), "buffer_bytes", p.buf.bytes, "buffer_max_bytes", p.buf.maxBytes, "buffer_max_age", p.buf.maxAge)
}

func (s *logState) noteBuild(p *sender, err error, partial bool) {
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
		p.log.Info("push: snapshots build again", "previous_error", prev)
	case partial:
		p.log.Warn("push: a collector failed; pushing the metrics the others gathered", "err", msg)
	default:
		p.log.Error("push: cannot build a snapshot; nothing is sent until this is fixed", "err", msg)
	}
}
