package store

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rwkit/rwkit/wire"
)

// The calls Grafana makes besides queries, on apiStore's tenant ws-1.
func TestAPIGrafanaCalls(t *testing.T) {
	s := apiStore(t)
	h := s.APIHandler(nil)
	emptyTSDB := `{"status":"success","data":{"headStats":{"numSeries":0,"numLabelPairs":0,"chunkCount":0,
		"minTime":9223372036854775807,"maxTime":-9223372036854775808},"seriesCountByMetricName":[],
		"labelValueCountByLabelName":[],"memoryInBytesByLabelName":[],"seriesCountByLabelValuePair":[]}}`
	for _, tc := range []apiCase{
		{
			name: "tsdb", path: "status/tsdb",
			want: `{"status":"success","data":{
				"headStats":{"numSeries":3,"numLabelPairs":4,"chunkCount":3,"minTime":1704067200000,"maxTime":1704067230000},
				"seriesCountByMetricName":[{"name":"up","value":2},{"name":"rpc_seconds","value":1}],
				"labelValueCountByLabelName":[{"name":"__name__","value":2},{"name":"service","value":2}],
				"memoryInBytesByLabelName":[{"name":"__name__","value":45},{"name":"service","value":25}],
				"seriesCountByLabelValuePair":[{"name":"__name__=up","value":2},{"name":"__name__=rpc_seconds","value":1},
					{"name":"service=auth","value":1},{"name":"service=bff","value":1}]}}`,
		},
		{name: "tsdb of a tenant never written", path: "/workspaces/ws-new/api/v1/status/tsdb", want: emptyTSDB},
		{name: "tsdb of another base", path: "/prometheus/api/v1/status/tsdb", want: emptyTSDB}, // tenant "default"
		{name: "tsdb limit 0", path: "status/tsdb", params: url.Values{"limit": {"0"}}, code: 400, want: "bad_data", errPre: "limit must be a positive number"},
		{name: "tsdb limit over", path: "status/tsdb", params: url.Values{"limit": {"10001"}}, code: 400, want: "bad_data", errPre: "limit must not exceed 10000"},
		{name: "POST to a GET-only call", method: http.MethodPost, path: "status/tsdb", code: 405, want: "bad_data", errPre: "method POST not allowed"},
		{
			name: "format_query", path: "format_query", params: url.Values{"query": {"sum(rate(up[5m]))by(service)"}},
			want: `{"status":"success","data":"sum by (service) (rate(up[5m]))"}`,
		},
		{
			name: "format_query POST", method: http.MethodPost, path: "format_query", params: url.Values{"query": {"up>1"}},
			want: `{"status":"success","data":"up > 1"}`,
		},
		{name: "format_query bad", path: "format_query", params: url.Values{"query": {"sum("}}, code: 400, want: "bad_data", errPre: `invalid parameter "query": 1:5: parse error`},
		{name: "rules", path: "rules", want: `{"status":"success","data":{"groups":[]}}`},
		{name: "rules type", path: "rules", params: url.Values{"type": {"alert"}}, want: `{"status":"success","data":{"groups":[]}}`},
		{name: "rules bad type", path: "rules", params: url.Values{"type": {"x"}}, code: 400, want: "bad_data", errPre: `invalid parameter "type": not supported value "x"`},
		{name: "rules bad match", path: "rules", params: url.Values{"match[]": {"{"}}, code: 400, want: "bad_data", errPre: "1:2: parse error"},
		{name: "rules token", path: "rules", params: url.Values{"group_limit": {"1"}, "group_next_token": {"abc"}}, code: 400, want: "bad_data", errPre: `invalid parameter "group_next_token": invalid group_next_token 'abc'`},
		{name: "alerts", path: "alerts", want: `{"status":"success","data":{"alerts":[]}}`},
		{name: "targets", path: "targets", want: `{"status":"success","data":{"activeTargets":[],"droppedTargets":[],"droppedTargetCounts":{}}}`},
		{name: "targets active", path: "targets", params: url.Values{"state": {"active"}}, want: `{"status":"success","data":{"activeTargets":[],"droppedTargets":[],"droppedTargetCounts":null}}`},
		{name: "targets/metadata", path: "targets/metadata", want: `{"status":"success","data":[]}`},
		{name: "targets/metadata bad limit", path: "targets/metadata", params: url.Values{"limit": {"x"}}, code: 400, want: "bad_data", errPre: "limit must be a number"},
		{
			name: "config", path: "status/config",
			want: `{"status":"success","data":{"yaml":"# rwkit workspace: samples arrive by remote write; nothing is scraped and no rules are evaluated.\nstorage:\n  tsdb:\n    out_of_order_time_window: 0s\n  exemplars:\n    max_exemplars: 0\n"}}`,
		},
		{
			name: "flags", path: "status/flags",
			want: `{"status":"success","data":{"query.lookback-delta":"5m","query.max-concurrency":"4","query.max-samples":"50000000",
				"query.timeout":"2m","storage.tsdb.path":` + jsonString(s.dir) + `,"storage.tsdb.retention.time":"15d","web.enable-remote-write-receiver":"true"}}`,
		},
		{name: "exemplars, none kept", path: "query_exemplars", params: url.Values{"query": {"up"}}, want: `{"status":"success","data":[]}`},
		{name: "exemplars, bad range", path: "query_exemplars", params: url.Values{"query": {"up"}, "start": {"2"}, "end": {"1"}}, code: 400, want: "bad_data", errPre: "end timestamp must not be before start timestamp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkCase(t, h, tc)
		})
	}
	t.Run("exemplars, no selector", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodGet, "/workspaces/ws-1/api/v1/query_exemplars?query=1%2B1", nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusNoContent || rec.Body.Len() != 0 {
			t.Errorf("%d %q, want 204 and no body, as Prometheus", rec.Code, rec.Body)
		}
	})
	t.Run("tsdb limit", func(t *testing.T) {
		// Which of two tied entries the TSDB keeps is its choice.
		_, body := serve(t, h, apiCase{path: "status/tsdb", params: url.Values{"limit": {"1"}}})
		var got struct {
			Data map[string]json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		for k, want := range map[string]string{
			"seriesCountByMetricName":     `^\[\{"name":"up","value":2\}\]$`,
			"memoryInBytesByLabelName":    `^\[\{"name":"__name__","value":45\}\]$`,
			"seriesCountByLabelValuePair": `^\[\{"name":"__name__=up","value":2\}\]$`,
			"labelValueCountByLabelName":  `^\[\{"name":"(__name__|service)","value":2\}\]$`,
		} {
			if !regexp.MustCompile(want).Match(got.Data[k]) {
				t.Errorf("%s: %s, want %s", k, got.Data[k], want)
			}
		}
	})
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// checkCase serves tc and compares the answer with tc's status and JSON,
// or with its error type and the start of its error text.
func checkCase(t *testing.T, h http.Handler, tc apiCase) {
	t.Helper()
	code, body := serve(t, h, tc)
	wantCode := tc.code
	if wantCode == 0 {
		wantCode = http.StatusOK
	}
	if code != wantCode {
		t.Errorf("status %d, want %d; body %s", code, wantCode, body)
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, body)
	}
	if tc.errPre != "" {
		if got["status"] != "error" || got["errorType"] != tc.want || !strings.HasPrefix(got["error"].(string), tc.errPre) {
			t.Errorf("got %s\nwant errorType %q and error starting %q", body, tc.want, tc.errPre)
		}
		return
	}
	var want map[string]any
	if err := json.Unmarshal([]byte(tc.want), &want); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s\nbody: %s", diff, body)
	}
}

