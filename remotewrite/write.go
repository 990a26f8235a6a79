package remotewrite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/rwkit/rwkit/wire"
)

// Write sends one logical write and returns what was delivered.
//
// The write is split into requests of at most WithMaxRequestBytes
// uncompressed bytes and WithMaxSamplesPerRequest samples (histogram
// samples and exemplars count as samples), sent one after another, in
// order. A series with more samples than the limit, or more bytes, is cut
// into consecutive chunks, sent in order in consecutive requests, so its
// samples never arrive out of order. One sample whose series alone is over
// the byte limit (huge labels) is still sent, alone in its request, rather
// than dropped; the receiver may refuse it (413). RW 1.0 metadata rides in
// the first request, or in requests of its own when larger than the byte
// limit. RW 2.0 sizes are planned with an upper bound (symbol references
// are not known before encoding), so RW 2.0 requests stay under the limit.
// A write with no series and no metadata sends one empty request.
//
// Retries follow the remote-write specs (1.0 and 2.0, "Retries & Backoff"):
// network errors and 5xx are retried with exponential backoff and equal
// jitter up to the attempt limit (the backoff grows with every failed
// attempt since the last delivered request, across writes, so a receiver
// that stays down is not tried at the minimum again with each write); 429
// is retried too, waiting what
// Retry-After says (seconds or an HTTP date) when present. Retry-After is
// honoured as given, not shortened to the maximum backoff: waiting less than
// the receiver asked only earns another 429. Bound the whole write with ctx;
// a wait that would pass ctx's deadline is not started. Other 4xx are never
// retried: the spec says they will never succeed.
//
// On RW 2.0, a 415 Unsupported Media Type makes the client resend that
// request, and every later one, as RW 1.0 (the spec allows falling back to
// another content type on 415); the client remembers (see Version). So does
// a 2xx without any X-Prometheus-Remote-Write-*-Written header, which the
// RW 2.0 spec says senders SHOULD treat as 415: it is how an RW 1.0
// receiver that ignores Content-Type answers, having decoded the RW 2.0
// body as an empty RW 1.0 request.
//
// A refused or failed request ends the write with an *Error; requests
// after it are not sent. The returned Result is never nil and counts what
// was delivered before.
func (c *Client) Write(ctx context.Context, req *wire.WriteRequest) (*Result, error) {
	if req == nil {
		req = &wire.WriteRequest{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()

	start := c.cfg.now()
	v := c.Version()
	res := &Result{Version: v}
	defer func() { res.Duration = c.cfg.now().Sub(start) }()

	c.plan(req, v, 0, true)
	defer func() { c.written = true }()
	var total Counts
	for _, b := range c.batches {
		total.add(b.counts)
	}
	base := 0     // requests delivered before the current plan
	parts := 0    // series parts delivered
	metadata := 0 // requests delivered so far that were planned with metadata
	for bi := 0; bi < len(c.batches); bi++ {
		b := c.batches[bi]
		data, raw := c.encode(req, v, &b)
		// Sizes now: send drops c.comp when the transport still holds the
		// body, which net/http may do after RoundTrip returns (its HTTP/2
		// transport often does).
		comp := len(data)
		st := sendState{index: base + bi + 1, of: base + len(c.batches), batch: &b, total: total, res: res, rawLen: raw}
		outcome, err := c.send(ctx, v, &st, data)
		switch outcome {
		case delivered:
			res.Requests++
			res.Counts.add(b.counts)
			res.Metadata += b.metadata
			res.BytesCompressed += comp
			res.BytesUncompressed += raw
			parts += b.counts.Series
			metadata += b.metadata
		case fallback:
			c.log.Warn("remote write: receiver does not take Remote-Write 2.0; falling back to 1.0 for this and later writes",
				"url", c.redacted, "status", st.lastStatus, "reason", st.fallbackWhy)
			c.version.Store(int32(wire.V1))
			v = wire.V1
			res.Version = v
			base = res.Requests
			c.plan(req, v, parts, metadata == 0)
			bi = -1
		default:
			return res, err
		}
	}
	return res, nil
}

type outcome int

const (
	failed outcome = iota
	delivered
	fallback
)

// sendState is one request's context for errors and accounting.
type sendState struct {
	index, of   int
	batch       *batch
	total       Counts
	res         *Result
	lastStatus  int
	fallbackWhy string
	rawLen      int // the body's uncompressed length
}

// encode returns batch b's Snappy-compressed body (c.comp, or b.comp when
// plan encoded the write) and the length of its protobuf, which it encodes
// into c.raw. Series that plan found in the label cache are encoded from
// it.
func (c *Client) encode(req *wire.WriteRequest, v wire.Version, b *batch) ([]byte, int) {
	if c.encoded {
		return b.comp, b.bytes
	}
	raw := c.raw[:0]
	items := c.items[b.start:b.end]
	if v == wire.V2 {
		var part wire.TimeSeries
		c.enc.Reset()
		for i := range items {
			it := &items[i]
			ts := &req.Series[it.series]
			if !it.whole(req) {
				part = it.slice(req)
				ts = &part
			}
			if ids := c.labels.symbolIDs(int(it.series)); ids != nil {
				c.enc.AppendSeriesIDs(ts, &c.labels.syms, ids)
				continue
			}
			c.enc.AppendSeries(ts)
		}
		raw = c.enc.AppendRequest(raw)
	} else {
		for i := range items {
			it := &items[i]
			if it.md >= 0 {
				raw = wire.AppendMetadata(raw, &req.Metadata[it.md])
				continue
			}
			raw = c.appendItem(raw, req, it)
		}
	}
	c.raw = raw
	c.comp = wire.Compress(c.comp[:0], raw)
	return c.comp, len(raw)
}

// send delivers data (c.comp, or a body the caller encoded): a retry
// loop over one classified attempt, as client_golang's exp/api/remote
// Write and attemptWrite.
func (c *Client) send(ctx context.Context, v wire.Version, st *sendState, data []byte) (outcome, error) {
	body := &bodyTracker{data: data}
	defer func() {
		// A RoundTripper may close the request body after RoundTrip returns
		// (net/http documents it); if one has not, the buffer is still being
		// read: leave it to that reader and start a new one.
		if body.open.Load() != 0 && within(data, c.comp) {
			c.comp = nil
		}
	}()
	var prev *Error
	for n := 1; ; n++ {
		a := c.attempt(ctx, v, st, body, n)
		switch {
		case a.outcome != failed:
			return a.outcome, nil
		case a.cancelled != nil:
			return failed, cancelled(a.err, prev, ctx.Err(), a.cancelled)
		}
		wait, err := c.retryWait(ctx, st, a, n)
		if err != nil {
			return failed, err
		}
		if err := c.cfg.sleep(ctx, wait); err != nil {
			a.err.Err = joinCause(err, a.err.Err)
			return failed, a.err
		}
		prev = a.err
	}
}

// within reports whether data lies in buf's memory (up to its capacity).
func within(data, buf []byte) bool {
	if len(data) == 0 || cap(buf) == 0 {
		return false
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(data)))
	start := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	return p >= start && p < start+uintptr(cap(buf))
}

// attemptResult is one attempt, classified.
type attemptResult struct {
	outcome outcome
	// err describes a failed attempt.
	err *Error
	// cancelled is the transport's error when the context ended during
	// the attempt.
	cancelled error
	// retryAfter: the receiver said how long to wait (err.RetryAfter,
	// which may be 0).
	retryAfter bool
}

// attempt sends the request once and classifies the answer: delivered,
// fallback to RW 1.0, or failed.
func (c *Client) attempt(ctx context.Context, v wire.Version, st *sendState, body *bodyTracker, n int) attemptResult {
	b := st.batch
	st.res.Attempts++
	c.log.Debug("remote write request", "url", c.redacted, "request", st.index, "of", st.of, "version", v.String(),
		"series", b.counts.Series, "samples", b.counts.Samples, "bytes", len(body.data), "raw_bytes", st.rawLen, "attempt", n)
	r, err := c.do(ctx, v, body)
	e := &Error{
		URL: c.redacted, Version: v, Request: st.index, Requests: st.of,
		BytesCompressed: len(body.data), BytesUncompressed: st.rawLen,
		Counts: b.counts, Total: st.total, Delivered: st.res.Counts, DeliveredRequests: st.res.Requests,
		Attempts: n,
	}
	if err != nil {
		if ctx.Err() != nil {
			return attemptResult{err: e, cancelled: err}
		}
		e.Err = err
		e.Hint = "the request did not reach the receiver or got no answer; it was retried with backoff: check the URL, DNS, network and proxies"
		if credentialsMissing(err) {
			e.Hint = credentialsHint
		}
		return attemptResult{err: e}
	}
	st.lastStatus = r.status
	e.StatusCode, e.Status = r.status, r.statusText
	e.Body, e.BodyTruncated = r.body, r.truncated
	stats, hasWritten := wire.ParseWriteStats(r.header)
	written := Counts{Samples: stats.Samples, Histograms: stats.Histograms, Exemplars: stats.Exemplars}
	switch {
	case r.status >= 200 && r.status < 300:
		return attemptResult{outcome: c.accepted(v, st, written, hasWritten)}
	case r.status == http.StatusUnsupportedMediaType && v == wire.V2:
		st.fallbackWhy = "415 Unsupported Media Type"
		return attemptResult{outcome: fallback}
	}
	if v == wire.V2 && hasWritten {
		w := written // a copy, so that written stays on the stack when it is not kept
		e.Written = &w
	}
	e.Reason, e.Hint = Classify(r.status, r.body)
	a := attemptResult{err: e}
	if ra, ok := parseRetryAfter(r.header.Get("Retry-After"), c.cfg.now()); ok && retryableStatus(r.status) {
		e.RetryAfter, a.retryAfter = ra, true
	}
	return a
}

// accepted accounts a 2xx. On RW 2.0 the Written headers say what the
// receiver stored; a 2xx without any is an RW 1.0 receiver that read the
// body as an empty RW 1.0 request, which the RW 2.0 spec says to treat as
// a 415.
func (c *Client) accepted(v wire.Version, st *sendState, written Counts, hasWritten bool) outcome {
	if v == wire.V2 {
		if !hasWritten {
			st.fallbackWhy = "2xx without X-Prometheus-Remote-Write-*-Written headers"
			return fallback
		}
		b := st.batch
		short := shortfall(b.counts, written)
		st.res.WrittenRequests++
		st.res.Written.add(written)
		st.res.Unconfirmed.add(short)
		if short.points() > 0 {
			c.log.Warn("remote write: receiver answered 2xx but confirmed fewer samples than sent",
				"url", c.redacted, "request", st.index, "samples_sent", b.counts.Samples, "samples_written", written.Samples,
				"histograms_sent", b.counts.Histograms, "histograms_written", written.Histograms,
				"exemplars_sent", b.counts.Exemplars, "exemplars_written", written.Exemplars)
		}
	}
	c.streak = 0
	return delivered
}

// retryWait decides whether failed attempt n is retried and how long to
// wait first: what Retry-After asked for, else the backoff of the failure
// streak. An error means the write ends with it.
func (c *Client) retryWait(ctx context.Context, st *sendState, a attemptResult, n int) (time.Duration, error) {
	e := a.err
	if !e.Retryable() || n >= c.cfg.maxAttempts {
		if e.Retryable() {
			c.log.Warn("remote write: giving up", "url", c.redacted, "request", st.index, "status", e.StatusCode, "attempts", n, "err", e.Err)
		}
		return 0, e
	}
	c.streak++
	wait := e.RetryAfter
	if !a.retryAfter {
		// Never below the minimum: a jittered wait of a millisecond
		// is a second attempt at once.
		wait = max(c.cfg.jitter(c.backoff(c.streak)), c.cfg.minBackoff)
	}
	if deadline, ok := ctx.Deadline(); ok && c.cfg.now().Add(wait).After(deadline) {
		e.Err = joinCause(fmt.Errorf("waiting %s to retry would pass the context deadline: %w", wait, context.DeadlineExceeded), e.Err)
		return 0, e
	}
	c.log.Warn("remote write: retrying", "url", c.redacted, "request", st.index, "status", e.StatusCode, "reason", string(e.Reason),
		"attempt", n, "wait", wait, "err", e.Err)
	return wait, nil
}

// cancelled reports a write whose context ended during an attempt, with the
// status of the attempt before it, if any.
func cancelled(e, prev *Error, ctxErr, err error) *Error {
	if prev != nil {
		prev.Err = joinCause(ctxErr, prev.Err)
		prev.Attempts = e.Attempts
		return prev
	}
	e.Err = joinCause(ctxErr, err)
	return e
}

// joinCause wraps cause (a context error) and keeps the earlier error's
// text; errors.Is finds cause.
func joinCause(cause, earlier error) error {
	if earlier == nil || errors.Is(earlier, cause) {
		return cause
	}
	return fmt.Errorf("%w (after: %v)", cause, earlier)
}

// backoff is the exponential backoff after the failed attempts of a
// streak: minBackoff doubled per failure, capped at maxBackoff.
func (c *Client) backoff(failures int) time.Duration {
	d := c.cfg.minBackoff
	for i := 1; i < failures && d < c.cfg.maxBackoff; i++ {
		d *= 2
	}
	return min(d, c.cfg.maxBackoff)
}

type response struct {
	status     int
	statusText string
	header     http.Header
	body       string
	truncated  bool
}

// do makes one attempt.
func (c *Client) do(ctx context.Context, v wire.Version, body *bodyTracker) (*response, error) {
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, body.reader())
	if err != nil {
		return nil, fmt.Errorf("build request: %w", stripURL(err))
	}
	hreq.ContentLength = int64(len(body.data))
	hreq.GetBody = func() (io.ReadCloser, error) { return body.reader(), nil }
	for k, vs := range c.cfg.headers {
		hreq.Header[k] = append([]string(nil), vs...)
	}
	hreq.Header.Set("Content-Encoding", wire.ContentEncoding)
	hreq.Header.Set("Content-Type", v.ContentType())
	hreq.Header.Set(wire.HeaderVersion, v.HeaderValue())
	hreq.Header.Set("User-Agent", c.cfg.userAgent)

	resp, err := c.http.Do(hreq)
	if err != nil {
		return nil, stripURL(err)
	}
	defer resp.Body.Close()
	r := &response{status: resp.StatusCode, statusText: resp.Status, header: resp.Header}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		// Senders MUST ignore a 2xx body (RW 2.0 "Response"); drain a little
		// so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return r, nil
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody+1))
	if len(data) > maxErrorBody {
		data, r.truncated = data[:maxErrorBody], true
	}
	r.body = string(data)
	if err != nil && len(data) == 0 {
		// The status arrived; a body cut short is still worth reporting.
		r.body = fmt.Sprintf("(reading the body failed: %v)", stripURL(err))
	}
	return r, nil
}

