package collide

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rwkit/rwkit/wire"
)

// A Found gives the Report FindSources gives, whole, one collision at a
// time, without its collisions, and as JSON.
func TestFoundIsItsReport(t *testing.T) {
	goldens, err := filepath.Glob("../cmd/rwkit/testdata/collide/*.txt")
	if err != nil || len(goldens) == 0 {
		t.Fatalf("the CLI's collide expositions: %v, %v", goldens, err)
	}
	for _, tc := range []struct {
		name  string
		files []string
		want  Result
	}{
		{name: "goldens", files: goldens, want: ResultCollisions},
		{name: "one", files: goldens[:1], want: ResultNone},
		{name: "goldens, replicas", files: append(append([]string(nil), goldens...), goldens...), want: ResultCollisions},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sources := func() []Source {
				var ss []Source
				for i, f := range tc.files {
					ss = append(ss, Source{Name: string(rune('a'+i)) + "/" + filepath.Base(f), Location: f, Labels: []wire.Label{{Name: "env", Value: "<prod>"}}})
				}
				return ss
			}
			want, err := FindSources(context.Background(), nil, sources())
			if err != nil {
				t.Fatal(err)
			}
			fd, err := FindSourcesCompact(context.Background(), nil, sources())
			if err != nil {
				t.Fatal(err)
			}
			if want.Result != tc.want {
				t.Fatalf("result %s, want %s", want.Result, tc.want)
			}
			if diff := cmp.Diff(want, fd.Report()); diff != "" {
				t.Errorf("Report (-FindSources +Found):\n%s", diff)
			}
			if fd.NumCollisions() != len(want.Collisions) {
				t.Errorf("NumCollisions %d, want %d", fd.NumCollisions(), len(want.Collisions))
			}
			for i, c := range want.Collisions {
				if diff := cmp.Diff(c, fd.Collision(i)); diff != "" {
					t.Fatalf("Collision(%d) (-want +got):\n%s", i, diff)
				}
			}
			summary := *want
			summary.Collisions = nil
			if diff := cmp.Diff(&summary, fd.Summary()); diff != "" {
				t.Errorf("Summary (-want +got):\n%s", diff)
			}
			for _, in := range [][2]string{{"", "  "}, {"  ", "  "}, {">", "\t"}, {"", ""}} {
				wantJSON, err := json.MarshalIndent(want, in[0], in[1])
				if err != nil {
					t.Fatal(err)
				}
				var got bytes.Buffer
				if err := fd.WriteJSON(&got, in[0], in[1]); err != nil {
					t.Fatal(err)
				}
				if got.String() != string(wantJSON) {
					t.Errorf("WriteJSON(%q, %q) differs from json.MarshalIndent of the Report:\n%s", in[0], in[1], cmp.Diff(string(wantJSON), got.String()))
				}
			}
		})
	}
}

// compareKeys orders encoded label sets as compareSeries orders them.
func TestCompareKeys(t *testing.T) {
	long := strings.Repeat("v", 200) // a length of two bytes
	sets := [][]wire.Label{
		{{Name: "__name__", Value: "up"}},
		{{Name: "__name__", Value: "up"}, {Name: "job", Value: "a"}},
		{{Name: "__name__", Value: "up"}, {Name: "job", Value: "b"}},
		{{Name: "__name__", Value: "up"}, {Name: "job", Value: long}},
		{{Name: "__name__", Value: "up"}, {Name: "job", Value: long + "a"}},
		{{Name: "__name__", Value: "up"}, {Name: "jobs", Value: ""}},
		{{Name: "A", Value: "z"}, {Name: "__name__", Value: "up"}},
		{{Name: "A", Value: "a"}, {Name: "__name__", Value: "upper"}},
		{{Name: "__name__", Value: "u"}, {Name: "z", Value: "z"}},
		{{Name: "job", Value: "a"}},
		{},
		{{Name: "__name__", Value: long}},
	}
	for _, a := range sets {
		for _, b := range sets {
			am, _ := wire.MetricName(a)
			bm, _ := wire.MetricName(b)
			want := compareSeries(am, a, bm, b)
			got := compareKeys(string(must(appendKey(nil, a))), string(must(appendKey(nil, b))))
			if got != want {
				t.Errorf("compareKeys(%v, %v) = %d, compareSeries %d", a, b, got, want)
			}
		}
	}
}
