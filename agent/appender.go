package agent

import (
	"context"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/scrape"
	"github.com/prometheus/prometheus/storage"

	"github.com/rwkit/rwkit/wire"
)

// appendable is the storage the scrape manager writes to: each scrape
// loop takes an appender per scrape, appends the scrape's samples and its
// report (up, scrape_duration_seconds, ...) and commits; Commit hands the
// series to every sink.
//
// It keeps, per target, the series of the target's recent commits (their
// last timestamp and exemplar, and their labels as each sink receives
// them). That is what Prometheus' head would refuse against (out-of-order
// and duplicate samples), what saves relabelling a series on every scrape,
// and what shutdown stale markers are written for. A series whose sample
// was refused stays as it was; one that went stale (the scrape loop's
// marker, for a vanished series or a failed scrape) or was absent stays,
// dormant, for dormantFor of scrape time, so that a series coming back
// cannot send an older timestamp or an exemplar already sent, as the head
// (which keeps a series for hours) would refuse them. The set is bounded
// by the series a target exposed within dormantFor.
type appendable struct {
	sinks    []*sink
	external []labels.Label
	metrics  *metrics
	logger   *slog.Logger

	// closed: the scrape manager has stopped; a late commit (Prometheus'
	// end-of-run staleness goroutine racing the stop) is dropped, so
	// nothing reaches a sink after the shutdown stale markers.
	closed atomic.Bool

	mu      sync.Mutex
	targets map[*scrape.Target]*targetState

	pool sync.Pool
}

type targetState struct {
	job    string
	target string // URL, for logs; no credentials (they are in the HTTP client config)

	mu     sync.Mutex
	series map[uint64]*seriesEntry
	spare  map[uint64]*seriesEntry

	loggedDup, loggedOOO atomic.Bool

	up int8 // the last scrape's up: 0 down, 1 up, -1 none yet (guarded by mu)
}

// dormantFor is how long, in scrape time, a series absent from a target's
// scrapes is remembered.
const dormantFor = 10 * 60 * 1000 // ms

// seriesEntry is a series of a target's recent commits.
type seriesEntry struct {
	lset  labels.Labels
	out   [][]wire.Label // per sink; nil: dropped by write_relabel_configs
	t     int64          // last timestamp
	float bool
	bits  uint64 // last float value
	exT   int64  // newest exemplar timestamp sent
	// tracked: the last sample had the scrape's own timestamp (no
	// timestamp in the exposition), so Prometheus tracks its staleness;
	// only those get a stale marker at shutdown, and only while live (in
	// the last commit, not stale).
	tracked bool
	live    bool
	seen    int64 // scrape time of the last commit that had the series
}

// lookup finds ls in m. Series are keyed by their labels' hash; a 64-bit
// collision between two live series of one target makes them share an
// entry (found by labels.Equal failing: treated as new), never mixes their
// labels.
func lookup(m map[uint64]*seriesEntry, h uint64, ls labels.Labels) *seriesEntry {
	e := m[h]
	if e == nil || !labels.Equal(e.lset, ls) {
		return nil
	}
	return e
}

func newAppendable(sinks []*sink, external labels.Labels, m *metrics, logger *slog.Logger) *appendable {
	a := &appendable{sinks: sinks, metrics: m, logger: logger, targets: map[*scrape.Target]*targetState{}}
	external.Range(func(l labels.Label) { a.external = append(a.external, l) })
	return a
}

// AppenderV2 implements storage.AppendableV2. The scrape manager passes
// the target in ctx (scrape.Options.PassMetadataInContext).
func (a *appendable) AppenderV2(ctx context.Context) storage.AppenderV2 {
	t, _ := scrape.TargetFromContext(ctx)
	ap, _ := a.pool.Get().(*appender)
	if ap == nil {
		ap = &appender{idx: map[uint64]int{}, b: labels.NewBuilder(labels.EmptyLabels())}
	}
	ap.a, ap.ts = a, a.target(t)
	return ap
}

