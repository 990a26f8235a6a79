package verify_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rwkit/rwkit/internal/promtest"
	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/verify"
	"github.com/rwkit/rwkit/wire"
)

var services = []string{"auth", "actor", "document", "notification", "audit", "bff"}

// pushServices writes jvm_threads_live_threads for each service, with
// service and instance labels, to a remote-write URL at ts.
func pushServices(t *testing.T, writeURL string, ts time.Time) {
	t.Helper()
	req := &wire.WriteRequest{}
	for i, s := range services {
		req.Series = append(req.Series, wire.TimeSeries{
			Labels: []wire.Label{
				{Name: "__name__", Value: "jvm_threads_live_threads"},
				{Name: "instance", Value: s + "-task-1"},
				{Name: "service", Value: s},
			},
			Samples: []wire.Sample{{Value: float64(10 + i), Timestamp: ts.UnixMilli()}},
		})
	}
	client, err := remotewrite.New(writeURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Write(context.Background(), req); err != nil {
		t.Fatalf("push to Prometheus: %v", err)
	}
}

func TestAgainstPrometheus(t *testing.T) {
	prom := promtest.Start(t)
	ts := time.Now().Truncate(time.Second)
	pushServices(t, prom.WriteURL, ts)
	ctx := context.Background()

	res, err := verify.Query(ctx, http.DefaultClient, prom.URL, `count by (service) (jvm_threads_live_threads)`, ts, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := verify.Check(res, []verify.Expectation{verify.ExpectSeries(6), verify.ExpectDistinct("service", 6), verify.ExpectLabel("service")})
	if !verify.Passed(got) {
		t.Errorf("six services: %+v", got)
	}
	got = verify.Check(res, []verify.Expectation{verify.ExpectDistinct("service", 7)})
	want := []verify.Outcome{{Expectation: "distinct service = 7", Got: "6 values: actor, audit, auth, bff, document, notification"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("seven services (-want +got):\n%s", diff)
	}

	// The raw series carry instance; a label nobody sends fails.
	res, err = verify.Query(ctx, http.DefaultClient, prom.URL, `jvm_threads_live_threads`, ts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := verify.Check(res, []verify.Expectation{verify.ExpectLabel("instance"), verify.ExpectLabel("pod")}); !got[0].Pass || got[1].Pass {
		t.Errorf("labels: %+v", got)
	}
	if res.Samples[0].Labels["service"] != "actor" || res.Samples[0].Value != 11 || !res.Samples[0].Timestamp.Equal(ts) {
		t.Errorf("first sample = %+v", res.Samples[0])
	}

	// A query that fails to parse comes back as the API's bad_data error.
	_, err = verify.Query(ctx, http.DefaultClient, prom.URL, `count by (`, ts, nil)
	ae, ok := err.(*verify.APIError)
	if !ok || ae.StatusCode != 400 || ae.ErrorType != "bad_data" || ae.Err == "" {
		t.Errorf("bad query: %#v", err)
	}
	// Prometheus' range queries are refused, not misread.
	if _, err := verify.Query(ctx, http.DefaultClient, prom.URL, `jvm_threads_live_threads[5m]`, ts, nil); err != verify.ErrRangeVector {
		t.Errorf("range vector: %v", err)
	}
}
