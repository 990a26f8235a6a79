package push

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rwkit/rwkit/gather"
	"github.com/rwkit/rwkit/identity"
	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/remotewrite/sigv4"
	"github.com/rwkit/rwkit/wire"
)

// Errors of Run and Push.
var (
	// ErrShutdown is returned by Push and Run after Shutdown.
	ErrShutdown = errors.New("push: the Pusher is shut down")
	// ErrRunning is returned by Run while another Run is running.
	ErrRunning = errors.New("push: Run is already running")
)

// Pusher pushes the metrics of one Gatherer to one remote-write endpoint.
// Its methods are safe for concurrent use; pushes never overlap.
type Pusher struct {
	cfg   config
	g     prometheus.Gatherer
	phase time.Duration

	sem chan struct{} // held by the one push in progress

	// Guarded by sem.
	sender
	conv     *gather.Converter
	convOpts gather.Options    // conv's, for Once's one-shot conversion
	req      wire.WriteRequest // the newest snapshot; reused
	lastTS   int64
	finished bool // the final push ran

	mu         sync.Mutex // guards the fields below
	running    bool
	closed     bool
	stop       chan struct{} // closed by Shutdown
	loopDone   chan struct{} // closed when Run's loop returns
	cancelPush context.CancelFunc

	shutdownOnce sync.Once
	shutdownDone chan struct{}
	shutdownErr  error
}

// New returns a Pusher that pushes what g gathers to the remote-write
// endpoint url (for AMP https://aps-workspaces.<region>.amazonaws.com/workspaces/<id>/api/v1/remote_write).
//
// New resolves the identity (service and instance labels; see package
// identity) and fails with an *identity.UnresolvedError, wrapped, naming
// every source tried and how to set a value, unless WithoutIdentity is
// given. It gathers g once to check that its metrics can be sent with the
// labels push adds, and registers the self-metrics when WithRegisterer is
// given. It starts no goroutine: call Run.
//
// New may block while identity consults the ECS task metadata endpoint
// (at most a few seconds, only on ECS when no explicit value is set).
func New(url string, g prometheus.Gatherer, opts ...Option) (*Pusher, error) {
	p, extra, err := assemble(url, g, opts)
	if err != nil {
		return nil, err
	}
	cfg := &p.cfg
	if cfg.batchTS != 0 {
		return nil, errors.New("push: WithBatchTimestamp is for Once: a Pusher stamps each push when it happens")
	}
	// A label that collides now collides on every push: say so here, where
	// the mistake is made, rather than in a log hours later.
	var ge *gather.GatherError
	if _, err := p.conv.AppendGatherer(&p.req, g); err != nil && !errors.As(err, &ge) {
		var lce *gather.LabelConflictError
		if errors.As(err, &lce) {
			return nil, fmt.Errorf("push: %w; rename the metric's label, pick other identity label names with WithIdentityLabels, or keep both with WithRenameConflictingLabels", err)
		}
		return nil, fmt.Errorf("push: the gatherer's metrics cannot be sent: %w", err)
	}
	p.req.Series, p.req.Metadata = p.req.Series[:0], p.req.Metadata[:0]

	if err := p.m.register(cfg.registerer); err != nil {
		return nil, fmt.Errorf("push: %w", err)
	}
	p.logStart(extra)
	return p, nil
}

