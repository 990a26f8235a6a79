package wire

import "sync"

// RW 2.0 encoding of io.prometheus.write.v2.Request
// (prompb/io/prometheus/write/v2/types.proto,
// https://prometheus.io/docs/specs/prw/remote_write_spec_2_0/).
//
// Strings travel once per request in a symbol table; series carry pairs of
// references (name, value) into it. Symbols are added in first-use order:
// for each series, its labels (name then value), then its exemplars' labels,
// then its metadata help and unit. symbols[0] is always "".

// RW 2.0 field tags.
const (
	tagReqSymbols    = fieldReqSymbols<<3 | wtBytes
	tagReqTimeSeries = fieldReqTimeSeries<<3 | wtBytes

	tagV2LabelsRefs = fieldV2LabelsRefs<<3 | wtBytes
	tagV2Samples    = fieldV2Samples<<3 | wtBytes
	tagV2Histograms = fieldV2Histograms<<3 | wtBytes
	tagV2Exemplars  = fieldV2Exemplars<<3 | wtBytes
	tagV2Metadata   = fieldV2Metadata<<3 | wtBytes

	tagV2SampleStart = fieldSampleStartTimestamp<<3 | wtVarint

	tagV2ExemplarRefs = fieldExemplarLabels<<3 | wtBytes

	tagV2MDType    = fieldV2MDType<<3 | wtVarint
	tagV2MDHelpRef = fieldV2MDHelpRef<<3 | wtVarint
	tagV2MDUnitRef = fieldV2MDUnitRef<<3 | wtVarint
)

// EncoderV2 builds one RW 2.0 Request series by series. It is reusable:
// Reset keeps the symbol table's map and slices and the series buffer, so a
// steady-state encoder does not allocate. The zero value is ready to use.
// An EncoderV2 is not safe for concurrent use.
type EncoderV2 struct {
	// symbols holds the request's strings that have no id in ids; strs is
	// every string of the request in reference order.
	symbols  map[string]uint32
	strs     []string
	symBytes int    // encoded size of the symbols fields
	series   []byte // encoded Request.timeseries fields
	n        int
	refs     []uint32 // scratch: label refs then exemplar label refs
	gen      uint64   // counts Resets, for SymbolIDs' references
	// ids is the SymbolIDs of AppendSeriesIDs since Reset: a string with
	// an id there is found through it (ids.ref, ids.gen), not hashed.
	ids *SymbolIDs
}

// Reset empties the encoder, keeping its memory.
func (e *EncoderV2) Reset() {
	if e.symbols == nil {
		e.symbols = make(map[string]uint32)
	} else {
		clear(e.symbols)
	}
	clear(e.strs) // drop references to the previous request's strings
	e.strs = append(e.strs[:0], "")
	e.symbols[""] = 0
	e.symBytes = sizeString("")
	e.series = e.series[:0]
	e.n = 0
	e.gen++
	e.ids = nil
}

// symbol returns s's reference in the request, adding s when it is new.
// "" is always reference 0. A string with an id in e.ids is kept there,
// so that AppendSeriesIDs finds it without hashing; others in e.symbols.
func (e *EncoderV2) symbol(s string) uint32 {
	if s == "" {
		return 0
	}
	if ref, ok := e.symbols[s]; ok {
		return ref
	}
	if t := e.ids; t != nil {
		if id, ok := t.ids[s]; ok {
			if t.gen[id] != e.gen {
				t.ref[id], t.gen[id] = e.add(s), e.gen
			}
			return t.ref[id]
		}
	}
	ref := e.add(s)
	e.symbols[s] = ref
	return ref
}

// add appends s to the request's symbols.
func (e *EncoderV2) add(s string) uint32 {
	ref := uint32(len(e.strs))
	e.strs = append(e.strs, s)
	e.symBytes += sizeString(s)
	return ref
}

// AppendSeries adds the symbols of ts (labels, exemplar labels, metadata
// help and unit) and encodes the series. Metadata.FamilyName is not sent:
// the series' __name__ says it.
func (e *EncoderV2) AppendSeries(ts *TimeSeries) {
	if e.symbols == nil {
		e.Reset()
	}
	refs := e.refs[:0]
	for i := range ts.Labels {
		refs = append(refs, e.symbol(ts.Labels[i].Name), e.symbol(ts.Labels[i].Value))
	}
	e.refs = refs
	e.appendSeries(ts)
}

