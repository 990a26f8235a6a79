package push

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/wire"
)

// Queue delivers batches of series to one remote-write endpoint in the
// order they were appended, as Prometheus' remote-write queue does for an
// agent: producers (scrape loops) Append and never wait for the network;
// one goroutine (Run) sends, oldest first.
//
//	q, err := push.NewQueue(url, push.WithRemoteTimeout(30*time.Second))
//	go q.Run(ctx)
//	q.Append(&req)              // a copy is kept; req may be reused at once
//	err = q.Shutdown(shutdownCtx) // delivers what is left, until shutdownCtx ends
//
// Appended batches wait in the outage buffer (WithBuffer: bytes and age,
// Snappy-compressed), so a request slower than the producers' interval
// holds up nothing but the batches behind it, and is never cancelled by a
// newer one: each attempt is bounded by WithRemoteTimeout alone. A batch
// that fails retryably (network, 5xx, 429) is tried again after a backoff
// that starts at the minimum of WithBackoff, doubles up to the maximum and
// carries over from batch to batch while the endpoint stays down (as
// Prometheus' min_backoff and max_backoff); a Retry-After on a 429 or 503
// is waited instead. A refused batch (4xx other than 429) is never retried.
// The self-metrics are Pusher's (see the package documentation).
type Queue struct {
	cfg config

	// Owned by the goroutine that sends: Run, or Shutdown once Run has
	// stopped.
	sender
	backoff time.Duration // the next wait after a retryable failure
	retryAt time.Time     // no attempt before: the backoff or Retry-After of the last failure

	mu        sync.Mutex // guards the fields below and sender.buf
	closed    bool
	abandoned bool // Shutdown gave up waiting for Run: what Run puts back is lost
	running   bool
	loopDone  chan struct{}
	appendRaw []byte            // encoding scratch of Append
	encode    encodeScratch     // encoding scratch of Append, by request
	snaps     []*snapshot       // Append's snapshots; reused
	batchReq  wire.WriteRequest // AppendBatch's batch decoded, when it cannot be sent as encoded
	dropSeen  bool              // a drop was logged in this outage

	wake chan struct{} // a batch was appended
	stop chan struct{} // closed by Shutdown

	shutdownOnce sync.Once
	shutdownDone chan struct{}
	shutdownErr  error
}

// NewQueue returns a Queue sending to url. Options that shape snapshots
// (identity, labels, interval, timestamps, stale markers) belong to a
// Pusher and are refused here; transport, SigV4, version, buffer, timeout,
// backoff, logger and registerer apply.
func NewQueue(url string, opts ...Option) (*Queue, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o.apply(&cfg); err != nil {
			return nil, fmt.Errorf("push: %w", err)
		}
	}
	if err := cfg.queueOnly(); err != nil {
		return nil, err
	}
	if cfg.clock == nil {
		cfg.clock = realClock{}
	}
	log := cfg.logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	q := &Queue{
		cfg: cfg,
		sender: sender{
			log: log, m: newMetrics(), clock: cfg.clock,
			buf: buffer{maxBytes: cfg.bufBytes, maxAge: cfg.bufAge},
		},
		backoff:      cfg.minBackoff,
		wake:         make(chan struct{}, 1),
		stop:         make(chan struct{}),
		shutdownDone: make(chan struct{}),
	}
	var err error
	// One attempt per Write: the queue's own loop backs off and retries,
	// so that the backoff carries over from batch to batch.
	// Last, so that a WithClientOptions(remotewrite.WithRetry(...)) cannot
	// bring back retries inside the client, which Shutdown could not
	// interrupt.
	cfg.clientOpts = append(cfg.clientOpts, remotewrite.WithRetry(cfg.minBackoff, cfg.maxBackoff, 1))
	if q.client, q.signedFor, err = newClient(url, &cfg, log); err != nil {
		return nil, err
	}
	q.ls = newLogState(log, cfg.clock, q.client.URL(), nil, &q.buf)
	if err := q.m.registerQueue(cfg.registerer); err != nil {
		return nil, fmt.Errorf("push: %w", err)
	}
	log.Info("push: queue ready", "url", q.client.URL(), "version", q.client.Version().String(),
		"remote_timeout", cfg.remoteTimeoutOrDefault(), "min_backoff", cfg.minBackoff, "max_backoff", cfg.maxBackoff)
	return q, nil
}

