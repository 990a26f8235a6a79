package bench

import (
	"encoding/binary"
	"math"
)

// StableBody is an RW 1.0 WriteRequest body of single-sample float series
// that is encoded once and then patched in place between pushes: the
// "rwkit-rw1-stable" contender of BenchmarkPushPathEncode, the floor of
// what an RW 1.0 encoder can cost above Snappy.
//
// It lives here, not in wire, because push does not use it (README.md,
// "Push path"): at 100k series it saves about 6 ms of encoding in a push
// that costs about 400 ms of CPU (gathering dominates), it covers only
// single-sample float series without exemplars, and it writes a 0 value
// that gogo's Marshal omits, so what push sends would change.
//
// A pusher sends the same series every interval; only the sample values and
// the batch timestamp change. In a StableBody every series has the same
// fixed-size sample field: the value is always present (8 bytes, even when
// 0) and the timestamp is always present, a varint whose width is that of
// the batch timestamp (6 bytes for any millisecond timestamp from 2004 to
// 2039, 7 until the year 6429). So the byte layout does not depend on the
// values, and a push is SetSamples (two 8-byte stores per series) followed
// by Compress of Bytes: the label bytes are written once, when the series
// set changes, never per push.
//
//	var sb bench.StableBody
//	sb.Reset(ts)
//	for i := range series {
//		sb.AppendSeries(labelBlocks[i], values[i]) // blocks from wire.AppendLabels
//	}
//	// every push, while the series set is the same:
//	if !sb.SetSamples(ts, values) {
//		// the timestamp's varint width changed: Reset and rebuild
//	}
//	compressed = wire.Compress(compressed, sb.Bytes())
//
// The body is valid RW 1.0 protobuf that every decoder (prompb, Prometheus,
// Cortex, wire.DecodeWriteRequest) reads exactly as the wire.AppendTimeSeries
// body of
// the same series; it differs in bytes only where a value is 0 (or -0):
// gogo's Marshal omits a zero double, StableBody writes it, so -0 arrives as
// -0 where prompb would send 0. Series with more than one sample,
// histograms or exemplars have no fixed layout; encode those with
// wire.AppendTimeSeries.
//
// Any contiguous run of series is itself a valid body: Range(i, j) returns
// series [i, j), which is how a sender splits a snapshot into requests
// without copying it. A StableBody is not safe for concurrent use; Bytes
// and Range alias its buffer, valid until the next call that changes it.
type StableBody struct {
	body []byte
	// vals[i] is the offset of series i's 8 value bytes; its timestamp tag
	// follows at vals[i]+8 and the timestamp varint at vals[i]+9.
	vals []int32
	// ends[i] is the offset just past series i.
	ends  []int32
	ts    int64
	width int // varint width of ts
}

// stableBodyMax bounds a StableBody's size so that int32 offsets hold; a
// remote-write snapshot is far smaller (2 GiB of protobuf).
const stableBodyMax = math.MaxInt32

// Reset empties b, keeping its memory, and sets the batch timestamp (in
// milliseconds) of the series appended next.
func (b *StableBody) Reset(ts int64) {
	b.body = b.body[:0]
	b.vals = b.vals[:0]
	b.ends = b.ends[:0]
	b.ts = ts
	b.width = varintLen(uint64(ts))
}

// AppendSeries appends a series with the label block labelBlock (made by
// wire.AppendLabels) and one sample of value v at the batch timestamp. It
// panics if the body would pass 2 GiB.
func (b *StableBody) AppendSeries(labelBlock []byte, v float64) {
	sample := 9 + 1 + b.width // value field, timestamp tag and varint
	n := len(labelBlock) + 2 + sample
	if len(b.body)+1+varintLen(uint64(n))+n > stableBodyMax {
		panic("bench: StableBody over 2 GiB")
	}
	d := b.body
	d = append(d, tagWRTimeSeries)
	d = binary.AppendUvarint(d, uint64(n))
	d = append(d, labelBlock...)
	d = append(d, tagTSSamples, byte(sample), tagSampleValue)
	b.vals = append(b.vals, int32(len(d)))
	d = binary.LittleEndian.AppendUint64(d, math.Float64bits(v))
	d = append(d, tagSampleTimestamp)
	d = binary.AppendUvarint(d, uint64(b.ts))
	b.ends = append(b.ends, int32(len(d)))
	b.body = d
}

