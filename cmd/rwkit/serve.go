package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rwkit/rwkit/internal/redact"
	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/workspace"
	"github.com/rwkit/rwkit/workspace/store"
)

func init() {
	register("serve", "run the local workspace: an AMP-shaped remote-write receiver that names the writers that collide",
		func(s stdio) command { return &serveCommand{stdio: s} })
}

type serveCommand struct {
	stdio
	listen          string
	data            string
	limits          string
	strict          bool
	logLevel        string
	shutdownTimeout time.Duration

	// Authentication (required off loopback) and limits.
	sigv4AccessKeyID     string
	sigv4SecretAccessKey string
	sigv4Region          string
	bearerTokenFile      string
	insecureListen       bool
	maxRequestBytes      int
	maxDecodedBytes      int
	maxSeriesPerRequest  int
	maxConcurrentWrites  int
	maxWorkspaces        int
	diskReserveBytes     int64
	maxHeaderBytes       int
	queryMaxLength       int
	queryMaxConcurrency  int
	queryTimeout         time.Duration
	queryMaxSamples      int
	readHeaderTimeout    time.Duration
	readTimeout          time.Duration
	writeTimeout         time.Duration
	idleTimeout          time.Duration
	ha                   haFlags       // serve_ha.go
	upstream             upstreamFlags // serve_upstream.go

	// ready, when set (tests), receives the listen address once the
	// workspace serves it.
	ready chan<- string
}

const serveExample = `  rwkit serve                                   # http://127.0.0.1:9095, AMP's limits
  rwkit serve --limits cortex --data ./ws       # Cortex's defaults, data kept in ./ws
  rwkit serve --strict                          # 400 where AMP answers 200 and drops a sample silently
  rwkit serve --upstream http://cortex:9009/api/v1/push   # pass-through: writes go on to Cortex
  rwkit serve --upstream https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-1/api/v1/remote_write
                                                # in front of AMP: signs each write with SigV4 (AWS default chain)
  # then push, e.g.:
  rwkit push --url http://127.0.0.1:9095/workspaces/ws-1/api/v1/remote_write --file metrics.txt`

func (c *serveCommand) Run(ctx context.Context, args []string) error {
	if err := parseFlags(c.flagSet(), args, c.getenv); err != nil {
		return err
	}
	if err := c.checkFlags(); err != nil {
		return err
	}
	lim, logger, err := c.settings()
	if err != nil {
		return err
	}
	wsOpts, err := c.workspaceOptions(ctx)
	if err != nil {
		return err
	}
	ws, err := c.openWorkspace(append([]workspace.Option{workspace.WithLimits(lim), workspace.WithLogger(logger)}, wsOpts...))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		_ = ws.Close()
		return fmt.Errorf("serve: --listen: %w", err)
	}
	srv := c.httpServer(ws.Handler())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	c.announce(logger, lim, ln.Addr())

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-served:
	}
	return c.shutdown(logger, srv, ws, serveErr)
}

