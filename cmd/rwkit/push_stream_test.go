package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// streamBody is a text exposition of n series over several families, a
// histogram among them, families sorted by name as client_golang writes
// them.
func streamBody(n int) string {
	var b strings.Builder
	b.WriteString("# HELP a_seconds A histogram.\n# TYPE a_seconds histogram\n")
	for i := range 50 {
		fmt.Fprintf(&b, "a_seconds_bucket{path=\"/p%d\",le=\"0.5\"} %d\na_seconds_bucket{path=\"/p%d\",le=\"+Inf\"} %d\n", i, i, i, 2*i)
		fmt.Fprintf(&b, "a_seconds_sum{path=\"/p%d\"} %d.5\na_seconds_count{path=\"/p%d\"} %d\n", i, i, i, 2*i)
	}
	b.WriteString("# TYPE b_total counter\n")
	for i := range n {
		fmt.Fprintf(&b, "b_total{host=\"host-%05d:9100\",job=\"stream\"} %d\n", i, i*31)
	}
	return b.String()
}

// countingReceiver answers 204 to every write and counts requests and
// bytes.
type countingReceiver struct {
	mu              sync.Mutex
	requests, bytes int
}

func (c *countingReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	c.requests++
	c.bytes += len(body)
	c.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (c *countingReceiver) take() (int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, b := c.requests, c.bytes
	c.requests, c.bytes = 0, 0
	return r, b
}

// The three ways push reads a text exposition (a file, stdin, a scrape)
// stream it alike: the same report and the same requests.
func TestPushStreamsFileStdinAndScrapeAlike(t *testing.T) {
	body := streamBody(30_000)
	file := filepath.Join(t.TempDir(), "m.txt")
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	rc := &countingReceiver{}
	url := serveHTTP(t, rc) + "/api/v1/write"
	scrapeURL := serveHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		io.WriteString(w, body)
	})) + "/metrics"
	type outcome struct {
		Report             map[string]any
		Requests, Received int
	}
	var first *outcome
	for _, tc := range []struct {
		name  string
		args  []string
		stdin string
	}{
		{"file", []string{"--file", file}, ""},
		{"stdin", []string{"--file", "-"}, body},
		{"scrape", []string{"--scrape", scrapeURL}, ""},
	} {
		out, stderr, code := runCLI(t, nil, strings.NewReader(tc.stdin), append([]string{"push", "--url", url, "--output", "json",
			"--timestamp", "1700000000000", "--label", "service=s", "--label", "instance=i"}, tc.args...)...)
		if code != exitOK {
			t.Fatalf("%s: exit %d\n%s%s", tc.name, code, out, stderr)
		}
		var rep map[string]any
		if err := unmarshalResult([]byte(out), &rep); err != nil {
			t.Fatalf("%s: %v\n%s", tc.name, err, out)
		}
		delete(rep, "source")
		delete(rep, "duration_seconds")
		got := &outcome{Report: rep}
		got.Requests, got.Received = rc.take()
		if rep["series"] != float64(30_000+50*4) || rep["requests"].(float64) < 10 || float64(got.Requests) != rep["requests"] {
			t.Fatalf("%s: %v series in %v requests, the receiver saw %d", tc.name, rep["series"], rep["requests"], got.Requests)
		}
		if first == nil {
			first = got
			continue
		}
		if diff := cmp.Diff(first, got); diff != "" {
			t.Errorf("%s differs from the file (-file +%s):\n%s", tc.name, tc.name, diff)
		}
	}
}

// A text exposition that breaks in its last line sends nothing: the
// whole body is checked before the first request.
func TestPushStreamBrokenAtTheEndSendsNothing(t *testing.T) {
	file := filepath.Join(t.TempDir(), "m.txt")
	if err := os.WriteFile(file, []byte(streamBody(20_000)+"broken{ 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rc := &countingReceiver{}
	url := serveHTTP(t, rc) + "/api/v1/write"
	out, stderr, code := runCLI(t, nil, nil, "push", "--url", url, "--file", file, "--label", "service=s", "--label", "instance=i")
	if code == exitOK || !strings.Contains(stderr, file+": parse exposition") || !strings.Contains(stderr, "line 20204") {
		t.Errorf("exit %d; stderr (want the file and the line):\n%s%s", code, stderr, out)
	}
	if n, _ := rc.take(); n != 0 {
		t.Errorf("%d requests sent before the parse error", n)
	}
}
