package push

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rwkit/rwkit/gather"
	"github.com/rwkit/rwkit/identity"
	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/remotewrite/sigv4"
	"github.com/rwkit/rwkit/wire"
)

// Result is what Once did: what was converted, what the backend stored,
// each request it refused, and what could not be delivered.
type Result struct {
	Identity  *identity.Identity // nil under WithoutIdentity
	Timestamp int64              // the batch timestamp (ms)
	Converted gather.Report      // families, series, samples, notes
	SignedFor string             // the SigV4 region, "" when not signed

	Version           wire.Version       // the protocol the write ended on (RW 2.0 falls back to 1.0 on 415)
	Requests          int                // requests sent, refused ones included
	Stored            remotewrite.Counts // series parts, samples, histograms, exemplars the backend took
	BytesCompressed   int                // bytes of every request sent, refused ones included
	BytesUncompressed int
	Attempts          int
	Duration          time.Duration

	// Refused holds one error per refused request (4xx but 429), in
	// order; Request and Requests number it within the whole write.
	Refused []*remotewrite.Error
	// Failed is set when the write stopped without delivering everything:
	// the backend could not be reached or kept failing (network, 5xx, 429
	// after retries) or ctx ended. Nothing is buffered: what Failed names
	// was not sent.
	Failed error
}

// OK reports whether everything was delivered.
func (r *Result) OK() bool { return len(r.Refused) == 0 && r.Failed == nil }

// Once pushes what g gathers, once, now, through exactly the path a
// Pusher takes (identity and labels, conversion, SigV4 for AMP URLs, auth,
// splitting, retries, the RW 2.0 fallback) and reports everything: the
// probe of `rwkit push`. A write split into several requests is sent
// whole: a refused request is reported and the requests after it are
// still sent, as a Pusher does. Nothing is buffered and no self-metrics
// are registered.
//
// The error is for what stops Once before anything is sent (options,
// identity, a snapshot that cannot be built); refusals and failures are in
// the Result.
func Once(ctx context.Context, url string, g prometheus.Gatherer, opts ...Option) (*Result, error) {
	if g == nil {
		return nil, errors.New("push: nil Gatherer")
	}
	p, _, err := assemble(url, g, opts)
	if err != nil {
		return nil, err
	}
	ts := p.cfg.batchTS
	if ts == 0 {
		ts = p.timestamp(p.clock.Now())
	}
	res := &Result{Identity: p.id, Timestamp: ts, Version: p.client.Version()}
	if region, sign, _ := sigv4.Signing(url, p.cfg.sigv4Region, p.cfg.sigv4); sign && !p.cfg.noSigV4 {
		res.SignedFor = region
		if region == "" {
			res.SignedFor = "the AWS configuration's region"
		}
	}
	if err := p.conv.SetTimestamp(ts); err != nil {
		return nil, fmt.Errorf("push: %w", err)
	}
	report, err := p.conv.AppendGatherer(&p.req, g)
	var ge *gather.GatherError
	if err != nil && !(errors.As(err, &ge) && ge.Families > 0) {
		return nil, fmt.Errorf("push: nothing sent: %w", err)
	}
	res.Converted = report
	start := p.clock.Now()
	p.writeAll(ctx, &p.req, res)
	res.Duration = p.clock.Now().Sub(start)
	return res, nil
}

// writeAll writes req whole: after a refused request, the series after it
// are sent on. It fills res.
func (p *sender) writeAll(ctx context.Context, req *wire.WriteRequest, res *Result) {
	from := 0
	defer func() {
		for _, e := range res.Refused {
			e.Requests = res.Requests
		}
	}()
	for {
		sub := wire.WriteRequest{Series: req.Series[from:]}
		if from == 0 {
			sub.Metadata = req.Metadata
		}
		base := res.Requests
		r, err := p.client.Write(ctx, &sub)
		res.Version = r.Version
		res.Requests += r.Requests
		res.Stored.Series += r.Counts.Series
		res.Stored.Samples += r.Counts.Samples
		res.Stored.Histograms += r.Counts.Histograms
		res.Stored.Exemplars += r.Counts.Exemplars
		res.BytesCompressed += r.BytesCompressed
		res.BytesUncompressed += r.BytesUncompressed
		res.Attempts += r.Attempts
		if err == nil {
			return
		}
		var e *remotewrite.Error
		if !errors.As(err, &e) {
			res.Failed = err
			return
		}
		res.Requests++
		res.BytesCompressed += e.BytesCompressed
		res.BytesUncompressed += e.BytesUncompressed
		if retryLater(e) {
			res.Failed = err
			return
		}
		e.Request += base
		res.Refused = append(res.Refused, e)
		after := e.Delivered.Series + e.Counts.Series
		switch {
		case from+after >= len(req.Series):
			return
		case after == 0 || !onePointEach(req.Series):
			// Where the refused request ended is known only when every
			// series is one point (the client never cuts one).
			res.Failed = fmt.Errorf("push: the %d series after refused request %d were not sent: with several points per series, where it ended is not known", len(req.Series)-from-after, e.Request)
			return
		}
		from += after
	}
}
