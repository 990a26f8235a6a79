package workspace

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
	"github.com/rwkit/rwkit/workspace/store"
)

// errStorage is a failure of the store itself: the request is rolled back
// and answered 500, as Cortex's ingester does for an unknown append error.
type errStorage struct{ err error }

func (e *errStorage) Error() string { return e.err.Error() }
func (e *errStorage) Unwrap() error { return e.err }

// prepared is the per-request scratch of ingest, reused across requests.
type prepared struct {
	hashes  []uint64
	refs    []store.Ref
	pending []pendingWrite
	// inRequest: a dry run's newest sample of each series so far in the
	// request (upstream_analysis.go).
	inRequest map[uint64]requestSample
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
	clear(p.inRequest)
	p.hashes, p.refs, p.pending = p.hashes[:0], p.refs[:0], p.pending[:0]
	preparedPool.Put(p)
}

// ingest validates req as the limits' backend does and appends what
// passes to t, in the steps of Cortex's distributor and ingester:
// distribute, then appendSeries under the tenant's lock, then commit. It
// returns an *errStorage when the store failed.
func (w *Workspace) ingest(ctx context.Context, t *tenant, req *wire.WriteRequest, v wire.Version, wr Writer) (outcome, error) {
	b := batch{w: w, t: t, req: req, v: v, wr: wr, now: w.cfg.now(), policy: w.policy, ingesterStatus: http.StatusBadRequest,
		dryRun: w.cfg.upstream != nil && !w.cfg.upstream.store}
	if !b.deduplicate() { // hatracker.go
		return b.o, nil
	}
	res, ok := b.distribute()
	if !ok {
		return b.o, nil
	}

	// What does not depend on other requests is done before the tenant's
	// lock, so that concurrent writers share only the appends: hashing
	// the series and building and looking up their storage labels.
	p := getPrepared()
	defer putPrepared(p)
	for i := range res.Series {
		p.hashes = append(p.hashes, seriesHash(w.seed, res.Series[i].Labels))
	}
	if b.dryRun {
		// Pass-through mode without --upstream-store: validated and
		// attributed without touching the store, which would keep every
		// series it ever saw (upstream_analysis.go).
		b.inRequest = p.dryRunScratch()
	} else {
		p.refs = t.db.Resolve(ctx, res.Series, p.refs)
		// A tenant that cannot write to its disk tries to recover here,
		// outside its lock (the recovery replays the WAL). If it is still
		// failed, the appender below refuses the request and counts it.
		_ = t.db.Writable()
	}

	t.mu.Lock()
	defer t.mu.Unlock()
	b.wid = t.writers.id(wr)
	if !b.dryRun {
		b.app = t.db.Appender(ctx)
	}
	b.pending = p.pending
	defer func() { p.pending = b.pending }()
	if err := b.appendSeries(&res, p); err != nil {
		if b.app != nil {
			_ = b.app.Rollback()
		}
		if errors.Is(err, errRolledBack) {
			return b.o, nil
		}
		return b.o, err
	}
	if !b.dryRun {
		if err := b.app.Commit(); err != nil {
			return outcome{}, &errStorage{err}
		}
	}
	b.committed()
	return b.o, nil
}

// batch is one request on its way to a tenant's store.
type batch struct {
	w      *Workspace
	t      *tenant
	req    *wire.WriteRequest
	v      wire.Version
	wr     Writer
	now    time.Time
	policy policy
	// dryRun: checked as the store would append it, without a store
	// (app is nil), and the writers recorded as if committed
	// (pass-through mode, upstream_analysis.go); inRequest is its
	// within-request state.
	dryRun    bool
	inRequest map[uint64]requestSample

	o              outcome
	distributorErr *validate.Discard // the first validation refusal
	ingesterErr    string            // the text of the first refusal appending
	ingesterStatus int
	// lines are the refusals of a request answered with all of them
	// (policy.collectV2), by request position; series is the position of
	// the series being appended.
	lines  []line
	series int

	// Set under the tenant's lock.
	wid     uint32
	app     *store.Appender
	pending []pendingWrite
}

