package main

import (
	"net/http"
	"strings"
	"testing"
)

func TestServeRefusesOpenNonLoopback(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"serve", "--listen", "0.0.0.0:0"}, nil, "not a loopback address and no authentication is configured"},
		{[]string{"serve", "--listen", ":0"}, nil, "not a loopback address"},
		{[]string{"serve", "--listen", "127.0.0.1:0", "--sigv4-access-key-id", "AKID"}, nil, "give both --sigv4-access-key-id and --sigv4-secret-access-key"},
		{[]string{"serve", "--listen", "0.0.0.0:0", "--bearer-token-file", "/nonexistent/token"}, nil, "--bearer-token-file"},
		{[]string{"serve", "--max-concurrent-writes", "0"}, nil, "--max-concurrent-writes: must be >= 1, got 0"},
	} {
		_, stderr, code := runCLI(t, tc.env, nil, tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d with %q", tc.args, code, stderr, exitUsage, tc.want)
		}
	}
}

func TestLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:9095": true, "127.1.2.3:1": true, "[::1]:9095": true, "localhost:9095": true, "LOCALHOST:1": true,
		"0.0.0.0:9095": false, ":9095": false, "[::]:9095": false, "10.0.0.1:9095": false, "example.com:9095": false, "garbage": false,
	} {
		if got := loopback(addr); got != want {
			t.Errorf("loopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

// TestServeInsecureListenAndLimits: --insecure-listen lets serve listen on
// all interfaces without auth; the limit flags reach the workspace and the
// http.Server.
func TestServeInsecureListenAndLimits(t *testing.T) {
	addr, _ := startServe(t, "--data", t.TempDir(), "--insecure-listen", "--listen", "0.0.0.0:0", "--max-header-bytes", "4096", "--max-request-bytes", "100")
	port := addr[strings.LastIndex(addr, ":"):]
	base := "http://127.0.0.1" + port
	if code, _ := postWrite(t, base+"/api/v1/write", []byte(strings.Repeat("x", 200))); code != http.StatusRequestEntityTooLarge {
		t.Errorf("201-byte body with --max-request-bytes 100: %d, want 413", code)
	}
	req, _ := http.NewRequest("GET", base+"/-/healthy", nil)
	req.Header.Set("X-Big", strings.Repeat("x", 16<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("16 KiB header with --max-header-bytes 4096: %d, want 431", resp.StatusCode)
	}
}