// semver is semver.org's regular expression (the one it suggests).
var semver = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

func TestBuildInfo(t *testing.T) {
	s := apiStore(t)
	_, body := serve(t, s.APIHandler(nil), apiCase{path: "/api/v1/status/buildinfo"})
	var got struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	keys := []string{"branch", "buildDate", "buildUser", "goVersion", "revision", "version"}
	for _, k := range keys {
		if _, ok := got.Data[k].(string); !ok {
			t.Errorf("%s: %v, want a string", k, got.Data[k])
		}
	}
	if len(got.Data) != len(keys) {
		t.Errorf("keys %v, want %v", got.Data, keys)
	}
	v, _ := got.Data["version"].(string)
	if !strings.HasPrefix(v, prometheusRelease+"+rwkit.") || !semver.MatchString(v) {
		t.Errorf("version %q: want semver %s+rwkit.<rwkit's version>", v, prometheusRelease)
	}
	for in, want := range map[string]string{"v0.3.1": "v0.3.1", "v0.3.1+dirty": "v0.3.1.dirty", "devel": "devel",
		"v0.0.0-20260101000000-abcdef012345+dirty": "v0.0.0-20260101000000-abcdef012345.dirty", "a_b": "a.b"} {
		if got := semverBuildMetadata(in); got != want || !semver.MatchString("3.16.0+"+got) {
			t.Errorf("semverBuildMetadata(%q) = %q, want %q", in, got, want)
		}
	}
}

