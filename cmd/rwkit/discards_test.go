package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"

	"github.com/rwkit/rwkit/cloudwatch/cwtest"
	"github.com/rwkit/rwkit/wire"
	"github.com/rwkit/rwkit/workspace"
)

var updateDiscardsGolden = flag.Bool("update-discards", false, "rewrite testdata/cloudwatch/*.golden")

const testWS = "ws-a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"

// runDiscards runs the discards command with AWS config loading replaced
// by static credentials (never the default chain) and the clock at the end
// of the recorded data.
func runDiscards(t *testing.T, args ...string) (stdout, stderr string, code int, regions []string) {
	t.Helper()
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	var out, errOut bytes.Buffer
	s := stdio{out: &out, err: &errOut, getenv: func(string) string { return "" }}
	c := &discardsCommand{
		now: func() time.Time { return time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC) },
		loadAWS: func(_ context.Context, region string) (aws.Config, error) {
			regions = append(regions, region)
			cfg := cwtest.Config()
			if region != "" {
				cfg.Region = region
			}
			return cfg, nil
		},
	}
	code = runCommand(context.Background(), s, "discards", func(s stdio) command { c.stdio = s; return c }, args)
	return out.String(), errOut.String(), code, regions
}

func discardsGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "cloudwatch", name)
	if *updateDiscardsGolden {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run Discards -update-discards to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

func TestDiscardsCloudWatch(t *testing.T) {
	srv := cwtest.NewServer(t, "testdata/cloudwatch/seed")
	out, stderr, code, _ := runDiscards(t, "--workspace-id", testWS, "--region", "us-west-2", "--endpoint-url", srv.URL)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	discardsGolden(t, "seed.golden", out)

	reqs := srv.Requests()
	if len(reqs) != 3 || reqs[0].Operation != "ListMetrics" || reqs[1].Operation != "GetMetricData" || reqs[2].Body["NextToken"] != "page2" {
		t.Fatalf("requests: %+v", reqs)
	}
	list := reqs[0].Body
	if list["Namespace"] != "AWS/Prometheus" || list["MetricName"] != "DiscardedSamples" ||
		cmp.Diff([]any{map[string]any{"Name": "Workspace", "Value": testWS}}, list["Dimensions"]) != "" {
		t.Errorf("ListMetrics input: %v", list)
	}
	queries := reqs[1].Body["MetricDataQueries"].([]any)
	stat := queries[0].(map[string]any)["MetricStat"].(map[string]any)
	metric := stat["Metric"].(map[string]any)
	if len(queries) != 2 || stat["Period"] != int64(300) || stat["Stat"] != "Sum" || metric["Namespace"] != "AWS/Prometheus" ||
		metric["MetricName"] != "DiscardedSamples" || !strings.Contains(metricDims(metric), "Reason=new-value-for-timestamp,Workspace="+testWS) {
		t.Errorf("GetMetricData query: %v", queries[0])
	}
	if !reqs[1].Body["StartTime"].(time.Time).Equal(time.Date(2025, 5, 1, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("StartTime %v", reqs[1].Body["StartTime"])
	}
	if ua := reqs[0].Header.Get("User-Agent"); !strings.Contains(ua, "app/rwkit-") {
		t.Errorf("User-Agent %q does not name rwkit", ua)
	}

	// --fail-on-discards: the same report, exit 3.
	out2, _, code, _ := runDiscards(t, "--workspace-id", testWS, "--region", "us-west-2", "--endpoint-url", srv.URL, "--fail-on-discards")
	if code != exitVerifyFailed || out2 != out {
		t.Errorf("--fail-on-discards: exit %d, want 3 with the same output", code)
	}
}

func metricDims(metric map[string]any) string {
	var parts []string
	for _, d := range metric["Dimensions"].([]any) {
		m := d.(map[string]any)
		parts = append(parts, m["Name"].(string)+"="+m["Value"].(string))
	}
	return strings.Join(parts, ",")
}

func TestDiscardsCloudWatchJSONAndURL(t *testing.T) {
	srv := cwtest.NewServer(t, "testdata/cloudwatch/seed")
	// The workspace's URL gives both the ID and the region.
	out, stderr, code, regions := runDiscards(t, "--workspace-id", "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/"+testWS+"/api/v1/remote_write",
		"--endpoint-url", srv.URL, "--output", "json")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	if cmp.Diff([]string{"eu-west-1"}, regions) != "" {
		t.Errorf("regions = %v", regions)
	}
	var rep discardsReport
	if err := unmarshalResult([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if rep.Source != "cloudwatch" || rep.WorkspaceID != testWS || rep.Region != "eu-west-1" || rep.Total != 10702 || rep.PeriodSeconds != 300 ||
		len(rep.Reasons) != 2 || len(rep.Reasons[0].Values) != 36 || !strings.Contains(rep.Reasons[0].Hint, "another writer") {
		t.Errorf("report: %+v", rep)
	}
}

func TestDiscardsCloudWatchErrors(t *testing.T) {
	denied := cwtest.NewServer(t, "testdata/cloudwatch/denied")
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no workspace", nil, exitUsage, "--workspace-id is required"},
		{"sub-minute period", []string{"--workspace-id", testWS, "--period", "30s"}, exitUsage, "multiple of 1m"},
		{"since shorter than period", []string{"--workspace-id", testWS, "--since", "1m"}, exitUsage, "shorter than --period"},
		{"not a workspace URL", []string{"--workspace-id", "https://example.com/x"}, exitUsage, "not an AMP workspace URL"},
		{"bad --from", []string{"--from", "127.0.0.1:9095"}, exitUsage, `--from "127.0.0.1:9095": not a URL`},
		{"access denied", []string{"--workspace-id", testWS, "--endpoint-url", denied.URL}, exitFailed, "needs cloudwatch:ListMetrics and cloudwatch:GetMetricData"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, code, _ := runDiscards(t, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, stderr)
			}
		})
	}
}

// localWorkspace serves the recorded /metrics and, when withCollisions,
// the collisions of ws-1; other paths answer 404.
func localWorkspace(t *testing.T, withCollisions bool) *httptest.Server {
	t.Helper()
	metrics, err := os.ReadFile("testdata/cloudwatch/local/metrics.txt")
	if err != nil {
		t.Fatal(err)
	}
	collisions, err := os.ReadFile("testdata/cloudwatch/local/collisions.json")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		w.Write(metrics)
	})
	if withCollisions {
		mux.HandleFunc("GET /workspaces/ws-1/api/v1/collisions", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(collisions)
		})
		mux.HandleFunc("GET /workspaces/default/api/v1/collisions", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`[]`))
		})
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestDiscardsLocal(t *testing.T) {
	srv := localWorkspace(t, true)
	out, stderr, code := runCLI(t, nil, nil, "discards", "--from", srv.URL+"/", "--workspace-id", "ws-1")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	discardsGolden(t, "local.golden", strings.ReplaceAll(out, srv.URL, "http://127.0.0.1:9095"))

	// Every workspace, JSON, and --fail-on-discards from the environment.
	env := map[string]string{"RWKIT_FROM": srv.URL, "RWKIT_OUTPUT": "json", "RWKIT_FAIL_ON_DISCARDS": "true"}
	out, _, code = runCLI(t, env, nil, "discards")
	if code != exitVerifyFailed {
		t.Errorf("exit %d, want 3", code)
	}
	var rep discardsReport
	if err := unmarshalResult([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var rows []string
	for _, r := range rep.Reasons {
		rows = append(rows, r.Workspace+" "+r.Reason)
	}
	if diff := cmp.Diff([]string{"ws-1 new-value-for-timestamp", "ws-1 sample-out-of-order", "default new-value-for-timestamp"}, rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	if rep.Total != 244 || rep.Received == nil || *rep.Received != 4820 || len(rep.Collisions) != 2 ||
		rep.Collisions[0].Workspace != "default" || !rep.Collisions[0].Served || len(rep.Collisions[1].Entries) != 3 ||
		rep.Collisions[1].Entries[2].Reason != "new-value-for-timestamp" {
		t.Errorf("report: %+v", rep)
	}
	// Dropped within requests: apart from the discards (not in Total, not
	// what --fail-on-discards counts).
	var dropped []string
	for _, r := range rep.Dropped {
		dropped = append(dropped, fmt.Sprintf("%s %s %g", r.Workspace, r.Reason, r.Total))
	}
	if diff := cmp.Diff([]string{"ws-1 new-value-for-timestamp 4", "default sample-out-of-order 2"}, dropped); diff != "" || rep.DroppedTotal != 6 {
		t.Errorf("dropped %v in all (-want +got):\n%s", rep.DroppedTotal, diff)
	}
}

func TestDiscardsLocalWithoutCollisionsEndpoint(t *testing.T) {
	srv := localWorkspace(t, false)
	out, stderr, code := runCLI(t, nil, nil, "discards", "--from", srv.URL, "--workspace-id", "ws-1")
	if code != exitOK || !strings.Contains(out, "235") || !strings.Contains(out, "collisions in ws-1: not served by this workspace (counters only)") {
		t.Errorf("exit %d\n%s%s", code, out, stderr)
	}
}

// A --workspace-id the workspace has not counted (a typo, the wrong
// server) is an error naming the ones it has, --fail-on-discards or not: a
// report of "0 discarded" for it would pass a CI gate. A known workspace
// without discards still passes.
func TestDiscardsLocalUnknownWorkspace(t *testing.T) {
	live := startWorkspace(t)
	ts := time.Now().Add(-time.Minute).UnixMilli()
	for _, ws := range []string{"ws-1", "team-a"} {
		req := &wire.WriteRequest{Series: []wire.TimeSeries{{
			Labels:  []wire.Label{{Name: "__name__", Value: "up"}, {Name: "instance", Value: "i-1"}, {Name: "service", Value: "auth"}},
			Samples: []wire.Sample{{Value: 1, Timestamp: ts}},
		}}}
		if err := pushSeries(t, live.URL+"/workspaces/"+ws+"/api/v1/remote_write", "auth/1.0", req); err != nil {
			t.Fatalf("push to %s: %v", ws, err)
		}
	}
	recorded := localWorkspace(t, true)
	for _, tc := range []struct {
		name   string
		from   string
		args   []string
		code   int
		stdout string // "" means nothing printed
		stderr string
	}{
		{"typo, real workspace", live.URL, []string{"--workspace-id", "ws-l"}, exitFailed, "",
			`workspace "ws-l" is unknown to ` + live.URL + `: its /metrics counts team-a, ws-1`},
		{"typo, real workspace, --fail-on-discards", live.URL, []string{"--workspace-id", "ws-l", "--fail-on-discards"}, exitFailed, "",
			`workspace "ws-l" is unknown`},
		{"typo, json", live.URL, []string{"--workspace-id", "WS-1", "--output", "json"}, exitFailed, `"exit_code": 1`,
			`workspace "WS-1" is unknown`},
		{"typo, recorded workspace", recorded.URL, []string{"--workspace-id", "ws-2", "--fail-on-discards"}, exitFailed, "",
			"its /metrics counts default, ws-1 "},
		{"known, no discards", live.URL, []string{"--workspace-id", "team-a", "--fail-on-discards"}, exitOK,
			"0 samples discarded by the workspace at " + live.URL + ", workspace team-a\n  counters since the workspace started; 1 samples received", ""},
		{"all, no discards", live.URL, []string{"--fail-on-discards"}, exitOK, "collisions in team-a: 0\n\ncollisions in ws-1: 0", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, code := runCLI(t, nil, nil, append([]string{"discards", "--from", tc.from}, tc.args...)...)
			if code != tc.code || (tc.stdout == "") != (out == "") || !strings.Contains(out, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("exit %d (want %d)\nstdout (want %q):\n%s\nstderr (want %q):\n%s", code, tc.code, tc.stdout, out, tc.stderr, stderr)
			}
		})
	}
}

// A server whose /metrics has none of the workspace's counters is not an
// rwkit workspace: exit 1 saying so, rather than "0 discarded".
func TestDiscardsLocalNotAWorkspace(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("# TYPE go_goroutines gauge\ngo_goroutines 12\nrwkit_accepted_samples_total{workspace=\"ws-1\"} 5\n"))
	})
	srvURL := serveHTTP(t, mux)
	for _, args := range [][]string{nil, {"--workspace-id", "ws-1"}, {"--fail-on-discards", "--output", "json"}} {
		out, stderr, code := runCLI(t, nil, nil, append([]string{"discards", "--from", srvURL}, args...)...)
		json := len(args) > 0 && args[len(args)-1] == "json"
		if code != exitFailed || (out != "") != json || (json && !strings.Contains(out, `"exit_code": 1`)) || !strings.Contains(stderr, srvURL+"/metrics has no rwkit_received_samples_total or rwkit_discarded_samples_total: not an rwkit workspace") {
			t.Errorf("%v: exit %d (want 1)\nstdout:\n%s\nstderr:\n%s", args, code, out, stderr)
		}
	}
}

