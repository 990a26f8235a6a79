package agent

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rwkit/rwkit/internal/waitfor"
	"github.com/rwkit/rwkit/wire"
)

func TestStaticConfigMapsTheURL(t *testing.T) {
	cfg, err := StaticConfig([]Target{
		{URL: "https://app:s3cr3t@10.0.0.1:8443/q/metrics?format=prometheus&x=1&x=2", Labels: map[string]string{"service": "auth", "instance": "task-1"}},
		{URL: "http://10.0.0.2:9100", Job: "node"},
		{URL: "http://10.0.0.3:9100", Job: "node"},
	}, Global{
		ScrapeInterval: 10 * time.Second, HonorTimestamps: true,
		RemoteWriteURL: "https://writer:pa55@cortex.example/api/v1/push", RWVersion: wire.V2,
		RemoteTimeout: 5 * time.Second, MinBackoff: time.Second, MaxBackoff: time.Minute,
		MaxSamplesPerSend: 100, SendExemplars: true, NativeHistograms: true,
		ExternalLabels: map[string]string{"cluster": "c1"},
		Headers:        map[string]string{"X-Scope-OrgID": "team-a"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.ScrapeConfigs) != 3 {
		t.Fatalf("%d jobs, want 3", len(cfg.ScrapeConfigs))
	}
	app, node2, node3 := cfg.ScrapeConfigs[0], cfg.ScrapeConfigs[1], cfg.ScrapeConfigs[2]
	rw := cfg.RemoteWriteConfigs[0]
	got := map[string]any{
		"app scheme":       app.Scheme,
		"app path":         app.MetricsPath,
		"app params":       app.Params,
		"app user":         app.HTTPClientConfig.BasicAuth.Username,
		"app password":     string(app.HTTPClientConfig.BasicAuth.Password),
		"app relabel":      len(app.RelabelConfigs),
		"app honor ts":     app.HonorTimestamps,
		"app native":       app.ScrapeNativeHistogramsEnabled(),
		"node2 path":       node2.MetricsPath,
		"node2 name":       node2.JobName,
		"node3 name":       node3.JobName,
		"node relabel":     len(node2.RelabelConfigs),
		"rw url":           rw.URL.String(),
		"rw user":          rw.HTTPClientConfig.BasicAuth.Username,
		"rw password":      string(rw.HTTPClientConfig.BasicAuth.Password),
		"rw version":       rwVersion(rw),
		"rw timeout":       time.Duration(rw.RemoteTimeout),
		"rw backoff":       [2]time.Duration{time.Duration(rw.QueueConfig.MinBackoff), time.Duration(rw.QueueConfig.MaxBackoff)},
		"rw max samples":   rw.QueueConfig.MaxSamplesPerSend,
		"rw exemplars":     rw.SendExemplars,
		"rw histograms":    rw.SendNativeHistograms,
		"rw headers":       rw.Headers,
		"external cluster": cfg.GlobalConfig.ExternalLabels.Get("cluster"),
		"interval":         time.Duration(cfg.GlobalConfig.ScrapeInterval),
	}
	want := map[string]any{
		"app scheme":       "https",
		"app path":         "/q/metrics",
		"app params":       url.Values{"format": {"prometheus"}, "x": {"1", "2"}},
		"app user":         "app",
		"app password":     "s3cr3t",
		"app relabel":      1, // labeldrop job
		"app honor ts":     true,
		"app native":       true,
		"node2 path":       "/metrics",
		"node2 name":       "node",
		"node3 name":       "node-2",
		"node relabel":     0,
		"rw url":           "https://cortex.example/api/v1/push",
		"rw user":          "writer",
		"rw password":      "pa55",
		"rw version":       wire.V2,
		"rw timeout":       5 * time.Second,
		"rw backoff":       [2]time.Duration{time.Second, time.Minute},
		"rw max samples":   100,
		"rw exemplars":     true,
		"rw histograms":    true,
		"rw headers":       map[string]string{"X-Scope-OrgID": "team-a"},
		"external cluster": "c1",
		"interval":         10 * time.Second,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

// A target behind basic auth given as user:password@ is scraped; no
// series carries the password, no job label appears, and the instance is
// the given one.
func TestStaticConfigScrapesWithBasicAuth(t *testing.T) {
	const password = "hunter2-secret"
	var denied atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != "scraper" || p != password || r.URL.Path != "/custom/metrics" || r.URL.Query().Get("module") != "x" {
			denied.Add(1)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, "app_requests_total 3\n")
	}))
	defer srv.Close()
	u := strings.Replace(srv.URL, "http://", "http://scraper:"+password+"@", 1) + "/custom/metrics?module=x"
	cfg, err := StaticConfig([]Target{{URL: u, Labels: map[string]string{"service": "auth", "instance": "task-1"}}},
		Global{ScrapeInterval: 200 * time.Millisecond, HonorTimestamps: true, RemoteWriteURL: "http://127.0.0.1:1/write"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(cfg.String(), password) {
		t.Errorf("the configuration's text shows the password")
	}
	r := startAgent(t, cfg, Options{})
	s := r.sink(t)
	k := `{__name__="app_requests_total", instance="task-1", service="auth"}`
	waitfor.True(t, k, func() bool { return hasValue(s, k, 3) })
	if !hasValue(s, `{__name__="up", instance="task-1", service="auth"}`, 1) {
		t.Errorf("no up 1 for the target: %v", s.series())
	}
	if n := denied.Load(); n > 0 {
		t.Errorf("%d scrapes denied", n)
	}
	for _, ls := range s.labelSets() {
		for _, l := range ls {
			if strings.Contains(l.Value, password) || strings.Contains(l.Value, "scraper") {
				t.Errorf("label %s=%q shows the credentials", l.Name, l.Value)
			}
			if l.Name == "job" {
				t.Errorf("series %s has a job label", key(ls))
			}
		}
	}
}

func TestStaticConfigErrorsHideThePassword(t *testing.T) {
	for _, tc := range []struct {
		name    string
		targets []Target
		g       Global
		want    string
	}{
		{"bad target URL", []Target{{URL: "http://u:topsecret@host:bad port/metrics"}}, Global{RemoteWriteURL: "http://x/w"}, "target 1: http://u:xxxxx@host:bad port/metrics: not a URL"},
		{"bad remote write URL", []Target{{URL: "http://h/metrics"}}, Global{RemoteWriteURL: "ftp://u:topsecret@x/w"}, "ftp://u:xxxxx@x/w: the scheme must be http or https"},
		{"reserved label", []Target{{URL: "http://u:topsecret@h/m", Labels: map[string]string{"__x": "y"}}}, Global{RemoteWriteURL: "http://x/w"}, `label "__x": names starting with __ are reserved`},
		{"job disagrees", []Target{{URL: "http://h/m", Job: "a", Labels: map[string]string{"job": "b"}}}, Global{RemoteWriteURL: "http://x/w"}, `job "a" and label job="b" disagree`},
		{"timeout above interval", []Target{{URL: "http://u:topsecret@h/m"}}, Global{RemoteWriteURL: "http://x/w", ScrapeInterval: time.Second, ScrapeTimeout: 2 * time.Second}, "global scrape timeout greater than scrape interval"},
		{"no targets", nil, Global{RemoteWriteURL: "http://x/w"}, "no target"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := StaticConfig(tc.targets, tc.g)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q lacks %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "topsecret") {
				t.Errorf("error shows the password: %q", err)
			}
		})
	}
}
