package workspace

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
	"github.com/rwkit/rwkit/workspace/store"
)

// pooledBufferMax: buffers larger than this are not kept for reuse, so one
// huge request does not pin its memory.
const pooledBufferMax = 4 << 20

var (
	bufPool = sync.Pool{New: func() any { return new([]byte) }}
	reqPool = sync.Pool{New: func() any { return new(wire.WriteRequest) }}
)

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) <= pooledBufferMax {
		*b = (*b)[:0]
		bufPool.Put(b)
	}
}

// serveWrite answers one remote write and counts it.
func (w *Workspace) serveWrite(rw http.ResponseWriter, r *http.Request, id string) {
	start := time.Now()
	var code int
	var label string
	if w.writes.acquire() {
		code, label = w.write(rw, r, id)
		w.writes.release()
	} else {
		code = w.refuseBusy(rw)
	}
	c := strconv.Itoa(code)
	w.metrics.requests.WithLabelValues(label, c).Inc()
	w.metrics.duration.WithLabelValues(c).Observe(time.Since(start).Seconds())
}

// write answers one remote write; it returns the status and the workspace
// label to count it under ("" until the tenant is known to be valid). Its
// steps: the headers, the tenant, readRequest (the body), ingest, and the
// answer.
func (w *Workspace) write(rw http.ResponseWriter, r *http.Request, id string) (int, string) {
	if r.Method != http.MethodPost {
		rw.Header().Set("Allow", http.MethodPost)
		return refuse(rw, http.StatusMethodNotAllowed, "method not allowed", "rwkit: remote write takes POST, got "+r.Method), ""
	}
	if w.cfg.upstream != nil {
		return w.writeThrough(rw, r, id) // upstream.go
	}
	if err := store.ValidateTenantID(id); err != nil {
		return refuse(rw, http.StatusBadRequest, err.Error(), "rwkit: name the workspace with /workspaces/{id}/api/v1/remote_write or X-Scope-OrgID: {id}"), ""
	}
	version, rf := readHeaders(r.Header)
	if rf != nil {
		return rf.answer(rw), id
	}
	t, err := w.tenant(id)
	if err != nil {
		rf, label := w.tenantRefusal(id, err)
		return rf.answer(rw), label
	}
	rd := getReading()
	defer rd.release()
	if rf := w.readRequest(rd, http.MaxBytesReader(rw, r.Body, int64(w.cfg.maxBody)), r.ContentLength, version); rf != nil {
		return rf.answer(rw), id
	}
	req := rd.req
	received := requestCounts(req).data()
	t.received.Add(float64(received))

	wr := requestWriter(req.Series, w.cfg.identity, r.UserAgent(), r.RemoteAddr)
	o, err := w.ingest(r.Context(), t, req, version, wr)
	if err != nil {
		if version == wire.V2 {
			setWritten(rw, counts{})
		}
		return w.storageFailed(id, err).answer(rw), id
	}
	return w.respond(rw, t, &o, version, received), id
}

// refusal is a request refused before its samples reached the store: the
// status, the backend's text and rwkit's line.
type refusal struct {
	status    int
	msg, hint string
}

func (f *refusal) answer(rw http.ResponseWriter) int { return refuse(rw, f.status, f.msg, f.hint) }

// readHeaders returns the protocol version of a write, or the refusal of
// a Content-Type or Content-Encoding the backends refuse.
func readHeaders(h http.Header) (wire.Version, *refusal) {
	version, msg, hint := parseContentType(h.Get("Content-Type"))
	if msg != "" {
		return 0, &refusal{http.StatusUnsupportedMediaType, msg, hint}
	}
	if enc := h.Get("Content-Encoding"); enc != "" && enc != "snappy" {
		return 0, &refusal{http.StatusUnsupportedMediaType,
			fmt.Sprintf("%v encoding (compression) is not accepted by this server; only snappy is acceptable", enc),
			"rwkit: remote write bodies are Snappy block-compressed protobuf with Content-Encoding: snappy"}
	}
	return version, nil
}

// tenantRefusal answers a tenant that could not be opened, and the label
// to count the request under.
func (w *Workspace) tenantRefusal(id string, err error) (*refusal, string) {
	if errors.Is(err, ErrClosed) {
		return &refusal{http.StatusServiceUnavailable, "rwkit workspace is shutting down", ""}, id
	}
	var tm *tooManyTenants
	if errors.As(err, &tm) {
		w.logTenantLimit(tm)
		return &refusal{http.StatusBadRequest, tm.Error(), tm.hint()}, ""
	}
	// The error names the server's directories: the operator's log gets
	// it, the writer a sentence.
	w.cfg.logger.Error("opening workspace", "workspace", id, "err", err)
	return &refusal{http.StatusInternalServerError, "the workspace could not open its storage; nothing of this request was stored, retry it", ""}, id
}

// cannotWriteText answers a write refused because the tenant cannot write
// to its disk, without the server's paths (the store logs those).
const cannotWriteText = "the workspace cannot write to its disk; nothing of this request was stored, retry it"

