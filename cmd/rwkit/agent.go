package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/discovery"

	"github.com/rwkit/rwkit/agent"
	"github.com/rwkit/rwkit/identity"
	"github.com/rwkit/rwkit/internal/redact"
	"github.com/rwkit/rwkit/wire"
)

func init() {
	register("agent", "scrape /metrics as a Prometheus agent does and remote-write it (flags or a prometheus.yml)", func(s stdio) command { return &agentCommand{stdio: s} })
}

type agentCommand struct {
	stdio
	configFile string
	listen     string

	// Flag mode: what a prometheus.yml would say.
	url              string
	targets          listFlag
	service          string
	instance         string
	labels           labelsFlag
	interval         time.Duration
	scrapeTimeout    time.Duration
	honorLabels      bool
	honorTimestamps  bool
	sendExemplars    bool
	nativeHistograms bool
	remoteTimeout    time.Duration
	minBackoff       time.Duration
	maxBackoff       time.Duration
	rwVersion        int
	sigv4Region      string
	sigv4            bool
	withoutIdentity  bool
	serviceLabel     string
	instanceLabel    string
	auth             authFlags

	// Both modes.
	staleMarkers         bool
	prometheusScrapeLoop bool
	shutdownTimeout      time.Duration
	logLevel             string

	// ready, when set (tests), receives the self-metrics address once
	// the agent serves it.
	ready chan<- string
}

const agentExample = `  # a Prometheus agent's own configuration, unchanged:
  rwkit agent --config.file prometheus.yml --web.listen-address 127.0.0.1:9096
  # next to a Quarkus service on ECS (service and instance from the task metadata):
  rwkit agent --url https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-1234/api/v1/remote_write \
    --scrape http://127.0.0.1:8080/q/metrics
  # two processes on one host, each its own service, to a multi-tenant Cortex:
  rwkit agent --url http://127.0.0.1:9009/api/v1/push --tenant team-a --instance $(hostname) \
    --scrape auth=http://127.0.0.1:8080/metrics --scrape bff=http://127.0.0.1:8081/metrics`

// flagModeOnly are the flags that describe what a configuration file
// says; with --config.file each is an error naming the key to use.
var flagModeOnly = map[string]string{
	"url": "remote_write[].url", "scrape": "scrape_configs[].static_configs", "service": "static_configs[].labels",
	"instance": "static_configs[].labels", "label": "global.external_labels or static_configs[].labels",
	"interval": "global.scrape_interval", "scrape-timeout": "global.scrape_timeout", "honor-labels": "scrape_configs[].honor_labels",
	"honor-timestamps": "scrape_configs[].honor_timestamps", "send-exemplars": "remote_write[].send_exemplars",
	"native-histograms": "scrape_native_histograms and remote_write[].send_native_histograms",
	"remote-timeout":    "remote_write[].remote_timeout", "min-backoff": "remote_write[].queue_config.min_backoff",
	"max-backoff": "remote_write[].queue_config.max_backoff", "rw-version": "remote_write[].protobuf_message",
	"sigv4-region": "remote_write[].sigv4.region", "sigv4": "remote_write[].sigv4", "without-identity": "static_configs[].labels",
	"service-label": "static_configs[].labels", "instance-label": "static_configs[].labels",
	"tenant": "remote_write[].headers", "header": "remote_write[].headers", "bearer-token-file": "remote_write[].authorization.credentials_file",
	"basic-auth-username": "remote_write[].basic_auth", "basic-auth-password-file": "remote_write[].basic_auth",
	"tls-ca-file": "remote_write[].tls_config", "tls-cert-file": "remote_write[].tls_config", "tls-key-file": "remote_write[].tls_config",
	"tls-server-name": "remote_write[].tls_config",
}

