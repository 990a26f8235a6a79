package workspace_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/rwkit/rwkit/validate"
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

// syncBuffer is a log sink safe for the handler's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The incident through the pass-through: two writers, one series, one
// timestamp, two values; the upstream accepts the first and answers the
// second 400 with an empty body, as AMP does. The refusal is recorded with
// the reason from the workspace's own validation and both writers, and
// nothing is stored locally.
func TestUpstreamRefusalExplained(t *testing.T) {
	var n atomic.Int32
	up := newFakeUpstream(t, func(rw http.ResponseWriter) {
		if n.Add(1) == 1 {
			rw.WriteHeader(http.StatusOK)
			return
		}
		rw.WriteHeader(http.StatusBadRequest) // AMP: no body
	})
	var log syncBuffer
	e := newUpstreamEnv(t, up.srv.URL, workspace.WithLogger(slog.New(slog.NewTextHandler(&log, nil))))
	ts := nowMs()
	path := "/workspaces/ws-1/api/v1/remote_write"
	if got := e.push(t, path, rw1Body(series(1, ts, "__name__", "jvm_threads", "job", "app")), "User-Agent", "writer-a"); got.status != http.StatusOK {
		t.Fatalf("first write: %d %q, want the upstream's 200", got.status, got.body)
	}
	for i := 0; i < 2; i++ {
		got := e.push(t, path, rw1Body(series(2, ts, "__name__", "jvm_threads", "job", "app")), "User-Agent", "writer-b")
		if got.status != http.StatusBadRequest || got.body != "" {
			t.Fatalf("second writer: %d %q, want the upstream's 400 with its empty body", got.status, got.body)
		}
	}

	var refused []workspace.Collision
	for _, c := range e.collisions(t, "ws-1") {
		if c.Kind == workspace.KindUpstreamRefused {
			refused = append(refused, c)
		}
	}
	if len(refused) != 1 {
		t.Fatalf("upstream-refused entries: %+v, want one", refused)
	}
	c := refused[0]
	want := map[string]string{
		"reason": "new-value-for-timestamp", "series": `{__name__="jvm_threads", job="app"}`,
		"existing": "1", "new": "2", "existing_writer": "writer-a", "new_writer": "writer-b",
		"status": "400", "body": "", "count": "2",
	}
	got := map[string]string{
		"reason": c.Reason, "series": seriesText(c.Series), "existing": c.ExistingValue, "new": c.NewValue,
		"new_writer": c.NewWriter.UserAgent, "status": strconv.Itoa(c.UpstreamStatus), "body": c.UpstreamBody,
		"count": strconv.FormatInt(c.Count, 10),
	}
	if c.ExistingWriter != nil {
		got["existing_writer"] = c.ExistingWriter.UserAgent
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("upstream-refused entry (-want +got):\n%s", d)
	}
	if !strings.Contains(c.Note, "empty body") || !strings.Contains(c.Note, "the workspace's own validation") {
		t.Errorf("note %q does not say the body was empty and where the reason comes from", c.Note)
	}

	wantMetric := `
# HELP rwkit_upstream_refusals_total Writes the upstream answered 4xx in pass-through mode (--upstream), by reason: from the upstream's body, or, when it names none (AMP's empty 400), from the workspace's own validation of the write.
# TYPE rwkit_upstream_refusals_total counter
rwkit_upstream_refusals_total{reason="new-value-for-timestamp",workspace="ws-1"} 2
`
	if err := testutil.GatherAndCompare(e.reg, strings.NewReader(wantMetric), "rwkit_upstream_refusals_total"); err != nil {
		t.Error(err)
	}
	if got := e.query(t, "/workspaces/ws-1", "jvm_threads", ts); len(got) != 0 {
		t.Errorf("stored locally without Store: %v", got)
	}
	// One line when the upstream starts refusing, not one per write.
	if k := strings.Count(log.String(), "upstream refusing writes"); k != 1 {
		t.Errorf("%d 'upstream refusing writes' lines, want 1:\n%s", k, log.String())
	}
	if !strings.Contains(log.String(), "writer-a") || !strings.Contains(log.String(), "writer-b") {
		t.Errorf("the refusing line does not name both writers:\n%s", log.String())
	}
	// Written as the refusal bodies write them, not as Go values.
	if !strings.Contains(log.String(), `series="jvm_threads{`) || strings.Contains(log.String(), "map[") || strings.Contains(log.String(), "&{") {
		t.Errorf("the refusing line does not write the series and writers as text:\n%s", log.String())
	}
}

