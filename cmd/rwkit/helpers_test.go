package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rwkit/rwkit/internal/syncbuf"
)

// runCLI runs rwkit in-process with args, the given environment and stdin,
// and returns what it printed and its exit code.
func runCLI(t *testing.T, env map[string]string, stdin io.Reader, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, stdio{
		in: stdin, out: &out, err: &errOut,
		getenv: func(k string) string { return env[k] },
	})
	return out.String(), errOut.String(), code
}

// bufferedStdio is a command's stdio over two fresh syncbuf.Buffers, with
// env as its environment and nothing on stdin.
func bufferedStdio(env map[string]string) (stdio, *syncbuf.Buffer, *syncbuf.Buffer) {
	out, errOut := &syncbuf.Buffer{}, &syncbuf.Buffer{}
	return stdio{in: strings.NewReader(""), out: out, err: errOut, getenv: func(k string) string { return env[k] }}, out, errOut
}

// runFor runs the command newCmd makes with args until it ends or d has
// passed (its context's deadline, as a signal would stop it), and returns
// its stdio, its stdout and stderr, and what Run returned.
func runFor(d time.Duration, newCmd func(stdio) command, args ...string) (s stdio, out, errOut *syncbuf.Buffer, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	s, out, errOut = bufferedStdio(nil)
	return s, out, errOut, newCmd(s).Run(ctx, args)
}

// running is a command run in-process in its own goroutine until its
// context ends, as `rwkit serve`, `rwkit agent` and `rwkit demo --keep`
// run until SIGTERM.
type running struct {
	stdio       stdio
	out, errOut *syncbuf.Buffer
	cancel      context.CancelFunc
	done        chan error
	ended       bool
	err         error // what Run returned, once ended
}

// start runs the command newCmd makes with args, env as its environment,
// in a goroutine; the test's end stops it if the test did not.
func start(t *testing.T, env map[string]string, newCmd func(stdio) command, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan error, 1)}
	r.stdio, r.out, r.errOut = bufferedStdio(env)
	cmd := newCmd(r.stdio)
	go func() { r.done <- cmd.Run(ctx, args) }()
	t.Cleanup(func() { r.stop(t, time.Minute) })
	return r
}

// await returns what ready delivers (the address the command serves on)
// and fails the test, with what the command printed, if the command ends
// first or nothing comes within d.
func (r *running) await(t *testing.T, what string, ready <-chan string, d time.Duration) string {
	t.Helper()
	select {
	case v := <-ready:
		return v
	case err := <-r.done:
		r.ended, r.err = true, err
		t.Fatalf("%s ended before it was ready: %v\nstdout:\n%s\nstderr:\n%s", what, err, r.out, r.errOut)
	case <-time.After(d):
		t.Fatalf("%s not ready after %s\nstdout:\n%s\nstderr:\n%s", what, d, r.out, r.errOut)
	}
	return ""
}

// stop cancels the command's context, as SIGTERM does, waits up to d for
// Run to return and returns what it returned; it fails the test if Run has
// not returned by then. Stopping again returns the first result.
func (r *running) stop(t *testing.T, d time.Duration) error {
	t.Helper()
	if r.ended {
		return r.err
	}
	r.cancel()
	select {
	case r.err = <-r.done:
		r.ended = true
	case <-time.After(d):
		t.Fatalf("did not stop within %s of its context ending\nstderr:\n%s", d, r.errOut)
	}
	return r.err
}

// serveHTTP serves h on a loopback port until the test ends and returns
// the server's URL.
func serveHTTP(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// closedURL is the URL of a loopback server that has already stopped:
// connecting to it is refused.
func closedURL(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	return srv.URL
}
