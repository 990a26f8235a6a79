package remotewrite_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/wire"
)

func Example() {
	// A receiver that refuses like Cortex (the engine behind AMP) when two
	// writers send the same series at the same timestamp.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `user=ws-1: err: duplicate sample for timestamp. timestamp=2026-01-02T03:04:05Z, series={__name__="jvm_threads_live_threads"}`, http.StatusBadRequest)
	}))
	defer srv.Close()

	client, err := remotewrite.New(srv.URL + "/api/v1/push")
	if err != nil {
		fmt.Println(err)
		return
	}
	req := &wire.WriteRequest{Series: []wire.TimeSeries{{
		Labels:  []wire.Label{{Name: "__name__", Value: "jvm_threads_live_threads"}},
		Samples: []wire.Sample{{Value: 21, Timestamp: 1767323045000}},
	}}}
	res, err := client.Write(context.Background(), req)
	var rwErr *remotewrite.Error
	if errors.As(err, &rwErr) {
		fmt.Println(rwErr.StatusCode, rwErr.Reason, rwErr.Retryable(), rwErr.Attempts)
		fmt.Println(rwErr.Hint)
	}
	fmt.Println(res.Requests, "delivered")
	// Output:
	// 400 new-value-for-timestamp false 1
	// another writer sends the same series at the same timestamp with a different value; add a per-writer label such as instance (e.g. rwkit push --label instance=$HOSTNAME)
	// 0 delivered
}

func ExampleClassify() {
	reason, hint := remotewrite.Classify(400, "")
	fmt.Printf("%q\n%s\n", reason, hint)
	reason, _ = remotewrite.Classify(429, "ingestion rate limit (6666.666666666667) exceeded while adding 499 samples and 0 metadata")
	fmt.Println(reason)
	// Output:
	// ""
	// the receiver gave no reason; AMP answers 400 with an empty body and counts the discards by reason: run `rwkit discards --workspace-id <id> --region <region>` or read CloudWatch AWS/Prometheus DiscardedSamples by Reason
	// rate_limited
}