func seriesText(m map[string]string) string {
	ls := make([]wire.Label, 0, len(m))
	for k, v := range m {
		ls = append(ls, wire.Label{Name: k, Value: v})
	}
	sort.Slice(ls, func(i, j int) bool { return ls[i].Name < ls[j].Name })
	return validate.LabelsString(ls)
}

// With Store, the forwarded samples are kept and queryable locally too.
func TestUpstreamStore(t *testing.T) {
	up := newFakeUpstream(t, func(rw http.ResponseWriter) { rw.WriteHeader(http.StatusOK) })
	e := newEnv(t, "cortex", workspace.WithUpstream(workspace.Upstream{URL: up.srv.URL + "/api/v1/push", Store: true}))
	ts := nowMs()
	if got := e.push(t, "/workspaces/ws-1/api/v1/remote_write", rw1Body(series(5, ts, "__name__", "kept"))); got.status != http.StatusOK {
		t.Fatalf("write: %d %q", got.status, got.body)
	}
	if got := e.query(t, "/workspaces/ws-1", "kept", ts); got["__name__=kept"] != "5" {
		t.Errorf("query: %v, want kept 5 stored locally", got)
	}
}

// The reason comes from the upstream's body when it names one, and 429
// without a body is rate_limited.
func TestUpstreamRefusalReasonFromBody(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		reason string
	}{
		{http.StatusBadRequest, "series has too many labels (actual: 40, limit: 30) series: 'up{...}'", "max_label_names_per_series"},
		{http.StatusTooManyRequests, "", "rate_limited"},
		{http.StatusBadRequest, "something new", "unknown"},
	} {
		up := newFakeUpstream(t, func(rw http.ResponseWriter) { http.Error(rw, tc.body, tc.status) })
		e := newUpstreamEnv(t, up.srv.URL)
		e.push(t, "/workspaces/ws-1/api/v1/remote_write", rw1Body(series(1, nowMs(), "__name__", "up")))
		var reasons []string
		for _, c := range e.collisions(t, "ws-1") {
			reasons = append(reasons, c.Reason)
		}
		if d := cmp.Diff([]string{tc.reason}, reasons); d != "" {
			t.Errorf("%d %q: reasons (-want +got):\n%s", tc.status, tc.body, d)
		}
	}
}

// A workspace that authenticates its senders does not hand their
// credential for it on to the upstream.
func TestUpstreamKeepsTheWorkspacesCredential(t *testing.T) {
	up := newFakeUpstream(t, func(rw http.ResponseWriter) { rw.WriteHeader(http.StatusOK) })
	e := newUpstreamEnv(t, up.srv.URL, workspace.WithBearerToken("workspace-secret"))
	if got := e.push(t, "/api/v1/write", rw1Body(), "Authorization", "Bearer workspace-secret"); got.status != http.StatusOK {
		t.Fatalf("write: %d %q", got.status, got.body)
	}
	if got := e.push(t, "/api/v1/write", rw1Body(), "Authorization", "Bearer wrong"); got.status != http.StatusForbidden {
		t.Errorf("write with a wrong token: %d %q, want the workspace's 403", got.status, got.body)
	}
	reqs := up.requests()
	if len(reqs) != 1 {
		t.Fatalf("upstream got %d requests, want only the authenticated one", len(reqs))
	}
	if a := reqs[0].header.Get("Authorization"); a != "" {
		t.Errorf("the upstream got the workspace's credential: Authorization %q", a)
	}
}

