package faultproxy

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rwkit/rwkit/internal/waitfor"
)

// backend answers 200 "ok:<body>" and counts requests.
func backend(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		n.Add(1)
		w.Header().Set("X-Path", r.URL.Path)
		_, _ = io.WriteString(w, "ok:"+string(b))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func start(t *testing.T) (*Proxy, *atomic.Int32, *http.Client) {
	t.Helper()
	srv, n := backend(t)
	px, err := New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = px.Close() })
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return px, n, &http.Client{Transport: tr, Timeout: 20 * time.Second}
}

func post(c *http.Client, url, body string) (int, string, http.Header, error) {
	resp, err := c.Post(url, "text/plain", strings.NewReader(body))
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header, err
}

func set(t *testing.T, px *Proxy, f Fault) {
	t.Helper()
	if err := px.Set(f); err != nil {
		t.Fatal(err)
	}
}

func TestPass(t *testing.T) {
	px, n, c := start(t)
	for i := range 3 {
		code, body, h, err := post(c, px.URL()+"/api/v1/write?x=1", "hello")
		if err != nil || code != 200 || body != "ok:hello" || h.Get("X-Path") != "/api/v1/write" {
			t.Fatalf("request %d: %d %q %v %v", i, code, body, h, err)
		}
	}
	if n.Load() != 3 {
		t.Errorf("backend saw %d requests, want 3", n.Load())
	}
	if s := px.Stats(); s.Requests != 3 || s.Forwarded != 3 || s.Injected != 0 || s.Accepted != 1 {
		t.Errorf("stats %+v: want 3 requests forwarded over one connection", s)
	}
}

func TestStatusBurst(t *testing.T) {
	px, n, c := start(t)
	set(t, px, Fault{Mode: Status, Count: 2})
	set(t, px, Fault{Mode: Status, Status: 429, RetryAfter: "7", Count: 2}) // replaces the first
	var codes []int
	for range 3 {
		code, _, h, err := post(c, px.URL(), "x")
		if err != nil {
			t.Fatal(err)
		}
		if code == 429 && h.Get("Retry-After") != "7" {
			t.Errorf("Retry-After %q, want 7", h.Get("Retry-After"))
		}
		codes = append(codes, code)
	}
	if codes[0] != 429 || codes[1] != 429 || codes[2] != 200 {
		t.Errorf("codes %v, want 429 429 200", codes)
	}
	if n.Load() != 1 {
		t.Errorf("backend saw %d requests, want 1 (injected answers are not forwarded)", n.Load())
	}
	set(t, px, Fault{Mode: Status})
	if code, _, h, _ := post(c, px.URL(), "x"); code != 503 || h.Get("Retry-After") != "" {
		t.Errorf("default status %d Retry-After %q, want 503 and none", code, h.Get("Retry-After"))
	}
}

func TestAfter(t *testing.T) {
	px, _, c := start(t)
	set(t, px, Fault{Mode: Status, After: 2, Count: 1})
	var codes []int
	for range 4 {
		code, _, _, err := post(c, px.URL(), "x")
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, code)
	}
	if want := []int{200, 200, 503, 200}; !slices.Equal(codes, want) {
		t.Errorf("codes %v, want %v", codes, want)
	}
}

func TestRefuseAndBack(t *testing.T) {
	px, _, c := start(t)
	if code, _, _, err := post(c, px.URL(), "a"); err != nil || code != 200 {
		t.Fatal(code, err)
	}
	set(t, px, Fault{Mode: Refuse})
	// A reused keep-alive connection that the proxy just closed fails with
	// EOF instead; that is the client's race, not the proxy's.
	c.CloseIdleConnections()
	_, _, _, err := post(c, px.URL(), "b")
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("while refusing: %v, want connection refused", err)
	}
	set(t, px, Fault{})
	if code, body, _, err := post(c, px.URL(), "c"); err != nil || body != "ok:c" {
		t.Errorf("after refusing: %d %q %v", code, body, err)
	}
}

