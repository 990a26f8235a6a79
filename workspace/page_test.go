package workspace_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/workspace"
)

// get fetches path and decodes its JSON into out (nil: not decoded).
func (e *env) get(t *testing.T, path string, out any) *http.Response {
	t.Helper()
	workspace.WaitAnalyses(e.ws) // pass-through mode analyses off the request path
	c := *e.srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(e.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	return resp
}

// TestPageRoutes: the page is served at / and /workspaces/{id}/ with its
// script and style from the binary, and a bad workspace id is refused.
func TestPageRoutes(t *testing.T) {
	e := newEnv(t, "amp")
	for _, tc := range []struct {
		path, ctype string
		status      int
	}{
		{"/", "text/html", http.StatusOK},
		{"/workspaces/shop/", "text/html", http.StatusOK},
		{"/ui/app.js", "text/javascript", http.StatusOK},
		{"/ui/style.css", "text/css", http.StatusOK},
		{"/workspaces/shop", "", http.StatusMovedPermanently},
		{"/workspaces/" + strings.Repeat("x", 2000) + "/", "text/plain", http.StatusBadRequest},
		{"/ui/missing.js", "text/plain", http.StatusNotFound},
	} {
		resp := e.get(t, tc.path, nil)
		if resp.StatusCode != tc.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), tc.ctype) {
			t.Errorf("GET %.40s: %d %s, want %d %s", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), tc.status, tc.ctype)
		}
	}
	if loc := e.get(t, "/workspaces/shop", nil).Header.Get("Location"); loc != "/workspaces/shop/" {
		t.Errorf("/workspaces/shop redirects to %q, want /workspaces/shop/", loc)
	}
}

// TestPageData: what the page reads after two writers collide and a third
// writes cleanly: the counts, the discards by reason with their hint, the
// history, and the writers with the series they wrote.
func TestPageData(t *testing.T) {
	e := newEnv(t, "amp")
	twoWritersCollide(t, e)

	var list []map[string]any
	e.get(t, "/ui/api/workspaces", &list)
	want := []map[string]any{{"id": "shop", "received": 5.0, "accepted": 4.0, "discarded": 1.0, "dropped": 0.0}}
	if d := cmp.Diff(want, list); d != "" {
		t.Errorf("/ui/api/workspaces (-want +got):\n%s", d)
	}

	var ws struct {
		Received, Accepted, Discarded float64
		Discards                      []struct {
			Reason, Hint string
			Count        float64
		}
		History    []struct{ Counts map[string]float64 }
		Writers    []workspace.WriterStats
		Collisions int
	}
	e.get(t, "/ui/api/workspaces/shop", &ws)
	if len(ws.Discards) != 1 || ws.Discards[0].Reason != "new-value-for-timestamp" || ws.Discards[0].Count != 1 ||
		ws.Discards[0].Hint != validate.NewValueForTimestamp.Hint() {
		t.Errorf("discards %+v, want one new-value-for-timestamp with its hint", ws.Discards)
	}
	var inHistory float64
	for _, h := range ws.History {
		inHistory += h.Counts["new-value-for-timestamp"]
	}
	if inHistory != 1 || ws.Collisions != 1 {
		t.Errorf("history holds %v new-value-for-timestamp discards, collisions %d; want 1 and 1", inHistory, ws.Collisions)
	}

	var writers []workspace.WriterStats
	e.get(t, "/workspaces/shop/api/v1/writers", &writers)
	got := map[string]int{}
	for _, w := range writers {
		if w.LastSeen.IsZero() {
			t.Errorf("writer %s: no last seen", w.Writer)
		}
		got[w.Labels["service"]+" "+w.UserAgent] = w.Series
	}
	// billing wrote up and jvm_threads; orders only up (its jvm_threads
	// was refused).
	if d := cmp.Diff(map[string]int{"billing billing-exporter/1.0": 2, "orders orders-exporter/2.0": 1, "checkout checkout/3.1": 1}, got); d != "" {
		t.Errorf("writers and their series (-want +got):\n%s", d)
	}
	if d := cmp.Diff(writers, ws.Writers); d != "" {
		t.Errorf("the page's writers differ from the writers endpoint (-endpoint +page):\n%s", d)
	}

	var none []workspace.WriterStats
	if e.get(t, "/workspaces/nobody/api/v1/writers", &none); none == nil || len(none) != 0 {
		t.Errorf("an unknown workspace's writers: %v, want []", none)
	}
}

// FuzzPageData: no workspace id makes the page or its data answer 5xx,
// and what is answered 200 is JSON (or the page).
func FuzzPageData(f *testing.F) {
	for _, id := range []string{"shop", "", "a/b", "..", "%zz", "ws 1", strings.Repeat("x", 300), "\x00"} {
		f.Add(id)
	}
	e := newEnv(f, "amp")
	ts := nowMs()
	e.push(f, "/workspaces/shop/api/v1/remote_write", rw1Body(series(1, ts, "__name__", "up", "service", "a")))
	h := e.ws.Handler()
	f.Fuzz(func(t *testing.T, id string) {
		esc := url.PathEscape(id)
		for _, p := range []string{"/ui/api/workspaces/" + esc, "/workspaces/" + esc + "/api/v1/writers", "/workspaces/" + esc + "/", "/workspaces/" + esc} {
			req, err := http.NewRequest(http.MethodGet, "http://x"+p, nil)
			if err != nil {
				continue
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("GET %q: %d %s", p, rec.Code, rec.Body)
			}
			if rec.Code == http.StatusOK && strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") && !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("GET %q: 200 with invalid JSON %q", p, rec.Body)
			}
		}
	})
}

