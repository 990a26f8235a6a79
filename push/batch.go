package push

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/wire"
)

// Batch is a write encoded as it is built, for Queue.AppendBatch: RW 1.0
// series, each given with its label block (wire.AppendLabels of its
// labels), which the caller keeps from one write to the next as a Pusher
// does for a registry's series. A batch then costs its encoded bytes
// instead of a wire.WriteRequest (a Label of 32 bytes per label and a
// TimeSeries per series), and its labels are not encoded again on every
// write. The zero Batch is empty; Reset reuses its buffers.
type Batch struct {
	raw    []byte
	series []batchSeries
}

// batchSeries is a series of a Batch: where it ends in raw and its points.
type batchSeries struct {
	end                            int
	samples, histograms, exemplars int32
}

// Reset empties b, keeping its buffers.
func (b *Batch) Reset() { b.raw, b.series = b.raw[:0], b.series[:0] }

// Len is the number of series added since the last Reset.
func (b *Batch) Len() int { return len(b.series) }

// Add appends ts with the labels of labelBlock, which must be
// wire.AppendLabels of them; ts.Labels is not read. As in every RW 1.0
// request, metadata and start timestamps are not sent.
func (b *Batch) Add(labelBlock []byte, ts *wire.TimeSeries) {
	b.raw = wire.AppendTimeSeriesLabels(b.raw, labelBlock, ts)
	b.series = append(b.series, batchSeries{end: len(b.raw),
		samples: int32(len(ts.Samples)), histograms: int32(len(ts.Histograms)), exemplars: int32(len(ts.Exemplars))})
}

// requests cuts b into the requests the client would send for it, as
// encodeRequests does for a wire.WriteRequest; ok is false when a series
// alone is over a limit.
func (b *Batch) requests(ts int64, maxBytes, maxSamples int, scratch *encodeScratch, out []*snapshot) ([]*snapshot, bool) {
	start, prev := 0, 0
	var c remotewrite.Counts
	for _, s := range b.series {
		n, size := int(s.samples+s.histograms+s.exemplars), s.end-prev
		if n > maxSamples || size > maxBytes {
			return out, false
		}
		if c.Series > 0 && (s.end-start > maxBytes || c.Samples+c.Histograms+c.Exemplars+n > maxSamples) {
			out = append(out, scratch.request(ts, b.raw[start:prev], c))
			start, c = prev, remotewrite.Counts{}
		}
		c.Series++
		c.Samples += int(s.samples)
		c.Histograms += int(s.histograms)
		c.Exemplars += int(s.exemplars)
		prev = s.end
	}
	if c.Series > 0 {
		out = append(out, scratch.request(ts, b.raw[start:prev], c))
	}
	return out, true
}

// SetEncoded makes b the series of body, an encoded RW 1.0 WriteRequest
// holding series only (as agent/stream writes a scrape), without copying
// it: b refers to body until its next Reset or SetEncoded, and Add must
// not be called in between. samplesEach 0 counts each series' samples,
// histograms and exemplars (the client's max_samples_per_send cuts by
// them); samplesEach > 0 says, unchecked, that every series has that many
// samples and nothing else (agent/stream's requests: one each), which
// spares reading inside the series. It fails on a body that is not such a
// request.
func (b *Batch) SetEncoded(body []byte, samplesEach int) error {
	b.raw, b.series = body[:len(body):len(body)], b.series[:0]
	for off := 0; off < len(body); {
		num, typ, n := protowire.ConsumeTag(body[off:])
		if n < 0 || num != 1 || typ != protowire.BytesType {
			b.Reset()
			return fmt.Errorf("push: batch: byte %d: not a WriteRequest's series (field 1)", off)
		}
		msg, m := protowire.ConsumeBytes(body[off+n:])
		if m < 0 {
			b.Reset()
			return fmt.Errorf("push: batch: byte %d: truncated series", off)
		}
		s, err := batchSeries{samples: int32(samplesEach)}, error(nil)
		if samplesEach <= 0 {
			s, err = countPoints(msg)
		}
		if err != nil {
			b.Reset()
			return fmt.Errorf("push: batch: byte %d: %w", off, err)
		}
		off += n + m
		s.end = off
		b.series = append(b.series, s)
	}
	return nil
}

// countPoints counts the samples, exemplars and histograms of an encoded
// TimeSeries.
func countPoints(msg []byte) (batchSeries, error) {
	var s batchSeries
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return s, errors.New("bad series field")
		}
		m := protowire.ConsumeFieldValue(num, typ, msg[n:])
		if m < 0 {
			return s, errors.New("bad series field")
		}
		switch num {
		case 2:
			s.samples++
		case 3:
			s.exemplars++
		case 4:
			s.histograms++
		}
		msg = msg[n+m:]
	}
	return s, nil
}
