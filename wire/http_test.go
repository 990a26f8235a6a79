package wire

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

// The versions and 415 texts are client_golang's remote.ParseProtoMsg's,
// which Cortex and Prometheus answer with.
func TestParseContentType(t *testing.T) {
	for _, tc := range []struct {
		ct      string
		want    Version
		errText string // a substring of the error; "" for none
		loose   bool
	}{
		{"", V1, "", false},
		{"  ", V1, "", false},
		{V1.ContentType(), V1, "", false},
		{V2.ContentType(), V2, "", false},
		{"application/x-protobuf;proto=prometheus.WriteRequest", V1, "", false},
		{"application/x-protobuf;foo=bar", V1, "", false},
		{"text/plain", 0, "expected application/x-protobuf as the first (media) part, got text/plain content-type", false},
		{"application/x-protobuf ; proto=prometheus.WriteRequest", 0, "expected application/x-protobuf as the first (media) part", true},
		{"Application/X-Protobuf", 0, "expected application/x-protobuf", true},
		{"application/x-protobuf;proto", 0, "expected parameters to be key-values, got proto in application/x-protobuf;proto content-type", false},
		{"application/x-protobuf;proto=io.prometheus.write.v3.Request", 0, "unknown type for remote write protobuf message io.prometheus.write.v3.Request, supported: prometheus.WriteRequest, io.prometheus.write.v2.Request", false},
	} {
		got, err := ParseContentType(tc.ct)
		if tc.errText == "" {
			if err != nil || got != tc.want {
				t.Errorf("ParseContentType(%q) = %v, %v; want %v, nil", tc.ct, got, err, tc.want)
			}
			continue
		}
		var cte *ContentTypeError
		if !errors.As(err, &cte) || !strings.Contains(err.Error(), tc.errText) || cte.Loose != tc.loose {
			t.Errorf("ParseContentType(%q) = %v, %v; want a *ContentTypeError containing %q, Loose %v", tc.ct, got, err, tc.errText, tc.loose)
		}
	}
}

func TestWriteStatsHeaders(t *testing.T) {
	h := http.Header{}
	want := WriteStats{Samples: 3, Histograms: 2, Exemplars: 1}
	want.SetHeaders(h)
	if got, ok := ParseWriteStats(h); !ok || got != want {
		t.Errorf("ParseWriteStats(SetHeaders(%+v)) = %+v, %v", want, got, ok)
	}
	if got, ok := ParseWriteStats(http.Header{}); ok || got != (WriteStats{}) {
		t.Errorf("no headers: %+v, %v; want zero, false", got, ok)
	}
	// A missing or unparsable header counts 0; one good header confirms.
	h = http.Header{}
	h.Set(HeaderSamplesWritten, "-1")
	h.Set(HeaderHistogramsWritten, "x")
	if _, ok := ParseWriteStats(h); ok {
		t.Error("only unparsable headers: ok = true")
	}
	h.Set(HeaderExemplarsWritten, "4")
	if got, ok := ParseWriteStats(h); !ok || got != (WriteStats{Exemplars: 4}) {
		t.Errorf("got %+v, %v; want {Exemplars: 4}, true", got, ok)
	}
}