func (a *appendable) target(t *scrape.Target) *targetState {
	a.mu.Lock()
	defer a.mu.Unlock()
	ts := a.targets[t]
	if ts == nil {
		ts = &targetState{series: map[uint64]*seriesEntry{}, spare: map[uint64]*seriesEntry{}, up: -1}
		if t != nil {
			// The job as configured: the job label itself may be relabelled
			// away (flag mode drops it).
			ts.job = t.DiscoveredLabels(labels.NewBuilder(labels.EmptyLabels())).Get(model.JobLabel)
			ts.target = t.String()
		}
		a.targets[t] = ts
	}
	return ts
}

// staleAll hands every sink a stale marker at t for each tracked series of
// every target's last commit, and forgets them.
func (a *appendable) staleAll(t int64) {
	a.mu.Lock()
	var entries []*seriesEntry
	var samples []wire.Sample
	for _, ts := range a.targets {
		ts.mu.Lock()
		for _, e := range ts.series {
			if e.tracked && e.live {
				entries = append(entries, e)
				// After the series' last sample, even when the last scrape
				// was stamped this very millisecond: a second sample at its
				// timestamp is a duplicate a backend refuses
				// (new-value-for-timestamp).
				samples = append(samples, wire.Sample{Value: math.Float64frombits(wire.StaleNaN), Timestamp: max(t, e.t+1)})
			}
			e.live = false
		}
		ts.mu.Unlock()
	}
	a.mu.Unlock()
	if len(entries) == 0 {
		return
	}
	var req wire.WriteRequest
	for si, s := range a.sinks {
		req.Series = req.Series[:0]
		for i, e := range entries {
			if e.out[si] != nil {
				req.Series = append(req.Series, wire.TimeSeries{Labels: e.out[si], Samples: samples[i : i+1]})
			}
		}
		a.send(s, &req, "")
	}
}

func (a *appendable) send(s *sink, req *wire.WriteRequest, job string) {
	if len(req.Series) == 0 {
		return
	}
	n := 0
	for i := range req.Series {
		n += len(req.Series[i].Samples) + len(req.Series[i].Histograms)
	}
	if err := s.append(req); err != nil {
		a.metrics.sinkErrors.WithLabelValues(s.name).Inc()
		if s.logged.CompareAndSwap(false, true) {
			a.logger.Warn("remote write sink refused a scrape's series; counting further refusals in rwkit_agent_sink_errors_total", "remote_write", s.name, "job", job, "series", len(req.Series), "err", err)
		}
		return
	}
	if s.logged.CompareAndSwap(true, false) {
		a.logger.Info("remote write sink accepts series again", "remote_write", s.name)
	}
	a.metrics.samples.WithLabelValues(s.name).Add(float64(n))
}

// appender collects one scrape. Not safe for concurrent use (the scrape
// loop uses it from one goroutine), as storage.AppenderV2 allows.
type appender struct {
	a  *appendable
	ts *targetState

	pend    []pending
	n       int            // pend[:n] in use; the rest keep their capacity
	idx     map[uint64]int // labels hash -> index in pend
	refused []refusal      // series seen in this scrape whose every sample was refused
	b       *labels.Builder
	req     wire.WriteRequest
	lastT   int64
}

type refusal struct {
	hash  uint64
	entry *seriesEntry
}

type pending struct {
	lset      labels.Labels
	hash      uint64
	samples   []wire.Sample
	hists     []wire.Histogram
	exemplars []wire.Exemplar
	meta      wire.Metadata
	t         int64
	float     bool
	bits      uint64
	entry     *seriesEntry
}

func (p *pending) reset() {
	*p = pending{samples: p.samples[:0], hists: p.hists[:0], exemplars: p.exemplars[:0]}
}