// queueOnly refuses the options that only a Pusher uses.
func (c *config) queueOnly() error {
	var bad []string
	for _, o := range []struct {
		set  bool
		name string
	}{
		{c.service != "" || c.instance != "" || c.serviceLabel != "" || c.noIdentity, "WithService/WithInstance/WithIdentityLabels/WithoutIdentity"},
		{len(c.labels) > 0, "WithLabels"},
		{c.aligned, "WithAlignedTimestamps"},
		{c.stale, "WithStaleMarkersOnShutdown"},
		{c.rename, "WithRenameConflictingLabels"},
		{c.nativeHistograms || c.exemplars, "WithNativeHistograms/WithExemplars (a Queue sends what it is given)"},
	} {
		if o.set {
			bad = append(bad, o.name)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("push: NewQueue: %v shape a Pusher's snapshots and do nothing for a Queue", bad)
	}
	if c.bufBytes <= 0 {
		return errors.New("push: NewQueue: WithBuffer(0, ...) turns buffering off, and a Queue sends only from its buffer: every batch would be dropped; give maxBytes > 0")
	}
	return nil
}

// URL is the endpoint, without credentials.
func (q *Queue) URL() string { return q.client.URL() }

// Append keeps a copy of req (encoded and compressed, in the outage
// buffer) for Run to send, and returns at once: req may be changed or
// reused when Append returns. On RW 1.0 the copy is the requests Run will
// send, encoded once (see the package documentation). When the buffer is
// full the oldest are dropped (counted in
// rwkit_push_dropped_snapshots_total). Append returns ErrShutdown after
// Shutdown, and an error when req alone is larger than the whole buffer
// (it is dropped, or the requests of its start that did not fit).
func (q *Queue) Append(req *wire.WriteRequest) error {
	if len(req.Series) == 0 && len(req.Metadata) == 0 {
		return nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return ErrShutdown
	}
	now, v := q.clock.Now().UnixMilli(), q.client.Version()
	snaps, ok := q.snaps[:0], false
	if v == wire.V1 && len(req.Metadata) == 0 {
		maxBytes, maxSamples := q.client.Limits()
		snaps, ok = encodeRequests(now, req, maxBytes, maxSamples, &q.encode, snaps)
	}
	if !ok {
		var s *snapshot
		s, q.appendRaw = encodeSnapshot(now, v, req, q.appendRaw)
		snaps = append(snaps[:0], s)
	}
	return q.bufferLocked(snaps, len(req.Series))
}

// AppendBatch is Append for a Batch: on RW 1.0 its bytes are cut into the
// requests Run sends, without encoding the series again. A batch with a
// series over the client's limits, or for RW 2.0, is decoded and taken as
// Append takes a request.
func (q *Queue) AppendBatch(b *Batch) error {
	if b.Len() == 0 {
		return nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return ErrShutdown
	}
	now, v := q.clock.Now().UnixMilli(), q.client.Version()
	snaps, ok := q.snaps[:0], false
	if v == wire.V1 {
		maxBytes, maxSamples := q.client.Limits()
		snaps, ok = b.requests(now, maxBytes, maxSamples, &q.encode, snaps)
	}
	if !ok {
		q.batchReq.Series = q.batchReq.Series[:0]
		if err := wire.DecodeWriteRequest(b.raw, &q.batchReq); err != nil {
			return fmt.Errorf("push: queue: a batch that does not decode (its label blocks are not wire.AppendLabels'?): %w", err)
		}
		var s *snapshot
		s, q.appendRaw = encodeSnapshot(now, v, &q.batchReq, q.appendRaw)
		snaps = append(snaps[:0], s)
	}
	return q.bufferLocked(snaps, b.Len())
}

// bufferLocked keeps snaps, a batch of series series, in the buffer and
// wakes Run.
func (q *Queue) bufferLocked(snaps []*snapshot, series int) error {
	var drops []drop
	size := 0
	for _, s := range snaps {
		drops = q.buf.push(s, drops)
		size += s.size()
	}
	lost := "dropped"
	if len(snaps) > 1 {
		lost = "its first requests were dropped"
	}
	clear(snaps)
	q.snaps = snaps[:0]
	q.noteDropsLocked(drops)
	q.m.buffered.Set(float64(q.buf.len()))
	if size > q.buf.maxBytes {
		return fmt.Errorf("push: queue: a batch of %d series is %d bytes compressed, more than the whole buffer (%d bytes, WithBuffer): %s", series, size, q.buf.maxBytes, lost)
	}
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return nil
}

// Run sends appended batches until ctx ends or Shutdown is called, and
// returns nil then. Shutdown lets a request in flight finish (within
// WithRemoteTimeout) and then takes over; ending ctx aborts it, and a
// request aborted after the endpoint read it may have been stored: the
// batch is then sent again. Stop with Shutdown. Run returns ErrShutdown
// after Shutdown and ErrRunning while another Run runs.
func (q *Queue) Run(ctx context.Context) error {
	q.mu.Lock()
	switch {
	case q.closed:
		q.mu.Unlock()
		return ErrShutdown
	case q.running:
		q.mu.Unlock()
		return ErrRunning
	}
	q.running = true
	done := make(chan struct{})
	q.loopDone = done
	q.mu.Unlock()
	defer func() {
		q.mu.Lock()
		q.running = false
		q.mu.Unlock()
		close(done)
	}()
	for {
		// Shutdown drains what is left, within its own context: Run
		// starts nothing once it is called.
		select {
		case <-q.stop:
			return nil
		default:
		}
		s := q.next()
		if s == nil {
			select {
			case <-q.wake:
				continue
			case <-ctx.Done():
				return nil
			case <-q.stop:
				return nil
			}
		}
		if !q.deliver(ctx, q.stop, s) {
			return nil
		}
	}
}

// next takes the oldest batch out of the buffer, dropping those that
// are too old; nil when there is none.
func (q *Queue) next() *snapshot {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.noteDropsLocked(q.buf.expire(q.clock.Now(), nil))
	if q.buf.len() == 0 {
		return nil
	}
	s := q.buf.popFront()
	q.m.buffered.Set(float64(q.buf.len()))
	return s
}

// putBack returns s to the front of the buffer, where it was: the
// endpoint has not taken it and ctx ended. After Shutdown gave up waiting
// for Run, nothing will send it: it is counted as lost.
func (q *Queue) putBack(s *snapshot) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.abandoned {
		q.noteDropsLocked([]drop{{s, dropShutdown}})
		return
	}
	q.buf.items = append([]*snapshot{s}, q.buf.items...)
	q.buf.bytes += s.size()
	q.m.buffered.Set(float64(q.buf.len()))
}

