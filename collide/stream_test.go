package collide

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rwkit/rwkit/wire"
)

// The corpus FindSources is checked against Find(Load(...)) with: the CLI's
// goldens' expositions, and bodies in every format and shape Load reads.
var streamCorpus = map[string]string{
	"histogram": "# TYPE req_seconds histogram\nreq_seconds_bucket{le=\"0.1\",path=\"/a\"} 1\nreq_seconds_bucket{le=\"+Inf\",path=\"/a\"} 2\nreq_seconds_sum{path=\"/a\"} 0.3\nreq_seconds_count{path=\"/a\"} 2\n",
	"summary":   "# TYPE rpc summary\nrpc{quantile=\"0.5\"} 1\nrpc{quantile=\"0.99\"} 2\nrpc_sum 3\nrpc_count 4\n# TYPE up gauge\nup 1\n",
	"openmetrics": "# TYPE req_seconds histogram\nreq_seconds_bucket{le=\"0.1\",path=\"/a\"} 1\nreq_seconds_bucket{le=\"+Inf\",path=\"/a\"} 2\nreq_seconds_sum{path=\"/a\"} 0.3\nreq_seconds_count{path=\"/a\"} 2\n" +
		"# TYPE jobs counter\njobs_total{queue=\"q\"} 1\n# EOF\n",
	"odd":        "# a comment\n\nup{ instance = \"x\" , job=\"a\\\"b\\n\" } 1 1700000000000\nup{job=\"a\\\"b\\n\",instance=\"y\"} NaN\n",
	"untyped":    "jvm_threads_live_threads 4\nup 1\n",
	"duplicates": dupExposition,
	"split":      "# TYPE a counter\na{x=\"1\"} 1\n# TYPE b gauge\nb 2\na{x=\"2\"} 3\nz 1\n",
	"split hist": "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nother 1\nh_bucket{le=\"+Inf\"} 2\nh_count 2\nh_sum 1\n",
	"auth":       authExposition,
}

func TestFindSourcesIsFindLoad(t *testing.T) {
	dir := t.TempDir()
	var all []string
	for name, body := range streamCorpus {
		p := filepath.Join(dir, name+".txt")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		all = append(all, p)
	}
	goldens, err := filepath.Glob("../cmd/rwkit/testdata/collide/*.txt")
	if err != nil || len(goldens) == 0 {
		t.Fatalf("the CLI's collide expositions: %v, %v", goldens, err)
	}
	env := []wire.Label{{Name: "env", Value: "prod"}}
	served := map[string]string{"/text": streamCorpus["histogram"], "/om": streamCorpus["openmetrics"], "/dup": dupExposition, "/bad": "up{ 1\n"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/om" {
			w.Header().Set("Content-Type", "application/openmetrics-text; version=1.0.0")
		} else {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		}
		w.Write([]byte(served[r.URL.Path]))
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name  string
		files []string
		stdin string
		label bool
	}{
		{name: "goldens", files: goldens},
		{name: "corpus twice", files: append(append([]string(nil), all...), all...)},
		{name: "with labels", files: append(goldens, all...), label: true},
		{name: "stdin", files: all[:2], stdin: streamCorpus["summary"]},
		{name: "a missing file and a bad one", files: []string{filepath.Join(dir, "absent.txt"), all[0]}, stdin: "up{ 1\n"},
		{name: "none"},
		{name: "a label push refuses", files: goldens, stdin: "up{\"a.b\"=\"x\"} 1\n"},
		{name: "scraped", files: []string{srv.URL + "/text", srv.URL + "/om", srv.URL + "/dup"}},
		{name: "scraped and files", files: append([]string{srv.URL + "/text", srv.URL + "/bad"}, goldens...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sources := func() []Source {
				var ss []Source
				for i, f := range tc.files {
					s := Source{Name: strings.Repeat("w", i%3) + filepath.Base(f), Location: f}
					if i%2 == 0 {
						s.Service = "svc"
					}
					if tc.label {
						s.Labels = env
					}
					ss = append(ss, s)
				}
				if tc.stdin != "" {
					ss = append(ss, Source{Name: "stdin", Location: "-", In: strings.NewReader(tc.stdin)})
				}
				return ss
			}
			ws, werr := Load(context.Background(), nil, sources())
			got, gerr := FindSources(context.Background(), nil, sources())
			if werr != nil || gerr != nil {
				if werr == nil || gerr == nil || werr.Error() != gerr.Error() {
					t.Fatalf("errors differ:\nLoad:        %v\nFindSources: %v", werr, gerr)
				}
				return
			}
			if diff := cmp.Diff(Find(ws), got); diff != "" {
				t.Errorf("FindSources differs from Find(Load) (-Find +FindSources):\n%s", diff)
			}
		})
	}
}

func FuzzKey(f *testing.F) {
	f.Add("__name__", "up", "job", "a\xffb", "")
	f.Add("", "", "\x80", "\x00\x01", "é")
	f.Fuzz(func(t *testing.T, n1, v1, n2, v2, n3 string) {
		ls := []wire.Label{{Name: n1, Value: v1}, {Name: n2, Value: v2}, {Name: n3, Value: ""}}
		if got := decodeKey(must(appendKey(nil, ls))); !cmp.Equal(ls, got) {
			t.Fatalf("decodeKey(appendKey(%q)) = %q", ls, got)
		}
		// Different label sets never share a key.
		other := []wire.Label{{Name: n1 + v1, Value: ""}, {Name: n2, Value: v2}, {Name: n3, Value: ""}}
		if v1 != "" && string(must(appendKey(nil, other))) == string(must(appendKey(nil, ls))) {
			t.Fatalf("%q and %q share a key", ls, other)
		}
	})
}

func must(key []byte, _ bool) []byte { return key }
