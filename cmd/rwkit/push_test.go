package main

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rwkit/rwkit/internal/promtest"
	"github.com/rwkit/rwkit/scrape"
)

// TestPushToPrometheus is the seed incident against a real Prometheus: one
// writer's exposition is stored whole; a second writer sending the same
// series (no label to tell them apart) with other values at the same
// timestamp is refused, and the report says exactly why.
func TestPushToPrometheus(t *testing.T) {
	prom := promtest.Start(t)
	ts := time.Now().Add(-time.Minute).Truncate(time.Second)
	tsArg := fmt.Sprint(ts.UnixMilli())

	out, stderr, code := runCLI(t, nil, nil, "push", "--url", prom.WriteURL,
		"--file", "testdata/auth-service.txt", "--label", "env=test", "--timestamp", tsArg)
	if code != 0 {
		t.Fatalf("first push: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	for _, want := range []string{"rwkit push: delivered", "5 families, 13 series, 13 samples", "1 of 1 requests"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}

	// Every series is stored, with its labels, at the batch timestamp.
	got, err := prom.Query(context.Background(), `{env="test"}`, ts)
	if err != nil {
		t.Fatal(err)
	}
	var series []string
	for _, r := range got {
		if !r.Timestamp.Equal(ts) {
			t.Errorf("%v at %v, want %v", r.Metric, r.Timestamp, ts)
		}
		series = append(series, fmt.Sprintf("%s %g", promString(r.Metric), r.Value))
	}
	sort.Strings(series)
	want := []string{
		`app_info{env="test",path="C:\\tmp",quote="a \"quoted\" value",version="1.2.3"} 1`,
		`forge_observability_amp_push_total{env="test",result="failure"} 3`,
		`forge_observability_amp_push_total{env="test",result="success"} 57`,
		`http_server_requests_seconds_bucket{env="test",le="+Inf",method="GET",status="200",uri="/q/health"} 10`,
		`http_server_requests_seconds_bucket{env="test",le="0.005",method="GET",status="200",uri="/q/health"} 3`,
		`http_server_requests_seconds_bucket{env="test",le="0.05",method="GET",status="200",uri="/q/health"} 9`,
		`http_server_requests_seconds_count{env="test",method="GET",status="200",uri="/q/health"} 10`,
		`http_server_requests_seconds_sum{env="test",method="GET",status="200",uri="/q/health"} 0.123`,
		`jvm_gc_pause_seconds_count{action="end of minor GC",env="test"} 120`,
		`jvm_gc_pause_seconds_sum{action="end of minor GC",env="test"} 0.4`,
		`jvm_gc_pause_seconds{action="end of minor GC",env="test",quantile="0.5"} 0.002`,
		`jvm_gc_pause_seconds{action="end of minor GC",env="test",quantile="0.99"} 0.011`,
		`jvm_threads_live_threads{env="test"} 21`,
	}
	sort.Strings(want)
	if diff := cmp.Diff(want, series); diff != "" {
		t.Errorf("stored series (-want +got):\n%s", diff)
	}

	// A second writer, same series, other values, same millisecond.
	out, _, code = runCLI(t, nil, nil, "push", "--url", prom.WriteURL,
		"--file", "testdata/actor-service.txt", "--label", "env=test", "--timestamp", tsArg)
	if code != exitFailed {
		t.Fatalf("second push: exit %d, want %d\n%s", code, exitFailed, out)
	}
	for _, want := range []string{
		"rwkit push: refused",
		"400 Bad Request",
		"reason     new-value-for-timestamp",
		"another writer sends the same series at the same timestamp",
		"duplicate sample for timestamp", // Prometheus's body, verbatim
		"1 of 1: 3 series, 3 samples",
		"B snappy (",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("refusal report lacks %q:\n%s", want, out)
		}
	}

	// The same refusal as JSON, for scripts.
	out, _, code = runCLI(t, nil, nil, "push", "--url", prom.WriteURL, "--output", "json",
		"--file", "testdata/actor-service.txt", "--label", "env=test", "--timestamp", tsArg)
	if code != exitFailed {
		t.Fatalf("json push: exit %d\n%s", code, out)
	}
	var rep struct {
		Result   string `json:"result"`
		Refusals []struct {
			Status            int    `json:"status"`
			Reason            string `json:"reason"`
			Series            int    `json:"series"`
			Samples           int    `json:"samples"`
			BytesCompressed   int    `json:"bytes_compressed"`
			BytesUncompressed int    `json:"bytes_uncompressed"`
			Body              string `json:"body"`
			Hint              string `json:"hint"`
			Attempts          int    `json:"attempts"`
		} `json:"refusals"`
	}
	if err := unmarshalResult([]byte(out), &rep); err != nil {
		t.Fatalf("decode JSON report: %v\n%s", err, out)
	}
	f := &rep.Refusals
	if len(*f) != 1 {
		t.Fatalf("JSON refusals: %s", out)
	}
	if f := (*f)[0]; rep.Result != "refused" || f.Status != 400 || f.Reason != "new-value-for-timestamp" ||
		f.Series != 3 || f.Samples != 3 || f.BytesCompressed == 0 || f.BytesUncompressed <= f.BytesCompressed-16 ||
		!strings.Contains(f.Body, "duplicate sample for timestamp") || f.Hint == "" || f.Attempts != 1 {
		t.Errorf("JSON refusal = %+v (result %q)", f, rep.Result)
	}

	// The stored values are the first writer's: the refused ones are not there.
	got, err = prom.Query(context.Background(), `jvm_threads_live_threads{env="test"}`, ts)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Value != 21 {
		t.Errorf("jvm_threads_live_threads = %+v, want the first writer's 21", got)
	}
}

// TestPushDistinctWritersDoNotCollide is the fix: the same two expositions
// with a per-writer label are two sets of series, both stored.
func TestPushDistinctWritersDoNotCollide(t *testing.T) {
	prom := promtest.Start(t)
	ts := fmt.Sprint(time.Now().Add(-time.Minute).UnixMilli())
	for _, w := range []struct{ service, file string }{{"auth", "testdata/auth-service.txt"}, {"actor", "testdata/actor-service.txt"}} {
		out, _, code := runCLI(t, nil, nil, "push", "--url", prom.WriteURL, "--file", w.file,
			"--label", "service="+w.service, "--timestamp", ts)
		if code != 0 {
			t.Fatalf("push %s: exit %d\n%s", w.service, code, out)
		}
	}
	got, err := prom.Query(context.Background(), `count by (service) (jvm_threads_live_threads)`, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("count by (service) = %+v, want two services", got)
	}
}

func promString(m map[string]string) string {
	name := m["__name__"]
	var keys []string
	for k := range m {
		if k != "__name__" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, m[k])
	}
	return name + "{" + strings.Join(parts, ",") + "}"
}

