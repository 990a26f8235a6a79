package agent

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"
	"go.yaml.in/yaml/v3"

	"github.com/rwkit/rwkit/internal/redact"
	"github.com/rwkit/rwkit/wire"
)

// Target is one endpoint of flag mode (see StaticConfig).
type Target struct {
	// URL of the /metrics endpoint: its scheme, path and query become the
	// job's scheme, metrics_path and params; a user:password@ becomes
	// basic_auth and appears nowhere else (no label, no error). An empty
	// path is Prometheus' default, /metrics.
	URL string
	// Labels are added to every series of the target, as static_configs
	// labels: rwkit's identity labels (service, instance) go here. An
	// instance given here is the instance label; without one it is the
	// URL's host:port, as in Prometheus.
	Labels map[string]string
	// Job is the job label. Empty: the series get no job label (unless
	// Labels has one), unlike Prometheus, which always adds job.
	Job string
}

// Global is the rest of flag mode: scrape defaults and the one remote
// write. Zero values leave Prometheus' defaults, except the booleans,
// which are what they say.
type Global struct {
	ScrapeInterval time.Duration // default 1m
	ScrapeTimeout  time.Duration // default 10s, at most the interval
	HonorLabels    bool
	// HonorTimestamps keeps the timestamps an exposition gives. Prometheus
	// defaults to true; the zero value here is false (the rwkit agent
	// command's --honor-timestamps defaults to true).
	HonorTimestamps bool
	ExternalLabels  map[string]string

	// RemoteWriteURL is where everything goes; a user:password@ becomes
	// basic_auth.
	RemoteWriteURL    string
	RWVersion         wire.Version  // default wire.V1
	RemoteTimeout     time.Duration // default 30s
	MinBackoff        time.Duration // default 30ms
	MaxBackoff        time.Duration // default 5s
	SendExemplars     bool
	NativeHistograms  bool // scrape native histograms and send them
	MaxSamplesPerSend int  // default 2000

	// Remote write authentication and TLS (the --header, --bearer-token-file,
	// --basic-auth-*, --tls-* and --sigv4-region flags). Headers cannot
	// set Authorization (Prometheus refuses it: use the auth fields).
	Headers               map[string]string
	BearerTokenFile       string
	BasicAuthUsername     string
	BasicAuthPasswordFile string
	TLSCAFile             string
	TLSCertFile           string
	TLSKeyFile            string
	TLSServerName         string
	SigV4                 bool   // sign with SigV4 (AMP URLs are signed without it)
	SigV4Region           string // implies SigV4; empty: the AMP URL's, else AWS_REGION
}

// StaticConfig builds the configuration of flag mode: one job per target
// (static_configs), one remote_write. It goes through Load like a file, so
// it is checked and defaulted exactly as a file would be.
func StaticConfig(targets []Target, g Global) (*config.Config, error) {
	if len(targets) == 0 {
		return nil, errors.New("agent: no target to scrape")
	}
	if g.RemoteWriteURL == "" {
		return nil, errors.New("agent: no remote write URL")
	}
	global := map[string]any{}
	if g.ScrapeInterval > 0 {
		global["scrape_interval"] = dur(g.ScrapeInterval)
	}
	if g.ScrapeTimeout > 0 {
		global["scrape_timeout"] = dur(g.ScrapeTimeout)
	}
	if len(g.ExternalLabels) > 0 {
		global["external_labels"] = g.ExternalLabels
	}
	if g.NativeHistograms {
		global["scrape_native_histograms"] = true
	}

	jobs := map[string]bool{}
	var scrapes []any
	for i, t := range targets {
		job, err := staticJob(t, g, jobs)
		if err != nil {
			return nil, fmt.Errorf("agent: target %d: %w", i+1, err)
		}
		scrapes = append(scrapes, job)
	}
	rw, err := staticRemoteWrite(g)
	if err != nil {
		return nil, fmt.Errorf("agent: remote write URL: %w", err)
	}
	doc := map[string]any{"scrape_configs": scrapes, "remote_write": []any{rw}}
	if len(global) > 0 {
		doc["global"] = global
	}
	data, err := yaml.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	cfg, err := Load(data, "flag settings")
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	return cfg, nil
}

