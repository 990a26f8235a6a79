package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/google/go-cmp/cmp"

	"github.com/rwkit/rwkit/internal/promtest"
	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/wire"
)

// exitVerifyFailed is the exit code of a failed expectation or, with
// --fail-on-discards, of discards found.
const exitVerifyFailed = 3

// pushSixServices writes one jvm_threads_live_threads series per seed
// service, with service and instance labels, at ts.
func pushSixServices(t *testing.T, writeURL string, ts time.Time) {
	t.Helper()
	req := &wire.WriteRequest{}
	for i, s := range []string{"auth", "actor", "document", "notification", "audit", "bff"} {
		req.Series = append(req.Series, wire.TimeSeries{
			Labels: []wire.Label{
				{Name: "__name__", Value: "jvm_threads_live_threads"},
				{Name: "instance", Value: s + "-task-1"},
				{Name: "service", Value: s},
			},
			Samples: []wire.Sample{{Value: float64(14 + i), Timestamp: ts.UnixMilli()}},
		})
	}
	client, err := remotewrite.New(writeURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Write(context.Background(), req); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyAgainstPrometheus(t *testing.T) {
	prom := promtest.Start(t)
	ts := time.Now().Add(-time.Minute).Truncate(time.Second)
	pushSixServices(t, prom.WriteURL, ts)
	at := ts.Format(time.RFC3339)
	q := "count by (service) (jvm_threads_live_threads)"

	out, stderr, code := runCLI(t, nil, nil, "verify", "--query-url", prom.URL, "--query", q, "--time", at,
		"--expect-distinct", "service=6", "--expect-series", "6", "--expect-label", "service")
	if code != exitOK {
		t.Fatalf("exit %d, want 0\n%s%s", code, out, stderr)
	}
	for _, want := range []string{
		"rwkit verify: pass",
		"url      " + prom.URL + "/api/v1/query",
		"result   vector, 6 series",
		`{service="actor"}         1`,
		"distinct service = 6      pass    6 values: actor, audit, auth, bff, document, notification",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	out, _, code = runCLI(t, nil, nil, "verify", "--query-url", prom.URL, "--query", q, "--time", at, "--expect-distinct", "service=7")
	if code != exitVerifyFailed || !strings.Contains(out, "rwkit verify: FAIL") ||
		!strings.Contains(out, "distinct service = 7  FAIL    6 values: actor, audit, auth, bff, document, notification") {
		t.Errorf("exit %d, want 3:\n%s", code, out)
	}

	// Expectations from the environment, JSON output.
	env := map[string]string{"RWKIT_QUERY_URL": prom.URL, "RWKIT_QUERY": "jvm_threads_live_threads", "RWKIT_TIME": at,
		"RWKIT_EXPECT_LABEL": "service,instance,pod", "RWKIT_OUTPUT": "json"}
	out, _, code = runCLI(t, env, nil, "verify")
	if code != exitVerifyFailed {
		t.Errorf("exit %d, want 3 (no pod label):\n%s", code, out)
	}
	var rep struct {
		Result string
		Series []struct {
			Labels map[string]string
			Value  float64
		}
		Checks []struct {
			Expectation string
			Pass        bool
		}
	}
	if err := unmarshalResult([]byte(out), &rep); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if rep.Result != "fail" || len(rep.Series) != 6 || rep.Series[0].Labels["service"] != "actor" || rep.Series[0].Value != 15 {
		t.Errorf("report = %+v", rep)
	}
	if got := []bool{rep.Checks[0].Pass, rep.Checks[1].Pass, rep.Checks[2].Pass}; cmp.Diff([]bool{true, true, false}, got) != "" {
		t.Errorf("checks = %+v", rep.Checks)
	}

	// Bad PromQL: the API's errorType and error, exit 1.
	out, _, code = runCLI(t, nil, nil, "verify", "--query-url", prom.URL, "--query", "count by (", "--expect-min", "1")
	if code != exitFailed || !strings.Contains(out, "rwkit verify: ERROR") || !strings.Contains(out, "400 Bad Request: bad_data: ") ||
		!strings.Contains(out, "the PromQL does not parse") {
		t.Errorf("exit %d, want 1:\n%s", code, out)
	}
	// No expectations: the result only, exit 0.
	out, _, code = runCLI(t, nil, nil, "verify", "--query-url", prom.URL, "--query", "absent_metric_xyz", "--time", at)
	if code != exitOK || !strings.Contains(out, "ok (no expectations)") || !strings.Contains(out, "vector, 0 series") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestVerifyErrorsAndUsage(t *testing.T) {
	deadURL := closedURL(t)
	notFoundURL := serveHTTP(t, http.NotFoundHandler())
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"no url", []string{"--query", "up"}, exitUsage, "", "--query-url is required"},
		{"no query", []string{"--query-url", "http://h"}, exitUsage, "", "--query is required"},
		{"relative url", []string{"--query-url", "h:9090", "--query", "up"}, exitUsage, "", `--query-url "h:9090": scheme "h"; want http:// or https://`},
		{"bad distinct", []string{"--query-url", "http://h", "--query", "up", "--expect-distinct", "service"}, exitUsage, "", "want LABEL=N"},
		{"bad series", []string{"--query-url", "http://h", "--query", "up", "--expect-series", "-1"}, exitUsage, "", "whole number"},
		{"bad time", []string{"--query-url", "http://h", "--query", "up", "--time", "yesterday"}, exitUsage, "", "--time \"yesterday\""},
		{"unreachable", []string{"--query-url", deadURL, "--query", "up"}, exitFailed, "connection refused", ""},
		{"404", []string{"--query-url", notFoundURL, "--query", "up"}, exitFailed, "the part before /api/v1/query", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, code := runCLI(t, nil, nil, append([]string{"verify"}, tc.args...)...)
			if code != tc.code || !strings.Contains(out, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, stderr)
			}
		})
	}
}

