package wire

import (
	"math"
	"strconv"
	"unsafe"
)

// Decode limits. A few bytes of protobuf can stand for much more memory
// once decoded: an empty series is 2 bytes on the wire and a 152-byte
// TimeSeries in memory, an empty histogram 2 bytes and 256. A receiver that
// decodes untrusted bodies bounds what one body may decode into with a
// Decoder's limits; the decoder enforces them while it decodes, sizing each
// slice (the series of a request, the labels, samples, exemplars and
// histograms of a series, the labels of an exemplar, the buckets of a
// histogram, the RW 2.0 symbol table) from a count of its fields before it
// allocates it, and counting each string before it copies it, so it stops
// before allocating anything past a limit.

// Decoder decodes remote-write bodies with options. Its zero value decodes
// exactly as DecodeWriteRequest and DecodeRequestV2 do; a Decoder holds no
// state and may be used by several goroutines at once.
type Decoder struct {
	// View: strings point into the decoded data instead of being copied,
	// as with DecodeWriteRequestView and DecodeRequestV2View.
	View bool
	// MaxSeries, if positive, bounds the time series of a request and, in
	// RW 1.0, its metadata entries (the other top-level list; RW 2.0
	// carries metadata on the series). They are counted before any is
	// decoded.
	MaxSeries int
	// MaxMemory, if positive, bounds the bytes the decoded request takes:
	// the size of every decoded series, label, sample, exemplar, histogram
	// and bucket, RW 1.0 metadata entry, RW 2.0 symbol table entry and the
	// decoder's RW 2.0 label-reference scratch, and, unless View is set,
	// the bytes of the strings copied out of data. The slices of req are
	// sized exactly, so this is what decoding into an empty WriteRequest
	// allocates (the allocator's size classes aside).
	MaxMemory int64
}

// DecodeWriteRequest decodes an RW 1.0 WriteRequest as DecodeWriteRequest
// (or DecodeWriteRequestView with View) does, within d's limits: past one
// it returns a *LimitError. req is then partly decoded.
func (d Decoder) DecodeWriteRequest(data []byte, req *WriteRequest) error {
	return decodeWriteRequest(decoder{b: data, view: d.View, lim: d.limiter()}, req)
}

// DecodeRequestV2 decodes an RW 2.0 Request as DecodeRequestV2 (or
// DecodeRequestV2View with View) does, within d's limits: past one it
// returns a *LimitError. req is then partly decoded.
func (d Decoder) DecodeRequestV2(data []byte, req *WriteRequest) error {
	return decodeRequestV2(decoder{b: data, view: d.View, lim: d.limiter()}, req)
}

// limiter returns d's limits as a limiter, nil when there are none (the
// unlimited decode).
func (d Decoder) limiter() *limiter {
	if d.MaxSeries <= 0 && d.MaxMemory <= 0 {
		return nil
	}
	l := &limiter{maxSeries: math.MaxInt, maxMemory: math.MaxInt64}
	if d.MaxSeries > 0 {
		l.maxSeries = d.MaxSeries
	}
	if d.MaxMemory > 0 {
		l.maxMemory = d.MaxMemory
	}
	return l
}

// The limits a decode can pass (LimitError.Limit).
const (
	LimitSeries = "series" // Decoder.MaxSeries
	LimitMemory = "memory" // Decoder.MaxMemory
)

// LimitError reports that a decode passed one of a Decoder's limits. The
// decoder stopped there, before allocating for what is over the limit.
type LimitError struct {
	Limit string // LimitSeries or LimitMemory
	Max   int64  // the limit
	// Value is how far the decode got: Max+1 series (or RW 1.0 metadata
	// entries), or the decoded bytes it would have reached with the table
	// or string that passed MaxMemory.
	Value int64
	// Path names what passed the limit: the series (or metadata entry),
	// e.g. "timeseries[262144]", or the table or string, e.g.
	// "timeseries[0].histograms".
	Path string
	// Offset is the byte offset into the decoded input of that series or,
	// past MaxMemory, of the string, or of the payload of the message
	// whose table it is (of the first series for the series table).
	Offset int
}

func (e *LimitError) Error() string {
	var msg string
	if e.Limit == LimitSeries {
		msg = "more than " + strconv.FormatInt(e.Max, 10) + " series (limit " + strconv.FormatInt(e.Max, 10) + ")"
	} else {
		msg = "decodes to " + strconv.FormatInt(e.Value, 10) + " bytes, more than the limit of " + strconv.FormatInt(e.Max, 10)
	}
	msg += " at offset " + strconv.Itoa(e.Offset)
	if e.Path == "" {
		return msg
	}
	return e.Path + ": " + msg
}