// NumSeries is the number of series appended since Reset.
func (b *StableBody) NumSeries() int { return len(b.vals) }

// Timestamp is the batch timestamp of every sample in the body.
func (b *StableBody) Timestamp() int64 { return b.ts }

// Bytes returns the whole body: a WriteRequest of every series.
func (b *StableBody) Bytes() []byte { return b.body }

// Range returns the body of series [i, j): a WriteRequest of those series
// alone. It aliases b's buffer.
func (b *StableBody) Range(i, j int) []byte {
	start := 0
	if i > 0 {
		start = int(b.ends[i-1])
	}
	end := start
	if j > i {
		end = int(b.ends[j-1])
	}
	return b.body[start:end:end]
}

// SetValue sets series i's sample value.
func (b *StableBody) SetValue(i int, v float64) {
	binary.LittleEndian.PutUint64(b.body[b.vals[i]:], math.Float64bits(v))
}

// SetTimestamp sets the timestamp of every sample to ts and reports
// whether it could: false, leaving b unchanged, when ts's varint width
// differs from the body's (the layout would move); then Reset and rebuild.
func (b *StableBody) SetTimestamp(ts int64) bool {
	return b.SetSamples(ts, nil)
}

// SetSamples sets the timestamp of every sample to ts and, unless values is
// nil, series i's value to values[i] (len(values) must be NumSeries()). It
// reports false, leaving b unchanged, when ts's varint width differs from
// the body's; then Reset and rebuild. It does not allocate: a push of 100k
// series is 200k unaligned 8-byte stores.
func (b *StableBody) SetSamples(ts int64, values []float64) bool {
	if varintLen(uint64(ts)) != b.width {
		return false
	}
	if values != nil && len(values) != len(b.vals) {
		panic("bench: StableBody.SetSamples: len(values) != NumSeries()")
	}
	b.ts = ts
	body := b.body
	w := b.width
	if w > 7 || values == nil {
		var tsv [10]byte
		t := binary.AppendUvarint(tsv[:0], uint64(ts))
		for i, off := range b.vals {
			copy(body[int(off)+9:], t)
			if values != nil {
				binary.LittleEndian.PutUint64(body[off:], math.Float64bits(values[i]))
			}
		}
		return true
	}
	// One 8-byte word ends where the timestamp varint ends: its last w
	// bytes are the varint, the byte before them the timestamp tag, and
	// the rest falls on the value, which the second store then writes.
	// The timestamp tag and varint are the same in every series.
	var tsv [10]byte
	var word [8]byte
	copy(word[8-w:], binary.AppendUvarint(tsv[:0], uint64(ts)))
	word[7-w] = tagSampleTimestamp
	tw := binary.LittleEndian.Uint64(word[:])
	shift := 1 + w // the word starts this far after the value
	values = values[:len(b.vals)]
	for i, off := range b.vals {
		o := int(off)
		binary.LittleEndian.PutUint64(body[o+shift:], tw)
		binary.LittleEndian.PutUint64(body[o:], math.Float64bits(values[i]))
	}
	return true
}

// Protobuf tags of the fields a StableBody writes (prometheus.WriteRequest,
// TimeSeries, Sample).
const (
	tagWRTimeSeries    = 1<<3 | 2 // WriteRequest.timeseries, length-delimited
	tagTSSamples       = 2<<3 | 2 // TimeSeries.samples, length-delimited
	tagSampleValue     = 1<<3 | 1 // Sample.value, fixed64
	tagSampleTimestamp = 2<<3 | 0 // Sample.timestamp, varint
)

// varintLen is the length of v as a protobuf varint.
func varintLen(v uint64) int {
	n := 1
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}
