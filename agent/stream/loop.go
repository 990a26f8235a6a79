package stream

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"sync"
	"time"

	config_util "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
	promscrape "github.com/prometheus/prometheus/scrape"

	"github.com/rwkit/rwkit/internal/redact"
	"github.com/rwkit/rwkit/scrape"
)

// Output takes each scrape's samples once the scrape is over, as encoded
// RW 1.0 requests of at most WithWriteSeries series each, in the order
// they were scraped (stale markers and report series last): body is a
// prometheus.WriteRequest protobuf message, not compressed, whose series
// each carry one sample. Write must copy what it keeps (body is reused by
// the next call) and must not block on the network.
type Output interface {
	Write(body []byte, samples int) error
}

// Loop scrapes one target and writes each scrape to its Output. Scrape
// may be called from several goroutines: scrapes of one Loop take turns.
type Loop struct {
	cfg    *config.ScrapeConfig
	url    string
	client *http.Client
	out    Output
	now    func() time.Time

	accept       string
	bodyLimit    int64
	sampleLimit  int
	scheme       model.ValidationScheme
	target       []labels.Label // the target's labels, without the reserved __ ones
	external     []labels.Label
	writeRelabel []*relabel.Config
	onReport     func(Report)
	writeSeries  int    // series per Output.Write
	hash, seed   uint64 // the target's hash and the offset seed (Offset)

	mu     sync.Mutex // one scrape at a time; guards everything below
	fetch  fetcher
	parser *scrape.TextParser
	c      cache
	body   []byte // the request being encoded for the Output
	// prom: the target's bodies go to Prometheus' parser, since one that
	// the stream parser failed or that was not the text format was
	// parsed by it; whole holds such a body, read whole.
	prom  bool
	whole []byte
	// suspect: the stream parser failed the target's last body, which
	// was fetched a second time for Prometheus' parser. Its bodies are
	// then kept as read (in whole) until one parses, so that a target
	// whose bodies keep failing is not asked twice a scrape; one that
	// parses is read without a copy.
	suspect bool
	ps      scrape.TextSample
	pl      labels.Labels
}

// Option configures a Loop.
type Option func(*Loop)

// WithExternalLabels adds the global external_labels to every series that
// lacks them, as a remote_write queue does.
func WithExternalLabels(ls labels.Labels) Option {
	return func(l *Loop) {
		l.external = l.external[:0]
		ls.Range(func(lb labels.Label) { l.external = append(l.external, lb) })
	}
}

// WithWriteRelabel applies a remote_write's write_relabel_configs after the
// external labels; a series they drop is scraped (and counted) but not
// written.
func WithWriteRelabel(rc []*relabel.Config) Option {
	return func(l *Loop) { l.writeRelabel = rc }
}

// WithReport has f take each scrape's Report before the Output takes
// its request: counts made from it are in place when the series arrive.
func WithReport(f func(Report)) Option {
	return func(l *Loop) { l.onReport = f }
}

// WithWriteSeries sets how many series (one sample each) an Output.Write
// takes at most (default DefaultWriteSeries): the loop holds one such
// request at a time. A multiple of the remote write's
// max_samples_per_send keeps the queue's requests full.
func WithWriteSeries(n int) Option {
	return func(l *Loop) {
		if n > 0 {
			l.writeSeries = n
		}
	}
}

// DefaultWriteSeries is the series of one Output.Write unless
// WithWriteSeries: five of Prometheus' default max_samples_per_send.
const DefaultWriteSeries = 10_000

// WithOffsetSeed sets the seed of Offset (default 0): OffsetSeed of the
// agent's host and external labels spreads the scrapes of agents that
// scrape the same target, as Prometheus' offset seed does.
func WithOffsetSeed(seed uint64) Option {
	return func(l *Loop) { l.seed = seed }
}

// OffsetSeed is the seed Prometheus' scrape manager derives from the
// host's name and the external labels (FNV-1a of the two): agents on
// different hosts, or with different external labels, scrape one target
// at different moments.
func OffsetSeed(host string, external labels.Labels) uint64 {
	h := fnv.New64a()
	h.Write([]byte(host))
	h.Write([]byte(external.String()))
	return h.Sum64()
}

