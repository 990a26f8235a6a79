package remotewrite

import (
	"slices"

	"github.com/rwkit/rwkit/wire"
)

// item is one entry of a request body: an RW 1.0 metadata entry (md >= 0)
// or a part of a series (md < 0): consecutive ranges of its samples,
// histograms and exemplars. A series with more points than the sample
// limit becomes several parts, in order.
type item struct {
	md                     int32
	series                 int32
	s0, s1, h0, h1, e0, e1 int32
	size                   int // bytes: exact for RW 1.0, an upper bound for RW 2.0
}

func (it *item) counts() Counts {
	if it.md >= 0 {
		return Counts{}
	}
	return Counts{Series: 1, Samples: int(it.s1 - it.s0), Histograms: int(it.h1 - it.h0), Exemplars: int(it.e1 - it.e0)}
}

// whole reports whether the item is all of its series.
func (it *item) whole(req *wire.WriteRequest) bool {
	ts := &req.Series[it.series]
	return it.s0 == 0 && it.h0 == 0 && it.e0 == 0 &&
		int(it.s1) == len(ts.Samples) && int(it.h1) == len(ts.Histograms) && int(it.e1) == len(ts.Exemplars)
}

// slice returns the part of its series that it names, sharing the
// series' slices.
func (it *item) slice(req *wire.WriteRequest) wire.TimeSeries {
	ts := req.Series[it.series]
	ts.Samples = ts.Samples[it.s0:it.s1]
	ts.Histograms = ts.Histograms[it.h0:it.h1]
	ts.Exemplars = ts.Exemplars[it.e0:it.e1]
	return ts
}

// batch is one HTTP request: items[start:end], and, when plan encoded
// the write (Client.encoded), comp is its Snappy-compressed body.
type batch struct {
	start, end int
	comp       []byte
	bytes      int // planned body size (an upper bound for RW 2.0)
	counts     Counts
	metadata   int
}

// plan fills c.items and c.batches for req in version v, skipping the first
// skipParts series parts (already delivered before a fallback).
func (c *Client) plan(req *wire.WriteRequest, v wire.Version, skipParts int, withMetadata bool) {
	cache := c.written && c.cfg.labelCache
	c.encoded = v == wire.V1 && cache && skipParts == 0
	if c.encoded {
		c.planEncoded(req, withMetadata)
		return
	}
	c.planItems(req, v, skipParts, withMetadata, cache)
	c.planBatches(v)
}

// planEncoded is plan for RW 1.0 from the label cache (a pusher's writes
// from the second on), encoding and compressing as it plans: each item is
// appended to c.body as it is cut, and its size is the bytes it took there
// (RW 1.0 sizes are exact, so the items and requests are planItems' and
// planBatches'); each request is compressed as soon as it is full, while
// its bytes are still in the CPU's cache, and kept (batch.comp) until it
// is sent. Before, the plan sized every series, and a second pass over
// the items encoded each request. A series of one sample whose label
// block is cached (a pusher's every series from its third write on) is
// checked and appended in one step (labelCache.hit,
// wire.AppendSampleSeries); any other goes through planSeries. Items are
// counted, not kept (c.items stays empty). c.body holds one request;
// c.comp holds the whole write compressed.
func (c *Client) planEncoded(req *wire.WriteRequest, withMetadata bool) {
	c.items, c.batches = c.items[:0], c.batches[:0]
	c.body, c.comp = c.body[:0], c.comp[:0]
	var cur batch
	if withMetadata {
		for i := range req.Metadata {
			n := len(c.body)
			c.body = wire.AppendMetadata(c.body, &req.Metadata[i])
			c.addEncoded(&cur, item{md: int32(i), size: len(c.body) - n})
		}
	}
	room := c.cfg.maxBytes - v2RequestOverhead
	c.labels.begin(len(req.Series))
	for si := range req.Series {
		ts := &req.Series[si]
		// A series of one sample whose labels are cached (every series
		// of a pusher, from its third write on): one check, one append.
		if len(ts.Samples) == 1 && len(ts.Histograms) == 0 && len(ts.Exemplars) == 0 {
			if block := c.labels.hit(si, ts.Labels); block != nil {
				n := len(c.body)
				c.body = wire.AppendSampleSeries(c.body, block, &ts.Samples[0])
				c.addSample(&cur, len(c.body)-n)
				continue
			}
		}
		c.planSeries(&cur, req, si, room)
	}
	// An empty write still sends one (empty) request (planBatches).
	if cur.end > cur.start || len(c.batches) == 0 {
		c.closeEncoded(&cur)
	}
}

