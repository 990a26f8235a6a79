package push

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rwkit/rwkit/internal/awstest"
	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/remotewrite/sigv4"
)

// With no AWS credentials anywhere, a push to an AMP URL makes one
// attempt that sends nothing, fails with the credentials class (not a
// network error), and the SDK's IMDSv1 warning goes to push's logger, not
// to stderr. IMDS is a local server that answers 404, as an instance
// without a role's metadata would, which is what makes the SDK warn.
func TestAMPWithoutCredentials(t *testing.T) {
	awstest.WithoutCredentials(t)

	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "c_total", Help: "h"}))
	const amp = "https://aps-workspaces.eu-central-1.amazonaws.com/workspaces/ws-0123/api/v1/remote_write"
	rt := &recordingTransport{}
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))

	var err error
	if s := awstest.Stderr(t, func() {
		var p *Pusher
		p, err = New(amp, reg, WithIdentityOptions(noEnv), WithService("a"), WithInstance("b"), WithTransport(rt), WithLogger(log))
		if err == nil {
			err = p.Push(context.Background())
		}
	}); s != "" {
		t.Errorf("stderr: %s", s)
	}

	var ce *sigv4.CredentialsError
	var rwErr *remotewrite.Error
	if !errors.As(err, &ce) || !errors.As(err, &rwErr) {
		t.Fatalf("err = %v, want a remotewrite.Error wrapping a *sigv4.CredentialsError", err)
	}
	if rwErr.Attempts != 1 || len(rt.auth) != 0 || !rwErr.CredentialsMissing() || rwErr.Retryable() {
		t.Errorf("attempts %d, %d sent, CredentialsMissing %v, Retryable %v; want 1, 0, true, false",
			rwErr.Attempts, len(rt.auth), rwErr.CredentialsMissing(), rwErr.Retryable())
	}
	if !strings.Contains(err.Error(), sigv4.ChainHint) || strings.Contains(err.Error(), "network") {
		t.Errorf("error does not list the chain, or blames the network:\n%s", err)
	}
	if !strings.Contains(logged.String(), "falling back to IMDSv1") {
		t.Errorf("the SDK's warning did not reach push's logger:\n%s", logged.String())
	}
}
