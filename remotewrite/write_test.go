package remotewrite

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rwkit/rwkit/internal/version"
	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
)

func TestHeaders(t *testing.T) {
	for _, v := range []wire.Version{wire.V1, wire.V2} {
		t.Run(v.String(), func(t *testing.T) {
			rc := newReceiver(t, func(n int, got *received) (int, map[string]string, string) {
				return 204, written(got), ""
			})
			c := mustNew(t, rc.url(), WithVersion(v), WithHeader("X-Scope-OrgID", "tenant-1"))
			if _, err := c.Write(context.Background(), &wire.WriteRequest{Series: series("up", 3, 1000)}); err != nil {
				t.Fatal(err)
			}
			reqs := rc.requests()
			if len(reqs) != 1 {
				t.Fatalf("got %d requests, want 1", len(reqs))
			}
			h := reqs[0].Header
			got := map[string]string{}
			for _, k := range []string{"Content-Encoding", "Content-Type", "X-Prometheus-Remote-Write-Version", "User-Agent", "X-Scope-Orgid"} {
				got[k] = h.Get(k)
			}
			want := map[string]string{
				"Content-Encoding":                  "snappy",
				"Content-Type":                      v.ContentType(),
				"X-Prometheus-Remote-Write-Version": v.HeaderValue(),
				"User-Agent":                        version.UserAgent(),
				"X-Scope-Orgid":                     "tenant-1",
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRetryAfter429(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name       string
		retryAfter string
		want       time.Duration
	}{
		{"seconds", "7", 7 * time.Second},
		{"http-date", now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{"date in the past", now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"absent: exponential backoff", "", DefaultMinBackoff},
		{"garbage: exponential backoff", "soon", DefaultMinBackoff},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t, func(n int, got *received) (int, map[string]string, string) {
				if n == 0 {
					return 429, map[string]string{"Retry-After": tt.retryAfter}, "ingestion rate limit (6666.666666666667) exceeded while adding 3 samples and 0 metadata"
				}
				return 200, nil, ""
			})
			s := &sleeps{}
			c := mustNew(t, rc.url(), testOpts(s, WithClock(func() time.Time { return now }))...)
			res, err := c.Write(context.Background(), &wire.WriteRequest{Series: series("up", 3, 1000)})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]time.Duration{tt.want}, s.waits); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
			if res.Attempts != 2 || res.Requests != 1 {
				t.Errorf("attempts %d requests %d, want 2 and 1", res.Attempts, res.Requests)
			}
		})
	}
}

func TestRetryAfterIsNotCappedByMaxBackoff(t *testing.T) {
	rc := newReceiver(t, func(n int, got *received) (int, map[string]string, string) {
		if n == 0 {
			return 503, map[string]string{"Retry-After": "120"}, "overloaded"
		}
		return 200, nil, ""
	})
	s := &sleeps{}
	c := mustNew(t, rc.url(), testOpts(s, WithRetry(time.Millisecond, time.Second, 3))...)
	if _, err := c.Write(context.Background(), &wire.WriteRequest{Series: series("up", 1, 1)}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]time.Duration{120 * time.Second}, s.waits); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
}

func TestRetryAfterBeyondDeadlineIsNotWaited(t *testing.T) {
	rc := newReceiver(t, func(n int, got *received) (int, map[string]string, string) {
		return 429, map[string]string{"Retry-After": "3600"}, "slow down"
	})
	s := &sleeps{}
	c := mustNew(t, rc.url(), testOpts(s)...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.Write(ctx, &wire.WriteRequest{Series: series("up", 1, 1)})
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want *Error", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) || e.StatusCode != 429 || e.RetryAfter != time.Hour || len(s.waits) != 0 {
		t.Errorf("err = %v (status %d, retry after %s), waits %v; want deadline exceeded, 429, 1h, no waits", err, e.StatusCode, e.RetryAfter, s.waits)
	}
}

