package workspace

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
	"github.com/rwkit/rwkit/workspace/store"
)

// Explained refusals in pass-through mode: each forwarded write is also
// decoded, validated with the workspace's limits and attributed to its
// writer by the ingest path (ingest.go), in a dry run that does not touch
// the store unless Upstream.Store (upstream_analysis.go). Without the
// samples stored, the last-writer table stands in for the stored value
// and the request's earlier samples for the batch's: a forwarded sample
// with another value for the timestamp the table holds is
// new-value-for-timestamp, as the TSDB would refuse it. When the upstream refuses a write (4xx), the
// refusal is recorded with its reason, its series and both writers.

// KindUpstreamRefused is a collisions entry for a write the upstream
// refused in pass-through mode: Reason is the reason (from the upstream's
// body, else from the workspace's own validation of the write, Note says
// which), UpstreamStatus and UpstreamBody its answer, and, when the
// workspace found the conflict itself, Series, the values and both
// writers; NewWriter is always the refused request's writer.
const KindUpstreamRefused = "upstream-refused"

// unknownReason labels a refusal no one could name.
const unknownReason = "unknown"

// maxRefusalBody bounds the upstream's body kept in a collisions entry.
const maxRefusalBody = 1024

// forwardedDuplicate is the refusal of smp when the series' last
// forwarded sample has its timestamp and another value (the bits, as
// the TSDB compares them), else nil.
func (t *tenant) forwardedDuplicate(h uint64, smp *wire.Sample) *store.AppendError {
	e, ok := t.series.get(h)
	if !ok || e.ts != smp.Timestamp || math.Float64bits(e.val) == math.Float64bits(smp.Value) {
		return nil
	}
	return store.Duplicate(smp.Timestamp, e.val, smp.Value)
}

// analyse reads a forwarded write as the workspace would ingest it and
// records the upstream's answer: a refusal with its explanation, and the
// change of the upstream's state in the log. It runs once the sender has
// its answer, off the request path (upstream_analysis.go).
func (w *Workspace) analyse(r *http.Request, id string, body []byte, a upstreamAnswer) {
	// The sender may be gone already: the analysis is the workspace's.
	ctx := context.WithoutCancel(r.Context())
	var t *tenant
	var o outcome
	var wr Writer
	var local string // why the workspace could not read the write, if so
	if version, rf := readHeaders(r.Header); rf != nil {
		local = rf.msg
	} else if tt, err := w.tenant(id); err != nil {
		local = err.Error()
	} else {
		t = tt
		rd := getReading()
		defer rd.release()
		if rf := w.readRequest(rd, bytes.NewReader(body), int64(len(body)), version); rf != nil {
			local = rf.msg
		} else {
			t.received.Add(float64(requestCounts(rd.req).data()))
			wr = requestWriter(rd.req.Series, w.cfg.identity, r.UserAgent(), r.RemoteAddr)
			if o, err = w.ingest(ctx, t, rd.req, version, wr); err != nil {
				local = "the workspace's store failed"
			}
		}
	}
	if wr.UserAgent == "" && wr.RemoteAddr == "" {
		wr = Writer{UserAgent: r.UserAgent(), RemoteAddr: r.RemoteAddr}
	}
	reason, source := "", ""
	if a.err == nil && a.status >= 400 && a.status < 500 {
		reason, source = refusalReason(a, &o, local)
		w.metrics.upstreamRefusals.WithLabelValues(id, reason).Inc()
		if t != nil {
			t.recordRefusal(a, &o, reason, source, wr, w.cfg.now())
		}
	}
	w.upstreamState(id, a, reason, &o)
	if a.found != nil { // Upstream.ExplainHeader: upstream_explain.go
		*a.found = finding{reason: reason, source: source, first: o.first}
	}
}

// refusalReason names why the upstream refused a write, and says where
// the name comes from: its body (remotewrite.Classify), else the workspace's
// own validation of the write (AMP answers 400 with an empty body).
func refusalReason(a upstreamAnswer, o *outcome, local string) (reason, source string) {
	if r, _ := remotewrite.Classify(a.status, a.body); r != validate.Unknown {
		return string(r), "the reason is from the upstream's answer"
	}
	for _, rc := range o.refused {
		if rc.reason != validate.Unknown {
			return string(rc.reason), "the reason is from the workspace's own validation of this write"
		}
	}
	if a.status == http.StatusTooManyRequests {
		return string(validate.RateLimited), "the reason is from the upstream's status (429)"
	}
	if local != "" {
		return unknownReason, "no reason is known: the workspace could not read the write (" + local + ")"
	}
	return unknownReason, "no reason is known: the upstream's answer names none and the workspace's validation found nothing wrong"
}

