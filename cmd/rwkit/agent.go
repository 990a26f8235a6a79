package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rwkit/rwkit/push"
	"github.com/rwkit/rwkit/remotewrite/sigv4"
	"github.com/rwkit/rwkit/scrape"
	"github.com/rwkit/rwkit/wire"
)

func init() {
	register("agent", "scrape /metrics of processes on an interval and push them (the library path)", func(s stdio) command { return &agentCommand{stdio: s} })
}

type agentCommand struct {
	stdio
	url             string
	targets         listFlag
	service         string
	instance        string
	labels          labelsFlag
	interval        time.Duration
	sigv4Region     string
	sigv4           bool
	rwVersion       int
	aligned         bool
	withoutIdentity bool
	serviceLabel    string
	instanceLabel   string
	listen          string
	staleMarkers    bool
	shutdownTimeout time.Duration
	logLevel        string

	// ready, when set (tests), receives the self-metrics address once
	// the agent serves it.
	ready chan<- string
}

const agentExample = `  # next to a Quarkus service on ECS (service and instance from the task metadata):
  rwkit agent --url https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-1234/api/v1/remote_write \
    --scrape http://127.0.0.1:8080/q/metrics
  # two processes on one host, each its own service:
  rwkit agent --url http://127.0.0.1:9095/api/v1/push --instance $(hostname) \
    --scrape auth=http://127.0.0.1:8080/metrics --scrape bff=http://127.0.0.1:8081/metrics`

func (c *agentCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("agent --url URL --scrape [SERVICE=]URL...",
		"Scrapes /metrics of one or more processes on an interval and pushes each by remote write through the\n"+
			"push library: service and instance labels on every series (from the flags, RWKIT_SERVICE/RWKIT_INSTANCE,\n"+
			"OTEL_*, ECS task metadata, Kubernetes or the hostname), one batch timestamp per push, retries, an\n"+
			"outage buffer, and a final push on SIGTERM. Runs until interrupted.",
		agentExample, c.err)
	fs.StringVar(&c.url, "url", "", "remote-write URL (required)")
	fs.Var(&c.targets, "scrape", "[SERVICE=]URL of a /metrics endpoint; repeatable (env: comma-separated); SERVICE sets the service label for it")
	fs.StringVar(&c.service, "service", "", "service label value (default: discovered)")
	fs.StringVar(&c.instance, "instance", "", "instance label value (default: discovered)")
	fs.Var(&c.labels, "label", "add name=value to every series; repeatable")
	fs.DurationVar(&c.interval, "interval", push.DefaultInterval, "time between pushes")
	fs.StringVar(&c.sigv4Region, "sigv4-region", "", "sign with AWS SigV4 for this region (default: the region of an AMP URL)")
	fs.BoolVar(&c.sigv4, "sigv4", false, "sign with SigV4 even when the URL is not an AMP URL")
	fs.IntVar(&c.rwVersion, "rw-version", 1, "remote-write protocol: 1 or 2 (2 falls back to 1 on 415)")
	fs.BoolVar(&c.aligned, "aligned-timestamps", false, "stamp each push on the interval boundary (as Micrometer's step registries do)")
	fs.BoolVar(&c.withoutIdentity, "without-identity", false, "push without service/instance labels (only safe for a single writer)")
	fs.StringVar(&c.serviceLabel, "service-label", "service", "name of the service label (e.g. job)")
	fs.StringVar(&c.instanceLabel, "instance-label", "instance", "name of the instance label")
	fs.StringVar(&c.listen, "listen", "", "serve the agent's own metrics at http://ADDR/metrics (e.g. 127.0.0.1:9096); off when empty")
	fs.BoolVar(&c.staleMarkers, "stale-markers", true, "on shutdown, mark every series stale so queries stop showing this instance")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 10*time.Second, "time allowed for the final push on shutdown")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	if err := parseFlags(fs, args, c.getenv); err != nil {
		return err
	}
	switch {
	case c.url == "":
		return usagef("agent: --url is required (or RWKIT_URL)")
	case len(c.targets) == 0:
		return usagef("agent: give at least one --scrape URL")
	case c.rwVersion != 1 && c.rwVersion != 2:
		return usagef("agent: --rw-version %d: want 1 or 2", c.rwVersion)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return usagef("agent: --log-level %q: %v", c.logLevel, err)
	}
	logger := slog.New(slog.NewTextHandler(c.err, &slog.HandlerOptions{Level: level}))
	reg := prometheus.NewRegistry()

	var pushers []*push.Pusher
	for _, t := range c.targets {
		service, target := c.service, t
		if name, u, ok := strings.Cut(t, "="); ok && !strings.Contains(name, "/") {
			service, target = name, u
		}
		opts := []push.Option{
			push.WithInterval(c.interval),
			push.WithLogger(logger.With("target", target)),
			push.WithRWVersion(wire.Version(c.rwVersion)),
			push.WithIdentityLabels(c.serviceLabel, c.instanceLabel),
		}
		if len(c.targets) == 1 {
			// Several pushers cannot share one registry's metric names.
			opts = append(opts, push.WithRegisterer(reg))
		} else {
			opts = append(opts, push.WithRegisterer(prometheus.WrapRegistererWith(prometheus.Labels{"target": target}, reg)))
		}
		if service != "" {
			opts = append(opts, push.WithService(service))
		}
		if c.instance != "" {
			opts = append(opts, push.WithInstance(c.instance))
		}
		if len(c.labels) > 0 {
			opts = append(opts, push.WithLabels(c.labels))
		}
		if c.withoutIdentity {
			opts = append(opts, push.WithoutIdentity())
		}
		if c.aligned {
			opts = append(opts, push.WithAlignedTimestamps())
		}
		if _, isAMP := sigv4.RegionFromURL(c.url); isAMP || c.sigv4 || c.sigv4Region != "" {
			opts = append(opts, push.WithSigV4(c.sigv4Region))
		}
		if c.staleMarkers {
			opts = append(opts, push.WithStaleMarkersOnShutdown())
		}
		p, err := push.New(c.url, scrape.NewGatherer(target, nil, c.interval), opts...)
		if err != nil {
			return fmt.Errorf("agent: target %s: %w", target, err)
		}
		if id := p.Identity(); id != nil {
			fmt.Fprintf(c.out, "agent: %s -> %s as %s\n", target, redactURL(c.url), id)
		} else {
			fmt.Fprintf(c.out, "agent: %s -> %s without identity labels\n", target, redactURL(c.url))
		}
		pushers = append(pushers, p)
	}

	if c.listen != "" {
		ln, err := net.Listen("tcp", c.listen)
		if err != nil {
			return fmt.Errorf("agent: --listen: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		fmt.Fprintf(c.out, "agent: own metrics at http://%s/metrics\n", ln.Addr())
		if c.ready != nil {
			c.ready <- ln.Addr().String()
		}
	}

	var wg sync.WaitGroup
	for _, p := range pushers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = p.Run(ctx)
		}()
	}
	<-ctx.Done()
	wg.Wait()

	// The final push: a fresh context, since ctx is already done.
	sctx, cancel := context.WithTimeout(context.Background(), c.shutdownTimeout)
	defer cancel()
	var errs []error
	for _, p := range pushers {
		if err := p.Shutdown(sctx); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("agent: final push: %w", err)
	}
	fmt.Fprintln(c.out, "agent: stopped after a final push")
	return nil
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