func TestPushWithIdentity(t *testing.T) {
	prom := promtest.Start(t)
	ts := fmt.Sprint(time.Now().Add(-time.Minute).UnixMilli())
	env := map[string]string{"RWKIT_INSTANCE": "task-7"}
	out, stderr, code := runCLI(t, env, nil, "push", "--url", prom.WriteURL, "--file", "testdata/actor-service.txt",
		"--service", "actor", "--timestamp", ts)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	if !strings.Contains(out, `identity   service="actor" (option), instance="task-7" (env RWKIT_INSTANCE)`) {
		t.Errorf("report does not say where the identity came from:\n%s", out)
	}
	if strings.Contains(out, "will collide") {
		t.Errorf("no collision note expected with an identity:\n%s", out)
	}
	got, err := prom.Query(context.Background(), `jvm_threads_live_threads{service="actor",instance="task-7"}`, time.Time{})
	if err != nil || len(got) != 1 {
		t.Fatalf("stored: %v, %v", got, err)
	}

	// Without identity, the report warns.
	out, _, _ = runCLI(t, nil, nil, "push", "--url", prom.WriteURL, "--file", "testdata/actor-service.txt", "--timestamp", ts)
	if !strings.Contains(out, "no service or instance label: several writers pushing these series will collide") {
		t.Errorf("no warning without identity:\n%s", out)
	}
	// With a service label only, the note names the one missing.
	out, _, _ = runCLI(t, nil, nil, "push", "--url", prom.WriteURL, "--file", "testdata/actor-service.txt", "--timestamp", ts, "--label", "service=actor")
	if !strings.Contains(out, "no instance label: several writers") {
		t.Errorf("the note does not name the missing instance label:\n%s", out)
	}
}

