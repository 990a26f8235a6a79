// Package scrape fetches and parses Prometheus expositions: the /metrics
// endpoint of a process (Prometheus text format, OpenMetrics 1.0, or
// delimited protobuf, chosen by the server's Content-Type) or a captured
// file, for one-shot readers: rwkit push --scrape, collide, discards. The
// agent does not use it: it scrapes with Prometheus' own scrape loop and
// parsers (package agent), which give up, staleness and Prometheus'
// tolerance for odd bodies; this package must stay in the push library's
// import graph, which Prometheus' server code may not enter.
//
//	fams, err := scrape.Fetch(ctx, http.DefaultClient, "http://127.0.0.1:8080/metrics")
//	// fams are sorted by name, ready for gather.Convert.
//
// TextParser reads the text format in a stream instead, one sample line at
// a time from reused buffers, with no MetricFamily tree: it accepts and
// refuses what Parse does (a port of expfmt's parser, checked against it by
// a differential test and a fuzz target). gather.StreamText converts its
// samples, for rwkit push and collide, and agent/stream scrapes with it;
// Body and FetchBody give it a body
// it can read twice, and IsText says when a body is in its format.
package scrape

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/protobuf/proto"
)

// MaxBodyBytes bounds what Fetch and Parse read: an exposition larger than
// this is refused with an error rather than read into memory.
const MaxBodyBytes = 128 << 20

// Accept is the Accept header Fetch sends: protobuf first (it carries native
// histograms and exemplars), then OpenMetrics, then the text format, as
// Prometheus itself negotiates.
const Accept = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7," +
	"application/openmetrics-text;version=1.0.0;q=0.5," +
	"text/plain;version=0.0.4;q=0.3,*/*;q=0.1"

// Fetch GETs url and parses the exposition it serves. A non-2xx status is an
// error that includes the start of the body.
func Fetch(ctx context.Context, client *http.Client, url string) ([]*dto.MetricFamily, error) {
	body, contentType, err := FetchBody(ctx, client, url)
	if err != nil {
		return nil, err
	}
	fams, err := Parse(bytes.NewReader(body), contentType)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	return fams, nil
}

// FetchBody GETs url as Fetch does and returns the body, at most
// MaxBodyBytes, and its Content-Type, unparsed: for a reader that parses
// the body in a stream (IsText says when it may).
func FetchBody(ctx context.Context, client *http.Client, url string) ([]byte, string, error) {
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, "", fmt.Errorf("scrape %s: %w", url, err)
	}
	req.Header.Set("Accept", Accept)
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("scrape: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, "", fmt.Errorf("scrape %s: status %s: %q", url, resp.Status, bytes.TrimSpace(snippet))
	}
	body, err := readBody(resp.Body)
	if err != nil {
		return nil, "", fmt.Errorf("scrape %s: %w", url, err)
	}
	return body, resp.Header.Get("Content-Type"), nil
}

// readBody reads an exposition whole, refusing one over MaxBodyBytes.
func readBody(r io.Reader) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, MaxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read exposition: %w", err)
	}
	if len(body) > MaxBodyBytes {
		return nil, fmt.Errorf("exposition is larger than %d bytes", MaxBodyBytes)
	}
	return body, nil
}

// Parse decodes an exposition. contentType selects the format as a server's
// Content-Type header would; when it is empty or unknown the format is
// sniffed: OpenMetrics when the input ends with "# EOF", else the text
// format. The families are returned sorted by name.
func Parse(r io.Reader, contentType string) ([]*dto.MetricFamily, error) {
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	format, err := formatOf(contentType, bytes.NewReader(body), int64(len(body)))
	if err != nil {
		return nil, fmt.Errorf("read exposition: %w", err)
	}
	var fams []*dto.MetricFamily
	if format.FormatType() == expfmt.TypeProtoDelim {
		if fams, err = parseProtoDelim(body); err != nil {
			return nil, fmt.Errorf("parse exposition (%s): %w", format, err)
		}
		sortFamilies(fams)
		return fams, nil
	}
	return decode(body, format)
}

// decode reads the text formats with prometheus/common's decoder. That
// parser panics on some bodies (a summary's _sum line written with its
// name inside the braces after another family's line, for one); the panic
// is returned as an error naming the parser.
func decode(body []byte, format expfmt.Format) (fams []*dto.MetricFamily, err error) {
	defer func() {
		if v := recover(); v != nil {
			fams, err = nil, fmt.Errorf("parse exposition (%s): prometheus/common's parser panicked on this body (%v): rwkit cannot read it", format, v)
		}
	}()
	dec := expfmt.NewDecoder(bytes.NewReader(body), format)
	for {
		mf := new(dto.MetricFamily)
		err := dec.Decode(mf)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("parse exposition (%s): %w", format, err)
		}
		fams = append(fams, mf)
	}
	sortFamilies(fams)
	return fams, nil
}