// assemble is New without the check gather, the self-metrics and the
// start line: what Once needs too.
func assemble(url string, g prometheus.Gatherer, opts []Option) (*Pusher, []wire.Label, error) {
	if g == nil {
		return nil, nil, errors.New("push: nil Gatherer; pass a *prometheus.Registry or prometheus.DefaultGatherer")
	}
	cfg := defaultConfig()
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o.apply(&cfg); err != nil {
			return nil, nil, fmt.Errorf("push: %w", err)
		}
	}
	if cfg.clock == nil {
		cfg.clock = realClock{}
	}
	if cfg.rand == nil {
		cfg.rand = rand.Float64
	}
	if cfg.timeout == 0 {
		cfg.timeout = cfg.interval
	}
	if cfg.aligned && cfg.interval%time.Millisecond != 0 {
		return nil, nil, fmt.Errorf("push: WithAlignedTimestamps needs an interval of whole milliseconds, not %s", cfg.interval)
	}
	log := cfg.logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Pusher{
		cfg: cfg, g: g,
		sender: sender{
			log: log, m: newMetrics(), clock: cfg.clock,
			buf: buffer{maxBytes: cfg.bufBytes, maxAge: cfg.bufAge},
		},
		sem:          make(chan struct{}, 1),
		stop:         make(chan struct{}),
		shutdownDone: make(chan struct{}),
	}
	p.phase = time.Duration(cfg.rand() * cfg.jitter * float64(cfg.interval))

	extra, err := p.resolveLabels()
	if err != nil {
		return nil, nil, err
	}
	if p.client, p.signedFor, err = newClient(url, &cfg, log); err != nil {
		return nil, nil, err
	}
	p.ls = newLogState(log, cfg.clock, p.client.URL(), p.id, &p.buf)
	policy := gather.ConflictError
	if cfg.rename {
		policy = gather.ConflictRename
	}
	p.convOpts = gather.Options{
		Timestamp:        cfg.clock.Now().UnixMilli(),
		ExtraLabels:      extra,
		ConflictPolicy:   policy,
		NativeHistograms: cfg.nativeHistograms,
		Exemplars:        cfg.exemplars,
		HonorTimestamps:  cfg.honorTimestamps,
		// p.req is sent (or encoded into the buffer) before the next
		// build, and nothing keeps its series' labels.
		ShareLabels: true,
	}
	if p.conv, err = gather.NewConverter(p.convOpts); err != nil {
		return nil, nil, fmt.Errorf("push: %w", err)
	}
	return p, extra, nil
}

// identityFix names push's options for the values identity could not
// resolve; identity's own error names its sources (Options, the
// environment), which push's users reach through these options.
func identityFix(ue *identity.UnresolvedError) string {
	fix := "give"
	for i, m := range ue.Missing {
		if i > 0 {
			fix += " and"
		}
		switch m {
		case "service":
			fix += ` push.WithService("auth")`
		case "instance":
			fix += ` push.WithInstance("auth-1")`
		}
	}
	return fix
}

// resolveLabels returns the labels added to every series: identity, then
// WithLabels.
func (p *Pusher) resolveLabels() ([]wire.Label, error) {
	cfg := &p.cfg
	var extra []wire.Label
	if cfg.noIdentity {
		if cfg.service != "" || cfg.instance != "" {
			return nil, errors.New("push: WithoutIdentity contradicts WithService/WithInstance: drop one of them")
		}
	} else {
		o := cfg.identityOpts
		if cfg.service != "" {
			o.Service = cfg.service
		}
		if cfg.instance != "" {
			o.Instance = cfg.instance
		}
		if cfg.serviceLabel != "" {
			o.ServiceLabel, o.InstanceLabel = cfg.serviceLabel, cfg.instanceLabel
		}
		id, err := identity.Resolve(context.Background(), o)
		if err != nil {
			var ue *identity.UnresolvedError
			if errors.As(err, &ue) {
				return nil, fmt.Errorf("push: refusing to start without an identity, or writers sharing this workspace would overwrite each other's series: %s (use WithoutIdentity() if this is the only writer): %w", identityFix(ue), err)
			}
			return nil, fmt.Errorf("push: %w", err)
		}
		p.id = id
		extra = id.Labels()
	}
	for _, k := range slices.Sorted(maps.Keys(cfg.labels)) {
		if p.id != nil && (k == p.id.Service.Label || k == p.id.Instance.Label) {
			return nil, fmt.Errorf("push: WithLabels sets %q, which is an identity label: use WithService/WithInstance, or WithIdentityLabels to rename the identity labels", k)
		}
		extra = append(extra, wire.Label{Name: k, Value: cfg.labels[k]})
	}
	return extra, nil
}

