package collide

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/rwkit/rwkit/internal/redact"
	"github.com/rwkit/rwkit/wire"
)

const (
	authExposition = "# TYPE jvm_threads_live_threads gauge\njvm_threads_live_threads 21\n# TYPE auth_logins_total counter\nauth_logins_total 5\n"
	// Two pools registered under one name: push refuses the whole request.
	dupExposition = "# TYPE worker_busy gauge\nworker_busy{pool=\"io\"} 1\nworker_busy{pool=\"io\"} 0\nworker_busy{pool=\"cpu\"} 1\n# TYPE jvm_threads_live_threads gauge\njvm_threads_live_threads 3\n"
)

func TestLoad(t *testing.T) {
	file := filepath.Join(t.TempDir(), "auth.txt")
	if err := os.WriteFile(file, []byte(authExposition), 0o600); err != nil {
		t.Fatal(err)
	}
	env := wire.Label{Name: "env", Value: "prod"}
	ws, err := Load(context.Background(), nil, []Source{
		{Name: "auth", Location: file, Labels: []wire.Label{{Name: "service", Value: "auth"}, env}},
		{Name: "jobs/1", Service: "jobs", Location: "-", In: strings.NewReader(dupExposition), Labels: []wire.Label{env}},
		{Location: "saved.txt", In: strings.NewReader(authExposition)},
	})
	if err != nil {
		t.Fatal(err)
	}
	names := func(w Writer) []string {
		var out []string
		for _, s := range w.Series {
			out = append(out, s.Labels[0].Value+" "+strings.Join(labelStrings(s.Labels[1:]), ","))
		}
		return out
	}
	want := []Writer{
		{Name: "auth", Source: file, Labels: Labels{env, {Name: "service", Value: "auth"}}, Families: 2},
		{Name: "jobs/1", Service: "jobs", Source: "-", Labels: Labels{env}, Families: 2, Note: "set below"},
		{Name: "saved.txt", Source: "saved.txt", Families: 2},
	}
	if !strings.Contains(ws[1].Note, "duplicate series") {
		t.Errorf("jobs/1's note %q does not name the duplicate series", ws[1].Note)
	}
	want[1].Note = ws[1].Note
	if diff := cmp.Diff(want, ws, cmpopts.IgnoreFields(Writer{}, "Series")); diff != "" {
		t.Errorf("writers (-want +got):\n%s", diff)
	}
	wantSeries := [][]string{
		{"auth_logins_total env=prod,service=auth", "jvm_threads_live_threads env=prod,service=auth"},
		// Every repeat kept, metric by metric, for Find to report.
		{"jvm_threads_live_threads env=prod", "worker_busy env=prod,pool=io", "worker_busy env=prod,pool=io", "worker_busy env=prod,pool=cpu"},
		{"auth_logins_total ", "jvm_threads_live_threads "},
	}
	for i, w := range ws {
		if diff := cmp.Diff(wantSeries[i], names(w)); diff != "" {
			t.Errorf("%s's series (-want +got):\n%s", w.Name, diff)
		}
	}

	r := Find(ws)
	if diff := cmp.Diff([]Duplicate{{Writer: "jobs/1", Metric: "worker_busy", Labels: Labels{{Name: "__name__", Value: "worker_busy"}, env, {Name: "pool", Value: "io"}}, Count: 2}}, r.Duplicates); diff != "" {
		t.Errorf("duplicates (-want +got):\n%s", diff)
	}
	if r.Result != ResultDuplicates || r.Writers[1].Note != ws[1].Note || r.Writers[0].Source != file || r.Writers[0].Families != 2 {
		t.Errorf("report %+v", r)
	}
}

func labelStrings(ls []wire.Label) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.Name+"="+l.Value)
	}
	return out
}

func TestLoadErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.txt")
	_, err := Load(context.Background(), nil, []Source{
		{Name: "ok", In: strings.NewReader(authExposition)},
		{Name: "gone", Location: missing},
		{Name: "stdin", Location: "-"},
		{Name: "conflict", In: strings.NewReader("up{env=\"dev\"} 1\n"), Labels: []wire.Label{{Name: "env", Value: "prod"}}},
		{Name: "garbage", Location: "garbage.txt", In: strings.NewReader("not an exposition {\n")},
	})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		"writer gone: open " + missing,
		`writer stdin: source "-" has no reader`,
		`writer conflict: `,
		"writer garbage: garbage.txt: parse exposition",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "writer ok") {
		t.Errorf("error names a writer that loaded:\n%v", err)
	}
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error %v does not wrap os.ErrNotExist", err)
	}
}

// TestLoadCredentials: a URL's user:password@ is sent as basic auth (to its
// host only) and shown nowhere.
func TestLoadCredentials(t *testing.T) {
	const password = "s3cret-pw"
	var mu sync.Mutex
	var elsewhere []string // Authorization headers another host received
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		elsewhere = append(elsewhere, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Write([]byte("moved_here 1\n"))
	}))
	t.Cleanup(other.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "scraper" || p != password {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/broken":
			http.Error(w, "broken", http.StatusInternalServerError)
		case "/moved":
			http.Redirect(w, r, other.URL+"/metrics", http.StatusFound)
		case "/here":
			http.Redirect(w, r, "/metrics", http.StatusFound)
		default:
			w.Write([]byte(authExposition))
		}
	}))
	t.Cleanup(srv.Close)
	at := func(path string) string {
		return strings.Replace(srv.URL, "http://", "http://scraper:"+password+"@", 1) + path
	}
	shown := strings.Replace(srv.URL, "http://", "http://scraper:xxxxx@", 1)

	// Load with a client of its own, whose timeout is kept.
	client := &http.Client{Timeout: 5 * time.Second}
	var sources []Source
	for _, path := range []string{"/metrics", "/here", "/moved"} {
		s, err := ParseSource(at(path))
		if err != nil {
			t.Fatal(err)
		}
		sources = append(sources, s)
	}
	ws, err := Load(context.Background(), client, sources)
	if err != nil {
		t.Fatal(err)
	}
	for i, path := range []string{"/metrics", "/here", "/moved"} {
		if ws[i].Name != shown+path || ws[i].Source != shown+path {
			t.Errorf("writer %d: name %q, source %q, want %q", i, ws[i].Name, ws[i].Source, shown+path)
		}
	}
	if len(ws[0].Series) != 2 || len(ws[1].Series) != 2 || len(ws[2].Series) != 1 {
		t.Errorf("series: %d, %d, %d", len(ws[0].Series), len(ws[1].Series), len(ws[2].Series))
	}
	if diff := cmp.Diff([]string{""}, elsewhere); diff != "" {
		t.Errorf("the other host received credentials (-want +got):\n%s", diff)
	}
	if client.Transport != nil {
		t.Errorf("Load changed the caller's client")
	}

	for _, loc := range []string{at("/broken"), "http://scraper:" + password + "@127.0.0.1:1/metrics", "http://scraper:" + password + "@127.0.0.1:bad/metrics"} {
		_, err := Load(context.Background(), nil, []Source{{Location: loc}})
		if err == nil || strings.Contains(err.Error(), password) || !strings.Contains(err.Error(), "scraper:xxxxx@") {
			t.Errorf("Load(%s): error %v, want one that names the source without its password", redact.URL(loc), err)
		}
	}
}

// TestLoadConcurrency: URLs are scraped concurrently, at most 8 at once.
func TestLoadConcurrency(t *testing.T) {
	var mu sync.Mutex
	running, most := 0, 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		running++
		most = max(most, running)
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		running--
		mu.Unlock()
		w.Write([]byte("up 1\n"))
	}))
	t.Cleanup(srv.Close)
	var sources []Source
	for i := range 24 {
		sources = append(sources, Source{Name: strconv.Itoa(i), Location: srv.URL + "/metrics"})
	}
	ws, err := Load(context.Background(), nil, sources)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 24 || ws[23].Name != "23" || len(ws[23].Series) != 1 {
		t.Errorf("writers: %d", len(ws))
	}
	if most > maxLoading || most < 2 {
		t.Errorf("%d scrapes at once, want 2 to %d", most, maxLoading)
	}
}
