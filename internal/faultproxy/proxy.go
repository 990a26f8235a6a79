package faultproxy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// Mode is what the proxy does to the requests that reach it.
type Mode int

// Modes. Every mode but Refuse acts per request; Refuse acts on the
// listener.
const (
	// Pass forwards requests and responses unchanged.
	Pass Mode = iota
	// Refuse stops listening: new connections are refused by the kernel
	// and open ones are closed. Setting another mode listens again on the
	// same address.
	Refuse
	// Close closes the connection as soon as a request starts arriving,
	// without an answer.
	Close
	// ResetRequest reads Bytes bytes of the request (headers included),
	// then resets the connection (RST). Nothing is forwarded.
	ResetRequest
	// ResetResponse forwards the request, then writes Bytes bytes of the
	// receiver's response (status line included) and resets the
	// connection: the receiver has the request, the client an error.
	ResetResponse
	// Stall reads the request and never answers; the connection is held
	// until the client gives up (closes it), the mode changes, or the
	// proxy is closed. Nothing is forwarded.
	Stall
	// Status answers Status (default 503) without forwarding, with a
	// Retry-After header when RetryAfter is set.
	Status
	// Delay forwards the request and holds the response for Delay.
	Delay
)

var modeNames = [...]string{"pass", "refuse", "close", "reset-request", "reset-response", "stall", "status", "delay"}

func (m Mode) String() string {
	if m >= 0 && int(m) < len(modeNames) {
		return modeNames[m]
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}

// Fault is the proxy's behaviour until the next Set.
type Fault struct {
	Mode Mode
	// Count, for per-request modes, is how many requests get the fault;
	// the proxy then passes requests again. 0 means every request until
	// the next Set.
	Count int
	// After is how many requests pass before the fault applies (e.g. the
	// second request of a write split in two).
	After int
	// Bytes is how much of the request (ResetRequest) or response
	// (ResetResponse) gets through before the reset.
	Bytes int
	// Status is the code answered in mode Status; 0 means 503.
	Status int
	// RetryAfter is the Retry-After header value in mode Status; empty
	// sends none.
	RetryAfter string
	// Delay is how long mode Delay holds each response.
	Delay time.Duration
}

// Stats counts what the proxy saw since it started.
type Stats struct {
	Accepted  int // connections accepted
	Requests  int // requests that started arriving
	Forwarded int // requests forwarded that got a response from the receiver
	Injected  int // requests that got a fault instead of (or on top of) forwarding
	Open      int // connections open now (client side)
}

// Proxy is a fault-injecting HTTP/1.1 proxy on a loopback port in front
// of one receiver. Its methods are safe for concurrent use.
type Proxy struct {
	target *url.URL
	up     *http.Transport // to the receiver

	mu      sync.Mutex
	addr    string
	ln      net.Listener // nil while refusing
	fault   Fault
	left    int           // requests left for fault when fault.Count > 0
	skip    int           // requests left to pass before fault applies
	changed chan struct{} // closed and replaced by every Set: releases stalls
	conns   map[net.Conn]struct{}
	closed  bool
	stats   Stats

	wg   sync.WaitGroup // accept loops and connection handlers
	done chan struct{}  // closed by Close
}

// New starts a proxy on 127.0.0.1:0 that forwards to target, a base URL
// such as http://127.0.0.1:9090. Request paths are kept.
func New(target string) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("faultproxy: target %q: %w", target, err)
	}
	if u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("faultproxy: target %q: want http://host:port", target)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: %w", err)
	}
	p := &Proxy{
		target:  u,
		up:      &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 4, DisableCompression: true},
		addr:    ln.Addr().String(),
		ln:      ln,
		changed: make(chan struct{}),
		conns:   map[net.Conn]struct{}{},
		done:    make(chan struct{}),
	}
	p.serve(ln)
	return p, nil
}

// URL is the proxy's base URL, http://127.0.0.1:<port>.
func (p *Proxy) URL() string { return "http://" + p.addr }

// Set switches the proxy to f from the next request (or at once for
// Refuse). Requests stalled by a previous Stall are released: their
// connections are closed.
func (p *Proxy) Set(f Fault) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errors.New("faultproxy: closed")
	}
	p.fault, p.left, p.skip = f, f.Count, f.After
	close(p.changed)
	p.changed = make(chan struct{})
	switch {
	case f.Mode == Refuse && p.ln != nil:
		_ = p.ln.Close()
		p.ln = nil
		for c := range p.conns {
			_ = c.Close()
		}
	case f.Mode != Refuse && p.ln == nil:
		// The port was ours a moment ago; on loopback nothing else takes
		// it in practice, but retry briefly rather than flake.
		var err error
		for i := 0; i < 50; i++ {
			var ln net.Listener
			if ln, err = net.Listen("tcp", p.addr); err == nil {
				p.ln = ln
				p.serve(ln)
				return nil
			}
			time.Sleep(20 * time.Millisecond)
		}
		return fmt.Errorf("faultproxy: listen again on %s: %w", p.addr, err)
	}
	return nil
}