func staticJob(t Target, g Global, jobs map[string]bool) (map[string]any, error) {
	u, err := parseURL(t.URL)
	if err != nil {
		return nil, err
	}
	labels := maps.Clone(t.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	for name := range labels {
		if strings.HasPrefix(name, model.ReservedLabelPrefix) {
			return nil, fmt.Errorf("label %q: names starting with %s are reserved", name, model.ReservedLabelPrefix)
		}
	}
	if j, ok := labels[model.JobLabel]; ok && t.Job != "" && j != t.Job {
		return nil, fmt.Errorf("job %q and label job=%q disagree", t.Job, j)
	}
	if t.Job != "" {
		labels[model.JobLabel] = t.Job
	}

	// Job names are unique per configuration; the job label comes from the
	// target's labels, so several targets may share one.
	name := t.Job
	if name == "" {
		name = labels[model.JobLabel]
	}
	if name == "" {
		name = labels["service"]
	}
	if name == "" {
		name = u.Host
	}
	base := name
	for n := 2; jobs[name]; n++ {
		name = fmt.Sprintf("%s-%d", base, n)
	}
	jobs[name] = true

	job := map[string]any{
		"job_name":         name,
		"scheme":           u.Scheme,
		"honor_labels":     g.HonorLabels,
		"honor_timestamps": g.HonorTimestamps,
		"static_configs":   []any{map[string]any{"targets": []string{u.Host}, "labels": labels}},
	}
	if u.Path != "" {
		job["metrics_path"] = u.Path
	}
	if u.RawQuery != "" {
		job["params"] = map[string][]string(u.Query())
	}
	if u.User != nil {
		job["basic_auth"] = basicAuth(u.User)
	}
	if _, ok := labels[model.JobLabel]; !ok {
		// Prometheus sets job to the job name; flag mode's identity is
		// service and instance.
		job["relabel_configs"] = []any{map[string]any{"action": "labeldrop", "regex": model.JobLabel}}
	}
	return job, nil
}

func staticRemoteWrite(g Global) (map[string]any, error) {
	u, err := parseURL(g.RemoteWriteURL)
	if err != nil {
		return nil, err
	}
	rw := map[string]any{}
	if u.User != nil {
		if g.BasicAuthUsername != "" || g.BearerTokenFile != "" {
			return nil, errors.New("credentials in the URL and in flags: give one")
		}
		rw["basic_auth"] = basicAuth(u.User)
		u.User = nil
	}
	rw["url"] = u.String()
	if g.RWVersion == wire.V2 {
		rw["protobuf_message"] = "io.prometheus.write.v2.Request"
	}
	if g.RemoteTimeout > 0 {
		rw["remote_timeout"] = dur(g.RemoteTimeout)
	}
	q := map[string]any{}
	if g.MinBackoff > 0 {
		q["min_backoff"] = dur(g.MinBackoff)
	}
	if g.MaxBackoff > 0 {
		q["max_backoff"] = dur(g.MaxBackoff)
	}
	if g.MaxSamplesPerSend > 0 {
		q["max_samples_per_send"] = g.MaxSamplesPerSend
	}
	if len(q) > 0 {
		rw["queue_config"] = q
	}
	if g.SendExemplars {
		rw["send_exemplars"] = true
	}
	if g.NativeHistograms {
		rw["send_native_histograms"] = true
	}
	if len(g.Headers) > 0 {
		rw["headers"] = g.Headers
	}
	if g.BearerTokenFile != "" {
		rw["bearer_token_file"] = g.BearerTokenFile
	}
	if g.BasicAuthUsername != "" || g.BasicAuthPasswordFile != "" {
		rw["basic_auth"] = map[string]any{"username": g.BasicAuthUsername, "password_file": g.BasicAuthPasswordFile}
	}
	tls := map[string]any{}
	for k, v := range map[string]string{"ca_file": g.TLSCAFile, "cert_file": g.TLSCertFile, "key_file": g.TLSKeyFile, "server_name": g.TLSServerName} {
		if v != "" {
			tls[k] = v
		}
	}
	if len(tls) > 0 {
		rw["tls_config"] = tls
	}
	if g.SigV4 || g.SigV4Region != "" {
		rw["sigv4"] = map[string]any{"region": g.SigV4Region}
	}
	return rw, nil
}

func basicAuth(u *url.Userinfo) map[string]any {
	ba := map[string]any{"username": u.Username()}
	if p, ok := u.Password(); ok {
		ba["password"] = p
	}
	return ba
}

// parseURL parses an http(s) URL; its errors never show a password the
// URL carries.
func parseURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%s: not a URL", redact.URL(s))
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%s: the scheme must be http or https", redact.URL(s))
	case u.Host == "":
		return nil, fmt.Errorf("%s: no host", redact.URL(s))
	case u.Fragment != "":
		return nil, fmt.Errorf("%s: a fragment (#...) means nothing to a scrape", redact.URL(s))
	}
	return u, nil
}

func dur(d time.Duration) string { return model.Duration(d).String() }
