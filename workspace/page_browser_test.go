package workspace_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// chromium finds a headless Chromium: RWKIT_CHROMIUM_BIN, else chromium
// on PATH (Debian's chromium package). Without one the test is skipped,
// unless RWKIT_REQUIRE_CHROMIUM=1 (scripts/test sets it, and so CI).
func chromium(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("RWKIT_CHROMIUM_BIN")
	if bin == "" {
		bin, _ = exec.LookPath("chromium")
	}
	if bin == "" {
		if os.Getenv("RWKIT_REQUIRE_CHROMIUM") == "1" {
			t.Fatal("RWKIT_REQUIRE_CHROMIUM=1 but no chromium on PATH and RWKIT_CHROMIUM_BIN is not set (Debian: apt-get install chromium)")
		}
		t.Skip("no chromium on PATH (Debian: apt-get install chromium; or set RWKIT_CHROMIUM_BIN)")
	}
	return bin
}

// artifacts is where the browser test writes its screenshots:
// RWKIT_ARTIFACTS (kept), else a directory under the test's temporary one.
func artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("RWKIT_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	dir = filepath.Join(dir, "page")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots of the page in %s", dir)
	return dir
}

// browse loads u in a headless Chromium after the page's scripts ran for
// a few seconds of virtual time, and returns the DOM; with shot set it
// also writes a screenshot of a window width wide. The browser's console
// is on its stderr: an uncaught error there fails the test.
func browse(t *testing.T, bin, u, shot string, width int) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := []string{"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0",
		"--virtual-time-budget=5000", "--window-size=" + strconv.Itoa(width) + ",1600"}
	if shot != "" {
		args = append(args, "--screenshot="+shot)
	} else {
		args = append(args, "--dump-dom")
	}
	cmd := exec.CommandContext(ctx, bin, append(args, u)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", u, err, tail(stderr.String(), 40))
	}
	if strings.Contains(stderr.String(), "Uncaught") {
		t.Errorf("the browser's console has an uncaught error on %s:\n%s", u, tail(stderr.String(), 40))
	}
	if shot != "" {
		if fi, err := os.Stat(shot); err != nil || fi.Size() == 0 {
			t.Fatalf("no screenshot of %s at %s (%v)\n%s", u, shot, err, tail(stderr.String(), 40))
		}
	}
	return stdout.String()
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

var pageErrors = regexp.MustCompile(`(?s)<pre id="page-errors"[^>]*>(.*?)</pre>`)

// noPageErrors fails when the page's script recorded an error.
func noPageErrors(t *testing.T, view, dom string) {
	t.Helper()
	m := pageErrors.FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("%s: no page-errors element in the DOM:\n%s", view, dom)
	}
	if strings.TrimSpace(m[1]) != "" {
		t.Errorf("%s: the page recorded errors:\n%s", view, m[1])
	}
}

