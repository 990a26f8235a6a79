package workspace_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/remotewrite/sigv4"
	"github.com/rwkit/rwkit/wire"
	"github.com/rwkit/rwkit/workspace"
	"github.com/rwkit/rwkit/workspace/store"
)

const (
	testAccessKey = "AKIDRWKITTEST"
	testSecret    = "rwkit-test-secret-do-not-print"
	testToken     = "rwkit-test-bearer-do-not-print"
)

// tamper changes the body after signing, as a man in the middle would.
type tamper struct{ next http.RoundTripper }

func (t tamper) RoundTrip(r *http.Request) (*http.Response, error) {
	b, _ := io.ReadAll(r.Body)
	b = append(b, 0)
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.ContentLength = int64(len(b))
	return t.next.RoundTrip(r)
}

// TestSigV4Auth pushes with the real remotewrite client through the real
// remotewrite/sigv4 transport, with the workspace's credentials and with
// forged ones.
func TestSigV4Auth(t *testing.T) {
	e := newEnv(t, "amp", workspace.WithSigV4Auth(testAccessKey, testSecret, "us-west-2"), workspace.WithBearerToken(testToken))
	signer := func(t *testing.T, ak, sk, region string, opts ...sigv4.Option) http.RoundTripper {
		tr, err := sigv4.New(region, credentials.NewStaticCredentialsProvider(ak, sk, ""), opts...)
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	for _, tc := range []struct {
		name   string
		rt     http.RoundTripper
		header []string
		status int
		reason string
	}{
		{name: "signed", rt: signer(t, testAccessKey, testSecret, "us-west-2"), status: 200},
		{name: "bearer", rt: http.DefaultTransport, header: []string{"Authorization", "Bearer " + testToken}, status: 200},
		{name: "unsigned", rt: http.DefaultTransport, status: 403, reason: workspace.AuthMissing},
		{name: "forged secret", rt: signer(t, testAccessKey, "not-the-secret", "us-west-2"), status: 403, reason: workspace.AuthSignature},
		{name: "unknown key", rt: signer(t, "AKIDOTHER", testSecret, "us-west-2"), status: 403, reason: workspace.AuthAccessKey},
		{name: "other region", rt: signer(t, testAccessKey, testSecret, "eu-west-1"), status: 403, reason: workspace.AuthScope},
		{name: "other service", rt: signer(t, testAccessKey, testSecret, "us-west-2", sigv4.WithService("s3")), status: 403, reason: workspace.AuthScope},
		{name: "10 minutes old", rt: signer(t, testAccessKey, testSecret, "us-west-2", sigv4.WithClock(func() time.Time { return time.Now().Add(-10 * time.Minute) })), status: 403, reason: workspace.AuthSkew},
		{name: "10 minutes ahead", rt: signer(t, testAccessKey, testSecret, "us-west-2", sigv4.WithClock(func() time.Time { return time.Now().Add(10 * time.Minute) })), status: 403, reason: workspace.AuthSkew},
		{name: "body changed after signing", rt: signer(t, testAccessKey, testSecret, "us-west-2", sigv4.WithNext(tamper{http.DefaultTransport})), status: 403, reason: workspace.AuthPayloadHash},
		{name: "wrong bearer", rt: http.DefaultTransport, header: []string{"Authorization", "Bearer nope"}, status: 403, reason: workspace.AuthToken},
		{name: "basic", rt: http.DefaultTransport, header: []string{"Authorization", "Basic dXNlcjpwYXNz"}, status: 403, reason: workspace.AuthScheme},
		{name: "garbled sigv4", rt: http.DefaultTransport, header: []string{"Authorization", "AWS4-HMAC-SHA256 Credential=x"}, status: 403, reason: workspace.AuthMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before float64
			if tc.reason != "" {
				before = authFailures(t, e, tc.reason)
			}
			opts := []remotewrite.Option{remotewrite.WithTransport(tc.rt)}
			for i := 0; i+1 < len(tc.header); i += 2 {
				opts = append(opts, remotewrite.WithHeader(tc.header[i], tc.header[i+1]))
			}
			c := e.client(t, "/workspaces/ws-auth/api/v1/remote_write", opts...)
			_, err := c.Write(context.Background(), &wire.WriteRequest{Series: []wire.TimeSeries{series(1, nowMs(), "__name__", "auth_test", "case", strings.ReplaceAll(tc.name, " ", "_"))}})
			status := 200
			var rwErr *remotewrite.Error
			if errors.As(err, &rwErr) {
				status = rwErr.StatusCode
			} else if err != nil {
				t.Fatal(err)
			}
			if status != tc.status {
				t.Fatalf("status %d, want %d (%v)", status, tc.status, err)
			}
			if err != nil {
				for _, secret := range []string{testSecret, testToken} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("the error shows a secret: %v", err)
					}
				}
			}
			if tc.reason != "" {
				if got := authFailures(t, e, tc.reason) - before; got != 1 {
					t.Errorf("rwkit_auth_failures_total{reason=%q} rose by %v, want 1", tc.reason, got)
				}
			}
		})
	}

	// Queries need credentials too; health probes do not.
	hc := &http.Client{Transport: signer(t, testAccessKey, testSecret, "us-west-2")}
	for path, want := range map[string]int{"/workspaces/ws-auth/api/v1/query?query=count(auth_test)": 200, "/metrics": 200} {
		resp, err := hc.Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("signed GET %s: %d", path, resp.StatusCode)
		}
		resp, err = http.Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 403 {
			t.Errorf("unsigned GET %s: %d, want 403", path, resp.StatusCode)
		}
	}
	for _, path := range []string{"/-/healthy", "/-/ready"} {
		resp, err := http.Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s without credentials: %d, want 200", path, resp.StatusCode)
		}
	}
}

func authFailures(t *testing.T, e *env, reason string) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "rwkit_auth_failures_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == reason {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func TestAuthOptionsRefuseEmpty(t *testing.T) {
	for _, o := range []workspace.Option{workspace.WithSigV4Auth("", "x", "r"), workspace.WithSigV4Auth("a", "", "r"), workspace.WithBearerToken(" ")} {
		st, err := store.Open(t.TempDir(), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := workspace.New(st, o); err == nil || !strings.Contains(err.Error(), "With") {
			t.Errorf("an empty credential: %v, want an error naming the option", err)
		}
		st.Close()
	}
}
