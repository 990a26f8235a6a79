package agent

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/discovery"
	"go.yaml.in/yaml/v3"

	"github.com/rwkit/rwkit/internal/redact"
)

// LoadFile reads a Prometheus configuration file and loads it with Load;
// relative paths in it (password_file, ca_file, ...) are resolved against
// the file's directory, as Prometheus does.
func LoadFile(path string) (*config.Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	cfg, err := Load(data, path)
	if err != nil {
		return nil, err
	}
	cfg.SetDirectory(filepath.Dir(path))
	return cfg, nil
}

// Load loads a Prometheus 2.x or 3.x configuration with Prometheus' own
// loader (config.Load: the same defaults, the same validation) after
// checking that it only uses keys rwkit agent runs (see the package doc).
// Every key it does not run is an error naming the key and its line,
// "name:line: path: not supported by rwkit agent (supported: ...)": a
// setting silently ignored is a setting the user believes in. name is what
// errors call the input, usually the file's path.
func Load(data []byte, name string) (*config.Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c := checker{name: name}
	if len(doc.Content) > 0 {
		c.walk(doc.Content[0], "", topKeys)
	}
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	cfg, err := config.Load(string(data), slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := checkLoaded(cfg, name, &c); err != nil {
		return nil, err
	}
	for _, sc := range cfg.ScrapeConfigs {
		// Prometheus 3 fails the scrape of a target that answers without
		// a Content-Type unless fallback_scrape_protocol is set; 2.x
		// parsed such a body as the text format. A team moving from a 2.x
		// agent keeps its targets working; a 3.x file that sets the key
		// keeps its choice.
		if sc.ScrapeFallbackProtocol == "" {
			sc.ScrapeFallbackProtocol = config.PrometheusText0_0_4
		}
	}
	return cfg, nil
}

// checkLoaded checks what only the loaded configuration tells: something
// to scrape and somewhere to send it.
func checkLoaded(cfg *config.Config, name string, c *checker) error {
	var errs []error
	if len(cfg.RemoteWriteConfigs) == 0 {
		errs = append(errs, fmt.Errorf("%s: remote_write: at least one is required: rwkit agent sends every scrape to each remote_write", name))
	}
	for i, sc := range cfg.ScrapeConfigs {
		n := 0
		for _, d := range sc.ServiceDiscoveryConfigs {
			sd, ok := d.(discovery.StaticConfig)
			if !ok {
				// The key walk refuses every other discovery; this is a
				// configuration built by hand.
				errs = append(errs, fmt.Errorf("%s: scrape_configs[%d]: %s discovery: not supported by rwkit agent (supported: static_configs)", name, i, d.Name()))
				continue
			}
			for _, g := range sd {
				n += len(g.Targets)
			}
		}
		if n == 0 {
			errs = append(errs, fmt.Errorf("%s:%d: scrape_configs[%d] (job %q): no targets: give static_configs with targets", name, c.lines[fmt.Sprintf("scrape_configs[%d]", i)], i, sc.JobName))
		}
	}
	if len(cfg.ScrapeConfigs) == 0 {
		errs = append(errs, fmt.Errorf("%s: scrape_configs: at least one job with static_configs targets is required", name))
	}
	return errors.Join(errs...)
}

// spec is what a YAML mapping may hold: each supported key and what its
// value may hold (nil: anything; Prometheus' loader checks it).
type spec map[string]*spec

// seqs holds the specs made by seqOf: their key's value is a sequence of
// mappings.
var seqs = map[*spec]bool{}

func seqOf(s spec) *spec {
	p := &s
	seqs[p] = true
	return p
}

func mapOf(s spec) *spec { return &s }

var (
	basicAuthKeys = spec{
		"username": nil, "username_file": nil,
		"password": nil, "password_file": nil,
	}
	authorizationKeys = spec{"type": nil, "credentials": nil, "credentials_file": nil}
	tlsKeys           = spec{
		"ca": nil, "cert": nil, "key": nil,
		"ca_file": nil, "cert_file": nil, "key_file": nil,
		"server_name": nil, "insecure_skip_verify": nil,
		"min_version": nil, "max_version": nil,
	}

	// globalKeys: the scrape defaults and external_labels. Everything
	// else under global configures what an agent does not do (rules,
	// queries) or needs the rest of a Prometheus server (scrape failure
	// log files).
	globalKeys = spec{
		"scrape_interval": nil,
		"scrape_timeout":  nil,
		"external_labels": nil,
		// An agent evaluates no rules, so evaluation_interval has
		// nothing to configure; it is accepted because Prometheus'
		// example configurations carry it, and ignored.
		"evaluation_interval": nil,
		// Implemented by the scrape manager itself.
		"scrape_protocols":                   nil,
		"scrape_native_histograms":           nil,
		"always_scrape_classic_histograms":   nil,
		"convert_classic_histograms_to_nhcb": nil,
		"body_size_limit":                    nil,
		"sample_limit":                       nil,
		"target_limit":                       nil,
		"label_limit":                        nil,
		"label_name_length_limit":            nil,
		"label_value_length_limit":           nil,
	}

	scrapeKeys = spec{
		"job_name":               nil,
		"static_configs":         seqOf(spec{"targets": nil, "labels": nil}),
		"metrics_path":           nil,
		"scheme":                 nil,
		"params":                 nil,
		"honor_labels":           nil,
		"honor_timestamps":       nil,
		"scrape_interval":        nil,
		"scrape_timeout":         nil,
		"basic_auth":             mapOf(basicAuthKeys),
		"authorization":          mapOf(authorizationKeys),
		"bearer_token":           nil, // Prometheus 2.x; loaded as authorization.credentials
		"bearer_token_file":      nil, // Prometheus 2.x; loaded as authorization.credentials_file
		"tls_config":             mapOf(tlsKeys),
		"relabel_configs":        nil,
		"metric_relabel_configs": nil,
		// Implemented by the scrape manager and the HTTP client it builds,
		// with no help from rwkit: they work exactly as in Prometheus.
		"scrape_protocols":                   nil,
		"fallback_scrape_protocol":           nil,
		"scrape_native_histograms":           nil,
		"always_scrape_classic_histograms":   nil,
		"convert_classic_histograms_to_nhcb": nil,
		"native_histogram_bucket_limit":      nil,
		"native_histogram_min_bucket_factor": nil,
		"track_timestamps_staleness":         nil,
		"enable_compression":                 nil,
		"follow_redirects":                   nil,
		"enable_http2":                       nil,
		"body_size_limit":                    nil,
		"sample_limit":                       nil,
		"target_limit":                       nil,
		"label_limit":                        nil,
		"label_name_length_limit":            nil,
		"label_value_length_limit":           nil,
	}

	remoteWriteKeys = spec{
		"url":               nil,
		"name":              nil,
		"headers":           nil,
		"basic_auth":        mapOf(basicAuthKeys),
		"authorization":     mapOf(authorizationKeys),
		"bearer_token":      nil,
		"bearer_token_file": nil,
		"tls_config":        mapOf(tlsKeys),
		// Credentials come from the AWS default chain (env, profile, ECS
		// task role, IMDS): rwkit does not take keys in a config file.
		"sigv4":                  mapOf(spec{"region": nil}),
		"protobuf_message":       nil,
		"send_exemplars":         nil,
		"send_native_histograms": nil,
		"remote_timeout":         nil,
		// capacity, min_shards and max_shards size Prometheus' sharded
		// queue; push.Queue sends one request at a time, oldest first,
		// bounded by bytes and age: QueueSink logs that they have no
		// effect. batch_send_deadline is always met (a scrape is sent when
		// committed). A 429 is always retried, as the spec says it SHOULD
		// be, whatever retry_on_http_429 says. sample_age_limit bounds the
		// age of what the outage buffer keeps. Accepting these keeps the
		// configurations AWS and Grafana document running unchanged.
		"queue_config": mapOf(spec{
			"max_samples_per_send": nil,
			"min_backoff":          nil,
			"max_backoff":          nil,
			"batch_send_deadline":  nil,
			"capacity":             nil,
			"min_shards":           nil,
			"max_shards":           nil,
			"retry_on_http_429":    nil,
			"sample_age_limit":     nil,
		}),
		// send: false stops metadata on series (RW 2.0 carries it on
		// each series; RW 1.0's separate metadata requests are not sent,
		// so their send_interval and max_samples_per_send have nothing to
		// pace).
		"metadata_config":       mapOf(spec{"send": nil, "send_interval": nil, "max_samples_per_send": nil}),
		"write_relabel_configs": nil,
	}

	topKeys = spec{
		"global":         mapOf(globalKeys),
		"scrape_configs": seqOf(scrapeKeys),
		"remote_write":   seqOf(remoteWriteKeys),
	}
)

// hints explain why a key is refused where the reason is not obvious.
var hints = map[string]string{
	"access_key": "credentials come from the AWS default chain",
	"secret_key": "credentials come from the AWS default chain",
	"profile":    "credentials come from the AWS default chain (AWS_PROFILE)",
	"role_arn":   "credentials come from the AWS default chain",
}

type checker struct {
	name  string
	errs  []error
	lines map[string]int // "scrape_configs[0]" -> line
}

func (c *checker) errorf(n *yaml.Node, format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("%s:%d: "+format, append([]any{c.name, n.Line}, args...)...))
}

