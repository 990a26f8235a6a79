package workspace_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rwkit/rwkit/workspace"
)

// TestConcurrentWritesLimit holds one write in flight (its body not yet
// sent) and checks that the next is answered 503 with Retry-After, and
// that writes are taken again once it is done.
func TestConcurrentWritesLimit(t *testing.T) {
	e := newEnv(t, "amp", workspace.WithMaxConcurrentWrites(1))
	pr, pw := io.Pipe()
	done := make(chan response, 1)
	go func() { done <- e.post(t, "/api/v1/write", pr) }()
	// Wait until the first write holds the slot.
	var r response
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		r = e.push(t, "/api/v1/write", rw1Body(series(1, nowMs(), "__name__", "second")))
		if r.status != http.StatusOK {
			break
		}
	}
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") != "1" || !strings.Contains(r.body, "too many concurrent remote writes (limit 1)") {
		t.Fatalf("second write: %d Retry-After %q %q, want 503 with Retry-After 1", r.status, r.header.Get("Retry-After"), r.body)
	}
	pw.Write(rw1Body(series(1, nowMs(), "__name__", "first")))
	pw.Close()
	if first := <-done; first.status != http.StatusOK {
		t.Fatalf("first write: %d %s", first.status, first.body)
	}
	if r := e.push(t, "/api/v1/write", rw1Body(series(1, nowMs(), "__name__", "third"))); r.status != http.StatusOK {
		t.Fatalf("write after the slot was freed: %d %s", r.status, r.body)
	}
}

func TestMaxSeriesPerRequestOption(t *testing.T) {
	e := newEnv(t, "amp", workspace.WithMaxSeriesPerRequest(2))
	ts := nowMs()
	if r := e.push(t, "/api/v1/write", rw1Body(series(1, ts, "__name__", "a"), series(1, ts, "__name__", "b"))); r.status != 200 {
		t.Fatalf("2 series: %d %s", r.status, r.body)
	}
	r := e.push(t, "/api/v1/write", rw1Body(series(1, ts, "__name__", "a"), series(1, ts, "__name__", "b"), series(1, ts, "__name__", "c")))
	if r.status != 413 || !strings.Contains(r.body, "more than 2 series") {
		t.Fatalf("3 series: %d %s", r.status, r.body)
	}
	for _, o := range []workspace.Option{workspace.WithMaxSeriesPerRequest(0), workspace.WithMaxConcurrentWrites(-1)} {
		if _, err := workspace.New(e.st, o); err == nil {
			t.Error("a non-positive limit was accepted")
		}
	}
}
