package workspace

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
)

// counts are the RW 2.0 X-Prometheus-Remote-Write-*-Written values.
type counts struct{ samples, histograms, exemplars int }

type reasonCount struct {
	reason validate.Reason
	n      int
}

// outcome is what one request did: its answer, what was written and what
// was refused.
type outcome struct {
	status  int    // 0: success
	message string // the backend's text for status (Cortex's or Prometheus')
	written counts
	refused []reasonCount // samples and histograms removed, by reason, in order of first refusal
	notes   []string      // rwkit's lines: which writers collided
	hidden  int           // notes not shown
	// collisions: at least one new-value-for-timestamp was recorded.
	collisions bool
}

// maxNotes bounds the attribution lines of one refusal body.
const maxNotes = 5

func (o *outcome) refuse(r validate.Reason, n int) {
	if n <= 0 {
		return
	}
	for i := range o.refused {
		if o.refused[i].reason == r {
			o.refused[i].n += n
			return
		}
	}
	o.refused = append(o.refused, reasonCount{r, n})
}

func (o *outcome) note(s string) {
	if len(o.notes) >= maxNotes {
		o.hidden++
		return
	}
	o.notes = append(o.notes, s)
}

func (o *outcome) fail(status int, msg string) {
	if o.status == 0 {
		o.status, o.message = status, msg
	}
}

// errStorage is a failure of the store itself: the request is rolled back
// and answered 500, as Cortex's ingester does for an unknown append error.
type errStorage struct{ err error }

func (e *errStorage) Error() string { return e.err.Error() }
func (e *errStorage) Unwrap() error { return e.err }

// pendingWrite is an accepted sample whose writer is recorded once the
// request is committed.
type pendingWrite struct {
	hash uint64
	ls   []wire.Label
	ts   int64
	v    float64
}

// prepared is the per-request scratch of ingest, reused across requests.
type prepared struct {
	hashes  []uint64
	refs    []seriesRef
	pending []pendingWrite
}

// maxPooledPrepared: scratch for more series than this is not kept.
const maxPooledPrepared = 1 << 18

var preparedPool = sync.Pool{New: func() any { return new(prepared) }}

func getPrepared() *prepared { return preparedPool.Get().(*prepared) }

func putPrepared(p *prepared) {
	if cap(p.hashes) > maxPooledPrepared || cap(p.pending) > maxPooledPrepared {
		return
	}
	// Cleared, so that the pool does not keep labels alive.
	clear(p.refs)
	clear(p.pending)
	p.hashes, p.refs, p.pending = p.hashes[:0], p.refs[:0], p.pending[:0]
	preparedPool.Put(p)
}