// Sizes of what decoding allocates, per element (TestDecodedSizes pins
// their 64-bit values).
const (
	memSeries    = int64(unsafe.Sizeof(TimeSeries{}))
	memLabel     = int64(unsafe.Sizeof(Label{}))
	memSample    = int64(unsafe.Sizeof(Sample{}))
	memExemplar  = int64(unsafe.Sizeof(Exemplar{}))
	memHistogram = int64(unsafe.Sizeof(Histogram{}))
	memSpan      = int64(unsafe.Sizeof(BucketSpan{}))
	memBucket    = int64(unsafe.Sizeof(int64(0))) // a delta, count or custom value
	memMetadata  = int64(unsafe.Sizeof(Metadata{}))
	memSymbol    = int64(unsafe.Sizeof(""))
	memRef       = int64(unsafe.Sizeof(uint32(0)))
)

// limiter counts a limited decode's memory. Unset limits are at their
// type's maximum.
type limiter struct {
	maxSeries int
	maxMemory int64
	memory    int64
	// The RW 2.0 reference scratch slices are reused from series to series
	// (exemplar to exemplar): they are charged for their largest length.
	refsPeak, exRefsPeak int
}

// charge adds n*size bytes at offset at; past the limit it returns a
// *LimitError (with no path: callers add it with inField) and adds nothing.
func (l *limiter) charge(at int, n int, size int64) error {
	b := int64(n) * size
	if b <= l.maxMemory-l.memory {
		l.memory += b
		return nil
	}
	return &LimitError{Limit: LimitMemory, Max: l.maxMemory, Value: l.memory + b, Offset: at}
}

// chargeScratch charges a reference scratch slice (refsPeak or
// exRefsPeak) for holding n references.
func (l *limiter) chargeScratch(at int, n int, peak *int) error {
	if n <= *peak {
		return nil
	}
	if err := l.charge(at, n-*peak, memRef); err != nil {
		return err
	}
	*peak = n
	return nil
}

// fieldIter walks the fields of a message without decoding them, to count
// what decoding will allocate. It stops quietly at the first malformed
// field (the decode then reports it); on valid input the counts are exact.
type fieldIter struct {
	d   decoder
	end int
}

// next returns the next field: its number, wire type, where the field
// starts and, for a length-delimited field, its payload b[p:e]. ok is false
// at the end or at a malformed field.
func (it *fieldIter) next() (num uint64, wt, start, p, e int, ok bool) {
	d := &it.d
	if d.i >= it.end {
		return 0, 0, 0, 0, 0, false
	}
	start = d.i
	num, wt, err := d.tag(it.end)
	if err != nil {
		return 0, 0, 0, 0, 0, false
	}
	if wt == wtBytes {
		e, err := d.length(it.end)
		if err != nil {
			return 0, 0, 0, 0, 0, false
		}
		p = d.i
		d.i = e
		return num, wt, start, p, e, true
	}
	p = d.i
	if d.skip(num, wt, it.end, 0) != nil {
		return 0, 0, 0, 0, 0, false
	}
	return num, wt, start, p, d.i, true
}

// repeatedCount is how many values a field of a repeated scalar (packed or
// not) holds, whose element wire type is elem (wtVarint or wtFixed64).
func repeatedCount(b []byte, wt, elem, p, e int) int {
	switch {
	case wt == elem:
		return 1
	case wt != wtBytes:
		return 0 // the decode refuses it
	case elem == wtFixed64:
		return (e - p) / 8
	}
	return countVarints(b[p:e])
}

// topTables counts the length-delimited top-level fields numbered series
// and other of the request b: the series of the request and, in RW 1.0,
// metadata entries or, in RW 2.0 (v2), symbols. Series and RW 1.0
// metadata entries count against maxSeries: the one that passes it is
// refused with a *LimitError. first is where the first series starts.
func topTables(b []byte, series, other uint64, v2 bool, maxSeries int) (nSeries, nOther, first int, err error) {
	it := fieldIter{d: decoder{b: b}, end: len(b)}
	first = -1
	for {
		num, wt, start, _, _, ok := it.next()
		if !ok {
			return nSeries, nOther, first, nil
		}
		if wt != wtBytes || (num != series && num != other) {
			continue
		}
		if num == other && v2 {
			nOther++ // a symbol
			continue
		}
		entries := nSeries
		if !v2 {
			entries += nOther
		}
		if entries == maxSeries {
			name, idx := "timeseries", nSeries
			if num == other {
				name, idx = "metadata", nOther
			}
			return 0, 0, 0, inField(&LimitError{Limit: LimitSeries, Max: int64(maxSeries), Value: int64(maxSeries) + 1, Offset: start}, name, idx)
		}
		if num == other {
			nOther++
			continue
		}
		if first < 0 {
			first = start
		}
		nSeries++
	}
}

