package push

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/rwkit/rwkit/gather"
	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/wire"
)

// staleNaN is the value Prometheus uses to mark a series stale
// (model/value.StaleNaN): a NaN no arithmetic produces.
var staleNaN = math.Float64frombits(0x7ff0000000000002)

// push runs one push: build a snapshot, deliver the buffer oldest first,
// then the snapshot. final is Shutdown's push: what cannot be delivered is
// dropped, and stale markers follow when asked for.
func (p *Pusher) push(ctx context.Context, final bool) error {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("push: waiting for the push in progress: %w", ctx.Err())
	}
	defer func() { <-p.sem }()
	if p.finished {
		return ErrShutdown
	}
	p.finished = final
	p.ls.reached = false

	start := p.clock.Now()
	defer func() { p.m.duration.Observe(p.clock.Now().Sub(start).Seconds()) }()
	if !final {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.cfg.timeout)
		defer cancel()
	}

	var errs []error
	ts := p.timestamp(start)
	built, err := p.build(ts)
	if err != nil {
		errs = append(errs, err)
	}

	blocked, err := p.flushBuffer(ctx, start)
	if err != nil {
		errs = append(errs, err)
	}

	delivered, retrying := false, blocked
	if built {
		if blocked {
			// Older snapshots wait: sending this one first would make
			// theirs out of order.
			p.enqueue(ts, &p.req, 0)
		} else {
			r := p.send(ctx, &p.req)
			switch r.kind {
			case writeDelivered:
				p.m.requests.WithLabelValues(resultSuccess).Inc()
				delivered = true
			case writeRefused:
				p.m.requests.WithLabelValues(resultRejected).Inc()
				errs = append(errs, r.err)
			case writeRetry:
				if final {
					p.m.requests.WithLabelValues(resultFailed).Inc()
					p.dropUnsent(&p.req, r.from, dropShutdown)
				} else {
					p.countRetry(p.enqueue(ts, &p.req, r.from))
				}
				retrying = true
				p.ls.noteOutage(p, r.err)
				errs = append(errs, fmt.Errorf("push: snapshot at %d not delivered (%d snapshots buffered): %w", ts, p.buf.len(), r.err))
			}
		}
	}

	if final {
		drops := p.buf.clear(dropShutdown, nil)
		p.noteDrops(drops)
		if p.cfg.stale && built && !retrying && ctx.Err() == nil {
			if err := p.sendStale(ctx, ts); err != nil {
				errs = append(errs, err)
			}
		}
	}
	p.m.buffered.Set(float64(p.buf.len()))
	if !retrying {
		p.ls.noteReachable(p, delivered)
	}
	if delivered && p.buf.len() == 0 {
		p.m.lastSuccess.Set(float64(p.clock.Now().UnixNano()) / 1e9)
	}
	if final && ctx.Err() != nil {
		errs = append(errs, fmt.Errorf("push: shutdown: %w", ctx.Err()))
	}
	return errors.Join(errs...)
}

// timestamp returns the batch timestamp for a push starting at now: the
// interval boundary under WithAlignedTimestamps, else now, and always after
// the previous push's, so that one Pusher never sends two values for one
// series at one timestamp.
func (p *Pusher) timestamp(now time.Time) int64 {
	ms := now.UnixMilli()
	ts := ms
	if p.cfg.aligned {
		iv := p.cfg.interval.Milliseconds()
		if b := ms - ((ms%iv)+iv)%iv; b > p.lastTS {
			ts = b
		}
	}
	return max(ts, p.lastTS+1)
}

// build gathers and converts a snapshot into p.req. A conversion error
// (a label collision, invalid names, duplicate series) sends nothing: a
// silently repaired snapshot is how writers end up sharing a series. A
// partial gather (a collector failed) is sent, and logged.
func (p *Pusher) build(ts int64) (bool, error) {
	p.req.Series, p.req.Metadata = p.req.Series[:0], p.req.Metadata[:0]
	if err := p.conv.SetTimestamp(ts); err != nil {
		return false, fmt.Errorf("push: %w", err)
	}
	_, err := p.conv.AppendGatherer(&p.req, p.g)
	var ge *gather.GatherError
	switch {
	case err == nil:
		p.ls.noteBuild(p, nil, false)
	case errors.As(err, &ge) && ge.Families > 0:
		p.ls.noteBuild(p, err, true)
	default:
		p.m.requests.WithLabelValues(resultFailed).Inc()
		p.ls.noteBuild(p, err, false)
		return false, fmt.Errorf("push: snapshot at %d not sent: %w", ts, err)
	}
	p.lastTS = ts
	return true, nil
}

