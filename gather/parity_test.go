package gather

import (
	"bytes"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/rwkit/rwkit/wire"
)

// parityRegistry holds every kind the text format carries faithfully.
func parityRegistry(t *testing.T) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewRegistry()

	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "app_requests_total", Help: "Requests.\nWith a \\ newline."}, []string{"code", "path"})
	c.WithLabelValues("200", `/a"quoted"`).Add(3)
	c.WithLabelValues("500", "/line\nbreak").Add(1.5)
	c.WithLabelValues("201", "/ünïcödé/日本").Inc()
	c.WithLabelValues("204", "").Inc() // empty value: same as absent
	reg.MustRegister(c)

	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "app_temperature", Help: "Gauge with odd values."}, []string{"kind"})
	g.WithLabelValues("nan").Set(math.NaN())
	g.WithLabelValues("inf").Set(math.Inf(1))
	g.WithLabelValues("-inf").Set(math.Inf(-1))
	g.WithLabelValues("tiny").Set(1e-300)
	g.WithLabelValues("big").Set(-1.5e300)
	reg.MustRegister(g)

	reg.MustRegister(prometheus.NewUntypedFunc(prometheus.UntypedOpts{Name: "app_untyped", Help: "Untyped.", ConstLabels: prometheus.Labels{"const": "x"}}, func() float64 { return 42 }))

	s := prometheus.NewSummaryVec(prometheus.SummaryOpts{
		Name: "app_latency_seconds", Help: "Summary.",
		Objectives: map[float64]float64{0.5: 0.05, 0.9: 0.01, 0.99: 0.001},
	}, []string{"op"})
	for i := range 100 {
		s.WithLabelValues("read").Observe(float64(i) / 100)
	}
	s.WithLabelValues("write") // no observations: NaN quantiles
	reg.MustRegister(s)

	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "app_size_bytes", Help: "Histogram with custom buckets.",
		Buckets: []float64{0.005, 1, 100, 1e6, 2.5e10},
	}, []string{"dir"})
	for _, v := range []float64{0.001, 0.5, 1, 99, 5e5, 3e10} {
		h.WithLabelValues("in").Observe(v)
	}
	h.WithLabelValues("out").Observe(7)
	reg.MustRegister(h)

	hd := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "app_default_buckets_seconds", Help: "Default buckets."})
	hd.Observe(0.3)
	reg.MustRegister(hd)
	return reg
}

// TestParityGathererAndText is the property the project needs: a registry
// gathered directly and the same registry written as text exposition and
// parsed back convert to the same series.
func TestParityGathererAndText(t *testing.T) {
	reg := parityRegistry(t)
	opts := Options{Timestamp: 1_700_000_000_123, ExtraLabels: []wire.Label{{Name: "service", Value: "auth"}, {Name: "instance", Value: "10.0.0.1:8080"}}}

	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range fams {
		if err := enc.Encode(f); err != nil {
			t.Fatal(err)
		}
	}
	parsed, err := ParseText(&buf)
	if err != nil {
		t.Fatalf("ParseText: %v\n%s", err, buf.String())
	}

	want, wantRep, err := FromGatherer(reg, opts)
	if err != nil {
		t.Fatal(err)
	}
	got, gotRep, err := Convert(parsed, opts)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateNaNs(), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("text path differs from Gatherer path (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantRep, gotRep); diff != "" {
		t.Errorf("reports differ (-want +got):\n%s", diff)
	}
	// Guard against a vacuous pass.
	if len(want.Series) < 30 || len(want.Metadata) != 6 {
		t.Errorf("got %d series, %d metadata; the registry should give >= 30 and 6", len(want.Series), len(want.Metadata))
	}
}
