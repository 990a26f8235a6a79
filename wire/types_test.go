package wire

import (
	"strings"
	"testing"

	"github.com/prometheus/prometheus/prompb"
)

// MetricType's names are prompb's enum names, lower-cased, which are the
// exposition formats' and the Prometheus API's.
func TestMetricTypeString(t *testing.T) {
	for n, name := range prompb.MetricMetadata_MetricType_name {
		if got, want := MetricType(n).String(), strings.ToLower(name); got != want {
			t.Errorf("MetricType(%d).String() = %q, want %q", n, got, want)
		}
	}
	if got := MetricType(42).String(); got != "unknown" {
		t.Errorf("MetricType(42).String() = %q, want unknown", got)
	}
}
