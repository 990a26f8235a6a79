package scrape

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
)

func names(fams []*dto.MetricFamily) []string {
	var out []string
	for _, f := range fams {
		out = append(out, f.GetName())
	}
	return out
}

func TestFetchNegotiatesEveryFormat(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "requests_total", Help: "Requests."}, []string{"code"})
	c.WithLabelValues("200").Add(3)
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "temperature_celsius", Help: "Temp."})
	g.Set(21.5)
	reg.MustRegister(c, g)

	for _, tc := range []struct {
		name   string
		accept string // what the server pretends the client asked for
	}{
		{"protobuf", ""},
		{"text", "text/plain;version=0.0.4"},
		{"openmetrics", "application/openmetrics-text;version=1.0.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.accept != "" {
					r.Header.Set("Accept", tc.accept)
				}
				h.ServeHTTP(w, r)
			}))
			defer srv.Close()
			fams, err := Fetch(context.Background(), srv.Client(), srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"requests_total", "temperature_celsius"}, names(fams)); diff != "" {
				// OpenMetrics names counters without the _total suffix.
				if diff2 := cmp.Diff([]string{"requests", "temperature_celsius"}, names(fams)); diff2 != "" {
					t.Fatalf("families (-want +got):\n%s", diff)
				}
			}
			if got := fams[1].GetMetric()[0].GetGauge().GetValue(); got != 21.5 {
				t.Errorf("gauge = %v, want 21.5", got)
			}
		})
	}
}

func TestFetchStatusError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "nope", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	_, err := Fetch(context.Background(), srv.Client(), srv.URL)
	if err == nil || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("err = %v, want the status and body", err)
	}
}

func TestParseSniffsOpenMetrics(t *testing.T) {
	om := "# TYPE up gauge\nup 1\n# EOF\n"
	fams, err := Parse(strings.NewReader(om), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(fams) != 1 || fams[0].GetMetric()[0].GetGauge().GetValue() != 1 {
		t.Fatalf("got %v", fams)
	}
}

func TestParseErrorNamesLine(t *testing.T) {
	_, err := Parse(strings.NewReader("ok 1\nbad{ 2\n"), "")
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("err = %v, want it to name line 2", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("# TYPE up gauge\nup 1\n"))
	f.Add([]byte("# TYPE up gauge\nup 1\n# EOF\n"))
	f.Add([]byte("h_bucket{le=\"1\"} 2\nh_count 2\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = Parse(strings.NewReader(string(b)), "")
	})
}

// prometheus/common's text parser panics on this body (assignment to a
// nil map); Parse answers an error instead.
func TestParseSurvivesParserPanic(t *testing.T) {
	body := "# TYPE s summary\nx 1\n{\"s_sum\",a=\"1\"} 1\n"
	for _, ct := range []string{"", "text/plain; version=0.0.4"} {
		fams, err := Parse(strings.NewReader(body), ct)
		if err == nil || !strings.Contains(err.Error(), "parser panicked on this body") {
			t.Errorf("content type %q: got %v, %v; want the parser's panic as an error", ct, fams, err)
		}
	}
}
