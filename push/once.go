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
	BytesCompressed   int                // body bytes of every request sent (as Requests counts them), each once however many attempts
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
	res := &Result{Identity: p.id, Timestamp: ts, Version: p.client.Version(), SignedFor: p.signedFor}
	if err := p.conv.SetTimestamp(ts); err != nil {
		return nil, fmt.Errorf("push: %w", err)
	}
	// One-shot: a Converter's label cache, kept for the next push, would
	// only hold every label a second time (issue 18's profile of push --file).
	co := p.convOpts
	co.Timestamp = ts
	req, report, err := gather.FromGatherer(g, co)
	var ge *gather.GatherError
	if err != nil && !(errors.As(err, &ge) && ge.Families > 0) {
		return nil, fmt.Errorf("push: nothing sent: %w", err)
	}
	res.Converted = report
	start := p.clock.Now()
	p.send(ctx, req, res)
	res.Duration = p.clock.Now().Sub(start)
	return res, nil
}

// addWrite adds one client Write, and the request it failed on, to r; a
// nil r (a Pusher's or a Queue's write) adds nothing.
func (r *Result) addWrite(w *remotewrite.Result, err error) {
	if r == nil {
		return
	}
	r.Version = w.Version
	r.Requests += w.Requests
	r.Stored.Series += w.Counts.Series
	r.Stored.Samples += w.Counts.Samples
	r.Stored.Histograms += w.Counts.Histograms
	r.Stored.Exemplars += w.Counts.Exemplars
	r.BytesCompressed += w.BytesCompressed
	r.BytesUncompressed += w.BytesUncompressed
	r.Attempts += w.Attempts
	var e *remotewrite.Error
	if errors.As(err, &e) {
		r.Requests++
		r.BytesCompressed += e.BytesCompressed
		r.BytesUncompressed += e.BytesUncompressed
	}
}

// refuse records a refused request; base is how many requests came
// before the client Write it belongs to.
func (r *Result) refuse(e *remotewrite.Error, base int) {
	if r == nil {
		return
	}
	e.Request += base
	r.Refused = append(r.Refused, e)
}

// fail records what stopped the write.
func (r *Result) fail(err error) {
	if r != nil {
		r.Failed = err
	}
}

// numberRefusals sets each refusal's Requests to the whole write's count.
func (r *Result) numberRefusals() {
	for _, e := range r.Refused {
		e.Requests = r.Requests
	}
}