// flushBuffer delivers buffered snapshots oldest first. blocked reports
// that some remain (the backend still cannot be reached).
func (p *Pusher) flushBuffer(ctx context.Context, now time.Time) (blocked bool, err error) {
	p.noteDrops(p.buf.expire(now, nil))
	var errs []error
	for p.buf.len() > 0 {
		s := p.buf.front()
		if p.raw, err = s.decode(&p.scratch, p.raw); err != nil {
			p.buf.popFront()
			p.noteDrops([]drop{{s, dropUndecodable}})
			errs = append(errs, err)
			continue
		}
		r := p.send(ctx, &p.scratch)
		switch r.kind {
		case writeDelivered:
			p.m.requests.WithLabelValues(resultSuccess).Inc()
			p.buf.popFront()
			p.ls.fromBuffer++
		case writeRefused:
			p.m.requests.WithLabelValues(resultRejected).Inc()
			p.buf.popFront()
			errs = append(errs, r.err)
		case writeRetry:
			p.m.requests.WithLabelValues(resultRetried).Inc()
			if r.from > 0 {
				rest := wire.WriteRequest{Series: p.scratch.Series[r.from:]}
				var ns *snapshot
				ns, p.raw = encodeSnapshot(s.ts, s.version, &rest, p.raw)
				p.buf.replaceFront(ns)
			}
			p.ls.noteOutage(p, r.err)
			errs = append(errs, fmt.Errorf("push: buffered snapshot at %d not delivered: %w", s.ts, r.err))
			p.m.buffered.Set(float64(p.buf.len()))
			return true, errors.Join(errs...)
		}
	}
	p.m.buffered.Set(0)
	return false, errors.Join(errs...)
}

// enqueue buffers req.Series[from:] (and req.Metadata when from is 0) and
// reports whether it was kept.
func (p *Pusher) enqueue(ts int64, req *wire.WriteRequest, from int) bool {
	rest := wire.WriteRequest{Series: req.Series[from:]}
	if from == 0 {
		rest.Metadata = req.Metadata
	}
	var s *snapshot
	s, p.raw = encodeSnapshot(ts, p.client.Version(), &rest, p.raw)
	drops := p.buf.push(s, nil)
	kept := len(drops) == 0 || drops[len(drops)-1].s != s
	if kept {
		p.m.samples.WithLabelValues(resultRetried).Add(float64(s.samples))
	}
	p.noteDrops(drops)
	p.m.buffered.Set(float64(p.buf.len()))
	return kept
}

func (p *Pusher) countRetry(kept bool) {
	if kept {
		p.m.requests.WithLabelValues(resultRetried).Inc()
	} else {
		p.m.requests.WithLabelValues(resultFailed).Inc()
	}
}

// dropUnsent counts req.Series[from:] as failed samples.
func (p *Pusher) dropUnsent(req *wire.WriteRequest, from int, reason string) {
	p.m.dropped.WithLabelValues(reason).Inc()
	p.m.samples.WithLabelValues(resultFailed).Add(float64(countSamples(req.Series[from:])))
}

func (p *Pusher) noteDrops(drops []drop) {
	for _, d := range drops {
		p.m.dropped.WithLabelValues(d.reason).Inc()
		p.m.samples.WithLabelValues(resultFailed).Add(float64(d.s.samples))
	}
	if len(drops) > 0 {
		p.ls.noteDrops(p, drops)
	}
}

// sendStale sends a stale marker for every series of the last snapshot,
// 1ms after it (or now, if later).
func (p *Pusher) sendStale(ctx context.Context, after int64) error {
	ts := max(p.clock.Now().UnixMilli(), after+1)
	p.lastTS = ts
	req := &p.req
	req.Metadata = req.Metadata[:0]
	for i := range req.Series {
		s := &req.Series[i]
		s.Samples = append(s.Samples[:0], wire.Sample{Value: staleNaN, Timestamp: ts})
		s.Histograms, s.Exemplars = nil, nil
	}
	r := p.send(ctx, req)
	switch r.kind {
	case writeDelivered:
		p.m.requests.WithLabelValues(resultSuccess).Inc()
		return nil
	case writeRefused:
		p.m.requests.WithLabelValues(resultRejected).Inc()
	default:
		p.m.requests.WithLabelValues(resultFailed).Inc()
		p.dropUnsent(req, r.from, dropShutdown)
	}
	return fmt.Errorf("push: stale markers: %w", r.err)
}

type writeKind int

const (
	writeDelivered writeKind = iota
	writeRefused             // some part refused with a non-retryable status; the rest delivered or dropped
	writeRetry               // the series from index from on may succeed later
)

