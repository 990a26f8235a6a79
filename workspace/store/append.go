package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
)

// ErrAppenderDone is returned by an Appender used after Commit or Rollback.
var ErrAppenderDone = errors.New("store: appender already committed or rolled back")

// Appender is one batch of appends to a tenant, committed atomically (all
// accepted samples become visible together). A refused sample returns an
// *AppendError and leaves the rest of the batch intact.
//
// Samples are also checked against batches not yet committed (this one
// and others in flight): where the TSDB would drop a sample at Commit
// without a word (another value at the same timestamp, or an older sample
// without an out-of-order window), Append refuses it instead; see
// pendingSet.
type Appender struct {
	t   *Tenant
	err error  // set: the tenant cannot write; everything is refused with it
	id  uint32 // owner of this batch's entries in t.pending

	// ctx is the batch's, kept for a tenant without a TSDB yet: its TSDB
	// appender is started at the first accepted sample (startTSDB). db is
	// the TSDB app belongs to, held open (t.dbMu read-locked) from start
	// until the batch is done, and gen its t.gen; db, gen and app are unset
	// until start.
	ctx   context.Context
	db    *tsdb.DB
	gen   uint64
	app   storage.AppenderV2
	exApp storage.ExemplarAppenderV2
	resolver

	ex   [1]exemplar.Exemplar
	meta []pendingMetadata
	done bool
}

// Ref is a series resolved ahead of its appends by Tenant.Resolve, for
// AppendRef. The zero Ref is not valid.
type Ref struct {
	ref  storage.SeriesRef // 0: not in the head when resolved
	lset labels.Labels     // the head's own labels, or a copy for a new series
	hash uint64
	gen  uint64 // Tenant.gen of the TSDB ref belongs to
}

// Resolve does the series half of Append for each of series, ahead of any
// batch: it builds the TSDB labels and looks them up in the head, and
// appends one Ref per series to dst. It is safe for concurrent use and
// holds no lock of the tenant's, so a caller that serializes its batches
// (the workspace does, to know who wrote what) can do this work outside
// its critical section. Labels are copied only for series the head does
// not have; a series created or dropped by the head in between is still
// appended correctly, as Append would.
//
// A Ref outlives a reopen of the TSDB after a storage failure (Writable):
// the series may have another number in the new head, so a Ref of an
// older TSDB is looked up again by its labels.
func (t *Tenant) Resolve(ctx context.Context, series []wire.TimeSeries, dst []Ref) []Ref {
	r := resolver{}
	// A failed tenant refuses the batch anyway; its TSDB is left alone,
	// so that the recovery finds it free and this does not wait for it.
	// Without a TSDB (not opened yet) every series is new.
	if t.health.failure() == nil {
		t.dbMu.RLock()
		defer t.dbMu.RUnlock()
		if t.db != nil {
			app := t.db.AppenderV2(ctx)
			defer func() { _ = app.Rollback() }()
			r.getRef, _ = app.(storage.GetRef)
			r.gen = t.gen
		}
	}
	for i := range series {
		dst = append(dst, r.series(series[i].Labels))
	}
	return dst
}

// resolver turns wire labels into a Ref; it is not safe for concurrent use.
type resolver struct {
	getRef  storage.GetRef // nil if the TSDB appender has none
	gen     uint64         // Tenant.gen of getRef's TSDB
	b       labels.ScratchBuilder
	scratch labels.Labels
}

type pendingMetadata struct {
	family string
	m      metricMetadata
}

// newAppender begins a batch without a TSDB appender; start gives it one.
func newAppender(ctx context.Context, t *Tenant) *Appender {
	return &Appender{t: t, id: t.pending.begin(), ctx: ctx}
}

// start starts the batch's TSDB appender on db, of generation gen, which
// the caller has read-locked (t.dbMu) for the batch: finish unlocks it.
func (a *Appender) start(db *tsdb.DB, gen uint64) {
	a.db, a.gen = db, gen
	a.app = db.AppenderV2(a.ctx)
	a.resolver.getRef, _ = a.app.(storage.GetRef)
	a.resolver.gen = gen
	a.exApp, _ = a.app.(storage.ExemplarAppenderV2)
}