func sortFamilies(fams []*dto.MetricFamily) {
	sort.SliceStable(fams, func(i, j int) bool { return fams[i].GetName() < fams[j].GetName() })
}

// parseProtoDelim decodes length-delimited MetricFamily messages. It does
// not use expfmt's protobuf decoder: that one allocates whatever length a
// message declares (no size limit), so a corrupt body can exhaust memory.
// Here a declared length must fit in what is left of the body.
func parseProtoDelim(body []byte) ([]*dto.MetricFamily, error) {
	var fams []*dto.MetricFamily
	for off := 0; off < len(body); {
		n, w := binary.Uvarint(body[off:])
		if w <= 0 {
			return nil, fmt.Errorf("family %d at byte %d: bad length prefix", len(fams), off)
		}
		off += w
		if n > uint64(len(body)-off) {
			return nil, fmt.Errorf("family %d at byte %d: declared length %d exceeds the %d bytes left", len(fams), off, n, len(body)-off)
		}
		mf := new(dto.MetricFamily)
		if err := proto.Unmarshal(body[off:off+int(n)], mf); err != nil {
			return nil, fmt.Errorf("family %d at byte %d: %w", len(fams), off, err)
		}
		off += int(n)
		if err := validateFamily(mf); err != nil {
			return nil, err
		}
		fams = append(fams, mf)
	}
	return fams, nil
}

func validateFamily(mf *dto.MetricFamily) error {
	if !model.UTF8Validation.IsValidMetricName(mf.GetName()) {
		return fmt.Errorf("invalid metric name %q", mf.GetName())
	}
	for _, m := range mf.GetMetric() {
		for _, l := range m.GetLabel() {
			if !model.UTF8Validation.IsValidLabelName(l.GetName()) {
				return fmt.Errorf("family %q: invalid label name %q", mf.GetName(), l.GetName())
			}
			if !model.LabelValue(l.GetValue()).IsValid() {
				return fmt.Errorf("family %q: label %q: value is not valid UTF-8", mf.GetName(), l.GetName())
			}
		}
	}
	return nil
}

// IsText reports whether Parse reads the size bytes of body, served with
// contentType ("" for a file), as the Prometheus text format (0.0.4), the
// format TextParser reads. It reads only the start and the end of body.
func IsText(body io.ReaderAt, size int64, contentType string) (bool, error) {
	f, err := formatOf(contentType, body, size)
	return f.FormatType() == expfmt.TypeTextPlain, err
}

// formatOf is the format Parse reads body in: contentType's, else sniffed.
func formatOf(contentType string, body io.ReaderAt, size int64) (expfmt.Format, error) {
	if contentType != "" {
		h := http.Header{}
		h.Set("Content-Type", contentType)
		if f := expfmt.ResponseFormat(h); f != expfmt.FmtUnknown {
			return f, nil
		}
	}
	return sniff(body, size)
}

// sniff tells the format of a body without a known Content-Type:
// OpenMetrics when it ends with "# EOF" (trailing blanks aside), else
// delimited protobuf when its first 4 KiB are not text, else the text
// format.
func sniff(body io.ReaderAt, size int64) (expfmt.Format, error) {
	eof, err := endsWithEOF(body, size)
	if err != nil {
		return expfmt.FmtUnknown, err
	}
	if eof {
		return expfmt.NewFormat(expfmt.TypeOpenMetrics), nil
	}
	// A text exposition is line-oriented UTF-8; anything else is most likely
	// a delimited protobuf body saved from a scrape.
	head := make([]byte, min(size, 4096))
	if _, err := body.ReadAt(head, 0); err != nil && !errors.Is(err, io.EOF) {
		return expfmt.FmtUnknown, err
	}
	if size > 0 && !isText(head) {
		return expfmt.NewFormat(expfmt.TypeProtoDelim), nil
	}
	return expfmt.NewFormat(expfmt.TypeTextPlain), nil
}

// endsWithEOF reports whether body, trailing blanks trimmed, ends with
// "# EOF": it reads the end of body, and further back while it is blank.
func endsWithEOF(body io.ReaderAt, size int64) (bool, error) {
	for n := int64(4096); ; n *= 4 {
		n = min(n, size)
		tail := make([]byte, n)
		if _, err := body.ReadAt(tail, size-n); err != nil && !errors.Is(err, io.EOF) {
			return false, err
		}
		trimmed := bytes.TrimRight(tail, " \t\r\n")
		if len(trimmed) >= len("# EOF") || n == size {
			return bytes.HasSuffix(trimmed, []byte("# EOF")), nil
		}
	}
}

func isText(body []byte) bool {
	sc := bufio.NewScanner(bytes.NewReader(body[:min(len(body), 4096)]))
	sc.Buffer(make([]byte, 4096), 4096)
	for sc.Scan() {
		for _, c := range sc.Bytes() {
			if c < 0x20 && c != '\t' {
				return false
			}
		}
	}
	return true
}
