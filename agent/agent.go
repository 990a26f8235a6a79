package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/discovery"
	"github.com/prometheus/prometheus/discovery/targetgroup"
	"github.com/prometheus/prometheus/model/timestamp"
	"github.com/prometheus/prometheus/scrape"

	"github.com/rwkit/rwkit/internal/promreg"
	"github.com/rwkit/rwkit/internal/redact"
)

// Options configure an Agent. The zero value is the defaults.
type Options struct {
	// Logger receives the agent's and the scrape manager's lines. Default:
	// nothing is logged.
	Logger *slog.Logger
	// Registerer receives the scrape manager's metrics (prometheus_target_*,
	// prometheus_sd_*) and the agent's (rwkit_agent_*), and is handed to
	// QueueSink. Default: none are registered anywhere.
	Registerer prometheus.Registerer
	// StaleMarkersOnShutdown makes Shutdown write a stale marker (StaleNaN)
	// for every series the last scrape of each target sent, so that queries
	// stop showing them at once instead of for the 5-minute lookback.
	// Default off, as in Prometheus, which expects to be restarted and
	// carry on the series; a sidecar that dies with its service wants it
	// (the rwkit agent command turns it on).
	StaleMarkersOnShutdown bool
	// NewSink makes the sink of one remote_write (name: its name, or one
	// made from its URL). Default: QueueSink with these Options.
	NewSink func(rw *config.RemoteWriteConfig, name string) (Sink, error)
	// PrometheusScrapeLoop runs every job on Prometheus' scrape loop.
	// Default: a job that needs nothing more than agent/stream's loop
	// does runs on it (cheaper; see the package doc), the others on
	// Prometheus'.
	PrometheusScrapeLoop bool
}

// Agent scrapes the targets of a Prometheus configuration with
// Prometheus' scrape manager and sends each committed scrape to the sinks
// of its remote_write sections.
type Agent struct {
	opts    Options
	logger  *slog.Logger
	mgr     *scrape.Manager
	app     *appendable
	sinks   []*sink
	tsets   map[string][]*targetgroup.Group
	stream  *streamJobs // the jobs on agent/stream's loop
	metrics *metrics
	sinkReg *promreg.Tracking // the default sinks' registerer; nil without Options.Registerer

	stop     chan struct{} // closed by Shutdown: Run returns
	stopOnce sync.Once

	mu      sync.Mutex
	running bool
	runDone chan struct{} // closed when Run has stopped scraping
	// sinksDone is closed when the sinks' Run have returned (nil before
	// Run starts them); Shutdown closes sinksShut once it has shut them
	// down, which ends their context, and waits for sinksDone.
	sinksDone chan struct{}
	sinksShut chan struct{}

	stopMu     sync.Mutex // held while the scrape manager stops
	mgrStopped bool

	shutOnce sync.Once
	shutErr  error
}

// New builds an Agent for cfg, which must come from Load, LoadFile or
// StaticConfig: they check that cfg only uses what the agent runs. New
// makes one sink per remote_write and the scrape manager; nothing runs
// until Run.
func New(cfg *config.Config, o Options) (*Agent, error) {
	if cfg == nil {
		return nil, errors.New("agent: nil config: load one with agent.LoadFile")
	}
	if err := checkLoaded(cfg, "config", &checker{}); err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	logger := slog.New(slog.DiscardHandler)
	if o.Logger != nil {
		// Prometheus' scrape manager logs a target's URL with its query
		// (target=http://h/metrics?token=...), and the errors it logs
		// quote it too: every line, the queues' included, is redacted.
		logger = slog.New(redact.Handler(o.Logger.Handler()))
		o.Logger = logger
	}
	a := &Agent{opts: o, logger: logger, metrics: newMetrics(), stop: make(chan struct{}), runDone: make(chan struct{}), sinksShut: make(chan struct{})}
	if err := a.makeSinks(cfg.RemoteWriteConfigs); err != nil {
		return nil, err
	}
	reg := o.Registerer
	if reg == nil {
		// The scrape manager registers its metrics unconditionally: give
		// it a registry nobody reads.
		reg = prometheus.NewRegistry()
	}
	rest, err := a.splitJobs(cfg)
	if err != nil {
		a.sinkReg.UnregisterAll()
		return nil, err
	}
	reg = &mergeRegisterer{Registerer: reg, wrapped: map[prometheus.Collector]prometheus.Collector{}, extra: map[string]*atomic.Uint64{
		"prometheus_target_scrapes_sample_duplicate_timestamp_total": &a.stream.repeated,
		"prometheus_target_scrapes_sample_out_of_bounds_total":       &a.stream.outOfBounds,
		"prometheus_target_scrapes_exceeded_sample_limit_total":      &a.stream.sampleLimit,
		"prometheus_target_scrapes_exceeded_body_size_limit_total":   &a.stream.bodySizeLimit,
	}}
	if err := a.makeManager(cfg, rest, reg); err != nil {
		return nil, err
	}
	a.tsets = staticTargets(rest)
	return a, nil
}

