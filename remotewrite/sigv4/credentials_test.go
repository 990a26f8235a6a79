package sigv4

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rwkit/rwkit/internal/awstest"
	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/wire"
)

func TestDefaultChainWithoutCredentials(t *testing.T) {
	imdsCalls := awstest.WithoutCredentials(t)
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
	for _, tc := range []struct {
		name string
		opts []Option
	}{
		{"silenced", nil},
		{"logged", []Option{WithLogger(log)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sent := false
			next := roundTripFunc(func(*http.Request) (*http.Response, error) { sent = true; return nil, errors.New("sent") })
			var err error
			stderr := awstest.Stderr(t, func() {
				var tr *Transport
				tr, err = NewDefault(context.Background(), "us-west-2", append(tc.opts, WithNext(next))...)
				if err != nil {
					t.Fatal(err)
				}
				req, _ := http.NewRequest(http.MethodPost, "https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-1/api/v1/remote_write", strings.NewReader("x"))
				_, err = tr.RoundTrip(req)
			})
			if sent {
				t.Error("an unsigned request was sent")
			}
			var ce *CredentialsError
			if !errors.As(err, &ce) || !ce.DefaultChain || ce.Region != "us-west-2" || ce.Service != "aps" {
				t.Fatalf("err = %v, want a *CredentialsError of the default chain", err)
			}
			for _, want := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "~/.aws/credentials", "AWS_PROFILE",
				"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_", "instance metadata", "EC2 IMDS"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q:\n%s", want, err)
				}
			}
			if strings.Contains(err.Error(), "failed to refresh cached credentials") {
				t.Errorf("error keeps the SDK's cache wrapping:\n%s", err)
			}
			if strings.Contains(stderr, "IMDSv1") || stderr != "" {
				t.Errorf("the SDK wrote on stderr:\n%s", stderr)
			}
		})
	}
	if imdsCalls.Load() == 0 {
		t.Fatal("IMDS was never asked: the test did not reach the SDK's fallback")
	}
	// The fallback warning went to the logger given, not to stderr.
	if !strings.Contains(logged.String(), "falling back to IMDSv1") {
		t.Errorf("the SDK's warning did not reach the logger:\n%s", logged.String())
	}
}

func TestLoadDefaultConfigWrapsCredentialErrors(t *testing.T) {
	awstest.WithoutCredentials(t)
	cfg, err := LoadDefaultConfig(context.Background(), "eu-west-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cfg.Credentials.Retrieve(context.Background())
	var ce *CredentialsError
	if !errors.As(err, &ce) || !ce.DefaultChain || !strings.Contains(err.Error(), ChainHint) {
		t.Fatalf("err = %v, want a *CredentialsError listing the chain", err)
	}
}

// Without credentials a remotewrite.Client makes one attempt, which sends
// nothing: the error is the credentials class, not retried and not called
// a network problem, and lists the chain.
func TestRemoteWriteWithoutCredentials(t *testing.T) {
	awstest.WithoutCredentials(t)
	var received atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { received.Add(1) }))
	defer srv.Close()
	tr, err := NewDefault(context.Background(), "us-west-2")
	if err != nil {
		t.Fatal(err)
	}
	c, err := remotewrite.New(srv.URL+"/api/v1/write", remotewrite.WithTransport(tr), remotewrite.WithRetry(time.Millisecond, time.Millisecond, 5))
	if err != nil {
		t.Fatal(err)
	}
	var stderr string
	var res *remotewrite.Result
	stderr = awstest.Stderr(t, func() {
		res, err = c.Write(context.Background(), &wire.WriteRequest{Series: []wire.TimeSeries{{
			Labels: []wire.Label{{Name: "__name__", Value: "up"}}, Samples: []wire.Sample{{Value: 1, Timestamp: 1}}}}})
	})
	var ce *CredentialsError
	var rwErr *remotewrite.Error
	if !errors.As(err, &ce) || !errors.As(err, &rwErr) {
		t.Fatalf("err = %v, want a remotewrite.Error wrapping a *CredentialsError", err)
	}
	if rwErr.Attempts != 1 || res.Attempts != 1 || received.Load() != 0 {
		t.Errorf("attempts %d (result %d), %d requests received; want 1 attempt and nothing sent", rwErr.Attempts, res.Attempts, received.Load())
	}
	if rwErr.Retryable() || !rwErr.CredentialsMissing() {
		t.Errorf("Retryable %v, CredentialsMissing %v; want false, true", rwErr.Retryable(), rwErr.CredentialsMissing())
	}
	msg := err.Error()
	for _, bad := range []string{"network", "retried with backoff", "DNS"} {
		if strings.Contains(msg, bad) {
			t.Errorf("error says %q:\n%s", bad, msg)
		}
	}
	for _, want := range []string{"no AWS credentials", "AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_", "IMDS", "not retried"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if stderr != "" {
		t.Errorf("stderr: %s", stderr)
	}
}
