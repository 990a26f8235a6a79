package agentdiff

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Content types of scripted answers.
const (
	TextType        = "text/plain; version=0.0.4; charset=utf-8"
	OpenMetricsType = "application/openmetrics-text; version=1.0.0; charset=utf-8"
)

// Response is what a scripted target answers to one scrape.
type Response struct {
	// Status is the HTTP status; 0 means 200.
	Status int
	// ContentType is the Content-Type header; "" sends none at all (Go's
	// server would otherwise sniff one).
	ContentType string
	Body        string
	// Hang makes the target answer nothing until the scraper gives up
	// (its scrape_timeout), or for at most 10 seconds.
	Hang bool
}

// Script answers the n-th scrape a target receives, n from 1 (requests
// within sameScrape of each other are one scrape).
type Script func(n int) Response

// Text answers every scrape with the Prometheus text body body(n).
func Text(body func(n int) string) Script {
	return func(n int) Response { return Response{ContentType: TextType, Body: body(n)} }
}

// Fixed answers every scrape with the same Prometheus text body.
func Fixed(body string) Script {
	return Text(func(int) string { return body })
}

// Target is a scripted /metrics endpoint. Each scraper gets its own
// Target for each script, so that every scraper sees the same sequence of
// answers whatever the other does. After its plan's last scrape it answers
// 503: nothing a scraper appends after that is compared.
type Target struct {
	// Addr is host:port, as static_configs wants it.
	Addr string

	srv    *httptest.Server
	script Script
	last   int

	mu      sync.Mutex
	n       int
	lastAt  time.Time // the last request
	accepts map[string]bool
}

// sameScrape: a request this soon after the last one is the same scrape,
// answered the same: rwkit's stream loop asks a second time for a body its
// own parser refused, for Prometheus' (a real target answers with what it
// has then, which a script says by scrape).
const sameScrape = 300 * time.Millisecond

// StartTarget serves script for scrapes 1 to last, until the test ends.
func StartTarget(t testing.TB, script Script, last int) *Target {
	tg := &Target{script: script, last: last, accepts: map[string]bool{}}
	tg.srv = httptest.NewServer(http.HandlerFunc(tg.serveHTTP))
	tg.Addr = strings.TrimPrefix(tg.srv.URL, "http://")
	t.Cleanup(tg.srv.Close)
	return tg
}

func (tg *Target) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/metrics" {
		http.NotFound(w, r)
		return
	}
	tg.mu.Lock()
	if now := time.Now(); tg.n == 0 || now.Sub(tg.lastAt) > sameScrape {
		tg.n++
	}
	tg.lastAt = time.Now()
	n := tg.n
	tg.accepts[r.Header.Get("Accept")] = true
	tg.mu.Unlock()
	if n > tg.last {
		http.Error(w, fmt.Sprintf("script ended after scrape %d", tg.last), http.StatusServiceUnavailable)
		return
	}
	resp := tg.script(n)
	if resp.Hang {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
		return
	}
	if resp.ContentType == "" {
		w.Header()["Content-Type"] = nil
	} else {
		w.Header().Set("Content-Type", resp.ContentType)
	}
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(resp.Body))
}

// Scrapes returns how many scrapes the target has answered.
func (tg *Target) Scrapes() int {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.n
}

// Accepts returns the distinct Accept headers scrapers sent, sorted.
func (tg *Target) Accepts() []string {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return sortedKeys(tg.accepts)
}