// ingest validates req as the limits' backend does and appends what
// passes to t. It returns an *errStorage when the store failed.
func (w *Workspace) ingest(ctx context.Context, t *tenant, req *wire.WriteRequest, v wire.Version, wr Writer) (outcome, error) {
	var o outcome
	lim := &w.limits
	now := w.now()
	cortex := lim.Backend == validate.BackendCortex

	if cortex && v == wire.V2 {
		// Cortex converts RW 2.0 to 1.0 first and refuses the whole request
		// for a series without data (convertV2RequestToV1 in
		// pkg/util/push/push.go).
		for i := range req.Series {
			s := &req.Series[i]
			if len(s.Samples) == 0 && len(s.Histograms) == 0 {
				ls := slices.SortedStableFunc(slices.Values(s.Labels), wire.CompareLabels)
				o.fail(http.StatusBadRequest, "TimeSeries must contain at least one sample or histogram for series "+validate.LabelsString(ls))
				w.refuseAll(t, &o, req)
				return o, nil
			}
		}
	}

	res := validate.ValidateRequest(lim, req, now)
	for i := range res.Discards {
		d := &res.Discards[i]
		o.refuse(d.Reason, d.Samples+d.Histograms)
		t.countDiscard(d.Reason, d.Counted)
		if d.WholeRequest {
			o.fail(http.StatusBadRequest, d.Message)
			// Nothing else of the request is stored.
			w.refuseAll(t, &o, req)
			return o, nil
		}
	}
	distributorErr := res.FirstError()

	if cortex && res.RateCost() > 0 && !t.limiter.Allow(now, res.RateCost()) {
		d := res.RateLimited(t.limiter.Limit())
		o.refuse(d.Reason, d.Samples+d.Histograms)
		t.countDiscard(d.Reason, d.Counted)
		o.fail(d.Status, d.Message)
		return o, nil
	}
	if len(res.Series) == 0 && len(res.Metadata) == 0 {
		if distributorErr != nil {
			o.fail(distributorErr.Status, distributorErr.Message)
		}
		return o, nil
	}

	// What does not depend on other requests is done before the tenant's
	// lock, so that concurrent writers share only the appends: hashing
	// the series and building and looking up their storage labels.
	p := getPrepared()
	defer putPrepared(p)
	for i := range res.Series {
		p.hashes = append(p.hashes, seriesHash(w.seed, res.Series[i].Labels))
	}
	p.refs = t.db.resolve(ctx, res.Series, p.refs)
	// A tenant that cannot write to its disk tries to recover here,
	// outside its lock (the recovery replays the WAL). If it is still
	// failed, the appender below refuses the request and counts it.
	_ = t.db.writable()

	t.mu.Lock()
	defer t.mu.Unlock()
	wid := t.writers.id(wr)
	app := t.db.appender(ctx)
	pending := p.pending
	defer func() { p.pending = pending }()
	var ingesterErr string
	ingesterStatus := http.StatusBadRequest

	for i := range res.Series {
		s := &res.Series[i]
		h, ref := p.hashes[i], &p.refs[i]
		if cortex {
			if r, msg := t.admit(lim, h, s.Labels); r != validate.Unknown {
				n := len(s.Samples) + len(s.Histograms)
				o.refuse(r, n)
				t.countDiscard(r, n)
				if ingesterErr == "" {
					ingesterErr, ingesterStatus = validate.UserMessage(t.id, msg), lim.SeriesLimitStatus
				}
				continue
			}
		}
		for j := range s.Samples {
			smp := &s.Samples[j]
			err := app.appendRef(ref, smp.Timestamp, smp.Value)
			if err == nil {
				o.written.samples++
				pending = append(pending, pendingWrite{h, s.Labels, smp.Timestamp, smp.Value})
				continue
			}
			var f *appendFailure
			if !errors.As(err, &f) {
				_ = app.rollback()
				return o, &errStorage{err}
			}
			if !cortex {
				// Prometheus rolls the whole request back at the first
				// refused sample and answers with the TSDB's text.
				_ = app.rollback()
				t.explain(&o, f, s.Labels, h, smp, wid, wr, now)
				w.rolledBack(t, &o, req, f)
				return o, nil
			}
			o.refuse(f.reason, 1)
			t.countDiscard(f.reason, 1)
			if ingesterErr == "" {
				ingesterErr = validate.UserMessage(t.id, tsdbText(f.err, f.reason, smp.Timestamp, s.Labels))
			}
			t.explain(&o, f, s.Labels, h, smp, wid, wr, now)
		}
		if len(s.Histograms) > 0 && !lim.EnableNativeHistograms {
			// Cortex's ingester drops them quietly and counts them.
			o.refuse(validate.NativeHistogramSample, len(s.Histograms))
			t.countDiscard(validate.NativeHistogramSample, len(s.Histograms))
		} else {
			for j := range s.Histograms {
				hs := &s.Histograms[j]
				err := app.appendHistogramRef(ref, hs)
				if err == nil {
					o.written.histograms++
					continue
				}
				var f *appendFailure
				if !errors.As(err, &f) {
					_ = app.rollback()
					return o, &errStorage{err}
				}
				if !cortex {
					_ = app.rollback()
					w.rolledBack(t, &o, req, f)
					return o, nil
				}
				o.refuse(f.reason, 1)
				t.countDiscard(f.reason, 1)
				if ingesterErr == "" {
					ingesterErr = validate.UserMessage(t.id, tsdbText(f.err, f.reason, hs.Timestamp, s.Labels))
				}
			}
		}
		for j := range s.Exemplars {
			// Exemplar failures do not fail the request (Prometheus drops
			// them quietly; Cortex stores none by default).
			if err := app.appendExemplar(s.Labels, &s.Exemplars[j]); err == nil {
				o.written.exemplars++
			}
		}
		if v == wire.V2 && s.Metadata != (wire.Metadata{}) {
			_ = app.appendMetadata(s.Labels, &s.Metadata)
		}
	}
	for i := range res.Metadata {
		_ = app.appendMetadata(nil, &res.Metadata[i])
	}
	if err := app.commit(); err != nil {
		return outcome{}, &errStorage{err}
	}
	t.countAccepted(o.written.samples + o.written.histograms)
	for _, p := range pending {
		t.wrote(p, wid, wr, now, w.alternationWindow.Milliseconds())
	}
	t.pruneWriters(w.maxWriters)

	// Cortex answers with the ingester's first error when there is one,
	// else with the distributor's (Distributor.Push).
	switch {
	case ingesterErr != "":
		o.fail(ingesterStatus, ingesterErr)
	case distributorErr != nil:
		o.fail(distributorErr.Status, distributorErr.Message)
	}
	return o, nil
}