// makeSinks makes one sink per remote_write: Options.NewSink's, else a
// queue whose metrics go on a registerer of their own, so that they are
// unregistered with the agent's.
func (a *Agent) makeSinks(rws []*config.RemoteWriteConfig) error {
	o := a.opts
	newSink := o.NewSink
	if newSink == nil {
		so := o
		if o.Registerer != nil {
			a.sinkReg = promreg.New(o.Registerer)
			so.Registerer = a.sinkReg
		}
		newSink = func(rw *config.RemoteWriteConfig, name string) (Sink, error) { return QueueSink(rw, name, so) }
	}
	names := sinkNames(rws)
	for i, rw := range rws {
		s, err := newSink(rw, names[i])
		if err != nil {
			a.sinkReg.UnregisterAll()
			return fmt.Errorf("agent: remote_write %q: %w", names[i], err)
		}
		a.sinks = append(a.sinks, wrapSink(rw, names[i], s))
	}
	return nil
}

// makeManager registers the agent's self-metrics on reg and makes the
// scrape manager, which appends to the sinks, for cfg's scrape_configs.
// On an error nothing stays registered.
func (a *Agent) makeManager(cfg, rest *config.Config, reg prometheus.Registerer) error {
	for _, c := range a.metrics.collectors() {
		if err := reg.Register(c); err != nil {
			a.unregister(reg)
			return fmt.Errorf("agent: registering self-metrics: %w", err)
		}
	}
	a.app = newAppendable(a.sinks, cfg.GlobalConfig.ExternalLabels, a.metrics, a.logger)
	mgr, err := scrape.NewManager(&scrape.Options{
		// The target in the appender's context tells which target a
		// commit belongs to.
		PassMetadataInContext: true,
		// Metadata with each sample (RW 2.0 sends it on each series).
		AppendMetadata: true,
		// Start scraping as soon as Run hands over the targets, not after
		// the first 5s discovery reload tick.
		DiscoveryReloadOnStartup: true,
	}, a.logger.With("component", "scrape manager"), nil, nil, a.app, reg)
	if err != nil {
		a.unregister(reg)
		return fmt.Errorf("agent: %w", err)
	}
	if err := mgr.ApplyConfig(rest); err != nil {
		mgr.UnregisterMetrics()
		a.unregister(reg)
		return fmt.Errorf("agent: %w", err)
	}
	a.mgr = mgr
	return nil
}

// staticTargets are cfg's static_configs target groups, keyed by job: the
// only discovery, handed to the scrape manager as the discovery manager
// would.
func staticTargets(cfg *config.Config) map[string][]*targetgroup.Group {
	tsets := map[string][]*targetgroup.Group{}
	for _, sc := range cfg.ScrapeConfigs {
		for _, d := range sc.ServiceDiscoveryConfigs {
			if sd, ok := d.(discovery.StaticConfig); ok {
				tsets[sc.JobName] = append(tsets[sc.JobName], sd...)
			}
		}
	}
	return tsets
}

func (a *Agent) unregister(reg prometheus.Registerer) {
	for _, c := range a.metrics.collectors() {
		reg.Unregister(c)
	}
	a.sinkReg.UnregisterAll()
}

// sinkNames names each remote_write: its name, else its URL's host and
// path (never the credentials a URL may carry); made unique by an index.
func sinkNames(rws []*config.RemoteWriteConfig) []string {
	names := make([]string, len(rws))
	seen := map[string]bool{}
	for i, rw := range rws {
		n := rw.Name
		if n == "" && rw.URL != nil && rw.URL.URL != nil {
			n = rw.URL.Host + rw.URL.Path
		}
		if n == "" || seen[n] {
			n = fmt.Sprintf("%s#%d", n, i)
		}
		seen[n] = true
		names[i] = n
	}
	return names
}