func Test5xxThenSuccess(t *testing.T) {
	statuses := []int{503, 500, 502, 200}
	rc := newReceiver(t, func(n int, got *received) (int, map[string]string, string) {
		return statuses[n], nil, http.StatusText(statuses[n])
	})
	s := &sleeps{}
	c := mustNew(t, rc.url(), testOpts(s, WithRetry(10*time.Millisecond, 25*time.Millisecond, 4))...)
	res, err := c.Write(context.Background(), &wire.WriteRequest{Series: series("up", 2, 1)})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 25 * time.Millisecond}, s.waits); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
	if res.Attempts != 4 || res.Requests != 1 || res.Series != 2 || res.Samples != 2 {
		t.Errorf("result = %+v", res)
	}
	if n := len(rc.requests()); n != 4 {
		t.Errorf("receiver saw %d attempts, want 4", n)
	}
}

func Test5xxGivesUp(t *testing.T) {
	rc := newReceiver(t, func(n int, got *received) (int, map[string]string, string) {
		return 500, nil, "internal error"
	})
	s := &sleeps{}
	c := mustNew(t, rc.url(), testOpts(s, WithRetry(time.Millisecond, time.Millisecond, 3))...)
	_, err := c.Write(context.Background(), &wire.WriteRequest{Series: series("up", 1, 1)})
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != 500 || e.Attempts != 3 || !e.Retryable() {
		t.Fatalf("err = %v, want a retryable *Error after 3 attempts", err)
	}
}

func Test400NotRetried(t *testing.T) {
	const body = "user=ws-1: err: duplicate sample for timestamp. timestamp=2026-01-02T03:04:05Z, series={__name__=\"jvm_threads_live_threads\"}\n"
	rc := newReceiver(t, func(n int, got *received) (int, map[string]string, string) {
		return 400, map[string]string{"Retry-After": "1"}, body
	})
	s := &sleeps{}
	c := mustNew(t, rc.url(), testOpts(s)...)
	req := &wire.WriteRequest{Series: series("jvm_threads_live_threads", 12, 1000)}
	res, err := c.Write(context.Background(), req)
	if n := len(rc.requests()); n != 1 {
		t.Fatalf("receiver saw %d attempts, want exactly 1", n)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want *Error", err)
	}
	got := rc.requests()[0]
	want := Error{
		StatusCode: 400, Status: "400 Bad Request", Body: body,
		Reason: validate.NewValueForTimestamp, Hint: validate.NewValueForTimestamp.Hint(),
		URL: rc.url(), Version: wire.V1, Request: 1, Requests: 1,
		BytesCompressed: got.Compressed, BytesUncompressed: got.RawLen,
		Counts: Counts{Series: 12, Samples: 12}, Total: Counts{Series: 12, Samples: 12},
		Attempts: 1,
	}
	if diff := cmp.Diff(want, *e); diff != "" {
		t.Errorf("error (-want +got):\n%s", diff)
	}
	if e.Retryable() || len(s.waits) != 0 {
		t.Errorf("Retryable() = %v, waits %v; a 400 is final", e.Retryable(), s.waits)
	}
	containsAll(t, err.Error(), "remote write refused: 400 Bad Request (new-value-for-timestamp) from "+rc.url(),
		"12 series, 12 samples", "snappy", "raw", "attempt 1", `body "user=ws-1: err: duplicate sample for timestamp.`, "add a per-writer label")
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("Error() is not one line: %q", err)
	}
	if res == nil || res.Requests != 0 || res.Attempts != 1 {
		t.Errorf("result = %+v, want 0 delivered, 1 attempt", res)
	}
}

func TestEmpty400Hint(t *testing.T) {
	rc := newReceiver(t, func(n int, got *received) (int, map[string]string, string) { return 400, nil, "" })
	c := mustNew(t, rc.url())
	_, err := c.Write(context.Background(), &wire.WriteRequest{Series: series("up", 1, 1)})
	var e *Error
	if !errors.As(err, &e) || e.Reason != validate.Unknown || e.Hint != discardsHint {
		t.Fatalf("err = %v, want the discards hint", err)
	}
	containsAll(t, err.Error(), `body ""`, "rwkit discards", "DiscardedSamples")
}