// flagSet is serve's command line.
func (c *serveCommand) flagSet() *flag.FlagSet {
	fs := newFlagSet("serve [--listen ADDR] [--data DIR] [--limits amp|cortex|prometheus|mimir]",
		"Runs the local workspace: a remote-write receiver that refuses exactly what Amazon Managed Service for\n"+
			"Prometheus (Cortex) refuses, with the same status codes and texts, keeps what it accepts in an embedded\n"+
			"Prometheus TSDB, answers PromQL, and names the writers that collided. Runs until interrupted; data\n"+
			"survives restarts.\n"+
			"Exit codes: 0 stopped by a signal, 1 a start-up or serving error, 2 usage (before anything is opened).",
		serveExample, c.err)
	fs.StringVar(&c.listen, "listen", "127.0.0.1:9095", "address to serve on")
	fs.StringVar(&c.data, "data", "", "directory of the workspace's data (default: rwkit/workspace in the user cache dir)")
	fs.StringVar(&c.limits, "limits", "amp", "rules and limits: "+strings.Join(validate.ProfileNames(), ", "))
	fs.BoolVar(&c.strict, "strict", false, "refuse (400) what the backend accepts and drops without a word: a second value for one series and timestamp, or an older sample, in one request (default: 2xx as AMP, Cortex, Mimir and Prometheus answer, with an X-Rwkit-Dropped header and rwkit_dropped_samples_total)")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 10*time.Second, "time allowed for requests in flight on shutdown")
	fs.StringVar(&c.sigv4AccessKeyID, "sigv4-access-key-id", "", "verify AWS SigV4 (service aps) against this access key id; with --sigv4-secret-access-key")
	fs.StringVar(&c.sigv4SecretAccessKey, "sigv4-secret-access-key", "", "the secret of --sigv4-access-key-id (prefer the env var: the command line shows in ps)")
	fs.StringVar(&c.sigv4Region, "sigv4-region", "us-east-1", "region the SigV4 credential scope must name")
	fs.StringVar(&c.bearerTokenFile, "bearer-token-file", "", "accept Authorization: Bearer <the file's content, trimmed>")
	fs.BoolVar(&c.insecureListen, "insecure-listen", false, "allow a non-loopback --listen without authentication (e.g. in a container behind a network policy)")
	fs.IntVar(&c.maxRequestBytes, "max-request-bytes", workspace.DefaultMaxRequestBytes, "largest compressed remote-write body (413 past it)")
	fs.IntVar(&c.maxDecodedBytes, "max-decoded-bytes", workspace.DefaultMaxRequestBytes, "largest decoded (Snappy-decompressed) remote-write body (413 past it)")
	fs.IntVar(&c.maxSeriesPerRequest, "max-series-per-request", workspace.DefaultMaxSeriesPerRequest, "most series in one remote write (413 past it)")
	fs.IntVar(&c.maxConcurrentWrites, "max-concurrent-writes", workspace.DefaultMaxConcurrentWrites, "remote writes handled at once; one more gets 503 with Retry-After")
	fs.IntVar(&c.maxWorkspaces, "max-workspaces", workspace.DefaultMaxTenants, "workspaces (tenants) written to since start, data or not; a write for one more gets 400")
	fs.Int64Var(&c.diskReserveBytes, "disk-reserve-bytes", defaultDiskReserve, "room kept on --data's disk (at most a twentieth of it) for the TSDB's own writes: under half of it free, writes get 503 and the room is released, so a full disk never stops the server; 0 keeps none")
	fs.IntVar(&c.queryMaxLength, "query-max-length", store.DefaultQueryMaxLength, "longest PromQL expression in bytes (400 past it, before parsing)")
	fs.IntVar(&c.queryMaxConcurrency, "query-max-concurrency", store.DefaultQueryMaxConcurrency, "queries parsed or evaluated at once; more wait for a slot within --query-timeout, then 503")
	fs.DurationVar(&c.queryTimeout, "query-timeout", store.DefaultQueryTimeout, "longest a query may take, waiting for a slot included (503 past it)")
	fs.IntVar(&c.queryMaxSamples, "query-max-samples", store.DefaultQueryMaxSamples, "most samples one query may hold in memory (422 past it)")
	fs.IntVar(&c.maxHeaderBytes, "max-header-bytes", defaultMaxHeaderBytes, "largest request header block (431 past it)")
	fs.DurationVar(&c.readHeaderTimeout, "read-header-timeout", 10*time.Second, "time to read a request's headers")
	fs.DurationVar(&c.readTimeout, "read-timeout", time.Minute, "time to read a whole request, body included")
	fs.DurationVar(&c.writeTimeout, "write-timeout", 3*time.Minute, "time from the end of the headers to the end of the answer (queries included)")
	fs.DurationVar(&c.idleTimeout, "idle-timeout", 2*time.Minute, "how long an idle keep-alive connection is kept")
	c.ha.register(fs)
	c.upstream.register(fs)
	return fs
}

// settings turns the flags that need more than parsing into the values
// they name: the limits profile, the logger, and the data directory.
func (c *serveCommand) settings() (validate.Limits, *slog.Logger, error) {
	lim, err := validate.Profile(c.limits)
	if err != nil {
		return lim, nil, flagUsagef("--limits", "serve: --limits %q: want one of %s", c.limits, strings.Join(validate.ProfileNames(), ", "))
	}
	if err := c.ha.apply(&lim); err != nil {
		return lim, nil, err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return lim, nil, flagUsagef("--log-level", "serve: --log-level %q: want debug, info, warn or error", c.logLevel)
	}
	logger := slog.New(redact.Handler(slog.NewTextHandler(c.err, &slog.HandlerOptions{Level: level})))
	if c.data == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return lim, nil, flagUsagef("--data", "serve: no user cache directory (%v); give --data DIR", err)
		}
		c.data = filepath.Join(dir, "rwkit", "workspace")
	}
	return lim, logger, nil
}