// errRolledBack: a refused sample rolled the request back (policy.rollBack);
// the outcome says why.
var errRolledBack = errors.New("request rolled back")

// distribute is the distributor's part: validation and the rate limit. It
// reports whether anything is left to append; when not, b.o is the answer.
func (b *batch) distribute() (validate.Result, bool) {
	t, o := b.t, &b.o
	if b.policy.v2NeedsData && b.v == wire.V2 {
		if s := seriesWithoutData(b.req); s != nil {
			ls := slices.SortedStableFunc(slices.Values(s.Labels), wire.CompareLabels)
			o.fail(http.StatusBadRequest, "TimeSeries must contain at least one sample or histogram for series "+validate.LabelsString(ls))
			b.w.refuseAll(t, o, b.req)
			return validate.Result{}, false
		}
	}

	lim := &b.w.cfg.limits
	var res validate.Result
	if b.v == wire.V2 {
		res = validate.ValidateRequestV2(lim, b.req, b.now)
	} else {
		res = validate.ValidateRequest(lim, b.req, b.now)
	}
	for i := range res.Discards {
		d := &res.Discards[i]
		b.discard(d.Reason, d.Samples+d.Histograms, d.Counted)
		if b.collecting() {
			b.lines = append(b.lines, line{d.Index, d.Message})
			continue
		}
		if d.WholeRequest {
			o.fail(http.StatusBadRequest, d.Message)
			// Nothing else of the request is stored.
			b.w.refuseAll(t, o, b.req)
			return res, false
		}
	}
	b.distributorErr = res.FirstError()

	if b.policy.distributor && res.RateCost() > 0 && !t.limiter.Allow(b.now, res.RateCost()) {
		d := res.RateLimited(t.limiter.Limit())
		b.discard(d.Reason, d.Samples+d.Histograms, d.Counted)
		o.fail(d.Status, d.Message)
		return res, false
	}
	if len(res.Series) == 0 && len(res.Metadata) == 0 {
		b.answerFirstError()
		return res, false
	}
	return res, true
}

// seriesWithoutData is the first series of req with neither samples nor
// histograms, or nil.
func seriesWithoutData(req *wire.WriteRequest) *wire.TimeSeries {
	for i := range req.Series {
		if s := &req.Series[i]; len(s.Samples) == 0 && len(s.Histograms) == 0 {
			return s
		}
	}
	return nil
}

// discard refuses n samples for r in the answer and counts counted of them.
func (b *batch) discard(r validate.Reason, n, counted int) {
	b.o.refuse(r, n)
	b.t.countDiscard(r, counted)
}

// appendSeries is the ingester's part: each validated series is admitted,
// then its samples, histograms, exemplars and metadata appended.
func (b *batch) appendSeries(res *validate.Result, p *prepared) error {
	for i := range res.Series {
		s := &res.Series[i]
		h := p.hashes[i]
		var ref *store.Ref // none in a dry run
		if !b.dryRun {
			ref = &p.refs[i]
		}
		if res.Index != nil {
			b.series = res.Index[i]
		}
		if !b.admit(s, h) {
			continue
		}
		if err := b.appendSamples(s, h, ref); err != nil {
			return err
		}
		if err := b.appendHistograms(s, h, ref); err != nil {
			return err
		}
		if b.dryRun {
			continue // exemplars and metadata are not checked
		}
		for j := range s.Exemplars {
			// Exemplar failures do not fail the request (Prometheus drops
			// them quietly; Cortex stores none by default).
			if err := b.app.AppendExemplar(s.Labels, &s.Exemplars[j]); err == nil {
				b.o.written.exemplars++
			}
		}
		if b.v == wire.V2 && s.Metadata != (wire.Metadata{}) {
			_ = b.app.UpdateMetadata(s.Labels, s.Metadata)
		}
	}
	for i := 0; i < len(res.Metadata) && !b.dryRun; i++ {
		_ = b.app.UpdateMetadata(nil, res.Metadata[i])
	}
	return nil
}

