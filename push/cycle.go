package push

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/rwkit/rwkit/gather"
	"github.com/rwkit/rwkit/wire"
)

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

	ts := p.timestamp(start)
	built, buildErr := p.build(ts)
	blocked, flushErr := p.flushBuffer(ctx, start)
	out := delivery{retrying: blocked}
	var sendErr, staleErr, endErr error
	if built {
		out, sendErr = p.deliverSnapshot(ctx, ts, blocked, final)
	}
	if final {
		staleErr = p.finishShutdown(ctx, ts, built && !out.retrying)
	}
	p.settle(out)
	if final && ctx.Err() != nil {
		endErr = fmt.Errorf("push: shutdown: %w", ctx.Err())
	}
	return errors.Join(buildErr, flushErr, sendErr, staleErr, endErr)
}

// delivery is what became of this push's snapshot.
type delivery struct {
	delivered bool
	retrying  bool // kept for later (or dropped at shutdown) after a retryable failure, or waiting behind the buffer
}

// deliverSnapshot sends the snapshot built at ts, or buffers it behind the
// snapshots still waiting (blocked). A retryable failure keeps what was not
// delivered, except at shutdown (final), which drops it.
func (p *Pusher) deliverSnapshot(ctx context.Context, ts int64, blocked, final bool) (delivery, error) {
	if blocked {
		// Older snapshots wait: sending this one first would make
		// theirs out of order.
		p.enqueue(ts, &p.req, 0)
		return delivery{retrying: true}, nil
	}
	r := p.send(ctx, &p.req, nil)
	kept := false
	if r.kind == writeRetry {
		if final {
			p.dropUnsent(&p.req, r.from, dropShutdown)
		} else {
			kept = p.enqueue(ts, &p.req, r.from)
		}
	}
	p.countRequest(r.kind, kept)
	switch r.kind {
	case writeDelivered:
		return delivery{delivered: true}, nil
	case writeRefused:
		return delivery{}, r.err
	}
	p.ls.noteOutage(r.err)
	return delivery{retrying: true}, fmt.Errorf("push: snapshot at %d not delivered (%d snapshots buffered): %w", ts, p.buf.len(), r.err)
}

// finishShutdown ends the last push: what the buffer still holds is
// dropped, and stale markers follow the snapshot when asked for and it
// went out (sent).
func (p *Pusher) finishShutdown(ctx context.Context, ts int64, sent bool) error {
	p.noteDrops(p.buf.clear(dropShutdown, nil))
	if p.cfg.stale && sent && ctx.Err() == nil {
		return p.sendStale(ctx, ts)
	}
	return nil
}

// settle records where the push left things: the buffer gauge, the end of
// an outage or the first delivery in the log, the time of the last push
// that left nothing behind.
func (p *Pusher) settle(out delivery) {
	p.m.buffered.Set(float64(p.buf.len()))
	if !out.retrying {
		p.ls.noteReachable(out.delivered, len(p.req.Series), p.client.Version())
	}
	if out.delivered && p.buf.len() == 0 {
		p.m.lastSuccess.Set(float64(p.clock.Now().UnixNano()) / 1e9)
	}
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
		p.ls.noteBuild(nil, false)
	case errors.As(err, &ge) && ge.Families > 0:
		p.ls.noteBuild(err, true)
	default:
		p.m.requests.WithLabelValues(resultFailed).Inc()
		p.ls.noteBuild(err, false)
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
		r := p.send(ctx, &p.scratch, nil)
		// A retryable failure keeps the snapshot at the front of the buffer.
		p.countRequest(r.kind, true)
		switch r.kind {
		case writeDelivered:
			p.buf.popFront()
			p.ls.fromBuffer++
		case writeRefused:
			p.buf.popFront()
			errs = append(errs, r.err)
		case writeRetry:
			if r.from > 0 {
				rest := wire.WriteRequest{Series: p.scratch.Series[r.from:]}
				var ns *snapshot
				ns, p.raw = encodeSnapshot(s.ts, s.version, &rest, p.raw)
				p.buf.replaceFront(ns)
			}
			p.ls.noteOutage(r.err)
			errs = append(errs, fmt.Errorf("push: buffered snapshot at %d not delivered: %w", s.ts, r.err))
			p.m.buffered.Set(float64(p.buf.len()))
			return true, errors.Join(errs...)
		}
	}
	p.m.buffered.Set(0)
	return false, errors.Join(errs...)
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
		s.Samples = append(s.Samples[:0], wire.Sample{Value: math.Float64frombits(wire.StaleNaN), Timestamp: ts})
		s.Histograms, s.Exemplars = nil, nil
	}
	r := p.send(ctx, req, nil)
	// Stale markers are the last write: nothing is kept for later.
	p.countRequest(r.kind, false)
	switch r.kind {
	case writeDelivered:
		return nil
	case writeRetry:
		p.dropUnsent(req, r.from, dropShutdown)
	}
	return fmt.Errorf("push: stale markers: %w", r.err)
}
