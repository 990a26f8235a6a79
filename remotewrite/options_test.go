package remotewrite

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rwkit/rwkit/internal/version"
	"github.com/rwkit/rwkit/wire"
)

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		url  string
		opts []Option
		want string // substring of the error; "" means success
	}{
		{"http", "http://localhost:9095/api/v1/write", nil, ""},
		{"amp", "https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-1/api/v1/remote_write", nil, ""},
		{"empty", "", nil, `scheme ""`},
		{"relative", "/api/v1/push", nil, `scheme ""`},
		{"no scheme", "localhost:9095/api/v1/push", nil, "want http or https"},
		{"ftp", "ftp://example.com/x", nil, `scheme "ftp"`},
		{"no host", "http:///api/v1/push", nil, "has no host"},
		{"unparsable", "http://exa mple.com/", nil, "cannot parse URL"},
		{"amp wrong path", "https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-1/remote_write", nil, "/workspaces/<workspace-id>/api/v1/remote_write"},
		{"reserved header", "http://x/", []Option{WithHeader("content-type", "text/plain")}, "Content-Type is reserved"},
		{"user agent header", "http://x/", []Option{WithHeader("User-Agent", "x")}, "User-Agent is reserved"},
		{"empty header", "http://x/", []Option{WithHeader("", "x")}, "empty header name"},
		{"bad version", "http://x/", []Option{WithVersion(3)}, "unknown version 3"},
		{"tiny request", "http://x/", []Option{WithMaxRequestBytes(10)}, "below 1024"},
		{"no samples", "http://x/", []Option{WithMaxSamplesPerRequest(0)}, "below 1"},
		{"retry min", "http://x/", []Option{WithRetry(0, time.Second, 3)}, "minBackoff"},
		{"retry max", "http://x/", []Option{WithRetry(time.Second, time.Millisecond, 3)}, "maxBackoff"},
		{"retry attempts", "http://x/", []Option{WithRetry(time.Millisecond, time.Second, 0)}, "maxAttempts"},
		{"empty ua", "http://x/", []Option{WithUserAgent(" ")}, "User-Agent"},
		{"nil client", "http://x/", []Option{WithHTTPClient(nil)}, "client is nil"},
		{"nil transport", "http://x/", []Option{WithTransport(nil)}, "transport is nil"},
		{"nil options are skipped", "http://x/", []Option{nil, WithLogger(nil)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.url, tt.opts...)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("New(%q) = %v, want success", tt.url, err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("New(%q) = %v, want an error containing %q", tt.url, err, tt.want)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	c := mustNew(t, "http://localhost/api/v1/write")
	got := []any{c.Version(), c.cfg.maxBytes, c.cfg.maxSamples, c.cfg.minBackoff, c.cfg.maxBackoff, c.cfg.maxAttempts, c.cfg.userAgent, c.http.Timeout}
	want := []any{wire.V1, 768 << 10, 2000, 30 * time.Millisecond, 5 * time.Second, 5, version.UserAgent(), 30 * time.Second}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

func TestWithTransportKeepsClientSettings(t *testing.T) {
	hc := &http.Client{Timeout: 3 * time.Second}
	rt := http.DefaultTransport
	c := mustNew(t, "http://x/", WithHTTPClient(hc), WithTransport(rt))
	if c.http.Timeout != 3*time.Second || c.http.Transport != rt || hc.Transport != nil {
		t.Errorf("client timeout %s transport %v; caller's client modified: %v", c.http.Timeout, c.http.Transport, hc.Transport)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"120", 2 * time.Minute, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"999999999999", 24 * time.Hour, true},
		{"Fri, 02 Jan 2026 03:05:05 GMT", time.Minute, true},
		{"Friday, 02-Jan-26 03:05:05 GMT", time.Minute, true}, // RFC 850
		{"Fri Jan  2 03:05:05 2026", time.Minute, true},       // asctime
		{"Thu, 01 Jan 2026 03:05:05 GMT", 0, true},
		{"tomorrow", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("parseRetryAfter(%q) = %s, %v; want %s, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}
