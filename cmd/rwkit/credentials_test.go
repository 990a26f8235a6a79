package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rwkit/rwkit/internal/awstest"
	"github.com/rwkit/rwkit/remotewrite/sigv4"
)

// withoutAWSCredentials puts the process in the state of a host without
// AWS credentials (awstest.WithoutCredentials) and returns a server that
// counts the requests that reach it: none should, unsigned.
func withoutAWSCredentials(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	awstest.WithoutCredentials(t)
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n.Add(1) }))
	t.Cleanup(srv.Close)
	return srv, &n
}

// Missing AWS credentials are their own class in every command that signs
// or calls AWS: one attempt, nothing sent, the chain and how to set each
// source (sigv4.ChainHint, one text), never "network", and nothing of the
// SDK's on stderr.
func TestMissingAWSCredentials(t *testing.T) {
	srv, received := withoutAWSCredentials(t)
	metrics := filepath.Join(t.TempDir(), "metrics.txt")
	os.WriteFile(metrics, []byte("# TYPE up gauge\nup 1\n"), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"push text", []string{"push", "--url", srv.URL + "/api/v1/write", "--sigv4-region", "us-west-2", "--file", metrics, "--service", "s", "--instance", "i", "--timeout", "10s"}, []string{"attempt 1", "not retried"}},
		{"push json", []string{"push", "--url", srv.URL + "/api/v1/write", "--sigv4-region", "us-west-2", "--file", metrics, "--service", "s", "--instance", "i", "--timeout", "10s", "--output", "json"}, []string{`"attempts": 1`, `"credentials_missing": true`, `"retryable": false`}},
		{"verify", []string{"verify", "--query-url", srv.URL, "--sigv4-region", "us-west-2", "--query", "up", "--timeout", "10s"}, nil},
		{"discards", []string{"discards", "--workspace-id", "ws-1", "--region", "us-west-2", "--endpoint-url", srv.URL, "--timeout", "10s"}, nil},
		{"doctor", []string{"doctor", "--url", srv.URL + "/api/v1/write", "--sigv4-region", "us-west-2", "--timeout", "10s"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := received.Load()
			var stdout, stderr string
			var code int
			sdk := awstest.Stderr(t, func() { stdout, stderr, code = runCLI(t, nil, nil, tc.args...) })
			out := stdout + stderr
			if code == exitOK {
				t.Errorf("exit 0 without credentials:\n%s", out)
			}
			if n := received.Load() - before; n != 0 {
				t.Errorf("%d requests reached the server without credentials", n)
			}
			// JSON escapes the hint's quotes and <, >: compare its parts.
			for _, want := range append([]string{"no AWS credentials", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "~/.aws/credentials", "AWS_PROFILE",
				"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "instance metadata (IMDS)"}, tc.want...) {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			for _, bad := range []string{"network", "retried with backoff", "operation error CloudWatch"} {
				if strings.Contains(out, bad) {
					t.Errorf("output says %q:\n%s", bad, out)
				}
			}
			if sdk != "" {
				t.Errorf("the AWS SDK wrote on stderr:\n%s", sdk)
			}
		})
	}
	if !strings.Contains(sigv4.ChainHint, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
		t.Fatal("ChainHint changed: update the words this test looks for")
	}
}
