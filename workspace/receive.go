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
// label to count it under ("" until the tenant is known to be valid).
func (w *Workspace) write(rw http.ResponseWriter, r *http.Request, id string) (int, string) {
	if r.Method != http.MethodPost {
		rw.Header().Set("Allow", http.MethodPost)
		return refuse(rw, http.StatusMethodNotAllowed, "method not allowed", "rwkit: remote write takes POST, got "+r.Method), ""
	}
	if err := w.db.validTenant(id); err != nil {
		return refuse(rw, http.StatusBadRequest, err.Error(), "rwkit: name the workspace with /workspaces/{id}/api/v1/remote_write or X-Scope-OrgID: {id}"), ""
	}
	version, msg, hint := parseContentType(r.Header.Get("Content-Type"))
	if msg != "" {
		return refuse(rw, http.StatusUnsupportedMediaType, msg, hint), id
	}
	if enc := r.Header.Get("Content-Encoding"); enc != "" && enc != "snappy" {
		return refuse(rw, http.StatusUnsupportedMediaType,
			fmt.Sprintf("%v encoding (compression) is not accepted by this server; only snappy is acceptable", enc),
			"rwkit: remote write bodies are Snappy block-compressed protobuf with Content-Encoding: snappy"), id
	}
	t, err := w.tenant(id)
	if err != nil {
		if errors.Is(err, ErrClosed) {
			return refuse(rw, http.StatusServiceUnavailable, "rwkit workspace is shutting down", ""), id
		}
		var tm *tooManyTenants
		if errors.As(err, &tm) {
			w.logTenantLimit(tm)
			return refuse(rw, http.StatusBadRequest, tm.Error(), tm.hint()), ""
		}
		// The error names the server's directories: the operator's log
		// gets it, the writer a sentence.
		w.log.Error("opening workspace", "workspace", id, "err", err)
		return refuse(rw, http.StatusInternalServerError, "the workspace could not open its storage; nothing of this request was stored, retry it", ""), id
	}

	// The body, bounded before anything is read: a declared length over
	// the limit is refused unread, an undeclared one is read up to the
	// limit and no further.
	if r.ContentLength > int64(w.maxBody) {
		return refuse(rw, http.StatusRequestEntityTooLarge,
			fmt.Sprintf("received message larger than max (%d vs %d)", r.ContentLength, w.maxBody),
			splitHint(w.limitNames.MaxRequestBytes)), id
	}
	compressed := getBuf()
	defer putBuf(compressed)
	body, err := readBody((*compressed)[:0], http.MaxBytesReader(rw, r.Body, int64(w.maxBody)), r.ContentLength)
	*compressed = body
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return refuse(rw, http.StatusRequestEntityTooLarge,
				fmt.Sprintf("received message larger than max (more than %d vs %d)", mbe.Limit, w.maxBody),
				splitHint(w.limitNames.MaxRequestBytes)), id
		}
		return refuse(rw, http.StatusBadRequest, err.Error(), "rwkit: reading the request body failed"), id
	}
	decoded := getBuf()
	defer putBuf(decoded)
	raw, err := wire.Decompress((*decoded)[:cap(*decoded)], body, w.maxDecoded)
	if err != nil {
		var tl *wire.TooLargeError
		if errors.As(err, &tl) {
			return refuse(rw, http.StatusRequestEntityTooLarge,
				fmt.Sprintf("received message larger than max (%d vs %d)", tl.Declared, tl.Limit),
				"rwkit: the Snappy block declares more decoded bytes than this workspace takes; split the write into smaller requests (the limit is set by "+w.limitNames.MaxDecodedBytes+")"), id
		}
		return refuse(rw, http.StatusBadRequest, "snappy: corrupt input", "rwkit: the body is not a Snappy block ("+err.Error()+"); "+notSnappyHint(body)), id
	}
	if cap(raw) > cap(*decoded) {
		*decoded = raw[:0]
	}

	req := reqPool.Get().(*wire.WriteRequest)
	defer reqPool.Put(req)
	// The strings of req are views of raw (no copy per label), which lives
	// until this function returns; what outlives the request (writers,
	// collisions, series-limit names, the TSDB's new series) is copied
	// where it is kept. The decoder refuses a body over the series or
	// decoded-memory limit before allocating for it (limits.go).
	dec := w.decoder()
	if version == wire.V2 {
		err = dec.DecodeRequestV2(raw, req)
	} else {
		err = dec.DecodeWriteRequest(raw, req)
	}
	if err != nil {
		var le *wire.LimitError
		if errors.As(err, &le) {
			msg, hint := w.overLimit(le)
			return refuse(rw, http.StatusRequestEntityTooLarge, msg, hint), id
		}
		return refuse(rw, http.StatusBadRequest, err.Error(), notProtobufHint(raw, version)), id
	}

	received := 0
	for i := range req.Series {
		received += len(req.Series[i].Samples) + len(req.Series[i].Histograms)
	}
	t.received.Add(float64(received))

	wr := requestWriter(req.Series, w.identity, r.UserAgent(), r.RemoteAddr)
	o, err := w.ingest(r.Context(), t, req, version, wr)
	if err != nil {
		if version == wire.V2 {
			setWritten(rw, counts{})
		}
		var de *diskError
		if errors.As(err, &de) {
			// The store logs the failure once and the recovery once, with
			// the count of writes refused in between; a line per write
			// would bury both.
			return refuse(rw, http.StatusServiceUnavailable, cannotWriteText, "rwkit: /-/ready answers 503 until the workspace can write again"), id
		}
		w.log.Error("storing remote write", "workspace", id, "err", err)
		return refuse(rw, http.StatusInternalServerError, "the workspace's storage failed; nothing of this request was stored, retry it", "rwkit: the server's log says why"), id
	}
	return w.respond(rw, t, &o, version, received), id
}

// respond writes the answer to an ingested request: Cortex's 200 with an
// empty body for RW 1.0 (Prometheus' 204), 204 with the Written headers for
// RW 2.0; on a refusal, the backend's status and text and then rwkit's
// lines.
func (w *Workspace) respond(rw http.ResponseWriter, t *tenant, o *outcome, v wire.Version, received int) int {
	if v == wire.V2 {
		setWritten(rw, o.written)
	}
	if o.status == 0 {
		code := http.StatusOK
		if v == wire.V2 || w.limits.Backend == validate.BackendPrometheus {
			code = http.StatusNoContent
		}
		rw.WriteHeader(code)
		return code
	}
	var b strings.Builder
	b.WriteString(o.message)
	if len(o.refused) > 0 {
		n := 0
		for _, rc := range o.refused {
			n += rc.n
		}
		fmt.Fprintf(&b, "\nrwkit: discarded %d samples:", n)
		for i, rc := range o.refused {
			if i > 0 {
				b.WriteByte(',')
			}
			name := string(rc.reason)
			if rc.reason == validate.Unknown {
				name = "other"
			}
			fmt.Fprintf(&b, " %s=%d", name, rc.n)
		}
		stored := o.written.samples + o.written.histograms
		switch {
		case stored > 0:
			fmt.Fprintf(&b, "\nrwkit: stored the other %d of %d samples (partial ingestion: the valid samples of a refused request are kept)", stored, received)
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
