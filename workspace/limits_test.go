package workspace_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rwkit/rwkit/workspace"
)

// TestConcurrentWritesLimit holds one write in flight (its body not yet
// sent) and checks that the next is answered 503 with Retry-After, and
// that writes are taken again once it is done.
func TestConcurrentWritesLimit(t *testing.T) {
	e := newEnv(t, "amp", workspace.WithMaxConcurrentWrites(1))
	// The first write is served in-process with a body that arrives in two
	// parts, so it deterministically holds the only slot (it is reading its
	// body) while the second write arrives over HTTP. Going through a
	// client for the first one made the test depend on when net/http sends
	// a streamed request's headers.
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.CloseWithError(io.ErrUnexpectedEOF) })
	req := httptest.NewRequest(http.MethodPost, "/api/v1/write", pr)
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "snappy")
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.ws.Handler().ServeHTTP(rec, req)
	}()
	first := rw1Body(series(1, nowMs(), "__name__", "first"))
	// pw.Write returns once the handler has read the byte: it holds the slot.
	if _, err := pw.Write(first[:1]); err != nil {
		t.Fatal(err)
	}
	r := e.push(t, "/api/v1/write", rw1Body(series(1, nowMs(), "__name__", "second")))
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") != "1" || !strings.Contains(r.body, "too many concurrent remote writes (limit 1)") {
		t.Fatalf("second write: %d Retry-After %q %q, want 503 with Retry-After 1", r.status, r.header.Get("Retry-After"), r.body)
	}
	if _, err := pw.Write(first[1:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	<-done
	if rec.Code != http.StatusOK {
		t.Fatalf("first write: %d %s", rec.Code, rec.Body.String())
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