// admit applies the ingester's series limits (policy.distributor) and
// reports whether the series may be appended.
func (b *batch) admit(s *wire.TimeSeries, h uint64) bool {
	if !b.policy.distributor || b.dryRun {
		// A dry run leaves the series limits to the upstream: the
		// workspace does not hold its series.
		return true
	}
	r, msg := b.t.admit(&b.w.cfg.limits, h, s.Labels)
	if r == validate.Unknown {
		return true
	}
	n := len(s.Samples) + len(s.Histograms)
	b.discard(r, n, n)
	if b.ingesterErr == "" {
		b.ingesterErr, b.ingesterStatus = validate.UserMessage(b.t.id, msg), b.w.cfg.limits.SeriesLimitStatus
	}
	return false
}

// appendSamples appends s's float samples. A refused one is counted and
// explained and the series goes on, or the request is rolled back
// (policy.rollBack: errRolledBack); one the backend drops silently is
// reported as dropped (policy.dropWithinRequest).
func (b *batch) appendSamples(s *wire.TimeSeries, h uint64, ref *store.Ref) error {
	for j := range s.Samples {
		smp := &s.Samples[j]
		var ae *store.AppendError
		var err error
		if b.dryRun {
			ae = b.dryAppend(h, smp) // upstream_analysis.go
		} else {
			ae, err = appended(b.app.AppendRef(ref, smp.Timestamp, smp.Value))
		}
		switch {
		case err != nil:
			return err
		case ae == nil:
			b.o.written.samples++
			b.pending = append(b.pending, pendingWrite{h, s.Labels, smp.Timestamp, smp.Value})
			continue
		case ae.WithinBatch && b.policy.dropWithinRequest:
			b.t.dropped(&b.o, ae, s.Labels, h, b.wid, b.wr, b.now)
			continue
		}
		if b.collecting() {
			b.collect(ae, s.Labels)
			b.t.explain(&b.o, ae, s.Labels, h, smp, b.wid, b.wr, b.now)
			continue
		}
		if b.policy.rollBack {
			// Prometheus rolls the whole request back at the first
			// refused sample and answers with the TSDB's text.
			b.t.explain(&b.o, ae, s.Labels, h, smp, b.wid, b.wr, b.now)
			b.w.rolledBack(b.t, &b.o, b.req, ae)
			return errRolledBack
		}
		b.refused(ae, smp.Timestamp, s.Labels)
		b.t.explain(&b.o, ae, s.Labels, h, smp, b.wid, b.wr, b.now)
	}
	return nil
}

// appendHistograms appends s's native histograms, as appendSamples does
// its floats (without writer attribution).
func (b *batch) appendHistograms(s *wire.TimeSeries, h uint64, ref *store.Ref) error {
	if len(s.Histograms) > 0 && !b.w.cfg.limits.EnableNativeHistograms {
		// Cortex's ingester drops them quietly and counts them.
		b.discard(validate.NativeHistogramSample, len(s.Histograms), len(s.Histograms))
		return nil
	}
	for j := range s.Histograms {
		hs := &s.Histograms[j]
		var ae *store.AppendError
		var err error
		if b.dryRun {
			ae = store.CheckHistogram(hs)
		} else {
			ae, err = appended(b.app.AppendHistogramRef(ref, hs))
		}
		switch {
		case err != nil:
			return err
		case ae == nil:
			b.o.written.histograms++
		case ae.WithinBatch && b.policy.dropWithinRequest:
			b.t.dropped(&b.o, ae, s.Labels, h, b.wid, b.wr, b.now)
		case b.collecting():
			b.collect(ae, s.Labels)
		case b.policy.rollBack:
			b.w.rolledBack(b.t, &b.o, b.req, ae)
			return errRolledBack
		default:
			b.refused(ae, hs.Timestamp, s.Labels)
		}
	}
	return nil
}

