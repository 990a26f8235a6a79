package workspace_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rwkit/rwkit/workspace"
)

// answered is one answer a recording front gave.
type answered struct {
	header http.Header // the request's
	status int
	body   string
}

// recordingFront serves h and records each request's headers and h's
// answer to it.
type recordingFront struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []answered
}

func newRecordingFront(t *testing.T, h http.Handler) *recordingFront {
	t.Helper()
	f := &recordingFront{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		f.mu.Lock()
		f.got = append(f.got, answered{r.Header.Clone(), rec.Code, rec.Body.String()})
		f.mu.Unlock()
		for k, v := range rec.Header() {
			rw.Header()[k] = v
		}
		rw.WriteHeader(rec.Code)
		_, _ = rw.Write(rec.Body.Bytes())
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *recordingFront) last(t *testing.T) answered {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.got) == 0 {
		t.Fatal("the upstream got no request")
	}
	return f.got[len(f.got)-1]
}

func staticCredentials(id, secret string) aws.CredentialsProvider {
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, Source: "test"}, nil
	})
}

// The workspace signs what it forwards with SigV4, so an unsigned sender
// writes through it to an upstream that verifies SigV4 (the workspace's
// own verifier, as AMP's): with the right key the samples land upstream;
// with a wrong one the sender gets the upstream's 403 as it is.
func TestUpstreamSigV4(t *testing.T) {
	up := newEnv(t, "amp", workspace.WithSigV4Auth(testAccessKey, testSecret, "us-west-2"), workspace.WithBearerToken(testToken))
	front := newRecordingFront(t, up.srv.Config.Handler)
	upURL := front.srv.URL + "/workspaces/ws-up/api/v1/remote_write"
	through := func(secret string) *env {
		return newEnv(t, "amp", workspace.WithUpstream(workspace.Upstream{URL: upURL,
			SigV4: &workspace.UpstreamSigV4{Region: "us-west-2", Credentials: staticCredentials(testAccessKey, secret)}}))
	}
	ts := nowMs()
	senderHeaders := []string{"Authorization", "Bearer the-senders", "X-Amz-Date", "20000101T000000Z", "X-Amz-Meta-Sender", "x"}

	e := through(testSecret)
	got := e.push(t, "/workspaces/ws-1/api/v1/remote_write", rw1Body(series(7, ts, "__name__", "signed_through")), senderHeaders...)
	if got.status != http.StatusOK {
		t.Fatalf("unsigned sender through the signing workspace: %d %q, want the upstream's 200", got.status, got.body)
	}
	h := front.last(t).header
	if a := h.Get("Authorization"); !strings.HasPrefix(a, "AWS4-HMAC-SHA256 Credential="+testAccessKey+"/") || !strings.Contains(a, "/us-west-2/aps/aws4_request") {
		t.Errorf("the upstream got Authorization %q, want the workspace's SigV4 signature for us-west-2/aps", a)
	}
	if d := h.Get("X-Amz-Date"); d == "20000101T000000Z" || h.Get("X-Amz-Meta-Sender") != "" {
		t.Errorf("the sender's X-Amz-* headers reached the upstream: %v", h)
	}
	if got := up.query(t, "/workspaces/ws-up", "signed_through", ts, "Authorization", "Bearer "+testToken); got["__name__=signed_through"] != "7" {
		t.Errorf("upstream query: %v, want signed_through 7 stored there", got)
	}

	bad := through("not-the-secret")
	got = bad.push(t, "/workspaces/ws-1/api/v1/remote_write", rw1Body(series(8, ts+1, "__name__", "signed_wrong")))
	want := front.last(t)
	if want.status != http.StatusForbidden || got.status != want.status || got.body != want.body {
		t.Errorf("wrong key: the sender got %d %q, want the upstream's 403 %q byte for byte", got.status, got.body, want.body)
	}
	if strings.Contains(got.body, "not-the-secret") {
		t.Errorf("the answer shows the secret: %q", got.body)
	}
	if got := up.query(t, "/workspaces/ws-up", "signed_wrong", ts+1, "Authorization", "Bearer "+testToken); len(got) != 0 {
		t.Errorf("stored upstream with a wrong signature: %v", got)
	}
}

// Credentials that cannot be had mean nothing is sent: the sender gets
// 502 saying the workspace could not sign.
func TestUpstreamSigV4NoCredentials(t *testing.T) {
	up := newFakeUpstream(t, func(rw http.ResponseWriter) { rw.WriteHeader(http.StatusOK) })
	none := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{}, errors.New("no key configured")
	})
	e := newEnv(t, "amp", workspace.WithUpstream(workspace.Upstream{URL: up.srv.URL + "/api/v1/push",
		SigV4: &workspace.UpstreamSigV4{Region: "eu-west-1", Credentials: none}}))
	got := e.push(t, "/api/v1/push", rw1Body(series(1, nowMs(), "__name__", "up")))
	if got.status != http.StatusBadGateway || !strings.Contains(got.body, "could not sign for the upstream") || !strings.Contains(got.body, "no key configured") {
		t.Errorf("answer %d %q, want 502 saying the workspace could not sign, with the provider's reason", got.status, got.body)
	}
	if n := len(up.requests()); n != 0 {
		t.Errorf("the upstream got %d requests, want none", n)
	}
}

func TestUpstreamSigV4Checked(t *testing.T) {
	creds := staticCredentials("a", "b")
	for _, tc := range []struct {
		url  string
		s    workspace.UpstreamSigV4
		want string
	}{
		{"http://cortex:9009/api/v1/push", workspace.UpstreamSigV4{Credentials: creds}, "no region"},
		{"https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-1/api/v1/remote_write", workspace.UpstreamSigV4{Region: "eu-west-1", Credentials: creds}, `region "eu-west-1" given`},
		{"https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-1/api/v1/remote_write", workspace.UpstreamSigV4{}, "Credentials is nil"},
	} {
		_, err := workspace.Open(t.TempDir(), workspace.WithUpstream(workspace.Upstream{URL: tc.url, SigV4: &tc.s}))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "upstream SigV4") {
			t.Errorf("%s %+v: err %v, want one saying %q", tc.url, tc.s.Region, err, tc.want)
		}
	}
}
