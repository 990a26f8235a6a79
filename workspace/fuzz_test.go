package workspace_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rwkit/rwkit/wire"
	"github.com/rwkit/rwkit/workspace"
)

// FuzzHandler: no body or header makes the workspace panic or answer 5xx.
func FuzzHandler(f *testing.F) {
	ts := nowMs()
	valid := rw1Body(series(1, ts, "__name__", "up"), series(2, ts, "__name__", "x", "a", ""))
	f.Add(valid, uint8(0), uint8(0), uint8(0), false)
	f.Add(rw2Body(series(1, ts, "__name__", "up")), uint8(1), uint8(0), uint8(1), false)
	f.Add([]byte("not snappy"), uint8(0), uint8(1), uint8(2), true)
	f.Add(wire.Compress(nil, []byte{0x0a, 0x02, 0x0a, 0x00}), uint8(2), uint8(0), uint8(3), false)
	f.Add([]byte{}, uint8(3), uint8(2), uint8(4), false)

	e := newEnv(f, "amp", workspace.WithMaxRequestBytes(64<<10, 256<<10), workspace.WithMaxTenants(8))
	h := e.ws.Handler()
	contentTypes := []string{"", wire.V1.ContentType(), wire.V2.ContentType(), "text/plain", "application/x-protobuf;proto", "application/x-protobuf;proto=prometheus.WriteRequest"}
	encodings := []string{"snappy", "", "gzip"}
	paths := []string{"/workspaces/ws/api/v1/remote_write", "/api/v1/push", "/api/v1/write", "/workspaces/w%20s/api/v1/remote_write", "/workspaces/ws/api/v1/collisions", "/workspaces/ws/api/v1/query?query=up"}
	f.Fuzz(func(t *testing.T, body []byte, ct, enc, path uint8, snappyIt bool) {
		if snappyIt {
			body = wire.Compress(nil, body)
		}
		p := paths[int(path)%len(paths)]
		method := http.MethodPost
		if path%7 == 6 {
			method = http.MethodGet
		}
		req := httptest.NewRequest(method, p, bytes.NewReader(body))
		req.Header.Set("Content-Type", contentTypes[int(ct)%len(contentTypes)])
		req.Header.Set("Content-Encoding", encodings[int(enc)%len(encodings)])
		req.Header.Set("X-Scope-OrgID", string(rune('a'+int(ct)%4)))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s: %d %q", method, p, rec.Code, rec.Body)
		}
	})
}

// FuzzUpstream: in pass-through mode, whatever the body and headers, the
// upstream gets the body's bytes and the sender the upstream's answer, and
// the analysis alongside does not panic.
func FuzzUpstream(f *testing.F) {
	ts := nowMs()
	f.Add(rw1Body(series(1, ts, "__name__", "up")), uint8(0), uint8(0), uint16(200))
	f.Add(rw2Body(series(1, ts, "__name__", "up")), uint8(2), uint8(1), uint16(400))
	f.Add([]byte("not snappy"), uint8(3), uint8(2), uint16(429))
	f.Add([]byte{}, uint8(1), uint8(0), uint16(503))

	var got []byte
	var status int
	up := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		rw.WriteHeader(status)
		_, _ = rw.Write([]byte("upstream"))
	}))
	f.Cleanup(up.Close)
	e := newEnv(f, "amp", workspace.WithUpstream(workspace.Upstream{URL: up.URL + "/api/v1/push"}), workspace.WithMaxTenants(8))
	h := e.ws.Handler()
	contentTypes := []string{"", wire.V1.ContentType(), wire.V2.ContentType(), "text/plain"}
	paths := []string{"/workspaces/ws/api/v1/remote_write", "/api/v1/push", "/api/v1/write", "/workspaces/w%20s/api/v1/remote_write"}
	f.Fuzz(func(t *testing.T, body []byte, ct, path uint8, code uint16) {
		status = 200 + int(code)%400 // 200..599
		got = nil
		req := httptest.NewRequest(http.MethodPost, paths[int(path)%len(paths)], bytes.NewReader(body))
		req.Header.Set("Content-Type", contentTypes[int(ct)%len(contentTypes)])
		req.Header.Set("Content-Encoding", "snappy")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		want := "upstream"
		if status == http.StatusNoContent || status == http.StatusNotModified {
			want = "" // no body for these
		}
		if rec.Code != status || rec.Body.String() != want || !bytes.Equal(got, body) {
			t.Fatalf("answer %d %q (upstream %d), upstream got %d of %d bytes", rec.Code, rec.Body, status, len(got), len(body))
		}
	})
}