// appendSeries encodes ts, its label refs already in e.refs.
func (e *EncoderV2) appendSeries(ts *TimeSeries) {
	refs := e.refs
	for i := range ts.Exemplars {
		for _, l := range ts.Exemplars[i].Labels {
			refs = append(refs, e.symbol(l.Name), e.symbol(l.Value))
		}
	}
	help := e.symbol(ts.Metadata.Help)
	unit := e.symbol(ts.Metadata.Unit)
	e.refs = refs

	labelRefs := refs[:2*len(ts.Labels)]
	size := 0
	if len(labelRefs) > 0 {
		size += sizeField(sizePackedUint32(labelRefs))
	}
	for i := range ts.Samples {
		size += sizeField(sizeSampleV2(&ts.Samples[i]))
	}
	for i := range ts.Histograms {
		size += sizeField(sizeHistogram(&ts.Histograms[i], true))
	}
	exRefs := refs[len(labelRefs):]
	for i := range ts.Exemplars {
		ex := &ts.Exemplars[i]
		n := 2 * len(ex.Labels)
		size += sizeField(sizeExemplarV2(ex, exRefs[:n]))
		exRefs = exRefs[n:]
	}
	mdType := ts.Metadata.Type
	size += sizeField(sizeMetadataV2(mdType, help, unit))

	b := e.series
	b = append(b, tagReqTimeSeries)
	b = appendVarint(b, uint64(size))
	if len(labelRefs) > 0 {
		b = appendPackedUint32(b, tagV2LabelsRefs, labelRefs)
	}
	for i := range ts.Samples {
		s := &ts.Samples[i]
		b = append(b, tagV2Samples)
		b = appendVarint(b, uint64(sizeSampleV2(s)))
		b = appendSampleFields(b, s, true)
	}
	for i := range ts.Histograms {
		h := &ts.Histograms[i]
		b = append(b, tagV2Histograms)
		b = appendVarint(b, uint64(sizeHistogram(h, true)))
		b = appendHistogram(b, h, true)
	}
	exRefs = refs[len(labelRefs):]
	for i := range ts.Exemplars {
		ex := &ts.Exemplars[i]
		n := 2 * len(ex.Labels)
		b = appendExemplarV2(b, ex, exRefs[:n])
		exRefs = exRefs[n:]
	}
	e.series = appendMetadataV2(b, mdType, help, unit)
	e.n++
}

// appendExemplarV2 appends an RW 2.0 TimeSeries.exemplars field: ex with
// its label references refs.
func appendExemplarV2(b []byte, ex *Exemplar, refs []uint32) []byte {
	b = append(b, tagV2Exemplars)
	b = appendVarint(b, uint64(sizeExemplarV2(ex, refs)))
	if len(refs) > 0 {
		b = appendPackedUint32(b, tagV2ExemplarRefs, refs)
	}
	return appendExemplarPoint(b, ex)
}

// appendMetadataV2 appends an RW 2.0 TimeSeries.metadata field. gogo
// always emits the non-nullable metadata message, even empty.
func appendMetadataV2(b []byte, t MetricType, help, unit uint32) []byte {
	b = append(b, tagV2Metadata)
	b = appendVarint(b, uint64(sizeMetadataV2(t, help, unit)))
	if t != 0 {
		b = append(b, tagV2MDType)
		b = appendVarint(b, uint64(t))
	}
	if help != 0 {
		b = append(b, tagV2MDHelpRef)
		b = appendVarint(b, uint64(help))
	}
	if unit != 0 {
		b = append(b, tagV2MDUnitRef)
		b = appendVarint(b, uint64(unit))
	}
	return b
}

// Len is the exact size of the Request AppendRequest would produce now, so
// callers can split by bytes.
func (e *EncoderV2) Len() int {
	if e.symbols == nil {
		return sizeString("") + len(e.series)
	}
	return e.symBytes + len(e.series)
}

// NumSeries is the number of series added since the last Reset.
func (e *EncoderV2) NumSeries() int { return e.n }

// AppendRequest appends the Request: symbols (field 4, "" first) then the
// series (field 5). The encoder is unchanged; call Reset to start the next.
func (e *EncoderV2) AppendRequest(dst []byte) []byte {
	if e.symbols == nil {
		e.Reset()
	}
	for _, s := range e.strs {
		dst = appendString(dst, tagReqSymbols, s)
	}
	return append(dst, e.series...)
}

var encoderV2Pool = sync.Pool{New: func() any { return new(EncoderV2) }}

// AppendRequestV2 appends the RW 2.0 Request for req to dst, using a pooled
// EncoderV2. req.Metadata (RW 1.0 only) is ignored: RW 2.0 carries metadata
// on each series.
func AppendRequestV2(dst []byte, req *WriteRequest) []byte {
	e := encoderV2Pool.Get().(*EncoderV2)
	e.Reset()
	for i := range req.Series {
		e.AppendSeries(&req.Series[i])
	}
	dst = e.AppendRequest(dst)
	e.Reset()
	encoderV2Pool.Put(e)
	return dst
}

