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

	"github.com/rwkit/rwkit/push"
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
	// plain: no external labels and no write_relabel_configs, so every
	// sink gets each series with the labels the scrape loop gave it, and
	// no series keeps labels of its own per sink. Then blocks: a sink
	// takes encoded series (sink.batch), and each series keeps its labels
	// encoded once (seriesEntry.block); wireLabels: a sink takes a
	// wire.WriteRequest, whose labels each commit lays out.
	plain, blocks, wireLabels bool

	// closed: the scrape manager has stopped; a late commit (Prometheus'
	// end-of-run staleness goroutine racing the stop) is dropped, so
	// nothing reaches a sink after the shutdown stale markers.
	closed atomic.Bool

	mu      sync.Mutex
	targets map[*scrape.Target]*targetState
}

// targetState is a target's series. The scrape loop keeps, in its scrape
// cache, the SeriesRef Append returned for a series and passes it back
// with the series' next samples: a ref is an index in entries plus one,
// so that a series seen in the last scrape is found without hashing its
// labels. A ref is checked against the entry's labels (an entry freed and
// reused for another series is not taken for it); a miss (a new series,
// one back from dormancy, the scrape loop's stale markers and report) is
// looked up by the labels' hash.
type targetState struct {
	job    string
	target string // URL, for logs; no credentials (they are in the HTTP client config)

	mu      sync.Mutex
	entries []seriesEntry    // by ref-1; unused ones are in free
	free    []int32          // indexes of unused entries
	byHash  map[uint64]int32 // labels hash -> index in entries
	gen     uint32           // appenders taken so far; each appender's own number
	app     *appender        // the last released appender, with its buffers, for the next scrape
	scratch []wire.Label     // add's

	loggedDup, loggedOOO atomic.Bool

	up int8 // the last scrape's up: 0 down, 1 up, -1 none yet (guarded by mu)
}

// dormantFor is how long, in scrape time, a series absent from a target's
// scrapes is remembered.
const dormantFor = 10 * 60 * 1000 // ms

// seriesEntry is a series of a target's recent commits (used), or a
// series appended in a scrape not committed yet (seen 0).
type seriesEntry struct {
	lset labels.Labels
	out  [][]wire.Label // per sink, unless the appendable is plain; nil element: dropped by write_relabel_configs
	// block: the labels' RW 1.0 encoding (wire.AppendLabels), when the
	// appendable is plain and a sink takes encoded series.
	block []byte
	t     int64  // last timestamp
	bits  uint64 // last float value
	exT   int64  // newest exemplar timestamp sent
	seen  int64  // scrape time of the last commit that had the series
	gen   uint32 // the appender that last appended or committed it
	pend  int32  // its index in that appender's pend
	used  bool
	// float: the last sample was a float (bits holds it). tracked: it
	// had the scrape's own timestamp (no timestamp in the exposition), so
	// Prometheus tracks its staleness; only those get a stale marker at
	// shutdown, and only while live (in the last commit, not stale).
	float, tracked, live bool
}

// find returns the index of ls's entry (-1: none) and, when the ref did
// not find it, the labels' hash (else 0).
func (ts *targetState) find(ref storage.SeriesRef, ls labels.Labels) (int32, uint64) {
	if ref > 0 && uint64(ref) <= uint64(len(ts.entries)) {
		if e := &ts.entries[ref-1]; e.used && labels.Equal(e.lset, ls) {
			return int32(ref - 1), 0
		}
	}
	h := ls.Hash()
	if i, ok := ts.byHash[h]; ok && labels.Equal(ts.entries[i].lset, ls) {
		return i, h
	}
	return -1, h
}

// add makes an entry for ls, whose hash is h, with each sink's labels
// unless plain. A 64-bit collision with another series of the target
// makes ls the one found by hash; the other keeps its ref.
func (ts *targetState) add(a *appendable, b *labels.Builder, ls labels.Labels, h uint64) int32 {
	e := seriesEntry{lset: ls, t: math.MinInt64, used: true}
	if a.blocks {
		ts.scratch = appendWireLabels(ts.scratch[:0], ls)
		e.block = wire.AppendLabels(make([]byte, 0, wire.LabelsSize(ts.scratch)), ts.scratch)
		clear(ts.scratch)
	}
	if !a.plain {
		e.out = make([][]wire.Label, len(a.sinks))
		for si, s := range a.sinks {
			e.out[si] = s.outLabels(b, ls, a.external)
		}
	}
	var i int32
	if n := len(ts.free); n > 0 {
		i, ts.free = ts.free[n-1], ts.free[:n-1]
		ts.entries[i] = e
	} else {
		i = int32(len(ts.entries))
		ts.entries = append(ts.entries, e)
	}
	ts.byHash[h] = i
	return i
}

