package push

import (
	"bytes"
	"fmt"
	"time"

	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/wire"
)

// snapshot is one undelivered write kept for a later attempt. It holds the
// write's Snappy-compressed protobuf rather than a wire.WriteRequest: a
// WriteRequest costs a Label (two string headers, 32 bytes) per label plus
// the strings and slice headers of every series, several times the encoded
// size, and the encoding compresses well because label sets repeat across
// series. A snapshot is decoded only when it is sent.
type snapshot struct {
	ts      int64        // batch timestamp (ms)
	version wire.Version // encoding of body
	body    []byte       // Snappy block of the encoded request
	rawLen  int          // decoded length of body
	series  int
	samples int // float samples + native histogram samples
	// request: the body is one RW 1.0 request within the client's limits
	// (encodeRequests), sent as it is, holding counts.
	request bool
	counts  remotewrite.Counts
}

func (s *snapshot) size() int { return len(s.body) }

// encodeSnapshot encodes req in version v for the buffer.
func encodeSnapshot(ts int64, v wire.Version, req *wire.WriteRequest, scratch []byte) (*snapshot, []byte) {
	raw := scratch[:0]
	if v == wire.V2 {
		raw = wire.AppendRequestV2(raw, req)
	} else {
		raw = wire.AppendWriteRequest(raw, req)
	}
	s := &snapshot{ts: ts, version: v, rawLen: len(raw), series: len(req.Series), samples: countSamples(req.Series)}
	// The compressor allocates its worst case (about the raw size); the
	// buffer's bound counts the compressed length, so keep exactly that:
	// holding the capacity made a 16 MiB buffer hold over 100 MiB.
	s.body = bytes.Clone(wire.Compress(nil, raw))
	return s, raw
}

// encodeRequests encodes req (RW 1.0, no metadata) for the buffer as the
// requests the client would send for it: consecutive series, at most
// maxSamples points (samples, histogram samples and exemplars) and
// maxBytes uncompressed bytes per request, each its own snapshot, which
// the queue then sends without decoding and encoding it again. ok is
// false when a series alone is over a limit (the client cuts it into
// parts): encode req with encodeSnapshot then.
func encodeRequests(ts int64, req *wire.WriteRequest, maxBytes, maxSamples int, scratch *encodeScratch, out []*snapshot) ([]*snapshot, bool) {
	// raw holds the request being filled and the series after it: the
	// scratch stays the size of one request, not of the batch.
	raw := scratch.raw[:0]
	defer func() { scratch.raw = raw }()
	var c remotewrite.Counts
	cut := func(end int) {
		out = append(out, scratch.request(ts, raw[:end], c))
		raw = raw[:copy(raw, raw[end:])]
		c = remotewrite.Counts{}
	}
	for i := range req.Series {
		t := &req.Series[i]
		n := len(t.Samples) + len(t.Histograms) + len(t.Exemplars)
		before := len(raw)
		raw = wire.AppendTimeSeries(raw, t)
		size := len(raw) - before
		if n > maxSamples || size > maxBytes {
			return out, false
		}
		if c.Series > 0 && (before+size > maxBytes || c.Samples+c.Histograms+c.Exemplars+n > maxSamples) {
			cut(before)
		}
		c.Series++
		c.Samples += len(t.Samples)
		c.Histograms += len(t.Histograms)
		c.Exemplars += len(t.Exemplars)
	}
	if c.Series > 0 {
		cut(len(raw))
	}
	return out, true
}

// encodeScratch is encodeRequests' reused buffers: the request being
// encoded and its compressed form.
type encodeScratch struct {
	raw, comp []byte
}

// request is the snapshot of one request, raw, holding c.
func (e *encodeScratch) request(ts int64, raw []byte, c remotewrite.Counts) *snapshot {
	e.comp = wire.Compress(e.comp[:0], raw)
	return &snapshot{ts: ts, version: wire.V1, body: bytes.Clone(e.comp), rawLen: len(raw),
		series: c.Series, samples: c.Samples + c.Histograms, request: true, counts: c}
}

// decode fills req (reusing its storage) with the snapshot's request.
func (s *snapshot) decode(req *wire.WriteRequest, scratch []byte) ([]byte, error) {
	raw, err := wire.Decompress(scratch, s.body, s.rawLen)
	if err != nil {
		return scratch, fmt.Errorf("buffered snapshot at %d: %w", s.ts, err)
	}
	req.Series, req.Metadata = req.Series[:0], req.Metadata[:0]
	if s.version == wire.V2 {
		err = wire.DecodeRequestV2(raw, req)
	} else {
		err = wire.DecodeWriteRequest(raw, req)
	}
	if err != nil {
		return raw, fmt.Errorf("buffered snapshot at %d: %w", s.ts, err)
	}
	return raw, nil
}

func countSamples(series []wire.TimeSeries) int {
	n := 0
	for i := range series {
		n += len(series[i].Samples) + len(series[i].Histograms)
	}
	return n
}

// buffer is a FIFO of snapshots bounded by total body bytes and by age.
type buffer struct {
	maxBytes int
	maxAge   time.Duration
	items    []*snapshot
	bytes    int
}

// Drop reasons, the reason label of rwkit_push_dropped_snapshots_total.
const (
	dropFull        = "buffer_full"
	dropTooOld      = "too_old"
	dropTooLarge    = "too_large"
	dropUnbuffered  = "buffering_off"
	dropShutdown    = "shutdown"
	dropUndecodable = "undecodable"
)

type drop struct {
	s      *snapshot
	reason string
}

func (b *buffer) len() int { return len(b.items) }

func (b *buffer) front() *snapshot {
	if len(b.items) == 0 {
		return nil
	}
	return b.items[0]
}

func (b *buffer) popFront() *snapshot {
	s := b.items[0]
	b.items[0] = nil
	b.items = b.items[1:]
	b.bytes -= s.size()
	if len(b.items) == 0 {
		b.items = nil // let the backing array go after an outage
	}
	return s
}

// replaceFront swaps the oldest snapshot for what is left of it.
func (b *buffer) replaceFront(s *snapshot) {
	b.bytes += s.size() - b.items[0].size()
	b.items[0] = s
}

// push appends s, dropping the oldest snapshots until it fits. A snapshot
// larger than the whole buffer is refused (and the others kept).
func (b *buffer) push(s *snapshot, dropped []drop) []drop {
	if b.maxBytes <= 0 {
		return append(dropped, drop{s, dropUnbuffered})
	}
	if s.size() > b.maxBytes {
		return append(dropped, drop{s, dropTooLarge})
	}
	for b.bytes+s.size() > b.maxBytes {
		dropped = append(dropped, drop{b.popFront(), dropFull})
	}
	b.items = append(b.items, s)
	b.bytes += s.size()
	return dropped
}

// expire drops snapshots whose timestamp is older than maxAge at now.
func (b *buffer) expire(now time.Time, dropped []drop) []drop {
	limit := now.Add(-b.maxAge).UnixMilli()
	for len(b.items) > 0 && b.items[0].ts < limit {
		dropped = append(dropped, drop{b.popFront(), dropTooOld})
	}
	return dropped
}

// clear drops everything.
func (b *buffer) clear(reason string, dropped []drop) []drop {
	for len(b.items) > 0 {
		dropped = append(dropped, drop{b.popFront(), reason})
	}
	return dropped
}