// An exposition without a sample is "nothing to push", exit 1, nothing
// sent, whatever its source; --allow-empty sends the empty write.
func TestPushNothingToPush(t *testing.T) {
	ws := startWorkspace(t)
	write := ws.URL + "/workspaces/ws-1/api/v1/remote_write"
	blankURL := serveHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for _, tc := range []struct {
		name   string
		args   []string
		stdin  string
		stderr string
	}{
		{"comments only", []string{"--file", "testdata/comments-only.txt"}, "",
			"rwkit: push: nothing to push: testdata/comments-only.txt has no samples (it is empty, or only comments, HELP and TYPE); nothing was sent (--allow-empty sends an empty write)"},
		{"empty stdin", []string{"--file", "-"}, "", "rwkit: push: nothing to push: stdin has no samples"},
		{"blank lines on stdin", []string{"--file", "-"}, "\n\n", "nothing to push: stdin has no samples"},
		{"empty scrape", []string{"--scrape", blankURL + "/metrics"}, "", "nothing to push: " + blankURL + "/metrics has no samples"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"push", "--url", write, "--label", "service=auth"}, tc.args...)
			out, stderr, code := runCLI(t, nil, strings.NewReader(tc.stdin), args...)
			if code != exitFailed || out != "" || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("exit %d (want 1)\nstdout (want none):\n%s\nstderr (want %q):\n%s", code, out, tc.stderr, stderr)
			}
		})
	}
	if got := workspaceRequests(t, ws.URL); got != "" {
		t.Fatalf("nothing to push sent requests: %s", got)
	}

	// JSON: the report is printed all the same, result "empty".
	out, stderr, code := runCLI(t, nil, nil, "push", "--url", write, "--file", "testdata/comments-only.txt", "--output", "json")
	if code != exitFailed || !strings.Contains(stderr, "nothing to push") {
		t.Fatalf("json: exit %d (want 1)\n%s", code, stderr)
	}
	var rep map[string]any
	if err := unmarshalResult([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if rep["result"] != "empty" || rep["source"] != "testdata/comments-only.txt" || rep["series"] != 0.0 ||
		rep["requests"] != 0.0 || !strings.Contains(fmt.Sprint(rep["error"]), "nothing to push") {
		t.Errorf("JSON report: %s", out)
	}

	// --allow-empty (here from the environment) sends the empty write.
	out, stderr, code = runCLI(t, map[string]string{"RWKIT_ALLOW_EMPTY": "true"}, nil, "push", "--url", write,
		"--file", "testdata/comments-only.txt", "--label", "service=auth", "--label", "instance=i-1")
	if code != exitOK || !strings.Contains(out, "rwkit push: delivered") || !strings.Contains(out, "1 of 1 requests") ||
		!strings.Contains(out, "an empty write was sent (--allow-empty)") {
		t.Fatalf("--allow-empty: exit %d (want 0)\n%s%s", code, out, stderr)
	}
	if got := workspaceRequests(t, ws.URL); !strings.Contains(got, `workspace="ws-1"} 1`) {
		t.Errorf("--allow-empty: the workspace counted %q, want one request", got)
	}
}

// workspaceRequests is the workspace's rwkit_remote_write_requests_total
// lines.
func workspaceRequests(t *testing.T, base string) string {
	t.Helper()
	fams, err := scrape.Fetch(context.Background(), http.DefaultClient, base+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, mf := range fams {
		if mf.GetName() != "rwkit_remote_write_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, lp := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", lp.GetName(), lp.GetValue()))
			}
			lines = append(lines, fmt.Sprintf("{%s} %g", strings.Join(labels, ","), m.GetCounter().GetValue()))
		}
	}
	return strings.Join(lines, "\n")
}