func TestOtherClientErrorsNotRetried(t *testing.T) {
	for _, status := range []int{401, 403, 404, 409, 413, 422} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			rc := newReceiver(t, func(n int, got *received) (int, map[string]string, string) { return status, nil, "no" })
			s := &sleeps{}
			c := mustNew(t, rc.url(), testOpts(s)...)
			_, err := c.Write(context.Background(), &wire.WriteRequest{Series: series("up", 1, 1)})
			var e *Error
			if !errors.As(err, &e) || e.StatusCode != status || e.Attempts != 1 || len(rc.requests()) != 1 || e.Hint == "" {
				t.Fatalf("err = %v; want one attempt with status %d and a hint", err, status)
			}
		})
	}
}

func Test415FallsBackToV1(t *testing.T) {
	rc := newReceiver(t, func(n int, got *received) (int, map[string]string, string) {
		if got.Version == wire.V2 {
			return 415, nil, "unsupported content type"
		}
		return 200, nil, ""
	})
	c := mustNew(t, rc.url(), WithVersion(wire.V2))
	req := &wire.WriteRequest{
		Series:   series("up", 3, 1000),
		Metadata: []wire.Metadata{{Type: wire.MetricTypeGauge, FamilyName: "up", Help: "test gauge"}},
	}
	res, err := c.Write(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if c.Version() != wire.V1 || res.Version != wire.V1 {
		t.Errorf("Version() = %s, Result.Version = %s; want 1.0", c.Version(), res.Version)
	}
	if _, err := c.Write(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	var versions []wire.Version
	for _, r := range rc.requests() {
		versions = append(versions, r.Version)
	}
	if diff := cmp.Diff([]wire.Version{wire.V2, wire.V1, wire.V1}, versions); diff != "" {
		t.Errorf("versions sent (-want +got):\n%s", diff)
	}
	resent := rc.requests()[1].Req
	if len(resent.Series) != 3 || len(resent.Metadata) != 1 {
		t.Errorf("RW 1.0 resend has %d series and %d metadata, want 3 and 1", len(resent.Series), len(resent.Metadata))
	}
	if res.Requests != 1 || res.Attempts != 2 || res.Series != 3 || res.Metadata != 1 {
		t.Errorf("result = %+v", res)
	}
}

func Test415OnV1IsFinal(t *testing.T) {
	rc := newReceiver(t, func(n int, got *received) (int, map[string]string, string) { return 415, nil, "" })
	c := mustNew(t, rc.url())
	_, err := c.Write(context.Background(), &wire.WriteRequest{Series: series("up", 1, 1)})
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != 415 || len(rc.requests()) != 1 {
		t.Fatalf("err = %v, want one 415", err)
	}
}

func TestRW2Written(t *testing.T) {
	tests := []struct {
		name            string
		header          func(got *received) map[string]string
		wantVersions    []wire.Version
		wantWritten     Counts
		wantUnconfirmed Counts
		wantClient      wire.Version
	}{
		{
			name:         "all written",
			header:       written,
			wantVersions: []wire.Version{wire.V2},
			wantWritten:  Counts{Samples: 5},
			wantClient:   wire.V2,
		},
		{
			// RW 2.0 spec: "Senders SHOULD assume 415 ... when sending the
			// data using io.prometheus.write.v2.Request request and
			// receiving 2xx HTTP status code, but none of the
			// X-Prometheus-Remote-Write-*-Written response headers".
			name:         "no headers: an RW 1.0 receiver, treated as 415",
			header:       func(*received) map[string]string { return nil },
			wantVersions: []wire.Version{wire.V2, wire.V1},
			wantClient:   wire.V1,
		},
		{
			name: "fewer written than sent",
			header: func(*received) map[string]string {
				return map[string]string{wire.HeaderSamplesWritten: "3"}
			},
			wantVersions:    []wire.Version{wire.V2},
			wantWritten:     Counts{Samples: 3},
			wantUnconfirmed: Counts{Samples: 2},
			wantClient:      wire.V2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t, func(n int, got *received) (int, map[string]string, string) {
				if got.Version == wire.V1 {
					return 200, nil, ""
				}
				return 204, tt.header(got), ""
			})
			c := mustNew(t, rc.url(), WithVersion(wire.V2))
			res, err := c.Write(context.Background(), &wire.WriteRequest{Series: series("up", 5, 1000)})
			if err != nil {
				t.Fatal(err)
			}
			var versions []wire.Version
			for _, r := range rc.requests() {
				versions = append(versions, r.Version)
			}
			if diff := cmp.Diff(tt.wantVersions, versions); diff != "" {
				t.Errorf("versions sent (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantWritten, res.Written); diff != "" {
				t.Errorf("Written (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantUnconfirmed, res.Unconfirmed); diff != "" {
				t.Errorf("Unconfirmed (-want +got):\n%s", diff)
			}
			if c.Version() != tt.wantClient {
				t.Errorf("Version() = %s, want %s", c.Version(), tt.wantClient)
			}
			if res.Samples != 5 || res.Requests != 1 {
				t.Errorf("result = %+v", res)
			}
		})
	}
}

func TestRW2PartialWriteRefused(t *testing.T) {
	rc := newReceiver(t, func(n int, got *received) (int, map[string]string, string) {
		return 400, map[string]string{wire.HeaderSamplesWritten: "4"}, "out of order sample for series {__name__=\"up\", id=\"2\"}"
	})
	c := mustNew(t, rc.url(), WithVersion(wire.V2))
	_, err := c.Write(context.Background(), &wire.WriteRequest{Series: series("up", 5, 1000)})
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v", err)
	}
	if diff := cmp.Diff(&Counts{Samples: 4}, e.Written); diff != "" {
		t.Errorf("Written (-want +got):\n%s", diff)
	}
	if e.Reason != validate.SampleOutOfOrder || c.Version() != wire.V2 {
		t.Errorf("reason %q, version %s", e.Reason, c.Version())
	}
	containsAll(t, e.Error(), "receiver wrote 4 samples")
}

func TestCancelMidRetry(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rc := newReceiver(t, func(n int, got *received) (int, map[string]string, string) {
		// The client gets this answer at once and starts an hour's backoff,
		// with the default (real) sleep; cancel it in the middle.
		time.AfterFunc(300*time.Millisecond, cancel)
		return 503, nil, "try later"
	})
	c := mustNew(t, rc.url(), WithRetry(time.Hour, time.Hour, 10), WithJitter(identity))
	start := time.Now()
	_, err := c.Write(ctx, &wire.WriteRequest{Series: series("up", 1, 1)})
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Write took %s after cancellation", took)
	}
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want *Error wrapping context.Canceled", err)
	}
	// The receiver said "later": with a fresh context the write may be
	// sent again (push buffers it), so it stays retryable.
	if e.StatusCode != 503 || e.Attempts != 1 || !e.Retryable() {
		t.Errorf("status %d attempts %d retryable %v; want 503, 1, true", e.StatusCode, e.Attempts, e.Retryable())
	}
	containsAll(t, e.Error(), "context canceled", "503")
}

