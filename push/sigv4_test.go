package push

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// recordingTransport answers 200 to every request and keeps their
// Authorization headers; nothing leaves the process.
type recordingTransport struct {
	mu   sync.Mutex
	auth []string
}

func (rt *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.mu.Lock()
	rt.auth = append(rt.auth, r.Header.Get("Authorization"))
	rt.mu.Unlock()
	if r.Body != nil {
		r.Body.Close()
	}
	return &http.Response{StatusCode: 200, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
}

func setTestAWSEnv(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDPUSHTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// An AMP URL is signed for aps in the URL's region without WithSigV4,
// on top of the given transport; WithoutSigV4 leaves signing to the
// transport; other URLs are not signed unless asked.
func TestAMPURLSignedByDefault(t *testing.T) {
	setTestAWSEnv(t)
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "c_total", Help: "h"}))
	const amp = "https://aps-workspaces.eu-central-1.amazonaws.com/workspaces/ws-0123/api/v1/remote_write"
	for _, tc := range []struct {
		name, url string
		opts      []Option
		want      string // prefix of the Authorization header; "" for none
	}{
		{"amp", amp, nil, "AWS4-HMAC-SHA256 Credential=AKIDPUSHTEST/"},
		{"amp without sigv4", amp, []Option{WithoutSigV4()}, ""},
		{"other url", "https://example.test/api/v1/write", nil, ""},
		{"other url with sigv4", "https://example.test/api/v1/write", []Option{WithSigV4("us-east-1")}, "AWS4-HMAC-SHA256 Credential=AKIDPUSHTEST/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := &recordingTransport{}
			opts := append([]Option{WithIdentityOptions(noEnv), WithService("a"), WithInstance("b"), WithTransport(rt)}, tc.opts...)
			p, err := New(tc.url, reg, opts...)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Push(context.Background()); err != nil {
				t.Fatal(err)
			}
			if len(rt.auth) == 0 {
				t.Fatal("no request sent")
			}
			got := rt.auth[0]
			if tc.want == "" && got != "" || !strings.HasPrefix(got, tc.want) {
				t.Fatalf("Authorization = %q, want prefix %q", got, tc.want)
			}
			if tc.name == "amp" && !strings.Contains(got, "/eu-central-1/aps/aws4_request") {
				t.Errorf("Authorization = %q, want the URL's region and service aps", got)
			}
		})
	}
	if _, err := New(amp, reg, WithSigV4(""), WithoutSigV4()); err == nil || !strings.Contains(err.Error(), "both") {
		t.Errorf("WithSigV4 + WithoutSigV4: err = %v", err)
	}
}
