package push

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/rwkit/rwkit/gather"
	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/wire"
)

// streamBatch is how many series gather.StreamText hands out at a time.
const streamBatch = 4 * remotewrite.DefaultMaxSamplesPerRequest

// errStopped stops gather.StreamText once the write has failed.
var errStopped = errors.New("push: write stopped")

// OnceText is Once for a Prometheus text exposition (0.0.4) that is too
// large to hold: it converts it with gather.StreamText, reading it twice
// through open (contentType is the body's, "" for a file; see
// scrape.Parse), and sends the series as requests fill, so that memory
// holds a few requests rather than the exposition, its tree and its
// series. An exposition that does not parse or convert is refused before
// anything is sent, with the error Once gives (a *gather.ParseError for
// what scrape.Parse refuses, returned as is); the Result is Once's: the same requests when
// the exposition's families come sorted by name (series go in exposition
// order, where Once sorts them by family), the same counts and notes.
//
// A request that fails stops the write, as in Once; the Result says what
// was delivered before it. Its Error numbers it among the requests cut so
// far: the ones after it were never cut.
func OnceText(ctx context.Context, url string, open func() (io.Reader, error), contentType string, opts ...Option) (*Result, error) {
	none := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return nil, nil })
	opts = append(opts[:len(opts):len(opts)], optionFunc(func(c *config) error { c.streamed = true; return nil }))
	p, _, err := assemble(url, none, opts)
	if err != nil {
		return nil, err
	}
	ts := p.cfg.batchTS
	if ts == 0 {
		ts = p.timestamp(p.clock.Now())
	}
	res := &Result{Identity: p.id, Timestamp: ts, Version: p.client.Version(), SignedFor: p.signedFor}
	co := p.convOpts
	co.Timestamp = ts
	s := &textSender{p: p, ctx: ctx, res: res}
	report, err := gather.StreamText(open, contentType, co, streamBatch, s.add)
	var pe *gather.ParseError
	switch {
	case err == nil:
		s.finish()
	case errors.Is(err, errStopped):
	case !s.sent && errors.As(err, &pe):
		return nil, err
	case !s.sent:
		return nil, fmt.Errorf("push: nothing sent: %w", err)
	default:
		res.fail(err)
	}
	res.Converted = report
	res.Duration = p.clock.Now().Sub(s.start)
	return res, nil
}

// textSender sends what gather.StreamText hands out in full requests,
// keeping the series of the request being filled (their labels copied:
// StreamText reuses its strings) for the next batch.
type textSender struct {
	p     *Pusher
	ctx   context.Context
	res   *Result
	sent  bool      // a request was sent
	start time.Time // when the first was
	meta  []wire.Metadata
	all   []wire.TimeSeries // the kept series, then the batch's
	keep  [2]seriesCopy     // the kept series' storage, alternating
	k     int
}

func (s *textSender) add(batch *wire.WriteRequest) error {
	if len(batch.Metadata) > 0 {
		s.meta = batch.Metadata
	}
	s.all = append(s.all, batch.Series...)
	req := s.request(len(s.all))
	n := s.p.client.FullSeries(&req)
	if n > 0 {
		req.Series = s.all[:n]
		if !s.send(&req) {
			return errStopped
		}
	}
	s.k ^= 1
	s.all = s.keep[s.k].copy(s.all[:0], s.all[n:])
	return nil
}

// finish sends the kept series, or an empty write when nothing was sent,
// as Once does.
func (s *textSender) finish() {
	if len(s.all) > 0 || !s.sent {
		req := s.request(len(s.all))
		s.send(&req)
	}
}

// request is the first n kept series, with the metadata until it is sent.
func (s *textSender) request(n int) wire.WriteRequest {
	req := wire.WriteRequest{Series: s.all[:n]}
	if !s.sent {
		req.Metadata = s.meta
	}
	return req
}

// send writes req as Once does and reports whether to go on.
func (s *textSender) send(req *wire.WriteRequest) bool {
	base := s.res.Requests
	if !s.sent {
		s.sent, s.start = true, s.p.clock.Now()
	}
	r := s.p.send(s.ctx, req, s.res)
	var e *remotewrite.Error
	if r.kind == writeRetry && errors.As(s.res.Failed, &e) {
		// Numbered within this Write: within the whole write instead.
		e.Request += base
		e.Requests += base
		e.DeliveredRequests += base
	}
	return s.res.Failed == nil
}

// seriesCopy holds copies of series whose labels must outlive the batch
// they came in.
type seriesCopy struct {
	labels  []wire.Label
	samples []wire.Sample
	strs    []byte
}

// copy appends to dst the series of src, their labels and samples copied.
func (sc *seriesCopy) copy(dst, src []wire.TimeSeries) []wire.TimeSeries {
	sc.labels, sc.samples, sc.strs = sc.labels[:0], sc.samples[:0], sc.strs[:0]
	nl, ns, nb := 0, 0, 0
	for i := range src {
		nl, ns = nl+len(src[i].Labels), ns+len(src[i].Samples)
		for _, l := range src[i].Labels {
			nb += len(l.Name) + len(l.Value)
		}
	}
	// Grown once, so that the strings and slices handed out stay put.
	if cap(sc.strs) < nb {
		sc.strs = make([]byte, 0, nb)
	}
	if cap(sc.labels) < nl {
		sc.labels = make([]wire.Label, 0, nl)
	}
	if cap(sc.samples) < ns {
		sc.samples = make([]wire.Sample, 0, ns)
	}
	str := func(s string) string {
		if s == "" {
			return ""
		}
		sc.strs = append(sc.strs, s...)
		return unsafe.String(&sc.strs[len(sc.strs)-len(s)], len(s))
	}
	for i := range src {
		ts := src[i]
		l0, s0 := len(sc.labels), len(sc.samples)
		for _, l := range ts.Labels {
			sc.labels = append(sc.labels, wire.Label{Name: str(l.Name), Value: str(l.Value)})
		}
		sc.samples = append(sc.samples, ts.Samples...)
		ts.Labels = sc.labels[l0:len(sc.labels):len(sc.labels)]
		ts.Samples = sc.samples[s0:len(sc.samples):len(sc.samples)]
		dst = append(dst, ts)
	}
	return dst
}
