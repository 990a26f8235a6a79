package main

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rwkit/rwkit/wire"
	"github.com/rwkit/rwkit/workspace"
)

// A request with two values for one series and timestamp: AMP answers 200
// and keeps the first; serve does too and says so in X-Rwkit-Dropped.
// --strict (or RWKIT_STRICT) refuses it with 400.
func TestServeStrictFlag(t *testing.T) {
	ts := time.Now().UnixMilli()
	x := func(v float64) wire.TimeSeries {
		return wire.TimeSeries{Labels: []wire.Label{{Name: "__name__", Value: "x"}}, Samples: []wire.Sample{{Timestamp: ts, Value: v}}}
	}
	body := wire.Compress(nil, wire.AppendWriteRequest(nil, &wire.WriteRequest{Series: []wire.TimeSeries{x(1), x(2)}}))
	write := func(t *testing.T, addr string) (int, string, http.Header) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/workspaces/ws-1/api/v1/remote_write", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Encoding", "snappy")
		req.Header.Set("Content-Type", wire.V1.ContentType())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}

	t.Run("default", func(t *testing.T) {
		addr, _ := startServe(t, "--data", t.TempDir())
		code, b, h := write(t, addr)
		if code != http.StatusOK || h.Get(workspace.DroppedHeader) != "1 (new-value-for-timestamp=1)" {
			t.Errorf("%d %s=%q %q, want 200 and the drop named", code, workspace.DroppedHeader, h.Get(workspace.DroppedHeader), b)
		}
		if got := queryValue(t, "http://"+addr+"/workspaces/ws-1", "x", ts); got != "1" {
			t.Errorf("x = %q, want the first value, 1", got)
		}
	})
	for name, tc := range map[string]struct {
		env  map[string]string
		args []string
	}{
		"flag": {args: []string{"--strict"}},
		"env":  {env: map[string]string{"RWKIT_STRICT": "true"}},
	} {
		t.Run(name, func(t *testing.T) {
			addr, stop := startServeEnv(t, tc.env, append(tc.args, "--data", t.TempDir())...)
			code, b, h := write(t, addr)
			if code != http.StatusBadRequest || !strings.Contains(b, "new-value-for-timestamp=1") || h.Get(workspace.DroppedHeader) != "" {
				t.Errorf("%d %s=%q %q, want 400 new-value-for-timestamp", code, workspace.DroppedHeader, h.Get(workspace.DroppedHeader), b)
			}
			if log := stop(); !strings.Contains(log, "strict=true") {
				t.Errorf("the start-up line does not say strict=true:\n%s", log)
			}
		})
	}
}
