package agent

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/util/osutil"

	"github.com/rwkit/rwkit/agent/stream"
	"github.com/rwkit/rwkit/push"
	"github.com/rwkit/rwkit/wire"
)

// streamIneligible says why job sc cannot run on agent/stream's loop
// ("" when it can): what it needs that the loop does not do (the loop's
// package doc lists what it does).
func streamIneligible(cfg *config.Config, sc *config.ScrapeConfig, sinks []*sink) string {
	for _, s := range sinks {
		if s.batch == nil && s.metadata {
			// A RW 1.0 queue sends no metadata; another Sink is handed
			// the metadata of each series, which the loop does not read.
			return "remote_write " + s.name + " takes metadata (metadata_config.send)"
		}
	}
	switch {
	case sc.ScrapeNativeHistogramsEnabled():
		return "scrape_native_histograms"
	case sc.ConvertClassicHistogramsToNHCBEnabled():
		return "convert_classic_histograms_to_nhcb"
	case sc.TargetLimit > 0:
		return "target_limit"
	case !hasTextProtocol(sc):
		return "scrape_protocols without a text format"
	}
	switch sc.ScrapeFallbackProtocol {
	case "", config.PrometheusText0_0_4, config.PrometheusText1_0_0:
	default:
		return "fallback_scrape_protocol " + string(sc.ScrapeFallbackProtocol)
	}
	for i, rw := range cfg.RemoteWriteConfigs {
		switch {
		case rwVersion(rw) == wire.V2:
			return "remote_write RW 2.0"
		case rw.SendExemplars:
			return "remote_write send_exemplars"
		case rw.SendNativeHistograms:
			return "remote_write send_native_histograms"
		case i > 0 && !reflect.DeepEqual(rw.WriteRelabelConfigs, cfg.RemoteWriteConfigs[0].WriteRelabelConfigs):
			return "remote_writes with different write_relabel_configs"
		}
	}
	return ""
}

func hasTextProtocol(sc *config.ScrapeConfig) bool {
	protos := sc.ScrapeProtocols
	if len(protos) == 0 {
		protos = config.DefaultScrapeProtocols
	}
	for _, p := range protos {
		if p == config.PrometheusText0_0_4 || p == config.PrometheusText1_0_0 {
			return true
		}
	}
	return false
}

// streamJobs are the jobs on agent/stream's loop: one Loop per target.
type streamJobs struct {
	loops  []*streamTarget
	jobs   []string // on the stream loop
	others []string // on Prometheus' scrape loop, with why
	seed   uint64   // the loops' offset seed, Prometheus' for this host and external labels

	// repeated, outOfBounds, sampleLimit and bodySizeLimit are added to
	// the scrape manager's counters of the same names (see
	// mergeRegisterer).
	repeated, outOfBounds, sampleLimit, bodySizeLimit atomic.Uint64

	cancel context.CancelFunc
	wg     sync.WaitGroup
	drop   atomic.Bool // Shutdown gave up waiting: nothing more reaches a sink
}

type streamTarget struct {
	job    string
	target string // URL, for logs (the agent's logger redacts its query)
	up     int8   // the last scrape's up: -1 none yet
	l      *stream.Loop
	out    *streamOut
	d      time.Duration
}

// splitJobs makes the loops of the jobs that can run on the stream loop
// and returns the configuration of the rest, for the scrape manager.
func (a *Agent) splitJobs(cfg *config.Config) (*config.Config, error) {
	a.stream = &streamJobs{}
	if a.opts.PrometheusScrapeLoop {
		for _, sc := range cfg.ScrapeConfigs {
			a.stream.others = append(a.stream.others, sc.JobName+" (PrometheusScrapeLoop)")
		}
		return cfg, nil
	}
	rest := *cfg
	rest.ScrapeConfigs = nil
	for _, sc := range cfg.ScrapeConfigs {
		why := streamIneligible(cfg, sc, a.sinks)
		if why != "" {
			rest.ScrapeConfigs = append(rest.ScrapeConfigs, sc)
			a.stream.others = append(a.stream.others, fmt.Sprintf("%s (%s)", sc.JobName, why))
			continue
		}
		if err := a.addStreamJob(cfg, sc); err != nil {
			return nil, err
		}
		a.stream.jobs = append(a.stream.jobs, sc.JobName)
	}
	return &rest, nil
}

func (a *Agent) addStreamJob(cfg *config.Config, sc *config.ScrapeConfig) error {
	targets, err := stream.Targets(sc)
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	if len(a.stream.jobs) == 0 {
		// Looked up once, and only when a job runs on the stream loop
		// (the scrape manager looks it up for the others).
		a.stream.seed = offsetSeed(cfg)
	}
	opts := []stream.Option{stream.WithExternalLabels(cfg.GlobalConfig.ExternalLabels), stream.WithOffsetSeed(a.stream.seed)}
	if len(cfg.RemoteWriteConfigs) > 0 {
		rw := cfg.RemoteWriteConfigs[0]
		opts = append(opts, stream.WithWriteRelabel(rw.WriteRelabelConfigs))
		if n := rw.QueueConfig.MaxSamplesPerSend; n > 0 {
			// Whole requests of the first queue; a little more is held.
			opts = append(opts, stream.WithWriteSeries(min(5*n, 50_000)))
		}
	}
	for _, t := range targets {
		st := &streamTarget{job: sc.JobName, target: t.URL().String(), up: -1, out: &streamOut{a: a, job: sc.JobName}, d: time.Duration(sc.ScrapeInterval)}
		// Counted before the sinks take the scrape, as the scrape
		// manager counts before it commits.
		l, err := stream.New(sc, t, st.out, append(opts, stream.WithReport(func(r stream.Report) { st.count(a, a.stream, r) }))...)
		if err != nil {
			return fmt.Errorf("agent: %w", err)
		}
		st.l = l
		a.stream.loops = append(a.stream.loops, st)
	}
	return nil
}