// line is one refusal of a request answered with all of them, at the
// request position of its series.
type line struct {
	index int
	msg   string
}

// collecting reports whether the request's refusals are collected
// (policy.collectV2) rather than answered with the first or rolled back.
func (b *batch) collecting() bool { return b.policy.collectV2 && b.v == wire.V2 }

// collect counts a sample the TSDB refused and adds its line.
func (b *batch) collect(ae *store.AppendError, ls []wire.Label) {
	b.discard(ae.Reason, 1, 1)
	b.lines = append(b.lines, line{b.series, validate.PrometheusV2Message(ae.Err, ls)})
}

// refused counts a sample the TSDB refused and keeps the ingester's text
// for the first one, which Cortex answers with.
func (b *batch) refused(ae *store.AppendError, ts int64, ls []wire.Label) {
	b.discard(ae.Reason, 1, 1)
	if b.ingesterErr == "" {
		b.ingesterErr = validate.IngesterRefusal(&b.w.cfg.limits, b.t.id, ae.Err, ae.Reason, ts, ls)
	}
}

// appended sorts an append's error: a sample the TSDB refused (the request
// goes on), or a failure of the store, an *errStorage (the request is
// rolled back and answered 500, or 503 when the disk cannot be written).
func appended(err error) (*store.AppendError, error) {
	if err == nil {
		return nil, nil
	}
	var ae *store.AppendError
	if !errors.Is(err, store.ErrCannotWrite) && errors.As(err, &ae) {
		return ae, nil
	}
	return nil, &errStorage{err}
}

// committed is what follows a commit: the writers of the accepted samples
// are recorded, and the answer is the ingester's first refusal when there
// is one, else the distributor's (Cortex's Distributor.Push).
func (b *batch) committed() {
	t := b.t
	if !b.dryRun {
		t.countAccepted(b.o.written.samples + b.o.written.histograms)
	}
	t.recordWrites(b.pending, b.wid, b.wr, b.now, b.w.cfg.alternationWindow.Milliseconds())
	t.pruneWriters(maxWriters)
	if b.ingesterErr != "" {
		b.o.fail(b.ingesterStatus, b.ingesterErr)
		return
	}
	b.answerFirstError()
}

// answerFirstError answers with the first validation refusal, if any, or
// with every refusal when they are collected.
func (b *batch) answerFirstError() {
	if len(b.lines) > 0 {
		slices.SortStableFunc(b.lines, func(x, y line) int { return x.index - y.index })
		msgs := make([]string, len(b.lines))
		for i, l := range b.lines {
			msgs[i] = l.msg
		}
		b.o.fail(http.StatusBadRequest, strings.Join(msgs, "\n"))
		return
	}
	if d := b.distributorErr; d != nil {
		b.o.fail(d.Status, d.Message)
	}
}

// refuseAll records every sample of req not yet refused as refused with
// the whole request (nothing of it is stored).
func (w *Workspace) refuseAll(t *tenant, o *outcome, req *wire.WriteRequest) {
	total := requestCounts(req).data()
	for _, rc := range o.refused {
		total -= rc.n
	}
	total -= o.refusedWhole
	if total > 0 {
		// No backend counts these as discarded: the sender hears the
		// refusal. rwkit counts them on a counter of its own.
		o.refusedWhole += total
		t.refusedWhole.Add(float64(total))
	}
}

// rolledBack makes o Prometheus' answer to a request with a refused
// sample: 400 with the TSDB's text, nothing stored.
func (w *Workspace) rolledBack(t *tenant, o *outcome, req *wire.WriteRequest, ae *store.AppendError) {
	o.written = counts{}
	o.fail(http.StatusBadRequest, ae.Err.Error())
	o.refuse(ae.Reason, 1)
	t.countDiscard(ae.Reason, 1)
	w.refuseAll(t, o, req)
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
	if lim.MaxSeriesPerUser > 0 && int(t.db.NumSeries()) >= lim.MaxSeriesPerUser {
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
