package stream

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"

	"github.com/rwkit/rwkit/scrape"
	"github.com/rwkit/rwkit/wire"
)

// promBody reads the body whole (from r, else fetched again) and appends
// its samples as Prometheus' scrape loop parses them, with its own parser
// (textparse) for the body's Content-Type and the job's
// fallback_scrape_protocol, through the same cache as the stream parser.
// When it succeeds, the target's next bodies go straight to it.
func (l *Loop) promBody(ctx context.Context, st *scrapeState, r io.Reader) error {
	st.promParsed = true
	if r == nil {
		var err error
		if r, err = l.fetch.open(ctx, l, true); err != nil {
			st.readFailed = true
			return err
		}
	}
	var err error
	l.fetch.body.keep = nil
	l.whole, err = readAll(l.whole[:0], r)
	st.bodyBytes = l.fetch.body.n
	if err != nil {
		st.readFailed = true
		return err
	}
	return l.promParse(st)
}

// promParse parses l.whole, a body read whole, with Prometheus' parser;
// once it succeeds, the target's bodies go to it alone.
func (l *Loop) promParse(st *scrapeState) error {
	st.promParsed = true
	if err := l.promSamples(st); err != nil {
		return err
	}
	l.prom = true
	return st.limitErr(l)
}

// promSamples parses l.whole with Prometheus' parser, as its scrape loop
// does (native histograms ignored: a job that scrapes them does not run
// on this loop).
func (l *Loop) promSamples(st *scrapeState) error {
	if len(l.whole) == 0 {
		return nil
	}
	p, err := textparse.New(l.whole, l.fetch.ct, labels.NewSymbolTable(), textparse.ParserOptions{
		IgnoreNativeHistograms: true,
		FallbackContentType:    l.cfg.ScrapeFallbackProtocol.HeaderMediaType(),
	})
	if p == nil {
		return fmt.Errorf("Content-Type %q: %w", l.fetch.ct, err)
	}
	for {
		et, err := p.Next()
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return err
		case et != textparse.EntrySeries:
			continue
		}
		met, ts, v := p.Series()
		p.Labels(&l.pl)
		l.textSample(ts, v)
		st.total++
		// The key is the series as written, as Prometheus' cache keys
		// it; 0xfd (in no UTF-8 text) keeps it apart from the stream
		// parser's keys.
		c := &l.c
		c.key = append(append(c.key[:0], promKeyPrefix), met...)
		if err := c.sampleKey(l, &l.ps, c.key, st); err != nil {
			return err
		}
	}
}

// promKeyPrefix starts the keys of Prometheus' parser's line texts.
const promKeyPrefix = 0xfd

// textSample sets l.ps to the sample of labels l.pl: le and quantile stay
// labels, as exposed.
func (l *Loop) textSample(ts *int64, v float64) {
	s := &l.ps
	clear(s.Labels)
	*s = scrape.TextSample{Labels: s.Labels[:0], Value: v, Kind: scrape.KindValue}
	if ts != nil {
		s.Timestamp, s.HasTimestamp = *ts, true
	}
	named := false
	l.pl.Range(func(lb labels.Label) {
		if lb.Name == model.MetricNameLabel && !named {
			s.Name, named = lb.Value, true
			return
		}
		s.Labels = append(s.Labels, wire.Label{Name: lb.Name, Value: lb.Value})
	})
}

// readAll appends r to dst until EOF.
func readAll(dst []byte, r io.Reader) ([]byte, error) {
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if errors.Is(err, io.EOF) {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}
