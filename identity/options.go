package identity

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
	"unicode/utf8"
)

// Default label names and paths.
const (
	DefaultServiceLabel  = "service"
	DefaultInstanceLabel = "instance"

	// DefaultKubernetesNamespaceFile is where Kubernetes mounts the pod's
	// namespace with its service account token.
	DefaultKubernetesNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

	// DefaultECSTimeout bounds each request to the ECS task metadata
	// endpoint when Options.HTTPClient is nil. The endpoint is a local agent
	// on link-local 169.254.170.2: it answers in milliseconds or not at all.
	DefaultECSTimeout = 2 * time.Second
)

// Options says where Resolve may look. The zero value means defaults: label
// names "service" and "instance", the process environment, ECS task
// metadata, Kubernetes and os.Hostname.
type Options struct {
	// Service and Instance are explicit values; they beat every other
	// source. Empty means unset.
	Service, Instance string

	// ServiceLabel and InstanceLabel are the label names; default
	// "service" and "instance" (e.g. "job" for Prometheus' convention).
	ServiceLabel, InstanceLabel string

	// Getenv reads the environment; default os.Getenv.
	Getenv func(string) string

	// HTTPClient fetches ECS task metadata; default a client with a
	// DefaultECSTimeout timeout that ignores HTTP_PROXY (the endpoint is
	// link-local and a proxy cannot reach it).
	HTTPClient *http.Client

	// Hostname is the last resort for the instance; default os.Hostname.
	Hostname func() (string, error)

	// KubernetesNamespaceFile is read for the pod's namespace; default
	// DefaultKubernetesNamespaceFile.
	KubernetesNamespaceFile string

	// DisableECS, DisableKubernetes and DisableHostname skip a source.
	DisableECS, DisableKubernetes, DisableHostname bool
}

// withDefaults validates o and fills in the defaults.
func (o Options) withDefaults() (Options, error) {
	if o.ServiceLabel == "" {
		o.ServiceLabel = DefaultServiceLabel
	}
	if o.InstanceLabel == "" {
		o.InstanceLabel = DefaultInstanceLabel
	}
	if err := checkLabelName("Options.ServiceLabel", o.ServiceLabel); err != nil {
		return o, err
	}
	if err := checkLabelName("Options.InstanceLabel", o.InstanceLabel); err != nil {
		return o, err
	}
	if o.ServiceLabel == o.InstanceLabel {
		return o, fmt.Errorf("identity: Options.ServiceLabel and Options.InstanceLabel are both %q: the two values need two label names", o.ServiceLabel)
	}
	var err error
	if o.Service, err = checkExplicit("Options.Service", o.Service); err != nil {
		return o, err
	}
	if o.Instance, err = checkExplicit("Options.Instance", o.Instance); err != nil {
		return o, err
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Hostname == nil {
		o.Hostname = os.Hostname
	}
	if o.KubernetesNamespaceFile == "" {
		o.KubernetesNamespaceFile = DefaultKubernetesNamespaceFile
	}
	return o, nil
}

func defaultHTTPClient() *http.Client {
	return &http.Client{
		Timeout: DefaultECSTimeout,
		Transport: &http.Transport{
			Proxy:                 nil, // the endpoint is link-local: never via HTTP_PROXY
			DialContext:           (&net.Dialer{Timeout: DefaultECSTimeout}).DialContext,
			ResponseHeaderTimeout: DefaultECSTimeout,
			MaxIdleConns:          1,
			IdleConnTimeout:       10 * time.Second,
		},
	}
}

// checkLabelName accepts the classic Prometheus label name charset
// [a-zA-Z_][a-zA-Z0-9_]*, minus the "__" prefix that Prometheus reserves.
// UTF-8 names (Prometheus 3) are refused: not every remote-write backend
// takes them.
func checkLabelName(field, name string) error {
	if strings.HasPrefix(name, "__") {
		return fmt.Errorf("identity: %s %q: names starting with \"__\" are reserved by Prometheus", field, name)
	}
	if !validLabelName(name) {
		return fmt.Errorf("identity: %s %q is not a valid Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)", field, name)
	}
	return nil
}

func validLabelName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// checkExplicit validates a value the user gave (option or environment):
// empty means unset; blank or invalid UTF-8 is a mistake worth an error
// rather than a silent fall-through to another source.
func checkExplicit(field, v string) (string, error) {
	if v == "" {
		return "", nil
	}
	if !utf8.ValidString(v) {
		return "", fmt.Errorf("identity: %s %q is not valid UTF-8", field, v)
	}
	t := strings.TrimSpace(v)
	if t == "" {
		return "", fmt.Errorf("identity: %s is blank (%q); leave it empty to use the next source", field, v)
	}
	return t, nil
}

// clean validates a discovered value (metadata, hostname): it returns the
// trimmed value and "" with a reason when it cannot be used.
func clean(v string) (string, string) {
	if !utf8.ValidString(v) {
		return "", fmt.Sprintf("%q is not valid UTF-8", v)
	}
	t := strings.TrimSpace(v)
	if t == "" {
		return "", "empty"
	}
	return t, ""
}