// stripURL unwraps net/http's *url.Error, whose text repeats the URL with
// its query (and user name), leaving the cause. Error.URL names the
// endpoint.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// shortfall is what was sent but not confirmed written.
func shortfall(sent, written Counts) Counts {
	return Counts{
		Samples:    max(0, sent.Samples-written.Samples),
		Histograms: max(0, sent.Histograms-written.Histograms),
		Exemplars:  max(0, sent.Exemplars-written.Exemplars),
	}
}

// parseRetryAfter reads Retry-After as delay-seconds or an HTTP-date
// (RFC 9110, section 10.2.3). A date in the past means now (0, true).
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(24*time.Hour/time.Second) {
			secs = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(0, t.Sub(now)), true
}

// bodyTracker hands out readers over one request body and counts the ones
// not yet closed, so the client knows when it may reuse the buffer.
type bodyTracker struct {
	data []byte
	open atomic.Int32
}

func (t *bodyTracker) reader() io.ReadCloser {
	t.open.Add(1)
	return &trackedReader{Reader: bytes.NewReader(t.data), t: t}
}

type trackedReader struct {
	*bytes.Reader
	t    *bodyTracker
	once sync.Once
}

func (r *trackedReader) Close() error {
	r.once.Do(func() { r.t.open.Add(-1) })
	return nil
}
