package gather

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
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
	for _, cfg := range []struct {
		policy ConflictPolicy
		share  bool
	}{{ConflictError, false}, {ConflictRename, false}, {ConflictError, true}, {ConflictRename, true}} {
		policy := cfg.policy
		opts := Options{Timestamp: ts0, ExtraLabels: extra, ConflictPolicy: policy, ShareLabels: cfg.share}
		kept := mustConverter(t, opts)
		req := &wire.WriteRequest{}
		for round := range 2 {
			for _, st := range steps {
				t.Run(fmt.Sprintf("%s/share=%v/%d/%s", policy, cfg.share, round, st.name), func(t *testing.T) {
					var fams []*dto.MetricFamily
					for _, text := range strings.Split(st.text, "---\n") {
						fams = append(fams, mustParse(t, text)...)
					}
					if st.name == "invalid label" {
						last := fams[len(fams)-1].Metric[0]
						last.Label = append(last.Label, &dto.LabelPair{Name: proto.String("__name__"), Value: proto.String("c")})
					}
					matchFresh(t, kept, req, fams, opts)
				})
			}
		}
	}
}

// matchFresh converts fams with kept into the truncated req and with a new
// Converter; errors, requests and reports must be the same. It returns the
// error.
func matchFresh(t *testing.T, kept *Converter, req *wire.WriteRequest, fams []*dto.MetricFamily, opts Options) error {
	t.Helper()
	want, wantRep, wantErr := Convert(fams, opts)
	req.Series, req.Metadata = req.Series[:0], req.Metadata[:0]
	gotRep, gotErr := kept.Append(req, fams)
	if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
		t.Fatalf("error: got %v, want %v", gotErr, wantErr)
	}
	if wantErr != nil {
		return wantErr
	}
	if diff := cmp.Diff(want, req, cmpOpts...); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantRep, gotRep, cmpOpts...); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
	return nil
}

// TestCacheRegistryMatchesFreshConverter runs a long-lived Converter over
// a client_golang registry that changes between pushes (the case where
// label pair pointers are the same from one Gather to the next), and a
// fresh Converter over each Gather; requests and errors must be the same.
// It also checks which families keep label pair pointers: the registry's
// own vectors do, a wrapped or const-metric family does not.
func TestCacheRegistryMatchesFreshConverter(t *testing.T) {
	reg := prometheus.NewRegistry()
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "reqs_total", Help: "h"}, []string{"code", "method"})
	temp := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "temp", Help: "h", ConstLabels: prometheus.Labels{"site": "a"}}, []string{"room"})
	reg.MustRegister(reqs, temp)
	prometheus.WrapRegistererWith(prometheus.Labels{"pool": "p1"}, reg).MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pool_size", Help: "h"}, func() float64 { return 3 }))
	conflicting := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "owner", Help: "h"}, []string{"service"})
	constVal := 1.0
	reg.MustRegister(constCollector{desc: prometheus.NewDesc("build_info", "h", []string{"version"}, nil), v: &constVal})

	steps := []struct {
		name string
		do   func()
	}{
		{"first", func() { reqs.WithLabelValues("200", "GET").Add(1); temp.WithLabelValues("k").Set(20) }},
		{"same", func() { reqs.WithLabelValues("200", "GET").Add(1) }},
		{"series added before", func() { reqs.WithLabelValues("200", "DELETE").Add(1) }},
		{"series added after", func() { reqs.WithLabelValues("500", "PUT").Add(1); temp.WithLabelValues("z").Set(1) }},
		{"series removed", func() { reqs.DeleteLabelValues("200", "DELETE") }},
		{"series re-added (new pairs, same labels)", func() { reqs.WithLabelValues("200", "DELETE").Add(2) }},
		{"all removed", func() { reqs.Reset() }},
		{"back", func() { reqs.WithLabelValues("200", "GET").Add(1); constVal = 2 }},
		{"conflicting label", func() { reg.MustRegister(conflicting); conflicting.WithLabelValues("x").Set(1) }},
		{"conflict gone", func() { reg.Unregister(conflicting); temp.WithLabelValues("k").Set(21) }},
		{"same again", func() { reqs.WithLabelValues("200", "GET").Add(1) }},
	}
	extra := ls("service", "svc", "instance", "i-1")
	opts := Options{Timestamp: ts0, ExtraLabels: extra, ShareLabels: true}
	kept := mustConverter(t, opts)
	req := &wire.WriteRequest{}
	for round := range 2 {
		for _, st := range steps {
			st.do()
			fams, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			t.Run(fmt.Sprintf("%d/%s", round, st.name), func(t *testing.T) {
				if err := matchFresh(t, kept, req, fams, opts); (err != nil) != (st.name == "conflicting label") {
					t.Fatalf("error %v", err)
				}
			})
		}
	}
	fresh := map[string]bool{}
	for _, fc := range kept.fams {
		fresh[fc.name] = fc.fresh
	}
	wantFresh := map[string]bool{"build_info": false, "pool_size": false, "reqs_total": true, "temp": true}
	if diff := cmp.Diff(wantFresh, fresh); diff != "" {
		t.Errorf("families keeping label pair pointers (-want +got):\n%s", diff)
	}
}