func (c *agentCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet()
	if err := parseFlags(fs, args, c.getenv); err != nil {
		return err
	}
	logger, err := c.checkCommonFlags()
	if err != nil {
		return err
	}
	cfg, err := c.config(ctx, fs)
	if err != nil {
		return err
	}
	c.setGOGC()
	reg := prometheus.NewRegistry()
	// The process' own, as a Prometheus agent serves them (go_gc_gogc_percent
	// among them).
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a, err := agent.New(cfg, agent.Options{Logger: logger, Registerer: reg, StaleMarkersOnShutdown: c.staleMarkers, PrometheusScrapeLoop: c.prometheusScrapeLoop})
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	c.describe(cfg)
	if c.listen != "" {
		stop, err := c.serveSelfMetrics(reg)
		if err != nil {
			return err
		}
		defer stop()
	}
	c.runUntilSignal(ctx, a, logger)
	return c.shutdown(a)
}

// agentGOGC is the Go garbage collector's target for the agent unless
// the GOGC environment variable sets one: a sidecar is paid for by its
// peak memory in every task, and at 50 the heap's headroom is half Go's
// default for a little more collection (vmagent sets the same).
const agentGOGC = 50

func (c *agentCommand) setGOGC() {
	if c.getenv("GOGC") == "" {
		debug.SetGCPercent(agentGOGC)
	}
}

// flagSet is agent's command line: both modes' flags.
func (c *agentCommand) flagSet() *flag.FlagSet {
	fs := newFlagSet("agent (--config.file prometheus.yml | --url URL --scrape [SERVICE=]URL...)",
		"Scrapes /metrics endpoints as a Prometheus agent does (Prometheus' own scrape code: up and scrape_* series,\n"+
			"stale markers, honor_labels, relabelling) and remote-writes every scrape through rwkit's queue (bounded\n"+
			"outage buffer, retries with backoff, refusals explained). Either runs a Prometheus configuration file\n"+
			"unchanged (--config.file; static_configs targets), or scrapes the --scrape URLs with rwkit's identity labels\n"+
			"(service and instance from the flags, RWKIT_SERVICE/RWKIT_INSTANCE, OTEL_*, ECS task metadata, Kubernetes or\n"+
			"the hostname). Runs until SIGINT/SIGTERM, then exits 0 after a final flush.\n"+
			"Exit codes: 0 stopped by a signal, 1 a start-up error, 2 usage (a bad flag or configuration file); 1 and 2\n"+
			"come before anything is scraped.",
		agentExample, c.err)
	fs.StringVar(&c.configFile, "config.file", "", "a Prometheus configuration file (global, scrape_configs with static_configs, remote_write) run unchanged")
	fs.StringVar(&c.listen, "web.listen-address", "", "serve the agent's own metrics at http://ADDR/metrics (e.g. 127.0.0.1:9096); off when empty")
	fs.StringVar(&c.listen, "listen", "", "another name for --web.listen-address")
	fs.StringVar(&c.url, "url", "", "remote-write URL (required without --config.file)")
	fs.Var(&c.targets, "scrape", "[SERVICE=]URL of a /metrics endpoint; repeatable (env: comma-separated); SERVICE sets the service label for it")
	fs.StringVar(&c.service, "service", "", "service label value (default: discovered)")
	fs.StringVar(&c.instance, "instance", "", "instance label value (default: discovered)")
	fs.Var(&c.labels, "label", "add name=value to every series; repeatable")
	fs.DurationVar(&c.interval, "interval", 15*time.Second, "scrape interval (Prometheus: scrape_interval)")
	fs.DurationVar(&c.scrapeTimeout, "scrape-timeout", 10*time.Second, "scrape timeout, at most the interval (Prometheus: scrape_timeout)")
	fs.BoolVar(&c.honorLabels, "honor-labels", false, "keep a target's own job/instance/identity labels instead of renaming them exported_<name>")
	fs.BoolVar(&c.honorTimestamps, "honor-timestamps", true, "keep the timestamps an exposition gives")
	fs.BoolVar(&c.sendExemplars, "send-exemplars", false, "scrape and send exemplars")
	fs.BoolVar(&c.nativeHistograms, "native-histograms", false, "scrape native histograms (protobuf) and send them as native histograms")
	fs.DurationVar(&c.remoteTimeout, "remote-timeout", 30*time.Second, "timeout of one remote-write request (Prometheus: remote_timeout)")
	fs.DurationVar(&c.minBackoff, "min-backoff", 30*time.Millisecond, "first wait after a failed remote write; doubles up to --max-backoff")
	fs.DurationVar(&c.maxBackoff, "max-backoff", 5*time.Second, "longest wait between remote-write attempts")
	fs.IntVar(&c.rwVersion, "rw-version", 1, "remote-write protocol: 1 or 2 (2 falls back to 1 on 415)")
	fs.StringVar(&c.sigv4Region, "sigv4-region", "", "sign with AWS SigV4 for this region (default: the region of an AMP URL)")
	fs.BoolVar(&c.sigv4, "sigv4", false, "sign with SigV4 even when the URL is not an AMP URL")
	fs.BoolVar(&c.withoutIdentity, "without-identity", false, "scrape without service/instance labels (instance is then the target's host:port, as in Prometheus)")
	fs.StringVar(&c.serviceLabel, "service-label", identity.DefaultServiceLabel, "name of the service label (e.g. job)")
	fs.StringVar(&c.instanceLabel, "instance-label", identity.DefaultInstanceLabel, "name of the instance label")
	c.auth.register(fs)
	fs.BoolVar(&c.staleMarkers, "stale-markers", true, "on shutdown, mark every series stale so queries stop showing it at once (a sidecar dies with its service)")
	fs.BoolVar(&c.prometheusScrapeLoop, "prometheus-scrape-loop", false, "scrape every job with Prometheus' own scrape loop, not rwkit's streaming loop (which runs the jobs it covers at a fraction of the CPU and memory; see the start-up line 'agent scrape loops')")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 10*time.Second, "time allowed to deliver what is queued on shutdown")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	return fs
}

