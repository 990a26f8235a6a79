package gather

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/common/expfmt"

	"github.com/rwkit/rwkit/wire"
)

func TestParseTextSortedAndErrors(t *testing.T) {
	fams := mustParse(t, "zeta 1\nalpha 2\n# TYPE mid counter\nmid_total 3\n")
	var names []string
	for _, f := range fams {
		names = append(names, f.GetName())
	}
	if diff := cmp.Diff([]string{"alpha", "mid_total", "zeta"}, names); diff != "" {
		t.Errorf("family order (-want +got):\n%s", diff)
	}

	_, err := ParseText(strings.NewReader("ok 1\nok2 2\nbroken{ 3\n"))
	var pe expfmt.ParseError
	if !errors.As(err, &pe) || pe.Line != 3 || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("err = %v, want an expfmt.ParseError on line 3", err)
	}
}

func TestParseOpenMetrics(t *testing.T) {
	text := `# TYPE req_requests counter
# UNIT req_requests requests
# HELP req_requests Requests.
req_requests_total{code="200"} 7 # {trace_id="abc"} 1 1700000000.5
# TYPE size_bytes histogram
size_bytes_bucket{le="1"} 1
size_bytes_bucket{le="+Inf"} 2
size_bytes_sum 5
size_bytes_count 2
# EOF
`
	fams, err := ParseOpenMetrics(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := Convert(fams, Options{Timestamp: ts0, Exemplars: true})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range got.Series {
		names = append(names, wire.SeriesString(s.Labels))
	}
	want := []string{`req_requests_total{code="200"}`, `size_bytes_bucket{le="1.0"}`, `size_bytes_bucket{le="+Inf"}`, `size_bytes_sum{}`, `size_bytes_count{}`}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("series (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wire.Metadata{Type: wire.MetricTypeCounter, FamilyName: "req_requests_total", Help: "Requests.", Unit: "requests"}, got.Metadata[0]); diff != "" {
		t.Errorf("metadata (-want +got):\n%s", diff)
	}
	if ex := got.Series[0].Exemplars; len(ex) != 1 || ex[0].Timestamp != 1700000000500 || ex[0].Value != 1 {
		t.Errorf("exemplars = %+v", ex)
	}
}

// FuzzParseText: no input makes ParseText panic, and whatever it accepts
// Convert handles without panicking, in every mode.
func FuzzParseText(f *testing.F) {
	var buf bytes.Buffer
	reg := parityRegistry(&testing.T{})
	fams, _ := reg.Gather()
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, fam := range fams {
		_ = enc.Encode(fam)
	}
	f.Add(buf.String())
	f.Add("a{b=\"c\"} 1 1000\n")
	f.Add("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 2\nh_count 1\n")
	f.Add("# TYPE s summary\ns{quantile=\"0.5\"} NaN\ns_sum 1\ns_count 1\n")
	f.Add("{\"utf8.name\",\"x\"=\"\\n\"} +Inf\n")
	f.Add("a{instance=\"x\",le=\"1\"} 1\na{instance=\"x\",le=\"1\"} 2\n")
	f.Fuzz(func(t *testing.T, in string) {
		fams, err := ParseText(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, o := range []Options{
			{Timestamp: 1},
			{Timestamp: 1, ExtraLabels: []wire.Label{{Name: "instance", Value: "i"}}, ConflictPolicy: ConflictRename, UTF8Names: true, HonorTimestamps: true},
			{Timestamp: 1, ExtraLabels: []wire.Label{{Name: "a", Value: "i"}}, NativeHistograms: true, Exemplars: true, StartTimestamps: true},
		} {
			req, _, err := Convert(fams, o)
			if err == nil {
				for _, s := range req.Series {
					for i := 1; i < len(s.Labels); i++ {
						if s.Labels[i-1].Name >= s.Labels[i].Name {
							t.Fatalf("labels not sorted or duplicated: %v", s.Labels)
						}
					}
				}
			}
		}
	})
}

// prometheus/common's text parser panics on this body (assignment to a
// nil map); ParseText answers an error instead.
func TestParseTextSurvivesParserPanic(t *testing.T) {
	fams, err := ParseText(strings.NewReader("# TYPE s summary\nx 1\n{\"s_sum\",a=\"1\"} 1\n"))
	if err == nil || !strings.Contains(err.Error(), "parser panicked on this body") {
		t.Errorf("got %v, %v; want the parser's panic as an error", fams, err)
	}
}
