package push

import (
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
