package workspace_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
	"github.com/rwkit/rwkit/workspace"
	"github.com/rwkit/rwkit/workspace/workspacetest"
)

// env is a real workspace over a real store behind a real HTTP server.
type env struct {
	ws  *workspace.Workspace
	srv *httptest.Server
	reg *prometheus.Registry
	dir string // the store's
}

func newEnv(t testing.TB, profile string, opts ...workspace.Option) *env {
	t.Helper()
	lim, err := validate.Profile(profile)
	if err != nil {
		t.Fatal(err)
	}
	return newEnvLimits(t, lim, opts...)
}

func newEnvLimits(t testing.TB, lim validate.Limits, opts ...workspace.Option) *env {
	t.Helper()
	s := workspacetest.Start(t, append([]workspace.Option{workspace.WithLimits(lim)}, opts...)...)
	return &env{ws: s.Workspace, srv: s.HTTP, reg: s.Workspace.Registry(), dir: s.Dir}
}

// series builds one float series with one sample.
func series(v float64, ts int64, labels ...string) wire.TimeSeries {
	s := wire.TimeSeries{Samples: []wire.Sample{{Value: v, Timestamp: ts}}}
	for i := 0; i+1 < len(labels); i += 2 {
		s.Labels = append(s.Labels, wire.Label{Name: labels[i], Value: labels[i+1]})
	}
	return s
}

func rw1Body(series ...wire.TimeSeries) []byte {
	raw := wire.AppendWriteRequest(nil, &wire.WriteRequest{Series: series})
	return wire.Compress(nil, raw)
}

func rw2Body(series ...wire.TimeSeries) []byte {
	raw := wire.AppendRequestV2(nil, &wire.WriteRequest{Series: series})
	return wire.Compress(nil, raw)
}

type response struct {
	status int
	body   string
	header http.Header
}

// post sends body to path with headers (name, value pairs); Content-Type
// and Content-Encoding default to RW 1.0's.
func (e *env) post(t testing.TB, path string, body io.Reader, headers ...string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("User-Agent", "rwkit-test")
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return answer(resp)
}

// answer is resp as a response, its body read and closed.
func answer(resp *http.Response) response {
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, string(b), resp.Header}
}

func (e *env) push(t testing.TB, path string, body []byte, headers ...string) response {
	t.Helper()
	return e.post(t, path, bytes.NewReader(body), headers...)
}

// client is the rwkit remote-write client, without retries.
func (e *env) client(t testing.TB, path string, opts ...remotewrite.Option) *remotewrite.Client {
	t.Helper()
	c, err := remotewrite.New(e.srv.URL+path, append([]remotewrite.Option{remotewrite.WithRetry(time.Millisecond, time.Millisecond, 1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// query runs an instant PromQL query at ts (ms) against base (e.g.
// /workspaces/x or /prometheus) and returns value by the series' labels
// rendered as name=value,... sorted.
func (e *env) query(t testing.TB, base, q string, ts int64, headers ...string) map[string]string {
	t.Helper()
	workspace.WaitAnalyses(e.ws) // Upstream.Store stores off the request path
	u := e.srv.URL + base + "/api/v1/query?" + url.Values{"query": {q}, "time": {formatSeconds(ts)}}.Encode()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Status string
		Error  string
		Data   struct {
			ResultType string
			Result     []struct {
				Metric map[string]string
				Value  []any
			}
		}
	}
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &out); err != nil || out.Status != "success" {
		t.Fatalf("query %q: %d %s (%v)", q, resp.StatusCode, b, err)
	}
	got := map[string]string{}
	for _, r := range out.Data.Result {
		got[metricKey(r.Metric)] = r.Value[1].(string)
	}
	return got
}

func formatSeconds(ms int64) string { return strconv.FormatFloat(float64(ms)/1000, 'f', 3, 64) }

func metricKey(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + "=" + m[k])
	}
	return b.String()
}

// collisions reads the collisions endpoint.
func (e *env) collisions(t testing.TB, id string) []workspace.Collision {
	t.Helper()
	workspace.WaitAnalyses(e.ws) // pass-through mode analyses off the request path
	resp, err := e.srv.Client().Get(e.srv.URL + "/workspaces/" + id + "/api/v1/collisions")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []workspace.Collision
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func nowMs() int64 { return time.Now().UnixMilli() }

var ctx = context.Background()