// recordRefusal adds the upstream's refusal to the tenant's collisions,
// grouped by reason, series and writers.
func (t *tenant) recordRefusal(a upstreamAnswer, o *outcome, reason, source string, wr Writer, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := collisionKey{newer: t.writers.id(wr), upstream: reason}
	var c *Collision
	if f := o.first; f != nil {
		k.series, k.existing = o.firstKey.series, o.firstKey.existing
		c = t.collisions.record(k, KindUpstreamRefused, nil, f.Timestamp, 0, 0, f.ExistingWriter, wr, now)
		if c != nil {
			c.Series, c.ExistingValue, c.NewValue = f.Series, f.ExistingValue, f.NewValue
		}
	} else {
		c = t.collisions.record(k, KindUpstreamRefused, nil, 0, 0, 0, nil, wr, now)
		if c != nil {
			c.ExistingValue, c.NewValue = "", ""
		}
	}
	if c == nil {
		return
	}
	body := a.body
	if len(body) > maxRefusalBody {
		body = body[:maxRefusalBody] + "..."
	}
	c.Reason, c.UpstreamStatus, c.UpstreamBody = reason, a.status, body
	how := "with an empty body"
	if strings.TrimSpace(a.body) != "" {
		how = "with a body"
	}
	c.Note = fmt.Sprintf("the upstream answered %d %s; %s", a.status, how, source)
}

// upstreamState logs the upstream's state for one workspace when it
// changes: accepting, refusing (by reason), failing (5xx) or unreachable.
// One line per change, not per write.
func (w *Workspace) upstreamState(id string, a upstreamAnswer, reason string, o *outcome) {
	var state string
	switch {
	case a.err != nil:
		state = "unreachable"
	case a.status >= 500:
		state = "failing"
	case a.status >= 400:
		state = "refusing " + reason
	default:
		state = "accepting"
	}
	now := w.cfg.now()
	w.upstreamMu.Lock()
	if w.upstreamStates == nil {
		w.upstreamStates = map[string]upstreamStateEntry{}
	}
	prev := w.upstreamStates[id]
	changed := prev.state != state
	cur := prev
	if changed {
		cur = upstreamStateEntry{state: state, since: now}
	} else {
		cur.writes++
	}
	cur.last, cur.status, cur.err = now, a.status, a.err
	w.upstreamStates[id] = cur
	w.upstreamMu.Unlock()
	if !changed {
		return
	}
	attrs := []any{"workspace", id, "upstream", w.cfg.upstream.shown, "state", state, "writes_in_previous_state", prev.writes + 1}
	if prev.state == "" {
		attrs = attrs[:len(attrs)-2]
	}
	switch {
	case a.err != nil:
		w.cfg.logger.Warn("upstream unreachable: writes answered 502", append(attrs, "err", unwrapURLError(a.err))...)
	case a.status >= 400:
		attrs = append(attrs, "status", a.status, "body", firstLine(a.body))
		if o.first != nil {
			attrs = append(attrs, "series", seriesName(o.first.Series), "existing_writer", writerText(o.first.ExistingWriter), "new_writer", o.first.NewWriter.String())
		}
		w.cfg.logger.Warn("upstream refusing writes", attrs...)
	default:
		w.cfg.logger.Info("upstream accepting writes", attrs...)
	}
}

// writerText is w for a log line: its identity, User-Agent and address.
func writerText(w *Writer) string {
	if w == nil {
		return "unknown"
	}
	return w.String()
}

type upstreamStateEntry struct {
	state  string
	writes int // after the first in this state
	since  time.Time
	// The last answer: when, its status, and, when there was none, why.
	last   time.Time
	status int
	err    error
}

// upstreamStateOf is workspace id's upstream state for the page; nil when
// the workspace has no upstream.
func (w *Workspace) upstreamStateOf(id string) *pageUpstream {
	if w.cfg.upstream == nil {
		return nil
	}
	w.upstreamMu.Lock()
	e := w.upstreamStates[id]
	w.upstreamMu.Unlock()
	s := &pageUpstream{URL: w.cfg.upstream.shown, Stored: w.cfg.upstream.store, State: e.state, Since: e.since, LastAnswer: e.last}
	if e.state == "" {
		return s
	}
	s.Writes = e.writes + 1
	if e.err != nil {
		s.LastError = unwrapURLError(e.err).Error()
	} else {
		s.LastStatus, s.Reachable = e.status, true
	}
	return s
}

// firstLine is s up to its first newline, at most 200 bytes.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
