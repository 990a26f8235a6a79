package store

import (
	"encoding/binary"
	"math"
	"sync"

	"github.com/cespare/xxhash/v2"
	"github.com/prometheus/prometheus/model/histogram"
)

// pendingSet holds, per series (by label hash), the newest sample appended
// by a batch that has not committed yet.
//
// The TSDB checks an Append against committed data only. Two batches in
// flight with the same series and timestamp but different values both
// pass, and the later Commit drops its sample silently (tsdb/head_append.go
// commitFloats: "handleAppendableError"). rwkit promises that nothing
// accepted is lost, so the store refuses such a sample at Append, with the
// reason it would have got had the other batch committed first.
//
// A second sample at the same timestamp, or an older one, in the same
// batch is dropped at Commit too; Cortex's ingester answers 200 for it.
// The store hands it to the TSDB and returns an AppendError with
// WithinBatch set, so that the caller can answer as Cortex does and still
// say what was dropped.
//
// One race remains: batch A holds t=5 of a series, batch B then appends
// t=6 of it (legitimately newer) and commits first; A's t=5 is then
// dropped at A's Commit. Closing it would mean ordering commits across
// batches (and deadlocks); writers with aligned timestamps, the case that
// matters for collisions, hit the same-timestamp check instead.
//
// Entries are not removed when their batch ends (that would cost a second
// map operation per sample): an entry whose owner is no longer in flight is
// stale and ignored, overwritten by the next sample of the series, and
// swept when a shard grows past maxPendingPerShard.
type pendingSet struct {
	shards [256]pendingShard

	mu       sync.Mutex
	inflight map[uint32]struct{} // ids of Appenders not yet committed or rolled back
	nextID   uint32
}

// maxPendingPerShard bounds a shard before stale entries are swept (about
// 4M series for the tenant).
const maxPendingPerShard = 1 << 14

func (p *pendingSet) begin() uint32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inflight == nil {
		p.inflight = map[uint32]struct{}{}
	}
	for {
		p.nextID++
		if _, used := p.inflight[p.nextID]; !used && p.nextID != 0 {
			break
		}
	}
	p.inflight[p.nextID] = struct{}{}
	return p.nextID
}

func (p *pendingSet) end(id uint32) {
	p.mu.Lock()
	delete(p.inflight, id)
	p.mu.Unlock()
}

func (p *pendingSet) active(id uint32) bool {
	p.mu.Lock()
	_, ok := p.inflight[id]
	p.mu.Unlock()
	return ok
}

// sweep deletes a shard's stale entries; the caller holds sh.mu.
func (p *pendingSet) sweep(sh *pendingShard) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, e := range sh.m {
		if _, ok := p.inflight[e.owner]; !ok {
			delete(sh.m, k)
		}
	}
}

type pendingShard struct {
	mu sync.Mutex
	m  map[uint64]pendingSample
	_  [48]byte // keep shards on separate cache lines
}

// pendingSample is small and pointer-free so that the map stays compact
// and out of the garbage collector's way.
type pendingSample struct {
	t     int64
	v     uint64 // float bits, or a histogram's fingerprint
	owner uint32 // Appender.id
	hist  bool
}

func (p *pendingSet) shard(hash uint64) *pendingShard {
	return &p.shards[hash%uint64(len(p.shards))]
}

// conflict reports how s, appended while e is pending, would be refused at
// commit; ok is false when it would not be. outOfOrderAllowed is true with
// an out-of-order window, where an older sample is kept.
func (e pendingSample) conflict(s pendingSample, outOfOrderAllowed bool) (err *AppendError, ok bool) {
	switch {
	case s.t == e.t:
		// Bits, as the TSDB compares (tsdb/head_append.go appendable).
		if e.v == s.v && e.hist == s.hist {
			return nil, false
		}
		ae := &AppendError{Reason: reasonNewValue, Timestamp: s.t, Err: errPendingDuplicate}
		if !s.hist {
			ae.New = math.Float64frombits(s.v)
		}
		if !e.hist {
			ae.Existing, ae.HasExisting = math.Float64frombits(e.v), true
		}
		return ae, true
	case s.t < e.t && !outOfOrderAllowed:
		ae := &AppendError{Reason: reasonOutOfOrder, Timestamp: s.t, Err: errPendingOutOfOrder}
		if !s.hist {
			ae.New = math.Float64frombits(s.v)
		}
		return ae, true
	}
	return nil, false
}

// histogramFingerprint identifies a histogram's value: two histograms with
// the same fingerprint are Equal (up to a 2^-64 chance).
func histogramFingerprint(h *histogram.Histogram, fh *histogram.FloatHistogram) uint64 {
	var arr [256]byte
	b := arr[:0]
	u := func(v uint64) { b = binary.LittleEndian.AppendUint64(b, v) }
	f := func(v float64) { u(math.Float64bits(v)) }
	spans := func(ss []histogram.Span) {
		u(uint64(len(ss)))
		for _, s := range ss {
			u(uint64(uint32(s.Offset))<<32 | uint64(s.Length))
		}
	}
	if h != nil {
		u(0)
		u(uint64(h.Schema))
		f(h.ZeroThreshold)
		u(h.ZeroCount)
		u(h.Count)
		f(h.Sum)
		spans(h.PositiveSpans)
		for _, v := range h.PositiveBuckets {
			u(uint64(v))
		}
		spans(h.NegativeSpans)
		for _, v := range h.NegativeBuckets {
			u(uint64(v))
		}
		for _, v := range h.CustomValues {
			f(v)
		}
		return xxhash.Sum64(b)
	}
	u(1)
	u(uint64(fh.Schema))
	f(fh.ZeroThreshold)
	f(fh.ZeroCount)
	f(fh.Count)
	f(fh.Sum)
	spans(fh.PositiveSpans)
	for _, v := range fh.PositiveBuckets {
		f(v)
	}
	spans(fh.NegativeSpans)
	for _, v := range fh.NegativeBuckets {
		f(v)
	}
	for _, v := range fh.CustomValues {
		f(v)
	}
	return xxhash.Sum64(b)
}
