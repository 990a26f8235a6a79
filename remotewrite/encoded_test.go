package remotewrite

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rwkit/rwkit/wire"
)

func encoded(ts []wire.TimeSeries) Encoded {
	raw := wire.AppendWriteRequest(nil, &wire.WriteRequest{Series: ts})
	return Encoded{Body: wire.Compress(nil, raw), RawLen: len(raw), Counts: Counts{Series: len(ts), Samples: len(ts)}}
}

// WriteEncoded sends the body as given, with Write's retries and
// accounting; a refusal is an *Error counting the request.
func TestWriteEncoded(t *testing.T) {
	statuses := []int{503, 204, 400}
	rc := newReceiver(t, func(n int, got *received) (int, map[string]string, string) {
		return statuses[n], nil, "x"
	})
	s := &sleeps{}
	c := mustNew(t, rc.url(), testOpts(s, WithRetry(time.Millisecond, time.Millisecond, 2))...)
	e := encoded(series("up", 3, 7))
	res, err := c.WriteEncoded(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	if res.Attempts != 2 || res.Requests != 1 || res.Series != 3 || res.Samples != 3 || res.BytesCompressed != len(e.Body) || res.BytesUncompressed != e.RawLen {
		t.Errorf("result = %+v", res)
	}
	got := rc.requests()
	if len(got) != 2 || got[1].Version != wire.V1 || !bytes.Equal(got[1].Raw, wire.AppendWriteRequest(nil, &wire.WriteRequest{Series: series("up", 3, 7)})) {
		t.Fatalf("received %d requests; last %+v", len(got), got[len(got)-1])
	}
	_, err = c.WriteEncoded(context.Background(), e)
	var re *Error
	if !errors.As(err, &re) || re.StatusCode != 400 || re.Retryable() || re.Counts.Samples != 3 || re.BytesCompressed != len(e.Body) {
		t.Fatalf("err = %v, want a non-retryable *Error counting 3 samples", err)
	}
}

// A client on RW 2.0 refuses an RW 1.0 body instead of sending it.
func TestWriteEncodedRefusedOnV2(t *testing.T) {
	rc := newReceiver(t, nil)
	c := mustNew(t, rc.url(), WithVersion(wire.V2))
	if _, err := c.WriteEncoded(context.Background(), encoded(series("up", 1, 1))); err == nil {
		t.Fatal("no error")
	}
	if n := len(rc.requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}
