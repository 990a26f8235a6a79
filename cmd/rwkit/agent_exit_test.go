package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rwkit/rwkit/internal/agentdiff"
)

// Asked to stop while the backend is down: the agent exits 0 (the
// shutdown was asked for), says on stdout that not everything was
// delivered, and the log counts what was lost, once.
func TestAgentExitsZeroWhenTheFinalFlushFails(t *testing.T) {
	targetURL := serveHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("up_gauge 1\n")) }))
	downURL := serveHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	s, out, errOut, err := runFor(800*time.Millisecond, func(s stdio) command { return &agentCommand{stdio: s} },
		"--url", downURL+"/api/v1/write", "--scrape", "svc="+targetURL, "--instance", "i-1",
		"--interval", "100ms", "--shutdown-timeout", "300ms")
	if code := exitCode(s, err); code != exitOK {
		t.Fatalf("exit %d (%v), want 0 after a requested shutdown\n%s", code, err, errOut)
	}
	if !strings.Contains(out.String(), "not everything was delivered") {
		t.Errorf("stdout does not say something was lost:\n%s", out)
	}
	if got := strings.Count(errOut.String(), "shutdown ended before everything was delivered"); got != 1 {
		t.Errorf("the loss was logged %d times, want once:\n%s", got, errOut)
	}
}

// A configuration error is exit 2, before anything runs, naming the file,
// the line and the key; the flags a file replaces are refused next to it.
func TestAgentConfigErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "prometheus.yml")
	os.WriteFile(bad, []byte("scrape_configs:\n- job_name: x\n  kubernetes_sd_configs: [{role: pod}]\nremote_write: [{url: 'http://127.0.0.1:1/api/v1/write'}]\n"), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unsupported key", []string{"agent", "--config.file", bad}, bad + ":3: scrape_configs[0].kubernetes_sd_configs: not supported by rwkit agent (supported: static_configs)"},
		{"missing file", []string{"agent", "--config.file", filepath.Join(dir, "none.yml")}, "no such file"},
		{"flag next to a file", []string{"agent", "--config.file", bad, "--url", "http://x/api/v1/write"}, "drop --url (in the file: remote_write[].url)"},
		{"scrape timeout over interval", []string{"agent", "--url", "http://127.0.0.1:1/api/v1/write", "--scrape", "http://127.0.0.1:2/metrics", "--instance", "i", "--service", "s", "--interval", "1s", "--scrape-timeout", "2s"}, "--scrape-timeout 2s is longer than --interval 1s"},
		{"authorization header", []string{"agent", "--url", "http://127.0.0.1:1/api/v1/write", "--scrape", "http://127.0.0.1:2/metrics", "--instance", "i", "--service", "s", "--header", "Authorization: Bearer x"}, "use --bearer-token-file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, nil, nil, tc.args...)
			if code != exitUsage || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 2 and %q", code, stderr, tc.want)
			}
		})
	}
}

// A target whose own series carry rwkit's identity labels (a federated or
// pushgateway-style target) does not stop the start: its labels are kept
// as exported_service / exported_instance, as Prometheus keeps a clashing
// job or instance; --honor-labels keeps the target's values instead.
func TestAgentTargetLabelsClashingWithIdentity(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`app_info{service="other",instance="x"} 1` + "\n"))
	}))
	defer target.Close()
	for _, tc := range []struct {
		honor bool
		want  string
	}{
		{false, `app_info{exported_instance="x",exported_service="other",instance="i-1",service="auth"}`},
		{true, `app_info{instance="x",service="other"}`},
	} {
		rc := agentdiff.NewReceiver(t)
		agent := start(t, nil, func(s stdio) command { return &agentCommand{stdio: s} },
			"--url", rc.URL, "--scrape", "auth="+target.URL, "--instance", "i-1",
			"--interval", "100ms", "--honor-labels="+map[bool]string{false: "false", true: "true"}[tc.honor])
		deadline := time.Now().Add(20 * time.Second)
		for rc.CountWhere(func(l map[string]string) bool { return l["__name__"] == "app_info" }) == 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if err := agent.stop(t, time.Minute); err != nil {
			t.Fatalf("agent: %v\n%s", err, agent.errOut)
		}
		found := false
		for _, s := range rc.Samples() {
			if strings.HasPrefix(s.Key, "app_info{") {
				found = true
				if s.Key != tc.want {
					t.Errorf("honor_labels %v: got %s, want %s", tc.honor, s.Key, tc.want)
				}
			}
		}
		if !found {
			t.Errorf("honor_labels %v: app_info never arrived\n%s", tc.honor, agent.errOut)
		}
	}
}