// prometheusRelease follows go.mod's prometheus/prometheus: v0.3MM.P is
// release 3.MM.P.
func TestPrometheusReleaseMatchesGoMod(t *testing.T) {
	b, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*github\.com/prometheus/prometheus v0\.3(\d\d)\.(\d+)\s*$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("go.mod requires no github.com/prometheus/prometheus v0.3MM.P")
	}
	want := "3." + strings.TrimLeft(string(m[1]), "0") + "." + string(m[2])
	if string(m[1]) == "00" {
		want = "3.0." + string(m[2])
	}
	if prometheusRelease != want {
		t.Errorf("prometheusRelease %q, go.mod's prometheus/prometheus is release %s", prometheusRelease, want)
	}
}

func TestRuntimeInfo(t *testing.T) {
	s := apiStore(t) // opened at base+30s
	_, body := serve(t, s.APIHandler(nil), apiCase{path: "status/runtimeinfo"})
	var got struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	cwd, _ := os.Getwd()
	for k, want := range map[string]any{
		"startTime": "2024-01-01T00:00:30Z", "lastConfigTime": "2024-01-01T00:00:30Z", "serverTime": "2024-01-01T00:00:30Z",
		"hostname": host, "CWD": cwd, "reloadConfigSuccess": true, "corruptionCount": 0.0, "storageRetention": "15d",
		"GOGC": os.Getenv("GOGC"), "GODEBUG": os.Getenv("GODEBUG"),
	} {
		if got.Data[k] != want {
			t.Errorf("%s: %v, want %v", k, got.Data[k], want)
		}
	}
	for _, k := range []string{"goroutineCount", "GOMAXPROCS", "GOMEMLIMIT"} {
		if n, ok := got.Data[k].(float64); !ok || n <= 0 {
			t.Errorf("%s: %v, want a positive number", k, got.Data[k])
		}
	}
	if len(got.Data) != 13 {
		t.Errorf("%d keys, want Prometheus's 13: %v", len(got.Data), got.Data)
	}
}

// Exemplars written to a tenant come back from query_exemplars, under
// every API base.
func TestQueryExemplars(t *testing.T) {
	s, _ := openStore(t, Options{MaxExemplars: 100})
	a := tenant(t, s, "ws-1").Appender(context.Background())
	for i, svc := range []string{"auth", "bff"} {
		ls := series("requests_total", "service", svc)
		if err := a.Append(ls, base, 1); err != nil {
			t.Fatal(err)
		}
		e := &wire.Exemplar{Labels: []wire.Label{{Name: "trace_id", Value: svc}}, Value: float64(i) + 0.5, Timestamp: base + 1500}
		if err := a.AppendExemplar(ls, e); err != nil {
			t.Fatal(err)
		}
	}
	commit(t, a)
	h := s.APIHandler(nil)
	want := `{"status":"success","data":[{"seriesLabels":{"__name__":"requests_total","service":"auth"},
		"exemplars":[{"labels":{"trace_id":"auth"},"value":"0.5","timestamp":1704067201.5}]}]}`
	for _, tc := range []apiCase{
		{name: "AMP", path: "query_exemplars", params: url.Values{"query": {`sum(rate(requests_total{service="auth"}[5m]))`}}, want: want},
		{name: "Cortex", path: "/prometheus/api/v1/query_exemplars", header: http.Header{"X-Scope-Orgid": {"ws-1"}},
			params: url.Values{"query": {`requests_total{service="auth"}`}, "start": {baseSec}, "end": {"1704067202"}}, want: want},
		{name: "outside the range", path: "query_exemplars", params: url.Values{"query": {`requests_total`}, "end": {"1704067201"}}, want: `{"status":"success","data":[]}`},
		{name: "POST", method: http.MethodPost, path: "query_exemplars", params: url.Values{"query": {`requests_total{service="auth"}`}}, want: want},
	} {
		t.Run(tc.name, func(t *testing.T) { checkCase(t, h, tc) })
	}
}

