// Package demo replays the seed incident against an in-process workspace:
// six services push the same metrics to one AMP-shaped workspace through
// the push library, first without identity labels and with aligned
// timestamps (the 400s, new-value-for-timestamp discards, collisions that
// name both writers), then with the default identity (no discards, six
// services in PromQL), then one service pushed by an HA pair of replicas
// (cluster and __replica__ labels), deduplicated as AMP does: one series
// stored, the other replica answered 202, nothing discarded. It backs
// `rwkit demo`.
//
//	d, err := demo.Start(ctx, demo.Options{Rounds: 3, Interval: time.Second})
//	if err != nil {
//		return err
//	}
//	defer d.Close()
//	rep, err := d.Run(ctx)
//	if err != nil {
//		return err // the demo could not run at all
//	}
//	fmt.Println(rep.Pass) // whether the story held; rep.Checks say what did not
package demo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/workspace"
)

// WorkspaceID is the tenant the services write to, as in an AMP URL.
const WorkspaceID = "ws-demo"

// Defaults of Options.
const (
	DefaultRounds   = 3
	DefaultInterval = time.Second
)

// Options configures the demo. The zero value runs the story with the
// defaults.
type Options struct {
	// Rounds is how many times each service pushes in each phase
	// (default DefaultRounds).
	Rounds int
	// Interval is the push interval the timestamps are aligned to, and the
	// time between rounds (default DefaultInterval). Whole milliseconds,
	// at least 100ms.
	Interval time.Duration
	// Phase1Identity gives the first phase identity labels too, so the
	// incident is not replayed and the first phase's checks fail. Tests
	// use it to prove that a failed story is reported as one.
	Phase1Identity bool
}

// Demo is a running workspace the services push to. Start it, Run the
// story, Close it.
type Demo struct {
	opts   Options
	dir    string
	ws     *workspace.Workspace
	srv    *http.Server
	served chan error
	base   string
}

// Start opens a workspace with AMP's limits in a temporary directory and
// serves it on a free loopback port.
func Start(ctx context.Context, opts Options) (*Demo, error) {
	if opts.Rounds == 0 {
		opts.Rounds = DefaultRounds
	}
	if opts.Interval == 0 {
		opts.Interval = DefaultInterval
	}
	switch {
	case opts.Rounds < 1:
		return nil, fmt.Errorf("demo: %d rounds: want at least 1", opts.Rounds)
	case opts.Interval < 100*time.Millisecond || opts.Interval%time.Millisecond != 0:
		return nil, fmt.Errorf("demo: interval %s: want whole milliseconds, at least 100ms (timestamps are aligned to it)", opts.Interval)
	}
	lim, err := validate.Profile("amp")
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	dir, err := os.MkdirTemp("", "rwkit-demo-")
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	d := &Demo{opts: opts, dir: dir, served: make(chan error, 1)}
	d.ws, err = workspace.Open(dir, workspace.WithLimits(lim)) // its registry serves the TSDB metrics too
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("demo: %w", err)
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		_ = d.ws.Close()
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("demo: %w", err)
	}
	d.base = "http://" + ln.Addr().String()
	d.srv = &http.Server{Handler: d.ws.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { d.served <- d.srv.Serve(ln) }()
	return d, nil
}

// BaseURL is the workspace server's root, e.g. http://127.0.0.1:40123.
func (d *Demo) BaseURL() string { return d.base }

// WriteURL is the AMP-shaped remote-write URL the services push to.
func (d *Demo) WriteURL() string { return d.QueryURL() + "/api/v1/remote_write" }

// QueryURL is the workspace's query API base (the part before
// /api/v1/query), as for AMP.
func (d *Demo) QueryURL() string { return d.base + "/workspaces/" + WorkspaceID }

// Close stops the server, closes the workspace and its store, and removes
// the data. Safe to call once.
func (d *Demo) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	shutdownErr := d.srv.Shutdown(ctx)
	serveErr := <-d.served
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	wsErr := d.ws.Close() // and its store
	rmErr := os.RemoveAll(d.dir)
	if err := errors.Join(shutdownErr, serveErr, wsErr, rmErr); err != nil {
		return fmt.Errorf("demo: closing the workspace: %w", err)
	}
	return nil
}