type writeResult struct {
	kind writeKind
	from int
	err  error
}

// send writes req once, with the client's retries.
//
// A refused request (a non-retryable status: 4xx but 429) ends the client's
// write; send carries on with the series after it, as Prometheus' queue
// drops a refused batch and sends the next. That needs to know which series
// the refused request held: exact when every series has at most one point
// (a sample, a histogram or an exemplar), as snapshots without exemplars
// do, since the client then never cuts a series into parts. Otherwise the
// rest of the snapshot is dropped with the refused request and counted as
// rejected too.
//
// A retryable failure (network, 5xx, 429 after the client's retries, or
// ctx ending) returns the index of the first series not known to be
// delivered: exact in the same case, a lower bound otherwise (series
// re-sent with the same value and timestamp are accepted as duplicates).
func (p *Pusher) send(ctx context.Context, req *wire.WriteRequest) writeResult {
	from, bytes := 0, 0
	defer func() { p.m.payload.Observe(float64(bytes)) }()
	var refusals []error
	for {
		sub := wire.WriteRequest{Series: req.Series[from:]}
		if len(refusals) == 0 {
			sub.Metadata = req.Metadata
		}
		v := p.client.Version()
		res, err := p.client.Write(ctx, &sub)
		if nv := p.client.Version(); nv != v {
			p.log.Warn("push: the receiver does not take Remote-Write "+v.String()+"; sending "+nv.String()+" from now on", "url", p.client.URL())
		}
		bytes += res.BytesCompressed
		p.m.samples.WithLabelValues(resultSuccess).Add(float64(points(res.Counts)))
		if err == nil {
			p.ls.reached = true
			if len(refusals) > 0 {
				return writeResult{kind: writeRefused, err: errors.Join(refusals...)}
			}
			p.ls.noteAccepted(p)
			return writeResult{kind: writeDelivered}
		}
		var e *remotewrite.Error
		if !errors.As(err, &e) {
			return writeResult{kind: writeRetry, from: from, err: errors.Join(append(refusals, err)...)}
		}
		bytes += e.BytesCompressed
		if retryLater(e) {
			done := seriesDone(sub.Series, e.Delivered.Series)
			return writeResult{kind: writeRetry, from: from + done, err: errors.Join(append(refusals, err)...)}
		}
		// Only a refusal needs exact: walking every series of a large
		// snapshot on each delivered push costs a cache miss per series.
		exact := onePointEach(req.Series)
		n := points(e.Counts)
		if !exact {
			n = points(e.Total) - points(e.Delivered)
		}
		p.m.rejectedSamples.WithLabelValues(reasonLabel(e)).Add(float64(n))
		p.m.samples.WithLabelValues(resultRejected).Add(float64(n))
		p.ls.reached = true
		p.ls.noteRefusal(p, e, &sub)
		refusals = append(refusals, err)
		after := e.Delivered.Series + e.Counts.Series
		if !exact || after == 0 || from+after >= len(req.Series) {
			return writeResult{kind: writeRefused, err: errors.Join(refusals...)}
		}
		from += after
	}
}

// retryLater reports whether the failed write may succeed later, so that
// its snapshot is kept. e.Retryable says whether the client may retry
// within this write: not when ctx ended, even after a 503 or a 429 whose
// Retry-After passes the push's deadline. Those are still outages, not
// refusals: refusing them would drop the snapshot as if the backend had
// said it will never take it.
func retryLater(e *remotewrite.Error) bool {
	return e.StatusCode == 0 || e.Retryable() || e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

func points(c remotewrite.Counts) int { return c.Samples + c.Histograms }

// reasonLabel is the reason label of rwkit_push_rejected_samples_total.
func reasonLabel(e *remotewrite.Error) string {
	if e.Reason != "" {
		return string(e.Reason)
	}
	return "http_" + strconv.Itoa(e.StatusCode)
}

func onePointEach(series []wire.TimeSeries) bool {
	for i := range series {
		s := &series[i]
		if len(s.Samples)+len(s.Histograms)+len(s.Exemplars) > 1 {
			return false
		}
	}
	return true
}

// seriesDone is how many leading series are surely delivered when the
// client delivered parts series parts: a series is at most one part per
// point (and one when it has none).
func seriesDone(series []wire.TimeSeries, parts int) int {
	n := 0
	for i := range series {
		s := &series[i]
		parts -= max(1, len(s.Samples)+len(s.Histograms)+len(s.Exemplars))
		if parts < 0 {
			break
		}
		n++
	}
	return n
}
