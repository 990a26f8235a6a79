package push

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// A write split into several requests is sent whole: the refused request
// is reported with its place and what it held, every other request is
// delivered, and the result counts what was stored.
func TestOnceSendsASplitWriteWhole(t *testing.T) {
	rc := newReceiver(t)
	rc.setRespond(func(n int) (int, string) {
		if n == 1 {
			return http.StatusBadRequest, "label value too long"
		}
		return http.StatusNoContent, ""
	})
	reg := prometheus.NewRegistry()
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "g", Help: "G."}, []string{"i"})
	reg.MustRegister(g)
	for i := range 50 {
		g.WithLabelValues(fmt.Sprint(i)).Set(float64(i))
	}
	at := time.UnixMilli(1_700_000_000_000)
	res, err := Once(context.Background(), rc.url(), reg, WithoutIdentity(), WithBatchTimestamp(at),
		WithClientOptions(maxSamples(10)))
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 5 || rc.requests() != 5 {
		t.Errorf("%d requests reported, %d received; want 5 (50 series, 10 a request)", res.Requests, rc.requests())
	}
	if len(res.Refused) != 1 || res.Refused[0].Request != 2 || res.Refused[0].Requests != 5 || res.Refused[0].Series != 10 {
		t.Fatalf("refused %+v, want request 2 of 5 with 10 series", res.Refused)
	}
	if res.Failed != nil {
		t.Errorf("Failed = %v", res.Failed)
	}
	if res.Stored.Samples != 40 || res.Converted.Series != 50 || res.Timestamp != at.UnixMilli() {
		t.Errorf("stored %d samples of %d series at %d, want 40 of 50 at %d", res.Stored.Samples, res.Converted.Series, res.Timestamp, at.UnixMilli())
	}
	if res.OK() {
		t.Error("OK() with a refusal")
	}
	for _, r := range rc.accepted() {
		for _, s := range r.Series {
			if s.Samples[0].Timestamp != at.UnixMilli() {
				t.Fatalf("sample at %d, want the batch timestamp", s.Samples[0].Timestamp)
			}
		}
	}
}

// A backend that cannot be reached: Once reports what failed and returns,
// nothing buffered; a Pusher refuses WithBatchTimestamp.
func TestOnceFailure(t *testing.T) {
	rc := newReceiver(t)
	rc.setRespond(func(int) (int, string) { return http.StatusServiceUnavailable, "down" })
	reg, _ := testRegistry()
	res, err := Once(context.Background(), rc.url(), reg, WithoutIdentity(),
		WithClientOptions(maxSamples(2000)), WithBackoff(time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed == nil || !strings.Contains(res.Failed.Error(), "503") || res.Stored.Samples != 0 {
		t.Errorf("Failed = %v, stored %d", res.Failed, res.Stored.Samples)
	}
	if _, err := New(rc.url(), reg, WithoutIdentity(), WithBatchTimestamp(time.Now())); err == nil {
		t.Error("New took WithBatchTimestamp")
	}
}
