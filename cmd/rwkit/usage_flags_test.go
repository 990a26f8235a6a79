package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
)

// goWords are the library's words a CLI user cannot act on: Go option
// and package names, and the flag package's own texts.
var goWords = regexp.MustCompile(`\bWith[A-Z]|\b(push|remotewrite|gather|identity|agent|workspace|store|sigv4|validate|scrape)\.[A-Za-z]|Options\.|flag provided but not defined|parse error|invalid value|Go struct`)

// TestUsageErrorsNameTheFlag goes through every command's flags with bad
// values: each is a usage error (exit 2) whose message names the flag as
// typed and no Go identifier, found before anything starts: nothing
// scraped, pushed, queried or listened on, no data directory made.
func TestUsageErrorsNameTheFlag(t *testing.T) {
	var hits atomic.Int64
	srvURL := serveHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte("up 1\n"))
	}))
	write, metrics := srvURL+"/api/v1/write", srvURL+"/metrics"
	data := filepath.Join(t.TempDir(), "data")
	noID := map[string]string{} // no RWKIT_SERVICE: the identity is missing

	base := map[string][]string{
		"push":     {"--url", write, "--file", "testdata/auth-service.txt"},
		"agent":    {"--url", write, "--scrape", metrics, "--service", "s", "--instance", "i", "--web.listen-address", "127.0.0.1:0"},
		"serve":    {"--data", data, "--listen", "127.0.0.1:0"},
		"collide":  {"a=testdata/collide/auth.txt"},
		"verify":   {"--query-url", srvURL, "--query", "up"},
		"discards": {"--from", srvURL},
		"doctor":   {"--url", write},
		"decode":   {"testdata/auth-service.txt"},
		"demo":     {"--rounds", "1"},
		"version":  nil,
	}
	type bad struct {
		args []string
		flag string
		env  map[string]string
		want string // the whole message, where one is pinned
	}
	cases := map[string][]bad{
		"push": {
			{args: []string{"--url", "example.com/x"}, flag: "--url"},
			{args: []string{"--url", "ht!tp://x"}, flag: "--url", want: `--url "ht!tp://x": scheme "ht!tp" is not valid; want http:// or https://`},
			{args: []string{"--url", "example.com/x"}, flag: "--url", want: `--url "example.com/x": no scheme; want http:// or https://`},
			{args: []string{"--url", "ftp://h/x"}, flag: "--url"},
			{args: []string{"--url", "http:///api/v1/write"}, flag: "--url"},
			{args: []string{"--label", "0bad=x"}, flag: "--label"},
			{args: []string{"--label", "novalue"}, flag: "--label"},
			{args: []string{"--label", "__name__=x"}, flag: "--label"},
			{args: []string{"--label", "env="}, flag: "--label"},
			{args: []string{"--timeout", "0s"}, flag: "--timeout"},
			{args: []string{"--timeout", "-1s"}, flag: "--timeout"},
			{args: []string{"--timeout", "soon"}, flag: "--timeout"},
			{args: []string{"--timeout"}, flag: "--timeout"},
			{args: []string{"--max-request-bytes", "0"}, flag: "--max-request-bytes", want: "--max-request-bytes: must be >= 1024, got 0"},
			{args: []string{"--max-request-bytes", "1k"}, flag: "--max-request-bytes", want: `--max-request-bytes: "1k" is not a whole number`},
			{args: []string{"--timestamp", "-5"}, flag: "--timestamp"},
			{args: []string{"--rw-version", "3"}, flag: "--rw-version"},
			{args: []string{"--output", "yaml"}, flag: "--output"},
			{args: []string{"--honor-timestamps=maybe"}, flag: "--honor-timestamps"},
			{args: []string{"--identity"}, flag: "--service", env: noID},
			{args: []string{"--bogus"}, flag: "--bogus", want: "--bogus: no such flag (rwkit push -h lists the flags)"},
			{args: []string{"--sigv4-region", "eu-west-1", "--bearer-token-file", "testdata/auth-service.txt"}, flag: "--bearer-token-file"},
			{args: []string{"--header", "Authorization: Bearer x"}, flag: "--header"},
			{args: []string{"--tls-cert-file", "c.pem"}, flag: "--tls-key-file"},
			{env: map[string]string{"RWKIT_TIMEOUT": "0s"}, flag: "--timeout"},
			{env: map[string]string{"RWKIT_LABEL": "ok=1,0bad=x"}, flag: "--label"},
		},
		"agent": {
			{args: []string{"--url", "example.com/x"}, flag: "--url"},
			{args: []string{"--url", "ht!tp://x"}, flag: "--url"},
			{args: []string{"--scrape", "a=notaurl"}, flag: "--scrape", want: `--scrape "notaurl": no scheme; want http:// or https://`},
			{args: []string{"--scrape", "ht!tp://x/metrics"}, flag: "--scrape"},
			{args: []string{"--interval", "0s"}, flag: "--interval", want: "--interval: must be > 0, got 0s"},
			{args: []string{"--interval", "fast"}, flag: "--interval", want: `--interval: "fast" is not a duration; want a number and a unit, e.g. 30s, 5m, 1h30m`},
			{args: []string{"--scrape-timeout", "0s"}, flag: "--scrape-timeout"},
			{args: []string{"--scrape-timeout", "1m"}, flag: "--scrape-timeout"},
			{args: []string{"--remote-timeout", "0s"}, flag: "--remote-timeout"},
			{args: []string{"--min-backoff", "0s"}, flag: "--min-backoff"},
			{args: []string{"--max-backoff", "0s"}, flag: "--max-backoff"},
			{args: []string{"--max-backoff", "10ms"}, flag: "--max-backoff"},
			{args: []string{"--shutdown-timeout", "0s"}, flag: "--shutdown-timeout"},
			{args: []string{"--label", "0bad=x"}, flag: "--label"},
			{args: []string{"--label", "service=x"}, flag: "--label"},
			{args: []string{"--rw-version", "3"}, flag: "--rw-version"},
			{args: []string{"--log-level", "loud"}, flag: "--log-level"},
			{args: []string{"--service-label", "0bad"}, flag: "--service-label"},
			{args: []string{"--instance-label", "service"}, flag: "--instance-label"},
			{args: []string{"--without-identity"}, flag: "--without-identity"},
			{args: []string{"--stale-markers=maybe"}, flag: "--stale-markers"},
			{args: []string{"--config.file", "testdata/none.yml"}, flag: "--config.file"},
			{env: map[string]string{"RWKIT_INTERVAL": "0s"}, flag: "--interval"},
		},
		"serve": {
			{args: []string{"--listen", "9095"}, flag: "--listen"},
			{args: []string{"--listen", "0.0.0.0:0"}, flag: "--listen"},
			{args: []string{"--limits", "no-such-backend"}, flag: "--limits"},
			{args: []string{"--log-level", "loud"}, flag: "--log-level"},
			{args: []string{"--shutdown-timeout", "0s"}, flag: "--shutdown-timeout"},
			{args: []string{"--read-header-timeout", "0s"}, flag: "--read-header-timeout"},
			{args: []string{"--read-timeout", "0s"}, flag: "--read-timeout"},
			{args: []string{"--write-timeout", "0s"}, flag: "--write-timeout"},
			{args: []string{"--idle-timeout", "0s"}, flag: "--idle-timeout"},
			{args: []string{"--query-timeout", "0s"}, flag: "--query-timeout"},
			{args: []string{"--max-request-bytes", "0"}, flag: "--max-request-bytes"},
			{args: []string{"--max-decoded-bytes", "-1"}, flag: "--max-decoded-bytes"},
			{args: []string{"--max-series-per-request", "0"}, flag: "--max-series-per-request"},
			{args: []string{"--max-concurrent-writes", "0"}, flag: "--max-concurrent-writes"},
			{args: []string{"--max-header-bytes", "0"}, flag: "--max-header-bytes"},
			{args: []string{"--query-max-length", "0"}, flag: "--query-max-length"},
			{args: []string{"--query-max-concurrency", "0"}, flag: "--query-max-concurrency"},
			{args: []string{"--query-max-samples", "0"}, flag: "--query-max-samples"},
			{args: []string{"--max-workspaces", "0"}, flag: "--max-workspaces"},
			{args: []string{"--sigv4-access-key-id", "AKID"}, flag: "--sigv4-secret-access-key"},
			{args: []string{"--bearer-token-file", "testdata/none"}, flag: "--bearer-token-file"},
			{args: []string{"--limits", "prometheus", "--accept-ha-samples"}, flag: "--accept-ha-samples"},
			{args: []string{"--accept-ha-samples=maybe"}, flag: "--accept-ha-samples"},
			{args: []string{"--ha-cluster-label", ""}, flag: "--ha-cluster-label"},
			{args: []string{"--ha-replica-label", "cluster"}, flag: "--ha-replica-label"},
			{args: []string{"--ha-max-clusters", "-1"}, flag: "--ha-max-clusters"},
			{args: []string{"--ha-failover-timeout", "15s"}, flag: "--ha-failover-timeout", want: "--ha-failover-timeout 15s must be at least --ha-update-timeout (15s) + 1s"},
		},
		"collide": {
			{args: []string{"--timeout", "0s"}, flag: "--timeout"},
			{args: []string{"--limit", "-2"}, flag: "--limit"},
			{args: []string{"--label", "0bad=x"}, flag: "--label"},
			{args: []string{"--writer-label", "a:0bad=x"}, flag: "--writer-label"},
			{args: []string{"--writer-label", "nobody:env=x"}, flag: "--writer-label"},
			{args: []string{"b=http://[::1"}, flag: "writer b"}, // an argument: no flag to name
			{args: []string{"--output", "yaml"}, flag: "--output"},
		},
		"verify": {
			{args: []string{"--query-url", "example.com"}, flag: "--query-url"},
			{args: []string{"--query-url", "ht!tp://x"}, flag: "--query-url"},
			{args: []string{"--timeout", "0s"}, flag: "--timeout"},
			{args: []string{"--max-rows", "-1"}, flag: "--max-rows"},
			{args: []string{"--expect-series", "-1"}, flag: "--expect-series"},
			{args: []string{"--expect-min", "x"}, flag: "--expect-min"},
			{args: []string{"--expect-distinct", "service"}, flag: "--expect-distinct"},
			{args: []string{"--time", "yesterday"}, flag: "--time"},
			{args: []string{"--sigv4-region", "eu-west-1", "--bearer-token-file", "testdata/auth-service.txt"}, flag: "--bearer-token-file"},
		},
		"discards": {
			{args: []string{"--from", "127.0.0.1:9095"}, flag: "--from"},
			{args: []string{"--endpoint-url", "notaurl"}, flag: "--endpoint-url"},
			{args: []string{"--since", "0s"}, flag: "--since"},
			{args: []string{"--period", "0s"}, flag: "--period"},
			{args: []string{"--timeout", "0s"}, flag: "--timeout"},
			{args: []string{"--max-rows", "-1"}, flag: "--max-rows"},
			{args: []string{"--fail-on-discards=maybe"}, flag: "--fail-on-discards"},
		},
		"doctor": {
			{args: []string{"--timeout", "0s"}, flag: "--timeout"},
			{args: []string{"--rw-version", "3"}, flag: "--rw-version"},
			{args: []string{"--header", "bad header"}, flag: "--header"},
		},
		"decode": {
			{args: []string{"--rw-version", "3"}, flag: "--rw-version"},
			{args: []string{"--max-bytes", "0"}, flag: "--max-bytes"},
			{args: []string{"--max-bytes", "lots"}, flag: "--max-bytes"},
		},
		"demo": {
			{args: []string{"--rounds", "0"}, flag: "--rounds"},
			{args: []string{"--interval", "0s"}, flag: "--interval"},
			{args: []string{"--interval", "50ms"}, flag: "--interval"},
		},
		"version": {
			{args: []string{"--bogus"}, flag: "--bogus"},
		},
	}
	for name := range commands {
		if len(cases[name]) == 0 {
			t.Errorf("command %s has no bad-flag case here", name)
		}
	}
	for cmd, bads := range cases {
		for _, b := range bads {
			args := append(append([]string{cmd}, base[cmd]...), b.args...)
			env := b.env
			if env == nil {
				env = map[string]string{"RWKIT_SERVICE": "s", "RWKIT_INSTANCE": "i"}
			}
			t.Run(strings.Join(args, " ")+" "+strings.TrimSpace(strings.ReplaceAll(strings.Trim(strings.Join(mapKV(b.env), " "), " "), "\n", "")), func(t *testing.T) {
				before := hits.Load()
				out, stderr, code := runCLI(t, env, nil, args...)
				if code != exitUsage {
					t.Errorf("exit %d, want 2\nstderr:\n%s", code, stderr)
				}
				msg := lastLine(stderr)
				if !strings.Contains(msg, b.flag) {
					t.Errorf("the error does not name %s: %q", b.flag, msg)
				}
				if b.flag == "--service" && !strings.Contains(msg, "set --service or RWKIT_SERVICE") {
					t.Errorf("a missing service should say how to set it: %q", msg)
				}
				if b.want != "" && msg != "rwkit: "+cmd+": "+b.want {
					t.Errorf("error %q, want %q", msg, "rwkit: "+cmd+": "+b.want)
				}
				if w := goWords.FindString(stderr); w != "" {
					t.Errorf("the error speaks Go (%q): %q", w, stderr)
				}
				if out != "" {
					t.Errorf("something started; stdout:\n%s", out)
				}
				if n := hits.Load() - before; n != 0 {
					t.Errorf("%d requests reached the servers", n)
				}
				if _, err := os.Stat(data); !os.IsNotExist(err) {
					t.Errorf("serve's --data %s was made: %v", data, err)
				}
				// The same with --output json: the envelope's error names
				// the flag.
				if !jsonCommands[cmd] || !strings.HasPrefix(b.flag, "--") || b.flag == "--output" {
					return
				}
				out, _, code = runCLI(t, env, nil, append(args, "--output", "json")...)
				var got testEnvelope
				if err := json.Unmarshal([]byte(out), &got); err != nil || code != exitUsage || got.ExitCode != exitUsage ||
					got.Error == nil || got.Error.Kind != "usage" || got.Error.Flag != b.flag || got.Result != nil && string(got.Result) != "null" {
					t.Errorf("--output json: exit %d, %v, want error.flag %s:\n%s", code, err, b.flag, out)
				}
				if n := hits.Load() - before; n != 0 {
					t.Errorf("--output json: %d requests reached the servers", n)
				}
			})
		}
	}
}

