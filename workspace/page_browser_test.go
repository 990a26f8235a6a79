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

	"github.com/rwkit/rwkit/internal/cortextest"
	"github.com/rwkit/rwkit/workspace"
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
		// Without an upstream, no upstream section.
		if strings.Contains(dom, "Upstream refusals") || strings.Contains(dom, `<section aria-labelledby="upstream-h"`) {
			t.Error("/workspaces/shop/ has an upstream section without an upstream")
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

// TestPageUpstreamInBrowser: a workspace in pass-through mode in front
// of another one; two writers collide through it. A real headless
// Chromium shows the Upstream refusals section (upstreamPageShows); the
// filter narrows its table; a workspace the upstream never refused says
// so. The page's script records no error.
func TestPageUpstreamInBrowser(t *testing.T) {
	bin := chromium(t)
	front, _ := collideThroughUpstream(t)
	dir := artifacts(t)

	view := front.srv.URL + "/workspaces/shop/"
	dom := upstreamPageShows(t, bin, view)
	for _, want := range []string{"rwkit:xxxxx@", "accepting", "it stores none of their samples (no --upstream-store), so none is counted accepted."} {
		if !strings.Contains(dom, want) {
			t.Errorf("/workspaces/shop/ lacks %s", want)
		}
	}
	if strings.Contains(dom, "s3cret-in-url") {
		t.Error("the page shows the upstream's password")
	}
	browse(t, bin, view, filepath.Join(dir, "workspace-upstream.png"), 1280)
	browse(t, bin, view, filepath.Join(dir, "workspace-upstream-phone.png"), 390)

	for filter, shown := range map[string]bool{"orders-exporter": true, "mailer": false} {
		dom := browse(t, bin, view+"?"+url.Values{"upstream_filter": {filter}}.Encode(), "", 1280)
		noPageErrors(t, "/workspaces/shop/?upstream_filter="+filter, dom)
		if got := strings.Contains(dom, `<tr class="upstream-refusal new-value-for-timestamp">`); got != shown {
			t.Errorf("filter %q: refusal shown %v, want %v", filter, got, shown)
		}
		if !shown && !strings.Contains(dom, "No refusal matches the filter.") {
			t.Errorf("filter %q: no word that nothing matches", filter)
		}
	}

	dom = browse(t, bin, front.srv.URL+"/workspaces/clean/", "", 1280)
	noPageErrors(t, "/workspaces/clean/", dom)
	for _, want := range []string{`id="upstream"`, "No refusals: the upstream has accepted every write of this workspace.", "No write refused by the upstream."} {
		if !strings.Contains(dom, want) {
			t.Errorf("/workspaces/clean/ lacks %s:\n%s", want, dom)
		}
	}
}

// TestPageUpstreamCortexInBrowser: the same in front of a real Cortex
// (tenant shop by X-Scope-OrgID, passed through): the page shows Cortex's
// own 400 and its body, and both writers.
func TestPageUpstreamCortexInBrowser(t *testing.T) {
	bin := chromium(t)
	cx := cortextest.Start(t)
	front := newEnv(t, "amp", workspace.WithUpstream(workspace.Upstream{URL: cx.PushURL}))
	ts := nowMs() - 1000
	for _, w := range []struct {
		service, ua string
		value       float64
		status      int
	}{{"billing", "billing-exporter/1.0", 10, http.StatusOK}, {"orders", "orders-exporter/2.0", 20, http.StatusBadRequest}} {
		body := rw1Body(series(1, ts, "__name__", "up", "instance", w.service[:1]+"-1", "service", w.service), series(w.value, ts, "__name__", "jvm_threads"))
		if r := front.push(t, "/api/v1/push", body, "X-Scope-OrgID", "shop", "User-Agent", w.ua); r.status != w.status {
			t.Fatalf("%s through the workspace: %d %s, want Cortex's %d", w.service, r.status, r.body, w.status)
		}
	}
	view := front.srv.URL + "/workspaces/shop/"
	dom := upstreamPageShows(t, bin, view)
	if want := cx.PushURL; !strings.Contains(dom, want) {
		t.Errorf("/workspaces/shop/ does not name the upstream %s", want)
	}
	browse(t, bin, view, filepath.Join(artifacts(t), "workspace-upstream-cortex.png"), 1280)
}

// upstreamPageShows loads view, the page of a workspace whose upstream
// refused orders' jvm_threads 20 after billing's 10, and checks its
// Upstream refusals section: the refusal with its status 400, its reason
// new-value-for-timestamp linked to the hint and where the reason came
// from, the series, both values, the refused writer then the writer of
// the stored value, and the upstream's body; the section in the table of
// contents, its labelled filter, its captioned table in a focusable
// region; the refusal not repeated among the collisions. It returns the
// DOM.
func upstreamPageShows(t *testing.T, bin, view string) string {
	t.Helper()
	dom := browse(t, bin, view, "", 1280)
	noPageErrors(t, view, dom)
	// The refusal's row and the row of the upstream's answer under it.
	refusal := regexp.MustCompile(`(?s)<tr class="upstream-refusal new-value-for-timestamp">.*?</tr><tr class="upstream-answer">.*?</tr>`).FindString(dom)
	if refusal == "" {
		t.Fatalf("no new-value-for-timestamp row in the upstream refusals table:\n%s", dom)
	}
	for _, want := range []string{
		`<td class="num">400</td>`,
		`<a href="#hint-new-value-for-timestamp">new-value-for-timestamp</a>`,
		"the upstream answered 400 with a body; the reason is from the upstream's answer",
		`<td class="series">jvm_threads</td><td class="num">10</td><td class="num">20</td>`,
		`service="orders"`, "orders-exporter/2.0", `service="billing"`, "billing-exporter/1.0",
		`<td colspan="9" class="body"><span class="note">The upstream's answer, 400:</span><code>`,
		"duplicate sample for timestamp",
	} {
		if !strings.Contains(refusal, want) {
			t.Errorf("the refusal's row lacks %s:\n%s", want, refusal)
		}
	}
	if strings.Index(refusal, "orders-exporter/2.0") > strings.Index(refusal, "billing-exporter/1.0") {
		t.Errorf("the refused writer (orders) is not before the writer of the stored value (billing):\n%s", refusal)
	}
	for _, want := range []string{
		`<section aria-labelledby="upstream-h" id="upstream">`, `<a href="#upstream">Upstream refusals</a>`,
		`<tr class="upstream-reason new-value-for-timestamp">`,
		`<label for="upstream-filter">Filter upstream refusals</label>`, `<caption>Refusals: 1 of 1</caption>`,
		`role="region" aria-label="Refusals: 1 of 1" tabindex="0"`,
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("%s lacks %s", view, want)
		}
	}
	if strings.Contains(regexp.MustCompile(`(?s)<section aria-labelledby="collisions-h".*?</section>`).FindString(dom), "upstream-refused") {
		t.Error("the collisions table lists the upstream's refusal too")
	}
	if t.Failed() {
		t.Logf("DOM:\n%s", dom)
	}
	return dom
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