// Clear is Set(Fault{}): pass everything.
func (p *Proxy) Clear() error { return p.Set(Fault{}) }

// Stats returns the counters.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.Open = len(p.conns)
	return s
}

// CloseIdleConnections closes the proxy's idle connections to the
// receiver, so that tests counting goroutines see only their own.
func (p *Proxy) CloseIdleConnections() { p.up.CloseIdleConnections() }

// Close stops listening, closes every connection and waits for the
// proxy's goroutines to end.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	close(p.done)
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	p.up.CloseIdleConnections()
	return nil
}

func (p *Proxy) serve(ln net.Listener) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed by Set(Refuse) or Close
			}
			p.mu.Lock()
			if p.closed || p.ln != ln {
				p.mu.Unlock()
				_ = c.Close()
				continue
			}
			p.conns[c] = struct{}{}
			p.stats.Accepted++
			p.wg.Add(1)
			p.mu.Unlock()
			go p.handle(c)
		}
	}()
}

// take returns the fault for one request that started arriving and counts
// it.
func (p *Proxy) take() (Fault, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats.Requests++
	f := p.fault
	if p.skip > 0 && f.Mode != Refuse {
		p.skip--
		return Fault{}, p.changed
	}
	if f.Mode == Refuse { // a connection accepted just before Refuse
		f.Mode = Close
	}
	if f.Mode != Pass {
		p.stats.Injected++
		if p.fault.Count > 0 {
			if p.left--; p.left == 0 {
				p.fault = Fault{}
			}
		}
	}
	return f, p.changed
}

func (p *Proxy) count(field *int) {
	p.mu.Lock()
	*field++
	p.mu.Unlock()
}

// handle serves one client connection, request after request.
func (p *Proxy) handle(c net.Conn) {
	defer p.wg.Done()
	defer func() {
		_ = c.Close()
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
	}()
	br := bufio.NewReader(c)
	for {
		if _, err := br.Peek(1); err != nil {
			return // the client closed the connection
		}
		f, changed := p.take()
		switch f.Mode {
		case Close:
			return
		case ResetRequest:
			_, _ = io.CopyN(io.Discard, br, int64(f.Bytes))
			reset(c)
			return
		}
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return
		}
		switch f.Mode {
		case Stall:
			p.stall(c, br, changed)
			return
		case Status:
			if !writeStatus(c, f) {
				return
			}
			continue
		}
		resp, err := p.forward(req, body)
		if err != nil {
			writeError(c, err)
			return
		}
		p.count(&p.stats.Forwarded)
		var out bytes.Buffer
		_ = resp.Write(&out)
		switch f.Mode {
		case ResetResponse:
			_, _ = c.Write(out.Bytes()[:min(f.Bytes, out.Len())])
			reset(c)
			return
		case Delay:
			t := time.NewTimer(f.Delay)
			select {
			case <-t.C:
			case <-p.done:
				t.Stop()
				return
			}
		}
		if _, err := c.Write(out.Bytes()); err != nil {
			return
		}
	}
}

// stall holds c until the client closes it, the fault changes or the proxy
// closes.
func (p *Proxy) stall(c net.Conn, br *bufio.Reader, changed <-chan struct{}) {
	gone := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, br) // ends when c is closed by either side
		close(gone)
	}()
	select {
	case <-gone:
	case <-changed:
	case <-p.done:
	}
	_ = c.Close()
	<-gone
}

// forward sends the request to the receiver and reads its whole response.
func (p *Proxy) forward(req *http.Request, body []byte) (*http.Response, error) {
	out, err := http.NewRequest(req.Method, p.target.Scheme+"://"+p.target.Host+req.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	out.Header = req.Header.Clone()
	resp, err := p.up.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.TransferEncoding = nil
	resp.Close = false
	resp.Header.Del("Connection")
	return resp, nil
}

func writeStatus(c net.Conn, f Fault) bool {
	code := f.Status
	if code == 0 {
		code = http.StatusServiceUnavailable
	}
	msg := "faultproxy: injected " + strconv.Itoa(code) + "\n"
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n", code, http.StatusText(code), len(msg))
	if f.RetryAfter != "" {
		fmt.Fprintf(&b, "Retry-After: %s\r\n", f.RetryAfter)
	}
	b.WriteString("\r\n" + msg)
	_, err := c.Write(b.Bytes())
	return err == nil
}

func writeError(c net.Conn, err error) {
	msg := "faultproxy: receiver: " + err.Error() + "\n"
	fmt.Fprintf(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(msg), msg)
}

// reset closes c with a TCP RST instead of a FIN.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}
