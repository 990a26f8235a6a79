package remotewrite

import (
	"context"
	"fmt"

	"github.com/rwkit/rwkit/wire"
)

// Encoded is one request body encoded by the caller: an RW 1.0
// prometheus.WriteRequest (wire.AppendWriteRequest) of RawLen bytes,
// Snappy-compressed (wire.Compress) into Body, holding Counts (series,
// samples, histograms and exemplars, for the Result and errors).
type Encoded struct {
	Body   []byte
	RawLen int
	Counts Counts
}

// Limits are the client's bounds on one request: WithMaxRequestBytes
// (uncompressed) and WithMaxSamplesPerRequest (samples, histogram samples
// and exemplars). A caller that encodes its own requests (WriteEncoded)
// keeps to them, as Write's split does.
func (c *Client) Limits() (maxBytes, maxSamples int) { return c.cfg.maxBytes, c.cfg.maxSamples }

// WriteEncoded sends e as one request, with Write's retries, backoff and
// classification of the answer, and returns what was delivered. It sends
// RW 1.0 only: a client on RW 2.0 refuses it (encode with Write then).
// e.Body is only read, and may still be read by the transport after
// WriteEncoded returns when net/http keeps it (as Write's own bodies):
// do not change it afterwards.
func (c *Client) WriteEncoded(ctx context.Context, e Encoded) (*Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	start := c.cfg.now()
	v := c.Version()
	res := &Result{Version: v}
	defer func() { res.Duration = c.cfg.now().Sub(start) }()
	if v != wire.V1 {
		return res, fmt.Errorf("remote write: WriteEncoded sends RW 1.0 bodies; this client sends %s", v)
	}
	defer func() { c.written = true }()
	b := batch{bytes: e.RawLen, counts: e.Counts}
	st := sendState{index: 1, of: 1, batch: &b, total: e.Counts, res: res, rawLen: e.RawLen}
	outcome, err := c.send(ctx, v, &st, e.Body)
	if outcome != delivered {
		return res, err
	}
	res.Requests++
	res.Counts.add(e.Counts)
	res.BytesCompressed += len(e.Body)
	res.BytesUncompressed += e.RawLen
	return res, nil
}