// resolve is find, then add when ls has no entry.
func (ts *targetState) resolve(a *appendable, b *labels.Builder, ref storage.SeriesRef, ls labels.Labels) int32 {
	i, h := ts.find(ref, ls)
	if i < 0 {
		if h == 0 {
			h = ls.Hash()
		}
		i = ts.add(a, b, ls, h)
	}
	return i
}

// sweep marks not live the series that appender gen neither appended
// nor committed, and frees those unseen for dormantFor at scrape time defT.
func (ts *targetState) sweep(gen uint32, defT int64) {
	for i := range ts.entries {
		e := &ts.entries[i]
		if !e.used || e.gen == gen {
			continue
		}
		e.live = false
		if defT-e.seen <= dormantFor {
			continue
		}
		if j, ok := ts.byHash[e.lset.Hash()]; ok && int(j) == i {
			delete(ts.byHash, e.lset.Hash())
		}
		ts.entries[i] = seriesEntry{}
		ts.free = append(ts.free, int32(i))
	}
}

func newAppendable(sinks []*sink, external labels.Labels, m *metrics, logger *slog.Logger) *appendable {
	a := &appendable{sinks: sinks, metrics: m, logger: logger, targets: map[*scrape.Target]*targetState{}}
	external.Range(func(l labels.Label) { a.external = append(a.external, l) })
	a.plain = len(a.external) == 0
	for _, s := range sinks {
		a.plain = a.plain && len(s.relabel) == 0
	}
	for _, s := range sinks {
		a.blocks = a.blocks || a.plain && s.batch != nil
		a.wireLabels = a.wireLabels || a.plain && s.batch == nil
	}
	return a
}

// AppenderV2 implements storage.AppendableV2. The scrape manager passes
// the target in ctx (scrape.Options.PassMetadataInContext). A target's
// scrapes take turns, so each takes the appender the last one released,
// with buffers sized for the target.
func (a *appendable) AppenderV2(ctx context.Context) storage.AppenderV2 {
	t, _ := scrape.TargetFromContext(ctx)
	ts := a.target(t)
	ts.mu.Lock()
	ap := ts.app
	ts.app = nil
	ts.gen++
	if ts.gen == 0 {
		ts.gen = 1 // 0 is a new entry's
	}
	gen := ts.gen
	ts.mu.Unlock()
	if ap == nil {
		ap = &appender{b: labels.NewBuilder(labels.EmptyLabels())}
	}
	ap.a, ap.ts, ap.gen = a, ts, gen
	return ap
}

