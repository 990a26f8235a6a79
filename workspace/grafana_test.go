package workspace_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/google/go-cmp/cmp"

	"github.com/rwkit/rwkit/internal/backendtest"
	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
	"github.com/rwkit/rwkit/workspace"
	"github.com/rwkit/rwkit/workspace/workspacetest"
)

// TestGrafanaCallsMatchPrometheus3 writes the same series and exemplars to
// the workspace and to a real Prometheus 3 (exemplar storage and per-step
// stats on), then makes the calls Grafana's Prometheus data source makes
// on both and compares status, JSON shape (keys and types, recursively)
// and the values that can be the same. The workspace answers under each
// of its API bases (AMP, Cortex, plain Prometheus); the differences that
// stay are asserted here and listed in README's table.
func TestGrafanaCallsMatchPrometheus3(t *testing.T) {
	prom := backendtest.StartPrometheus3(t, "--enable-feature=exemplar-storage,promql-per-step-stats")
	limits, err := validate.Profile("prometheus")
	if err != nil {
		t.Fatal(err)
	}
	limits.MaxExemplars = 100_000
	ws := workspacetest.Start(t, workspace.WithLimits(limits))

	t0 := time.Now().Add(-time.Minute).Truncate(time.Second)
	req := grafanaWrite(t0)
	remoteWrite(t, prom.WriteURL, nil, req)
	remoteWrite(t, ws.WriteURL, nil, req)

	type base struct {
		name, url string
		header    http.Header
	}
	bases := []base{
		{"AMP", ws.QueryURL, nil},
		{"Cortex", ws.URL + "/prometheus", http.Header{"X-Scope-OrgID": {workspacetest.WorkspaceID}}},
		{"Prometheus", ws.URL, http.Header{"X-Scope-OrgID": {workspacetest.WorkspaceID}}},
	}
	ts := func(t time.Time) string { return fmt.Sprintf("%.3f", float64(t.UnixMilli())/1000) }
	rangeParams := url.Values{"query": {`sum by (service) (rate(http_requests_total[1m]))`},
		"start": {ts(t0)}, "end": {ts(t0.Add(30 * time.Second))}, "step": {"15"}}

	type call struct {
		name   string
		method string
		path   string
		params url.Values
		// check compares the two decoded bodies beyond status and shape;
		// nil compares them whole.
		check func(t *testing.T, prom, ws map[string]any)
		// noShape skips the shape comparison (done by check).
		noShape bool
	}
	same := func(t *testing.T, p, w map[string]any) {
		if diff := cmp.Diff(p, w); diff != "" {
			t.Errorf("(-prometheus +workspace):\n%s", diff)
		}
	}
	calls := []call{
		{name: "buildinfo", path: "status/buildinfo", check: func(t *testing.T, p, w map[string]any) {
			// Deliberate: the workspace names the Prometheus release it
			// embeds, the same as the server's module (whose version is
			// stamped only by Prometheus's release builds: "" here), with
			// rwkit's version as semver build metadata.
			if pv := data(p)["version"]; pv != "" {
				t.Errorf("Prometheus version %q: a release build? compare it with the workspace's", pv)
			}
			if wv := data(w)["version"].(string); !strings.HasPrefix(wv, "3.16.0+rwkit.") {
				t.Errorf("version %q, want 3.16.0+rwkit.<rwkit's version>", wv)
			}
		}},
		{name: "runtimeinfo", path: "status/runtimeinfo", check: func(t *testing.T, p, w map[string]any) {
			for _, k := range []string{"reloadConfigSuccess", "corruptionCount", "storageRetention"} {
				if data(p)[k] != data(w)[k] {
					t.Errorf("%s: Prometheus %v, workspace %v", k, data(p)[k], data(w)[k])
				}
			}
		}},
		{name: "config", path: "status/config", check: func(t *testing.T, p, w map[string]any) {
			if y := data(w)["yaml"].(string); !strings.Contains(y, "max_exemplars: 100000") {
				t.Errorf("workspace config does not say its exemplar storage:\n%s", y)
			}
		}},
		{name: "flags", path: "status/flags", noShape: true, check: func(t *testing.T, p, w map[string]any) {
			// Deliberate: the workspace names only the flags its options
			// mean, each a flag Prometheus has.
			for k, v := range data(w) {
				if _, ok := v.(string); !ok {
					t.Errorf("flag %s: %v, want a string", k, v)
				}
				if _, ok := data(p)[k]; !ok {
					t.Errorf("flag %s: Prometheus 3 has no such flag", k)
				}
			}
			for _, k := range []string{"query.lookback-delta", "query.max-samples", "query.timeout", "storage.tsdb.retention.time"} {
				if data(p)[k] != data(w)[k] {
					t.Errorf("flag %s: Prometheus %v, workspace %v", k, data(p)[k], data(w)[k])
				}
			}
			// Deliberate: the store's default concurrency is 4, not 20
			// (a local workspace on a laptop).
			if data(p)["query.max-concurrency"] != "20" || data(w)["query.max-concurrency"] != "4" {
				t.Errorf("query.max-concurrency: Prometheus %v, workspace %v; want 20 and 4", data(p)["query.max-concurrency"], data(w)["query.max-concurrency"])
			}
		}},
		{name: "tsdb", path: "status/tsdb", check: func(t *testing.T, p, w map[string]any) {
			// Entries with the same count come in no fixed order.
			for _, d := range []map[string]any{data(p), data(w)} {
				for _, v := range d {
					if list, ok := v.([]any); ok {
						slices.SortFunc(list, func(a, b any) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
					}
				}
			}
			same(t, p, w)
		}},
		{name: "tsdb limit", path: "status/tsdb", params: url.Values{"limit": {"0"}}},
		{name: "rules", path: "rules"},
		{name: "rules alerts only", path: "rules", params: url.Values{"type": {"alert"}, "exclude_alerts": {"true"}}},
		{name: "rules bad type", path: "rules", params: url.Values{"type": {"x"}}},
		{name: "alerts", path: "alerts"},
		{name: "targets", path: "targets"},
		{name: "targets active", path: "targets", params: url.Values{"state": {"active"}}},
		{name: "targets dropped", path: "targets", params: url.Values{"state": {"Dropped"}}},
		{name: "targets/metadata", path: "targets/metadata"},
		{name: "format_query", path: "format_query", params: url.Values{"query": {`sum(rate(http_requests_total{code=~"5.."}[5m]))by(service)/ignoring(code)group_left sum(rate(http_requests_total[5m]))by(service)>0.1`}}},
		{name: "format_query POST", method: http.MethodPost, path: "format_query", params: url.Values{"query": {`up offset 5m @ 1700000000`}}},
		{name: "format_query bad", path: "format_query", params: url.Values{"query": {`sum(`}}},
		{name: "query_exemplars", path: "query_exemplars", params: url.Values{"query": {`rate(http_requests_total[5m])`},
			"start": {ts(t0)}, "end": {ts(t0.Add(time.Minute))}}, check: func(t *testing.T, p, w map[string]any) {
			for _, d := range []map[string]any{p, w} {
				if list, ok := d["data"].([]any); ok {
					slices.SortFunc(list, func(a, b any) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
				}
			}
			if list, _ := w["data"].([]any); len(list) != 2 {
				t.Errorf("workspace: %d series with exemplars, want 2", len(list))
			}
			same(t, p, w)
		}},
		{name: "query_exemplars no selector", path: "query_exemplars", params: url.Values{"query": {`1+1`}}},
		{name: "query_exemplars bad query", path: "query_exemplars", params: url.Values{"query": {`rate(`}}},
		{name: "query_exemplars bad start", path: "query_exemplars", params: url.Values{"query": {`up`}, "start": {"x"}}},
		{name: "query_exemplars end before start", path: "query_exemplars", params: url.Values{"query": {`up`}, "start": {"2"}, "end": {"1"}}},
		{name: "tsdb limit over", path: "status/tsdb", params: url.Values{"limit": {"10001"}}},
		{name: "tsdb limit 1", path: "status/tsdb", params: url.Values{"limit": {"1"}}, check: func(t *testing.T, p, w map[string]any) {
			// Shape only (which of two tied entries is kept is the TSDB's
			// choice); one entry per list.
			for k, v := range data(w) {
				if list, ok := v.([]any); ok && len(list) != 1 {
					t.Errorf("%s: %v, want one entry", k, list)
				}
			}
		}},
		{name: "rules group_limit 0", path: "rules", params: url.Values{"group_limit": {"0"}}},
		{name: "rules group_limit", path: "rules", params: url.Values{"group_limit": {"2"}}},
		{name: "rules token without limit", path: "rules", params: url.Values{"group_next_token": {"x"}}},
		{name: "rules bad match", path: "rules", params: url.Values{"match[]": {`{job=""}`}}},
		{name: "targets/metadata bad limit", path: "targets/metadata", params: url.Values{"limit": {"x"}}},
		{name: "targets/metadata bad match_target", path: "targets/metadata", params: url.Values{"match_target": {"{"}}},
		{name: "query stats=all", path: "query", params: url.Values{"query": {`http_requests_total`}, "time": {ts(t0.Add(30 * time.Second))}, "stats": {"all"}},
			check: sameBesideTimings},
		{name: "query_range stats=all", path: "query_range", params: withParam(rangeParams, "stats", "all"), check: sameBesideTimings},
		{name: "query_range stats=true", method: http.MethodPost, path: "query_range", params: withParam(rangeParams, "stats", "true"), check: sameBesideTimings},
		{name: "query stats other value", path: "query", params: url.Values{"query": {`up`}, "time": {ts(t0)}, "stats": {"1"}}, check: sameBesideTimings},
	}
	for _, b := range bases {
		for _, c := range calls {
			t.Run(b.name+"/"+c.name, func(t *testing.T) {
				pCode, pBody := apiCall(t, prom.QueryURL, nil, c.method, c.path, c.params)
				wCode, wBody := apiCall(t, b.url, b.header, c.method, c.path, c.params)
				if pCode != wCode {
					t.Errorf("status: Prometheus %d, workspace %d\nPrometheus: %s\nworkspace:  %s", pCode, wCode, pBody, wBody)
				}
				if pCode == http.StatusNoContent {
					if len(pBody) != 0 || len(wBody) != 0 {
						t.Errorf("204 with a body: Prometheus %q, workspace %q", pBody, wBody)
					}
					return
				}
				p, w := decode(t, pBody), decode(t, wBody)
				if p["status"] == "error" {
					if p["errorType"] != w["errorType"] || p["error"] != w["error"] {
						t.Errorf("error: Prometheus %s, workspace %s", pBody, wBody)
					}
					return
				}
				if !c.noShape {
					if diff := cmp.Diff(shape(p), shape(w)); diff != "" {
						t.Errorf("shape (-prometheus +workspace):\n%s\nPrometheus: %s\nworkspace:  %s", diff, pBody, wBody)
					}
				}
				if c.check != nil {
					c.check(t, p, w)
				} else {
					same(t, p, w)
				}
			})
		}
	}

	t.Run("POST to a GET-only call", func(t *testing.T) {
		pCode, _ := apiCall(t, prom.QueryURL, nil, http.MethodPost, "status/buildinfo", nil)
		wCode, _ := apiCall(t, ws.QueryURL, nil, http.MethodPost, "status/buildinfo", nil)
		if pCode != http.StatusMethodNotAllowed || wCode != pCode {
			t.Errorf("Prometheus %d, workspace %d; want 405", pCode, wCode)
		}
	})
}

// grafanaWrite is four series of two metrics, three samples each from t0
// at 15s, and an exemplar on each http_requests_total series.
func grafanaWrite(t0 time.Time) *wire.WriteRequest {
	req := &wire.WriteRequest{}
	for i, svc := range []string{"auth", "bff"} {
		code := []string{"200", "500"}[i]
		ms := t0.UnixMilli()
		req.Series = append(req.Series,
			wire.TimeSeries{
				Labels:    []wire.Label{{Name: "__name__", Value: "http_requests_total"}, {Name: "code", Value: code}, {Name: "service", Value: svc}},
				Samples:   []wire.Sample{{Value: 1, Timestamp: ms}, {Value: 5, Timestamp: ms + 15_000}, {Value: 12, Timestamp: ms + 30_000}},
				Exemplars: []wire.Exemplar{{Labels: []wire.Label{{Name: "trace_id", Value: "trace-" + svc}}, Value: 0.25, Timestamp: ms + 15_500}},
			},
			wire.TimeSeries{
				Labels:  []wire.Label{{Name: "__name__", Value: "up"}, {Name: "service", Value: svc}},
				Samples: []wire.Sample{{Value: 1, Timestamp: ms}, {Value: 1, Timestamp: ms + 15_000}, {Value: float64(i), Timestamp: ms + 30_000}},
			})
	}
	return req
}

// remoteWrite sends req as one RW 1.0 request and fails the test unless
// it is accepted.
func remoteWrite(t *testing.T, u string, header http.Header, req *wire.WriteRequest) {
	t.Helper()
	body := snappy.Encode(nil, wire.AppendWriteRequest(nil, req))
	r, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/x-protobuf")
	r.Header.Set("Content-Encoding", "snappy")
	r.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	for k, vs := range header {
		r.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("write to %s: %d %s", u, resp.StatusCode, b)
	}
}

// apiCall makes a call under an API base (the part before /api/v1/);
// POST sends params as a form.
func apiCall(t *testing.T, base string, header http.Header, method, path string, params url.Values) (int, []byte) {
	t.Helper()
	u := base + "/api/v1/" + path
	var r *http.Request
	var err error
	if method == http.MethodPost {
		r, err = http.NewRequest(method, u, strings.NewReader(params.Encode()))
		if err == nil {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	} else {
		if len(params) > 0 {
			u += "?" + params.Encode()
		}
		r, err = http.NewRequest(http.MethodGet, u, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		r.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	return m
}

func data(m map[string]any) map[string]any {
	d, _ := m["data"].(map[string]any)
	return d
}

func withParam(v url.Values, k, val string) url.Values {
	c := url.Values{}
	for kk, vv := range v {
		c[kk] = slices.Clone(vv)
	}
	c.Set(k, val)
	return c
}

// shape replaces every value by its JSON type, keeping keys and the shape
// of an array's first element.
func shape(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = shape(e)
		}
		return out
	case []any:
		if len(v) == 0 {
			return []any{}
		}
		return []any{shape(v[0])}
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// sameBesideTimings compares two query answers whole but for the stats'
// timings, which are durations of this run (their keys are compared by
// shape).
func sameBesideTimings(t *testing.T, p, w map[string]any) {
	t.Helper()
	for _, m := range []map[string]any{p, w} {
		if st, ok := data(m)["stats"].(map[string]any); ok {
			delete(st, "timings")
		} else {
			t.Errorf("no stats: %v", m)
		}
	}
	if diff := cmp.Diff(p, w); diff != "" {
		t.Errorf("(-prometheus +workspace):\n%s", diff)
	}
}

// Every API base reaches the same workspace's calls: the AMP path's id,
// or X-Scope-OrgID under /prometheus and the root ("default" without it).
func TestGrafanaCallsUnderEveryBase(t *testing.T) {
	ws := workspacetest.Start(t)
	remoteWrite(t, ws.WriteURL, nil, grafanaWrite(time.Now().Add(-time.Minute).Truncate(time.Second)))
	tenant := http.Header{"X-Scope-OrgID": {workspacetest.WorkspaceID}}
	for _, tc := range []struct {
		name, base string
		header     http.Header
		series     float64
	}{
		{"AMP", ws.QueryURL, nil, 4},
		{"Cortex", ws.URL + "/prometheus", tenant, 4},
		{"Prometheus", ws.URL, tenant, 4},
		{"Prometheus, default tenant", ws.URL, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := apiCall(t, tc.base, tc.header, http.MethodGet, "status/tsdb", nil)
			if code != http.StatusOK {
				t.Fatalf("%d %s", code, body)
			}
			hs, _ := data(decode(t, body))["headStats"].(map[string]any)
			if hs["numSeries"] != tc.series {
				t.Errorf("numSeries %v, want %v: %s", hs["numSeries"], tc.series, body)
			}
			for _, path := range []string{"status/buildinfo", "rules", "alerts", "targets", "status/flags"} {
				if code, body := apiCall(t, tc.base, tc.header, http.MethodGet, path, nil); code != http.StatusOK {
					t.Errorf("%s: %d %s", path, code, body)
				}
			}
		})
	}
}