// constCollector makes a new const metric (new label pairs) every Collect.
type constCollector struct {
	desc *prometheus.Desc
	v    *float64
}

func (c constCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }
func (c constCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, *c.v, "v1")
}

// Under ShareLabels, a second Append into the same request must not
// rewrite the labels of the series the first one made (they share the
// cache), and requests stay equal to fresh conversions, round after round.
func TestShareLabelsTwoAppendsIntoOneRequest(t *testing.T) {
	a := "# TYPE a counter\na{x=\"1\"} 1\na{x=\"2\"} 2\n# TYPE b gauge\nb 3\n"
	b := "# TYPE c counter\nc{y=\"1\"} 1\n# TYPE d gauge\nd{z=\"9\"} 3\nd{z=\"8\"} 4\n"
	opts := Options{Timestamp: ts0, ExtraLabels: ls("service", "svc"), ShareLabels: true}
	kept := mustConverter(t, opts)
	req := &wire.WriteRequest{}
	for round := range 4 {
		first, second := a, b
		if round%2 == 1 {
			first, second = b, a
		}
		fa, fb := mustParse(t, first), mustParse(t, second)
		wantA, _, err := Convert(fa, opts)
		if err != nil {
			t.Fatal(err)
		}
		wantB, _, err := Convert(fb, opts)
		if err != nil {
			t.Fatal(err)
		}
		req.Series, req.Metadata = req.Series[:0], req.Metadata[:0]
		if _, err := kept.Append(req, fa); err != nil {
			t.Fatal(err)
		}
		if _, err := kept.Append(req, fb); err != nil {
			t.Fatal(err)
		}
		want := &wire.WriteRequest{Series: append(wantA.Series, wantB.Series...), Metadata: append(wantA.Metadata, wantB.Metadata...)}
		if diff := cmp.Diff(want, req, cmpOpts...); diff != "" {
			t.Fatalf("round %d (-want +got):\n%s", round, diff)
		}
	}
}

// A cached metric that comes back with an empty-valued label of an invalid
// name is refused as a new Converter refuses it: the empty value keeps the
// label out of the cached labels, not out of validation.
func TestCacheHitStillValidatesEmptyLabels(t *testing.T) {
	for _, bad := range []string{"bad-name", "__name__", ""} {
		opts := Options{Timestamp: ts0, ExtraLabels: ls("service", "svc")}
		kept := mustConverter(t, opts)
		req := &wire.WriteRequest{}
		matchFresh(t, kept, req, mustParse(t, "# TYPE a counter\na{x=\"1\"} 1\n"), opts)
		fams := mustParse(t, "# TYPE a counter\na{x=\"1\"} 2\n")
		m := fams[0].Metric[0]
		m.Label = append(m.Label, &dto.LabelPair{Name: proto.String(bad), Value: proto.String("")})
		if err := matchFresh(t, kept, req, fams, opts); err == nil {
			t.Errorf("label %q=\"\": no error", bad)
		}
	}
}

// Series made from the cache keep reusable label storage with and without
// ShareLabels, also after series moved to other request positions.
func TestCacheHitsDoNotAllocate(t *testing.T) {
	f1 := mustParse(t, "# TYPE a counter\na{x=\"1\"} 1\n# TYPE b counter\nb{y=\"1\"} 1\n")
	f2 := mustParse(t, "# TYPE a counter\na{x=\"0\"} 1\na{x=\"1\"} 1\n# TYPE b counter\nb{y=\"1\"} 1\n")
	for _, share := range []bool{false, true} {
		c := mustConverter(t, Options{Timestamp: ts0, ExtraLabels: ls("service", "svc"), ShareLabels: share})
		req := &wire.WriteRequest{}
		for _, f := range [][]*dto.MetricFamily{f1, f1, f2, f2, f2} {
			req.Series, req.Metadata = req.Series[:0], req.Metadata[:0]
			if _, err := c.Append(req, f); err != nil {
				t.Fatal(err)
			}
		}
		allocs := testing.AllocsPerRun(50, func() {
			req.Series, req.Metadata = req.Series[:0], req.Metadata[:0]
			if _, err := c.Append(req, f2); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("ShareLabels=%v: %v allocations per Append, want 0", share, allocs)
		}
	}
}