func TestNetworkErrorRetriedThenReported(t *testing.T) {
	rc := newReceiver(t, nil)
	url := rc.url()
	rc.srv.Close() // nothing listens any more
	s := &sleeps{}
	c := mustNew(t, url, testOpts(s, WithRetry(time.Millisecond, 4*time.Millisecond, 4))...)
	_, err := c.Write(context.Background(), &wire.WriteRequest{Series: series("up", 1, 1)})
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want *Error", err)
	}
	if e.StatusCode != 0 || e.Err == nil || e.Attempts != 4 || !e.Retryable() {
		t.Errorf("status %d err %v attempts %d retryable %v", e.StatusCode, e.Err, e.Attempts, e.Retryable())
	}
	if diff := cmp.Diff([]time.Duration{time.Millisecond, 2 * time.Millisecond, 4 * time.Millisecond}, s.waits); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
	containsAll(t, err.Error(), "remote write failed", "connection refused", "attempt 4")
}

func TestCredentialsStrippedFromErrors(t *testing.T) {
	rc := newReceiver(t, func(n int, got *received) (int, map[string]string, string) { return 400, nil, "bad" })
	secretURL := strings.Replace(rc.url(), "http://", "http://alice:hunter2@", 1) + "?api_key=s3cr3t"
	c := mustNew(t, secretURL)
	_, err := c.Write(context.Background(), &wire.WriteRequest{Series: series("up", 1, 1)})
	if err == nil {
		t.Fatal("want an error")
	}
	got := rc.requests()[0].Header.Get("Authorization")
	if !strings.HasPrefix(got, "Basic ") {
		t.Errorf("userinfo not sent as basic auth: Authorization = %q", got)
	}

	// And a network error, whose net/http text would repeat the URL.
	closed := newReceiver(t, nil)
	closedURL := strings.Replace(closed.url(), "http://", "http://alice:hunter2@", 1) + "?api_key=s3cr3t"
	closed.srv.Close()
	c2 := mustNew(t, closedURL, WithRetry(time.Millisecond, time.Millisecond, 1))
	_, err2 := c2.Write(context.Background(), &wire.WriteRequest{Series: series("up", 1, 1)})
	_, err3 := New("ftp://alice:hunter2@example.com/?api_key=s3cr3t")
	_, err4 := New("http://alice:hunter2@exa mple.com/?api_key=s3cr3t")
	for _, s := range []string{err.Error(), err2.Error(), err3.Error(), err4.Error(), c.String(), c.URL()} {
		// The user name stays, as url.URL.Redacted shows it: it tells
		// which identity was used.
		if strings.Contains(s, "hunter2") || strings.Contains(s, "s3cr3t") {
			t.Errorf("leaks credentials: %s", s)
		}
	}
	var e *Error
	if errors.As(err, &e) && !strings.Contains(e.URL, "api_key=xxxxx") {
		t.Errorf("URL = %q, want the query key kept and its value redacted", e.URL)
	}
}

