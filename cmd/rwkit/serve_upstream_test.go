package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rwkit/rwkit/wire"
	"github.com/rwkit/rwkit/workspace"
	"github.com/rwkit/rwkit/workspace/workspacetest"
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
		{"--explain-header"},
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

// noAWS leaves the AWS default chain nothing to find, fast: no env keys,
// no shared files, no container or instance metadata.
func noAWS(t *testing.T) {
	t.Helper()
	missing := filepath.Join(t.TempDir(), "missing")
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
		"AWS_REGION": "", "AWS_DEFAULT_REGION": "", "AWS_CONFIG_FILE": missing, "AWS_SHARED_CREDENTIALS_FILE": missing,
		"AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_ROLE_ARN": "", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI": "", "AWS_EC2_METADATA_DISABLED": "true"} {
		t.Setenv(k, v)
	}
}

const upstreamSecret = "rwkitUPSTREAMsecretZZ3hQ"

// serve --upstream-sigv4 signs each forwarded write from the AWS default
// chain (here its environment source), so an unsigned sender writes to an
// upstream that verifies SigV4; the secret shows nowhere.
func TestServeUpstreamSigV4(t *testing.T) {
	noAWS(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDSERVEUPSTREAM")
	t.Setenv("AWS_SECRET_ACCESS_KEY", upstreamSecret)
	t.Setenv("AWS_REGION", "eu-central-1")
	up := workspacetest.Start(t, workspace.WithSigV4Auth("AKIDSERVEUPSTREAM", upstreamSecret, "eu-central-1"), workspace.WithBearerToken("query-token"))
	addr, stop := startServe(t, "--data", t.TempDir(), "--upstream", up.WriteURL, "--upstream-sigv4", "--log-level", "debug")
	ts := time.Now().UnixMilli()
	body := wire.Compress(nil, wire.AppendWriteRequest(nil, &wire.WriteRequest{Series: []wire.TimeSeries{{
		Labels: []wire.Label{{Name: "__name__", Value: "through_sigv4"}}, Samples: []wire.Sample{{Value: 3, Timestamp: ts}}}}}))
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/workspaces/ws-1/api/v1/remote_write", bytes.NewReader(body))
	req.Header.Set("Content-Type", wire.V1.ContentType())
	req.Header.Set("Content-Encoding", "snappy")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("unsigned write through serve --upstream-sigv4: %d %q, want the upstream's 200", resp.StatusCode, answer)
	}
	q, _ := http.NewRequest(http.MethodGet, up.QueryURL+"/api/v1/query?query=through_sigv4&time="+strconv.FormatInt(ts/1000+1, 10), nil)
	q.Header.Set("Authorization", "Bearer query-token")
	qr, err := http.DefaultClient.Do(q)
	if err != nil {
		t.Fatal(err)
	}
	qb, _ := io.ReadAll(qr.Body)
	qr.Body.Close()
	if !strings.Contains(string(qb), `"through_sigv4"`) || !strings.Contains(string(qb), `"3"`) {
		t.Errorf("the upstream holds %s, want through_sigv4 3", qb)
	}
	log := stop()
	if !strings.Contains(log, `upstream_auth="sigv4 eu-central-1"`) {
		t.Errorf("the start-up line does not say the upstream is signed for eu-central-1:\n%s", log)
	}
	if strings.Contains(log, upstreamSecret) {
		t.Errorf("the log shows the AWS secret:\n%s", log)
	}
}

// An AMP URL is signed unless --upstream-sigv4=false, which needs no
// credentials and leaves the sender's Authorization as it is.
func TestServeUpstreamSigV4Off(t *testing.T) {
	noAWS(t)
	amp := "https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-1/api/v1/remote_write"
	_, stop := startServe(t, "--data", t.TempDir(), "--upstream", amp, "--upstream-sigv4=false")
	if log := stop(); !strings.Contains(log, `upstream_auth="the sender's"`) {
		t.Errorf("--upstream-sigv4=false: the start-up line does not say the sender's Authorization is used:\n%s", log)
	}
}