// startTSDB opens the tenant's TSDB for a sample of a tenant that has none
// yet, unless the TSDB would refuse the sample anyway. An empty TSDB takes
// any float sample (its head has no lower bound yet: tsdb initAppenderV2)
// and refuses only a native histogram that fails Validate, which the head
// appender checks first (headAppenderV2.Append); that check is made here,
// with the same error, so that a tenant sent only refused samples still
// has no TSDB.
func (a *Appender) startTSDB(r Ref, ts int64, h *histogram.Histogram, fh *histogram.FloatHistogram) error {
	var invalid error
	switch {
	case fh != nil:
		invalid = fh.Validate()
	case h != nil:
		invalid = h.Validate()
	}
	if invalid != nil {
		return a.appendError(invalid, r.lset, ts, 0, true)
	}
	// The TSDB is opened without holding dbMu (Tenant.open), then held
	// for the batch like any other appender's; it may have failed or been
	// closed in between.
	t := a.t
	if _, err := t.open(); err != nil {
		return err
	}
	t.dbMu.RLock()
	if t.health.failure() != nil {
		t.dbMu.RUnlock()
		// Not cleared while the lock was held, so this refuses.
		return t.health.refuse(t.id)
	}
	if t.db == nil {
		t.dbMu.RUnlock()
		return fmt.Errorf("store: tenant %q: %w", t.id, ErrClosed)
	}
	a.start(t.db, t.gen)
	return nil
}

// series turns wire labels into TSDB labels without allocating for series
// the head already has: the labels are built in a reused buffer and looked
// up with GetRef (as Cortex's ingester does), and copied only for a new
// series, which the head keeps. Labels with empty values are dropped, since
// Prometheus treats them as absent; unsorted input is sorted.
func (a *resolver) series(ls []wire.Label) Ref {
	a.b.Reset()
	sorted := true
	prev := ""
	for _, l := range ls {
		if l.Value == "" {
			continue
		}
		if l.Name < prev {
			sorted = false
		}
		prev = l.Name
		a.b.Add(l.Name, l.Value)
	}
	if !sorted {
		a.b.Sort()
	}
	a.b.Overwrite(&a.scratch)
	hash := a.scratch.Hash()
	if a.getRef != nil {
		if ref, lset := a.getRef.GetRef(a.scratch, hash); ref != 0 {
			return Ref{ref: ref, lset: lset, hash: hash, gen: a.gen}
		}
	}
	return Ref{lset: keepLabels(a.scratch), hash: hash}
}

// append appends one float (h and fh nil) or histogram sample, checking it
// against the samples pending in uncommitted batches first.
func (a *Appender) append(r Ref, ts int64, v float64, h *histogram.Histogram, fh *histogram.FloatHistogram) error {
	if a.done {
		return ErrAppenderDone
	}
	if a.err != nil {
		return a.err
	}
	if a.app == nil {
		if err := a.startTSDB(r, ts, h, fh); err != nil {
			return err
		}
	}
	ref, lset, hash := r.ref, r.lset, r.hash
	if r.gen != a.gen {
		ref = 0 // resolved on a TSDB since reopened: found again by lset
	}
	s := pendingSample{t: ts, v: math.Float64bits(v), owner: a.id}
	if h != nil || fh != nil {
		s.v, s.hist = histogramFingerprint(h, fh), true
	}
	sh := a.t.pending.shard(hash)
	sh.mu.Lock()
	e, had := sh.m[hash]
	if had {
		// Whether e's batch is still in flight is asked only on a
		// conflict, which keeps the common path to one map lookup.
		if ae, refused := e.conflict(s, a.t.outOfOrderAllowed); refused {
			switch {
			case e.owner == a.id:
				sh.mu.Unlock()
				return a.appendWithinBatch(ae, ref, lset, ts, v, h, fh)
			case a.t.pending.active(e.owner):
				sh.mu.Unlock()
				return ae
			}
			had = false // stale: its batch has ended; the TSDB judges alone
		}
	}
	_, err := a.app.Append(ref, lset, 0, ts, v, h, fh, storage.AOptions{})
	if err == nil && (!had || ts >= e.t) {
		if sh.m == nil {
			sh.m = map[uint64]pendingSample{}
		} else if len(sh.m) >= maxPendingPerShard {
			a.t.pending.sweep(sh)
		}
		sh.m[hash] = s
	}
	sh.mu.Unlock()
	if err != nil {
		return a.appendError(err, lset, ts, v, h != nil || fh != nil)
	}
	return nil
}

