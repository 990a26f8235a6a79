package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rwkit/rwkit/internal/cortextest"
	"github.com/rwkit/rwkit/internal/promtest"
)

// backend is a real server behind its usual auth, and the flags that get
// through it.
type backend struct {
	name      string
	writeURL  string
	queryURL  string // verify's --query-url
	authFlags []string
	// stored reports how many series of query the backend holds, asked
	// with the right credentials by another path than rwkit's.
	stored func(t *testing.T, query string) int
}

// TestCommandsThroughBackendAuth sends push, agent, doctor and verify
// through each backend's auth: a multi-tenant Cortex v1.21.1
// (auth_enabled: true, X-Scope-OrgID), a Prometheus behind basic auth
// (--web.config.file) and rwkit's own workspace behind a bearer token
// (serve --bearer-token-file). Without the flags each is refused with 401.
func TestCommandsThroughBackendAuth(t *testing.T) {
	dir := t.TempDir()
	password := filepath.Join(dir, "password")
	os.WriteFile(password, []byte("pr0m-secret\n"), 0o600)
	token := filepath.Join(dir, "token")
	os.WriteFile(token, []byte("ws-token\n"), 0o600)

	cortex := cortextest.Start(t)
	prom := promtest.StartWithBasicAuth(t, "writer", "pr0m-secret")
	wsAddr, _ := startServe(t, "--data", filepath.Join(dir, "ws"), "--bearer-token-file", token)
	wsBase := "http://" + wsAddr

	backends := []backend{
		{"cortex", cortex.PushURL, cortex.QueryURL, []string{"--tenant", "team-a"}, func(t *testing.T, q string) int {
			body, err := cortex.Query(context.Background(), "team-a", q, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			return strings.Count(string(body), `"metric"`)
		}},
		{"prometheus basic auth", prom.WriteURL, prom.URL, []string{"--basic-auth-username", "writer", "--basic-auth-password-file", password}, func(t *testing.T, q string) int {
			got, err := prom.Query(context.Background(), q, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			return len(got)
		}},
		{"workspace bearer", wsBase + "/workspaces/ws-auth/api/v1/remote_write", wsBase + "/workspaces/ws-auth", []string{"--bearer-token-file", token}, nil},
	}
	backends[2].stored = func(t *testing.T, q string) int {
		_, stdout, _ := runCLIOut(t, "verify", "--query-url", backends[2].queryURL, "--query", q, "--output", "json", "--bearer-token-file", token)
		return strings.Count(stdout, `"labels"`)
	}

	file := filepath.Join(dir, "m.txt")
	os.WriteFile(file, []byte("# TYPE auth_probe gauge\nauth_probe 1\n"), 0o644)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			id := []string{"--service", "probe", "--instance", strings.ReplaceAll(b.name, " ", "-")}
			// Refused without the flags, with the backend's own 401.
			_, stdout, code := runCLIOut(t, append([]string{"push", "--url", b.writeURL, "--file", file, "--timeout", "10s"}, id...)...)
			// Cortex and Prometheus answer 401; the workspace, like AMP, 403.
			if code != exitFailed || !(strings.Contains(stdout, "401") || strings.Contains(stdout, "403")) {
				t.Errorf("push without auth: exit %d, want 1 with a 401 or 403:\n%s", code, stdout)
			}
			stdout, _, code = runCLI(t, nil, nil, "doctor", "--url", b.writeURL, "--timeout", "5s")
			if code != exitFailed || !strings.Contains(stdout, "the receiver wants credentials") {
				t.Errorf("doctor without auth: exit %d, want 1 saying credentials are wanted:\n%s", code, stdout)
			}

			// Through, with them.
			stdout, stderr, code := runCLI(t, nil, nil, append(append([]string{"push", "--url", b.writeURL, "--file", file, "--timeout", "20s"}, id...), b.authFlags...)...)
			if code != exitOK {
				t.Fatalf("push: exit %d\n%s\n%s", code, stdout, stderr)
			}
			stdout, _, code = runCLI(t, nil, nil, append([]string{"doctor", "--url", b.writeURL, "--timeout", "5s"}, b.authFlags...)...)
			if code != exitOK || !strings.Contains(stdout, "auth ") {
				t.Errorf("doctor: exit %d\n%s", code, stdout)
			}
			runAgentBriefly(t, append([]string{"--url", b.writeURL, "--scrape", "agentprobe=" + probeTarget(t), "--instance", "agent-1", "--interval", "200ms", "--stale-markers=false"}, b.authFlags...))
			for _, q := range []string{`auth_probe{service="probe"}`, `probe_up{service="agentprobe",instance="agent-1"}`} {
				deadline := time.Now().Add(30 * time.Second)
				for b.stored(t, q) != 1 {
					if time.Now().After(deadline) {
						t.Fatalf("%s: not stored after 30s", q)
					}
					time.Sleep(200 * time.Millisecond)
				}
			}
			stdout, stderr, code = runCLI(t, nil, nil, append([]string{"verify", "--query-url", b.queryURL, "--query", `auth_probe{service="probe"}`, "--expect-series", "1"}, b.authFlags...)...)
			if code != exitOK {
				t.Errorf("verify: exit %d\n%s\n%s", code, stdout, stderr)
			}
		})
	}
}

// runCLIOut is runCLI without env or stdin, returning stderr first.
func runCLIOut(t *testing.T, args ...string) (stderr, stdout string, code int) {
	t.Helper()
	stdout, stderr, code = runCLI(t, nil, nil, args...)
	return stderr, stdout, code
}

// probeTarget serves one gauge, probe_up 1, and returns its URL.
func probeTarget(t *testing.T) string {
	t.Helper()
	srvURL := serveHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("# TYPE probe_up gauge\nprobe_up 1\n"))
	}))
	return srvURL
}

// runAgentBriefly runs the agent with args until its first scrapes were
// sent, then stops it; it fails the test on a non-zero exit.
func runAgentBriefly(t *testing.T, args []string) {
	t.Helper()
	_, out, errOut, err := runFor(1500*time.Millisecond, func(s stdio) command { return &agentCommand{stdio: s} }, args...)
	if err != nil {
		t.Fatalf("agent: %v\n%s", err, errOut)
	}
	if strings.Contains(errOut.String(), "refused") || !strings.Contains(out.String(), "stopped after delivering everything") {
		t.Errorf("agent did not deliver:\n%s\n%s", out, errOut)
	}
}

// doctor names the secret file that cannot be used, before any write.
func TestDoctorNamesTheFailingSecretFile(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer srv.Close()
	dir := t.TempDir()
	empty := filepath.Join(dir, "token")
	os.WriteFile(empty, []byte("\n"), 0o600)
	for _, tc := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--bearer-token-file", empty}, "secret file " + empty + " is empty"},
		{[]string{"--basic-auth-username", "u", "--basic-auth-password-file", filepath.Join(dir, "none")}, filepath.Join(dir, "none")},
		{[]string{"--tls-ca-file", filepath.Join(dir, "none.pem")}, "--tls-ca-file"},
	} {
		stdout, _, code := runCLI(t, nil, nil, append([]string{"doctor", "--url", srv.URL + "/api/v1/write", "--timeout", "2s"}, tc.flags...)...)
		if code != exitFailed || !strings.Contains(stdout, "FAIL  auth") || !strings.Contains(stdout, tc.want) {
			t.Errorf("%v: exit %d, want the auth step to fail naming %q:\n%s", tc.flags, code, tc.want, stdout)
		}
	}
}