// workspaceOptions are the workspace's authentication, limits and query
// limits, set by the flags.
func (c *serveCommand) workspaceOptions(ctx context.Context) ([]workspace.Option, error) {
	wsOpts, err := c.authAndLimits()
	if err != nil {
		return nil, err
	}
	upOpts, err := c.upstream.options(ctx)
	if err != nil {
		return nil, err
	}
	wsOpts = append(wsOpts, upOpts...)
	return append(wsOpts,
		workspace.WithStrict(c.strict),
		workspace.WithMaxTenants(c.maxWorkspaces),
		workspace.WithDiskReserve(c.diskReserveBytes),
		workspace.WithQueryLimits(workspace.QueryLimits{
			Timeout:        c.queryTimeout,
			MaxSamples:     c.queryMaxSamples,
			MaxConcurrency: c.queryMaxConcurrency,
			MaxLength:      c.queryMaxLength,
		}),
		// Refusals name the flags, which are what serve's users set.
		workspace.WithLimitNames(workspace.LimitNames{
			MaxTenants:          "rwkit serve --max-workspaces",
			MaxRequestBytes:     "rwkit serve --max-request-bytes",
			MaxDecodedBytes:     "rwkit serve --max-decoded-bytes",
			MaxSeriesPerRequest: "rwkit serve --max-series-per-request",
			MaxConcurrentWrites: "rwkit serve --max-concurrent-writes",
			QueryTimeout:        "rwkit serve --query-timeout",
			QueryMaxSamples:     "rwkit serve --query-max-samples",
			QueryMaxConcurrency: "rwkit serve --query-max-concurrency",
			QueryMaxLength:      "rwkit serve --query-max-length",
			HAMaxClusters:       "rwkit serve --ha-max-clusters",
			HAUpdateTimeout:     "rwkit serve --ha-update-timeout",
			HAFailoverTimeout:   "rwkit serve --ha-failover-timeout",
		})), nil
}

// openWorkspace opens the workspace and its store in --data; its own
// registry serves the workspace's and the TSDB's metrics.
func (c *serveCommand) openWorkspace(opts []workspace.Option) (*workspace.Workspace, error) {
	ws, err := workspace.Open(c.data, opts...)
	if errors.Is(err, store.ErrInUse) {
		// The store's text says "another process"; here it is a serve.
		return nil, fmt.Errorf("serve: another rwkit serve is using %s (it holds %s); stop it, or give this one another --data",
			c.data, filepath.Join(c.data, store.LockFile))
	}
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	return ws, nil
}

// httpServer serves h with the HTTP flags' sizes and timeouts.
func (c *serveCommand) httpServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		MaxHeaderBytes:    c.maxHeaderBytes,
		ReadHeaderTimeout: c.readHeaderTimeout,
		ReadTimeout:       c.readTimeout,
		WriteTimeout:      c.writeTimeout,
		IdleTimeout:       c.idleTimeout,
	}
}

// announce logs where the workspace serves each protocol and tells a test
// waiting on c.ready the address.
func (c *serveCommand) announce(logger *slog.Logger, lim validate.Limits, addr net.Addr) {
	base := "http://" + addr.String()
	logger.Info("workspace serving",
		"page", base+"/",
		"limits", lim.Name, "strict", c.strict, "data", c.data, "auth", c.authSummary(),
		"push_amp", base+"/workspaces/<id>/api/v1/remote_write",
		"push_cortex", base+"/api/v1/push (X-Scope-OrgID: <id>)",
		"push_prometheus", base+"/api/v1/write",
		"query", base+"/workspaces/<id>/api/v1/query",
		"collisions", base+"/workspaces/<id>/api/v1/collisions",
		"ha", haSummary(lim),
		"upstream", c.upstream.summary(), "upstream_auth", c.upstream.authSummary(),
		"metrics", base+"/metrics")
	if c.ready != nil {
		c.ready <- addr.String()
	}
}

// haSummary says whether and how the workspace deduplicates HA pairs.
func haSummary(lim validate.Limits) string {
	if !lim.AcceptHASamples {
		return "off"
	}
	return fmt.Sprintf("%s/%s, failover after %s", lim.HAClusterLabel, lim.HAReplicaLabel, lim.HAFailoverTimeout)
}

// shutdown lets requests in flight finish, then stops taking writes, then
// closes the TSDBs (which flushes nothing: the WAL already has every
// committed sample, and Open replays it). serveErr is what ended Serve, if
// it ended on its own.
func (c *serveCommand) shutdown(logger *slog.Logger, srv *http.Server, ws *workspace.Workspace, serveErr error) error {
	sctx, cancel := context.WithTimeout(context.Background(), c.shutdownTimeout)
	defer cancel()
	shutdownErr := srv.Shutdown(sctx)
	closeErr := ws.Close() // and its store

	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", serveErr)
	}
	if err := errors.Join(shutdownErr, closeErr); err != nil {
		return fmt.Errorf("serve: shutting down: %w", err)
	}
	logger.Info("workspace stopped", "data", c.data)
	return nil
}