// sizeRequestV1 counts the series and metadata entries of the RW 1.0
// request in d.b, refuses them past the limits, and sizes req's slices for
// them.
func (d *decoder) sizeRequestV1(req *WriteRequest) error {
	nSeries, nMeta, first, err := topTables(d.b, fieldWRTimeSeries, fieldWRMetadata, false, d.lim.maxSeries)
	if err != nil {
		return err
	}
	if err := d.lim.charge(max(first, 0), nSeries, memSeries); err != nil {
		return inField(err, "timeseries", -1)
	}
	if err := d.lim.charge(0, nMeta, memMetadata); err != nil {
		return inField(err, "metadata", -1)
	}
	req.Series = reuse(req.Series, nSeries)
	req.Metadata = reuse(req.Metadata, nMeta)
	return nil
}

// sizeRequestV2 counts the symbols and series of the RW 2.0 request in d.b
// and refuses them past the limits; it returns the number of symbols and
// of series.
func (d *decoder) sizeRequestV2() (nSymbols, nSeries int, err error) {
	nSeries, nSymbols, first, err := topTables(d.b, fieldReqTimeSeries, fieldReqSymbols, true, d.lim.maxSeries)
	if err != nil {
		return 0, 0, err
	}
	// No symbols at all: the decoder still makes the table of "".
	if err := d.lim.charge(0, max(nSymbols, 1), memSymbol); err != nil {
		return 0, 0, inField(err, "symbols", -1)
	}
	if err := d.lim.charge(max(first, 0), nSeries, memSeries); err != nil {
		return 0, 0, inField(err, "timeseries", -1)
	}
	return nSymbols, nSeries, nil
}

// chargeTables charges the tables of a message whose element counts are n
// (names[k] names the table of n[k]; size[k] is the size of an element).
func (d *decoder) chargeTables(at int, n []int, size []int64, names []string) error {
	for k := range n {
		if err := d.lim.charge(at, n[k], size[k]); err != nil {
			return inField(err, names[k], -1)
		}
	}
	return nil
}

var (
	seriesV1Tables = []string{"labels", "samples", "exemplars", "histograms"}
	seriesV1Sizes  = []int64{memLabel, memSample, memExemplar, memHistogram}
	seriesV2Tables = []string{"samples", "histograms", "exemplars"}
	seriesV2Sizes  = []int64{memSample, memHistogram, memExemplar}
)

// sizeSeriesV1 counts what the RW 1.0 TimeSeries d.b[d.i:end] holds,
// charges it and sizes ts's slices for it.
func (d *decoder) sizeSeriesV1(end int, ts *TimeSeries) error {
	var n [4]int // labels, samples, exemplars, histograms: fields 1 to 4
	it := fieldIter{d: decoder{b: d.b, i: d.i}, end: end}
	for {
		num, wt, _, _, _, ok := it.next()
		if !ok {
			break
		}
		if wt == wtBytes && num >= fieldTSLabels && num <= fieldTSHistograms {
			n[num-fieldTSLabels]++
		}
	}
	if err := d.chargeTables(d.i, n[:], seriesV1Sizes, seriesV1Tables); err != nil {
		return err
	}
	ts.Labels = reuse(ts.Labels, n[0])
	ts.Samples = reuse(ts.Samples, n[1])
	ts.Exemplars = reuse(ts.Exemplars, n[2])
	ts.Histograms = reuse(ts.Histograms, n[3])
	return nil
}