// Offset is how long from now until this target's next scrape time: each
// target's scrapes fall at a point of the interval of its own, a hash of
// its labels and URL with the seed, so that an agent's targets are
// scraped spread over the interval rather than all at once, as
// Prometheus' scrape loop spreads them (its hash covers the target's
// internal labels too, so the point differs from Prometheus' own).
func (l *Loop) Offset(now time.Time) time.Duration {
	iv := int64(l.cfg.ScrapeInterval)
	if iv <= 0 {
		return 0
	}
	next := iv - now.UnixNano()%iv + int64((l.hash^l.seed)%uint64(iv))
	if next > iv {
		next -= iv
	}
	return time.Duration(next)
}

// WithClock sets the clock that stamps Run's scrapes (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(l *Loop) { l.now = now }
}

// New returns the loop of target t of the scrape configuration cfg (from
// Prometheus' loader, with its defaults: agent.Load gives one; Targets
// makes t). It refuses a configuration whose scrape_protocols do not
// include a Prometheus text format, the only one it parses.
func New(cfg *config.ScrapeConfig, t *promscrape.Target, out Output, opts ...Option) (*Loop, error) {
	if cfg == nil || t == nil || out == nil {
		return nil, errors.New("stream: New needs a scrape config, a target and an output")
	}
	accept, err := acceptHeader(cfg)
	if err != nil {
		return nil, fmt.Errorf("stream: job %q: %w", cfg.JobName, err)
	}
	client, err := config_util.NewClientFromConfig(cfg.HTTPClientConfig, cfg.JobName)
	if err != nil {
		return nil, fmt.Errorf("stream: job %q: HTTP client: %w", cfg.JobName, err)
	}
	l := &Loop{
		cfg: cfg, url: t.URL().String(), client: client, out: out, now: time.Now,
		accept: accept, bodyLimit: int64(cfg.BodySizeLimit), sampleLimit: int(cfg.SampleLimit),
		scheme: cfg.MetricNameValidationScheme, writeSeries: DefaultWriteSeries,
	}
	if l.scheme == model.UnsetValidation {
		l.scheme = model.UTF8Validation
	}
	t.LabelsRange(func(lb labels.Label) { l.target = append(l.target, lb) })
	h := fnv.New64a()
	fmt.Fprintf(h, "%016d", labels.New(l.target...).Hash())
	h.Write([]byte(l.url))
	l.hash = h.Sum64()
	for _, o := range opts {
		o(l)
	}
	l.fetch.init(l)
	l.parser = scrape.NewTextParser(nil, model.UTF8Validation)
	l.c.init(l)
	return l, nil
}