// Append implements storage.AppenderV2 with the in-order rules of
// Prometheus' head: a second sample of a series at the same timestamp is
// storage.ErrDuplicateSampleForTimestamp (the first is kept; the same
// value again, across scrapes, is ignored as the head ignores it), an
// older one storage.ErrOutOfOrderSample. The scrape loop counts both and
// goes on.
func (ap *appender) Append(_ storage.SeriesRef, ls labels.Labels, st, t int64, v float64, h *histogram.Histogram, fh *histogram.FloatHistogram, opts storage.AppendV2Options) (storage.SeriesRef, error) {
	hash := ls.Hash()
	ref := storage.SeriesRef(hash)
	if ref == 0 {
		ref = 1 // 0 means "no ref" to the scrape loop, which then tracks no staleness
	}
	isFloat := h == nil && fh == nil
	bits := math.Float64bits(v)

	var p *pending
	if i, ok := ap.idx[hash]; ok && labels.Equal(ap.pend[i].lset, ls) {
		p = &ap.pend[i]
		switch {
		case t == p.t:
			ap.duplicate(ls)
			return 0, storage.ErrDuplicateSampleForTimestamp
		case t < p.t:
			ap.outOfOrder(ls)
			return 0, storage.ErrOutOfOrderSample
		}
	} else {
		ap.ts.mu.Lock()
		e := lookup(ap.ts.series, hash, ls)
		var prevT int64
		var same bool
		if e != nil {
			prevT, same = e.t, isFloat && e.float && e.bits == bits
		}
		ap.ts.mu.Unlock()
		if e != nil {
			switch {
			case t < prevT:
				ap.refused = append(ap.refused, refusal{hash, e})
				ap.outOfOrder(ls)
				return 0, storage.ErrOutOfOrderSample
			case t == prevT && same:
				ap.refused = append(ap.refused, refusal{hash, e})
				return ref, nil
			case t == prevT:
				ap.refused = append(ap.refused, refusal{hash, e})
				ap.duplicate(ls)
				return 0, storage.ErrDuplicateSampleForTimestamp
			}
		}
		if ap.n == len(ap.pend) {
			ap.pend = append(ap.pend, pending{})
		}
		p = &ap.pend[ap.n]
		p.reset()
		p.lset, p.hash = ls, hash
		ap.idx[hash] = ap.n
		ap.n++
	}

	p.t, p.float, p.bits = t, isFloat, bits
	ap.lastT = t
	switch {
	case fh != nil:
		p.hists = append(p.hists, floatHistogram(fh, t, st))
	case h != nil:
		p.hists = append(p.hists, intHistogram(h, t, st))
	default:
		p.samples = append(p.samples, wire.Sample{Value: v, Timestamp: t, StartTimestamp: st})
	}
	for i := range opts.Exemplars {
		p.exemplars = append(p.exemplars, wireExemplar(&opts.Exemplars[i]))
	}
	if !opts.Metadata.IsEmpty() {
		p.meta = wireMetadata(opts.Metadata)
	}
	return ref, nil
}

func (ap *appender) duplicate(ls labels.Labels) {
	ap.a.metrics.duplicates.WithLabelValues(ap.ts.job).Inc()
	if ap.ts.loggedDup.CompareAndSwap(false, true) {
		ap.a.logger.Warn("target exposes a series twice at one timestamp; keeping the first, counting the rest in rwkit_agent_duplicate_samples_total",
			"job", ap.ts.job, "target", ap.ts.target, "series", ls.String())
	}
}

func (ap *appender) outOfOrder(ls labels.Labels) {
	ap.a.metrics.outOfOrder.WithLabelValues(ap.ts.job).Inc()
	if ap.ts.loggedOOO.CompareAndSwap(false, true) {
		ap.a.logger.Warn("target exposes a sample older than one already sent for its series; dropping it, counting the rest in rwkit_agent_out_of_order_samples_total",
			"job", ap.ts.job, "target", ap.ts.target, "series", ls.String())
	}
}

// Commit hands the scrape to every sink: external labels and
// write_relabel_configs applied, histograms and exemplars only where the
// remote_write sends them. A sink's error is counted and logged, never
// returned: the scrape loop would only log it, and the other sinks still
// get the scrape.
func (ap *appender) Commit() error {
	defer ap.release()
	if (ap.n == 0 && len(ap.refused) == 0) || ap.a.closed.Load() {
		return nil
	}
	wasUp, nowUp := ap.trackSeries()
	ts := ap.ts
	switch {
	case nowUp == 0 && wasUp != 0:
		ap.a.logger.Warn("target down: its scrape failed (up 0; its series are marked stale); --log-level debug shows why",
			"job", ts.job, "target", ts.target)
	case nowUp == 1 && wasUp == 0:
		ap.a.logger.Info("target up again", "job", ts.job, "target", ts.target)
	}
	for si, s := range ap.a.sinks {
		ap.sendTo(si, s)
	}
	return nil
}