// TestPageInBrowser: after two writers collide and a third writes
// cleanly, a real headless Chromium shows the workspace, the collision
// naming both writers, the new-value-for-timestamp discards and the clean
// writer, and the PromQL box's result; the page's script records no error.
func TestPageInBrowser(t *testing.T) {
	bin := chromium(t)
	e := newEnv(t, "amp")
	twoWritersCollide(t, e)
	dir := artifacts(t)

	t.Run("workspaces", func(t *testing.T) {
		dom := browse(t, bin, e.srv.URL+"/", "", 1280)
		noPageErrors(t, "/", dom)
		for _, want := range []string{`<a href="/workspaces/shop/">shop</a>`, "Workspaces"} {
			if !strings.Contains(dom, want) {
				t.Errorf("/ lacks %q:\n%s", want, dom)
			}
		}
		browse(t, bin, e.srv.URL+"/", filepath.Join(dir, "workspaces.png"), 1280)
	})

	const query = "checkout_requests_total"
	view := e.srv.URL + "/workspaces/shop/?" + url.Values{"query": {query}}.Encode()
	t.Run("workspace", func(t *testing.T) {
		dom := browse(t, bin, view, "", 1280)
		noPageErrors(t, "/workspaces/shop/", dom)
		for _, want := range []string{
			// The collision, naming both writers.
			`<tr class="collision new-value-for-timestamp">`,
			`service="billing"`, "billing-exporter/1.0",
			`service="orders"`, "orders-exporter/2.0",
			// The discards by reason, linked to the reason's hint.
			`<tr class="reason new-value-for-timestamp"><td><a href="#hint-new-value-for-timestamp">new-value-for-timestamp</a></td><td class="num">1</td></tr>`,
			`<dt id="hint-new-value-for-timestamp">new-value-for-timestamp</dt>`,
			// The clean writer among the writers.
			`<th scope="row">instance="c-1", service="checkout"</th><td>checkout/3.1</td>`,
			// The PromQL box's result, from ?query=.
			`<td class="series">checkout_requests_total{instance="c-1", service="checkout"}</td><td class="num">5</td>`,
			// The top metric names.
			`<td class="series">jvm_threads</td>`,
			// Fields with labels, a real button.
			`<label for="query-input">PromQL query</label>`, `<label for="collision-filter">Filter collisions</label>`,
			`<button type="submit">Run query</button>`,
		} {
			if !strings.Contains(dom, want) {
				t.Errorf("/workspaces/shop/ lacks %s", want)
			}
		}
		if t.Failed() {
			t.Logf("DOM:\n%s", dom)
		}
		browse(t, bin, view, filepath.Join(dir, "workspace.png"), 1280)
		browse(t, bin, view, filepath.Join(dir, "workspace-phone.png"), 390)
	})

	t.Run("collision filter", func(t *testing.T) {
		for filter, shown := range map[string]bool{"orders-exporter": true, "checkout": false} {
			dom := browse(t, bin, e.srv.URL+"/workspaces/shop/?"+url.Values{"filter": {filter}}.Encode(), "", 1280)
			noPageErrors(t, "/workspaces/shop/?filter="+filter, dom)
			if got := strings.Contains(dom, `<tr class="collision new-value-for-timestamp">`); got != shown {
				t.Errorf("filter %q: collision shown %v, want %v", filter, got, shown)
			}
			if !shown && !strings.Contains(dom, "No collision matches the filter.") {
				t.Errorf("filter %q: no word that nothing matches", filter)
			}
		}
	})
}

// twoWritersCollide pushes to workspace shop what the page tests look at:
// two writers (billing and orders) without a per-writer label on
// jvm_threads, so the second is refused with new-value-for-timestamp, and
// a third (checkout) that writes cleanly.
func twoWritersCollide(t *testing.T, e *env) {
	t.Helper()
	ts := nowMs() - 1000
	const path = "/workspaces/shop/api/v1/remote_write"
	if r := e.push(t, path, rw1Body(series(1, ts, "__name__", "up", "instance", "b-1", "service", "billing"),
		series(10, ts, "__name__", "jvm_threads")), "User-Agent", "billing-exporter/1.0"); r.status != http.StatusOK {
		t.Fatalf("first writer: %d %s", r.status, r.body)
	}
	if r := e.push(t, path, rw1Body(series(1, ts, "__name__", "up", "instance", "o-1", "service", "orders"),
		series(20, ts, "__name__", "jvm_threads")), "User-Agent", "orders-exporter/2.0"); r.status != http.StatusBadRequest {
		t.Fatalf("second writer: %d %s, want 400 new-value-for-timestamp", r.status, r.body)
	}
	if r := e.push(t, path, rw1Body(series(5, ts, "__name__", "checkout_requests_total", "instance", "c-1", "service", "checkout")),
		"User-Agent", "checkout/3.1"); r.status != http.StatusOK {
		t.Fatalf("clean writer: %d %s", r.status, r.body)
	}
}
