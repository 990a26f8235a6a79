package main

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rwkit/rwkit/collide"
	"github.com/rwkit/rwkit/wire"
)

var sixServices = []string{
	"auth=testdata/collide/auth.txt",
	"actor=testdata/collide/actor.txt",
	"document=testdata/collide/document.txt",
	"notification=testdata/collide/notification.txt",
	"audit=testdata/collide/audit.txt",
	"bff=testdata/collide/bff.txt",
}

// collideJSON runs rwkit collide with --output json and decodes the report:
// the library's own collide.Report.
func collideJSON(t *testing.T, env map[string]string, wantCode int, args ...string) collide.Report {
	t.Helper()
	out, stderr, code := runCLI(t, env, nil, append([]string{"collide", "--output", "json"}, args...)...)
	if code != wantCode {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, wantCode, out, stderr)
	}
	var v collide.Report
	if err := unmarshalResult([]byte(out), &v); err != nil {
		t.Fatalf("decode JSON: %v\n%s", err, out)
	}
	return v
}

func collidingSeries(v collide.Report) map[string][]string {
	m := map[string][]string{}
	for _, c := range v.Collisions {
		m[wire.SeriesString(c.Labels)] = c.Writers
	}
	return m
}

// TestCollideSixServices is the seed incident: six services without service
// or instance labels share their JVM and process series (and three of them
// their /q/health histogram); the service metrics of each do not collide.
func TestCollideSixServices(t *testing.T) {
	all := []string{"auth", "actor", "document", "notification", "audit", "bff"}
	http := []string{"auth", "actor", "bff"}
	want := map[string][]string{
		`jvm_gc_pause_seconds_count{action="end of minor GC",env="prod"}`:                                      all,
		`jvm_gc_pause_seconds_sum{action="end of minor GC",env="prod"}`:                                        all,
		`jvm_gc_pause_seconds{action="end of minor GC",env="prod",quantile="0.5"}`:                             all,
		`jvm_gc_pause_seconds{action="end of minor GC",env="prod",quantile="0.99"}`:                            all,
		`jvm_memory_used_bytes{area="heap",env="prod",id="G1 Eden Space"}`:                                     all,
		`jvm_memory_used_bytes{area="nonheap",env="prod",id="Metaspace"}`:                                      all,
		`jvm_threads_live_threads{env="prod"}`:                                                                 all,
		`process_cpu_usage{env="prod"}`:                                                                        all,
		`process_uptime_seconds{env="prod"}`:                                                                   all,
		`http_server_requests_seconds_bucket{env="prod",le="+Inf",method="GET",status="200",uri="/q/health"}`:  http,
		`http_server_requests_seconds_bucket{env="prod",le="0.005",method="GET",status="200",uri="/q/health"}`: http,
		`http_server_requests_seconds_bucket{env="prod",le="0.05",method="GET",status="200",uri="/q/health"}`:  http,
		`http_server_requests_seconds_count{env="prod",method="GET",status="200",uri="/q/health"}`:             http,
		`http_server_requests_seconds_sum{env="prod",method="GET",status="200",uri="/q/health"}`:               http,
	}
	v := collideJSON(t, nil, 3, append([]string{"--label", "env=prod"}, sixServices...)...)
	if diff := cmp.Diff(want, collidingSeries(v)); diff != "" {
		t.Errorf("colliding series (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"service"}, v.Suggest); diff != "" {
		t.Errorf("suggest (-want +got):\n%s", diff)
	}
	if v.Result != collide.ResultCollisions || len(v.Writers) != 6 || len(v.Collisions) != 14 || len(v.ByMetric) != 10 || v.Excess != 9*5+5*2 || len(v.Duplicates) != 0 {
		t.Errorf("summary: %+v", v)
	}
	var metrics []string
	for _, m := range v.ByMetric {
		metrics = append(metrics, m.Name)
	}
	if want := []string{
		"http_server_requests_seconds_bucket", "http_server_requests_seconds_count", "http_server_requests_seconds_sum",
		"jvm_gc_pause_seconds", "jvm_gc_pause_seconds_count", "jvm_gc_pause_seconds_sum",
		"jvm_memory_used_bytes", "jvm_threads_live_threads", "process_cpu_usage", "process_uptime_seconds",
	}; !cmp.Equal(want, metrics) {
		t.Errorf("by_metric = %v, want %v", metrics, want)
	}

	out, _, code := runCLI(t, nil, nil, append([]string{"collide", "--label", "env=prod", "--limit", "2"}, sixServices...)...)
	if code != 3 {
		t.Fatalf("text: exit %d, want 3\n%s", code, out)
	}
	for _, s := range []string{
		"rwkit collide: 14 series in 10 metrics would be written by more than one writer",
		"new-value-for-timestamp",
		"jvm_threads_live_threads             1       6: auth, actor, document, notification, ... (+2)  service",
		"COLLIDING SERIES (first 2 of 14",
		"fix: add service:",
		"replicas of one service still collide",
		"summary: 6 writers, 87 series sent (32 distinct), 14 colliding series in 10 metrics",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("text report lacks %q:\n%s", s, out)
		}
	}
}

