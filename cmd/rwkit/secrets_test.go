package main

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rwkit/rwkit/wire"
)

// Secrets that must never be printed: an AWS secret key (the SDK's env
// chain), a URL password, a bearer token and serve's SigV4 secret.
const (
	secretAWS    = "rwkitAWSsecretZZ9qXw7Kp3"
	secretURL    = "rwkitURLpassZZ4mTq8"
	secretBearer = "rwkitBEARERtokenZZ5vNc2"
	secretServe  = "rwkitSERVEsecretZZ6bLd1"
)

// withSecretAWSEnv gives the AWS SDK's environment chain static
// credentials whose secret is secretAWS, and turns instance metadata off.
func withSecretAWSEnv(t *testing.T) {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDRWKITSECRETSTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", secretAWS)
	t.Setenv("AWS_REGION", "us-west-2")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// TestSecretsNeverPrinted runs push (against a failing server), doctor,
// agent, serve with auth (debug logs, good and forged requests) and decode
// in-process with the secrets configured, and greps every byte they print.
func TestSecretsNeverPrinted(t *testing.T) {
	withSecretAWSEnv(t)

	// A backend that refuses everything, echoing nothing of the request.
	failingURL := serveHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "backend is failing on purpose", http.StatusInternalServerError)
	}))
	withPass := strings.Replace(failingURL, "http://", "http://user:"+secretURL+"@", 1) + "/api/v1/write"
	metrics := filepath.Join(t.TempDir(), "metrics.txt")
	os.WriteFile(metrics, []byte("# TYPE up gauge\nup 1\n"), 0o644)

	var outputs []string
	add := func(name string, s ...string) { outputs = append(outputs, name+"\x00"+strings.Join(s, "\n")) }

	for _, output := range []string{"text", "json"} {
		o, e, _ := runCLI(t, nil, nil, "push", "--url", withPass, "--file", metrics, "--sigv4", "--sigv4-region", "us-west-2", "--output", output, "--timeout", "3s", "--service", "s", "--instance", "i")
		add("push "+output, o, e)
	}
	// A password with a '%' that is not an escape: the URL does not parse.
	badEscape := strings.Replace(failingURL, "http://", "http://user:"+secretURL+"%zz@", 1) + "/api/v1/write"
	for _, output := range []string{"text", "json"} {
		o, e, _ := runCLI(t, nil, nil, "push", "--url", badEscape, "--file", metrics, "--output", output, "--timeout", "3s")
		add("push, unparseable URL, "+output, o, e)
	}
	o, e, _ := runCLI(t, nil, nil, "doctor", "--url", withPass, "--sigv4", "--sigv4-region", "us-west-2", "--timeout", "2s")
	add("doctor", o, e)

	targetURL := serveHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("up 1\n")) }))
	{
		scrapeWithPass := strings.Replace(targetURL, "http://", "http://scraper:"+secretURL+"@", 1)
		_, out, errOut, err := runFor(1500*time.Millisecond, func(s stdio) command { return &agentCommand{stdio: s} },
			"--url", withPass, "--scrape", "svc="+scrapeWithPass, "--instance", "i", "--interval", "200ms", "--log-level", "debug", "--shutdown-timeout", "1s")
		if err != nil {
			t.Errorf("agent: %v", err)
		}
		add("agent", out.String(), errOut.String())
	}
	{
		// The same from a Prometheus configuration file, secrets inline.
		dir := t.TempDir()
		cfg := filepath.Join(dir, "prometheus.yml")
		os.WriteFile(cfg, []byte(`global: {scrape_interval: 200ms, scrape_timeout: 100ms}
scrape_configs:
- job_name: svc
  authorization: {credentials: `+secretBearer+`}
  static_configs: [{targets: [`+strings.TrimPrefix(targetURL, "http://")+`]}]
- job_name: dead
  basic_auth: {username: u, password: `+secretURL+`}
  static_configs: [{targets: ['127.0.0.1:1']}]
remote_write:
- url: `+failingURL+`/api/v1/write
  basic_auth: {username: u, password: `+secretURL+`}
`), 0o600)
		_, out, errOut, err := runFor(1500*time.Millisecond, func(s stdio) command { return &agentCommand{stdio: s} },
			"--config.file", cfg, "--log-level", "debug", "--shutdown-timeout", "1s")
		if err != nil {
			t.Errorf("agent --config.file: %v", err)
		}
		add("agent --config.file", out.String(), errOut.String())
	}

	{
		tokenFile := filepath.Join(t.TempDir(), "token")
		os.WriteFile(tokenFile, []byte(secretBearer+"\n"), 0o600)
		ready := make(chan string, 1)
		env := map[string]string{"RWKIT_SIGV4_ACCESS_KEY_ID": "AKIDSERVE", "RWKIT_SIGV4_SECRET_ACCESS_KEY": secretServe}
		srv := start(t, env, func(s stdio) command { return &serveCommand{stdio: s, ready: ready} },
			"--listen", "127.0.0.1:0", "--data", t.TempDir(), "--bearer-token-file", tokenFile, "--log-level", "debug")
		addr := srv.await(t, "serve", ready, 30*time.Second)
		base := "http://" + addr + "/api/v1/write"
		body := oneSampleBody("up")
		for _, authz := range []string{"Bearer " + secretBearer, "Bearer " + secretBearer + "x", secretBearer, "AWS4-HMAC-SHA256 Credential=" + secretServe} {
			_, answer := postWrite(t, base, body, "Authorization", authz)
			add("serve answer to "+authz[:6], answer)
		}
		// rwkit push with a bearer header is not a flag: the SigV4 path is.
		o, e, _ := runCLI(t, nil, nil, "push", "--url", base, "--file", metrics, "--sigv4", "--sigv4-region", "us-east-1", "--timeout", "3s", "--service", "s", "--instance", "i")
		add("push to serve", o, e)
		srv.stop(t, time.Minute) // what it printed is checked, not how it ended
		add("serve", srv.out.String(), srv.errOut.String())
	}

	bodyFile := filepath.Join(t.TempDir(), "body.bin")
	os.WriteFile(bodyFile, wire.Compress(nil, wire.AppendWriteRequest(nil, &wire.WriteRequest{Series: []wire.TimeSeries{{Labels: []wire.Label{{Name: "__name__", Value: "up"}}, Samples: []wire.Sample{{Value: 1, Timestamp: 1}}}}})), 0o644)
	o, e, _ = runCLI(t, nil, nil, "decode", bodyFile)
	add("decode", o, e)

	for _, out := range outputs {
		name, text, _ := strings.Cut(out, "\x00")
		t.Logf("%s: %d bytes checked", name, len(text))
	}
	for _, secret := range []string{secretAWS, secretURL, secretBearer, secretServe} {
		for _, form := range []string{secret, url.QueryEscape(secret), url.PathEscape(secret)} {
			for _, out := range outputs {
				name, text, _ := strings.Cut(out, "\x00")
				if strings.Contains(text, form) {
					t.Errorf("%s printed a secret (%q):\n%s", name, form, text)
				}
			}
		}
	}
	// The test must have exercised something: serve logged its auth.
	for _, out := range outputs {
		if name, text, _ := strings.Cut(out, "\x00"); name == "serve" && !strings.Contains(text, "auth=") {
			t.Errorf("serve logged no auth summary:\n%s", text)
		}
	}
}