// trackSeries records the scrape in its target's series, under the
// target's lock: each series' last sample and whether it is live, the
// refused series kept, the dormant ones marked not live, and the
// target's up. It returns up before the scrape and after it (-1: the
// scrape had no up series).
func (ap *appender) trackSeries() (wasUp, nowUp int8) {
	ts, defT := ap.ts, ap.lastT
	ts.mu.Lock()
	defer ts.mu.Unlock()
	next := ts.spare
	clear(next)
	for i := range ap.pend[:ap.n] {
		p := &ap.pend[i]
		p.entry = ap.entry(p, defT)
		next[p.hash] = p.entry
	}
	for _, r := range ap.refused {
		r.entry.seen = defT
		next[r.hash] = r.entry
	}
	for h, e := range ts.series {
		if _, ok := next[h]; !ok && defT-e.seen <= dormantFor {
			e.live = false
			next[h] = e
		}
	}
	ts.spare, ts.series = ts.series, next
	wasUp, nowUp = ts.up, ap.upValue(defT)
	if nowUp >= 0 {
		ts.up = nowUp
	}
	return wasUp, nowUp
}

// entry is p's series in its target (made, with each sink's labels, for
// a new one) updated with p's last sample at the scrape's timestamp defT.
// p keeps only the exemplars newer than the series' last one.
func (ap *appender) entry(p *pending, defT int64) *seriesEntry {
	e := lookup(ap.ts.series, p.hash, p.lset)
	if e == nil {
		e = &seriesEntry{lset: p.lset, out: make([][]wire.Label, len(ap.a.sinks))}
		for si, s := range ap.a.sinks {
			e.out[si] = s.outLabels(ap.b, p.lset, ap.a.external)
		}
	}
	e.t, e.float, e.bits = p.t, p.float, p.bits
	e.tracked = p.t == defT
	e.live = !(p.float && wire.IsStaleNaN(math.Float64frombits(p.bits)))
	e.seen = defT
	// Prometheus' exemplar storage keeps an exemplar once and refuses
	// older ones: an exposition repeats its exemplars on every scrape.
	kept := p.exemplars[:0]
	for _, x := range p.exemplars {
		if x.Timestamp > e.exT {
			kept = append(kept, x)
		}
	}
	for _, x := range kept {
		e.exT = max(e.exT, x.Timestamp)
	}
	p.exemplars = kept
	return e
}

// sendTo hands the scrape to sink s, the si-th: each series with the
// sink's labels (none: write_relabel_configs dropped it), histograms,
// exemplars and metadata only where the sink sends them.
func (ap *appender) sendTo(si int, s *sink) {
	ap.req.Series = ap.req.Series[:0]
	for i := range ap.pend[:ap.n] {
		p := &ap.pend[i]
		l := p.entry.out[si]
		if l == nil {
			continue
		}
		series := wire.TimeSeries{Labels: l, Samples: p.samples}
		if s.histograms {
			series.Histograms = p.hists
		}
		if len(series.Samples) == 0 && len(series.Histograms) == 0 {
			continue
		}
		if s.exemplars {
			series.Exemplars = p.exemplars
		}
		if s.metadata {
			series.Metadata = p.meta
		}
		ap.req.Series = append(ap.req.Series, series)
	}
	ap.a.send(s, &ap.req, ap.ts.job)
}

// upValue is the value of the scrape's own up series (the report the
// scrape loop appends at the scrape's timestamp), or -1 without one.
func (ap *appender) upValue(t int64) int8 {
	for i := range ap.pend[:ap.n] {
		p := &ap.pend[i]
		if p.t == t && p.float && p.lset.Get(model.MetricNameLabel) == "up" && len(p.samples) == 1 {
			if p.samples[0].Value == 1 {
				return 1
			}
			return 0
		}
	}
	return -1
}

