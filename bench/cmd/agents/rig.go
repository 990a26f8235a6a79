package main

import (
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// rig is the benchmark's side of every run: the scrape target, which
// serves one pre-rendered exposition, and the remote-write receiver, which
// reads each request body to the end, counts it and answers 204 without
// decoding anything. Each run has its own path token so that a request from
// an earlier agent (or anything else) is never counted for the current one.
type rig struct {
	body  atomic.Pointer[[]byte]
	token atomic.Pointer[string]

	scrapes   atomic.Int64 // scrapes whose whole body was written
	requests  atomic.Int64 // remote-write requests read to the end
	bytes     atomic.Int64 // their bodies' bytes (compressed, as sent)
	notSnappy atomic.Int64 // requests without Content-Encoding: snappy
	stray     atomic.Int64 // requests to another run's path
}

// counters is a snapshot of the rig's counts.
type counters struct {
	scrapes, requests, bytes, notSnappy int64
}

func (r *rig) snapshot() counters {
	return counters{r.scrapes.Load(), r.requests.Load(), r.bytes.Load(), r.notSnappy.Load()}
}

func (c counters) sub(o counters) counters {
	return counters{c.scrapes - o.scrapes, c.requests - o.requests, c.bytes - o.bytes, c.notSnappy - o.notSnappy}
}

// begin starts a run: the target serves body at /metrics/TOKEN and the
// receiver counts at /write/TOKEN; the counts start from zero.
func (r *rig) begin(token string, body []byte) {
	r.body.Store(&body)
	r.token.Store(&token)
	r.scrapes.Store(0)
	r.requests.Store(0)
	r.bytes.Store(0)
	r.notSnappy.Store(0)
}

// current reports whether path is /PREFIX/TOKEN of the current run.
func (r *rig) current(path, prefix string) bool {
	t := r.token.Load()
	return t != nil && strings.TrimPrefix(path, prefix) == *t
}

func (r *rig) serveTarget(w http.ResponseWriter, req *http.Request) {
	if !r.current(req.URL.Path, "/metrics/") {
		r.stray.Add(1)
		http.NotFound(w, req)
		return
	}
	body := *r.body.Load()
	// Prometheus 3's scrape code (rwkit agent) refuses a body without a
	// valid Content-Type.
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	if _, err := w.Write(body); err == nil {
		r.scrapes.Add(1)
	}
}

func (r *rig) serveWrite(w http.ResponseWriter, req *http.Request) {
	if !r.current(req.URL.Path, "/write/") {
		r.stray.Add(1)
		io.Copy(io.Discard, req.Body)
		http.NotFound(w, req)
		return
	}
	n, err := io.Copy(io.Discard, req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.requests.Add(1)
	r.bytes.Add(n)
	if req.Header.Get("Content-Encoding") != "snappy" {
		r.notSnappy.Add(1)
	}
	w.WriteHeader(http.StatusNoContent)
}

// listen serves the rig on two loopback listeners and returns their base
// URLs (http://127.0.0.1:PORT) and a function that stops both.
func (r *rig) listen() (targetURL, writeURL string, stop func(), err error) {
	var servers []*http.Server
	start := func(h http.HandlerFunc) (string, error) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, srv)
		go srv.Serve(ln)
		return "http://" + ln.Addr().String(), nil
	}
	stop = func() {
		for _, s := range servers {
			s.Close()
		}
	}
	if targetURL, err = start(r.serveTarget); err != nil {
		return "", "", nil, err
	}
	if writeURL, err = start(r.serveWrite); err != nil {
		stop()
		return "", "", nil, err
	}
	return targetURL, writeURL, stop, nil
}

// freePort is a loopback address no one listens on now, for an agent's
// own HTTP server (each agent has one; their defaults would clash with
// other processes on the machine).
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