func TestServeUpstreamSigV4Usage(t *testing.T) {
	noAWS(t)
	amp := "https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-1/api/v1/remote_write"
	token := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(token, []byte("t"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args       []string
		code       int
		flag, says string
	}{
		{[]string{"--upstream-sigv4"}, exitUsage, "--upstream-sigv4", "goes with --upstream"},
		{[]string{"--upstream-sigv4-region", "us-east-1"}, exitUsage, "--upstream-sigv4-region", "goes with --upstream"},
		{[]string{"--upstream", amp, "--upstream-sigv4-region", "eu-west-1"}, exitUsage, "--upstream-sigv4-region", `give "us-west-2"`},
		{[]string{"--upstream", amp, "--upstream-bearer-token-file", token}, exitUsage, "--upstream-bearer-token-file", "both set Authorization"},
		{[]string{"--upstream", "http://127.0.0.1:1/api/v1/push", "--upstream-sigv4=false", "--upstream-sigv4-region", "us-east-1"}, exitUsage, "--upstream-sigv4-region", "give one"},
		{[]string{"--upstream", "http://127.0.0.1:1/api/v1/push", "--upstream-sigv4"}, exitUsage, "--upstream-sigv4-region", "no region"},
		{[]string{"--upstream", amp}, exitFailed, "--upstream-sigv4", "AWS_ACCESS_KEY_ID"},
	} {
		var out, errOut strings.Builder
		code := run(context.Background(), append([]string{"serve", "--data", t.TempDir()}, tc.args...), stdio{in: strings.NewReader(""), out: &out, err: &errOut, getenv: func(string) string { return "" }})
		msg := errOut.String()
		if code != tc.code || !strings.Contains(msg, tc.flag) || !strings.Contains(msg, tc.says) {
			t.Errorf("serve %v: exit %d, want %d naming %s and saying %q:\n%s", tc.args, code, tc.code, tc.flag, tc.says, msg)
		}
	}
	// With credentials set, a refused combination does not print them.
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDSERVEUPSTREAM")
	t.Setenv("AWS_SECRET_ACCESS_KEY", upstreamSecret)
	var errOut strings.Builder
	run(context.Background(), []string{"serve", "--upstream", amp, "--upstream-bearer-token-file", token}, stdio{in: strings.NewReader(""), out: io.Discard, err: &errOut, getenv: func(string) string { return "" }})
	if strings.Contains(errOut.String(), upstreamSecret) {
		t.Errorf("the error shows the AWS secret:\n%s", errOut.String())
	}
}

// serve --explain-header: the answer to a refused write names the reason
// in X-Rwkit-Explanation; without it the answer has no such header.
func TestServeUpstreamExplainHeader(t *testing.T) {
	up := serveHTTP(t, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		http.Error(rw, "series has too many labels (actual: 40, limit: 30) series: 'up{...}'", http.StatusBadRequest)
	}))
	body := wire.Compress(nil, wire.AppendWriteRequest(nil, &wire.WriteRequest{Series: []wire.TimeSeries{{
		Labels: []wire.Label{{Name: "__name__", Value: "up"}}, Samples: []wire.Sample{{Value: 1, Timestamp: time.Now().UnixMilli()}}}}}))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--explain-header"}, "max_label_names_per_series: the reason is from the upstream's answer"},
		{nil, ""},
	} {
		addr, _ := startServe(t, append([]string{"--data", t.TempDir(), "--upstream", up + "/api/v1/push"}, tc.args...)...)
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/workspaces/ws-1/api/v1/remote_write", bytes.NewReader(body))
		req.Header.Set("Content-Type", wire.V1.ContentType())
		req.Header.Set("Content-Encoding", "snappy")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("X-Rwkit-Explanation"); resp.StatusCode != http.StatusBadRequest || got != tc.want {
			t.Errorf("serve %v: %d, X-Rwkit-Explanation %q, want the upstream's 400 with %q", tc.args, resp.StatusCode, got, tc.want)
		}
	}
}
