package workspace

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rwkit/rwkit/wire"
	"github.com/rwkit/rwkit/workspace/store"
)

// The analysis of forwarded writes (upstream_refusals.go) runs off the
// request path: writeThrough hands each write to a bounded queue that one
// worker drains, in order, and returns. The sender's connection is free
// for its next write as soon as the upstream's answer is passed back. A
// write that finds the queue full is forwarded and answered all the same
// and not analysed: rwkit_upstream_analyses_skipped_total counts it, and
// the log says when skipping starts and stops.
//
// Without Upstream.Store the analysis is a dry run that never touches
// the store (ingest.go, dryAppend): the memory it keeps is the writer
// attribution's, bounded by WithMaxTrackedSeries, whatever the number of
// series forwarded.

// Bounds of the analysis queue: writes waiting, and their body bytes.
const (
	analysisQueueLen   = 128
	analysisQueueBytes = 32 << 20
)

type analysisQueue struct {
	jobs    chan analysisJob
	stop    chan struct{}
	stopped chan struct{}
	bytes   atomic.Int64 // body bytes queued
	// forwarding counts the writes between their forwarding and their
	// queueing (the sender may have its answer before its write is
	// queued), for waitAnalyses.
	forwarding atomic.Int64
	// skipped counts the writes skipped since the last one queued; the
	// first skip and the next write queued are logged.
	skipped atomic.Int64
	once    sync.Once
}

// analysisJob is one forwarded write to analyse, or, with flushed set, a
// marker closed once the writes queued before it are analysed.
type analysisJob struct {
	r       *http.Request // a copy, with a context that is not canceled
	id      string
	buf     *[]byte // the body; back to the pool once analysed
	a       upstreamAnswer
	flushed chan struct{}
	done    chan struct{} // analyseNow's: closed once analysed
}

func newAnalysisQueue() *analysisQueue {
	return &analysisQueue{jobs: make(chan analysisJob, analysisQueueLen), stop: make(chan struct{}), stopped: make(chan struct{})}
}

// analyseLater queues the analysis of a forwarded write and takes buf
// (the body) over; it never waits.
func (w *Workspace) analyseLater(r *http.Request, id string, buf *[]byte, a upstreamAnswer) {
	q := w.analyses
	n := int64(len(*buf))
	if q.bytes.Add(n) > analysisQueueBytes {
		q.bytes.Add(-n)
		w.skipAnalysis(id, buf)
		return
	}
	job := analysisJob{r: r.Clone(context.WithoutCancel(r.Context())), id: id, buf: buf, a: a}
	select {
	case q.jobs <- job:
	default:
		q.bytes.Add(-n)
		w.skipAnalysis(id, buf)
		return
	}
	if k := q.skipped.Swap(0); k > 0 {
		w.cfg.logger.Info("upstream analyses resumed", "workspace", id, "skipped", k)
	}
}

// analyseNow queues the analysis of a refused write behind the writes
// queued before it (one of them may have written the value the upstream
// holds) and waits for it, for --explain-header's answer; it takes buf
// over when taken is true, and whether the analysis is done (its finding
// may be read). It waits for room in the queue rather than
// skip: the sender is waiting for this answer anyway. A sender that gives
// up, or a workspace that closes, ends the wait; the answer then carries
// no explanation.
func (w *Workspace) analyseNow(r *http.Request, id string, buf *[]byte, a upstreamAnswer) (taken, analysed bool) {
	q := w.analyses
	n := int64(len(*buf))
	done := make(chan struct{})
	job := analysisJob{r: r.Clone(context.WithoutCancel(r.Context())), id: id, buf: buf, a: a, done: done}
	q.bytes.Add(n)
	select {
	case q.jobs <- job:
	case <-r.Context().Done():
		q.bytes.Add(-n)
		return false, false
	case <-q.stopped:
		q.bytes.Add(-n)
		return false, false
	}
	select {
	case <-done:
		return true, true
	case <-r.Context().Done():
	case <-q.stopped:
	}
	return true, false
}

func (w *Workspace) skipAnalysis(id string, buf *[]byte) {
	putBuf(buf)
	w.metrics.upstreamSkipped.WithLabelValues(id).Inc()
	if w.analyses.skipped.Add(1) == 1 {
		w.cfg.logger.Warn("upstream analysis queue full: writes are forwarded and answered, not analysed, until it drains; rwkit_upstream_analyses_skipped_total counts them",
			"workspace", id, "queue", analysisQueueLen, "queue_bytes", analysisQueueBytes)
	}
}

// runAnalyses is the queue's worker, until stopAnalyses.
func (w *Workspace) runAnalyses() {
	q := w.analyses
	defer close(q.stopped)
	for {
		select {
		case j := <-q.jobs:
			w.runAnalysis(j)
		case <-q.stop:
			return
		}
	}
}

func (w *Workspace) runAnalysis(j analysisJob) {
	if j.flushed != nil {
		close(j.flushed)
		return
	}
	w.analyse(j.r, j.id, *j.buf, j.a)
	w.analyses.bytes.Add(-int64(len(*j.buf)))
	putBuf(j.buf)
	if j.done != nil {
		close(j.done)
	}
}

// waitAnalyses returns once the writes forwarded so far are analysed.
func (w *Workspace) waitAnalyses() {
	if w.analyses == nil {
		return
	}
	for w.analyses.forwarding.Load() > 0 {
		time.Sleep(time.Millisecond)
	}
	w.analyses.flush()
}

// flush returns once the writes queued so far are analysed, or the
// worker has stopped.
func (q *analysisQueue) flush() {
	done := make(chan struct{})
	select {
	case q.jobs <- analysisJob{flushed: done}:
		select {
		case <-done:
		case <-q.stopped:
		}
	case <-q.stopped:
	}
}

// stopAnalyses analyses what is queued and stops the worker.
func (w *Workspace) stopAnalyses() {
	q := w.analyses
	if q == nil {
		return
	}
	q.once.Do(func() {
		q.flush()
		close(q.stop)
		<-q.stopped
	})
}

// requestSample is a dry run's newest sample of a series so far in the
// request.
type requestSample struct {
	ts int64
	v  float64
}

// dryRunScratch is the prepared's within-request state for a dry run,
// empty.
func (p *prepared) dryRunScratch() map[uint64]requestSample {
	if p.inRequest == nil {
		p.inRequest = map[uint64]requestSample{}
	}
	return p.inRequest
}

// dryAppend is what the store would answer appending smp of series h in
// pass-through mode, where nothing forwarded is stored: the last-writer
// table stands in for the stored value (forwardedDuplicate), and the
// request's earlier samples of the series for the batch's
// (store.BatchConflict). It returns nil for a sample the store would take.
func (b *batch) dryAppend(h uint64, smp *wire.Sample) *store.AppendError {
	if ae := b.t.forwardedDuplicate(h, smp); ae != nil {
		return ae
	}
	prev, ok := b.inRequest[h]
	if ok {
		if ae := store.BatchConflict(prev.ts, prev.v, smp.Timestamp, smp.Value, b.w.cfg.limits.OutOfOrderTimeWindow > 0); ae != nil {
			return ae
		}
	}
	if !ok || smp.Timestamp >= prev.ts {
		b.inRequest[h] = requestSample{smp.Timestamp, smp.Value}
	}
	return nil
}