// stats adds the engine's statistics to query and query_range; "all" adds
// the per-step counts.
func TestQueryStats(t *testing.T) {
	s := apiStore(t)
	h := s.APIHandler(nil)
	rangeParams := func(stats string) url.Values {
		v := url.Values{"query": {`up{service="auth"}`}, "start": {baseSec}, "end": {"1704067230"}, "step": {"15"}}
		if stats != "" {
			v.Set("stats", stats)
		}
		return v
	}
	for _, tc := range []struct {
		name, path string
		params     url.Values
		samples    map[string]any // the samples object, without timings
		warning    bool
	}{
		{name: "no stats", path: "query_range", params: rangeParams("")},
		{name: "true", path: "query_range", params: rangeParams("true"), samples: map[string]any{
			"totalQueryableSamples": 3.0, "samplesRead": 3.0, "seriesTouched": 1.0, "peakSamples": 3.0}},
		{name: "all", path: "query_range", params: rangeParams("all"), samples: map[string]any{
			"totalQueryableSamples": 3.0, "samplesRead": 3.0, "seriesTouched": 1.0, "peakSamples": 3.0,
			"totalQueryableSamplesPerStep": []any{[]any{1704067200.0, 1.0}, []any{1704067215.0, 1.0}, []any{1704067230.0, 1.0}},
			"samplesReadPerStep":           []any{[]any{1704067200.0, 1.0}, []any{1704067215.0, 1.0}, []any{1704067230.0, 1.0}}}},
		{name: "instant all", path: "query", params: url.Values{"query": {`up{service="auth"}`}, "stats": {"all"}}, samples: map[string]any{
			"totalQueryableSamples": 1.0, "samplesRead": 1.0, "seriesTouched": 1.0, "peakSamples": 1.0,
			"totalQueryableSamplesPerStep": []any{[]any{1704067230.0, 1.0}},
			"samplesReadPerStep":           []any{[]any{1704067230.0, 1.0}}}},
		{name: "other value", path: "query", params: url.Values{"query": {`up{service="auth"}`}, "stats": {"yes"}}, warning: true, samples: map[string]any{
			"totalQueryableSamples": 1.0, "samplesRead": 1.0, "seriesTouched": 1.0, "peakSamples": 1.0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := serve(t, h, apiCase{path: tc.path, params: tc.params})
			if code != 200 {
				t.Fatalf("status %d: %s", code, body)
			}
			var got struct {
				Data struct {
					Stats *struct {
						Timings map[string]float64 `json:"timings"`
						Samples map[string]any     `json:"samples"`
					} `json:"stats"`
				} `json:"data"`
				Warnings []string `json:"warnings"`
			}
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if (len(got.Warnings) > 0) != tc.warning {
				t.Errorf("warnings %q, want one: %v", got.Warnings, tc.warning)
			}
			if tc.samples == nil {
				if got.Data.Stats != nil {
					t.Errorf("stats without the parameter: %s", body)
				}
				return
			}
			if got.Data.Stats == nil {
				t.Fatalf("no stats: %s", body)
			}
			if diff := cmp.Diff(tc.samples, got.Data.Stats.Samples); diff != "" {
				t.Errorf("samples (-want +got):\n%s", diff)
			}
			var timings []string
			for k := range got.Data.Stats.Timings {
				timings = append(timings, k)
			}
			if len(timings) != 6 || got.Data.Stats.Timings["execTotalTime"] <= 0 {
				t.Errorf("timings %v, want Prometheus's six, execTotalTime > 0", got.Data.Stats.Timings)
			}
		})
	}
}