// appendWithinBatch hands the TSDB a sample that conflicts with an earlier
// one of this batch (ae, AppendError.WithinBatch). The TSDB judges it
// against committed data, as it judges any Append; if it takes it, its
// Commit drops it (tsdb/head_append.go commitFloats: the series' newest
// sample is then the earlier one), which is what Cortex's ingester does
// with such a request. The pending entry stays the earlier sample's.
func (a *Appender) appendWithinBatch(ae *AppendError, ref storage.SeriesRef, lset labels.Labels, ts int64, v float64,
	h *histogram.Histogram, fh *histogram.FloatHistogram) error {
	if _, err := a.app.Append(ref, lset, 0, ts, v, h, fh, storage.AOptions{}); err != nil {
		return a.appendError(err, lset, ts, v, h != nil || fh != nil)
	}
	ae.WithinBatch = true
	ae.Err = errBatchDuplicate
	if ae.Reason == reasonOutOfOrder {
		ae.Err = errBatchOutOfOrder
	}
	return ae
}

// Append adds a float sample. ls must be valid (the caller validates) and
// is not retained.
func (a *Appender) Append(ls []wire.Label, ts int64, v float64) error {
	if a.done {
		return ErrAppenderDone
	}
	return a.append(a.series(ls), ts, v, nil, nil)
}

// AppendRef is Append for a series resolved by Tenant.Resolve (of this
// tenant).
func (a *Appender) AppendRef(r *Ref, ts int64, v float64) error {
	return a.append(*r, ts, v, nil, nil)
}

func (a *Appender) appendError(err error, lset labels.Labels, ts int64, v float64, isHistogram bool) *AppendError {
	e := &AppendError{Reason: reasonOf(err), Timestamp: ts, New: v, Err: err}
	if e.Reason == validate.NewValueForTimestamp && !isHistogram {
		e.Existing, e.HasExisting = existingFromDuplicate(err)
		if !e.HasExisting {
			e.Existing, e.HasExisting = floatAt(a.db, lset, ts)
		}
	}
	return e
}

// AppendHistogram adds a native histogram sample (integer or float, with
// exponential or custom buckets) at h.Timestamp.
func (a *Appender) AppendHistogram(ls []wire.Label, h *wire.Histogram) error {
	if a.done {
		return ErrAppenderDone
	}
	ih, fh := convertHistogram(h)
	return a.append(a.series(ls), h.Timestamp, 0, ih, fh)
}

// AppendHistogramRef is AppendHistogram for a series resolved by
// Tenant.Resolve.
func (a *Appender) AppendHistogramRef(r *Ref, h *wire.Histogram) error {
	if a.done {
		return ErrAppenderDone
	}
	ih, fh := convertHistogram(h)
	return a.append(*r, h.Timestamp, 0, ih, fh)
}

// AppendExemplar adds an exemplar to a series appended earlier (in this
// batch or before). It is best effort: with Options.MaxExemplars 0
// exemplars are dropped and nil is returned; a duplicate exemplar is
// dropped silently; an out-of-order one or one with too long labels
// returns an error the caller may count and otherwise ignore.
func (a *Appender) AppendExemplar(ls []wire.Label, e *wire.Exemplar) error {
	if a.done {
		return ErrAppenderDone
	}
	if a.err != nil {
		return a.err
	}
	if a.app == nil {
		// What an empty TSDB answers (initAppenderV2.AppendExemplars).
		return fmt.Errorf("store: exemplar at %d: no series exists yet: %w", e.Timestamp, storage.ErrNotFound)
	}
	if a.exApp == nil {
		return errors.New("store: the TSDB appender takes no exemplars")
	}
	r := a.series(ls)
	ref, lset := r.ref, r.lset
	var eb labels.ScratchBuilder
	for _, l := range e.Labels {
		if l.Value != "" {
			eb.Add(l.Name, l.Value)
		}
	}
	eb.Sort()
	a.ex[0] = exemplar.Exemplar{Labels: keepLabels(eb.Labels()), Value: e.Value, Ts: e.Timestamp, HasTs: true}
	_, err := a.exApp.AppendExemplars(ref, lset, a.ex[:])
	a.ex[0] = exemplar.Exemplar{}
	var pe *storage.AppendPartialError
	if errors.As(err, &pe) && len(pe.ExemplarErrors) > 0 {
		err = pe.ExemplarErrors[0].Err
	}
	if err != nil {
		return fmt.Errorf("store: exemplar at %d: %w", e.Timestamp, err)
	}
	return nil
}

