package main

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rwkit/rwkit/cloudwatch/cwtest"
	"github.com/rwkit/rwkit/wire"
)

// jsonCase is one run of a command with --output json.
type jsonCase struct {
	name string
	args []string // after the command name; --output json is added
	env  map[string]string
	code int
	flag string // for a usage error: the flag error.flag must name
	// result: whether result is an object (true) or null (false).
	result bool
	// remoteWrite: error.remote_write must hold the library's error.
	remoteWrite bool
	// run, when set, runs the command itself (a prepared command).
	run func(t *testing.T, args []string) (stdout, stderr string, code int)
}

// TestJSONOutputMatchesSchema runs every command with --output json on
// its success and failure paths, usage errors included, and checks each
// answer against the command's documented schema (schema/CMD.schema.json):
// exactly one JSON object on stdout, every key documented with its type,
// required keys present, keys snake_case, exit_code the process's.
func TestJSONOutputMatchesSchema(t *testing.T) {
	ss := loadSchemas(t, "schema")
	dir := t.TempDir()
	write := func(name string, b []byte) string { return writeFile(t, dir, name, b) }

	ws := startWorkspace(t)
	writeURL := ws.URL + "/workspaces/ws-json/api/v1/remote_write"
	refusingURL := serveHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "out of order sample", http.StatusBadRequest)
	}))
	deadURL := closedURL(t)
	query, _, _ := queryRecorder(t)
	notFoundURL := serveHTTP(t, http.NotFoundHandler())
	local := localWorkspace(t, true)

	rw1 := write("body.snappy", wire.Compress(nil, wire.AppendWriteRequest(nil, decodeFixture())))
	rw2 := write("body-v2.pb", wire.AppendRequestV2(nil, decodeFixture()))
	garbage := write("garbage", []byte("not a body"))
	id := []string{"--label", "service=auth", "--label", "instance=i-1"}

	cases := map[string][]jsonCase{
		"push": {
			{name: "delivered", args: append([]string{"--url", writeURL, "--file", "testdata/auth-service.txt"}, id...), code: exitOK, result: true},
			{name: "refused", args: append([]string{"--url", refusingURL, "--file", "testdata/auth-service.txt"}, id...), code: exitFailed, result: true, remoteWrite: true},
			{name: "failed", args: append([]string{"--url", deadURL, "--file", "testdata/auth-service.txt", "--timeout", "2s"}, id...), code: exitFailed, result: true, remoteWrite: true},
			{name: "empty", args: []string{"--url", writeURL, "--file", "testdata/comments-only.txt"}, code: exitFailed, result: true},
			{name: "missing file", args: []string{"--url", writeURL, "--file", filepath.Join(dir, "nope.txt")}, code: exitFailed},
			{name: "failed scrape", args: []string{"--url", writeURL, "--scrape", deadURL + "/metrics"}, code: exitFailed},
			{name: "unknown flag", args: []string{"--bogus"}, code: exitUsage, flag: "--bogus"},
			{name: "flag without value", args: []string{"--url", writeURL, "--file", "x", "--timeout"}, code: exitUsage, flag: "--timeout"},
			{name: "bad duration", args: []string{"--url", writeURL, "--file", "x", "--timeout", "soon"}, code: exitUsage, flag: "--timeout"},
			{name: "no scheme", args: []string{"--url", "example.com/x", "--file", "x"}, code: exitUsage, flag: "--url"},
			{name: "missing service", args: []string{"--url", writeURL, "--file", "testdata/auth-service.txt", "--identity"}, code: exitUsage, flag: "--service"},
			{name: "env", args: []string{"--file", "x"}, env: map[string]string{"RWKIT_URL": writeURL, "RWKIT_RW_VERSION": "x"}, code: exitUsage, flag: "--rw-version"},
		},
		"collide": {
			{name: "none", args: []string{"auth=testdata/collide/auth.txt"}, code: exitOK, result: true},
			{name: "collisions", args: []string{"auth=testdata/collide/auth.txt", "bff=testdata/collide/bff.txt", "--label", "env=prod"}, code: exitFound, result: true},
			{name: "duplicates", args: []string{"dup=testdata/collide/duplicate.txt"}, code: exitFound, result: true},
			{name: "missing file", args: []string{"a=" + filepath.Join(dir, "nope.txt")}, code: exitFailed},
			{name: "no writers", args: nil, code: exitUsage, flag: "--writer"},
			{name: "bad label", args: []string{"a.txt", "--label", "0bad=x"}, code: exitUsage, flag: "--label"},
		},
		"decode": {
			{name: "rw1", args: []string{rw1}, code: exitOK, result: true},
			{name: "rw2", args: []string{rw2}, code: exitOK, result: true},
			{name: "garbage", args: []string{garbage}, code: exitFailed},
			{name: "missing file", args: []string{filepath.Join(dir, "nope")}, code: exitFailed},
			{name: "bad version", args: []string{"--rw-version", "3", rw1}, code: exitUsage, flag: "--rw-version"},
			{name: "two files", args: []string{rw1, rw2}, code: exitUsage},
		},
		"verify": {
			{name: "ok", args: []string{"--query-url", query.URL, "--query", "up"}, code: exitOK, result: true},
			{name: "pass", args: []string{"--query-url", query.URL, "--query", "up", "--expect-series", "2", "--expect-label", "service"}, code: exitOK, result: true},
			{name: "fail", args: []string{"--query-url", query.URL, "--query", "up", "--expect-series", "5"}, code: exitFound, result: true},
			{name: "query error", args: []string{"--query-url", notFoundURL, "--query", "up"}, code: exitFailed, result: true},
			{name: "unreachable", args: []string{"--query-url", deadURL, "--query", "up"}, code: exitFailed, result: true},
			{name: "no query", args: []string{"--query-url", query.URL}, code: exitUsage, flag: "--query"},
			{name: "bad url", args: []string{"--query-url", "ht!tp://x", "--query", "up"}, code: exitUsage, flag: "--query-url"},
		},
		"discards": {
			{name: "local", args: []string{"--from", local.URL}, code: exitOK, result: true},
			{name: "local, discards found", args: []string{"--from", local.URL, "--fail-on-discards"}, code: exitFound, result: true},
			{name: "unknown workspace", args: []string{"--from", local.URL, "--workspace-id", "ws-typo"}, code: exitFailed},
			{name: "unreachable", args: []string{"--from", deadURL}, code: exitFailed},
			{name: "cloudwatch", args: []string{"--workspace-id", testWS, "--region", "us-west-2", "--endpoint-url", ""}, code: exitOK, result: true,
				run: func(t *testing.T, args []string) (string, string, int) {
					args[len(args)-3] = cwtest.NewServer(t, "testdata/cloudwatch/seed").URL // --endpoint-url's value
					out, errOut, code, _ := runDiscards(t, args...)
					return out, errOut, code
				}},
			{name: "bad period", args: []string{"--workspace-id", testWS, "--period", "30s"}, code: exitUsage, flag: "--period"},
			{name: "bad from", args: []string{"--from", "127.0.0.1:9095"}, code: exitUsage, flag: "--from"},
		},
		"demo": {
			{name: "story holds", args: []string{"--rounds", "1", "--interval", "100ms"}, code: exitOK, result: true},
			{name: "story fails", args: []string{"--rounds", "1", "--interval", "100ms"}, code: exitFailed, result: true,
				run: func(t *testing.T, args []string) (string, string, int) {
					var out, errOut bytes.Buffer
					s := stdio{in: strings.NewReader(""), out: &out, err: &errOut, getenv: func(string) string { return "" }}
					code := runCommand(context.Background(), s, "demo", func(s stdio) command { return &demoCommand{stdio: s, phase1Identity: true} }, args)
					return out.String(), errOut.String(), code
				}},
			{name: "bad rounds", args: []string{"--rounds", "0"}, code: exitUsage, flag: "--rounds"},
		},
	}
	for cmd := range jsonCommands {
		if len(cases[cmd]) == 0 {
			t.Errorf("%s has --output json and no case here", cmd)
		}
	}
	for cmd, cs := range cases {
		_, doc, err := ss.resolve(cmd+".schema.json", "#")
		if err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		for _, tc := range cs {
			t.Run(cmd+"/"+tc.name, func(t *testing.T) {
				args := append(append([]string(nil), tc.args...), "--output", "json")
				var out, errOut string
				var code int
				if tc.run != nil {
					out, errOut, code = tc.run(t, args)
				} else {
					out, errOut, code = runCLI(t, tc.env, nil, append([]string{cmd}, args...)...)
				}
				if code != tc.code {
					t.Errorf("exit %d, want %d\nstderr:\n%s", code, tc.code, errOut)
				}
				var v any
				if err := decodeNumbers([]byte(out), &v); err != nil {
					t.Fatalf("stdout is not one JSON value: %v\n%s", err, out)
				}
				for _, e := range ss.validate(cmd+".schema.json", doc, v, "$") {
					t.Error(e)
				}
				env, _ := v.(map[string]any)
				if got := env["exit_code"]; jsonKind(got) != "integer" || got.(interface{ String() string }).String() != strconv.Itoa(code) {
					t.Errorf("exit_code %v, the process exited %d", got, code)
				}
				errObj, _ := env["error"].(map[string]any)
				if (errObj == nil) != (code == exitOK) {
					t.Errorf("error %v with exit code %d: want an error exactly when the exit code is not 0", env["error"], code)
				}
				if tc.flag != "" && (errObj == nil || errObj["flag"] != tc.flag) {
					t.Errorf("error %v: want flag %q", errObj, tc.flag)
				}
				if rw, _ := errObj["remote_write"].(map[string]any); (rw != nil) != tc.remoteWrite {
					t.Errorf("error.remote_write %v: want it: %v", errObj["remote_write"], tc.remoteWrite)
				}
				if (env["result"] != nil) != tc.result {
					t.Errorf("result %.200v: want an object: %v", env["result"], tc.result)
				}
			})
		}
	}
}
