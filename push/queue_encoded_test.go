package push

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/rwkit/rwkit/internal/waitfor"
	"github.com/rwkit/rwkit/wire"
)

// On RW 1.0 a Queue encodes a batch as the client's requests at Append
// (at most the sample limit each, in order) and sends them as encoded: a
// refused request is counted and the next ones are still delivered.
func TestQueueSendsBatchAsEncodedRequests(t *testing.T) {
	rc := newReceiver(t)
	rc.setRespond(func(n int) (int, string) {
		if n == 1 {
			return http.StatusBadRequest, "out of bounds"
		}
		return http.StatusNoContent, ""
	})
	q, reg := startQueue(t, rc.url(), WithClientOptions(maxSamples(3)))
	if err := q.Append(batch("m", 10, 1000, 1)); err != nil {
		t.Fatal(err)
	}
	waitfor.True(t, "four requests", func() bool { return rc.requests() == 4 })
	var sizes []int
	for _, r := range rc.accepted() {
		sizes = append(sizes, len(r.Series))
	}
	if diff := cmp.Diff([]int{3, 3, 1}, sizes); diff != "" {
		t.Errorf("series per accepted request (-want +got):\n%s", diff)
	}
	want := []string{"0@1000=1", "1@1000=1", "2@1000=1", "6@1000=1", "7@1000=1", "8@1000=1", "9@1000=1"}
	if diff := cmp.Diff(want, sampleKeys(rc.accepted())); diff != "" {
		t.Errorf("accepted samples (-want +got):\n%s", diff)
	}
	waitfor.True(t, "counted", func() bool { return testutil.ToFloat64(q.m.samples.WithLabelValues(resultSuccess)) == 7 })
	wantMetric(t, "rejected samples", q.m.samples.WithLabelValues(resultRejected), 3)
	wantMetric(t, "rejected requests", q.m.requests.WithLabelValues(resultRejected), 1)
	if n, err := testutil.GatherAndCount(reg, "rwkit_push_requests_total"); err != nil || n == 0 {
		t.Errorf("rwkit_push_requests_total: %d series, %v", n, err)
	}
	if err := q.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// A request that fails retryably is sent again whole, and the requests
// after it wait for it: the receiver gets every sample once, in order.
func TestQueueRetriesEncodedRequestWhole(t *testing.T) {
	rc := newReceiver(t)
	rc.setRespond(func(n int) (int, string) {
		if n == 1 {
			return http.StatusServiceUnavailable, "busy"
		}
		return http.StatusNoContent, ""
	})
	q, _ := startQueue(t, rc.url(), WithClientOptions(maxSamples(4)), WithBackoff(time.Millisecond, time.Millisecond))
	if err := q.Append(batch("m", 10, 1000, 1)); err != nil {
		t.Fatal(err)
	}
	waitfor.True(t, "all delivered", func() bool { return len(sampleKeys(rc.accepted())) >= 10 })
	var want []string
	for i := range 10 {
		want = append(want, fmt.Sprintf("%d@1000=1", i))
	}
	if diff := cmp.Diff(want, sampleKeys(rc.accepted())); diff != "" {
		t.Errorf("accepted samples (-want +got):\n%s", diff)
	}
	if n := rc.requests(); n != 4 {
		t.Errorf("%d requests, want 4 (3 and one retry)", n)
	}
}

// A series with more points than the sample limit cannot be one request:
// the batch is kept whole and cut by the client, the series in parts.
func TestQueueSeriesOverLimitIsCutAtSend(t *testing.T) {
	rc := newReceiver(t)
	q, _ := startQueue(t, rc.url(), WithClientOptions(maxSamples(2)))
	req := &wire.WriteRequest{Series: []wire.TimeSeries{{
		Labels:  []wire.Label{{Name: "__name__", Value: "m"}, {Name: "i", Value: "0"}},
		Samples: []wire.Sample{{Value: 1, Timestamp: 1}, {Value: 2, Timestamp: 2}, {Value: 3, Timestamp: 3}},
	}}}
	if err := q.Append(req); err != nil {
		t.Fatal(err)
	}
	waitfor.True(t, "delivered", func() bool { return len(sampleKeys(rc.accepted())) == 3 })
	if diff := cmp.Diff([]string{"0@1=1", "0@2=2", "0@3=3"}, sampleKeys(rc.accepted())); diff != "" {
		t.Errorf("accepted samples (-want +got):\n%s", diff)
	}
	if n := rc.requests(); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

// encodeRequests cuts at the sample limit and at the byte limit, each
// request's body decoding to its series, and gives up on a series alone
// over a limit.
func TestEncodeRequestsCuts(t *testing.T) {
	req := batch("m", 10, 1000, 1)
	one := wire.TimeSeriesSize(&req.Series[0])
	for _, tc := range []struct {
		name                 string
		maxBytes, maxSamples int
		want                 []int // series per request
	}{
		{"samples", 1 << 20, 4, []int{4, 4, 2}},
		{"bytes", 3 * one, 100, []int{3, 3, 3, 1}},
		{"both", 2*one + 1, 3, []int{2, 2, 2, 2, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snaps, ok := encodeRequests(5, req, tc.maxBytes, tc.maxSamples, &encodeScratch{}, nil)
			if !ok {
				t.Fatal("not ok")
			}
			var sizes []int
			var keys []string
			for _, s := range snaps {
				var got wire.WriteRequest
				if _, err := s.decode(&got, nil); err != nil {
					t.Fatal(err)
				}
				if !s.request || s.series != len(got.Series) || s.counts.Samples != len(got.Series) || s.rawLen > tc.maxBytes {
					t.Errorf("snapshot %+v for %d series", s, len(got.Series))
				}
				sizes = append(sizes, len(got.Series))
				keys = append(keys, sampleKeys([]wire.WriteRequest{got})...)
			}
			if diff := cmp.Diff(tc.want, sizes); diff != "" {
				t.Errorf("series per request (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(sampleKeys([]wire.WriteRequest{*req}), keys); diff != "" {
				t.Errorf("samples (-want +got):\n%s", diff)
			}
		})
	}
	if _, ok := encodeRequests(5, req, one-1, 100, &encodeScratch{}, nil); ok {
		t.Error("a series over the byte limit: ok")
	}
	big := &wire.WriteRequest{Series: []wire.TimeSeries{{Labels: req.Series[0].Labels, Samples: make([]wire.Sample, 3)}}}
	if _, ok := encodeRequests(5, big, 1<<20, 2, &encodeScratch{}, nil); ok {
		t.Error("a series over the sample limit: ok")
	}
}

// batchOf is req as a Batch.
func batchOf(req *wire.WriteRequest) *Batch {
	var b Batch
	for i := range req.Series {
		b.Add(wire.AppendLabels(nil, req.Series[i].Labels), &req.Series[i])
	}
	return &b
}

// AppendBatch delivers a Batch's series as Append delivers a request: cut
// at the client's limits on RW 1.0, and decoded for RW 2.0 and for a
// series over a limit.
func TestQueueAppendBatch(t *testing.T) {
	over := &wire.WriteRequest{Series: []wire.TimeSeries{{
		Labels:  []wire.Label{{Name: "__name__", Value: "m"}, {Name: "i", Value: "0"}},
		Samples: []wire.Sample{{Value: 1, Timestamp: 1}, {Value: 2, Timestamp: 2}, {Value: 3, Timestamp: 3}},
	}}}
	for _, tc := range []struct {
		name    string
		version wire.Version
		req     *wire.WriteRequest
		limit   int   // samples per request
		want    []int // series per request
	}{
		{"v1", wire.V1, batch("m", 10, 1000, 1), 3, []int{3, 3, 3, 1}},
		{"v2", wire.V2, batch("m", 10, 1000, 1), 3, []int{3, 3, 3, 1}},
		{"series over the limit", wire.V1, over, 2, []int{1, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := newReceiver(t)
			q, _ := startQueue(t, rc.url(), WithRWVersion(tc.version), WithClientOptions(maxSamples(tc.limit)))
			b := batchOf(tc.req)
			if err := q.AppendBatch(b); err != nil {
				t.Fatal(err)
			}
			b.Reset() // the queue keeps its own copy
			checkDelivered(t, rc, tc.req, tc.want)
		})
	}
}

// A Batch set from an encoded request (SetEncoded, as the agent hands a
// stream loop's scrape) is cut and delivered as the same series added one
// by one; a body that is no request's series is refused.
func TestBatchSetEncoded(t *testing.T) {
	req := batch("m", 10, 1000, 1)
	req.Series[3].Samples = append(req.Series[3].Samples, wire.Sample{Value: 9, Timestamp: 2000})
	body := wire.AppendWriteRequest(nil, req)
	var b Batch
	if err := b.SetEncoded(body, 0); err != nil {
		t.Fatal(err)
	}
	if b.Len() != len(req.Series) {
		t.Fatalf("Len %d, want %d", b.Len(), len(req.Series))
	}
	rc := newReceiver(t)
	q, _ := startQueue(t, rc.url(), WithClientOptions(maxSamples(3)))
	if err := q.AppendBatch(&b); err != nil {
		t.Fatal(err)
	}
	// Series 3 has two samples: at most 3 samples a request.
	checkDelivered(t, rc, req, []int{3, 2, 3, 2})
	// Vouched for, one sample each: the batch is cut by that count.
	one := wire.AppendWriteRequest(nil, batch("m", 10, 1000, 1))
	if err := b.SetEncoded(one, 1); err != nil || b.Len() != 10 {
		t.Fatalf("SetEncoded(one sample each): %v, Len %d", err, b.Len())
	}
	for _, bad := range [][]byte{{0x12, 0x01, 0x00}, {0x0a, 0x05, 0x0a}, body[:len(body)-1]} {
		if err := b.SetEncoded(bad, 0); err == nil || b.Len() != 0 {
			t.Errorf("SetEncoded(% x): %v, Len %d; want an error and an empty batch", bad, err, b.Len())
		}
	}
}

// checkDelivered waits until rc accepted every sample of req and checks
// them and the series of each request rc accepted.
func checkDelivered(t *testing.T, rc *receiver, req *wire.WriteRequest, sizes []int) {
	t.Helper()
	want := sampleKeys([]wire.WriteRequest{*req})
	waitfor.True(t, "delivered", func() bool { return len(sampleKeys(rc.accepted())) == len(want) })
	if diff := cmp.Diff(want, sampleKeys(rc.accepted())); diff != "" {
		t.Errorf("accepted samples (-want +got):\n%s", diff)
	}
	var got []int
	for _, r := range rc.accepted() {
		got = append(got, len(r.Series))
	}
	if diff := cmp.Diff(sizes, got); diff != "" {
		t.Errorf("series per request (-want +got):\n%s", diff)
	}
}
