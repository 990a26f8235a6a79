package store

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rwkit/rwkit/wire"
)

// apiStore holds, in tenant ws-1: up{service="auth"} 1,2,3 at base+0/15/30s,
// up{service="bff"} 0 at base, a native histogram rpc_seconds at base and
// metadata for up.
func apiStore(t testing.TB) *Store {
	t.Helper()
	s, _ := openStore(t, Options{Now: func() time.Time { return time.UnixMilli(base + 30_000) }})
	a := tenant(t, s, "ws-1").Appender(context.Background())
	for i := range 3 {
		if err := a.Append(series("up", "service", "auth"), base+int64(i)*15_000, float64(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Append(series("up", "service", "bff"), base, 0); err != nil {
		t.Fatal(err)
	}
	h := &wire.Histogram{
		CountInt: 4, Sum: 3.5, ZeroThreshold: 0.001, ZeroCountInt: 1,
		PositiveSpans: []wire.BucketSpan{{Offset: 0, Length: 2}}, PositiveDeltas: []int64{1, 1},
		Timestamp: base,
	}
	if err := a.AppendHistogram(series("rpc_seconds"), h); err != nil {
		t.Fatal(err)
	}
	if err := a.UpdateMetadata(series("up"), wire.Metadata{Type: wire.MetricTypeGauge, Help: "Up."}); err != nil {
		t.Fatal(err)
	}
	commit(t, a)
	return s
}

type apiCase struct {
	name   string
	method string // GET when empty; POST sends params as a form
	path   string // under /workspaces/ws-1/api/v1/ unless it starts with "/"
	params url.Values
	header http.Header
	code   int
	want   string // JSON, compared decoded; for errors only errorType and a prefix of error are checked
	errPre string
}

// baseSec is base in the API's seconds.
const baseSec = "1704067200"

func TestAPIHandler(t *testing.T) {
	s := apiStore(t)
	h := s.APIHandler(nil)
	for _, tc := range []apiCase{
		{
			name: "instant vector", path: "query", params: url.Values{"query": {"up"}, "time": {"1704067230"}},
			want: `{"status":"success","data":{"resultType":"vector","result":[
				{"metric":{"__name__":"up","service":"auth"},"value":[1704067230,"3"]},
				{"metric":{"__name__":"up","service":"bff"},"value":[1704067230,"0"]}]}}`,
		},
		{
			name: "time defaults to now", path: "query", params: url.Values{"query": {`up{service="auth"}`}},
			want: `{"status":"success","data":{"resultType":"vector","result":[
				{"metric":{"__name__":"up","service":"auth"},"value":[1704067230,"3"]}]}}`,
		},
		{
			name: "RFC3339 time and POST form", method: http.MethodPost, path: "query",
			params: url.Values{"query": {`sum(up) / 0`}, "time": {"2024-01-01T00:00:15.5Z"}},
			want: `{"status":"success","data":{"resultType":"vector","result":[
				{"metric":{},"value":[1704067215.5,"+Inf"]}]}}`,
		},
		{
			name: "scalar", path: "query", params: url.Values{"query": {"0/0"}, "time": {baseSec}},
			want: `{"status":"success","data":{"resultType":"scalar","result":[1704067200,"NaN"]}}`,
		},
		{
			name: "string", path: "query", params: url.Values{"query": {`"a\"b"`}, "time": {baseSec}},
			want: `{"status":"success","data":{"resultType":"string","result":[1704067200,"a\"b"]}}`,
		},
		{
			name: "small and large values", path: "query", params: url.Values{"query": {`vector(1e-7) or label_replace(vector(1e21), "x", "y", "", "")`}, "time": {baseSec}},
			want: `{"status":"success","data":{"resultType":"vector","result":[
				{"metric":{},"value":[1704067200,"1e-07"]},{"metric":{"x":"y"},"value":[1704067200,"1e+21"]}]}}`,
		},
		{
			name: "native histogram", path: "query", params: url.Values{"query": {"rpc_seconds"}, "time": {baseSec}},
			want: `{"status":"success","data":{"resultType":"vector","result":[
				{"metric":{"__name__":"rpc_seconds"},"histogram":[1704067200,{"count":"4","sum":"3.5","buckets":[
					[3,"-0.001","0.001","1"],[0,"0.5","1","1"],[0,"1","2","2"]]}]}]}}`,
		},
		{
			name: "limit truncates with a warning", path: "query", params: url.Values{"query": {"up"}, "time": {"1704067230"}, "limit": {"1"}},
			want: `{"status":"success","data":{"resultType":"vector","result":[
				{"metric":{"__name__":"up","service":"auth"},"value":[1704067230,"3"]}]},
				"warnings":["results truncated due to limit"]}`,
		},
		{
			name: "range", path: "query_range",
			params: url.Values{"query": {"up"}, "start": {baseSec}, "end": {"1704067230"}, "step": {"15s"}},
			want: `{"status":"success","data":{"resultType":"matrix","result":[
				{"metric":{"__name__":"up","service":"auth"},"values":[[1704067200,"1"],[1704067215,"2"],[1704067230,"3"]]},
				{"metric":{"__name__":"up","service":"bff"},"values":[[1704067200,"0"],[1704067215,"0"],[1704067230,"0"]]}]}}`,
		},
		{
			name: "range of a histogram", path: "query_range",
			params: url.Values{"query": {"rpc_seconds"}, "start": {baseSec}, "end": {"1704067200.5"}, "step": {"0.5"}},
			want: `{"status":"success","data":{"resultType":"matrix","result":[
				{"metric":{"__name__":"rpc_seconds"},"histograms":[
					[1704067200,{"count":"4","sum":"3.5","buckets":[[3,"-0.001","0.001","1"],[0,"0.5","1","1"],[0,"1","2","2"]]}],
					[1704067200.5,{"count":"4","sum":"3.5","buckets":[[3,"-0.001","0.001","1"],[0,"0.5","1","1"],[0,"1","2","2"]]}]]}]}}`,
		},
		{
			name: "series", path: "series", params: url.Values{"match[]": {"up", `{service="auth"}`}},
			want: `{"status":"success","data":[{"__name__":"up","service":"auth"},{"__name__":"up","service":"bff"}]}`,
		},
		{
			name: "series in a time range", path: "series", params: url.Values{"match[]": {"up"}, "start": {"1704067210"}, "end": {"1704067300"}},
			want: `{"status":"success","data":[{"__name__":"up","service":"auth"}]}`,
		},
		{
			name: "labels", path: "labels",
			want: `{"status":"success","data":["__name__","service"]}`,
		},
		{
			name: "labels with match", path: "labels", params: url.Values{"match[]": {"rpc_seconds"}},
			want: `{"status":"success","data":["__name__"]}`,
		},
		{
			name: "label values", path: "label/service/values",
			want: `{"status":"success","data":["auth","bff"]}`,
		},
		{
			name: "metric names", path: "label/__name__/values",
			want: `{"status":"success","data":["rpc_seconds","up"]}`,
		},
		{
			name: "metric names with match", path: "label/__name__/values", params: url.Values{"match[]": {`{service="bff"}`}},
			want: `{"status":"success","data":["up"]}`,
		},
		{
			name: "metadata", path: "metadata",
			want: `{"status":"success","data":{"up":[{"type":"gauge","help":"Up.","unit":""}]}}`,
		},
		{
			name: "metadata of an unknown metric", path: "metadata", params: url.Values{"metric": {"nope"}},
			want: `{"status":"success","data":{}}`,
		},
		{
			name: "Cortex path with X-Scope-OrgID", path: "/prometheus/api/v1/label/service/values",
			header: http.Header{"X-Scope-Orgid": {"ws-1"}},
			want:   `{"status":"success","data":["auth","bff"]}`,
		},
		{
			name: "tenant never written", path: "/workspaces/ws-new/api/v1/query", params: url.Values{"query": {"up"}},
			want: `{"status":"success","data":{"resultType":"vector","result":[]}}`,
		},
		{
			name: "tenant never written, series", path: "/workspaces/ws-new/api/v1/series", params: url.Values{"match[]": {"up"}},
			want: `{"status":"success","data":[]}`,
		},

		// Errors.
		{
			name: "bad expression", path: "query", params: url.Values{"query": {"up{"}},
			code: 400, want: "bad_data", errPre: `invalid parameter "query": 1:4: parse error`,
		},
		{
			name: "empty query", path: "query",
			code: 400, want: "bad_data", errPre: `invalid parameter "query": `,
		},
		{
			name: "bad time", path: "query", params: url.Values{"query": {"up"}, "time": {"yesterday"}},
			code: 400, want: "bad_data", errPre: `invalid parameter "time": invalid time value for 'time': cannot parse "yesterday" to a valid timestamp`,
		},
		{
			name: "range over 11000 points", path: "query_range",
			params: url.Values{"query": {"up"}, "start": {"0"}, "end": {"11001"}, "step": {"1"}},
			code:   400, want: "bad_data", errPre: "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
		},
		{
			name: "zero step", path: "query_range", params: url.Values{"query": {"up"}, "start": {"0"}, "end": {"1"}, "step": {"0"}},
			code: 400, want: "bad_data", errPre: `invalid parameter "step": zero or negative query resolution step widths are not accepted`,
		},
		{
			name: "end before start", path: "query_range", params: url.Values{"query": {"up"}, "start": {"2"}, "end": {"1"}, "step": {"1"}},
			code: 400, want: "bad_data", errPre: `invalid parameter "end": end timestamp must not be before start time`,
		},
		{
			name: "missing start", path: "query_range", params: url.Values{"query": {"up"}, "end": {"1"}, "step": {"1"}},
			code: 400, want: "bad_data", errPre: `invalid parameter "start": cannot parse "" to a valid timestamp`,
		},
		{
			name: "bad limit", path: "query", params: url.Values{"query": {"up"}, "limit": {"-1"}},
			code: 400, want: "bad_data", errPre: `invalid parameter "limit": limit must be non-negative`,
		},
		{
			name: "bad timeout", path: "query", params: url.Values{"query": {"up"}, "timeout": {"soon"}},
			code: 400, want: "bad_data", errPre: `invalid parameter "timeout": cannot parse "soon" to a valid duration`,
		},
		{
			name: "timeout", path: "query", params: url.Values{"query": {"up"}, "timeout": {"0.000000001"}},
			code: 503, want: "timeout", errPre: "query timed out",
		},
		{
			name: "execution error", path: "query", params: url.Values{"query": {`label_replace(up, "service", "x", "", "")`}, "time": {baseSec}},
			code: 422, want: "execution", errPre: "vector cannot contain metrics with the same labelset",
		},
		{
			name: "series without match", path: "series",
			code: 400, want: "bad_data", errPre: "no match[] parameter provided",
		},
		{
			name: "series with only empty matchers", path: "series", params: url.Values{"match[]": {`{foo=""}`}},
			code: 400, want: "bad_data", errPre: `invalid parameter "match[]": match[] must contain at least one non-empty matcher`,
		},
		{
			name: "bad label name", path: "label/%ff/values",
			code: 400, want: "bad_data", errPre: `invalid label name: "\xff"`,
		},
		{
			name: "bad metadata limit", path: "metadata", params: url.Values{"limit": {"x"}},
			code: 400, want: "bad_data", errPre: "limit must be a number",
		},
		{
			name: "unknown endpoint", path: "status/tsdb/blocks",
			code: 404, want: "not_found", errPre: `unknown endpoint "status/tsdb/blocks"`,
		},
		{
			name: "bad tenant", path: "/workspaces/a..b/api/v1/query", params: url.Values{"query": {"up"}},
			code: 400, want: "bad_data", errPre: `tenant id "a..b" must not be`,
		},
		{
			name: "method", method: http.MethodDelete, path: "query",
			code: 405, want: "bad_data", errPre: "method DELETE not allowed",
		},
	} {
		t.Run(tc.name, func(t *testing.T) { checkCase(t, h, tc) })
	}
	if _, err := os.Stat(filepath.Join(s.dir, "ws-new")); err == nil {
		t.Error("a query created the directory of a tenant never written")
	}
}

func serve(t testing.TB, h http.Handler, tc apiCase) (int, []byte) {
	t.Helper()
	path := tc.path
	if !strings.HasPrefix(path, "/") {
		path = "/workspaces/ws-1/api/v1/" + path
	}
	var req *http.Request
	if tc.method == http.MethodPost {
		req = httptest.NewRequest(http.MethodPost, path, strings.NewReader(tc.params.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		method := tc.method
		if method == "" {
			method = http.MethodGet
		}
		target := path
		if len(tc.params) > 0 {
			target += "?" + tc.params.Encode()
		}
		req = httptest.NewRequest(method, target, nil)
	}
	for k, vs := range tc.header {
		req.Header[k] = vs
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" && rec.Code != http.StatusNoContent {
		t.Errorf("Content-Type %q", ct)
	}
	return rec.Code, rec.Body.Bytes()
}

// A custom tenant resolver and a handler mounted behind StripPrefix.
func TestAPIHandlerTenantFunc(t *testing.T) {
	s := apiStore(t)
	h := http.StripPrefix("/x", s.APIHandler(func(r *http.Request) (string, error) { return r.Header.Get("Tenant"), nil }))
	code, body := serve(t, h, apiCase{path: "/x/label/service/values", header: http.Header{"Tenant": {"ws-1"}}})
	if code != 200 || !strings.Contains(string(body), `["auth","bff"]`) {
		t.Errorf("%d %s", code, body)
	}
}

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", "quote\" back\\ nl\n tab\t cr\r", "\x00\x1f\x7f", "<a&b>", "ü€😀", "bad\xffutf8", "\u2028\u2029"} {
		got := appendString(nil, s)
		want, _ := json.Marshal(s)
		if string(got) != string(want) {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
	}
}

func TestAppendTimestamp(t *testing.T) {
	for ms, want := range map[int64]string{0: "0", 1500: "1.500", 1001: "1.001", 1010: "1.010", -1500: "-1.500", base: "1704067200"} {
		if got := string(appendTimestamp(nil, ms)); got != want {
			t.Errorf("appendTimestamp(%d) = %s, want %s", ms, got, want)
		}
	}
}

// FuzzAPIHandler: no input panics, every answer is JSON, and a 5xx always
// names its errorType.
func FuzzAPIHandler(f *testing.F) {
	for _, seed := range []string{
		"up", "up{", "rate(up[5m])", "sum by (service) (up)", "histogram_quantile(0.9, rpc_seconds)",
		`{__name__=~".+"}`, "1/0", `"s"`, "up @ start()", "up offset -1m", "up[1m:1s]", "",
		`label_replace(up, "a", "$1", "service", "(.*)")`, "\xff", "count_values(\"v\", up)", "1+1",
	} {
		f.Add(seed, "1704067230", "15")
	}
	s := apiStore(f)
	h := s.APIHandler(nil)
	f.Fuzz(func(t *testing.T, q, ts, step string) {
		for _, tc := range []apiCase{
			{path: "query", params: url.Values{"query": {q}, "time": {ts}, "timeout": {"5s"}}},
			{path: "query_range", params: url.Values{"query": {q}, "start": {baseSec}, "end": {ts}, "step": {step}, "timeout": {"5s"}}},
			{path: "series", params: url.Values{"match[]": {q}, "start": {ts}}},
			{path: "labels", params: url.Values{"match[]": {q}}},
			{path: "label/" + url.PathEscape(q) + "/values", params: url.Values{"end": {ts}}},
			{path: "query", params: url.Values{"query": {q}, "time": {ts}, "stats": {step}, "timeout": {"5s"}}},
			{path: "format_query", params: url.Values{"query": {q}}},
			{path: "query_exemplars", params: url.Values{"query": {q}, "start": {ts}}},
			{path: "status/tsdb", params: url.Values{"limit": {step}}},
			{path: "rules", params: url.Values{"match[]": {q}, "type": {step}, "group_limit": {ts}}},
			{path: "targets/metadata", params: url.Values{"match_target": {q}, "limit": {step}}},
		} {
			code, body := serve(t, h, tc)
			if code == http.StatusNoContent {
				if len(body) != 0 {
					t.Fatalf("%s %v: 204 with a body: %s", tc.path, tc.params, body)
				}
				continue
			}
			var got struct {
				Status    string `json:"status"`
				ErrorType string `json:"errorType"`
			}
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("%s %v: body is not JSON: %v\n%s", tc.path, tc.params, err, body)
			}
			if code >= 500 && (got.ErrorType == "" || got.ErrorType == "internal") {
				t.Fatalf("%s %v: %d %s", tc.path, tc.params, code, body)
			}
		}
	})
}