// planSeries is planEncoded for series si in general: checked against the
// label cache, appended whole when it has at most one point and a cached
// label block, else cut in parts (cutPart) appended one by one.
func (c *Client) planSeries(cur *batch, req *wire.WriteRequest, si, room int) {
	ts := &req.Series[si]
	points := len(ts.Samples) + len(ts.Histograms) + len(ts.Exemplars)
	lsize := c.labels.check(si, ts.Labels)
	if block := c.labels.block(si); points <= 1 && block != nil {
		n := len(c.body)
		c.body = wire.AppendTimeSeriesLabels(c.body, block, ts)
		c.addEncoded(cur, item{md: -1, series: int32(si),
			s1: int32(len(ts.Samples)), h1: int32(len(ts.Histograms)), e1: int32(len(ts.Exemplars)), size: len(c.body) - n})
		return
	}
	for from := 0; ; {
		it, to := cutPart(req, v1, si, from, min(from+c.cfg.maxSamples, points), lsize, room)
		n := len(c.body)
		c.body = c.appendItem(c.body, req, &it)
		it.size = len(c.body) - n
		c.addEncoded(cur, it)
		if from = to; from >= points {
			return
		}
	}
}

// addSample is addEncoded for a whole series of one sample, size bytes at
// the end of c.body.
func (c *Client) addSample(cur *batch, size int) {
	c.makeRoom(cur, size, 1)
	cur.end++
	cur.bytes += size
	cur.counts.Series++
	cur.counts.Samples++
}

// addEncoded adds item it, whose encoding ends c.body, to request cur
// (after makeRoom). The items are counted (cur.end), not kept: nothing
// reads them after an encoded plan.
func (c *Client) addEncoded(cur *batch, it item) {
	n := it.counts()
	c.makeRoom(cur, it.size, n.points())
	cur.end++
	cur.bytes += it.size
	cur.counts.add(n)
	if it.md >= 0 {
		cur.metadata++
	}
}

// makeRoom closes request cur (closeEncoded) and starts the next when
// size more bytes and points more points would take cur over the byte or
// the sample limit, as planBatches does.
func (c *Client) makeRoom(cur *batch, size, points int) {
	if cur.end > cur.start && (cur.bytes+size > c.cfg.maxBytes || cur.counts.points()+points > c.cfg.maxSamples) {
		c.closeEncoded(cur)
		*cur = batch{start: cur.end, end: cur.end}
	}
}

// closeEncoded compresses request cur, the first cur.bytes of c.body, at
// the end of c.comp, adds it to c.batches, and moves what follows it in
// c.body (the item that did not fit) to the start.
func (c *Client) closeEncoded(cur *batch) {
	n := len(c.comp)
	c.comp = slices.Grow(c.comp, wire.MaxCompressedLen(cur.bytes))
	out := wire.Compress(c.comp[n:], c.body[:cur.bytes])
	c.comp = c.comp[:n+len(out)]
	cur.comp = c.comp[n:len(c.comp):len(c.comp)]
	c.batches = append(c.batches, *cur)
	c.body = c.body[:copy(c.body, c.body[cur.bytes:])]
}

const v1 = wire.V1

