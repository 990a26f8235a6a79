package workspace_test

import (
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rwkit/rwkit/workspace"
)

// explainedEnv is a pass-through workspace with Upstream.ExplainHeader
// set as explain.
func explainedEnv(t *testing.T, upstreamURL string, explain bool) *env {
	t.Helper()
	return newEnv(t, "amp", workspace.WithUpstream(workspace.Upstream{URL: upstreamURL + "/api/v1/push", ExplainHeader: explain}))
}

// The incident through an explaining pass-through: AMP's empty 400 reaches
// the second writer with one header naming the reason, the series, both
// values and the first writer; the body stays the upstream's.
func TestUpstreamExplainHeader(t *testing.T) {
	var n atomic.Int32
	up := newFakeUpstream(t, func(rw http.ResponseWriter) {
		if n.Add(1) == 1 {
			rw.WriteHeader(http.StatusOK)
			return
		}
		rw.WriteHeader(http.StatusBadRequest) // AMP: no body
	})
	e := explainedEnv(t, up.srv.URL, true)
	ts := nowMs()
	path := "/workspaces/ws-1/api/v1/remote_write"
	first := e.push(t, path, rw1Body(series(1, ts, "__name__", "jvm_threads", "job", "app"), series(1, ts, "__name__", "process_up", "instance", "1", "service", "a")), "User-Agent", "writer-a")
	if first.status != http.StatusOK || first.header.Get(workspace.ExplanationHeader) != "" {
		t.Fatalf("first write: %d %q, explanation %q; want the upstream's 200 and no explanation", first.status, first.body, first.header.Get(workspace.ExplanationHeader))
	}
	got := e.push(t, path, rw1Body(series(2, ts, "__name__", "jvm_threads", "job", "app")), "User-Agent", "writer-b")
	if got.status != http.StatusBadRequest || got.body != "" {
		t.Fatalf("second writer: %d %q, want the upstream's 400 with its empty body", got.status, got.body)
	}
	wantPrefix := `new-value-for-timestamp: jvm_threads{job="app"} at ` + strconv.FormatInt(ts, 10) +
		`: value 2 differs from 1 written by (instance="1", service="a", User-Agent writer-a, 127.0.0.1:`
	if h := got.header.Get(workspace.ExplanationHeader); !strings.HasPrefix(h, wantPrefix) || !strings.HasSuffix(h, ")") {
		t.Errorf("%s:\n %q\nwant\n %q...)", workspace.ExplanationHeader, h, wantPrefix)
	}
	var refused int64
	for _, c := range e.collisions(t, "ws-1") {
		if c.Kind == workspace.KindUpstreamRefused {
			refused += c.Count
		}
	}
	if refused != 1 {
		t.Errorf("%d upstream refusals recorded, want the one (analysed once)", refused)
	}
}

// A reason from the upstream's body, no collision: the header says where
// the reason comes from; the body is relayed whole, past what is kept.
func TestUpstreamExplainHeaderFromBody(t *testing.T) {
	long := "series has too many labels (actual: 40, limit: 30) series: 'up{...}'\n" + strings.Repeat("x", 100<<10)
	up := newFakeUpstream(t, func(rw http.ResponseWriter) { http.Error(rw, long, http.StatusBadRequest) })
	e := explainedEnv(t, up.srv.URL, true)
	got := e.push(t, "/api/v1/push", rw1Body(series(1, nowMs(), "__name__", "up")))
	if got.status != http.StatusBadRequest || got.body != long+"\n" {
		t.Errorf("answer %d with %d bytes, want the upstream's 400 with its %d bytes", got.status, len(got.body), len(long)+1)
	}
	want := "max_label_names_per_series: the reason is from the upstream's answer"
	if h := got.header.Get(workspace.ExplanationHeader); h != want {
		t.Errorf("%s: %q, want %q", workspace.ExplanationHeader, h, want)
	}
}

// The header is one line of printable ASCII, at most 1 KiB, whatever the
// series' labels hold.
func TestUpstreamExplainHeaderBounded(t *testing.T) {
	var n atomic.Int32
	up := newFakeUpstream(t, func(rw http.ResponseWriter) {
		if n.Add(1) == 1 {
			rw.WriteHeader(http.StatusOK)
			return
		}
		rw.WriteHeader(http.StatusBadRequest)
	})
	e := explainedEnv(t, up.srv.URL, true)
	ts := nowMs()
	value := "é\r\nX-Injected: yes " + strings.Repeat("v", 2000)
	e.push(t, "/api/v1/push", rw1Body(series(1, ts, "__name__", "odd", "note", value)), "User-Agent", "writer-a")
	got := e.push(t, "/api/v1/push", rw1Body(series(2, ts, "__name__", "odd", "note", value)), "User-Agent", "writer-b")
	h := got.header.Get(workspace.ExplanationHeader)
	if got.status != http.StatusBadRequest || !strings.HasPrefix(h, `new-value-for-timestamp: odd{note="\u00e9\r\nX-Injected: yes vvv`) {
		t.Fatalf("answer %d, %s %q, want the upstream's 400 explained", got.status, workspace.ExplanationHeader, h)
	}
	if len(h) > 1024 || !strings.HasSuffix(h, "...") || got.header.Get("X-Injected") != "" {
		t.Errorf("%s is %d bytes (want at most 1024, cut with ...), X-Injected %q", workspace.ExplanationHeader, len(h), got.header.Get("X-Injected"))
	}
	for _, c := range []byte(h) {
		if c < 0x20 || c > 0x7e {
			t.Fatalf("%s holds byte %#x: %q", workspace.ExplanationHeader, c, h)
		}
	}
}

// Off (the default), the answer to a refused write is the upstream's:
// the same status, headers and body as the upstream gives a direct write.
// On, it differs by the one header.
func TestUpstreamExplainHeaderOffIsTransparent(t *testing.T) {
	up := newFakeUpstream(t, func(rw http.ResponseWriter) {
		rw.Header().Set("X-Upstream", "yes")
		rw.Header().Set("Retry-After", "3")
		http.Error(rw, "sample too old", http.StatusBadRequest)
	})
	body := rw1Body(series(1, 1000, "__name__", "up"))
	direct := (&env{srv: up.srv}).push(t, "/api/v1/push", body)
	for _, explain := range []bool{false, true} {
		got := explainedEnv(t, up.srv.URL, explain).push(t, "/api/v1/push", body)
		if got.status != direct.status || got.body != direct.body {
			t.Errorf("explain %v: answer %d %q, want the upstream's %d %q", explain, got.status, got.body, direct.status, direct.body)
		}
		want, have := direct.header.Clone(), got.header.Clone()
		want.Del("Date")
		have.Del("Date")
		if explain {
			if have.Get(workspace.ExplanationHeader) == "" {
				t.Errorf("explain on: no %s", workspace.ExplanationHeader)
			}
			have.Del(workspace.ExplanationHeader)
		}
		if d := cmp.Diff(want, have); d != "" {
			t.Errorf("explain %v: headers differ from the upstream's (-want +got):\n%s", explain, d)
		}
	}
}
