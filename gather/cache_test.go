package gather

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/rwkit/rwkit/wire"
)

// TestCacheMatchesFreshConverter converts a sequence of expositions with
// one Converter (its per-series cache and lazy duplicate check in play)
// and each with a new Converter; requests and errors must be the same.
func TestCacheMatchesFreshConverter(t *testing.T) {
	steps := []struct{ name, text string }{
		{"first", "# TYPE a counter\na{x=\"1\"} 1\na{x=\"2\"} 2\n# TYPE b gauge\nb 3\nb_sum{y=\"1\"} 1\n"},
		{"same", "# TYPE a counter\na{x=\"1\"} 4\na{x=\"2\"} 5\n# TYPE b gauge\nb 6\nb_sum{y=\"1\"} 1\n"},
		{"value changed", "# TYPE a counter\na{x=\"1\"} 4\na{x=\"3\"} 5\n# TYPE b gauge\nb 6\nb_sum{y=\"1\"} 1\n"},
		{"series added", "# TYPE a counter\na{x=\"0\"} 1\na{x=\"1\"} 4\na{x=\"3\"} 5\n# TYPE b gauge\nb 6\nb_sum{y=\"1\"} 1\n"},
		{"series removed", "# TYPE a counter\na{x=\"3\"} 5\n# TYPE b gauge\nb 6\nb_sum{y=\"1\"} 1\n"},
		{"label added", "# TYPE a counter\na{x=\"3\",z=\"1\"} 5\n# TYPE b gauge\nb 6\nb_sum{y=\"1\"} 1\n"},
		{"empty value", "# TYPE a counter\na{x=\"3\",z=\"\"} 5\n# TYPE b gauge\nb 6\nb_sum{y=\"1\"} 1\n"},
		{"family type changed", "# TYPE a gauge\na{x=\"3\"} 5\n# TYPE b gauge\nb 6\nb_sum{y=\"1\"} 1\n"},
		{"family inserted", "# TYPE a gauge\na{x=\"3\"} 5\n# TYPE aa untyped\naa 1\n# TYPE b gauge\nb 6\nb_sum{y=\"1\"} 1\n"},
		{"duplicate across families", "# TYPE b gauge\nb 6\nb_sum{y=\"1\"} 1\n---\n# TYPE b_sum counter\nb_sum{y=\"1\"} 2\n"},
		{"duplicate gone", "# TYPE b gauge\nb 6\nb_sum{y=\"1\"} 1\n---\n# TYPE b_sum counter\nb_sum{y=\"2\"} 2\n"},
		{"conflict", "# TYPE b gauge\nb{service=\"x\"} 6\nb_sum{y=\"1\"} 1\n"},
		{"conflict gone", "# TYPE b gauge\nb 6\nb_sum{y=\"1\"} 1\n"},
		{"invalid label", "# TYPE b gauge\nb 6\nb_sum{y=\"1\"} 1\n# TYPE c gauge\nc{x=\"c\"} 1\n"},
		{"summary", "# TYPE b gauge\nb 6\n# TYPE s summary\ns{q=\"1\",quantile=\"0.5\"} 1\ns_sum{q=\"1\"} 1\ns_count{q=\"1\"} 1\n"},
		{"summary again", "# TYPE b gauge\nb 6\n# TYPE s summary\ns{q=\"1\",quantile=\"0.5\"} 2\ns_sum{q=\"1\"} 2\ns_count{q=\"1\"} 2\n"},
		{"duplicate of summary", "# TYPE b gauge\nb 6\n# TYPE s summary\ns{q=\"1\",quantile=\"0.5\"} 2\ns_sum{q=\"1\"} 2\ns_count{q=\"1\"} 2\n---\n# TYPE s_sum gauge\ns_sum{q=\"1\"} 1\n"},
		{"back to first", "# TYPE a counter\na{x=\"1\"} 1\na{x=\"2\"} 2\n# TYPE b gauge\nb 3\nb_sum{y=\"1\"} 1\n"},
	}
	extra := ls("service", "svc", "instance", "i-1")
	for _, policy := range []ConflictPolicy{ConflictError, ConflictRename} {
		opts := Options{Timestamp: ts0, ExtraLabels: extra, ConflictPolicy: policy}
		kept, err := NewConverter(opts)
		if err != nil {
			t.Fatal(err)
		}
		req := &wire.WriteRequest{}
		for round := range 2 {
			for _, st := range steps {
				t.Run(fmt.Sprintf("%s/%d/%s", policy, round, st.name), func(t *testing.T) {
					var fams []*dto.MetricFamily
					for _, text := range strings.Split(st.text, "---\n") {
						fams = append(fams, mustParse(t, text)...)
					}
					if st.name == "invalid label" {
						last := fams[len(fams)-1].Metric[0]
						last.Label = append(last.Label, &dto.LabelPair{Name: proto.String("__name__"), Value: proto.String("c")})
					}
					want, wantRep, wantErr := Convert(fams, opts)
					req.Series, req.Metadata = req.Series[:0], req.Metadata[:0]
					gotRep, gotErr := kept.Append(req, fams)
					if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
						t.Fatalf("error: got %v, want %v", gotErr, wantErr)
					}
					if wantErr != nil {
						return
					}
					if diff := cmp.Diff(want, req, cmpOpts...); diff != "" {
						t.Errorf("request (-want +got):\n%s", diff)
					}
					if diff := cmp.Diff(wantRep, gotRep, cmpOpts...); diff != "" {
						t.Errorf("report (-want +got):\n%s", diff)
					}
				})
			}
		}
	}
}
