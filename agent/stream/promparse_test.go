package stream_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/proto"
)

// A target that answers OpenMetrics or protobuf although the loop asks for
// the text format: Prometheus' parser reads the body, as Prometheus' scrape
// loop would, and the target is not lost.
func TestNonTextBodiesGoToPrometheusParser(t *testing.T) {
	var pb bytes.Buffer
	enc := expfmt.NewEncoder(&pb, expfmt.NewFormat(expfmt.TypeProtoDelim))
	if err := enc.Encode(&dto.MetricFamily{
		Name: proto.String("pb_gauge"), Type: dto.MetricType_GAUGE.Enum(),
		Metric: []*dto.Metric{{Label: []*dto.LabelPair{{Name: proto.String("a"), Value: proto.String("x")}}, Gauge: &dto.Gauge{Value: proto.Float64(2.5)}}},
	}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, contentType, body string
		want                    map[string]string
	}{
		{"OpenMetrics", "application/openmetrics-text; version=1.0.0", "# TYPE om counter\nom_total 3\n# EOF\n", map[string]string{"om_total": "3"}},
		{"protobuf", string(expfmt.NewFormat(expfmt.TypeProtoDelim)), pb.String(), map[string]string{"pb_gauge": "2.5"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg, _ := server(t, func(w http.ResponseWriter) {
				w.Header().Set("Content-Type", tc.contentType)
				w.Write([]byte(tc.body))
			})
			out := &lastBody{}
			l := newLoop(t, loadConfig(t, tg, "", "", ""), out)
			for i := range 2 {
				r, err := l.Scrape(context.Background(), time.UnixMilli(int64(1000*(i+1))))
				if err != nil || !r.PromParsed {
					t.Fatalf("scrape %d: %v, parsed by Prometheus' parser: %v", i+1, err, r.PromParsed)
				}
				got := map[string]string{}
				for _, ts := range out.req.Series {
					got[ts.Labels[0].Value] = value(ts.Samples[0].Value)
				}
				for k, v := range tc.want {
					if got[k] != v {
						t.Errorf("scrape %d: %s = %q, want %q (written: %v)", i+1, k, got[k], v, got)
					}
				}
				if got["up"] != "1" {
					t.Errorf("scrape %d: up = %q, want 1", i+1, got["up"])
				}
			}
		})
	}
}