// Rollback implements storage.AppenderV2: nothing was handed out yet.
func (ap *appender) Rollback() error {
	ap.release()
	return nil
}

func (ap *appender) release() {
	for i := range ap.pend[:ap.n] {
		ap.pend[i].reset()
	}
	clear(ap.req.Series[:cap(ap.req.Series)])
	ap.req.Series = ap.req.Series[:0]
	ap.n, ap.lastT = 0, 0
	clear(ap.refused)
	ap.refused = ap.refused[:0]
	clear(ap.idx)
	a := ap.a
	ap.a, ap.ts = nil, nil
	a.pool.Put(ap)
}

func intHistogram(h *histogram.Histogram, t, st int64) wire.Histogram {
	return wire.Histogram{
		CountInt:       h.Count,
		Sum:            h.Sum,
		Schema:         h.Schema,
		ZeroThreshold:  h.ZeroThreshold,
		ZeroCountInt:   h.ZeroCount,
		NegativeSpans:  spans(h.NegativeSpans),
		NegativeDeltas: append([]int64(nil), h.NegativeBuckets...),
		PositiveSpans:  spans(h.PositiveSpans),
		PositiveDeltas: append([]int64(nil), h.PositiveBuckets...),
		ResetHint:      wire.ResetHint(h.CounterResetHint), // same numbering as the protobuf enum
		Timestamp:      t,
		CustomValues:   h.CustomValues, // interned and immutable (see histogram.Histogram)
		StartTimestamp: st,
	}
}

func floatHistogram(h *histogram.FloatHistogram, t, st int64) wire.Histogram {
	return wire.Histogram{
		IsFloat:        true,
		CountFloat:     h.Count,
		Sum:            h.Sum,
		Schema:         h.Schema,
		ZeroThreshold:  h.ZeroThreshold,
		ZeroCountFloat: h.ZeroCount,
		NegativeSpans:  spans(h.NegativeSpans),
		NegativeCounts: append([]float64(nil), h.NegativeBuckets...),
		PositiveSpans:  spans(h.PositiveSpans),
		PositiveCounts: append([]float64(nil), h.PositiveBuckets...),
		ResetHint:      wire.ResetHint(h.CounterResetHint),
		Timestamp:      t,
		CustomValues:   h.CustomValues,
		StartTimestamp: st,
	}
}

func spans(s []histogram.Span) []wire.BucketSpan {
	if len(s) == 0 {
		return nil
	}
	out := make([]wire.BucketSpan, len(s))
	for i, sp := range s {
		out[i] = wire.BucketSpan{Offset: sp.Offset, Length: sp.Length}
	}
	return out
}

// wireExemplar copies e: the scrape loop reuses its labels' storage.
func wireExemplar(e *exemplar.Exemplar) wire.Exemplar {
	out := wire.Exemplar{Value: e.Value, Timestamp: e.Ts}
	e.Labels.Range(func(l labels.Label) {
		out.Labels = append(out.Labels, wire.Label{Name: strings.Clone(l.Name), Value: strings.Clone(l.Value)})
	})
	return out
}

var metricTypes = map[model.MetricType]wire.MetricType{
	model.MetricTypeCounter:        wire.MetricTypeCounter,
	model.MetricTypeGauge:          wire.MetricTypeGauge,
	model.MetricTypeHistogram:      wire.MetricTypeHistogram,
	model.MetricTypeGaugeHistogram: wire.MetricTypeGaugeHistogram,
	model.MetricTypeSummary:        wire.MetricTypeSummary,
	model.MetricTypeInfo:           wire.MetricTypeInfo,
	model.MetricTypeStateset:       wire.MetricTypeStateset,
}

// wireMetadata converts m; its strings are the scrape cache's own copies
// (storage.AppendV2Options: "Metadata strings are safe for reuse").
func wireMetadata(m metadata.Metadata) wire.Metadata {
	return wire.Metadata{Type: metricTypes[m.Type], Help: m.Help, Unit: m.Unit}
}