// collideThroughUpstream is the page tests' pass-through: a workspace
// (AMP's limits) in front of another one as its upstream, given with a
// password in its URL, and the page tests' writers colliding through it
// on workspace shop; workspace clean only ever writes cleanly.
func collideThroughUpstream(t *testing.T) (front, backend *env) {
	t.Helper()
	backend = newEnv(t, "amp")
	u, err := url.Parse(backend.srv.URL + "/workspaces/shop/api/v1/remote_write")
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("rwkit", "s3cret-in-url")
	front = newEnv(t, "amp", workspace.WithUpstream(workspace.Upstream{URL: u.String()}))
	twoWritersCollide(t, front)
	if r := front.push(t, "/workspaces/clean/api/v1/remote_write", rw1Body(series(1, nowMs()-1000, "__name__", "queue_depth", "service", "mailer")),
		"User-Agent", "mailer/1.2"); r.status != http.StatusOK {
		t.Fatalf("clean workspace: %d %s", r.status, r.body)
	}
	return front, backend
}

// pageUpstream is the page data's upstream part.
type pageUpstream struct {
	URL        string
	Stored     bool
	State      string
	LastStatus int    `json:"last_status"`
	LastError  string `json:"last_error"`
	Reachable  bool
	Writes     int `json:"writes_in_state"`
	Refusals   []struct {
		Reason, Hint string
		Count        float64
	}
	Refused float64
	Groups  int
}

// TestPageDataUpstream: in pass-through mode the page's data holds the
// upstream (its URL without the password), its state and last answer,
// and its refusals by reason and in the history; the collision count
// leaves the upstream's refusals to it. Without an upstream there is no
// upstream part.
func TestPageDataUpstream(t *testing.T) {
	front, backend := collideThroughUpstream(t)
	var ws struct {
		Collisions int
		History    []struct{ Counts map[string]float64 }
		Upstream   *pageUpstream
	}
	front.get(t, "/ui/api/workspaces/shop", &ws)
	if ws.Upstream == nil {
		t.Fatal("no upstream in the page's data")
	}
	u := ws.Upstream
	wantURL := "http://rwkit:xxxxx@" + strings.TrimPrefix(backend.srv.URL, "http://") + "/workspaces/shop/api/v1/remote_write"
	if u.URL != wantURL {
		t.Errorf("upstream URL %q, want %q", u.URL, wantURL)
	}
	// The clean writer came last: accepted.
	if u.State != "accepting" || u.LastStatus != http.StatusOK || !u.Reachable || u.Writes != 1 || u.LastError != "" || u.Stored {
		t.Errorf("upstream state %+v, want accepting, last status 200, reachable, 1 write in the state, not stored", u)
	}
	if len(u.Refusals) != 1 || u.Refusals[0].Reason != "new-value-for-timestamp" || u.Refusals[0].Count != 1 ||
		u.Refusals[0].Hint != validate.NewValueForTimestamp.Hint() || u.Refused != 1 || u.Groups != 1 {
		t.Errorf("upstream refusals %+v (%v in all, %d groups), want one new-value-for-timestamp with its hint, 1 group", u.Refusals, u.Refused, u.Groups)
	}
	var inHistory float64
	for _, h := range ws.History {
		inHistory += h.Counts["upstream:new-value-for-timestamp"]
	}
	// The workspace's own validation saw the collision too: one group
	// of its own beside the upstream's.
	if inHistory != 1 || ws.Collisions != 1 {
		t.Errorf("history holds %v upstream refusals, %d collision groups; want 1 and 1", inHistory, ws.Collisions)
	}

	backend.srv.Close()
	if r := front.push(t, "/workspaces/shop/api/v1/remote_write", rw1Body(series(1, nowMs(), "__name__", "up"))); r.status != http.StatusBadGateway {
		t.Fatalf("upstream down: %d %s, want 502", r.status, r.body)
	}
	ws.Upstream = nil
	front.get(t, "/ui/api/workspaces/shop", &ws)
	if u := ws.Upstream; u == nil || u.State != "unreachable" || u.Reachable || u.LastStatus != 0 || u.LastError == "" || strings.Contains(u.LastError, "s3cret") {
		t.Errorf("upstream down: state %+v, want unreachable with the error, no status, no password", u)
	}

	plain := newEnv(t, "amp")
	twoWritersCollide(t, plain)
	var raw map[string]any
	plain.get(t, "/ui/api/workspaces/shop", &raw)
	if _, ok := raw["upstream"]; ok {
		t.Errorf("a workspace without an upstream has an upstream part: %v", raw["upstream"])
	}
}
