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