func TestResets(t *testing.T) {
	for _, tc := range []struct {
		f       Fault
		stored  int32
		errText string
	}{
		{Fault{Mode: Close, Count: 1}, 0, "EOF"},
		{Fault{Mode: ResetRequest, Bytes: 20, Count: 1}, 0, ""},
		{Fault{Mode: ResetResponse, Bytes: 12, Count: 1}, 1, ""},
	} {
		t.Run(tc.f.Mode.String(), func(t *testing.T) {
			px, n, c := start(t)
			set(t, px, tc.f)
			_, _, _, err := post(c, px.URL(), strings.Repeat("x", 100))
			if err == nil {
				t.Fatal("no error")
			}
			if tc.errText != "" && !strings.Contains(err.Error(), tc.errText) {
				t.Errorf("error %v, want %q", err, tc.errText)
			}
			if n.Load() != tc.stored {
				t.Errorf("backend saw %d requests, want %d", n.Load(), tc.stored)
			}
			// Count 1: the next request passes.
			if code, _, _, err := post(c, px.URL(), "y"); err != nil || code != 200 {
				t.Errorf("after the fault: %d %v", code, err)
			}
		})
	}
}

func TestStallUntilClientGivesUp(t *testing.T) {
	px, n, _ := start(t)
	set(t, px, Fault{Mode: Stall})
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 200 * time.Millisecond}
	start := time.Now()
	_, _, _, err := post(c, px.URL(), "x")
	if err == nil || !strings.Contains(err.Error(), "Timeout") {
		t.Errorf("stalled request: %v, want the client's timeout", err)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("answered after %s", d)
	}
	if n.Load() != 0 {
		t.Errorf("a stalled request was forwarded")
	}
	waitOpen(t, px, 0) // the proxy lets go when the client does
}

func TestStallReleasedBySet(t *testing.T) {
	px, _, c := start(t)
	set(t, px, Fault{Mode: Stall})
	errc := make(chan error, 1)
	go func() { _, _, _, err := post(c, px.URL(), "x"); errc <- err }()
	waitfor.True(t, "the stalled request", func() bool { return px.Stats().Requests == 1 })
	set(t, px, Fault{})
	if err := <-errc; err == nil {
		t.Error("a released stall answered")
	}
}

func TestDelay(t *testing.T) {
	px, _, c := start(t)
	set(t, px, Fault{Mode: Delay, Delay: 150 * time.Millisecond})
	start := time.Now()
	code, body, _, err := post(c, px.URL(), "slow")
	if err != nil || code != 200 || body != "ok:slow" {
		t.Fatalf("%d %q %v", code, body, err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("answered after %s, want at least 150ms", d)
	}
}

// Close ends every goroutine the proxy started, held connections too.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	srv, _ := backend(t)
	before := runtime.NumGoroutine()
	px, err := New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	c := &http.Client{Transport: tr}
	_, _, _, _ = post(c, px.URL(), "a")
	set(t, px, Fault{Mode: Stall})
	go func() { _, _, _, _ = post(c, px.URL(), "b") }()
	waitfor.True(t, "the stalled request", func() bool { return px.Stats().Requests == 2 })
	_ = px.Close()
	_ = px.Close() // idempotent
	tr.CloseIdleConnections()
	srv.CloseClientConnections()
	waitfor.True(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
	if err := px.Set(Fault{}); err == nil {
		t.Error("Set after Close: no error")
	}
}

func TestConcurrentSet(t *testing.T) {
	px, _, c := start(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		modes := []Fault{{Mode: Status, Count: 1}, {Mode: Delay, Delay: time.Millisecond}, {}, {Mode: Refuse}, {Mode: ResetResponse, Bytes: 5}}
		for i := range 200 {
			_ = px.Set(modes[i%len(modes)])
		}
		_ = px.Clear()
	}()
	for range 50 {
		_, _, _, _ = post(c, px.URL(), "x")
	}
	<-done
	if code, _, _, err := post(c, px.URL(), "x"); err != nil || code != 200 {
		t.Errorf("after the storm: %d %v", code, err)
	}
}

func waitOpen(t *testing.T, px *Proxy, n int) {
	t.Helper()
	waitfor.True(t, "open connections", func() bool { return px.Stats().Open == n })
}
