package wire

import (
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// The protocol's HTTP face, declared once for senders (remotewrite) and
// receivers (workspace), as client_golang's exp/api/remote/remote_headers.go
// does. See https://prometheus.io/docs/specs/prw/remote_write_spec_2_0/#protocol.
const (
	// MediaType is the media type of every remote-write body.
	MediaType = "application/x-protobuf"
	// ProtoV1 and ProtoV2 are the proto parameter values of Content-Type
	// that name the message of each version.
	ProtoV1 = "prometheus.WriteRequest"
	ProtoV2 = "io.prometheus.write.v2.Request"

	// ContentEncoding is the Content-Encoding of every body: Snappy's
	// block format (Compress), not its framed stream.
	ContentEncoding = "snappy"

	// HeaderVersion is the request header that carries HeaderValue.
	HeaderVersion = "X-Prometheus-Remote-Write-Version"

	// RW 2.0 response headers ("Required Written Response Headers"): how
	// many of each element the receiver wrote.
	HeaderSamplesWritten    = "X-Prometheus-Remote-Write-Samples-Written"
	HeaderHistogramsWritten = "X-Prometheus-Remote-Write-Histograms-Written"
	HeaderExemplarsWritten  = "X-Prometheus-Remote-Write-Exemplars-Written"
)

// ContentType is the Content-Type header of a request body of version v.
func (v Version) ContentType() string {
	if v == V2 {
		return MediaType + ";proto=" + ProtoV2
	}
	return MediaType
}

// HeaderValue is the X-Prometheus-Remote-Write-Version header value.
func (v Version) HeaderValue() string {
	if v == V2 {
		return "2.0.0"
	}
	return "0.1.0"
}

// ContentTypeError is a Content-Type that names no remote-write message.
// Its text is that of client_golang's remote.ParseProtoMsg, which Cortex and
// Prometheus answer with 415, so a receiver built on this package answers
// in the same words.
type ContentTypeError struct {
	ContentType string
	// Loose is set when the media type is application/x-protobuf written
	// in a form that the byte-for-byte comparison receivers make refuses
	// (other case, spaces around ';').
	Loose bool
	msg   string
}

func (e *ContentTypeError) Error() string { return e.msg }

// ParseContentType returns the version a Content-Type header names, as
// client_golang's remote.ParseProtoMsg decides it: no Content-Type means
// RW 1.0; the media type must be application/x-protobuf exactly; a proto
// parameter picks the message, and without one it is RW 1.0. Anything else
// is a *ContentTypeError.
func ParseContentType(ct string) (Version, error) {
	ct = strings.TrimSpace(ct)
	if ct == "" {
		return V1, nil
	}
	parts := strings.Split(ct, ";")
	if parts[0] != MediaType {
		mt, _, err := mime.ParseMediaType(ct)
		return 0, &ContentTypeError{ContentType: ct, Loose: err == nil && mt == MediaType,
			msg: fmt.Sprintf("expected %v as the first (media) part, got %v content-type", MediaType, ct)}
	}
	for _, p := range parts[1:] {
		pair := strings.Split(p, "=")
		if len(pair) != 2 {
			return 0, &ContentTypeError{ContentType: ct,
				msg: fmt.Sprintf("as per https://www.rfc-editor.org/rfc/rfc9110#parameter expected parameters to be key-values, got %v in %v content-type", p, ct)}
		}
		if pair[0] == "proto" {
			switch pair[1] {
			case ProtoV1:
				return V1, nil
			case ProtoV2:
				return V2, nil
			}
			return 0, &ContentTypeError{ContentType: ct,
				msg: fmt.Sprintf("got %v content type; unknown type for remote write protobuf message %v, supported: %v", ct, pair[1], ProtoV1+", "+ProtoV2)}
		}
	}
	return V1, nil
}

// WriteStats is what an RW 2.0 receiver reports it wrote, in the
// X-Prometheus-Remote-Write-*-Written response headers.
type WriteStats struct {
	Samples, Histograms, Exemplars int
}

// SetHeaders sets the three Written headers of a response.
func (s WriteStats) SetHeaders(h http.Header) {
	h.Set(HeaderSamplesWritten, strconv.Itoa(s.Samples))
	h.Set(HeaderHistogramsWritten, strconv.Itoa(s.Histograms))
	h.Set(HeaderExemplarsWritten, strconv.Itoa(s.Exemplars))
}

// ParseWriteStats reads the Written headers of a response. ok is false
// when none is present (or none parses): the RW 2.0 spec says a sender
// SHOULD then assume the receiver does not speak RW 2.0. A missing or
// unparsable header counts 0: "Upon receiving a 2xx or a 4xx status code,
// Senders CAN assume that any missing X-Prometheus-Remote-Write-*-Written
// response header means no element from this category (e.g. Sample) was
// written by the Receiver (count of 0)."
func ParseWriteStats(h http.Header) (s WriteStats, ok bool) {
	for _, f := range []struct {
		name string
		dst  *int
	}{
		{HeaderSamplesWritten, &s.Samples},
		{HeaderHistogramsWritten, &s.Histograms},
		{HeaderExemplarsWritten, &s.Exemplars},
	} {
		v := h.Get(f.name)
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			continue
		}
		*f.dst = int(n)
		ok = true
	}
	return s, ok
}