// Run scrapes the targets and sends every scrape to the sinks until ctx
// ends or Shutdown is called. It then stops scraping (a scrape in flight
// completes and is sent). After Shutdown, the sinks go on until Shutdown
// shuts them down, which lets a request in flight finish; when ctx ends,
// their Run ends too, aborting a request in flight (one the receiver had
// already stored is then sent again by Shutdown). Stop with Shutdown.
// Run returns nil, or the error of a sink's Run.
func (a *Agent) Run(ctx context.Context) error {
	a.mu.Lock()
	if a.running {
		a.mu.Unlock()
		return errors.New("agent: Run called twice")
	}
	a.running = true
	a.mu.Unlock()
	defer close(a.runDone)
	select {
	case <-a.stop:
		a.stopScraping()
		return nil
	default:
	}

	sinkCtx, cancelSinks := context.WithCancel(context.Background())
	errc := make(chan error, len(a.sinks))
	var wg sync.WaitGroup
	sinksDone := make(chan struct{})
	a.mu.Lock()
	a.sinksDone = sinksDone
	a.mu.Unlock()
	for _, s := range a.sinks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.s.Run(sinkCtx); err != nil && !errors.Is(err, context.Canceled) {
				errc <- fmt.Errorf("agent: remote_write %q: %w", s.name, err)
			}
		}()
	}

	tsets := make(chan map[string][]*targetgroup.Group, 1)
	tsets <- a.tsets
	mgrDone := make(chan struct{})
	go func() {
		defer close(mgrDone)
		_ = a.mgr.Run(tsets) // returns nil when stopped
	}()
	a.stream.start()
	a.logger.Info("agent scraping", "jobs", len(a.tsets)+len(a.stream.jobs), "remote_writes", len(a.sinks))
	a.logLoops()

	go func() {
		wg.Wait()
		close(sinksDone)
	}()
	go func() {
		// Shutdown has shut the sinks down (even if it has not seen
		// sinksDone yet), or they stopped on their own.
		select {
		case <-a.sinksShut:
		case <-sinksDone:
		}
		cancelSinks()
	}()

	var err error
	stopped := false
	select {
	case <-ctx.Done():
	case <-a.stop:
		stopped = true
	case err = <-errc:
	}
	a.stopScraping()
	<-mgrDone
	if !stopped {
		cancelSinks()
		<-sinksDone
	}
	return err
}

// stopScraping stops the scrape manager once: loops finish the scrape in
// flight (committed and sent), then no appender commits anything more.
func (a *Agent) stopScraping() {
	a.stopMu.Lock()
	defer a.stopMu.Unlock()
	if a.mgrStopped {
		return
	}
	a.mgrStopped = true
	a.stream.stop()
	a.mgr.Stop()
	a.app.closed.Store(true)
}

// Shutdown stops scraping, writes the stale markers if
// StaleMarkersOnShutdown, and shuts each sink down (flushing what it
// holds), in parallel. It returns when done or when ctx ends, with the
// sinks' errors. Calling it again returns the first call's result.
func (a *Agent) Shutdown(ctx context.Context) error {
	a.shutOnce.Do(func() { a.shutErr = a.shutdown(ctx) })
	return a.shutErr
}

func (a *Agent) shutdown(ctx context.Context) error {
	a.stopOnce.Do(func() { close(a.stop) })
	a.mu.Lock()
	running := a.running
	a.mu.Unlock()
	var errs []error
	stopped := true
	if running {
		select {
		case <-a.runDone:
		case <-ctx.Done():
			// Run is still stopping the scrape manager: what it commits
			// from now on is dropped, and the sinks are shut down all the
			// same (with ctx ended, they count what they lose), or they
			// would run on after Shutdown.
			stopped = false
			a.app.closed.Store(true)
			a.stream.drop.Store(true)
			errs = append(errs, fmt.Errorf("agent: shutdown: waiting for scraping to stop: %w", ctx.Err()))
		}
	}
	if stopped {
		a.stopScraping()
		if a.opts.StaleMarkersOnShutdown {
			now := time.Now()
			a.app.staleAll(timestamp.FromTime(now))
			a.stream.staleAll(now)
		}
	}
	errs = append(errs, make([]error, len(a.sinks))...)
	sinkErrs := errs[len(errs)-len(a.sinks):]
	var wg sync.WaitGroup
	for i, s := range a.sinks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.s.Shutdown(ctx); err != nil {
				sinkErrs[i] = fmt.Errorf("agent: remote_write %q: %w", s.name, err)
			}
		}()
	}
	wg.Wait()
	close(a.sinksShut)
	a.mu.Lock()
	sinksDone := a.sinksDone
	a.mu.Unlock()
	if sinksDone != nil {
		select {
		case <-sinksDone:
		case <-ctx.Done():
		}
	}
	a.mgr.UnregisterMetrics()
	if a.opts.Registerer != nil {
		a.unregister(a.opts.Registerer)
	}
	return errors.Join(errs...)
}