// walk checks the keys of mapping n (at path) against s.
func (c *checker) walk(n *yaml.Node, path string, s spec) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		return // null, or a shape Prometheus' loader reports
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		if k.Value == "<<" && k.Tag == "!!merge" {
			// A merge key: its mapping (or sequence of mappings) lands here.
			if v.Kind == yaml.SequenceNode {
				for _, m := range v.Content {
					c.walk(m, path, s)
				}
			} else {
				c.walk(v, path, s)
			}
			continue
		}
		p := k.Value
		if path != "" {
			p = path + "." + k.Value
		}
		sub, ok := s[k.Value]
		if !ok {
			if strings.HasSuffix(k.Value, "_sd_configs") {
				c.errorf(k, "%s: not supported by rwkit agent (supported: static_configs)", p)
				continue
			}
			c.errorf(k, "%s: not supported by rwkit agent%s (supported: %s)", p, hint(k.Value), supported(s))
			continue
		}
		if sub == nil {
			if k.Value == "url" {
				c.checkURL(v, p)
			}
			continue
		}
		if v.Kind == yaml.ScalarNode && v.Tag != "!!null" && !seqs[sub] {
			// Prometheus' loader would quote the value's first characters:
			// a password or a token given where a mapping belongs.
			c.errorf(v, "%s: a mapping is expected (keys: %s), not a string", p, supported(*sub))
			continue
		}
		if seqs[sub] {
			if v.Kind != yaml.SequenceNode {
				continue
			}
			for j, e := range v.Content {
				ep := fmt.Sprintf("%s[%d]", p, j)
				if c.lines == nil {
					c.lines = map[string]int{}
				}
				c.lines[ep] = e.Line
				c.walk(e, ep, *sub)
			}
			continue
		}
		c.walk(v, p, *sub)
	}
}

// checkURL refuses a URL with userinfo that does not parse: Prometheus'
// loader would quote it whole, password included.
func (c *checker) checkURL(v *yaml.Node, path string) {
	if v.Kind != yaml.ScalarNode || !strings.Contains(v.Value, "@") {
		return
	}
	if _, err := url.Parse(v.Value); err != nil {
		c.errorf(v, "%s: %s: not a URL (a password in a URL must be percent-encoded: /, ?, #, %% and @ in it especially)", path, redact.URL(v.Value))
	}
}

func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func hint(key string) string {
	if strings.HasSuffix(key, "_ref") {
		return ": rwkit has no secret manager; use the _file key"
	}
	if h, ok := hints[key]; ok {
		return ": " + h
	}
	return ""
}

func supported(s spec) string {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return strings.Join(keys, ", ")
}