// refuseAll records every sample of req not yet refused as refused with
// the whole request (nothing of it is stored).
func (w *Workspace) refuseAll(t *tenant, o *outcome, req *wire.WriteRequest) {
	total := 0
	for i := range req.Series {
		total += len(req.Series[i].Samples) + len(req.Series[i].Histograms)
	}
	for _, rc := range o.refused {
		total -= rc.n
	}
	if total > 0 {
		o.refuse(reasonRolledBack, total)
		t.countDiscard(reasonRolledBack, total)
	}
}

// reasonRolledBack counts samples that were valid but not stored because
// their request was refused as a whole (Prometheus' rollback, Cortex's
// "empty labels found"). It is rwkit's, not Cortex's.
const reasonRolledBack validate.Reason = "request_refused_whole"

// rolledBack makes o Prometheus' answer to a request with a refused
// sample: 400 with the TSDB's text, nothing stored.
func (w *Workspace) rolledBack(t *tenant, o *outcome, req *wire.WriteRequest, f *appendFailure) {
	o.written = counts{}
	o.fail(http.StatusBadRequest, f.err.Error())
	o.refuse(f.reason, 1)
	t.countDiscard(f.reason, 1)
	w.refuseAll(t, o, req)
}

// explain adds the rwkit lines for a refused sample: for
// new-value-for-timestamp, the writer of the stored value and the refused
// one (and logs the collision); for sample-out-of-order, the writer of the
// newest sample.
func (t *tenant) explain(o *outcome, f *appendFailure, ls []wire.Label, h uint64, smp *wire.Sample, wid uint32, wr Writer, now time.Time) {
	e, known := t.series.get(h)
	switch f.reason {
	case validate.NewValueForTimestamp:
		var existingID uint32
		var at int64
		switch {
		case known && e.ts == smp.Timestamp:
			existingID, at = e.writer, e.at
		case known && e.prevTs == smp.Timestamp:
			existingID = e.prevWriter
		}
		existing := f.existing
		if !f.hasExisting && known && e.ts == smp.Timestamp {
			existing = e.val
		}
		var ew *Writer
		if x, ok := t.writers.get(existingID); ok {
			ew = &x
		}
		t.collisionsTotal.Inc()
		o.collisions = true
		t.collisions.record(collisionKey{series: h, existing: existingID, newer: wid}, KindNewValueForTimestamp,
			ls, smp.Timestamp, existing, smp.Value, ew, wr, now)
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
			f.reason, validate.LabelsString(ls), smp.Timestamp, e.ts, formatValue(e.val), who))
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

// admit applies the ingester's series limits to a series the tenant has not
// seen: per_user_series_limit against the TSDB head's series count and
// per_metric_series_limit against the series created per metric name. It
// returns Unknown when the series may be created.
func (t *tenant) admit(lim *validate.Limits, h uint64, ls []wire.Label) (validate.Reason, string) {
	if lim.MaxSeriesPerUser <= 0 && lim.MaxSeriesPerMetric <= 0 {
		return validate.Unknown, ""
	}
	if _, ok := t.known[h]; ok {
		return validate.Unknown, ""
	}
	if lim.MaxSeriesPerUser > 0 && t.db.numSeries() >= lim.MaxSeriesPerUser {
		return validate.PerUserSeriesLimit, validate.PerUserSeriesLimitMessage(lim)
	}
	name, _ := wire.MetricName(ls)
	if lim.MaxSeriesPerMetric > 0 && t.perMetric[name] >= lim.MaxSeriesPerMetric {
		return validate.PerMetricSeriesLimit, validate.PerMetricSeriesLimitMessage(lim, ls)
	}
	t.known[h] = struct{}{}
	if n, ok := t.perMetric[name]; ok {
		t.perMetric[name] = n + 1
	} else {
		t.perMetric[strings.Clone(name)] = 1 // name may be a view of the request buffer
	}
	return validate.Unknown, ""
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