// sizeSeriesV2 counts what the RW 2.0 TimeSeries d.b[d.i:end] holds,
// charges it (with the label-reference scratch) and sizes ts's slices and
// the scratch for it.
func (d *decoderV2) sizeSeriesV2(end int, ts *TimeSeries) error {
	var n [3]int // samples, histograms, exemplars: fields 2 to 4
	refs := 0
	it := fieldIter{d: decoder{b: d.b, i: d.i}, end: end}
	for {
		num, wt, _, p, e, ok := it.next()
		if !ok {
			break
		}
		switch {
		case num == fieldV2LabelsRefs:
			refs += repeatedCount(d.b, wt, wtVarint, p, e)
		case wt == wtBytes && num >= fieldV2Samples && num <= fieldV2Exemplars:
			n[num-fieldV2Samples]++
		}
	}
	if err := d.chargeRefs(refs, &d.lim.refsPeak); err != nil {
		return err
	}
	if err := d.chargeTables(d.i, n[:], seriesV2Sizes, seriesV2Tables); err != nil {
		return err
	}
	d.refs = reuse(d.refs, refs)
	ts.Samples = reuse(ts.Samples, n[0])
	ts.Histograms = reuse(ts.Histograms, n[1])
	ts.Exemplars = reuse(ts.Exemplars, n[2])
	return nil
}

// sizeExemplarV1 charges and sizes the labels of the RW 1.0 Exemplar
// d.b[d.i:end].
func (d *decoder) sizeExemplarV1(end int, ex *Exemplar) error {
	n := countFields(d.b, d.i, end, fieldExemplarLabels)
	if err := d.lim.charge(d.i, n, memLabel); err != nil {
		return inField(err, "labels", -1)
	}
	ex.Labels = reuse(ex.Labels, n)
	return nil
}

// chargeRefs charges n label references at d.i: the reference scratch
// (whose peak is *peak) and the n/2 labels they resolve to.
func (d *decoderV2) chargeRefs(n int, peak *int) error {
	if err := d.lim.chargeScratch(d.i, n, peak); err != nil {
		return inField(err, "labels_refs", -1)
	}
	if err := d.lim.charge(d.i, n/2, memLabel); err != nil {
		return inField(err, "labels_refs", -1)
	}
	return nil
}

// sizeExemplarV2 charges and sizes the labels (and the reference scratch)
// of the RW 2.0 Exemplar d.b[d.i:end].
func (d *decoderV2) sizeExemplarV2(end int, ex *Exemplar) error {
	refs := 0
	it := fieldIter{d: decoder{b: d.b, i: d.i}, end: end}
	for {
		num, wt, _, p, e, ok := it.next()
		if !ok {
			break
		}
		if num == fieldExemplarLabels {
			refs += repeatedCount(d.b, wt, wtVarint, p, e)
		}
	}
	if err := d.chargeRefs(refs, &d.lim.exRefsPeak); err != nil {
		return err
	}
	d.exRefs = reuse(d.exRefs, refs)
	ex.Labels = reuse(ex.Labels, refs/2)
	return nil
}

// sizeHistogram charges and sizes the spans and buckets of the Histogram
// d.b[d.i:end] (h's slices are empty).
func (d *decoder) sizeHistogram(end int, h *Histogram) error {
	var n [17]int // by field number - 1
	it := fieldIter{d: decoder{b: d.b, i: d.i}, end: end}
	for {
		num, wt, _, p, e, ok := it.next()
		if !ok {
			break
		}
		switch num {
		case fieldHNegSpans, fieldHPosSpans:
			if wt == wtBytes {
				n[num-1]++
			}
		case fieldHNegDeltas, fieldHPosDeltas:
			n[num-1] += repeatedCount(d.b, wt, wtVarint, p, e)
		case fieldHNegCounts, fieldHPosCounts, fieldHCustomValues:
			n[num-1] += repeatedCount(d.b, wt, wtFixed64, p, e)
		}
	}
	for _, num := range [...]uint64{fieldHNegSpans, fieldHNegDeltas, fieldHNegCounts, fieldHPosSpans, fieldHPosDeltas, fieldHPosCounts, fieldHCustomValues} {
		size := memBucket
		if num == fieldHNegSpans || num == fieldHPosSpans {
			size = memSpan
		}
		if err := d.lim.charge(d.i, n[num-1], size); err != nil {
			return inField(err, histogramFieldName(num), -1)
		}
	}
	h.NegativeSpans = reuse(h.NegativeSpans, n[fieldHNegSpans-1])
	h.NegativeDeltas = reuse(h.NegativeDeltas, n[fieldHNegDeltas-1])
	h.NegativeCounts = reuse(h.NegativeCounts, n[fieldHNegCounts-1])
	h.PositiveSpans = reuse(h.PositiveSpans, n[fieldHPosSpans-1])
	h.PositiveDeltas = reuse(h.PositiveDeltas, n[fieldHPosDeltas-1])
	h.PositiveCounts = reuse(h.PositiveCounts, n[fieldHPosCounts-1])
	h.CustomValues = reuse(h.CustomValues, n[fieldHCustomValues-1])
	return nil
}
