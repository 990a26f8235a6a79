package main

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"

	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/workspace"
)

// startInProcess serves a pass-through workspace in front of upstreamURL
// from this process (AMP's limits, nothing stored, as startPassThrough's
// `rwkit serve`), for -cpuprofile: the profile then holds the
// workspace's own functions. It returns the AMP-shaped write URL.
func startInProcess(dir, upstreamURL string) (string, func(), error) {
	lim, err := validate.Profile("amp")
	if err != nil {
		return "", nil, err
	}
	ws, err := workspace.Open(filepath.Join(dir, "inprocess-data"), workspace.WithLimits(lim),
		workspace.WithUpstream(workspace.Upstream{URL: upstreamURL}))
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = ws.Close()
		return "", nil, err
	}
	srv := &http.Server{Handler: ws.Handler()}
	go func() { _ = srv.Serve(ln) }()
	stop := func() { _ = srv.Close(); _ = ws.Close() }
	return "http://" + ln.Addr().String() + "/workspaces/ws-1/api/v1/remote_write", stop, nil
}

// profiled runs f under a CPU profile written to path.
func profiled(path string, f func() error) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	defer out.Close()
	if err := pprof.StartCPUProfile(out); err != nil {
		return err
	}
	defer pprof.StopCPUProfile()
	return f()
}