// appendItem appends series part it in RW 1.0, from its label block when
// the cache has one.
func (c *Client) appendItem(raw []byte, req *wire.WriteRequest, it *item) []byte {
	ts := &req.Series[it.series]
	var part wire.TimeSeries
	if !it.whole(req) {
		part = it.slice(req)
		ts = &part
	}
	if block := c.labels.block(int(it.series)); block != nil {
		return wire.AppendTimeSeriesLabels(raw, block, ts)
	}
	return wire.AppendTimeSeries(raw, ts)
}

// FullSeries is how many of req's leading series Write would send in
// full requests: in every request of its plan but the last. A writer that
// converts in a stream sends those, keeps the rest and adds the next
// series to them, so that its requests are the ones a single Write of
// everything would send (whenever no series is cut in parts across
// requests, as a series of one sample never is). It sends nothing.
func (c *Client) FullSeries(req *wire.WriteRequest) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.planItems(req, c.Version(), 0, true, false)
	c.planBatches(c.Version())
	if len(c.batches) < 2 {
		return 0
	}
	end := c.batches[len(c.batches)-2].end
	last := c.items[end-1]
	if last.md >= 0 {
		return 0 // full requests of metadata only
	}
	n := int(last.series) + 1
	if next := c.items[end]; next.md < 0 && next.series == last.series {
		n-- // a series cut across requests: keep it whole
	}
	return n
}

// planItems fills c.items: RW 1.0 metadata first, so it rides in the first
// request, or fills requests of its own when it is larger than the byte
// limit; then every series in parts of at most the sample limit and the
// byte limit, the first skipParts parts left out.
func (c *Client) planItems(req *wire.WriteRequest, v wire.Version, skipParts int, withMetadata, cache bool) {
	c.items = c.items[:0]
	if v == wire.V1 && withMetadata {
		for i := range req.Metadata {
			c.scratch = wire.AppendMetadata(c.scratch[:0], &req.Metadata[i])
			c.items = append(c.items, item{md: int32(i), size: len(c.scratch)})
		}
	}
	// Chunks are cut with the RW 2.0 bound whatever the version, so that a
	// fallback to RW 1.0 in the middle of a write cuts the same chunks and
	// skipParts lines up with what was delivered.
	room := c.cfg.maxBytes - v2RequestOverhead
	part := 0
	if cache {
		c.labels.begin(len(req.Series))
	}
	for si := range req.Series {
		ts := &req.Series[si]
		points := len(ts.Samples) + len(ts.Histograms) + len(ts.Exemplars)
		lsize := -1 // RW 1.0 bytes of the series' labels, when cached
		if cache {
			lsize = c.labels.check(si, ts.Labels)
		}
		// A series without points is still one part: its labels are sent.
		for from := 0; ; {
			it, to := cutPart(req, v, si, from, min(from+c.cfg.maxSamples, points), lsize, room)
			if part++; part > skipParts {
				c.items = append(c.items, it)
			}
			if from = to; from >= points {
				break
			}
		}
	}
}

// cutPart returns the part of series si from point from to point to (its
// samples, then histograms, then exemplars), halved while it is over room
// bytes; a single point over it is sent alone anyway. It returns where the
// part ends. lsize is the RW 1.0 size of the series' labels
// (wire.LabelsSize), or -1 when not known.
func cutPart(req *wire.WriteRequest, v wire.Version, si, from, to, lsize, room int) (item, int) {
	ts := &req.Series[si]
	ns, nh, ne := len(ts.Samples), len(ts.Histograms), len(ts.Exemplars)
	if from == 0 && to == ns+nh+ne {
		// The whole series (what a pusher's series of one sample always
		// is): sized without slicing it.
		v2 := 0
		if to > 1 || v == wire.V2 {
			v2 = sizeV2Bound(lsize, ts)
		}
		if to <= 1 || v2 <= room {
			it := item{md: -1, series: int32(si), s1: int32(ns), h1: int32(nh), e1: int32(ne)}
			it.size = partSize(v, lsize, ts, v2)
			return it, to
		}
	}
	for {
		it := item{
			md: -1, series: int32(si),
			s0: int32(clamp(from, 0, ns)), s1: int32(clamp(to, 0, ns)),
			h0: int32(clamp(from-ns, 0, nh)), h1: int32(clamp(to-ns, 0, nh)),
			e0: int32(clamp(from-ns-nh, 0, ne)), e1: int32(clamp(to-ns-nh, 0, ne)),
		}
		p := it.slice(req)
		// Sizes are called directly, not through a func value: &p passed
		// to one escapes, a heap allocation per series.
		v2 := sizeV2Bound(lsize, &p)
		if to-from > 1 && v2 > room {
			to = from + (to-from)/2
			continue
		}
		it.size = partSize(v, lsize, &p, v2)
		return it, to
	}
}