// storageFailed answers a write the store failed: nothing of it was stored.
func (w *Workspace) storageFailed(id string, err error) *refusal {
	if errors.Is(err, store.ErrCannotWrite) {
		// The store logs the failure once and the recovery once, with the
		// count of writes refused in between; a line per write would bury
		// both.
		return &refusal{http.StatusServiceUnavailable, cannotWriteText, "rwkit: /-/ready answers 503 until the workspace can write again"}
	}
	w.cfg.logger.Error("storing remote write", "workspace", id, "err", err)
	return &refusal{http.StatusInternalServerError, "the workspace's storage failed; nothing of this request was stored, retry it", "rwkit: the server's log says why"}
}

// reading holds the buffers of one request. The strings of req are views
// of decoded (no copy per label), so it is released only once the request
// is answered; what outlives the request (writers, collisions,
// series-limit names, the TSDB's new series) is copied where it is kept.
type reading struct {
	compressed, decoded *[]byte
	req                 *wire.WriteRequest
}

func getReading() *reading {
	return &reading{compressed: getBuf(), decoded: getBuf(), req: reqPool.Get().(*wire.WriteRequest)}
}

func (rd *reading) release() {
	reqPool.Put(rd.req)
	putBuf(rd.decoded)
	putBuf(rd.compressed)
}

// readRequest reads one remote-write body of the given version into
// rd.req, within the workspace's limits, or returns the backend's refusal.
// It knows nothing of HTTP but the *http.MaxBytesError that body returns
// past the limit (http.MaxBytesReader, which also closes the connection):
// body is bounded before anything is read, a declared length over the
// limit refused unread, an undeclared one read up to the limit and no
// further.
func (w *Workspace) readRequest(rd *reading, body io.Reader, declared int64, version wire.Version) *refusal {
	if declared > int64(w.cfg.maxBody) {
		return &refusal{http.StatusRequestEntityTooLarge,
			fmt.Sprintf("received message larger than max (%d vs %d)", declared, w.cfg.maxBody),
			splitHint(w.cfg.limitNames.MaxRequestBytes)}
	}
	compressed, err := readBody((*rd.compressed)[:0], body, declared)
	*rd.compressed = compressed
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &refusal{http.StatusRequestEntityTooLarge,
				fmt.Sprintf("received message larger than max (more than %d vs %d)", mbe.Limit, w.cfg.maxBody),
				splitHint(w.cfg.limitNames.MaxRequestBytes)}
		}
		return &refusal{http.StatusBadRequest, err.Error(), "rwkit: reading the request body failed"}
	}
	raw, err := wire.Decompress((*rd.decoded)[:cap(*rd.decoded)], compressed, w.cfg.maxDecoded)
	if err != nil {
		var tl *wire.TooLargeError
		if errors.As(err, &tl) {
			return &refusal{http.StatusRequestEntityTooLarge,
				fmt.Sprintf("received message larger than max (%d vs %d)", tl.Declared, tl.Limit),
				"rwkit: the Snappy block declares more decoded bytes than this workspace takes; split the write into smaller requests (the limit is set by " + w.cfg.limitNames.MaxDecodedBytes + ")"}
		}
		return &refusal{http.StatusBadRequest, "snappy: corrupt input", "rwkit: the body is not a Snappy block (" + err.Error() + "); " + notSnappyHint(compressed)}
	}
	if cap(raw) > cap(*rd.decoded) {
		*rd.decoded = raw[:0]
	}
	// The decoder refuses a body over the series or decoded-memory limit
	// before allocating for it (limits.go).
	dec := w.decoder()
	if version == wire.V2 {
		err = dec.DecodeRequestV2(raw, rd.req)
	} else {
		err = dec.DecodeWriteRequest(raw, rd.req)
	}
	if err != nil {
		var le *wire.LimitError
		if errors.As(err, &le) {
			msg, hint := w.overLimit(le)
			return &refusal{http.StatusRequestEntityTooLarge, msg, hint}
		}
		return &refusal{http.StatusBadRequest, err.Error(), notProtobufHint(raw, version)}
	}
	return nil
}

