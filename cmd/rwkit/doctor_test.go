package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/rwkit/rwkit/internal/promtest"
	"github.com/rwkit/rwkit/wire"
)

func TestDoctorAgainstPrometheus(t *testing.T) {
	prom := promtest.Start(t)
	out, _, code := runCLI(t, nil, nil, "doctor", "--url", prom.WriteURL)
	if code != 0 || !strings.Contains(out, "all steps passed") || !strings.Contains(out, "ok    empty write  POST RW 1.0 -> 204") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	// A path nothing serves: the first failing step is the write, with the fix.
	out, _, code = runCLI(t, nil, nil, "doctor", "--url", prom.URL+"/api/v1/remote_write")
	if code != exitFailed || !strings.Contains(out, "FAIL  empty write") || !strings.Contains(out, "404") ||
		!strings.Contains(out, "first failing step: empty write") || !strings.Contains(out, "check the path") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

func TestDoctorURLShape(t *testing.T) {
	for _, tc := range []struct {
		name, url, region, want string
	}{
		{"not a url", "aps-workspaces", "", "not an absolute http(s) URL"},
		{"amp without api/v1", "https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-1/remote_write", "", "/workspaces/<ws-id>/api/v1/remote_write"},
		{"amp query url", "https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-1/api/v1/query", "", "that is the query endpoint"},
		{"amp over http", "http://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-1/api/v1/remote_write", "", "AMP only answers https"},
		{"region mismatch", "https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-1/api/v1/remote_write", "eu-west-1", "use --sigv4-region us-west-2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"doctor", "--url", tc.url}
			if tc.region != "" {
				args = append(args, "--sigv4-region", tc.region)
			}
			out, _, code := runCLI(t, nil, nil, args...)
			if code != exitFailed || !strings.Contains(out, "FAIL  url") || !strings.Contains(out, tc.want) {
				t.Errorf("exit %d, want 1 with %q:\n%s", code, tc.want, out)
			}
		})
	}
}

// runDoctor runs the doctor command with AWS config loading replaced, so no
// test reaches a real credential source (or the network beyond loopback).
func runDoctor(t *testing.T, load func(context.Context, string) (aws.Config, error), args ...string) (string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := &doctorCommand{stdio: stdio{in: strings.NewReader(""), out: &out, err: &errOut, getenv: func(string) string { return "" }}, loadAWSCreds: load}
	code := exitCode(cmd.stdio, cmd.Run(context.Background(), args))
	return out.String() + errOut.String(), code
}

func TestDoctorSignsTheEmptyWrite(t *testing.T) {
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	var gotAuth, gotHash string
	var gotBody []byte
	srvURL := serveHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = r.Header.Get("Authorization")
		gotHash = r.Header.Get("X-Amz-Content-Sha256")
		buf := new(bytes.Buffer)
		buf.ReadFrom(r.Body)
		gotBody = buf.Bytes()
		if !strings.HasPrefix(gotAuth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE12345/") {
			http.Error(w, "missing signature", http.StatusForbidden)
			return
		}
	}))
	load := func(ctx context.Context, region string) (aws.Config, error) {
		return aws.Config{Region: region, Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE12345", secret, "")}, nil
	}
	out, code := runDoctor(t, load, "--url", srvURL+"/api/v1/push", "--sigv4-region", "us-west-2")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if !strings.Contains(gotAuth, "/us-west-2/aps/aws4_request") || gotHash == "" {
		t.Errorf("Authorization %q, X-Amz-Content-Sha256 %q", gotAuth, gotHash)
	}
	raw, err := wire.Decompress(nil, gotBody, 1<<20)
	if err != nil || len(raw) != 0 {
		t.Errorf("body %x: want an empty snappy-compressed write (err %v)", gotBody, err)
	}
	if strings.Contains(out, secret) || !strings.Contains(out, "AKID********2345 from StaticCredentials") {
		t.Errorf("report must name the key masked and never the secret:\n%s", out)
	}
}

func TestDoctorNoCredentials(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	load := func(ctx context.Context, region string) (aws.Config, error) {
		return aws.Config{Region: region, Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{}, errors.New("failed to refresh cached credentials, no EC2 IMDS role found")
		})}, nil
	}
	out, code := runDoctor(t, load, "--url", srv.URL+"/api/v1/push", "--sigv4-region", "us-west-2")
	if code != exitFailed || !strings.Contains(out, "FAIL  credentials") || !strings.Contains(out, "no EC2 IMDS role found") ||
		!strings.Contains(out, "first failing step: credentials") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

func TestDoctorForbidden(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"message":"User: arn:aws:sts::1:assumed-role/x is not authorized to perform: aps:RemoteWrite"}`, http.StatusForbidden)
	}))
	defer srv.Close()
	load := func(ctx context.Context, region string) (aws.Config, error) {
		return aws.Config{Region: region, Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE12345", "s", "")}, nil
	}
	out, code := runDoctor(t, load, "--url", srv.URL+"/workspaces/ws-1/api/v1/remote_write", "--sigv4-region", "us-west-2")
	if code != exitFailed || !strings.Contains(out, "403") || !strings.Contains(out, "aps:RemoteWrite") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}
