package stream

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"
)

// fetcher GETs the target and hands out its body, decompressed, bounded by
// body_size_limit and ending in a newline. It keeps its gzip reader across
// scrapes.
type fetcher struct {
	req  *http.Request
	resp *http.Response
	buf  *bufio.Reader
	gz   *gzip.Reader
	body bodyReader
	ct   string // the response's Content-Type
}

func (f *fetcher) init(l *Loop) {
	f.body.limit = l.bodyLimit
	if f.body.limit <= 0 {
		f.body.limit = 1<<63 - 1
	}
}

// errBodySizeLimit is Prometheus' error text for the same condition.
var errBodySizeLimit = errors.New("body size limit exceeded")

// errNotText: the body's Content-Type is not the text format; open
// returns the body all the same, for Prometheus' parser.
var errNotText = errors.New("not the text format")

// open GETs the target. Unless anyType, a Content-Type other than the
// text format returns the body with errNotText.
func (f *fetcher) open(ctx context.Context, l *Loop, anyType bool) (io.Reader, error) {
	if f.req == nil {
		req, err := http.NewRequest(http.MethodGet, l.url, http.NoBody)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", l.accept)
		enc := "identity"
		if l.cfg.EnableCompression {
			enc = "gzip"
		}
		req.Header.Set("Accept-Encoding", enc)
		req.Header.Set("User-Agent", "rwkit-agent-stream")
		req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", strconv.FormatFloat(time.Duration(l.cfg.ScrapeTimeout).Seconds(), 'f', -1, 64))
		f.req = req
	}
	resp, err := l.client.Do(f.req.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	f.resp = resp
	if resp.StatusCode != http.StatusOK {
		f.close()
		return nil, fmt.Errorf("server returned HTTP status %s", resp.Status)
	}
	f.ct = resp.Header.Get("Content-Type")
	var r io.Reader = resp.Body
	switch ce := resp.Header.Get("Content-Encoding"); ce {
	case "", "identity":
	case "gzip":
		if r, err = f.gunzip(resp.Body); err != nil {
			f.close()
			return nil, fmt.Errorf("gzip body: %w", err)
		}
	default:
		f.close()
		return nil, fmt.Errorf("unsupported Content-Encoding %q (the stream loop reads gzip or none)", ce)
	}
	f.body.reset(r)
	if !isText(f.ct) {
		// Protobuf and OpenMetrics bodies are read as sent: no final
		// newline added.
		f.body.binary = true
		if !anyType {
			return &f.body, errNotText
		}
	}
	return &f.body, nil
}

func (f *fetcher) gunzip(body io.Reader) (io.Reader, error) {
	if f.gz == nil {
		f.buf = bufio.NewReader(body)
		gz, err := gzip.NewReader(f.buf)
		if err != nil {
			return nil, err
		}
		f.gz = gz
		return gz, nil
	}
	f.buf.Reset(body)
	if err := f.gz.Reset(f.buf); err != nil {
		return nil, err
	}
	return f.gz, nil
}

// close drains a little of what is left (so that the connection can be
// reused) and closes the response.
func (f *fetcher) close() {
	if f.resp == nil {
		return
	}
	io.Copy(io.Discard, io.LimitReader(f.resp.Body, 64<<10))
	f.resp.Body.Close()
	f.resp = nil
}

// isText says the stream parser reads a body of Content-Type ct: the
// Prometheus text format, or, as Prometheus 2.x did, no Content-Type at
// all. Anything else goes to Prometheus' parser.
func isText(ct string) bool {
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "text/plain"
}

// acceptHeader asks for the Prometheus text formats of cfg's
// scrape_protocols, in their order and with their weights and escaping
// scheme as Prometheus' acceptHeader writes them.
func acceptHeader(cfg *config.ScrapeConfig) (string, error) {
	protos := cfg.ScrapeProtocols
	if len(protos) == 0 {
		protos = config.DefaultScrapeProtocols
	}
	escaping, err := config.ToEscapingScheme(cfg.MetricNameEscapingScheme, cfg.MetricNameValidationScheme)
	if err != nil {
		return "", fmt.Errorf("metric_name_escaping_scheme: %w", err)
	}
	var vals []string
	weight := len(config.ScrapeProtocolsHeaders) + 1
	for _, p := range protos {
		val := config.ScrapeProtocolsHeaders[p]
		switch p {
		case config.PrometheusText1_0_0:
			val += ";" + model.EscapingKey + "=" + escaping.String()
		case config.PrometheusText0_0_4:
		default:
			weight--
			continue
		}
		vals = append(vals, val+";q=0."+strconv.Itoa(weight))
		weight--
	}
	if len(vals) == 0 {
		return "", fmt.Errorf("scrape_protocols %v has no Prometheus text format (PrometheusText0.0.4, PrometheusText1.0.0), the only one the stream loop parses", protos)
	}
	return strings.Join(append(vals, "*/*;q=0."+strconv.Itoa(weight)), ","), nil
}

// bodyReader counts the body's bytes, refuses more than limit (as
// Prometheus: a body of limit bytes or more fails the scrape) and adds
// the final newline a body may lack, which Prometheus' parser adds too.
// It keeps the first read error, so that a failed read is told apart from
// a parse error.
type bodyReader struct {
	r       io.Reader
	limit   int64
	n       int64
	last    byte
	newline bool // the body ended without a newline: one is due
	eof     bool
	err     error
	// binary: not the text format; read as is.
	binary bool
	// keep, when set, gets a copy of every byte read (see Loop.suspect).
	keep *[]byte
}

func (b *bodyReader) reset(r io.Reader) {
	*b = bodyReader{r: r, limit: b.limit, keep: b.keep}
	if b.keep != nil {
		*b.keep = (*b.keep)[:0]
	}
}

func (b *bodyReader) Read(p []byte) (int, error) {
	switch {
	case b.err != nil:
		return 0, b.err
	case b.eof:
		return 0, io.EOF
	case len(p) == 0:
		return 0, nil
	case b.newline:
		p[0], b.newline, b.eof = '\n', false, true
		b.tee(p[:1])
		return 1, nil
	}
	if rest := b.limit - b.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := b.r.Read(p)
	b.tee(p[:n])
	if n > 0 {
		b.n += int64(n)
		b.last = p[n-1]
	}
	switch {
	case b.n >= b.limit:
		b.err = errBodySizeLimit
		return n, b.err
	case err == io.EOF:
		b.newline = b.n > 0 && b.last != '\n' && !b.binary
		b.eof = !b.newline
		return n, nil
	case err != nil:
		b.err = err
		return n, err
	}
	return n, nil
}

func (b *bodyReader) tee(p []byte) {
	if b.keep != nil {
		*b.keep = append(*b.keep, p...)
	}
}