// respond writes the answer to an ingested request: Cortex's 200 with an
// empty body for RW 1.0 (Prometheus' 204), 204 with the Written headers for
// RW 2.0; on a refusal, the backend's status and text and then rwkit's
// lines.
func (w *Workspace) respond(rw http.ResponseWriter, t *tenant, o *outcome, v wire.Version, received int) int {
	if v == wire.V2 {
		setWritten(rw, o.written)
	}
	if len(o.dropped) > 0 {
		rw.Header().Set(DroppedHeader, countsText(o.dropped))
	}
	if o.status == 0 {
		code := w.policy.acceptedV1
		if v == wire.V2 {
			code = http.StatusNoContent
		}
		rw.WriteHeader(code)
		return code
	}
	var b strings.Builder
	b.WriteString(o.message)
	n := 0
	for _, rc := range o.refused {
		n += rc.n
	}
	if len(o.refused) > 0 {
		fmt.Fprintf(&b, "\nrwkit: discarded %d samples: %s", n, reasonsText(o.refused))
	}
	if len(o.dropped) > 0 {
		fmt.Fprintf(&b, "\nrwkit: dropped %s without a word, as the backend does (the earlier sample of the request is kept; header %s)", countsText(o.dropped), DroppedHeader)
	}
	if len(o.refused) > 0 || o.refusedWhole > 0 {
		stored := o.written.samples + o.written.histograms
		switch {
		case stored > 0:
			fmt.Fprintf(&b, "\nrwkit: stored the other %d of %d samples (partial ingestion: the valid samples of a refused request are kept)", stored, received)
		case o.refusedWhole > 0:
			fmt.Fprintf(&b, "\nrwkit: stored none of the %d samples (the request is refused as a whole: %d valid samples not stored)", received, o.refusedWhole)
		case received > n:
			fmt.Fprintf(&b, "\nrwkit: stored none of the %d samples", received)
		}
	}
	for _, n := range o.notes {
		b.WriteByte('\n')
		b.WriteString(n)
	}
	if o.hidden > 0 {
		fmt.Fprintf(&b, "\nrwkit: ... %d more refusals like these", o.hidden)
	}
	if o.collisions {
		fmt.Fprintf(&b, "\nrwkit: every collision with both writers: GET /workspaces/%s/api/v1/collisions", t.id)
	}
	return refuse(rw, o.status, b.String(), "")
}

// DroppedHeader is set on an answer to a request of which samples were
// accepted and dropped without a word, as the modelled backend does
// (Cortex: a second value for one series and timestamp, or an older
// sample, in the same request): the count and the reasons, e.g.
// "2 (new-value-for-timestamp=1, sample-out-of-order=1)". WithStrict
// refuses them instead.
const DroppedHeader = "X-Rwkit-Dropped"

// countsText is "N (reason=n, ...)".
func countsText(cs []reasonCount) string {
	n := 0
	for _, rc := range cs {
		n += rc.n
	}
	return fmt.Sprintf("%d (%s)", n, reasonsText(cs))
}

// reasonsText is "reason=n, ...".
func reasonsText(cs []reasonCount) string {
	var b strings.Builder
	for i, rc := range cs {
		if i > 0 {
			b.WriteString(", ")
		}
		name := string(rc.reason)
		if rc.reason == validate.Unknown {
			name = "other"
		}
		fmt.Fprintf(&b, "%s=%d", name, rc.n)
	}
	return b.String()
}

func setWritten(rw http.ResponseWriter, c counts) {
	wire.WriteStats{Samples: c.samples, Histograms: c.histograms, Exemplars: c.exemplars}.SetHeaders(rw.Header())
}

// refuse answers status with the backend's text and, on a line of its
// own, rwkit's explanation.
func refuse(rw http.ResponseWriter, status int, msg, hint string) int {
	if hint != "" {
		msg += "\n" + hint
	}
	http.Error(rw, capLines(msg), status)
	return status
}

// parseContentType returns the version Content-Type names (wire.ParseContentType,
// as Cortex and Prometheus decide it), or a 415 text and rwkit's hint.
func parseContentType(ct string) (wire.Version, string, string) {
	v, err := wire.ParseContentType(ct)
	if err == nil {
		return v, "", ""
	}
	hint := "rwkit: send Content-Type: " + wire.V1.ContentType() + " (RW 1.0) or " + wire.V2.ContentType() + " (RW 2.0)"
	if cte, ok := err.(*wire.ContentTypeError); ok && cte.Loose {
		hint = "rwkit: write the media type exactly as application/x-protobuf, without spaces around ';'"
	}
	return 0, err.Error(), hint
}

// readBody reads all of r into dst, growing it once to the declared length.
func readBody(dst []byte, r io.Reader, declared int64) ([]byte, error) {
	if declared > 0 && int64(cap(dst)) < declared+1 {
		dst = make([]byte, 0, declared+1)
	}
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

var framedSnappyMagic = []byte("\xff\x06\x00\x00sNaPpY")

func notSnappyHint(body []byte) string {
	switch {
	case len(body) == 0:
		return "the body is empty; an empty write is the Snappy block of zero bytes (a single 0x00 byte)"
	case bytes.HasPrefix(body, framedSnappyMagic):
		return "it is a framed Snappy stream; remote write uses the block format (snappy.Encode, not snappy.NewWriter)"
	case len(body) > 2 && body[0] == 0x1f && body[1] == 0x8b:
		return "it is gzip; remote write uses Snappy block compression"
	}
	if _, err := wire.DetectVersion(body); err == nil {
		return "it looks like uncompressed protobuf; compress it with Snappy (block format) and send Content-Encoding: snappy"
	}
	return "remote write bodies are Snappy block-compressed protobuf"
}

func notProtobufHint(raw []byte, v wire.Version) string {
	want := "RW 1.0 prometheus.WriteRequest"
	if v == wire.V2 {
		want = "RW 2.0 io.prometheus.write.v2.Request"
	}
	hint := "rwkit: the body is valid Snappy but not a valid " + want + " protobuf (Content-Type says which message to expect)"
	if got, err := wire.DetectVersion(raw); err == nil && got != v {
		hint += "; it looks like RW " + got.String() + ": set Content-Type: " + got.ContentType()
	}
	return hint
}