// UpdateMetadata records a metric family's type, help and unit, served by
// /api/v1/metadata once the batch commits. The family is m.FamilyName (RW
// 1.0), or else derived from ls's __name__ (RW 2.0 sends metadata on each
// series: foo_bucket of a histogram belongs to family foo).
func (a *Appender) UpdateMetadata(ls []wire.Label, m wire.Metadata) error {
	if a.done {
		return ErrAppenderDone
	}
	family := m.FamilyName
	if family == "" {
		for _, l := range ls {
			if l.Name == model.MetricNameLabel {
				family = familyOf(l.Value, m.Type)
				break
			}
		}
	}
	if family == "" {
		return errors.New("store: metadata names no metric family and the series has no __name__")
	}
	a.meta = append(a.meta, pendingMetadata{
		family: strings.Clone(family),
		m: metricMetadata{
			Type: m.Type.String(),
			Help: strings.Clone(m.Help),
			Unit: strings.Clone(m.Unit),
		},
	})
	return nil
}

// Commit makes the batch's accepted samples visible and writes them to the
// WAL. A Commit error means nothing of the batch was stored. An error
// writing the WAL (a full disk) stops the tenant's writes until it has
// recovered (see Tenant.Writable); that error, and the error of every
// write refused until then, wraps ErrCannotWrite.
func (a *Appender) Commit() error {
	if a.done {
		return ErrAppenderDone
	}
	a.done = true
	if a.err != nil {
		return a.err
	}
	var err error
	if a.app != nil { // a batch without an accepted sample has nothing for the WAL
		err = a.commit()
	}
	a.finish()
	if err != nil {
		return err
	}
	if len(a.meta) > 0 {
		if err := a.t.mergeMetadata(a.meta); err != nil {
			return fmt.Errorf("store: commit metadata of tenant %q: %w", a.t.id, err)
		}
	}
	return nil
}

// commit commits the TSDB batch unless another commit failed since the
// batch began: after a failed WAL write, no commit may reach the same WAL
// (a torn record in it would take this one with it at the next Open).
func (a *Appender) commit() error {
	t := a.t
	t.commitMu.Lock()
	defer t.commitMu.Unlock()
	if t.health.failure() != nil {
		_ = a.app.Rollback()
		return t.health.refuse(t.id)
	}
	if err := a.app.Commit(); err != nil {
		// The TSDB rolled the batch back in memory (headAppender.Commit
		// calls Rollback when its log fails); its WAL is not used again.
		t.fail(err)
		return cannotWrite(t.id, err)
	}
	return nil
}

// Rollback drops the batch.
func (a *Appender) Rollback() error {
	if a.done {
		return ErrAppenderDone
	}
	a.done = true
	a.meta = nil
	if a.err != nil {
		return nil
	}
	var err error
	if a.app != nil {
		err = a.app.Rollback()
	}
	a.finish()
	return err
}

// finish ends the batch's claim on the samples it left pending and on
// its TSDB.
func (a *Appender) finish() {
	a.t.pending.end(a.id)
	if a.db != nil {
		a.t.dbMu.RUnlock()
	}
}

// floatAt reads the committed float value of lset at ts, for the rare
// duplicate error whose text carries no value.
func floatAt(db *tsdb.DB, lset labels.Labels, ts int64) (float64, bool) {
	// Not Tenant.Querier: the batch already holds dbMu for reading, and a
	// second read lock could wait behind a writer waiting for the first.
	q, err := db.Querier(ts, ts)
	if err != nil {
		return 0, false
	}
	defer q.Close()
	var ms []*labels.Matcher
	lset.Range(func(l labels.Label) {
		ms = append(ms, labels.MustNewMatcher(labels.MatchEqual, l.Name, l.Value))
	})
	set := q.Select(context.Background(), false, nil, ms...)
	for set.Next() {
		s := set.At()
		if !labels.Equal(s.Labels(), lset) {
			continue
		}
		it := s.Iterator(nil)
		if it.Seek(ts) == chunkenc.ValFloat {
			if t2, v := it.At(); t2 == ts {
				return v, true
			}
		}
	}
	return math.NaN(), false
}

func familyOf(name string, typ wire.MetricType) string {
	var suffixes []string
	switch typ {
	case wire.MetricTypeHistogram, wire.MetricTypeGaugeHistogram:
		suffixes = []string{"_bucket", "_sum", "_count", "_gsum", "_gcount", "_created"}
	case wire.MetricTypeSummary:
		suffixes = []string{"_sum", "_count", "_created"}
	}
	for _, s := range suffixes {
		if f, ok := strings.CutSuffix(name, s); ok && f != "" {
			return f
		}
	}
	return name
}