// offsetSeed is the seed Prometheus' scrape manager spreads this agent's
// scrapes with: of the host's fully qualified name and the external labels.
func offsetSeed(cfg *config.Config) uint64 {
	host, err := osutil.GetFQDN()
	if err != nil {
		host = ""
	}
	return stream.OffsetSeed(host, cfg.GlobalConfig.ExternalLabels)
}

// logLoops says, in one line, which jobs run on which loop.
func (a *Agent) logLoops() {
	a.logger.Info("agent scrape loops", "stream", strings.Join(a.stream.jobs, ","), "prometheus", strings.Join(a.stream.others, ", "))
}

// start runs every stream loop until stop.
func (s *streamJobs) start() {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	for _, t := range s.loops {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			t.run(ctx)
		}()
	}
}

// stop stops the loops (a scrape in flight ends, its series sent) and
// waits for them.
func (s *streamJobs) stop() {
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
}

// staleAll writes the stale markers of a shutdown for every target.
func (s *streamJobs) staleAll(now time.Time) {
	for _, t := range s.loops {
		_ = t.l.StaleAll(now) // the output counts a sink's refusal
	}
}

func (t *streamTarget) run(ctx context.Context) {
	select {
	case <-ctx.Done():
		return
	case <-time.After(t.l.Offset(time.Now())):
	}
	tick := time.NewTicker(t.d)
	defer tick.Stop()
	for {
		// A scrape in flight when stopping completes: its context is
		// not the loop's.
		_, _ = t.l.Scrape(context.WithoutCancel(ctx), time.Now()) // counted by WithReport
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// count adds a scrape's refusals to the self-metrics, as Prometheus'
// scrape loop and the agent's storage count them.
func (t *streamTarget) count(a *Agent, s *streamJobs, r stream.Report) {
	t.logUp(a, r.Err)
	s.repeated.Add(uint64(r.Repeated))
	s.outOfBounds.Add(uint64(r.OutOfBounds))
	if r.SampleLimitExceeded {
		s.sampleLimit.Add(1)
	}
	if r.BodySizeLimitExceeded {
		s.bodySizeLimit.Add(1)
	}
	if d := r.Duplicates - r.Repeated; d > 0 {
		a.metrics.duplicates.WithLabelValues(t.job).Add(float64(d))
		if t.out.loggedDup.CompareAndSwap(false, true) {
			a.logger.Warn("target exposes a series twice at one timestamp; keeping the first, counting the rest in rwkit_agent_duplicate_samples_total", "job", t.job)
		}
	}
	if r.OutOfOrder > 0 {
		a.metrics.outOfOrder.WithLabelValues(t.job).Add(float64(r.OutOfOrder))
		if t.out.loggedOOO.CompareAndSwap(false, true) {
			a.logger.Warn("target exposes a sample older than one already sent for its series; dropping it, counting the rest in rwkit_agent_out_of_order_samples_total", "job", t.job)
		}
	}
	if r.PromParsed && t.out.loggedProm.CompareAndSwap(false, true) {
		a.logger.Info("target's body is parsed by Prometheus' text parser from now on (the stream parser failed it, or it is not the text format)", "job", t.job, "err", r.Err)
	}
}

// logUp logs when the target goes down and when it is back, as the
// agent's storage does for Prometheus' loop.
func (t *streamTarget) logUp(a *Agent, err error) {
	now := int8(1)
	if err != nil {
		now = 0
		a.logger.Debug("scrape failed", "job", t.job, "target", t.target, "err", err)
	}
	switch {
	case now == 0 && t.up != 0:
		a.logger.Warn("target down: its scrape failed (up 0; its series are marked stale); --log-level debug shows why", "job", t.job, "target", t.target)
	case now == 1 && t.up == 0:
		a.logger.Info("target up again", "job", t.job, "target", t.target)
	}
	t.up = now
}

// streamOut hands a stream loop's scrapes to every sink: encoded series
// to a queue on RW 1.0, a decoded request to any other Sink.
type streamOut struct {
	a   *Agent
	job string

	batch push.Batch
	req   wire.WriteRequest

	loggedDup, loggedOOO, loggedProm atomic.Bool
}

func (o *streamOut) Write(body []byte, samples int) error {
	a := o.a
	if a.stream.drop.Load() {
		return nil
	}
	if err := o.batch.SetEncoded(body, 1); err != nil { // a stream loop's series have one sample each
		return err
	}
	decoded := false
	for _, s := range a.sinks {
		if s.batch != nil {
			a.app.handed(s, s.appendBatch(&o.batch), o.batch.Len(), samples, o.job)
			continue
		}
		if !decoded {
			clear(o.req.Series)
			o.req.Series = o.req.Series[:0]
			if err := wire.DecodeWriteRequest(body, &o.req); err != nil {
				return err
			}
			decoded = true
		}
		a.app.handed(s, s.append(&o.req), len(o.req.Series), samples, o.job)
	}
	o.batch.Reset()
	return nil
}