func (a *appendable) target(t *scrape.Target) *targetState {
	a.mu.Lock()
	defer a.mu.Unlock()
	ts := a.targets[t]
	if ts == nil {
		ts = &targetState{byHash: map[uint64]int32{}, up: -1}
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
	var lsets []labels.Labels
	var outs [][][]wire.Label
	var samples []wire.Sample
	for _, ts := range a.targets {
		ts.mu.Lock()
		for i := range ts.entries {
			e := &ts.entries[i]
			if e.used && e.tracked && e.live {
				lsets, outs = append(lsets, e.lset), append(outs, e.out)
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
	if len(lsets) == 0 {
		return
	}
	var req wire.WriteRequest
	for si, s := range a.sinks {
		req.Series = req.Series[:0]
		for i := range lsets {
			l := outs[i]
			var wl []wire.Label
			if a.plain {
				wl = appendWireLabels(nil, lsets[i])
			} else if wl = l[si]; wl == nil {
				continue
			}
			req.Series = append(req.Series, wire.TimeSeries{Labels: wl, Samples: samples[i : i+1]})
		}
		a.send(s, &req, "")
	}
}

// appendWireLabels appends ls to dst; the strings are ls's own.
func appendWireLabels(dst []wire.Label, ls labels.Labels) []wire.Label {
	ls.Range(func(l labels.Label) {
		dst = append(dst, wire.Label{Name: l.Name, Value: l.Value})
	})
	return dst
}

func (a *appendable) send(s *sink, req *wire.WriteRequest, job string) {
	if len(req.Series) == 0 {
		return
	}
	n := 0
	for i := range req.Series {
		n += len(req.Series[i].Samples) + len(req.Series[i].Histograms)
	}
	a.handed(s, s.append(req), len(req.Series), n, job)
}

// handed counts what handing series (with samples samples and
// histograms) to s gave: err, or samples in rwkit_agent_samples_total.
func (a *appendable) handed(s *sink, err error, series, samples int, job string) {
	if err != nil {
		a.metrics.sinkErrors.WithLabelValues(s.name).Inc()
		if s.logged.CompareAndSwap(false, true) {
			a.logger.Warn("remote write sink refused a scrape's series; counting further refusals in rwkit_agent_sink_errors_total", "remote_write", s.name, "job", job, "series", series, "err", err)
		}
		return
	}
	if s.logged.CompareAndSwap(true, false) {
		a.logger.Info("remote write sink accepts series again", "remote_write", s.name)
	}
	a.metrics.samples.WithLabelValues(s.name).Add(float64(samples))
}

// appender collects one scrape. Not safe for concurrent use (the scrape
// loop uses it from one goroutine), as storage.AppenderV2 allows.
type appender struct {
	a   *appendable
	ts  *targetState
	gen uint32 // the target's number for this appender

	pend    []pending
	n       int          // pend[:n] in use; the rest keep their capacity
	refused []refusal    // series seen in this scrape whose every sample was refused
	labels  []wire.Label // wireLabels: the labels of pend's series, for the sinks
	batch   push.Batch   // a sink's series, encoded (sink.batch)
	b       *labels.Builder
	req     wire.WriteRequest
	lastT   int64
}

type refusal struct {
	lset labels.Labels
	idx  int32
}

type pending struct {
	lset      labels.Labels
	idx       int32 // its entry in the target
	l0, l1    int32 // plain: its labels in appender.labels
	samples   []wire.Sample
	hists     []wire.Histogram
	exemplars []wire.Exemplar
	meta      wire.Metadata
	out       [][]wire.Label // the entry's, when not plain
	block     []byte         // the entry's
	t         int64
	bits      uint64
	float     bool
}

func (p *pending) reset() {
	*p = pending{samples: p.samples[:0], hists: p.hists[:0], exemplars: p.exemplars[:0]}
}

// Append implements storage.AppenderV2 with the in-order rules of
// Prometheus' head: a second sample of a series at the same timestamp is
// storage.ErrDuplicateSampleForTimestamp (the first is kept; the same
// value again, across scrapes, is ignored as the head ignores it), an
// older one storage.ErrOutOfOrderSample. The scrape loop counts both and
// goes on. The ref returned is the series' entry (see targetState).
func (ap *appender) Append(ref storage.SeriesRef, ls labels.Labels, st, t int64, v float64, h *histogram.Histogram, fh *histogram.FloatHistogram, opts storage.AppendV2Options) (storage.SeriesRef, error) {
	isFloat := h == nil && fh == nil
	bits := math.Float64bits(v)
	p, ref, err := ap.pendingFor(ref, ls, t, isFloat, bits)
	if p == nil {
		return ref, err
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

// pendingFor is the pending series ls gets a sample at t in, with the ref
// to return; nil when the sample is refused (with the error to return,
// nil for the same sample again) against the series' earlier samples in
// this scrape or its last committed one.
func (ap *appender) pendingFor(ref storage.SeriesRef, ls labels.Labels, t int64, isFloat bool, bits uint64) (*pending, storage.SeriesRef, error) {
	ts := ap.ts
	ts.mu.Lock()
	i := ts.resolve(ap.a, ap.b, ref, ls)
	e := &ts.entries[i]
	ref = storage.SeriesRef(i) + 1
	if e.gen == ap.gen {
		pi := e.pend
		ts.mu.Unlock()
		p := &ap.pend[pi]
		switch {
		case t == p.t:
			ap.duplicate(ls)
			return nil, 0, storage.ErrDuplicateSampleForTimestamp
		case t < p.t:
			ap.outOfOrder(ls)
			return nil, 0, storage.ErrOutOfOrderSample
		}
		return p, ref, nil
	}
	prevT, same := e.t, isFloat && e.float && e.bits == bits
	if t <= prevT {
		ts.mu.Unlock()
		ap.refused = append(ap.refused, refusal{ls, i})
		switch {
		case t < prevT:
			ap.outOfOrder(ls)
			return nil, 0, storage.ErrOutOfOrderSample
		case same:
			return nil, ref, nil
		}
		ap.duplicate(ls)
		return nil, 0, storage.ErrDuplicateSampleForTimestamp
	}
	e.gen, e.pend = ap.gen, int32(ap.n)
	ts.mu.Unlock()
	if ap.n == len(ap.pend) {
		ap.pend = append(ap.pend, pending{})
	}
	p := &ap.pend[ap.n]
	p.reset()
	p.lset, p.idx = ls, i
	ap.n++
	return p, ref, nil
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
	if ap.a.wireLabels {
		ap.labels = ap.labels[:0]
		for i := range ap.pend[:ap.n] {
			p := &ap.pend[i]
			p.l0 = int32(len(ap.labels))
			ap.labels = appendWireLabels(ap.labels, p.lset)
			p.l1 = int32(len(ap.labels))
		}
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
	for i := range ap.pend[:ap.n] {
		p := &ap.pend[i]
		// The entry made or found at Append; another appender of the
		// target (the scrape loop's end-of-run staleness racing a scrape)
		// may have freed it since.
		if e := &ts.entries[p.idx]; !e.used || !labels.Equal(e.lset, p.lset) {
			p.idx = ts.resolve(ap.a, ap.b, 0, p.lset)
		}
		ap.entry(p, &ts.entries[p.idx], defT)
	}
	for _, r := range ap.refused {
		if i, _ := ts.find(storage.SeriesRef(r.idx)+1, r.lset); i >= 0 {
			e := &ts.entries[i]
			e.seen, e.gen = defT, ap.gen
		}
	}
	ts.sweep(ap.gen, defT)
	wasUp, nowUp = ts.up, ap.upValue(defT)
	if nowUp >= 0 {
		ts.up = nowUp
	}
	return wasUp, nowUp
}

// entry updates e, p's series in its target, with p's last sample at the
// scrape's timestamp defT. p keeps only the exemplars newer than the
// series' last one, and the series' labels for each sink.
func (ap *appender) entry(p *pending, e *seriesEntry, defT int64) {
	e.t, e.float, e.bits = p.t, p.float, p.bits
	e.tracked = p.t == defT
	e.live = !(p.float && wire.IsStaleNaN(math.Float64frombits(p.bits)))
	e.seen, e.gen = defT, ap.gen
	p.out, p.block = e.out, e.block
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
}

// sendTo hands the scrape to sink s, the si-th: each series with the
// sink's labels (none: write_relabel_configs dropped it), histograms,
// exemplars and metadata only where the sink sends them.
func (ap *appender) sendTo(si int, s *sink) {
	if ap.a.plain && s.batch != nil {
		ap.sendBatch(s)
		return
	}
	ap.req.Series = ap.req.Series[:0]
	for i := range ap.pend[:ap.n] {
		p := &ap.pend[i]
		var l []wire.Label
		if ap.a.plain {
			l = ap.labels[p.l0:p.l1:p.l1]
		} else if l = p.out[si]; l == nil {
			continue
		}
		if series, ok := p.series(s); ok {
			series.Labels = l
			ap.req.Series = append(ap.req.Series, series)
		}
	}
	ap.a.send(s, &ap.req, ap.ts.job)
}

// sendBatch hands the scrape to s as encoded series, each with its
// entry's label block.
func (ap *appender) sendBatch(s *sink) {
	b := &ap.batch
	b.Reset()
	n := 0
	for i := range ap.pend[:ap.n] {
		p := &ap.pend[i]
		if series, ok := p.series(s); ok {
			b.Add(p.block, &series)
			n += len(series.Samples) + len(series.Histograms)
		}
	}
	if b.Len() > 0 {
		ap.a.handed(s, s.appendBatch(b), b.Len(), n, ap.ts.job)
	}
}

// series is p's points as sink s takes them (no labels): histograms,
// exemplars and metadata only where it sends them; false when that
// leaves no sample or histogram.
func (p *pending) series(s *sink) (wire.TimeSeries, bool) {
	series := wire.TimeSeries{Samples: p.samples}
	if s.histograms {
		series.Histograms = p.hists
	}
	if len(series.Samples) == 0 && len(series.Histograms) == 0 {
		return series, false
	}
	if s.exemplars {
		series.Exemplars = p.exemplars
	}
	if s.metadata {
		series.Metadata = p.meta
	}
	return series, true
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
// Entries made for new series stay until a commit finds them unseen.
func (ap *appender) Rollback() error {
	ap.release()
	return nil
}

// release empties ap, keeping its buffers, for the target's next scrape.
func (ap *appender) release() {
	for i := range ap.pend[:ap.n] {
		ap.pend[i].reset()
	}
	// req and labels are not cleared (33 MB written at 100k series, each
	// scrape): they point to the series' labels, which the target's
	// entries and the scrape cache keep anyway, and to pend's buffers;
	// the next scrape overwrites them.
	ap.req.Series = ap.req.Series[:0]
	ap.labels = ap.labels[:0]
	ap.n, ap.lastT = 0, 0
	clear(ap.refused)
	ap.refused = ap.refused[:0]
	ts := ap.ts
	ap.a, ap.ts = nil, nil
	ts.mu.Lock()
	ts.app = ap
	ts.mu.Unlock()
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
