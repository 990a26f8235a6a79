package workspace

import (
	"fmt"
	"strings"
	"time"

	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
	"github.com/rwkit/rwkit/workspace/store"
)

// Writer attribution: who wrote the value the TSDB refused a sample
// against, and writers taking turns on a series. Its tables are in
// writers.go, its log in collisions.go.

// pendingWrite is an accepted sample whose writer is recorded once the
// request is committed.
type pendingWrite struct {
	hash uint64
	ls   []wire.Label
	ts   int64
	v    float64
}

// explain adds the rwkit lines for a refused sample: for
// new-value-for-timestamp, the writer of the stored value and the refused
// one (and logs the collision); for sample-out-of-order, the writer of the
// newest sample.
func (t *tenant) explain(o *outcome, ae *store.AppendError, ls []wire.Label, h uint64, smp *wire.Sample, wid uint32, wr Writer, now time.Time) {
	e, known := t.series.get(h)
	switch ae.Reason {
	case validate.NewValueForTimestamp:
		var existingID uint32
		var at int64
		switch {
		case ae.WithinBatch:
			existingID = wid // earlier in this request, recorded at commit
		case known && e.ts == smp.Timestamp:
			existingID, at = e.writer, e.at
		case known && e.prevTs == smp.Timestamp:
			existingID = e.prevWriter
		}
		existing := ae.Existing
		if !ae.HasExisting && known && e.ts == smp.Timestamp {
			existing = e.val
		}
		var ew *Writer
		if x, ok := t.writers.get(existingID); ok {
			ew = &x
		}
		t.collisionsTotal.Inc()
		o.collisions = true
		k := collisionKey{series: h, existing: existingID, newer: wid}
		if c := t.collisions.record(k, KindNewValueForTimestamp, ls, smp.Timestamp, existing, smp.Value, ew, wr, now); c != nil && o.first == nil {
			cp := *c
			o.first, o.firstKey = &cp, k
		}
		var b strings.Builder
		fmt.Fprintf(&b, "rwkit: new-value-for-timestamp series=%s at %s (%d): value %s ", validate.LabelsString(ls),
			formatTime(time.UnixMilli(smp.Timestamp)), smp.Timestamp, formatValue(existing))
		switch {
		case ew == nil:
			b.WriteString("written by a writer this workspace does not remember")
		case at != 0:
			fmt.Fprintf(&b, "written by writer %s at %s", ew, formatTime(time.Unix(0, at)))
		default:
			fmt.Fprintf(&b, "written by writer %s", ew)
		}
		if existingID == wid {
			fmt.Fprintf(&b, "; value %s refused from the same writer, which sent two values for one timestamp", formatValue(smp.Value))
		} else {
			fmt.Fprintf(&b, "; value %s refused from writer %s", formatValue(smp.Value), wr)
		}
		o.note(b.String())
	case validate.SampleOutOfOrder, validate.SampleTooOld:
		if !known {
			return
		}
		ew, ok := t.writers.get(e.writer)
		if !ok {
			return
		}
		who := fmt.Sprintf("writer %s", ew)
		if e.writer == wid {
			who = "this same writer"
		}
		o.note(fmt.Sprintf("rwkit: %s series=%s: timestamp %d is older than the newest sample (%d, value %s) written by %s",
			ae.Reason, validate.LabelsString(ls), smp.Timestamp, e.ts, formatValue(e.val), who))
	}
}

// dropped records a sample dropped as the backend drops it
// (policy.dropWithinRequest): counted in rwkit_dropped_samples_total,
// added to the answer's X-Rwkit-Dropped, and logged as a collision of the
// request's writer with itself.
func (t *tenant) dropped(o *outcome, ae *store.AppendError, ls []wire.Label, h uint64, wid uint32, wr Writer, now time.Time) {
	o.drop(ae.Reason, 1)
	t.countDropped(ae.Reason, 1)
	self := wr
	c := t.collisions.record(collisionKey{series: h, existing: wid, newer: wid, dropped: ae.Reason}, KindDroppedWithinRequest,
		ls, ae.Timestamp, ae.Existing, ae.New, &self, wr, now)
	if c == nil {
		return
	}
	c.Reason = string(ae.Reason)
	if !ae.HasExisting {
		c.ExistingValue = ""
	}
	if ae.Reason == validate.NewValueForTimestamp {
		c.Note = "one request from this writer held two values for this series and timestamp; " + droppedNote
	} else {
		c.Note = "one request from this writer held a sample of this series older than an earlier one; " + droppedNote
	}
}

const droppedNote = "the backend keeps the earlier sample and drops this one at commit, answering 2xx and counting nothing (rwkit_dropped_samples_total counts it)"

// recordWrites records the writer of a committed request's accepted
// samples, all written by writer wid at now.
func (t *tenant) recordWrites(pending []pendingWrite, wid uint32, wr Writer, now time.Time, window int64) {
	for _, p := range pending {
		t.wrote(p, wid, wr, now, window)
	}
	if len(pending) > 0 && t.series.max > 0 {
		t.writers.saw(wid, now.UnixNano())
	}
}

// wrote records an accepted sample's writer, and two writers taking turns
// on the series (A, B, then A again within window ms of sample time).
func (t *tenant) wrote(p pendingWrite, wid uint32, wr Writer, now time.Time, window int64) {
	e, ok := t.series.get(p.hash)
	switch {
	case !ok:
		e = lastWrite{writer: wid, ts: p.ts, val: p.v, at: now.UnixNano()}
	case e.writer == wid:
		e.ts, e.val, e.at = p.ts, p.v, now.UnixNano()
	default:
		if e.prevWriter == wid && p.ts-e.prevTs <= window {
			var ew *Writer
			if x, ok := t.writers.get(e.writer); ok {
				ew = &x
			}
			t.collisions.record(collisionKey{series: p.hash, existing: e.writer, newer: wid, alternatingWrite: true},
				KindAlternatingWriters, p.ls, p.ts, e.val, p.v, ew, wr, now)
			t.alternationsTotal.Inc()
		}
		e.prevWriter, e.prevTs, e.prevVal = e.writer, e.ts, e.val
		e.writer, e.ts, e.val, e.at = wid, p.ts, p.v, now.UnixNano()
	}
	t.series.put(p.hash, e)
}

// pruneWriters forgets writers no tracked series refers to once there are
// more than max.
func (t *tenant) pruneWriters(max int) {
	if t.writers.len() <= max {
		return
	}
	used := map[uint32]struct{}{}
	t.series.each(func(e lastWrite) {
		used[e.writer] = struct{}{}
		used[e.prevWriter] = struct{}{}
	})
	t.writers.retain(func(id uint32) bool { _, ok := used[id]; return ok })
}
