package workspace_test

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rwkit/rwkit/wire"
	"github.com/rwkit/rwkit/workspace"
)

// recorded is one request an httptest upstream received.
type recorded struct {
	path   string
	header http.Header
	body   []byte
}

// fakeUpstream answers every write with answer, recording what it got.
type fakeUpstream struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []recorded
}

func newFakeUpstream(t *testing.T, answer func(rw http.ResponseWriter)) *fakeUpstream {
	t.Helper()
	f := &fakeUpstream{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.got = append(f.got, recorded{r.URL.Path, r.Header.Clone(), b})
		f.mu.Unlock()
		answer(rw)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeUpstream) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.got...)
}

func newUpstreamEnv(t *testing.T, upstreamURL string, opts ...workspace.Option) *env {
	t.Helper()
	return newEnv(t, "cortex", append([]workspace.Option{workspace.WithUpstream(workspace.Upstream{URL: upstreamURL + "/api/v1/push"})}, opts...)...)
}

// The same bytes and end-to-end headers reach the upstream, on every
// write path, and the upstream's answer comes back unchanged.
func TestUpstreamForwardsUnchanged(t *testing.T) {
	up := newFakeUpstream(t, func(rw http.ResponseWriter) {
		rw.Header().Set("X-Prometheus-Remote-Write-Samples-Written", "1")
		rw.Header().Set("X-Upstream", "yes")
		rw.WriteHeader(http.StatusNoContent)
	})
	e := newUpstreamEnv(t, up.srv.URL)
	body := rw2Body(series(1, 1000, "__name__", "up", "service", "a"))
	paths := []string{"/workspaces/ws-1/api/v1/remote_write", "/api/v1/push", "/api/v1/write"}
	for _, p := range paths {
		got := e.push(t, p, body,
			"Content-Type", wire.V2.ContentType(),
			"X-Prometheus-Remote-Write-Version", "2.0.0",
			"Authorization", "Bearer sender-token",
			"X-Scope-OrgID", "team-a",
			"Connection", "X-Hop",
			"X-Hop", "must not pass",
			"Keep-Alive", "timeout=5")
		if got.status != http.StatusNoContent || got.body != "" {
			t.Fatalf("%s: answer %d %q, want the upstream's 204 with no body", p, got.status, got.body)
		}
		if got.header.Get("X-Prometheus-Remote-Write-Samples-Written") != "1" || got.header.Get("X-Upstream") != "yes" {
			t.Errorf("%s: the upstream's headers did not come back: %v", p, got.header)
		}
	}
	reqs := up.requests()
	if len(reqs) != len(paths) {
		t.Fatalf("upstream got %d requests, want %d", len(reqs), len(paths))
	}
	for i, r := range reqs {
		if r.path != "/api/v1/push" {
			t.Errorf("request %d went to %s, want the upstream URL's path /api/v1/push", i, r.path)
		}
		if !bytes.Equal(r.body, body) {
			t.Errorf("request %d: body differs from the sender's (%d vs %d bytes)", i, len(r.body), len(body))
		}
		want := map[string]string{
			"Content-Type":                      wire.V2.ContentType(),
			"Content-Encoding":                  "snappy",
			"X-Prometheus-Remote-Write-Version": "2.0.0",
			"Authorization":                     "Bearer sender-token",
			"X-Scope-Orgid":                     "team-a",
			"User-Agent":                        "rwkit-test",
			"X-Hop":                             "",
			"Keep-Alive":                        "",
		}
		got := map[string]string{}
		for k := range want {
			got[k] = r.header.Get(k)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("request %d headers (-want +got):\n%s", i, d)
		}
	}
}

// The upstream's refusals and failures reach the sender as they are.
func TestUpstreamAnswersPassThrough(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		header map[string]string
		body   string
	}{
		{"429 with Retry-After", http.StatusTooManyRequests, map[string]string{"Retry-After": "7"}, "ingestion rate limit exceeded"},
		{"500", http.StatusInternalServerError, nil, "ingester failed"},
		{"503", http.StatusServiceUnavailable, map[string]string{"Retry-After": "30"}, ""},
		{"400 with an empty body", http.StatusBadRequest, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := newFakeUpstream(t, func(rw http.ResponseWriter) {
				for k, v := range tc.header {
					rw.Header().Set(k, v)
				}
				rw.WriteHeader(tc.status)
				_, _ = io.WriteString(rw, tc.body)
			})
			e := newUpstreamEnv(t, up.srv.URL)
			got := e.push(t, "/api/v1/push", rw1Body(series(1, 1000, "__name__", "up")))
			if got.status != tc.status || got.body != tc.body {
				t.Errorf("answer %d %q, want the upstream's %d %q", got.status, got.body, tc.status, tc.body)
			}
			for k, v := range tc.header {
				if got.header.Get(k) != v {
					t.Errorf("%s: %q, want the upstream's %q", k, got.header.Get(k), v)
				}
			}
		})
	}
}

// An upstream that cannot be reached is the sender's 502: nothing is
// acknowledged on its behalf.
func TestUpstreamUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	e := newUpstreamEnv(t, "http://"+addr)
	got := e.push(t, "/api/v1/push", rw1Body(series(1, 1000, "__name__", "up")))
	if got.status != http.StatusBadGateway {
		t.Fatalf("answer %d %q, want 502", got.status, got.body)
	}
	for _, want := range []string{"the upstream http://" + addr + "/api/v1/push did not answer", "connection refused", "nothing of this request was stored or acknowledged"} {
		if !strings.Contains(got.body, want) {
			t.Errorf("answer %q does not say %q", got.body, want)
		}
	}
}

func TestUpstreamURLChecked(t *testing.T) {
	for _, u := range []string{"", "cortex:9009/api/v1/push", "ftp://x/y", "http://"} {
		if _, err := workspace.Open(t.TempDir(), workspace.WithUpstream(workspace.Upstream{URL: u})); err == nil || !strings.Contains(err.Error(), "upstream URL") {
			t.Errorf("URL %q: err %v, want one naming the upstream URL", u, err)
		}
	}
}
