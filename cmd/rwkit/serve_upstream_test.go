package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rwkit/rwkit/wire"
)

// serve --upstream forwards a write and answers with the upstream's answer.
func TestServeUpstream(t *testing.T) {
	var got []byte
	var tenant string
	up := serveHTTP(t, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		tenant = r.Header.Get("X-Scope-OrgID")
		http.Error(rw, "upstream says no", http.StatusBadRequest)
	}))
	addr, stop := startServe(t, "--data", t.TempDir(), "--upstream", up+"/api/v1/push")
	body := wire.Compress(nil, wire.AppendWriteRequest(nil, &wire.WriteRequest{Series: []wire.TimeSeries{{
		Labels: []wire.Label{{Name: "__name__", Value: "up"}}, Samples: []wire.Sample{{Value: 1, Timestamp: 1000}}}}}))
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/api/v1/push", bytes.NewReader(body))
	req.Header.Set("Content-Type", wire.V1.ContentType())
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("X-Scope-OrgID", "team-a")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || string(answer) != "upstream says no\n" {
		t.Errorf("answer %d %q, want the upstream's 400 %q", resp.StatusCode, answer, "upstream says no\n")
	}
	if !bytes.Equal(got, body) || tenant != "team-a" {
		t.Errorf("upstream got %d bytes for tenant %q, want the sender's %d bytes for team-a", len(got), tenant, len(body))
	}
	if log := stop(); !strings.Contains(log, "upstream="+up+"/api/v1/push") {
		t.Errorf("the start-up line does not name the upstream:\n%s", log)
	}
}

func TestServeUpstreamUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--upstream", "cortex:9009/api/v1/push"}, {"--upstream", "ftp://host/x"}, {"--upstream", "http://"},
		{"--upstream-store"},
		{"--upstream-bearer-token-file", "/dev/null"},
		{"--upstream-bearer-token-file", "/no/such/file", "--upstream", "http://127.0.0.1:1/api/v1/push"},
		{"--upstream-basic-auth-password-file", "/dev/null", "--upstream", "http://127.0.0.1:1/api/v1/push"},
	} {
		var errOut strings.Builder
		code := run(context.Background(), append([]string{"serve"}, args...), stdio{in: strings.NewReader(""), out: io.Discard, err: &errOut, getenv: func(string) string { return "" }})
		if code != exitUsage || !strings.Contains(errOut.String(), args[0]) {
			t.Errorf("serve %v: exit %d, want %d naming %s (%s)", args, code, exitUsage, args[0], errOut.String())
		}
	}
}

// The upstream's credentials replace the sender's Authorization; the
// token file is read at every request.
func TestServeUpstreamAuth(t *testing.T) {
	auths := make(chan string, 4)
	up := serveHTTP(t, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		auths <- r.Header.Get("Authorization")
		rw.WriteHeader(http.StatusOK)
	}))
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	if err := os.WriteFile(token, []byte("first\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr, _ := startServe(t, "--data", dir, "--upstream", up+"/api/v1/push", "--upstream-bearer-token-file", token)
	send := func() string {
		body := wire.Compress(nil, wire.AppendWriteRequest(nil, &wire.WriteRequest{}))
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/api/v1/write", bytes.NewReader(body))
		req.Header.Set("Content-Type", wire.V1.ContentType())
		req.Header.Set("Content-Encoding", "snappy")
		req.Header.Set("Authorization", "Bearer the-senders")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return <-auths
	}
	if got := send(); got != "Bearer first" {
		t.Errorf("upstream got Authorization %q, want the --upstream-bearer-token-file's", got)
	}
	if err := os.WriteFile(token, []byte("rotated"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := send(); got != "Bearer rotated" {
		t.Errorf("after rotation the upstream got %q, want the new token", got)
	}
}
