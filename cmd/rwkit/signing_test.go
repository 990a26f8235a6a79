package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// push, verify and doctor decide signing with one function: an AMP URL
// with --sigv4-region for another region is refused by each, before
// anything is sent, with the same words.
func TestSigningDecidedOnce(t *testing.T) {
	const amp = "https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-1"
	const want = `region "eu-west-1" given, but the URL is an Amazon Managed Service for Prometheus workspace in "us-west-2"`
	file := filepath.Join(t.TempDir(), "m.txt")
	os.WriteFile(file, []byte("up 1\n"), 0o644)
	env := map[string]string{"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "x", "AWS_EC2_METADATA_DISABLED": "true"}
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"push", []string{"push", "--url", amp + "/api/v1/remote_write", "--file", file, "--sigv4-region", "eu-west-1"}, exitUsage},
		{"verify", []string{"verify", "--query-url", amp, "--query", "up", "--sigv4-region", "eu-west-1"}, exitUsage},
		{"doctor", []string{"doctor", "--url", amp + "/api/v1/remote_write", "--sigv4-region", "eu-west-1", "--timeout", "1s"}, exitFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, env, nil, tc.args...)
			if code != tc.code || !strings.Contains(stdout+stderr, want) {
				t.Errorf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s\nwant %q", code, tc.code, stdout, stderr, want)
			}
		})
	}
}