// partSize is the size of part p in version v: exact for RW 1.0, the
// bound v2 (sizeV2Bound) for RW 2.0.
func partSize(v wire.Version, lsize int, p *wire.TimeSeries, v2 int) int {
	switch {
	case v == wire.V2:
		return v2
	case lsize >= 0:
		return wire.TimeSeriesSizeLabels(lsize, p)
	default:
		return wire.TimeSeriesSize(p)
	}
}

// planBatches groups c.items into c.batches, one per request: a request
// is closed when the next item would take it over the byte or the sample
// limit.
func (c *Client) planBatches(v wire.Version) {
	c.batches = c.batches[:0]
	cur := batch{}
	if v == wire.V2 {
		cur.bytes = v2RequestOverhead
	}
	empty := cur.bytes
	for i := range c.items {
		it := &c.items[i]
		n := it.counts()
		if cur.end > cur.start && (cur.bytes+it.size > c.cfg.maxBytes || cur.counts.points()+n.points() > c.cfg.maxSamples) {
			c.batches = append(c.batches, cur)
			cur = batch{start: i, end: i, bytes: empty}
		}
		cur.end = i + 1
		cur.bytes += it.size
		cur.counts.add(n)
		if it.md >= 0 {
			cur.metadata++
		}
	}
	// An empty write still sends one (empty) request: it checks the URL,
	// credentials and signing (rwkit doctor relies on it).
	if cur.end > cur.start || len(c.batches) == 0 {
		c.batches = append(c.batches, cur)
	}
}

// v2RequestOverhead is the RW 2.0 Request's first symbol, "" (tag and
// length).
const v2RequestOverhead = 2

// sizeV2Bound bounds the bytes ts adds to an RW 2.0 Request from above,
// without encoding it, starting from its exact RW 1.0 size:
//   - a label costs its RW 1.0 bytes plus up to 8 more (two symbol refs of
//     up to 5 bytes, minus the 2 bytes of RW 1.0's Label framing); the
//     symbols themselves cost no more than RW 1.0's strings;
//   - labels_refs and exemplar labels_refs framing: up to 6 bytes each;
//   - a sample or histogram with a start timestamp: up to 11 bytes more;
//   - metadata: type, help and unit refs with framing (up to 16 bytes) plus
//     the help and unit symbols.
//
// lsize is the RW 1.0 size of ts's labels (wire.LabelsSize), or -1 when
// not known.
func sizeV2Bound(lsize int, ts *wire.TimeSeries) int {
	var n int
	if lsize >= 0 {
		n = wire.TimeSeriesSizeLabels(lsize, ts)
	} else {
		n = wire.TimeSeriesSize(ts)
	}
	n += 8*len(ts.Labels) + 6
	for i := range ts.Exemplars {
		n += 8*len(ts.Exemplars[i].Labels) + 6
	}
	for i := range ts.Samples {
		if ts.Samples[i].StartTimestamp != 0 {
			n += 11
		}
	}
	for i := range ts.Histograms {
		if ts.Histograms[i].StartTimestamp != 0 {
			n += 11
		}
	}
	md := &ts.Metadata
	n += 16 + 2*6 + len(md.Help) + len(md.Unit)
	return n
}

func clamp(x, lo, hi int) int {
	return max(lo, min(x, hi))
}