func sizeSampleV2(s *Sample) int {
	n := sizeSampleV1(s)
	if s.StartTimestamp != 0 {
		n += 1 + sizeVarint(uint64(s.StartTimestamp))
	}
	return n
}

func sizeExemplarV2(ex *Exemplar, refs []uint32) int {
	n := 0
	if len(refs) > 0 {
		n += sizeField(sizePackedUint32(refs))
	}
	return n + sizeExemplarPoint(ex)
}

func sizeMetadataV2(t MetricType, help, unit uint32) int {
	n := 0
	if t != 0 {
		n += 1 + sizeVarint(uint64(t))
	}
	if help != 0 {
		n += 1 + sizeVarint(uint64(help))
	}
	if unit != 0 {
		n += 1 + sizeVarint(uint64(unit))
	}
	return n
}

func appendPackedUint32(b []byte, tag byte, vs []uint32) []byte {
	b = append(b, tag)
	b = appendVarint(b, uint64(sizePackedUint32(vs)))
	for _, v := range vs {
		b = appendVarint(b, uint64(v))
	}
	return b
}

// SymbolIDs gives strings ids that stay the same from one request to the
// next, for a sender that sends the same series request after request:
// with the ids of a series' labels kept from the last request,
// EncoderV2.AppendSeriesIDs finds each label's reference in the current
// request through an array instead of hashing the string. It holds every
// string it has given an id until Reset. The zero value is ready to use.
// A SymbolIDs serves one EncoderV2 at a time and is not safe for
// concurrent use.
type SymbolIDs struct {
	ids   map[string]uint32
	strs  []string
	bytes int
	// ref[id] is the string's reference in owner's request of generation
	// gen[id].
	ref   []uint32
	gen   []uint64
	owner *EncoderV2
}

// ID returns s's id, giving it one if it has none.
func (t *SymbolIDs) ID(s string) uint32 {
	if id, ok := t.ids[s]; ok {
		return id
	}
	if t.ids == nil {
		t.ids = make(map[string]uint32)
	}
	id := uint32(len(t.strs))
	t.ids[s] = id
	t.strs = append(t.strs, s)
	t.ref = append(t.ref, 0)
	t.gen = append(t.gen, 0)
	t.bytes += len(s)
	return id
}

// Len is the number of strings with an id; Bytes their total length.
func (t *SymbolIDs) Len() int   { return len(t.strs) }
func (t *SymbolIDs) Bytes() int { return t.bytes }

// Reset forgets every id.
func (t *SymbolIDs) Reset() {
	clear(t.ids)
	clear(t.strs)
	t.strs, t.ref, t.gen, t.bytes = t.strs[:0], t.ref[:0], t.gen[:0], 0
}

// AppendSeriesIDs is AppendSeries for a series whose labels have the ids
// labelIDs in t (name then value for each label, as t.ID gave them):
// the request's bytes are the same. Give an encoder the same t from one
// Reset to the next, and do not Reset t in between (new ids are fine);
// a second SymbolIDs in one request works but is hashed like
// AppendSeries. A label string met first through its id is not hashed:
// a request whose strings all come with ids builds no map.
func (e *EncoderV2) AppendSeriesIDs(ts *TimeSeries, t *SymbolIDs, labelIDs []uint32) {
	if e.symbols == nil {
		e.Reset()
	}
	if len(labelIDs) != 2*len(ts.Labels) {
		e.AppendSeries(ts) // not the ids of these labels
		return
	}
	if t.owner != e {
		t.owner = e
		clear(t.gen) // e.gen is at least 1 after Reset
	}
	if e.ids != t {
		if e.ids != nil {
			// A second SymbolIDs in one request: its strings are
			// looked up as strings.
			e.AppendSeries(ts)
			return
		}
		e.ids = t
	}
	refs := e.refs[:0]
	for _, id := range labelIDs {
		if t.gen[id] != e.gen {
			t.ref[id], t.gen[id] = e.symbolNew(t.strs[id]), e.gen
		}
		refs = append(refs, t.ref[id])
	}
	e.refs = refs
	e.appendSeries(ts)
}

// symbolNew returns the reference of s, a string of e.ids not yet met in
// this request through its id: one added before it had an id is in
// e.symbols, looked up only when e.symbols holds more than "".
func (e *EncoderV2) symbolNew(s string) uint32 {
	if s == "" {
		return 0
	}
	if len(e.symbols) > 1 {
		if ref, ok := e.symbols[s]; ok {
			return ref
		}
	}
	return e.add(s)
}