// An upstream that drops the connection without answering is the
// sender's 502; a sender that gives up on a slow upstream cancels the
// forwarded request, and nothing was acknowledged.
func TestUpstreamFaults(t *testing.T) {
	t.Run("connection dropped", func(t *testing.T) {
		up := newFakeUpstream(t, func(rw http.ResponseWriter) {
			conn, _, err := http.NewResponseController(rw).Hijack()
			if err == nil {
				conn.Close()
			}
		})
		e := newUpstreamEnv(t, up.srv.URL)
		got := e.push(t, "/api/v1/push", rw1Body(series(1, nowMs(), "__name__", "up")))
		if got.status != http.StatusBadGateway || !strings.Contains(got.body, "did not answer") {
			t.Errorf("answer %d %q, want 502 saying the upstream did not answer", got.status, got.body)
		}
	})
	t.Run("sender gives up on a slow upstream", func(t *testing.T) {
		canceled := make(chan struct{})
		release := make(chan struct{})
		up := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			// Read whole, so that the server watches the connection.
			_, _ = io.ReadAll(r.Body)
			select {
			case <-r.Context().Done():
				close(canceled)
			case <-release:
			}
		}))
		t.Cleanup(func() { close(release); up.Close() })
		e := newUpstreamEnv(t, up.URL)
		client := &http.Client{Timeout: 200 * time.Millisecond}
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/api/v1/push", bytes.NewReader(rw1Body(series(1, nowMs(), "__name__", "up"))))
		req.Header.Set("Content-Type", wire.V1.ContentType())
		req.Header.Set("Content-Encoding", "snappy")
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("the sender got %d from a workspace whose upstream never answered", resp.StatusCode)
		}
		select {
		case <-canceled:
		case <-time.After(10 * time.Second):
			t.Fatal("the forwarded request was not canceled when the sender gave up")
		}
	})
}

// An upstream URL may carry secrets: a password, or a credential in its
// query (VictoriaMetrics' authKey, a token). The sender's 502, the log
// and the page's data show the URL with them hidden.
func TestUpstreamURLSecretsNeverShown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	var logs syncBuffer
	e := newEnv(t, "cortex",
		workspace.WithUpstream(workspace.Upstream{URL: "http://admin:pa55word@" + addr + "/api/v1/write?authKey=s3cr3t&extra_label=env%3Dprod"}),
		workspace.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	got := e.push(t, "/workspaces/shop/api/v1/remote_write", rw1Body(series(1, 1000, "__name__", "up")))
	if got.status != http.StatusBadGateway {
		t.Fatalf("answer %d %q, want 502", got.status, got.body)
	}
	workspace.WaitAnalyses(e.ws)
	var page struct{ Upstream struct{ URL string } }
	e.get(t, "/ui/api/workspaces/shop", &page)
	for where, text := range map[string]string{"answer": got.body, "log": logs.String(), "page": page.Upstream.URL} {
		if strings.Contains(text, "s3cr3t") || strings.Contains(text, "pa55word") {
			t.Errorf("%s shows a secret of the upstream URL: %s", where, text)
		}
		if !strings.Contains(text, "authKey=xxxxx") || !strings.Contains(text, "extra_label=env") {
			t.Errorf("%s does not show the URL with its credential hidden and the rest readable: %s", where, text)
		}
	}
}

// Accept-Encoding is the sender's: a sender that sends none is forwarded
// none (Go's transport would add gzip and decompress the answer), and one
// that asks for gzip gets the upstream's compressed answer as it came.
func TestUpstreamAcceptEncodingIsTheSenders(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	plain := []byte("err: out of bounds\n")
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	_, _ = zw.Write(plain)
	_ = zw.Close()
	up := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		seen = append(seen, r.Header.Get("Accept-Encoding"))
		mu.Unlock()
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			rw.Header().Set("Content-Encoding", "gzip")
			rw.WriteHeader(http.StatusBadRequest)
			_, _ = rw.Write(zipped.Bytes())
			return
		}
		rw.WriteHeader(http.StatusBadRequest)
		_, _ = rw.Write(plain)
	}))
	defer up.Close()
	e := newUpstreamEnv(t, up.URL)
	// The sender's own client, with no transparent compression either.
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	for _, acceptEncoding := range []string{"", "gzip"} {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/api/v1/push", bytes.NewReader(rw1Body(series(1, 1000, "__name__", "up"))))
		req.Header.Set("Content-Type", "application/x-protobuf")
		req.Header.Set("Content-Encoding", "snappy")
		if acceptEncoding != "" {
			req.Header.Set("Accept-Encoding", acceptEncoding)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want, wantCE := plain, ""
		if acceptEncoding != "" {
			want, wantCE = zipped.Bytes(), "gzip"
		}
		if resp.StatusCode != http.StatusBadRequest || !bytes.Equal(got, want) || resp.Header.Get("Content-Encoding") != wantCE {
			t.Errorf("Accept-Encoding %q: answer %d, Content-Encoding %q, body %q; want 400, %q, %q",
				acceptEncoding, resp.StatusCode, resp.Header.Get("Content-Encoding"), got, wantCE, want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 || seen[0] != "" || seen[1] != "gzip" {
		t.Errorf("Accept-Encoding the upstream saw: %q, want the senders' [\"\" \"gzip\"]", seen)
	}
}