func newClient(url string, cfg *config, log *slog.Logger) (*remotewrite.Client, string, error) {
	// The client logs every retry; push logs state changes. Its lines go
	// to the same handler at Debug, so that an outage is one line, not one
	// per attempt.
	// The labels p.req carries are strings from the Gatherer and gather:
	// they never change, which WithLabelCache needs.
	opts := []remotewrite.Option{remotewrite.WithVersion(cfg.version), remotewrite.WithLogger(slog.New(debugHandler{log.Handler()}))}
	if !cfg.streamed {
		opts = append(opts, remotewrite.WithLabelCache())
	}
	switch {
	case cfg.httpClient != nil:
		opts = append(opts, remotewrite.WithHTTPClient(cfg.httpClient))
	case cfg.remoteTimeout > 0:
		opts = append(opts, remotewrite.WithHTTPClient(&http.Client{Timeout: cfg.remoteTimeout}))
	}
	if cfg.backoffSet {
		opts = append(opts, remotewrite.WithRetry(cfg.minBackoff, cfg.maxBackoff, remotewrite.DefaultMaxAttempts))
	}
	rt, signedFor := cfg.transport, ""
	if rt == nil && cfg.httpClient != nil {
		rt = cfg.httpClient.Transport
	}
	region, sign, err := sigv4.Signing(url, cfg.sigv4Region, cfg.sigv4)
	if err != nil {
		return nil, "", fmt.Errorf("push: WithSigV4: %w", err)
	}
	sign = sign && !cfg.noSigV4
	if !cfg.auth.IsZero() {
		if sign && (cfg.auth.BearerTokenFile != "" || cfg.auth.BasicAuthUsername != "") {
			return nil, "", errors.New("push: SigV4 signing and a bearer token or basic auth both set Authorization: give one (an AMP URL is always signed)")
		}
		// Innermost: SigV4 signs what it is given, and the credentials
		// and TLS belong to the connection.
		if rt, err = cfg.auth.Transport(rt); err != nil {
			return nil, "", fmt.Errorf("push: %w", err)
		}
	}
	if sign {
		// The AWS SDK's log lines (its IMDS fallback warning) go to push's
		// logger at Debug, never to stderr.
		sopts := []sigv4.Option{sigv4.WithLogger(slog.New(debugHandler{log.Handler()}))}
		if rt != nil {
			sopts = append(sopts, sigv4.WithNext(rt))
		}
		tr, err := sigv4.NewDefault(context.Background(), region, sopts...)
		if err != nil {
			if !cfg.sigv4 {
				return nil, "", fmt.Errorf("push: the URL is an Amazon Managed Service for Prometheus workspace (region %s), which needs SigV4 signing: %w (or give WithoutSigV4 when the transport signs)", region, err)
			}
			return nil, "", fmt.Errorf("push: WithSigV4: %w", err)
		}
		rt, signedFor = tr, tr.Region()
	}
	if rt != nil {
		opts = append(opts, remotewrite.WithTransport(rt))
	}
	c, err := remotewrite.New(url, append(opts, cfg.clientOpts...)...)
	if err != nil {
		return nil, "", fmt.Errorf("push: %w", err)
	}
	return c, signedFor, nil
}

// Identity returns the resolved identity, or nil under WithoutIdentity.
func (p *Pusher) Identity() *identity.Identity { return p.id }

// Run pushes every interval until ctx ends or Shutdown is called, and
// returns nil then. The first push happens after the jitter phase (see
// WithJitter). A push still running when the next is due makes that one
// skipped (counted in rwkit_push_skipped_intervals_total): pushes never
// overlap and Run uses one goroutine, its caller's.
//
// Run returns ErrShutdown after Shutdown and ErrRunning while another Run
// runs.
func (p *Pusher) Run(ctx context.Context) error {
	p.mu.Lock()
	switch {
	case p.closed:
		p.mu.Unlock()
		return ErrShutdown
	case p.running:
		p.mu.Unlock()
		return ErrRunning
	}
	p.running = true
	done := make(chan struct{})
	p.loopDone = done
	// Shutdown cancels the push in flight: its snapshot then goes out with
	// the final push.
	runCtx, cancel := context.WithCancel(ctx)
	p.cancelPush = cancel
	p.mu.Unlock()
	defer func() {
		cancel()
		p.mu.Lock()
		p.running = false
		p.mu.Unlock()
		close(done)
	}()

	base := p.clock.Now().Add(p.phase)
	tick := int64(0)
	overrun := false
	for {
		t := p.clock.NewTimer(base.Add(time.Duration(tick) * p.cfg.interval).Sub(p.clock.Now()))
		select {
		case <-t.C():
		case <-runCtx.Done():
			t.Stop()
			return nil
		case <-p.stop:
			t.Stop()
			return nil
		}
		_ = p.push(runCtx, false)
		// The next tick is the first one after now; those that passed
		// while pushing are skipped.
		next := max(int64(p.clock.Now().Sub(base)/p.cfg.interval)+1, tick+1)
		if skipped := next - tick - 1; skipped > 0 {
			p.m.skipped.Add(float64(skipped))
			if !overrun {
				p.log.Warn("push: a push took longer than the interval; skipping the pushes it overran (counted, not logged, until pushes fit again)",
					"interval", p.cfg.interval, "skipped", skipped, "timeout", p.cfg.timeout)
			}
			overrun = true
		} else {
			overrun = false
		}
		tick = next
	}
}

