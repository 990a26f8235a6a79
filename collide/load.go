package collide

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/rwkit/rwkit/gather"
	"github.com/rwkit/rwkit/internal/redact"
	"github.com/rwkit/rwkit/scrape"
	"github.com/rwkit/rwkit/wire"
)

// maxLoading bounds how many URLs Load scrapes at once. Files (and In
// readers) are read one at a time: reading is CPU-bound, and each one's
// parsed exposition is several times the file's size, so parsing two at
// once doubled collide's peak memory (issue 18's profile: 2.7 GB for two
// 50 MB files, 1.2 GB one after the other, and no slower).
const maxLoading = 8

// Load reads every source's exposition (scraping URLs with client; nil
// means a client with a 30-second timeout; at most 8 URLs at once, files
// one at a time), and converts
// each with gather.Convert into exactly the series rwkit push would send, in
// the order given: the writers for Find. A writer whose exposition repeats a
// series (gather.ErrDuplicateSeries: push would refuse its whole request) is
// converted metric by metric instead, so that Find reports every repeat and
// every series it shares; Writer.Note says why. The error joins every
// source's failure, each prefixed with the writer's name.
func Load(ctx context.Context, client *http.Client, sources []Source) ([]Writer, error) {
	writers := make([]Writer, len(sources))
	errs := make([]error, len(sources))
	urls, files := make(chan struct{}, maxLoading), make(chan struct{}, 1)
	var wg sync.WaitGroup
	for i, s := range sources {
		sem := files
		if s.In == nil && isURL(s.Location) {
			sem = urls
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = load(ctx, client, s, &writers[i])
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return writers, nil
}

// FindSources is Load and Find in one, for expositions too large to hold
// at once: it reads the sources one after another, in the order given, and
// keeps of each writer's series only what Find keeps (an encoded label set
// per distinct series), so that its memory is about 170 bytes per distinct
// series plus what reading one exposition takes. A text exposition is read
// in a stream (gather.StreamText, which reads a file twice and a scraped
// body from memory), never as a whole tree; other formats, and a text
// exposition that repeats a series, are read as Load reads them. The
// Report is the one Find(Load(...)) returns, and so is the error.
func FindSources(ctx context.Context, client *http.Client, sources []Source) (*Report, error) {
	fd, err := FindSourcesCompact(ctx, client, sources)
	if err != nil {
		return nil, err
	}
	return fd.Report(), nil
}

// foldSource reads one source into f: a text exposition in a stream,
// anything else (or a text exposition that repeats a series) as Load does.
func (f *finder) foldSource(ctx context.Context, client *http.Client, s Source) error {
	var w Writer
	newWriter(s, &w)
	body, parseError, err := open(ctx, client, s)
	if err != nil {
		return fmt.Errorf("writer %s: %w", w.Name, err)
	}
	defer body.Close()
	text, err := body.IsText()
	if err != nil {
		return fmt.Errorf("writer %s: %w", w.Name, parseError(err))
	}
	if text {
		err := f.foldText(body, &w)
		var pe *gather.ParseError
		switch {
		case errors.As(err, &pe):
			return fmt.Errorf("writer %s: %w", w.Name, parseError(pe.Err))
		case err == nil || !errors.Is(err, gather.ErrDuplicateSeries):
			return err
		}
	}
	fams, err := body.Parse()
	if err != nil {
		return fmt.Errorf("writer %s: %w", w.Name, parseError(err))
	}
	if err := convert(fams, &w); err != nil {
		return err
	}
	f.fold(w)
	return nil
}

// foldText streams a text exposition's series into f as writer w. A
// repeated series is returned as gather.ErrDuplicateSeries before any
// series is added: Load's per-metric conversion then reports each repeat.
func (f *finder) foldText(body *scrape.Body, w *Writer) error {
	n := int32(len(f.writers))
	var i int32
	rep, err := gather.StreamText(body.Open, body.ContentType, convertOptions(w), 4096, func(req *wire.WriteRequest) error {
		if i == 0 {
			f.counts = append(f.counts, 0)
			f.writers = append(f.writers, *w)
		}
		for k := range req.Series {
			f.add(n, i, req.Series[k].Labels)
			i++
		}
		return nil
	})
	if err != nil {
		var pe *gather.ParseError
		if errors.As(err, &pe) || errors.Is(err, gather.ErrDuplicateSeries) {
			return err
		}
		return fmt.Errorf("writer %s: %w", w.Name, err)
	}
	f.counts[n] = int(i)
	f.writers[n].Families = rep.Families
	return nil
}

func newWriter(s Source, w *Writer) {
	*w = Writer{Name: s.Name, Service: s.Service, Source: redact.URL(s.Location)}
	if w.Name == "" {
		w.Name = w.Source
	}
	if len(s.Labels) > 0 {
		w.Labels = slices.Clone(s.Labels)
		slices.SortStableFunc(w.Labels, wire.CompareLabels)
	}
}

func load(ctx context.Context, client *http.Client, s Source, w *Writer) error {
	newWriter(s, w)
	body, parseError, err := open(ctx, client, s)
	if err != nil {
		return fmt.Errorf("writer %s: %w", w.Name, err)
	}
	defer body.Close()
	fams, err := body.Parse()
	if err != nil {
		return fmt.Errorf("writer %s: %w", w.Name, parseError(err))
	}
	return convert(fams, w)
}

// convertOptions: the timestamp does not change which series are sent;
// gather needs one.
func convertOptions(w *Writer) gather.Options {
	return gather.Options{Timestamp: 1, ExtraLabels: w.Labels}
}

// convert fills w.Series with the series push would send of fams; when
// they repeat a series, metric by metric, with a Note.
func convert(fams []*dto.MetricFamily, w *Writer) error {
	w.Families = len(fams)
	opts := convertOptions(w)
	req, _, err := gather.Convert(fams, opts)
	if err == nil {
		w.Series = req.Series
		return nil
	}
	if !errors.Is(err, gather.ErrDuplicateSeries) {
		return fmt.Errorf("writer %s: %w", w.Name, err)
	}
	w.Note = err.Error()
	if w.Series, err = convertEach(fams, opts); err != nil {
		return fmt.Errorf("writer %s: %w", w.Name, err)
	}
	return nil
}

// open gets s's exposition: a file, a scrape's body, or s.In read whole.
// parseError gives a parse error the words read gave it: the source
// without credentials, and for a URL the scrape. Errors name the source
// without credentials.
func open(ctx context.Context, client *http.Client, s Source) (body *scrape.Body, parseError func(error) error, err error) {
	shown := redact.URL(s.Location)
	parseError = func(err error) error { return fmt.Errorf("%s: %w", shown, redact.Error(err)) }
	switch {
	case s.In != nil:
		body, err = scrape.ReadBody(s.In)
	case s.Location == "-":
		return nil, nil, errors.New(`source "-" has no reader: set Source.In`)
	case isURL(s.Location):
		u, perr := url.Parse(s.Location)
		if perr != nil {
			var ue *url.Error
			if errors.As(perr, &ue) {
				perr = ue.Err // ue.URL is the raw URL, password and all
			}
			return nil, nil, fmt.Errorf("%s: invalid URL: %w", shown, perr)
		}
		if u.User != nil {
			client = withBasicAuth(client, u.Host, u.User)
			u.User = nil
		}
		target := u.String()
		inner := parseError
		parseError = func(err error) error { return inner(fmt.Errorf("scrape %s: %w", target, err)) }
		var data []byte
		var ct string
		if data, ct, err = scrape.FetchBody(ctx, client, target); err == nil {
			body = scrape.NewBody(data, ct)
		} else {
			err = inner(err)
		}
		return body, parseError, err
	default:
		if body, err = scrape.OpenFile(s.Location); err != nil {
			return nil, nil, err // names the file
		}
		return body, parseError, nil
	}
	if err != nil {
		err = parseError(err)
	}
	return body, parseError, err
}

// convertEach converts families one metric at a time, so that series that
// repeat across metrics are all kept rather than refused.
func convertEach(fams []*dto.MetricFamily, opts gather.Options) ([]wire.TimeSeries, error) {
	var out []wire.TimeSeries
	for _, fam := range fams {
		for _, m := range fam.GetMetric() {
			one := &dto.MetricFamily{Name: fam.Name, Help: fam.Help, Type: fam.Type, Unit: fam.Unit, Metric: []*dto.Metric{m}}
			req, _, err := gather.Convert([]*dto.MetricFamily{one}, opts)
			if err != nil {
				return nil, err
			}
			out = append(out, req.Series...)
		}
	}
	return out, nil
}

// withBasicAuth returns a copy of client that sends user's credentials to
// host, so that the URL handed to scrape.Fetch, and so every error it
// returns, carries no password. Like net/http with a URL's userinfo, it
// sends them to that host only, not to another one a redirect leads to.
func withBasicAuth(client *http.Client, host string, user *url.Userinfo) *http.Client {
	c := http.Client{Timeout: 30 * time.Second}
	if client != nil {
		c = *client
	}
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c.Transport = &basicAuth{base: base, host: host, user: user}
	return &c
}

type basicAuth struct {
	base http.RoundTripper
	host string
	user *url.Userinfo
}

func (b *basicAuth) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != b.host || req.Header.Get("Authorization") != "" {
		return b.base.RoundTrip(req)
	}
	req = req.Clone(req.Context()) // a RoundTripper must not modify its request
	pass, _ := b.user.Password()
	req.SetBasicAuth(b.user.Username(), pass)
	return b.base.RoundTrip(req)
}