func TestSplitFailureSaysWhatWasDelivered(t *testing.T) {
	rc := newReceiver(t, func(n int, got *received) (int, map[string]string, string) {
		if n == 2 {
			return 400, nil, "err: out of order sample. timestamp=1970-01-01T00:00:01Z, series={__name__=\"up\", id=\"2\"}"
		}
		return 200, nil, ""
	})
	c := mustNew(t, rc.url(), WithMaxSamplesPerRequest(10))
	res, err := c.Write(context.Background(), &wire.WriteRequest{Series: series("up", 45, 1000)})
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v", err)
	}
	if e.Request != 3 || e.Requests != 5 || e.DeliveredRequests != 2 || e.Delivered.Samples != 20 || e.Total.Samples != 45 {
		t.Errorf("request %d of %d, delivered %d (%+v), total %+v", e.Request, e.Requests, e.DeliveredRequests, e.Delivered, e.Total)
	}
	if res.Requests != 2 || res.Samples != 20 {
		t.Errorf("result = %+v, want 2 requests and 20 samples delivered", res)
	}
	if len(rc.requests()) != 3 {
		t.Errorf("requests after the refused one were sent: %d", len(rc.requests()))
	}
	containsAll(t, err.Error(), "request 3 of 5 (2 delivered before it)", "(sample-out-of-order)")
}

func TestEmptyWriteSendsOneRequest(t *testing.T) {
	rc := newReceiver(t, nil)
	c := mustNew(t, rc.url())
	res, err := c.Write(context.Background(), &wire.WriteRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rc.requests()) != 1 || res.Requests != 1 {
		t.Errorf("requests = %d, want 1", len(rc.requests()))
	}
}

func TestMetadataRidesInFirstRequest(t *testing.T) {
	rc := newReceiver(t, nil)
	c := mustNew(t, rc.url(), WithMaxSamplesPerRequest(2))
	req := &wire.WriteRequest{
		Series:   series("up", 5, 1000),
		Metadata: []wire.Metadata{{Type: wire.MetricTypeGauge, FamilyName: "up", Help: "h"}},
	}
	if _, err := c.Write(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	var md []int
	for _, r := range rc.requests() {
		md = append(md, len(r.Req.Metadata))
	}
	if diff := cmp.Diff([]int{1, 0, 0}, md); diff != "" {
		t.Errorf("metadata per request (-want +got):\n%s", diff)
	}
}