// Run scrapes every scrape_interval until ctx ends, the first time after
// Offset (the time of day of a target's scrapes is its own, as in
// Prometheus). Errors are in each scrape's report series (up 0), as in
// Prometheus; an Output's error ends Run.
func (l *Loop) Run(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case <-time.After(l.Offset(time.Now())):
	}
	tick := time.NewTicker(time.Duration(l.cfg.ScrapeInterval))
	defer tick.Stop()
	for {
		if _, err := l.Scrape(ctx, l.now()); errors.Is(err, errOutput) {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Report is what one scrape did: the values of its report series and
// what was written.
type Report struct {
	// Err is why the scrape failed (up 0): the fetch, the body, a limit;
	// nil when it succeeded.
	Err          error
	Duration     time.Duration // scrape_duration_seconds
	Scraped      int           // scrape_samples_scraped: sample lines read
	PostRelabel  int           // scrape_samples_post_metric_relabeling
	SeriesAdded  int           // scrape_series_added
	Written      int           // samples handed to the Output, report series and stale markers included
	StaleMarkers int           // stale markers among them
	Duplicates   int           // samples refused: their series had one at that timestamp (the first is kept)
	Repeated     int           // among Duplicates: a line text read twice, which Prometheus' scrape loop refuses before its storage
	// PromParsed: the body was parsed by Prometheus' own parser, because
	// the stream parser failed it or its Content-Type is not the text
	// format (see the package doc).
	PromParsed  bool
	OutOfOrder  int   // samples refused: older than one written for their series
	OutOfBounds int   // samples refused: more than 10 minutes ahead of the scrape
	BodyBytes   int64 // the body's size, decompressed
	Cached      int   // line texts the loop remembers after the scrape (series and dropped lines)
	// SampleLimitExceeded and BodySizeLimitExceeded: the scrape failed
	// on sample_limit, on body_size_limit.
	SampleLimitExceeded, BodySizeLimitExceeded bool
}

var errOutput = errors.New("output")

// Scrape scrapes the target once at time now, the timestamp of its
// samples, report series and stale markers, and hands the result to the
// Output. The error is Report.Err (the scrape failed: up 0, every series
// marked stale) or the Output's.
func (l *Loop) Scrape(ctx context.Context, now time.Time) (Report, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	start := time.Now()
	st := scrapeState{defT: now.UnixMilli(), maxT: now.Add(maxAhead).UnixMilli()}
	l.c.written = 0
	if st.err = l.scrapeBody(ctx, &st); st.err != nil {
		l.c.rollback(&st)
		st.err = fmt.Errorf("scrape %s: %w", redact.URL(l.url), redact.Error(st.err))
	}
	l.c.staleMarkers(l, &st)
	d := time.Since(start)
	l.c.reportSeries(l, &st, d.Seconds())
	l.c.commit(&st)
	r := Report{
		Err: st.err, Duration: d, Scraped: st.total, PostRelabel: st.added, SeriesAdded: st.seriesAdded,
		Written: l.c.written, StaleMarkers: st.stale, Duplicates: st.dups + st.repeats, Repeated: st.repeats, PromParsed: st.promParsed,
		SampleLimitExceeded: st.limitExceeded, BodySizeLimitExceeded: errors.Is(st.err, errBodySizeLimit), OutOfOrder: st.ooo, OutOfBounds: st.oob,
		BodyBytes: st.bodyBytes, Cached: l.c.len(),
	}
	if l.onReport != nil {
		l.onReport(r)
	}
	if err := l.c.emit(l); err != nil {
		return r, fmt.Errorf("%w: job %q: %w", errOutput, l.cfg.JobName, err)
	}
	return r, r.Err
}

// StaleAll writes a stale marker at now for every series of the last
// scrape (those with their own timestamps aside, unless
// track_timestamps_staleness) and the report series, as rwkit's agent does at shutdown with
// StaleMarkersOnShutdown, so that queries stop showing them at once. A
// later Scrape starts the series again. It returns the Output's error.
func (l *Loop) StaleAll(now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.c.written = 0
	l.c.staleAll(l, now.UnixMilli())
	if err := l.c.emit(l); err != nil {
		return fmt.Errorf("%w: job %q: %w", errOutput, l.cfg.JobName, err)
	}
	return nil
}

// maxAhead is how far ahead of the scrape a sample may be, as Prometheus'
// scrape loop allows (its maxAheadTime).
const maxAhead = 10 * time.Minute

// scrapeBody fetches the body and appends its samples, with the stream
// parser; a body it fails, or that is not the text format, is parsed
// again by Prometheus' parser (promBody) from the start. A body the
// stream parser failed is fetched again for it, rather than kept while
// every body is parsed: the target answers twice in that one scrape,
// after which its bodies go to Prometheus' parser alone.
func (l *Loop) scrapeBody(ctx context.Context, st *scrapeState) error {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(l.cfg.ScrapeTimeout))
	defer cancel()
	defer l.fetch.close()
	if l.prom {
		return l.promBody(ctx, st, nil)
	}
	l.fetch.body.keep = nil
	if l.suspect {
		l.fetch.body.keep = &l.whole
	}
	r, err := l.fetch.open(ctx, l, false)
	switch {
	case errors.Is(err, errNotText):
		return l.promBody(ctx, st, r)
	case err != nil:
		st.readFailed = true
		return err
	}
	l.parser.Reset(r)
	for l.parser.Next() {
		if err := l.c.sample(l, l.parser.Sample(), st); err != nil {
			return err
		}
	}
	st.bodyBytes = l.fetch.body.n
	if err := l.fetch.body.err; err != nil {
		st.readFailed = true
		return err
	}
	if l.parser.Err() != nil {
		return l.reparse(ctx, st)
	}
	if l.suspect {
		l.suspect, l.whole = false, nil
	}
	return st.limitErr(l)
}

// reparse parses the body the stream parser failed again, from the
// start, with Prometheus' parser: the copy kept of it (read to its end
// first), or else a second fetch.
func (l *Loop) reparse(ctx context.Context, st *scrapeState) error {
	l.c.restart(l, st)
	if !l.suspect {
		l.suspect = true
		l.fetch.close()
		return l.promBody(ctx, st, nil)
	}
	_, err := io.Copy(io.Discard, &l.fetch.body)
	st.bodyBytes = l.fetch.body.n
	if err != nil {
		st.readFailed = true
		return err
	}
	return l.promParse(st)
}

func (st *scrapeState) limitErr(l *Loop) error {
	if st.limitExceeded {
		return fmt.Errorf("sample_limit %d exceeded: %d samples after metric_relabel_configs", l.sampleLimit, st.limitCount)
	}
	return nil
}
