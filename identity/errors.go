package identity

import (
	"fmt"
	"strings"
)

// UnresolvedError is returned by Resolve when no source gave the service or
// the instance. Writers without both labels collide in a shared workspace
// (Cortex and AMP answer "new-value-for-timestamp"), so a caller must fix the
// configuration or opt out explicitly.
type UnresolvedError struct {
	// Missing names the unresolved values: "service", "instance" or both.
	Missing []string
	// Labels are the label names of the missing values, in the same order.
	Labels []string
	// Tried lists every source consulted and what it said.
	Tried []string
	// Partial is what was resolved, with its sources.
	Partial *Identity
}

func (e *UnresolvedError) Error() string {
	var b strings.Builder
	b.WriteString("identity: ")
	for i, m := range e.Missing {
		if i > 0 {
			b.WriteString(" and ")
		}
		fmt.Fprintf(&b, "no %s", m)
		if e.Labels[i] != m {
			fmt.Fprintf(&b, " (label %q)", e.Labels[i])
		}
	}
	b.WriteString(" could be resolved; tried: ")
	b.WriteString(strings.Join(e.Tried, "; "))
	for _, m := range e.Missing {
		// The advice names this package's sources only: a package that
		// sets Options from its own API (push.WithService, a CLI flag)
		// wraps the error to name it.
		switch m {
		case "service":
			b.WriteString(`; set the service with Options.Service, RWKIT_SERVICE=auth, OTEL_SERVICE_NAME=auth or OTEL_RESOURCE_ATTRIBUTES=service.name=auth ` +
				`(on ECS the task's service or family gives it, on Kubernetes a pod name a controller made)`)
		case "instance":
			b.WriteString(`; set the instance with Options.Instance, RWKIT_INSTANCE=auth-1 or OTEL_RESOURCE_ATTRIBUTES=service.instance.id=auth-1 ` +
				`(on ECS the task ID gives it, on Kubernetes the pod name, else the host name)`)
		}
	}
	return b.String()
}

func (r *resolver) unresolved() *UnresolvedError {
	e := &UnresolvedError{Tried: r.id.Tried, Partial: r.id}
	if r.id.Service.Value == "" {
		e.Missing = append(e.Missing, "service")
		e.Labels = append(e.Labels, r.id.Service.Label)
	}
	if r.id.Instance.Value == "" {
		e.Missing = append(e.Missing, "instance")
		e.Labels = append(e.Labels, r.id.Instance.Label)
	}
	return e
}