// deliver sends s until it is delivered, refused or too old, and reports
// true then. When ctx ends, or stop is closed, before that, s goes back to
// the front of the buffer and deliver reports false; stop is looked at only
// between attempts, so that a request in flight is never aborted for it.
func (q *Queue) deliver(ctx context.Context, stop <-chan struct{}, s *snapshot) bool {
	start := q.clock.Now()
	defer func() { q.m.duration.Observe(q.clock.Now().Sub(start).Seconds()) }()
	failedBefore := false
	for {
		// The wait asked by the last failure, kept when Shutdown took
		// over from Run in the middle of it.
		if d := q.retryAt.Sub(q.clock.Now()); d > 0 {
			if !q.wait(ctx, stop, d) {
				q.putBack(s)
				return false
			}
			if age := q.clock.Now().Sub(time.UnixMilli(s.ts)); age > q.buf.maxAge {
				q.noteDrops([]drop{{s, dropTooOld}})
				return true
			}
		}
		q.ls.reached = false
		var r writeResult
		if s.request && q.client.Version() == wire.V1 {
			r = q.sendEncoded(ctx, s)
		} else {
			var err error
			if q.raw, err = s.decode(&q.scratch, q.raw); err != nil {
				q.noteDrops([]drop{{s, dropUndecodable}})
				q.log.Error("push: dropping a batch that cannot be decoded", "err", err)
				return true
			}
			r = q.send(ctx, &q.scratch, nil)
		}
		switch r.kind {
		case writeDelivered, writeRefused:
			if r.kind == writeDelivered {
				q.m.requests.WithLabelValues(resultSuccess).Inc()
			} else {
				q.m.requests.WithLabelValues(resultRejected).Inc()
			}
			q.backoff = q.cfg.minBackoff
			q.ls.noteReachable(r.kind == writeDelivered, s.series, q.client.Version())
			q.mu.Lock()
			q.dropSeen = false
			empty := q.buf.len() == 0
			q.mu.Unlock()
			if r.kind == writeDelivered && empty {
				q.m.lastSuccess.Set(float64(q.clock.Now().UnixNano()) / 1e9)
			}
			return true
		}
		// Retryable: keep what was not delivered.
		if r.from > 0 {
			rest := wire.WriteRequest{Series: q.scratch.Series[r.from:]}
			s, q.raw = encodeSnapshot(s.ts, s.version, &rest, q.raw)
		}
		q.m.requests.WithLabelValues(resultRetried).Inc()
		if !failedBefore {
			failedBefore = true
			q.m.samples.WithLabelValues(resultRetried).Add(float64(s.samples))
		}
		if ctx.Err() != nil {
			q.putBack(s)
			return false
		}
		q.ls.noteOutage(r.err)
		q.retryAt = q.clock.Now().Add(q.retryWait(r.err))
	}
}

