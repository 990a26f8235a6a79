package workspace_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rwkit/rwkit/wire"
	"github.com/rwkit/rwkit/workspace"
)

// TestRefusedRequests covers every refusal of the HTTP layer: status, the
// upstream text on the first line and rwkit's hint after it.
func TestRefusedRequests(t *testing.T) {
	e := newEnv(t, "amp", workspace.WithMaxRequestBytes(1<<10, 4<<10))
	ts := nowMs()
	good := rw1Body(series(1, ts, "__name__", "up"))
	raw := wire.AppendWriteRequest(nil, &wire.WriteRequest{Series: []wire.TimeSeries{series(1, ts, "__name__", "up")}})
	big := wire.Compress(nil, make([]byte, 8<<10)) // compresses well under 1 KiB, decodes to 8 KiB
	const path = "/workspaces/ws/api/v1/remote_write"
	for _, tc := range []struct {
		name      string
		path      string
		body      []byte
		headers   []string
		status    int
		firstLine string
		contains  string
	}{
		{"content type", path, good, []string{"Content-Type", "text/plain"}, 415,
			"expected application/x-protobuf as the first (media) part, got text/plain content-type", "rwkit: send Content-Type"},
		{"proto parameter", path, good, []string{"Content-Type", "application/x-protobuf;proto=foo.Bar"}, 415,
			"got application/x-protobuf;proto=foo.Bar content type; unknown type for remote write protobuf message foo.Bar, supported: prometheus.WriteRequest, io.prometheus.write.v2.Request", ""},
		{"content encoding", path, good, []string{"Content-Encoding", "gzip"}, 415,
			"gzip encoding (compression) is not accepted by this server; only snappy is acceptable", ""},
		{"not snappy", path, []byte("this is not snappy at all"), nil, 400,
			"snappy: corrupt input", "rwkit: the body is not a Snappy block"},
		{"uncompressed protobuf", path, raw, nil, 400,
			"snappy: corrupt input", "looks like uncompressed protobuf"},
		{"not protobuf", path, wire.Compress(nil, []byte{0xff, 0xff, 0xff, 0xff, 0xff}), nil, 400,
			"", "rwkit: the body is valid Snappy but not a valid RW 1.0 prometheus.WriteRequest protobuf"},
		{"rw2 body sent as rw1", path, rw2Body(series(1, ts, "__name__", "up")), []string{"Content-Type", "application/x-protobuf;proto=prometheus.WriteRequest"}, 200, "", ""},
		// As in Cortex and Prometheus, the fields of the other version are
		// unknown fields, skipped: an empty request (RW 2.0 says 0 written).
		{"rw1 body sent as rw2", path, good, []string{"Content-Type", wire.V2.ContentType()}, 204, "", ""},
		{"decoded too large", path, big, nil, 413,
			"received message larger than max (8192 vs 4096)", "rwkit: the Snappy block declares"},
		{"body too large", path, bytes.Repeat([]byte{0}, 2<<10), nil, 413,
			"received message larger than max (2048 vs 1024)", ""},
		{"invalid workspace id", "/workspaces/a$b/api/v1/remote_write", good, nil, 400, "", "rwkit: name the workspace"},
		{"invalid org id", "/api/v1/push", good, []string{"X-Scope-OrgID", "../etc"}, 400, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.push(t, tc.path, tc.body, tc.headers...)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d; body %q", r.status, tc.status, r.body)
			}
			first, _, _ := strings.Cut(r.body, "\n")
			if tc.firstLine != "" && first != tc.firstLine {
				t.Errorf("first line\n got %q\nwant %q", first, tc.firstLine)
			}
			if !strings.Contains(r.body, tc.contains) {
				t.Errorf("body %q does not contain %q", r.body, tc.contains)
			}
		})
	}

	t.Run("method", func(t *testing.T) {
		for _, p := range []string{path, "/api/v1/push", "/api/v1/write"} {
			resp, err := e.srv.Client().Get(e.srv.URL + p)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
				t.Errorf("GET %s: %d Allow %q, want 405 Allow POST", p, resp.StatusCode, resp.Header.Get("Allow"))
			}
		}
	})
}

// countingReader serves endless zero bytes and counts what was read.
type countingReader struct{ n atomic.Int64 }

func (c *countingReader) Read(p []byte) (int, error) {
	clear(p)
	c.n.Add(int64(len(p)))
	return len(p), nil
}

// TestOversizeBodyIsNotRead: a body over the limit is refused after
// reading at most the limit (chunked, no Content-Length), and not at all
// when its Content-Length says so.
func TestOversizeBodyIsNotRead(t *testing.T) {
	const limit = 64 << 10
	e := newEnv(t, "amp", workspace.WithMaxRequestBytes(limit, limit))
	h := e.ws.Handler()

	body := &countingReader{}
	req := httptest.NewRequest(http.MethodPost, "/workspaces/ws/api/v1/remote_write", io.NopCloser(body))
	req.ContentLength = -1
	req.Header.Set("Content-Encoding", "snappy")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked: %d %q, want 413", rec.Code, rec.Body)
	}
	if n := body.n.Load(); n > limit+1+32<<10 {
		t.Errorf("chunked: read %d bytes of an endless body, want about the limit %d", n, limit)
	}

	body = &countingReader{}
	req = httptest.NewRequest(http.MethodPost, "/workspaces/ws/api/v1/remote_write", io.NopCloser(body))
	req.ContentLength = 1 << 40
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge || body.n.Load() != 0 {
		t.Errorf("declared 1 TiB: %d after reading %d bytes, want 413 after none", rec.Code, body.n.Load())
	}
}

func TestHealthReadyMetrics(t *testing.T) {
	e := newEnv(t, "amp")
	e.push(t, "/workspaces/ws/api/v1/remote_write", rw1Body(series(1, nowMs(), "__name__", "up")))
	for path, want := range map[string]string{
		"/-/healthy": "Healthy",
		"/-/ready":   "Ready",
		"/metrics":   `rwkit_received_samples_total{workspace="ws"} 1`,
	} {
		resp, err := e.srv.Client().Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("GET %s: %d, body does not contain %q:\n%s", path, resp.StatusCode, want, b)
		}
	}
}