// A URL password and a token query parameter that every URL-carrying flag
// of every command is given; neither may ever be printed.
const (
	secretPass  = "rwkitPASSinURLzz7Hq"
	secretToken = "rwkitTOKENparamZZ3Wd"
)

// withSecrets puts user:secretPass@ and ?module=m&token=secretToken on
// base+path.
func withSecrets(base, path string) string {
	return strings.Replace(base, "://", "://scraper:"+secretPass+"@", 1) + path + "?module=m&token=" + secretToken
}

// TestSecretURLsNeverPrinted gives every URL-carrying flag of every command
// (push --url and --scrape, agent --url, --scrape and a --config.file's
// targets, collide's sources, verify --query-url, discards --from,
// --workspace-id and --endpoint-url, doctor --url, decode's argument, and
// requests to serve) a URL with a password and a token parameter, in text
// and JSON output, at debug level where there is one, on the paths that
// work and on the error paths (refused, no answer, failing, unparsable),
// and greps all they print.
func TestSecretURLsNeverPrinted(t *testing.T) {
	withSecretAWSEnv(t)

	metricsURL := serveHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("# TYPE up gauge\nup 1\n"))
	}))
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "failing on purpose", http.StatusInternalServerError)
	}))
	defer failing.Close()
	// A server that takes the connection and never answers.
	hang, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hang.Close()
	go func() {
		for {
			c, err := hang.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	refused := "http://127.0.0.1:1"
	bad := "http://scraper:" + secretPass + "%zz@127.0.0.1:1/x?token=" + secretToken // '%zz' is no escape: it does not parse
	hanging := "http://" + hang.Addr().String()
	metrics := filepath.Join(t.TempDir(), "metrics.txt")
	os.WriteFile(metrics, []byte("# TYPE up gauge\nup 1\n"), 0o644)

	type run struct {
		name string
		args []string
	}
	var runs []run
	add := func(name string, args ...string) { runs = append(runs, run{name, args}) }
	for _, output := range []string{"text", "json"} {
		o := []string{"--output", output}
		for _, tc := range []struct{ name, url string }{
			{"failing", withSecrets(failing.URL, "/api/v1/write")}, {"refused", withSecrets(refused, "/api/v1/write")},
			{"no answer", withSecrets(hanging, "/api/v1/write")}, {"bad URL", bad},
		} {
			add("push --url "+tc.name+" "+output, append([]string{"push", "--url", tc.url, "--file", metrics, "--timeout", "1s", "--service", "s", "--instance", "i"}, o...)...)
			add("push --scrape "+tc.name+" "+output, append([]string{"push", "--url", withSecrets(failing.URL, "/api/v1/write"), "--scrape", strings.Replace(tc.url, "/api/v1/write", "/metrics", 1), "--timeout", "1s", "--service", "s", "--instance", "i"}, o...)...)
			add("verify --query-url "+tc.name+" "+output, append([]string{"verify", "--query-url", strings.TrimSuffix(strings.Replace(tc.url, "/api/v1/write", "", 1), ""), "--query", "up", "--timeout", "1s"}, o...)...)
			add("discards --from "+tc.name+" "+output, append([]string{"discards", "--from", strings.Replace(tc.url, "/api/v1/write", "", 1), "--timeout", "1s"}, o...)...)
			add("discards --endpoint-url "+tc.name+" "+output, append([]string{"discards", "--workspace-id", "ws-1", "--region", "us-west-2", "--endpoint-url", strings.Replace(tc.url, "/api/v1/write", "", 1), "--timeout", "1s"}, o...)...)
			add("collide "+tc.name+" "+output, append([]string{"collide", "--timeout", "1s"}, append(o, strings.Replace(tc.url, "/api/v1/write", "/metrics", 1), "b=testdata/collide/auth.txt")...)...)
			add("collide --writer "+tc.name+" "+output, append([]string{"collide", "--timeout", "1s", "--writer", "a=" + strings.Replace(tc.url, "/api/v1/write", "/metrics", 1), "--writer", "b=testdata/collide/auth.txt"}, o...)...)
			if output == "text" {
				add("doctor --url "+tc.name, "doctor", "--url", tc.url, "--timeout", "1s")
			}
		}
		add("push --scrape ok "+output, append([]string{"push", "--url", withSecrets(failing.URL, "/api/v1/write"), "--scrape", withSecrets(metricsURL, "/metrics"), "--timeout", "1s", "--service", "s", "--instance", "i"}, o...)...)
		add("collide ok "+output, append([]string{"collide"}, append(o, withSecrets(metricsURL, "/metrics"), "b=testdata/collide/auth.txt")...)...)
		add("discards --workspace-id URL "+output, append([]string{"discards", "--workspace-id", withSecrets("https://aps-workspaces.us-west-2.amazonaws.com", "/workspaces/ws-1"), "--endpoint-url", refused, "--timeout", "1s"}, o...)...)
		add("decode URL "+output, append([]string{"decode"}, append(o, withSecrets(metricsURL, "/metrics"))...)...)
	}

	var outputs []string
	record := func(name string, s ...string) { outputs = append(outputs, name+"\x00"+strings.Join(s, "\n")) }
	for _, r := range runs {
		stdout, stderr, _ := runCLI(t, nil, nil, r.args...)
		record(r.name, stdout, stderr)
	}

	// The agent, at debug level: flag mode with targets that answer, refuse
	// and hang, a remote write that refuses; a bad --scrape and a bad --url;
	// and a configuration file whose targets carry a token parameter.
	runAgent := func(name string, args ...string) {
		_, out, errOut, err := runFor(1500*time.Millisecond, func(s stdio) command { return &agentCommand{stdio: s} },
			append(args, "--log-level", "debug", "--shutdown-timeout", "500ms")...)
		e := ""
		if err != nil {
			var buf bytes.Buffer
			exitCode(stdio{err: &buf}, err)
			e = buf.String()
		}
		record(name, out.String(), errOut.String(), e)
	}
	runAgent("agent flags", "--url", withSecrets(refused, "/api/v1/write"), "--instance", "i", "--interval", "200ms", "--scrape-timeout", "100ms",
		"--scrape", "ok="+withSecrets(metricsURL, "/metrics"), "--scrape", "refused="+withSecrets(refused, "/metrics"), "--scrape", "hang="+withSecrets(hanging, "/metrics"))
	runAgent("agent bad --scrape", "--url", withSecrets(refused, "/api/v1/write"), "--instance", "i", "--scrape", "svc="+bad)
	runAgent("agent bad --url", "--url", bad, "--instance", "i", "--scrape", "svc="+withSecrets(metricsURL, "/metrics"))
	{
		cfg := filepath.Join(t.TempDir(), "prometheus.yml")
		os.WriteFile(cfg, []byte(`global: {scrape_interval: 200ms, scrape_timeout: 100ms}
scrape_configs:
- job_name: ok
  params: {token: [`+secretToken+`], module: [m]}
  basic_auth: {username: u, password: `+secretPass+`}
  static_configs: [{targets: [`+strings.TrimPrefix(metricsURL, "http://")+`]}]
- job_name: dead
  params: {token: [`+secretToken+`]}
  static_configs: [{targets: ['127.0.0.1:1', '`+hang.Addr().String()+`']}]
remote_write:
- url: `+withSecrets(refused, "/api/v1/write")+`
`), 0o600)
		runAgent("agent --config.file", "--config.file", cfg)
	}

	// serve, at debug level, asked with a token parameter and a password.
	{
		ready := make(chan string, 1)
		srv := start(t, nil, func(s stdio) command { return &serveCommand{stdio: s, ready: ready} },
			"--listen", "127.0.0.1:0", "--data", t.TempDir(), "--log-level", "debug")
		addr := srv.await(t, "serve", ready, 30*time.Second)
		for _, path := range []string{"/api/v1/write", "/api/v1/query", "/metrics", "/nowhere"} {
			req, _ := http.NewRequest("POST", withSecrets("http://"+addr, path), strings.NewReader("not snappy"))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			b.ReadFrom(resp.Body)
			resp.Body.Close()
			record("serve answer "+path, b.String())
		}
		stdout, stderr, _ := runCLI(t, nil, nil, "verify", "--query-url", withSecrets("http://"+addr, ""), "--query", "up", "--output", "json")
		record("verify against serve", stdout, stderr)
		srv.stop(t, time.Minute) // what it printed is checked, not how it ended
		record("serve", srv.out.String(), srv.errOut.String())
	}

	checked := 0
	for _, out := range outputs {
		name, text, _ := strings.Cut(out, "\x00")
		checked += len(text)
		if strings.TrimSpace(text) == "" {
			t.Errorf("%s printed nothing: the case checks nothing", name)
		}
		for _, secret := range []string{secretPass, secretToken, secretAWS} {
			if strings.Contains(text, secret) {
				t.Errorf("%s printed a secret (%q):\n%s", name, secret, text)
			}
		}
	}
	t.Logf("%d runs, %d bytes checked", len(outputs), checked)
	// The URLs are still shown, redacted, so the checks saw them.
	for _, out := range outputs {
		if name, text, _ := strings.Cut(out, "\x00"); name == "push --url failing text" && !strings.Contains(text, "scraper:xxxxx@") {
			t.Errorf("%s does not show the redacted URL:\n%s", name, text)
		}
	}
}