// Push pushes once now: buffered snapshots first, oldest first, then a new
// snapshot. It waits for a push in progress to finish. It returns nil when
// everything was delivered; otherwise the errors of this push joined:
// *remotewrite.Error for a refusal or an undelivered write (the snapshot is
// then buffered), *gather.LabelConflictError and other conversion errors
// when no snapshot could be built.
func (p *Pusher) Push(ctx context.Context) error {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return ErrShutdown
	}
	return p.push(ctx, false)
}

// Shutdown stops Run, cancelling a push in flight, then pushes one final
// snapshot after whatever is buffered, and, with
// WithStaleMarkersOnShutdown, stale markers for the series of that
// snapshot. It returns when done or when ctx ends, whichever is first;
// snapshots not delivered by then are dropped (counted) and ctx's error is
// returned. Later calls wait for the first and return its result. Shutdown
// without Run is fine: it pushes once.
func (p *Pusher) Shutdown(ctx context.Context) error {
	p.shutdownOnce.Do(func() {
		go func() {
			defer close(p.shutdownDone)
			p.shutdownErr = p.shutdown(ctx)
		}()
	})
	select {
	case <-p.shutdownDone:
		return p.shutdownErr
	case <-ctx.Done():
		return fmt.Errorf("push: shutdown: %w", ctx.Err())
	}
}

func (p *Pusher) shutdown(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	close(p.stop)
	loopDone, cancel := p.loopDone, p.cancelPush
	p.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	if loopDone != nil {
		select {
		case <-loopDone:
		case <-ctx.Done():
			return fmt.Errorf("push: shutdown: waiting for Run to stop: %w", ctx.Err())
		}
	}
	return p.push(ctx, true)
}

// logStart logs the identity once.
func (p *Pusher) logStart(extra []wire.Label) {
	attrs := []any{"url", p.client.URL(), "interval", p.cfg.interval, "version", p.client.Version().String()}
	if p.id == nil {
		p.log.Warn("push: pushing without identity labels (WithoutIdentity): this must be the only writer of these series", attrs...)
		return
	}
	attrs = append(attrs,
		slog.Group(p.id.Service.Label, "value", p.id.Service.Value, "source", p.id.Service.Source),
		slog.Group(p.id.Instance.Label, "value", p.id.Instance.Value, "source", p.id.Instance.Source),
		"labels", labelsString(extra))
	p.log.Info("push: writing as "+p.id.String(), attrs...)
}

func labelsString(ls []wire.Label) string {
	b := make([]byte, 0, 64)
	b = append(b, '{')
	for i, l := range ls {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, "%s=%q", l.Name, l.Value)
	}
	return string(append(b, '}'))
}

// debugHandler logs every record at Debug level.
type debugHandler struct{ h slog.Handler }

func (d debugHandler) Enabled(ctx context.Context, _ slog.Level) bool {
	return d.h.Enabled(ctx, slog.LevelDebug)
}

func (d debugHandler) Handle(ctx context.Context, r slog.Record) error {
	r.Level = slog.LevelDebug
	return d.h.Handle(ctx, r)
}

func (d debugHandler) WithAttrs(as []slog.Attr) slog.Handler { return debugHandler{d.h.WithAttrs(as)} }
func (d debugHandler) WithGroup(name string) slog.Handler    { return debugHandler{d.h.WithGroup(name)} }
