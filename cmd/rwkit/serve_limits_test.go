package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rwkit/rwkit/internal/disktest"
	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/wire"
)

// The query limits are set by flags and by their RWKIT_* mirrors, and a
// query over one is refused with the flag's name and no Go identifier.
func TestServeQueryLimitFlags(t *testing.T) {
	addr, _ := startServeEnv(t, map[string]string{"RWKIT_QUERY_MAX_SAMPLES": "100"},
		"--data", t.TempDir(), "--query-max-length", "64", "--query-timeout", "30s", "--query-max-concurrency", "1")
	base := "http://" + addr + "/workspaces/ws-1/api/v1/"
	for _, tc := range []struct {
		name     string
		endpoint string
		params   url.Values
		code     int
		errType  string
		contains string
	}{
		{"--query-max-length", "query", url.Values{"query": {strings.Repeat("a+", 40) + "a"}}, 400, "bad_data", "the limit is 64 (set by rwkit serve --query-max-length)"},
		{"RWKIT_QUERY_MAX_SAMPLES", "query_range",
			url.Values{"query": {"count_over_time(vector(1)[1h:1s])"}, "start": {"1704067200"}, "end": {"1704067200"}, "step": {"15"}},
			422, "execution", "limit 100 samples in memory at once, set by rwkit serve --query-max-samples"},
		{"under the limits", "query", url.Values{"query": {"vector(1)"}}, 200, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, b := postQuery(t, base+tc.endpoint, tc.params)
			if code != tc.code || out.ErrorType != tc.errType || !strings.Contains(out.Error, tc.contains) || hasGoName(out.Error) {
				t.Errorf("got %d %s", code, b)
			}
		})
	}
}

// apiAnswer is the envelope of a query API's answer.
type apiAnswer struct{ Status, ErrorType, Error string }

// postQuery POSTs the form params to the query endpoint u and returns the
// status, the decoded envelope and the body; a body that is not the API's
// JSON fails the test.
func postQuery(t *testing.T, u string, params url.Values) (int, apiAnswer, string) {
	t.Helper()
	resp, err := http.PostForm(u, params)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out apiAnswer
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return resp.StatusCode, out, string(b)
}

// hasGoName reports whether s names a Go option or field, which users of
// rwkit serve do not set.
func hasGoName(s string) bool {
	return strings.Contains(s, "workspace.") || strings.Contains(s, "store.") || strings.Contains(s, "With") || strings.Contains(s, "Options")
}

// A write over a limit is refused with the flag that sets it and no Go
// identifier.
func TestServeWriteLimitFlags(t *testing.T) {
	addr, _ := startServe(t, "--data", t.TempDir(), "--max-request-bytes", "1024", "--max-decoded-bytes", "4096",
		"--max-series-per-request", "1", "--max-concurrent-writes", "1")
	url := "http://" + addr + "/api/v1/push"
	write := func(body []byte) (int, string) {
		return postWrite(t, url, body, "Content-Type", "application/x-protobuf", "X-Scope-OrgID", "ws-1")
	}
	for _, tc := range []struct {
		flag string
		body []byte
		code int
	}{
		{"--max-request-bytes", make([]byte, 2048), 413},
		{"--max-decoded-bytes", wire.Compress(nil, make([]byte, 8192)), 413},
		{"--max-series-per-request", wire.Compress(nil, wire.AppendWriteRequest(nil, &wire.WriteRequest{Series: []wire.TimeSeries{
			{Labels: []wire.Label{{Name: "__name__", Value: "a"}}}, {Labels: []wire.Label{{Name: "__name__", Value: "b"}}}}})), 413},
	} {
		code, b := write(tc.body)
		if code != tc.code || !strings.Contains(b, "set by rwkit serve "+tc.flag+")") || hasGoName(b) {
			t.Errorf("%s: %d %q, want %d naming the flag alone", tc.flag, code, b, tc.code)
		}
	}

	// A write whose body has not all arrived holds the only slot once the
	// server has its headers. It is in place when it has had no answer for
	// a while: an answer (a 503) means the slot was busy when it came, and
	// it is sent again. Then writes are sent until one is refused.
	conn := holdWriteSlot(t, addr)
	defer conn.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, b := write(oneSampleBody("up"))
		if code == http.StatusServiceUnavailable {
			if !strings.Contains(b, "(the limit is set by rwkit serve --max-concurrent-writes)") || hasGoName(b) {
				t.Errorf("--max-concurrent-writes: %q, want the flag alone", b)
			}
			break
		}
		if code != http.StatusOK || time.Now().After(deadline) {
			t.Fatalf("while a write holds the only slot: %d %s, want 503", code, b)
		}
	}
}

// A query out of time names --query-timeout, which a request's timeout
// parameter can only shorten.
func TestServeQueryTimeoutFlag(t *testing.T) {
	addr, _ := startServe(t, "--data", t.TempDir(), "--query-timeout", "30s")
	// 3.6 million steps, with 1ms to take them.
	code, out, b := postQuery(t, "http://"+addr+"/workspaces/ws-1/api/v1/query",
		url.Values{"query": {"count_over_time(vector(1)[1h:1ms])"}, "timeout": {"0.001"}})
	if code != 503 || out.ErrorType != "timeout" || hasGoName(out.Error) ||
		!strings.Contains(out.Error, "(limit 30s, set by rwkit serve --query-timeout, or the request's timeout parameter if shorter)") {
		t.Errorf("got %d %s", code, b)
	}
}

func TestServeQueryLimitUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--query-max-concurrency", "0"},
		{"--query-timeout", "-1s"},
		{"--query-max-length", "0"},
		{"--query-max-samples", "-5"},
	} {
		var errOut strings.Builder
		code := run(context.Background(), append([]string{"serve", "--data", t.TempDir()}, args...), stdio{in: strings.NewReader(""), out: io.Discard, err: &errOut, getenv: func(string) string { return "" }})
		if code != exitUsage || !strings.Contains(errOut.String(), args[0]) {
			t.Errorf("serve %v: exit %d, want %d naming the flag (%s)", args, code, exitUsage, errOut.String())
		}
	}
}

// A second serve on a --data another serve is using says so and leaves
// the directory as it was: before the store checked its lock, each
// tenant's TSDB logged "A lockfile from a previous execution already
// existed. It was replaced" and only then refused.
func TestServeDataInUse(t *testing.T) {
	data := t.TempDir()
	addr, _ := startServe(t, "--data", data)
	c, err := remotewrite.New("http://" + addr + "/workspaces/ws-1/api/v1/remote_write")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(context.Background(), &wire.WriteRequest{Series: []wire.TimeSeries{{
		Labels:  []wire.Label{{Name: "__name__", Value: "up"}},
		Samples: []wire.Sample{{Value: 1, Timestamp: time.Now().UnixMilli()}},
	}}}); err != nil {
		t.Fatal(err)
	}
	before := disktest.Listing(t, data)

	var errOut strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := run(ctx, []string{"serve", "--listen", "127.0.0.1:0", "--data", data, "--log-level", "debug"},
		stdio{in: strings.NewReader(""), out: io.Discard, err: &errOut, getenv: func(string) string { return "" }})
	if code != exitFailed {
		t.Errorf("exit %d, want %d", code, exitFailed)
	}
	if want := "another rwkit serve is using " + data; !strings.Contains(errOut.String(), want) {
		t.Errorf("output does not say %q:\n%s", want, errOut.String())
	}
	if strings.Contains(errOut.String(), "lockfile") || strings.Contains(errOut.String(), "workspace serving") {
		t.Errorf("the second serve went on:\n%s", errOut.String())
	}
	if after := disktest.Listing(t, data); after != before {
		t.Errorf("the second serve changed %s:\nbefore:\n%s\nafter:\n%s", data, before, after)
	}
}

// --max-workspaces (or RWKIT_MAX_WORKSPACES) caps the workspaces written
// to, and a write over it is refused, and logged, naming the flag.
func TestServeMaxWorkspaces(t *testing.T) {
	addr, stop := startServeEnv(t, map[string]string{"RWKIT_MAX_WORKSPACES": "2"}, "--data", t.TempDir())
	body := oneSampleBody("up")
	write := func(id string) (int, string) {
		return postWrite(t, "http://"+addr+"/workspaces/"+id+"/api/v1/remote_write", body, "Content-Type", "application/x-protobuf")
	}
	for _, id := range []string{"ws-1", "ws-2"} {
		if code, b := write(id); code != http.StatusOK {
			t.Fatalf("%s: %d %s", id, code, b)
		}
	}
	code, b := write("ws-3")
	if code != http.StatusBadRequest || !strings.Contains(b, `workspace "ws-3" would be one more than the limit of 2`) ||
		!strings.Contains(b, "the limit (2) is set by rwkit serve --max-workspaces") || strings.Contains(b, "WithMaxTenants") {
		t.Errorf("third workspace: %d %s", code, b)
	}
	log := stop()
	if !strings.Contains(log, "level=WARN") || !strings.Contains(log, `setting="rwkit serve --max-workspaces"`) || strings.Contains(log, "WithMaxTenants") {
		t.Errorf("the log does not name the flag:\n%s", log)
	}
}

func TestServeMaxWorkspacesUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--max-workspaces", "0"}, nil, "--max-workspaces: must be >= 1, got 0"},
		{[]string{"--max-workspaces", "-1"}, nil, "--max-workspaces: must be >= 1, got -1"},
		{nil, map[string]string{"RWKIT_MAX_WORKSPACES": "0"}, "--max-workspaces: must be >= 1, got 0"},
		{[]string{"--max-workspaces", "many"}, nil, "max-workspaces"},
	} {
		var errOut strings.Builder
		code := run(context.Background(), append([]string{"serve", "--data", t.TempDir()}, tc.args...),
			stdio{in: strings.NewReader(""), out: io.Discard, err: &errOut, getenv: func(k string) string { return tc.env[k] }})
		if code != exitUsage || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("serve %v %v: exit %d, want %d saying %q (%s)", tc.args, tc.env, code, exitUsage, tc.want, errOut.String())
		}
	}
}

// holdWriteSlot sends a remote write whose body never all arrives, so that
// it holds one of serve's write slots, and returns its connection once it
// has gone 300ms without an answer (one answered came while the slot was
// busy, and is sent again).
func holdWriteSlot(t *testing.T, addr string) net.Conn {
	t.Helper()
	for range 20 {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fmt.Fprintf(conn, "POST /api/v1/push HTTP/1.1\r\nHost: %s\r\nX-Scope-OrgID: ws-1\r\nContent-Encoding: snappy\r\nContent-Length: 100\r\n\r\nx", addr); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		var b [1]byte
		if _, err := conn.Read(b[:]); errors.Is(err, os.ErrDeadlineExceeded) {
			_ = conn.SetReadDeadline(time.Time{})
			return conn
		}
		conn.Close()
	}
	t.Fatal("a write that never finishes was answered 20 times: it never held a write slot")
	return nil
}
