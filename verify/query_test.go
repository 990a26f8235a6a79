package verify

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/google/go-cmp/cmp"

	"github.com/rwkit/rwkit/remotewrite/sigv4"
)

func TestQueryEndpoint(t *testing.T) {
	for _, tc := range []struct{ base, want string }{
		{"http://127.0.0.1:9090", "http://127.0.0.1:9090/api/v1/query"},
		{"http://127.0.0.1:9090/", "http://127.0.0.1:9090/api/v1/query"},
		{"http://cortex:9009/prometheus", "http://cortex:9009/prometheus/api/v1/query"},
		{"https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-1", "https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-1/api/v1/query"},
		{"https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-1/api/v1/query", "https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-1/api/v1/query"},
	} {
		got, err := QueryEndpoint(tc.base)
		if err != nil || got != tc.want {
			t.Errorf("QueryEndpoint(%q) = %q, %v; want %q", tc.base, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "127.0.0.1:9090", "ftp://h/x", "http://"} {
		if _, err := QueryEndpoint(bad); err == nil {
			t.Errorf("QueryEndpoint(%q): no error", bad)
		}
	}
}

// apiServer answers every query with status and body, and records the
// request's form and headers.
func apiServer(t *testing.T, status int, body string) (*httptest.Server, *http.Request, *url.Values) {
	t.Helper()
	var got http.Request
	var form url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Errorf("parse form: %v", err)
		}
		got = *r.Clone(context.Background())
		form = r.Form
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &got, &form
}

func TestQueryVector(t *testing.T) {
	srv, req, form := apiServer(t, 200, `{"status":"success","data":{"resultType":"vector","result":[
		{"metric":{"service":"b"},"value":[1700000000.5,"2"]},
		{"metric":{"service":"a"},"value":[1700000000.5,"NaN"]},
		{"metric":{"__name__":"up","service":"c"},"value":[1700000000.5,"+Inf"]}]},
		"warnings":["partial"]}`)
	at := time.UnixMilli(1700000000500)
	res, err := Query(context.Background(), srv.Client(), srv.URL+"/prometheus/", `count by (service) (up)`, at, http.Header{"X-Scope-Orgid": {"team-a"}})
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != http.MethodPost || req.URL.Path != "/prometheus/api/v1/query" {
		t.Errorf("request %s %s, want POST /prometheus/api/v1/query", req.Method, req.URL.Path)
	}
	if got := req.Header.Get("X-Scope-OrgID"); got != "team-a" {
		t.Errorf("X-Scope-OrgID = %q", got)
	}
	if got := req.Header.Get("Content-Type"); got != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type = %q", got)
	}
	if form.Get("query") != `count by (service) (up)` || form.Get("time") != "1700000000.500" {
		t.Errorf("form = %v", *form)
	}
	if res.Type != TypeVector || len(res.Samples) != 3 || cmp.Diff([]string{"partial"}, res.Warnings) != "" {
		t.Fatalf("result = %+v", res)
	}
	var names []string
	for _, s := range res.Samples {
		names = append(names, LabelString(s.Labels))
	}
	if diff := cmp.Diff([]string{`up{service="c"}`, `{service="a"}`, `{service="b"}`}, names); diff != "" {
		t.Errorf("series order (-want +got):\n%s", diff)
	}
	if !res.Samples[2].Timestamp.Equal(at) || res.Samples[2].Value != 2 {
		t.Errorf("sample = %+v", res.Samples[2])
	}
}