// TestCollideFixed checks the fix before deploying: a shared --label keeps
// every collision; a service label per writer removes them all.
func TestCollideFixed(t *testing.T) {
	args := []string{"--label", "env=prod"}
	for _, spec := range sixServices {
		name, _, _ := strings.Cut(spec, "=")
		args = append(args, "--writer-label", name+":service="+name)
	}
	v := collideJSON(t, nil, 0, append(args, sixServices...)...)
	if v.Result != collide.ResultNone || len(v.Collisions) != 0 || len(v.Suggest) != 0 || v.Distinct != v.Series {
		t.Errorf("with a service per writer: %+v", v)
	}
	if got := v.Writers[0].Labels; !cmp.Equal(got, collide.Labels{{Name: "env", Value: "prod"}, {Name: "service", Value: "auth"}}) {
		t.Errorf("auth's labels = %v", got)
	}
	out, _, code := runCLI(t, nil, nil, append([]string{"collide"}, append(args, sixServices...)...)...)
	if code != 0 || !strings.Contains(out, "no series would be written by more than one writer") {
		t.Errorf("text: exit %d\n%s", code, out)
	}
}

func TestCollideSuggestion(t *testing.T) {
	auth := "testdata/collide/auth.txt"
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"different services", []string{"auth=" + auth, "bff=testdata/collide/bff.txt"}, []string{"service"}},
		{"replicas named SERVICE/INSTANCE", []string{"auth/1=" + auth, "auth/2=" + auth}, []string{"instance"}},
		{"replicas and another service", []string{"auth/1=" + auth, "auth/2=" + auth, "bff/1=testdata/collide/bff.txt"}, []string{"service", "instance"}},
		{"service label already shared", []string{"--label", "service=auth", "a=" + auth, "b=" + auth}, []string{"instance"}},
		{"service per writer, replicas left", []string{"--writer-label", "a:service=auth", "--writer-label", "b:service=auth", "--writer-label", "c:service=bff",
			"a=" + auth, "b=" + auth, "c=" + auth}, []string{"instance"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := collideJSON(t, nil, 3, tc.args...)
			if diff := cmp.Diff(tc.want, v.Suggest); diff != "" {
				t.Errorf("suggest (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCollideScrape reads two writers from live /metrics endpoints served by
// promhttp (protobuf negotiated), the way a pre-deploy check runs against
// staging tasks.
func TestCollideScrape(t *testing.T) {
	serve := func(extra string) string {
		reg := prometheus.NewRegistry()
		queued := prometheus.NewGauge(prometheus.GaugeOpts{Name: "jobs_queued", Help: "Jobs waiting."})
		queued.Set(float64(len(extra)))
		dur := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "job_seconds", Help: "Job duration.", Buckets: []float64{0.5, 1}})
		dur.Observe(0.3)
		own := prometheus.NewCounter(prometheus.CounterOpts{Name: extra + "_jobs_total", Help: "Jobs of this worker."})
		reg.MustRegister(queued, dur, own)
		srvURL := serveHTTP(t, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		return srvURL + "/metrics"
	}
	a, b := serve("billing"), serve("mailer")
	v := collideJSON(t, nil, 3, "billing="+a, b)
	want := map[string][]string{
		`jobs_queued{}`:                 []string{"billing", b},
		`job_seconds_bucket{le="0.5"}`:  []string{"billing", b},
		`job_seconds_bucket{le="1.0"}`:  []string{"billing", b},
		`job_seconds_bucket{le="+Inf"}`: []string{"billing", b},
		`job_seconds_sum{}`:             []string{"billing", b},
		`job_seconds_count{}`:           []string{"billing", b},
	}
	if diff := cmp.Diff(want, collidingSeries(v)); diff != "" {
		t.Errorf("colliding series (-want +got):\n%s", diff)
	}
	if v.Writers[1].Name != b || v.Writers[1].Source != b || v.Series != 14 {
		t.Errorf("writers %+v, series %d", v.Writers, v.Series)
	}
}

// TestCollideDuplicateWriter flags a writer whose own exposition repeats a
// series (push would refuse all of it), and still finds what it shares.
func TestCollideDuplicateWriter(t *testing.T) {
	v := collideJSON(t, nil, 3, "auth=testdata/collide/auth.txt", "jobs=testdata/collide/duplicate.txt")
	type dup struct {
		Writer, Metric, Series string
		Count                  int
	}
	var dups []dup
	for _, d := range v.Duplicates {
		dups = append(dups, dup{d.Writer, d.Metric, wire.SeriesString(d.Labels), d.Count})
	}
	if diff := cmp.Diff([]dup{{Writer: "jobs", Metric: "worker_busy", Series: `worker_busy{pool="io"}`, Count: 2}}, dups); diff != "" {
		t.Errorf("duplicates (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string][]string{"jvm_threads_live_threads{}": {"auth", "jobs"}}, collidingSeries(v)); diff != "" {
		t.Errorf("colliding series (-want +got):\n%s", diff)
	}
	if v.Result != collide.ResultCollisions {
		t.Errorf("result %q, want collisions", v.Result)
	}
	if w := v.Writers[1]; w.Duplicates != 1 || !strings.Contains(w.Note, "duplicate series") {
		t.Errorf("jobs writer: %+v", w)
	}

	// Alone it collides with nobody, but exits 3 all the same.
	out, _, code := runCLI(t, nil, nil, "collide", "testdata/collide/duplicate.txt")
	if code != 3 || !strings.Contains(out, "a writer repeats its own series") || !strings.Contains(out, `worker_busy{pool="io"}  2`) {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestCollideInputs(t *testing.T) {
	// Writers from the environment, stdin, and arguments mixed with flags.
	env := map[string]string{"RWKIT_WRITER": "auth=testdata/collide/auth.txt,actor=testdata/collide/actor.txt"}
	stdin := strings.NewReader("jvm_threads_live_threads 3\n")
	out, stderr, code := runCLI(t, env, stdin, "collide", "piped=-", "--output", "json", "--limit", "1")
	if code != 3 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	var v collide.Report
	if err := unmarshalResult([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, w := range v.Writers {
		names = append(names, w.Name)
	}
	if want := []string{"auth", "actor", "piped"}; !cmp.Equal(want, names) {
		t.Errorf("writers %v, want %v", names, want)
	}
	writers := collidingSeries(v)["jvm_threads_live_threads{}"]
	sort.Strings(writers)
	if !cmp.Equal(writers, []string{"actor", "auth", "piped"}) {
		t.Errorf("jvm_threads_live_threads writers = %v", writers)
	}
}

func TestCollideErrors(t *testing.T) {
	auth := "auth=testdata/collide/auth.txt"
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no writers", nil, exitUsage, "give at least one writer"},
		{"same name twice", []string{auth, auth}, exitUsage, `writer name "auth" given twice`},
		{"writer label syntax", []string{"--writer-label", "service=auth", auth}, exitUsage, "want WRITER:name=value"},
		{"writer label for nobody", []string{"--writer-label", "bff:service=bff", auth}, exitUsage, `no writer is named "bff"`},
		{"bad output", []string{"--output", "yaml", auth}, exitUsage, `output "yaml"`},
		{"unknown flag", []string{"--bogus", auth}, exitUsage, "bogus"},
		{"two stdins", []string{"a=-", "b=-"}, exitUsage, "only one writer can read stdin"},
		{"missing file", []string{auth, "bff=testdata/collide/nope.txt"}, exitFailed, "writer bff: open testdata/collide/nope.txt"},
		{"label conflicts with a metric's", []string{"--label", "action=x", auth}, exitFailed, `label "action" is "end of minor GC"`},
		{"scrape fails", []string{"down=http://127.0.0.1:1/metrics"}, exitFailed, "writer down:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, nil, nil, append([]string{"collide"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d (want %d), stderr %q, want it to contain %q", code, tc.code, stderr, tc.want)
			}
		})
	}
	// -h prints the synopsis, every flag with its variable, and the examples.
	_, stderr, code := runCLI(t, nil, nil, "collide", "-h")
	if code != exitOK || !strings.Contains(stderr, "Example:") || !strings.Contains(stderr, "RWKIT_WRITER_LABEL") {
		t.Errorf("collide -h: exit %d\n%s", code, stderr)
	}
}

// TestCollideJSONShape pins the keys of --output json: the library's
// collide.Report, label sets as objects.
func TestCollideJSONShape(t *testing.T) {
	out, _, code := runCLI(t, nil, nil, "collide", "--output", "json", "--label", "env=prod",
		"auth=testdata/collide/auth.txt", "bff=testdata/collide/bff.txt")
	if code != exitFound {
		t.Fatalf("exit %d\n%s", code, out)
	}
	var v struct {
		Result     string                       `json:"result"`
		Writers    []map[string]json.RawMessage `json:"writers"`
		Collisions []map[string]json.RawMessage `json:"collisions"`
	}
	var top map[string]json.RawMessage
	if err := unmarshalResult([]byte(out), &top); err != nil {
		t.Fatal(err)
	}
	if err := unmarshalResult([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	keys := func(m map[string]json.RawMessage) []string { return slices.Sorted(maps.Keys(m)) }
	if diff := cmp.Diff([]string{"advice", "by_metric", "collisions", "distinct", "duplicates", "excess_samples", "result", "series", "suggest", "writers"}, keys(top)); diff != "" {
		t.Errorf("report keys (-want +got):\n%s", diff)
	}
	if v.Result != "collisions" {
		t.Errorf("result %q", v.Result)
	}
	if diff := cmp.Diff([]string{"colliding", "duplicates", "families", "labels", "name", "series", "source"}, keys(v.Writers[0])); diff != "" {
		t.Errorf("writer keys (-want +got):\n%s", diff)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, v.Writers[0]["labels"]); err != nil || compact.String() != `{"env":"prod"}` {
		t.Errorf("writer labels = %s (%v)", v.Writers[0]["labels"], err)
	}
	if got := string(v.Writers[0]["source"]); got != `"testdata/collide/auth.txt"` {
		t.Errorf("writer source = %s", got)
	}
	var labels map[string]string
	if err := json.Unmarshal(v.Collisions[0]["labels"], &labels); err != nil || labels["__name__"] == "" || labels["env"] != "prod" {
		t.Errorf("collision labels = %s (%v)", v.Collisions[0]["labels"], err)
	}

	if v := collideJSON(t, nil, exitFound, "testdata/collide/duplicate.txt"); v.Result != collide.ResultDuplicates {
		t.Errorf("a writer alone that repeats a series: result %q, want duplicates", v.Result)
	}
}

// TestCollideRedactsCredentials: a source URL's password is sent as basic
// auth and appears nowhere in the report, its JSON, or an error.
func TestCollideRedactsCredentials(t *testing.T) {
	const password = "s3cret-pw"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "scraper" || p != password {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if r.URL.Path == "/broken" {
			http.Error(w, "broken", http.StatusInternalServerError)
			return
		}
		w.Write([]byte("jvm_threads_live_threads 3\n"))
	}))
	t.Cleanup(srv.Close)
	withCreds := strings.Replace(srv.URL, "http://", "http://scraper:"+password+"@", 1)
	shown := strings.Replace(srv.URL, "http://", "http://scraper:xxxxx@", 1)

	for _, output := range []string{"text", "json"} {
		out, stderr, code := runCLI(t, nil, nil, "collide", "--output", output, withCreds+"/metrics", "auth=testdata/collide/auth.txt")
		if code != exitFound {
			t.Fatalf("%s: exit %d (the credentials were not sent?)\n%s\n%s", output, code, out, stderr)
		}
		if strings.Contains(out+stderr, password) {
			t.Errorf("%s output shows the password:\n%s\n%s", output, out, stderr)
		}
		if !strings.Contains(out, shown+"/metrics") {
			t.Errorf("%s output does not name the writer %s:\n%s", output, shown+"/metrics", out)
		}
	}
	for name, args := range map[string][]string{
		"status 500":         {withCreds + "/broken"},
		"connection refused": {"down=http://scraper:" + password + "@127.0.0.1:1/metrics"},
		"bad spec":           {"=http://scraper:" + password + "@127.0.0.1:1/metrics"},
		"bad URL":            {"http://scraper:" + password + "@127.0.0.1:bad/metrics"},
	} {
		out, stderr, code := runCLI(t, nil, nil, append([]string{"collide"}, args...)...)
		if code == exitOK || strings.Contains(out+stderr, password) {
			t.Errorf("%s: exit %d, output shows the password or no error:\n%s\n%s", name, code, out, stderr)
		}
	}
}
