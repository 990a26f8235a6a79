package main

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
	"github.com/rwkit/rwkit/workspace/workspacetest"
)

// startWorkspace serves a real workspace (amp limits) on loopback.
func startWorkspace(t *testing.T) *httptest.Server {
	t.Helper()
	return workspacetest.Start(t).HTTP
}

func pushSeries(t *testing.T, url, userAgent string, req *wire.WriteRequest) error {
	t.Helper()
	c, err := remotewrite.New(url, remotewrite.WithUserAgent(userAgent), remotewrite.WithRetry(time.Millisecond, time.Millisecond, 1))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Write(context.Background(), req)
	return err
}

// TestVerifyAndDiscardsAgainstWorkspace runs verify and discards (local
// mode) against the real workspace after six services pushed, two of them
// once without identity labels at the same millisecond.
func TestVerifyAndDiscardsAgainstWorkspace(t *testing.T) {
	srv := startWorkspace(t)
	write := srv.URL + "/workspaces/ws-1/api/v1/remote_write"
	ts := time.Now().Add(-time.Minute).Truncate(time.Second).UnixMilli()
	services := []string{"auth", "actor", "document", "notification", "audit", "bff"}
	for i, svc := range services {
		req := &wire.WriteRequest{Series: []wire.TimeSeries{{
			Labels:  []wire.Label{{Name: "__name__", Value: "jvm_threads_live_threads"}, {Name: "instance", Value: svc + "-1"}, {Name: "service", Value: svc}},
			Samples: []wire.Sample{{Value: float64(10 + i), Timestamp: ts}},
		}}}
		if err := pushSeries(t, write, svc+"/1.0", req); err != nil {
			t.Fatalf("push %s: %v", svc, err)
		}
	}
	// The incident: two writers, no identity, same series, same millisecond.
	for i, ua := range []string{"auth/1.0", "actor/1.0"} {
		req := &wire.WriteRequest{Series: []wire.TimeSeries{{
			Labels:  []wire.Label{{Name: "__name__", Value: "jvm_threads_live_threads"}},
			Samples: []wire.Sample{{Value: float64(21 - 7*i), Timestamp: ts}},
		}}}
		err := pushSeries(t, write, ua, req)
		var rwErr *remotewrite.Error
		switch {
		case i == 0 && err != nil:
			t.Fatalf("first writer: %v", err)
		case i == 1 && (!errors.As(err, &rwErr) || rwErr.Reason != validate.NewValueForTimestamp):
			t.Fatalf("second writer: %v, want a new-value-for-timestamp refusal", err)
		}
	}

	base := srv.URL + "/workspaces/ws-1"
	at := fmt.Sprint(time.UnixMilli(ts).Unix())
	q := `jvm_threads_live_threads{service!=""}`
	out, stderr, code := runCLI(t, nil, nil, "verify", "--query-url", base, "--query", q, "--time", at,
		"--expect-series", "6", "--expect-label", "instance", "--expect-distinct", "service=6")
	if code != 0 {
		t.Fatalf("verify six services: exit %d\n%s\n%s", code, out, stderr)
	}
	out, _, code = runCLI(t, nil, nil, "verify", "--query-url", base, "--query", q, "--time", at, "--expect-distinct", "service=7")
	if code != 3 || !strings.Contains(out, "FAIL") {
		t.Fatalf("verify service=7: exit %d, want 3\n%s", code, out)
	}
	// The unlabelled series exists once: the second writer's value was refused.
	out, _, code = runCLI(t, nil, nil, "verify", "--query-url", base, "--query", `jvm_threads_live_threads{service=""} == 21`, "--time", at, "--expect-series", "1")
	if code != 0 {
		t.Fatalf("verify first writer's value: exit %d\n%s", code, out)
	}

	out, stderr, code = runCLI(t, nil, nil, "discards", "--from", srv.URL, "--workspace-id", "ws-1")
	if code != 0 {
		t.Fatalf("discards: exit %d\n%s\n%s", code, out, stderr)
	}
	for _, want := range []string{"new-value-for-timestamp", "auth/1.0", "actor/1.0", "another writer sends the same series"} {
		if !strings.Contains(out, want) {
			t.Errorf("discards output lacks %q:\n%s", want, out)
		}
	}
	_, _, code = runCLI(t, nil, nil, "discards", "--from", srv.URL, "--workspace-id", "ws-1", "--fail-on-discards")
	if code != 3 {
		t.Errorf("discards --fail-on-discards: exit %d, want 3", code)
	}
}