func TestQueryScalarAndZeroTime(t *testing.T) {
	srv, _, form := apiServer(t, 200, `{"status":"success","data":{"resultType":"scalar","result":[1700000000,"6"]}}`)
	res, err := Query(context.Background(), nil, srv.URL, `scalar(count(up))`, time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := (*form)["time"]; ok {
		t.Errorf("zero time sent a time parameter: %v", *form)
	}
	if res.Type != TypeScalar || len(res.Samples) != 1 || res.Samples[0].Value != 6 || len(res.Samples[0].Labels) != 0 {
		t.Errorf("result = %+v", res)
	}
}

func TestQueryErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   *APIError
		is     error
		substr string
	}{
		{
			name: "prometheus bad_data", status: 400,
			body: `{"status":"error","errorType":"bad_data","error":"1:7: parse error: unexpected end of input"}`,
			want: &APIError{StatusCode: 400, Status: "400 Bad Request", ErrorType: "bad_data", Err: "1:7: parse error: unexpected end of input"},
		},
		{
			name: "timeout with 503", status: 503,
			body: `{"status":"error","errorType":"timeout","error":"query timed out in expression evaluation"}`,
			want: &APIError{StatusCode: 503, Status: "503 Service Unavailable", ErrorType: "timeout", Err: "query timed out in expression evaluation"},
		},
		{
			name: "AMP gateway 403", status: 403,
			body: `{"message":"User: arn:aws:iam::123456789012:user/x is not authorized to perform: aps:QueryMetrics"}`,
			want: &APIError{StatusCode: 403, Status: "403 Forbidden", Err: "User: arn:aws:iam::123456789012:user/x is not authorized to perform: aps:QueryMetrics"},
		},
		{
			name: "not JSON", status: 404, body: "404 page not found\n",
			want: &APIError{StatusCode: 404, Status: "404 Not Found", Body: "404 page not found"},
		},
		{
			name: "200 HTML", status: 200, body: "<html>login</html>",
			substr: "not Prometheus API JSON",
		},
		{
			name: "matrix", status: 200, body: `{"status":"success","data":{"resultType":"matrix","result":[]}}`,
			is: ErrRangeVector,
		},
		{
			name: "string", status: 200, body: `{"status":"success","data":{"resultType":"string","result":[1,"x"]}}`,
			substr: `"string" result`,
		},
		{
			name: "bad value", status: 200, body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"x"]}]}}`,
			substr: `sample value "x"`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _, _ := apiServer(t, tc.status, tc.body)
			_, err := Query(context.Background(), srv.Client(), srv.URL, "up", time.Time{}, nil)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.want != nil {
				var ae *APIError
				if !errors.As(err, &ae) {
					t.Fatalf("error %T %v, want *APIError", err, err)
				}
				if diff := cmp.Diff(tc.want, ae); diff != "" {
					t.Errorf("APIError (-want +got):\n%s", diff)
				}
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v, want %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.substr) {
				t.Errorf("error %q does not contain %q", err, tc.substr)
			}
		})
	}
}

func TestQueryUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()
	_, err := Query(context.Background(), nil, base, "up", time.Time{}, nil)
	var ae *APIError
	if err == nil || errors.As(err, &ae) || !strings.Contains(err.Error(), base+"/api/v1/query") {
		t.Fatalf("error = %v, want a network error naming the endpoint", err)
	}
}

func TestQueryFallsBackToGETOn405(t *testing.T) {
	var methods []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		methods = append(methods, r.Method)
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		if r.URL.Query().Get("query") != "up" {
			t.Errorf("GET query = %q", r.URL.RawQuery)
		}
		io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
	}))
	defer srv.Close()
	res, err := Query(context.Background(), srv.Client(), srv.URL, "up", time.Now(), nil)
	if err != nil || len(res.Samples) != 0 {
		t.Fatalf("res %+v err %v", res, err)
	}
	if diff := cmp.Diff([]string{"POST", "GET"}, methods); diff != "" {
		t.Errorf("methods (-want +got):\n%s", diff)
	}
}

// TestQuerySigV4 checks that a query through the sigv4 transport is signed
// for aps in the region, over the form body, with injected static
// credentials (never the default chain, never AWS).
func TestQuerySigV4(t *testing.T) {
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	var auth, sha, date, body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth, sha, date = r.Header.Get("Authorization"), r.Header.Get("X-Amz-Content-Sha256"), r.Header.Get("X-Amz-Date")
		b, _ := io.ReadAll(r.Body)
		body = string(b)
		io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
	}))
	defer srv.Close()
	creds := credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "")
	clock := func() time.Time { return time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC) }
	tr, err := sigv4.New("us-west-2", creds, sigv4.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Query(context.Background(), &http.Client{Transport: tr}, srv.URL+"/workspaces/ws-1", "up", time.Time{}, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250501/us-west-2/aps/aws4_request") {
		t.Errorf("Authorization = %q", auth)
	}
	if date != "20250501T120000Z" {
		t.Errorf("X-Amz-Date = %q", date)
	}
	// The payload hash is over the exact form body that arrived.
	if want := sha256Hex(body); sha != want || body != "query=up" {
		t.Errorf("X-Amz-Content-Sha256 = %q for body %q, want %q", sha, body, want)
	}
}
