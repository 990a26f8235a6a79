package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/wire"
)

// startServe runs `rwkit serve` in-process and returns its address and a
// stop function that cancels it (as SIGTERM does) and waits for it.
func startServe(t *testing.T, args ...string) (string, func() string) {
	t.Helper()
	return startServeEnv(t, nil, args...)
}

// startServeEnv is startServe with RWKIT_* variables.
func startServeEnv(t *testing.T, env map[string]string, args ...string) (string, func() string) {
	t.Helper()
	ready := make(chan string, 1)
	srv := start(t, env, func(s stdio) command { return &serveCommand{stdio: s, ready: ready} },
		append([]string{"--listen", "127.0.0.1:0"}, args...)...)
	addr := srv.await(t, "serve", ready, 30*time.Second)
	checked := false
	stop := func() string {
		err := srv.stop(t, 30*time.Second)
		if err != nil && !checked {
			t.Errorf("serve: %v\n%s", err, srv.errOut)
		}
		checked = true
		return srv.errOut.String()
	}
	t.Cleanup(func() { stop() })
	return addr, stop
}

// vectorSample is one series of an instant query's vector result.
type vectorSample struct {
	Metric map[string]string
	Value  []any // [time, "value"]
}

// queryAt evaluates q on the query API at base at ts (milliseconds) and
// decodes the answer's data.result into result; a failed query fails the
// test.
func queryAt(t *testing.T, base, q string, ts int64, result any) {
	t.Helper()
	_, b := get(t, base+"/api/v1/query?"+url.Values{"query": {q}, "time": {strconv.FormatFloat(float64(ts)/1000, 'f', 3, 64)}}.Encode())
	var out struct {
		Status string
		Data   struct {
			Result json.RawMessage
		}
	}
	if err := json.Unmarshal([]byte(b), &out); err != nil || out.Status != "success" {
		t.Fatalf("query %q: %s (%v)", q, b, err)
	}
	if err := json.Unmarshal(out.Data.Result, result); err != nil {
		t.Fatalf("query %q: result: %v\n%s", q, err, b)
	}
}

// instantQuery evaluates q at ts (milliseconds) and returns the vector.
func instantQuery(t *testing.T, base, q string, ts int64) []vectorSample {
	t.Helper()
	var res []vectorSample
	queryAt(t, base, q, ts, &res)
	return res
}

// queryValue is the value of q at ts when q gives one series, else "".
func queryValue(t *testing.T, base, q string, ts int64) string {
	t.Helper()
	res := instantQuery(t, base, q, ts)
	if len(res) != 1 {
		return ""
	}
	return res[0].Value[1].(string)
}

// oneSampleBody is a Snappy-compressed RW 1.0 request of one sample, now,
// of the series name.
func oneSampleBody(name string) []byte {
	return wire.Compress(nil, wire.AppendWriteRequest(nil, &wire.WriteRequest{Series: []wire.TimeSeries{{
		Labels:  []wire.Label{{Name: "__name__", Value: name}},
		Samples: []wire.Sample{{Value: 1, Timestamp: time.Now().UnixMilli()}},
	}}}))
}

// postWrite POSTs a Snappy-compressed remote-write body to url with the
// headers given as name, value pairs, and returns the answer's status and
// body.
func postWrite(t *testing.T, url string, body []byte, header ...string) (int, string) {
	t.Helper()
	code, answer, err := sendWrite(url, body, header...)
	if err != nil {
		t.Fatal(err)
	}
	return code, answer
}

// postWriteRequest posts req as RW 1.0 and reports a failure with t.Error,
// not t.Fatal: writers call it from their own goroutines.
func postWriteRequest(t *testing.T, u string, req *wire.WriteRequest) (int, string) {
	t.Helper()
	code, answer, err := sendWrite(u, wire.Compress(nil, wire.AppendWriteRequest(nil, req)), "Content-Type", wire.V1.ContentType())
	if err != nil {
		t.Error(err)
	}
	return code, answer
}

func sendWrite(url string, body []byte, header ...string) (int, string, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Encoding", "snappy")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// get GETs u and returns the answer's status and body.
func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServePushQueryRestart starts the workspace, pushes with the rwkit
// client, queries, stops it as SIGTERM would, starts it again on the same
// data and finds the sample still there.
func TestServePushQueryRestart(t *testing.T) {
	data := t.TempDir()
	addr, stop := startServe(t, "--data", data, "--limits", "amp")
	ts := time.Now().UnixMilli()
	c, err := remotewrite.New("http://" + addr + "/workspaces/ws-1/api/v1/remote_write")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(context.Background(), &wire.WriteRequest{Series: []wire.TimeSeries{{
		Labels:  []wire.Label{{Name: "__name__", Value: "jvm_threads_live_threads"}, {Name: "service", Value: "auth"}},
		Samples: []wire.Sample{{Value: 21, Timestamp: ts}},
	}}}); err != nil {
		t.Fatal(err)
	}
	if got := queryValue(t, "http://"+addr+"/workspaces/ws-1", "jvm_threads_live_threads", ts); got != "21" {
		t.Fatalf("before restart: %q, want 21", got)
	}
	// The page is where the log says it is.
	resp, err := http.Get("http://" + addr + "/workspaces/ws-1/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("the workspace's page: %d %s, want 200 text/html", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	logs := stop()
	for _, want := range []string{"workspace serving", "page=http://" + addr + "/", "/workspaces/<id>/api/v1/remote_write", "limits=amp", "workspace stopped"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs do not contain %q:\n%s", want, logs)
		}
	}

	addr, _ = startServe(t, "--data", data, "--limits", "amp")
	if got := queryValue(t, "http://"+addr+"/workspaces/ws-1", "jvm_threads_live_threads", ts); got != "21" {
		t.Fatalf("after restart: %q, want 21", got)
	}
}

func TestServeUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--limits", "no-such-backend"},
		{"--log-level", "loud"},
		{"stray"},
	} {
		var errOut strings.Builder
		code := run(context.Background(), append([]string{"serve"}, args...), stdio{in: strings.NewReader(""), out: io.Discard, err: &errOut, getenv: func(string) string { return "" }})
		if code != exitUsage {
			t.Errorf("serve %v: exit %d, want %d (%s)", args, code, exitUsage, errOut.String())
		}
	}
}
