package identity

import (
	"fmt"
	"net/url"
	"strings"
)

// Environment variables read by Resolve.
const (
	EnvService                = "RWKIT_SERVICE"
	EnvInstance               = "RWKIT_INSTANCE"
	EnvOTelServiceName        = "OTEL_SERVICE_NAME"
	EnvOTelResourceAttributes = "OTEL_RESOURCE_ATTRIBUTES"
	EnvECSMetadataURI         = "ECS_CONTAINER_METADATA_URI_V4"
	EnvKubernetesServiceHost  = "KUBERNETES_SERVICE_HOST"
	EnvPodName                = "POD_NAME"
	EnvPodNamespace           = "POD_NAMESPACE"
	EnvHostname               = "HOSTNAME"
)

// OpenTelemetry resource attribute keys (semantic conventions).
const (
	attrServiceName       = "service.name"
	attrServiceInstanceID = "service.instance.id"
)

func (r *resolver) fromEnv() error {
	if err := r.envValue(EnvService, &r.id.Service); err != nil {
		return err
	}
	if err := r.envValue(EnvInstance, &r.id.Instance); err != nil {
		return err
	}
	// OTEL_SERVICE_NAME beats service.name in OTEL_RESOURCE_ATTRIBUTES:
	// OpenTelemetry SDK configuration, "General SDK Configuration".
	if err := r.envValue(EnvOTelServiceName, &r.id.Service); err != nil {
		return err
	}
	return r.fromResourceAttributes()
}

func (r *resolver) envValue(name string, dst *Value) error {
	raw := r.o.Getenv(name)
	if raw == "" {
		r.note("env "+name, "not set")
		return nil
	}
	v, err := checkEnv(name, raw)
	if err != nil {
		return err
	}
	if v == "" {
		r.note("env "+name, "blank (%q), ignored", raw)
		return nil
	}
	r.note("env "+name, "%s", offer(dst, v, "env "+name))
	return nil
}

// checkEnv validates a value from the environment: blank means unset,
// invalid UTF-8 is a configuration error.
func checkEnv(field, v string) (string, error) {
	if strings.TrimSpace(v) == "" {
		return "", nil
	}
	return checkExplicit(field, v)
}

func (r *resolver) fromResourceAttributes() error {
	const src = "env " + EnvOTelResourceAttributes
	raw := r.o.Getenv(EnvOTelResourceAttributes)
	if raw == "" {
		r.note(src, "not set")
		return nil
	}
	attrs, notes := parseResourceAttributes(raw)
	var said []string
	for _, k := range []struct {
		key string
		dst *Value
	}{{attrServiceName, &r.id.Service}, {attrServiceInstanceID, &r.id.Instance}} {
		v, ok := attrs[k.key]
		if !ok {
			said = append(said, "no "+k.key)
			continue
		}
		field := EnvOTelResourceAttributes + " " + k.key
		cv, err := checkEnv(field, v)
		if err != nil {
			return err
		}
		if cv == "" {
			said = append(said, fmt.Sprintf("%s blank, ignored", k.key))
			continue
		}
		said = append(said, k.key+": "+offer(k.dst, cv, "env "+field))
	}
	for _, n := range notes {
		said = append(said, "ignored "+n)
	}
	r.note(src, "%s", strings.Join(said, ", "))
	return nil
}

// parseResourceAttributes parses OTEL_RESOURCE_ATTRIBUTES: a comma-separated
// list of key=value pairs in the W3C Baggage format without properties,
// values percent-encoded, optional whitespace around keys and values
// trimmed (OpenTelemetry Resource SDK spec, "Specifying resource information
// via an environment variable").
//
// A malformed pair (no "=", empty key, bad percent-encoding) is skipped and
// described in notes; the other pairs are kept. The spec says the whole
// variable SHOULD be discarded on any error, but the OpenTelemetry Go SDK
// keeps the valid pairs (sdk/resource/env.go), and the identity of a Go
// service should match what its own OpenTelemetry SDK reports. Empty list
// members (a trailing comma) are skipped silently; a repeated key keeps its
// last value, as the Go SDK's attribute set does. Keys are not decoded.
func parseResourceAttributes(s string) (attrs map[string]string, notes []string) {
	attrs = map[string]string{}
	for i, pair := range strings.Split(s, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		if !ok {
			notes = append(notes, fmt.Sprintf("pair %d %q (no \"=\")", i+1, pair))
			continue
		}
		k = strings.TrimSpace(k)
		if k == "" {
			notes = append(notes, fmt.Sprintf("pair %d %q (empty key)", i+1, pair))
			continue
		}
		dv, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			notes = append(notes, fmt.Sprintf("pair %d %q (%v)", i+1, pair, err))
			continue
		}
		attrs[k] = dv
	}
	return attrs, notes
}