// checkCommonFlags checks the flags of both modes and returns the logger
// --log-level asks for.
func (c *agentCommand) checkCommonFlags() (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, flagUsagef("--log-level", "agent: --log-level %q: want debug, info, warn or error", c.logLevel)
	}
	if err := checkPositive("agent", durationFlag{"--shutdown-timeout", c.shutdownTimeout}); err != nil {
		return nil, err
	}
	return slog.New(redact.Handler(slog.NewTextHandler(c.err, &slog.HandlerOptions{Level: level}))), nil
}

// serveSelfMetrics serves reg at http://--web.listen-address/metrics until
// the returned stop is called.
func (c *agentCommand) serveSelfMetrics(reg *prometheus.Registry) (stop func() error, err error) {
	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		return nil, fmt.Errorf("agent: --web.listen-address: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	fmt.Fprintf(c.out, "agent: own metrics at http://%s/metrics\n", ln.Addr())
	if c.ready != nil {
		c.ready <- ln.Addr().String()
	}
	return srv.Close, nil
}

// runUntilSignal runs the agent until ctx ends or the agent stops on its
// own. Run gets a context of its own: a signal asks for Shutdown, which
// lets a request in flight finish rather than aborting it (an aborted
// request the backend already stored would be sent twice).
func (c *agentCommand) runUntilSignal(ctx context.Context, a *agent.Agent, logger *slog.Logger) {
	runErr := make(chan error, 1)
	go func() { runErr <- a.Run(context.Background()) }()
	select {
	case <-ctx.Done():
	case err := <-runErr:
		if err != nil {
			logger.Error("agent: stopped", "err", err)
		}
	}
}

// shutdown delivers what is queued within --shutdown-timeout and says
// whether everything was.
func (c *agentCommand) shutdown(a *agent.Agent) error {
	sctx, cancel := context.WithTimeout(context.Background(), c.shutdownTimeout)
	defer cancel()
	if err := a.Shutdown(sctx); err != nil {
		// Asked to stop: the exit code says the shutdown was clean. Each
		// queue has logged what it could not deliver, with counts, once.
		fmt.Fprintf(c.out, "agent: stopped; not everything was delivered within --shutdown-timeout %s (see the log)\n", c.shutdownTimeout)
		return nil
	}
	fmt.Fprintln(c.out, "agent: stopped after delivering everything queued")
	return nil
}

// config is the Prometheus configuration to run: the file, or one built
// from the flags.
func (c *agentCommand) config(ctx context.Context, fs *flag.FlagSet) (*config.Config, error) {
	if c.configFile != "" {
		var conflict []string
		fs.Visit(func(f *flag.Flag) {
			if key, ok := flagModeOnly[f.Name]; ok {
				conflict = append(conflict, fmt.Sprintf("--%s (in the file: %s)", f.Name, key))
			}
		})
		if len(conflict) > 0 {
			return nil, flagUsagef("--config.file", "agent: with --config.file the file says what to scrape and where to send it; drop %s", strings.Join(conflict, ", "))
		}
		cfg, err := agent.LoadFile(c.configFile)
		if err != nil {
			return nil, flagUsagef("--config.file", "agent: --config.file: %s", strings.TrimPrefix(err.Error(), "agent: "))
		}
		return cfg, nil
	}
	timeout, err := c.checkFlags(fs)
	if err != nil {
		return nil, err
	}
	headers, err := c.auth.headers()
	if err != nil {
		return nil, err
	}
	var targets []agent.Target
	// Targets of one service share its identity: it is resolved once per
	// service, not once per target (resolving may ask the ECS metadata
	// endpoint or read Kubernetes' files).
	ids := map[string]*identity.Identity{}
	for _, t := range c.targets {
		service, target := splitTarget(t)
		if service == "" {
			service = c.service
		}
		labels := map[string]string{}
		for k, v := range c.labels {
			labels[k] = v
		}
		if !c.withoutIdentity {
			id, ok := ids[service]
			if !ok {
				id, err = identity.Resolve(ctx, identity.Options{Service: service, Instance: c.instance,
					ServiceLabel: c.serviceLabel, InstanceLabel: c.instanceLabel, Getenv: c.getenv})
				if err != nil {
					ue := identityUsage("agent", "--service (or SERVICE=URL in --scrape)", err).(*usageError)
					ue.msg += "; --without-identity if this agent is the only writer"
					return nil, ue
				}
				ids[service] = id
			}
			for _, l := range id.Labels() {
				labels[l.Name] = l.Value
			}
		}
		targets = append(targets, agent.Target{URL: target, Labels: labels})
	}
	cfg, err := agent.StaticConfig(targets, agent.Global{
		ScrapeInterval: c.interval, ScrapeTimeout: timeout,
		HonorLabels: c.honorLabels, HonorTimestamps: c.honorTimestamps,
		RemoteWriteURL: c.url, RWVersion: wire.Version(c.rwVersion), RemoteTimeout: c.remoteTimeout,
		MinBackoff: c.minBackoff, MaxBackoff: c.maxBackoff,
		SendExemplars: c.sendExemplars, NativeHistograms: c.nativeHistograms,
		Headers: headers, BearerTokenFile: c.auth.bearerTokenFile,
		BasicAuthUsername: c.auth.basicUser, BasicAuthPasswordFile: c.auth.basicPasswordFile,
		TLSCAFile: c.auth.tlsCA, TLSCertFile: c.auth.tlsCert, TLSKeyFile: c.auth.tlsKey, TLSServerName: c.auth.tlsServerName,
		SigV4: c.sigv4, SigV4Region: c.sigv4Region,
	})
	if err != nil {
		return nil, usagef("agent: %s", strings.TrimPrefix(err.Error(), "agent: "))
	}
	return cfg, nil
}

// checkFlags checks the flag mode's flags before anything is resolved,
// scraped or sent, and returns the scrape timeout to use.
func (c *agentCommand) checkFlags(fs *flag.FlagSet) (time.Duration, error) {
	switch {
	case c.url == "":
		return 0, flagUsagef("--url", "agent: give --config.file, or --url (or RWKIT_URL) and --scrape")
	case len(c.targets) == 0:
		return 0, flagUsagef("--scrape", "agent: give at least one --scrape URL")
	case c.rwVersion != 1 && c.rwVersion != 2:
		return 0, flagUsagef("--rw-version", "agent: --rw-version: want 1 or 2, got %d", c.rwVersion)
	case c.withoutIdentity && (c.service != "" || c.instance != ""):
		return 0, flagUsagef("--without-identity", "agent: --without-identity contradicts --service/--instance: drop one of them")
	}
	if err := checkURLFlag("agent", "--url", c.url); err != nil {
		return 0, err
	}
	for _, f := range []struct{ name, value string }{{"--service-label", c.serviceLabel}, {"--instance-label", c.instanceLabel}} {
		if !model.LegacyValidation.IsValidLabelName(f.value) || strings.HasPrefix(f.value, "__") {
			return 0, flagUsagef(f.name, "agent: %s %q: want a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)", f.name, f.value)
		}
	}
	if c.serviceLabel == c.instanceLabel {
		return 0, flagUsagef("--instance-label", "agent: --service-label and --instance-label are both %q: the two values need two label names", c.serviceLabel)
	}
	for _, t := range c.targets {
		_, target := splitTarget(t)
		if err := checkURLFlag("agent", "--scrape", target); err != nil {
			return 0, err
		}
	}
	if err := checkPositive("agent", durationFlag{"--interval", c.interval}, durationFlag{"--scrape-timeout", c.scrapeTimeout},
		durationFlag{"--remote-timeout", c.remoteTimeout}, durationFlag{"--min-backoff", c.minBackoff}, durationFlag{"--max-backoff", c.maxBackoff}); err != nil {
		return 0, err
	}
	if c.maxBackoff < c.minBackoff {
		return 0, flagUsagef("--max-backoff", "agent: --max-backoff %s is shorter than --min-backoff %s", c.maxBackoff, c.minBackoff)
	}
	for _, name := range []string{c.serviceLabel, c.instanceLabel} {
		if _, clash := c.labels[name]; clash && !c.withoutIdentity {
			return 0, flagUsagef("--label", "agent: --label sets %q, which is an identity label: use --service/--instance, or --service-label/--instance-label", name)
		}
	}
	timeout := c.scrapeTimeout
	if timeout > c.interval {
		if isSet(fs, "scrape-timeout") {
			return 0, flagUsagef("--scrape-timeout", "agent: --scrape-timeout %s is longer than --interval %s", c.scrapeTimeout, c.interval)
		}
		timeout = c.interval // the default 10s, for a shorter interval
	}
	return timeout, nil
}

// splitTarget reads --scrape [SERVICE=]URL. An "=" inside the URL (a
// query) is not a SERVICE: a service name has no "/".
func splitTarget(t string) (service, target string) {
	if name, u, ok := strings.Cut(t, "="); ok && !strings.Contains(name, "/") {
		return name, u
	}
	return "", t
}

// describe prints what will be scraped and where it goes, without
// credentials.
func (c *agentCommand) describe(cfg *config.Config) {
	var rws []string
	for _, rw := range cfg.RemoteWriteConfigs {
		rws = append(rws, redact.URL(rw.URL.String()))
	}
	for _, sc := range cfg.ScrapeConfigs {
		for _, sd := range sc.ServiceDiscoveryConfigs {
			groups, ok := sd.(discovery.StaticConfig)
			if !ok {
				continue
			}
			for _, g := range groups {
				for _, t := range g.Targets {
					fmt.Fprintf(c.out, "agent: %s://%s%s every %s -> %s labels %s\n", sc.Scheme, t["__address__"], sc.MetricsPath,
						sc.ScrapeInterval, strings.Join(rws, ", "), g.Labels)
				}
			}
		}
	}
}

// isSet reports whether flag name was given, on the command line or in
// the environment.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// listFlag collects a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	if s == "" {
		return errors.New("empty value")
	}
	*l = append(*l, s)
	return nil
}