// The collisions list is the workspace's own []workspace.Collision; a body
// of another shape is an error that says so.
func TestDiscardsRefusesAnUnknownCollisionsShape(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("rwkit_received_samples_total{workspace=\"ws-1\"} 1\n"))
	})
	mux.HandleFunc("GET /workspaces/ws-1/api/v1/collisions", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`"nope"`)) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	_, stderr, code := runCLI(t, nil, nil, "discards", "--from", srv.URL, "--workspace-id", "ws-1")
	if code != exitFailed || !strings.Contains(stderr, "not the workspace's collisions list") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
}

func TestSparkline(t *testing.T) {
	for _, tc := range []struct {
		values []float64
		width  int
		want   string
	}{
		{[]float64{0, 1, 2, 3, 4, 5, 6, 0}, 48, "▁▃▄▅▆▇█▁"},
		{[]float64{1000, 1, 0}, 48, "█▂▁"},
		{[]float64{0, 0, 0}, 48, "▁▁▁"},
		{[]float64{1, 1, 0, 0, 5, 5}, 3, "▃▁█"},
		{nil, 48, ""},
	} {
		if got := sparkline(tc.values, tc.width); got != tc.want {
			t.Errorf("sparkline(%v, %d) = %q, want %q", tc.values, tc.width, got, tc.want)
		}
	}
}

// FuzzDecodeWorkspaceCollisions: whatever the workspace answers decodes
// into entries or fails, and every entry renders, never panics.
func FuzzDecodeWorkspaceCollisions(f *testing.F) {
	if b, err := os.ReadFile("testdata/cloudwatch/local/collisions.json"); err == nil {
		f.Add(string(b))
	}
	for _, s := range []string{`[]`, `{"data":null}`, `{"data":{"collisions":[{}]}}`, `[{"series":1,"timestamp":-1,"writers":[1,null,{}]}]`, `[null]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var entries []workspace.Collision
		if json.Unmarshal([]byte(body), &entries) != nil {
			return
		}
		for _, e := range entries {
			collisionRow(e)
		}
	})
}