// queryRecorder is a query API that records each request and answers with
// two series.
func queryRecorder(t *testing.T) (*httptest.Server, *[]*http.Request, *[]string) {
	var reqs []*http.Request
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		reqs, bodies = append(reqs, r.Clone(context.Background())), append(bodies, string(b))
		io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":[
			{"metric":{"service":"auth"},"value":[1714564800,"1"]},{"metric":{"service":"bff"},"value":[1714564800,"NaN"]}]}}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &reqs, &bodies
}

func TestVerifyTenantHeader(t *testing.T) {
	srv, reqs, _ := queryRecorder(t)
	out, _, code := runCLI(t, nil, nil, "verify", "--query-url", srv.URL+"/prometheus", "--tenant", "team-a", "--query", "up", "--output", "json")
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	r := (*reqs)[0]
	if r.URL.Path != "/prometheus/api/v1/query" || r.Header.Get("X-Scope-OrgID") != "team-a" || r.Header.Get("Authorization") != "" {
		t.Errorf("request %s %v", r.URL.Path, r.Header)
	}
	// NaN survives JSON as Prometheus spells it.
	if !strings.Contains(out, `"value": "NaN"`) || !strings.Contains(out, `"tenant": "team-a"`) {
		t.Errorf("json:\n%s", out)
	}
}

// TestVerifySigV4 signs with injected static credentials: no default chain,
// no AWS.
func TestVerifySigV4(t *testing.T) {
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	srv, reqs, bodies := queryRecorder(t)
	var regions []string
	load := func(_ context.Context, region string) (aws.Config, error) {
		regions = append(regions, region)
		return aws.Config{Region: region, Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")}, nil
	}
	var out, errOut bytes.Buffer
	c := &verifyCommand{stdio: stdio{out: &out, err: &errOut, getenv: func(string) string { return "" }}, loadAWS: load,
		now: func() time.Time { return time.Unix(1714564800, 0) }}
	err := c.Run(context.Background(), []string{"--query-url", srv.URL + "/workspaces/ws-1", "--sigv4-region", "eu-west-1",
		"--query", `count by (service) (up)`, "--expect-distinct", "service=2", "--expect-min", "2"})
	if err != nil {
		t.Fatalf("%v\n%s%s", err, out.String(), errOut.String())
	}
	if cmp.Diff([]string{"eu-west-1"}, regions) != "" {
		t.Errorf("regions loaded = %v", regions)
	}
	r := (*reqs)[0]
	if auth := r.Header.Get("Authorization"); !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") || !strings.Contains(auth, "/eu-west-1/aps/aws4_request") || r.Header.Get("X-Amz-Content-Sha256") == "" {
		t.Errorf("Authorization = %q", auth)
	}
	if r.URL.Path != "/workspaces/ws-1/api/v1/query" || (*bodies)[0] != "query=count+by+%28service%29+%28up%29&time=1714564800.000" {
		t.Errorf("request %s body %q", r.URL.Path, (*bodies)[0])
	}
	if !strings.Contains(out.String(), "signing  sigv4 eu-west-1") || !strings.Contains(out.String(), `{service="bff"}   NaN`) {
		t.Errorf("output:\n%s", out.String())
	}
}

func TestParseEvalTime(t *testing.T) {
	now := time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"":                     now,
		"now":                  now,
		"-5m":                  now.Add(-5 * time.Minute),
		"2025-05-01T11:00:00Z": now.Add(-time.Hour),
		"1746100800.25":        time.UnixMilli(1746100800250),
	} {
		got, err := parseEvalTime(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseEvalTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"-5", "yesterday", "0"} {
		if _, err := parseEvalTime(bad, now); err == nil {
			t.Errorf("parseEvalTime(%q): no error", bad)
		}
	}
}
