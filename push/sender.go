package push

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/rwkit/rwkit/identity"
	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/wire"
)

// sender delivers writes to one endpoint and keeps what cannot be
// delivered yet: the remote-write client, the outage buffer, the
// self-metrics and the log state. A Pusher and a Queue each have one; the
// one goroutine that sends owns it.
type sender struct {
	client    *remotewrite.Client
	signedFor string             // the SigV4 region requests are signed for; "" when not signed
	id        *identity.Identity // nil without identity labels (and in a Queue)
	log       *slog.Logger
	m         *metrics
	clock     clock
	buf       buffer
	ls        logState
	scratch   wire.WriteRequest // a decoded buffered snapshot; reused
	raw       []byte
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

// enqueue buffers req.Series[from:] (and req.Metadata when from is 0) and
// reports whether it was kept.
func (p *sender) enqueue(ts int64, req *wire.WriteRequest, from int) bool {
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

// countRequest counts a write in rwkit_push_requests_total by its
// outcome; a retryable failure counts as retried when its data was kept
// for later (kept), else as failed.
func (p *sender) countRequest(kind writeKind, kept bool) {
	result := resultFailed
	switch {
	case kind == writeDelivered:
		result = resultSuccess
	case kind == writeRefused:
		result = resultRejected
	case kept:
		result = resultRetried
	}
	p.m.requests.WithLabelValues(result).Inc()
}

// dropUnsent counts req.Series[from:] as failed samples.
func (p *sender) dropUnsent(req *wire.WriteRequest, from int, reason string) {
	p.m.dropped.WithLabelValues(reason).Inc()
	p.m.samples.WithLabelValues(resultFailed).Add(float64(countSamples(req.Series[from:])))
}

func (p *sender) noteDrops(drops []drop) {
	for _, d := range drops {
		p.m.dropped.WithLabelValues(d.reason).Inc()
		p.m.samples.WithLabelValues(resultFailed).Add(float64(d.s.samples))
	}
	if len(drops) > 0 {
		p.ls.noteDrops(drops, p.buf.len(), p.buf.bytes)
	}
}

// sendEncoded writes s, one request encoded at Append (encodeRequests),
// as send writes one: delivered, refused (counted and logged; not
// retried) or to retry whole.
func (p *sender) sendEncoded(ctx context.Context, s *snapshot) writeResult {
	res, err := p.client.WriteEncoded(ctx, remotewrite.Encoded{Body: s.body, RawLen: s.rawLen, Counts: s.counts})
	bytes := res.BytesCompressed
	defer func() { p.m.payload.Observe(float64(bytes)) }()
	p.m.samples.WithLabelValues(resultSuccess).Add(float64(points(res.Counts)))
	if err == nil {
		p.ls.reached = true
		p.ls.noteAccepted()
		return writeResult{kind: writeDelivered}
	}
	var e *remotewrite.Error
	if !errors.As(err, &e) {
		return writeResult{kind: writeRetry, err: err}
	}
	bytes += e.BytesCompressed
	if e.RetryLater() {
		return writeResult{kind: writeRetry, err: err}
	}
	n := points(e.Counts)
	p.m.rejectedSamples.WithLabelValues(reasonLabel(e)).Add(float64(n))
	p.m.samples.WithLabelValues(resultRejected).Add(float64(n))
	p.ls.reached = true
	// The log names the first sample's timestamp: decode the request (a
	// refusal is rare).
	var req wire.WriteRequest
	_, _ = s.decode(&req, nil)
	p.ls.noteRefusal(e, &req)
	return writeResult{kind: writeRefused, err: err}
}

// A retryable failure (network, 5xx, 429 after the client's retries, or
// ctx ending) returns the index of the first series not known to be
// delivered: exact in the same case, a lower bound otherwise (series
// re-sent with the same value and timestamp are accepted as duplicates).
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
// With tally (Once), every request is added to it: what was stored, each
// refusal numbered within the whole write, and what stopped the write.
func (p *sender) send(ctx context.Context, req *wire.WriteRequest, tally *Result) writeResult {
	from, bytes := 0, 0
	defer func() { p.m.payload.Observe(float64(bytes)) }()
	if tally != nil {
		defer tally.numberRefusals()
	}
	var refusals []error
	for {
		sub := wire.WriteRequest{Series: req.Series[from:]}
		if len(refusals) == 0 {
			sub.Metadata = req.Metadata
		}
		v := p.client.Version()
		base := 0
		if tally != nil {
			base = tally.Requests
		}
		res, err := p.client.Write(ctx, &sub)
		if nv := p.client.Version(); nv != v {
			p.log.Warn("push: the receiver does not take Remote-Write "+v.String()+"; sending "+nv.String()+" from now on", "url", p.client.URL())
		}
		tally.addWrite(res, err)
		bytes += res.BytesCompressed
		p.m.samples.WithLabelValues(resultSuccess).Add(float64(points(res.Counts)))
		if err == nil {
			p.ls.reached = true
			if len(refusals) > 0 {
				return writeResult{kind: writeRefused, err: errors.Join(refusals...)}
			}
			p.ls.noteAccepted()
			return writeResult{kind: writeDelivered}
		}
		var e *remotewrite.Error
		if !errors.As(err, &e) {
			tally.fail(err)
			return writeResult{kind: writeRetry, from: from, err: errors.Join(append(refusals, err)...)}
		}
		bytes += e.BytesCompressed
		if e.RetryLater() {
			tally.fail(err)
			done := seriesDone(sub.Series, e.Delivered.Series)
			return writeResult{kind: writeRetry, from: from + done, err: errors.Join(append(refusals, err)...)}
		}
		tally.refuse(e, base)
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
		p.ls.noteRefusal(e, &sub)
		refusals = append(refusals, err)
		after := e.Delivered.Series + e.Counts.Series
		if rest := len(req.Series) - from - after; !exact || after == 0 || rest <= 0 {
			if rest > 0 {
				// Where the refused request ended is known only when every
				// series is one point (the client never cuts one).
				tally.fail(fmt.Errorf("push: the %d series after refused request %d were not sent: with several points per series, where it ended is not known", rest, e.Request))
			}
			return writeResult{kind: writeRefused, err: errors.Join(refusals...)}
		}
		from += after
	}
}
