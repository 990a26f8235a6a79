package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

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
	logLevel        string
	shutdownTimeout time.Duration

	// ready, when set (tests), receives the listen address once the
	// workspace serves it.
	ready chan<- string
}

const serveExample = `  rwkit serve                                   # http://127.0.0.1:9095, AMP's limits
  rwkit serve --limits cortex --data ./ws       # Cortex's defaults, data kept in ./ws
  # then push, e.g.:
  rwkit push --url http://127.0.0.1:9095/workspaces/ws-1/api/v1/remote_write --file metrics.txt`

func (c *serveCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("serve [--listen ADDR] [--data DIR] [--limits amp|cortex|prometheus]",
		"Runs the local workspace: a remote-write receiver that refuses exactly what Amazon Managed Service for\n"+
			"Prometheus (Cortex) refuses, with the same status codes and texts, keeps what it accepts in an embedded\n"+
			"Prometheus TSDB, answers PromQL, and names the writers that collided. Runs until interrupted; data\n"+
			"survives restarts.",
		serveExample, c.err)
	fs.StringVar(&c.listen, "listen", "127.0.0.1:9095", "address to serve on")
	fs.StringVar(&c.data, "data", "", "directory of the workspace's data (default: rwkit/workspace in the user cache dir)")
	fs.StringVar(&c.limits, "limits", "amp", "rules and limits: "+strings.Join(validate.ProfileNames(), ", "))
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 10*time.Second, "time allowed for requests in flight on shutdown")
	if err := parseFlags(fs, args, c.getenv); err != nil {
		return err
	}
	lim, err := validate.Profile(c.limits)
	if err != nil {
		return usagef("serve: --limits %q: want one of %s", c.limits, strings.Join(validate.ProfileNames(), ", "))
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return usagef("serve: --log-level %q: %v", c.logLevel, err)
	}
	logger := slog.New(slog.NewTextHandler(c.err, &slog.HandlerOptions{Level: level}))
	if c.data == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return usagef("serve: no user cache directory (%v); give --data DIR", err)
		}
		c.data = filepath.Join(dir, "rwkit", "workspace")
	}

	reg := prometheus.NewRegistry()
	st, err := store.Open(c.data, store.Options{
		OutOfOrderWindow: lim.OutOfOrderTimeWindow,
		MaxExemplars:     int64(lim.MaxExemplars),
		Logger:           logger.With("component", "store"),
		Registerer:       reg,
	})
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	ws, err := workspace.New(st, workspace.WithLimits(lim), workspace.WithRegistry(reg), workspace.WithLogger(logger))
	if err != nil {
		_ = st.Close()
		return fmt.Errorf("serve: %w", err)
	}
	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		_ = st.Close()
		return fmt.Errorf("serve: --listen: %w", err)
	}
	srv := &http.Server{Handler: ws.Handler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	base := "http://" + ln.Addr().String()
	logger.Info("workspace serving",
		"limits", lim.Name, "data", c.data,
		"push_amp", base+"/workspaces/<id>/api/v1/remote_write",
		"push_cortex", base+"/api/v1/push (X-Scope-OrgID: <id>)",
		"push_prometheus", base+"/api/v1/write",
		"query", base+"/workspaces/<id>/api/v1/query",
		"collisions", base+"/workspaces/<id>/api/v1/collisions",
		"metrics", base+"/metrics")
	if c.ready != nil {
		c.ready <- ln.Addr().String()
	}

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-served:
	}
	// Let requests in flight finish, then stop taking writes, then close
	// the TSDBs (which flushes nothing: the WAL already has every committed
	// sample, and Open replays it).
	sctx, cancel := context.WithTimeout(context.Background(), c.shutdownTimeout)
	defer cancel()
	shutdownErr := srv.Shutdown(sctx)
	_ = ws.Close()
	closeErr := st.Close()
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", serveErr)
	}
	if err := errors.Join(shutdownErr, closeErr); err != nil {
		return fmt.Errorf("serve: shutting down: %w", err)
	}
	logger.Info("workspace stopped", "data", c.data)
	return nil
}
