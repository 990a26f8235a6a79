package main

import (
	"strings"
	"testing"
	"time"

	"github.com/rwkit/rwkit/wire"
)

// haBody is one sample of up{cluster, __replica__}.
func haBody(cluster, replica string) []byte {
	ls := []wire.Label{{Name: "__name__", Value: "up"}, {Name: "__replica__", Value: replica}, {Name: "cluster", Value: cluster}}
	return wire.Compress(nil, wire.AppendWriteRequest(nil, &wire.WriteRequest{Series: []wire.TimeSeries{
		{Labels: ls, Samples: []wire.Sample{{Timestamp: time.Now().UnixMilli(), Value: 1}}}}}))
}

// The HA flags turn deduplication on for --limits cortex, and its answers
// name them.
func TestServeHAFlags(t *testing.T) {
	addr, _ := startServe(t, "--data", t.TempDir(), "--limits", "cortex", "--accept-ha-samples",
		"--ha-max-clusters", "1", "--ha-failover-timeout", "20s")
	url := "http://" + addr + "/api/v1/push"
	write := func(body []byte) (int, string) {
		return postWrite(t, url, body, "Content-Type", "application/x-protobuf", "X-Scope-OrgID", "ws-1")
	}
	if code, b := write(haBody("prom-1", "a")); code != 200 {
		t.Fatalf("elected: %d %q", code, b)
	}
	code, b := write(haBody("prom-1", "b"))
	if code != 202 || !strings.HasPrefix(b, "replicas did not match, rejecting sample: replica=b, elected=a\n") ||
		!strings.Contains(b, "(20s, set by rwkit serve --ha-failover-timeout)") || hasGoName(b) {
		t.Errorf("other replica: %d %q", code, b)
	}
	code, b = write(haBody("prom-2", "a"))
	if code != 400 || !strings.Contains(b, "set by rwkit serve --ha-max-clusters") || hasGoName(b) {
		t.Errorf("second cluster: %d %q", code, b)
	}
}

// --accept-ha-samples=false turns the amp profile's deduplication off.
func TestServeHAOff(t *testing.T) {
	addr, _ := startServe(t, "--data", t.TempDir(), "--accept-ha-samples=false")
	url := "http://" + addr + "/api/v1/push"
	for _, r := range []string{"a", "b"} {
		if code, b := postWrite(t, url, haBody("prom-1", r), "Content-Type", "application/x-protobuf", "X-Scope-OrgID", "ws-1"); code != 200 {
			t.Errorf("replica %s: %d %q", r, code, b)
		}
	}
}