func mapKV(m map[string]string) []string {
	var kv []string
	for k, v := range m {
		kv = append(kv, k+"="+v)
	}
	return kv
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// TestHelpStatesExitCodes: every command's -h says its exit codes, with
// DESIGN.md's meanings (0 ok, 1 failed, 2 usage, 3 found).
func TestHelpStatesExitCodes(t *testing.T) {
	for name := range commands {
		if name == "version" {
			continue
		}
		_, help, _ := runCLI(t, nil, nil, name, "-h")
		i := strings.Index(help, "Exit codes: ")
		if i < 0 {
			t.Errorf("%s -h states no exit codes:\n%s", name, help)
			continue
		}
		codes := help[i:]
		codes = codes[:strings.Index(codes, ".\n")]
		if !strings.Contains(codes, "2 usage") || !strings.Contains(codes, "0 ") || !strings.Contains(codes, "1 ") {
			t.Errorf("%s -h: %q: want 0, 1 and 2 usage", name, codes)
		}
		if strings.Contains(codes, "3 ") != (name == "collide" || name == "verify" || name == "discards") {
			t.Errorf("%s -h: %q: 3 is for a check that found something (collide, verify, discards)", name, codes)
		}
	}
}

// TestURLFlagErrorsHideUserinfo: a URL flag's usage error quotes the value
// without what a user:password@ would hold, parsable or not.
func TestURLFlagErrorsHideUserinfo(t *testing.T) {
	for _, u := range []string{"user:s3cr3t@host/x", "ftp://user:s3cr3t@host/x", "http://user:s3cr3t@/x", "//user:s3cr3t@host/x", "http://user:s3cr3t@[::1"} {
		for _, args := range [][]string{
			{"push", "--file", "x", "--url", u},
			{"agent", "--scrape", "http://127.0.0.1:1/m", "--url", u},
			{"verify", "--query", "up", "--query-url", u},
			{"discards", "--from", u},
			{"push", "--url", "http://127.0.0.1:1/x", "--scrape", u, "--output", "json"},
		} {
			out, stderr, code := runCLI(t, nil, nil, args...)
			if code != exitUsage || strings.Contains(stderr+out, "s3cr3t") {
				t.Errorf("%v: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, out, stderr)
			}
		}
	}
}

// TestJSONRequested: --output json is recognised as the flag package reads
// it (one or two dashes, =value or the next argument, the last one wins,
// "--" ends the flags), and from RWKIT_OUTPUT when no --output is given.
func TestJSONRequested(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "RWKIT_OUTPUT" {
				return v
			}
			return ""
		}
	}
	for _, tc := range []struct {
		args []string
		env  string
		want bool
	}{
		{[]string{"--output", "json"}, "", true},
		{[]string{"--output=json"}, "", true},
		{[]string{"-output", "json"}, "", true},
		{[]string{"a.txt", "--bogus", "--output", "json", "--x"}, "", true},
		{[]string{"--output", "json", "--output", "text"}, "", false},
		{[]string{"--output", "text"}, "json", false},
		{nil, "json", true},
		{[]string{"--", "--output", "json"}, "", false},
		{[]string{"--output"}, "", false},
		{[]string{"--outputs", "json"}, "", false},
	} {
		if got := jsonRequested(tc.args, env(tc.env)); got != tc.want {
			t.Errorf("%q with RWKIT_OUTPUT=%q: %v, want %v", tc.args, tc.env, got, tc.want)
		}
	}
	// An unknown command asked for JSON answers in JSON too.
	out, _, code := runCLI(t, nil, nil, "pusj", "--output", "json")
	var env2 testEnvelope
	if err := json.Unmarshal([]byte(out), &env2); err != nil || code != exitUsage || env2.ExitCode != exitUsage || env2.Error == nil || env2.Error.Kind != "usage" {
		t.Errorf("unknown command: exit %d, %v\n%s", code, err, out)
	}
}

// An agent without a service is a usage error that says how to give one,
// in flags and variables, before anything is scraped.
func TestAgentMissingServiceIsUsage(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	out, stderr, code := runCLI(t, nil, nil, "agent", "--url", srv.URL+"/api/v1/write", "--scrape", srv.URL+"/metrics", "--instance", "i")
	want := "rwkit: agent: no service: set --service (or SERVICE=URL in --scrape) or RWKIT_SERVICE (or OTEL_SERVICE_NAME"
	if code != exitUsage || !strings.HasPrefix(stderr, want) || !strings.Contains(stderr, "--without-identity") || out != "" || hits.Load() != 0 {
		t.Errorf("exit %d, %d requests\nstdout:\n%s\nstderr:\n%s\nwant the error to start %q", code, hits.Load(), out, stderr, want)
	}
	if w := goWords.FindString(stderr); w != "" {
		t.Errorf("the error speaks Go (%q): %s", w, stderr)
	}
}