// retryWait is the wait before the next attempt: what a 429 or 503 asked
// for in Retry-After, else the current backoff, which then doubles up to
// the maximum.
func (q *Queue) retryWait(err error) time.Duration {
	var e *remotewrite.Error
	if errors.As(err, &e) && e.RetryAfter > 0 {
		return e.RetryAfter
	}
	d := q.backoff
	q.backoff = min(2*q.backoff, q.cfg.maxBackoff)
	return d
}

// wait sleeps d; false when ctx ended or stop was closed first.
func (q *Queue) wait(ctx context.Context, stop <-chan struct{}, d time.Duration) bool {
	t := q.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return true
	case <-ctx.Done():
		return false
	case <-stop:
		return false
	}
}

// Shutdown refuses further Appends, stops Run, and sends what is buffered,
// oldest first, until everything is delivered or ctx ends. It returns nil
// when nothing was lost, else an error counting the batches and samples
// that were not delivered (also counted in rwkit_push_dropped_snapshots_total
// and logged once). Later calls wait for the first and return its result.
func (q *Queue) Shutdown(ctx context.Context) error {
	first := false
	q.shutdownOnce.Do(func() {
		first = true
		go func() {
			defer close(q.shutdownDone)
			q.shutdownErr = q.shutdown(ctx)
		}()
	})
	if first {
		// shutdown itself stops at ctx's end, and counts what it lost.
		<-q.shutdownDone
		return q.shutdownErr
	}
	select {
	case <-q.shutdownDone:
		return q.shutdownErr
	case <-ctx.Done():
		return fmt.Errorf("push: queue shutdown: %w", ctx.Err())
	}
}

func (q *Queue) shutdown(ctx context.Context) error {
	q.mu.Lock()
	q.closed = true
	close(q.stop)
	loopDone := q.loopDone
	q.mu.Unlock()
	runStopped := true
	if loopDone != nil {
		select {
		case <-loopDone:
		case <-ctx.Done():
			// Run's request in flight has not finished: what is buffered
			// behind it is lost, and so is the request if it fails.
			runStopped = false
		}
	}
	for runStopped && ctx.Err() == nil {
		s := q.next()
		if s == nil {
			return nil
		}
		q.deliver(ctx, nil, s)
	}
	q.mu.Lock()
	q.abandoned = true
	drops := q.buf.clear(dropShutdown, nil)
	q.mu.Unlock()
	inFlight := ""
	if !runStopped {
		inFlight = " (a request in flight was still running: it is lost too if it fails)"
	}
	if len(drops) == 0 {
		if !runStopped {
			return fmt.Errorf("push: queue shutdown: a request in flight to %s had not finished: %w", q.client.URL(), ctx.Err())
		}
		return nil
	}
	samples := 0
	for _, d := range drops {
		samples += d.s.samples
	}
	q.noteDrops(drops)
	q.log.Warn("push: shutdown ended before everything was delivered; dropping the rest",
		"url", q.client.URL(), "batches", len(drops), "samples", samples, "err", ctx.Err())
	return fmt.Errorf("push: queue shutdown: %d batches (%d samples) not delivered to %s%s: %w", len(drops), samples, q.client.URL(), inFlight, ctx.Err())
}

func (q *Queue) noteDrops(drops []drop) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.noteDropsLocked(drops)
}

// noteDropsLocked counts drops and logs the first of an outage.
func (q *Queue) noteDropsLocked(drops []drop) {
	if len(drops) == 0 {
		return
	}
	for _, d := range drops {
		q.m.dropped.WithLabelValues(d.reason).Inc()
		q.m.samples.WithLabelValues(resultFailed).Add(float64(d.s.samples))
	}
	if q.dropSeen || drops[0].reason == dropShutdown {
		return
	}
	q.dropSeen = true
	d := drops[0]
	q.log.Warn("push: dropping queued batches; later drops are counted, not logged, until the endpoint takes writes again",
		"url", q.client.URL(), "reason", d.reason, "batches", len(drops), "samples", d.s.samples,
		"buffered", q.buf.len(), "buffer_bytes", q.buf.bytes, "buffer_max_bytes", q.buf.maxBytes, "buffer_max_age", q.buf.maxAge)
}
