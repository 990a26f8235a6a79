package identity

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/rwkit/rwkit/wire"
)

// Value is one resolved label: its name, its value and where the value came
// from, e.g. "env RWKIT_SERVICE" or "ECS task metadata (task ARN)".
type Value struct {
	Label, Value, Source string
}

// Identity is who is writing.
type Identity struct {
	// Service and Instance are the two identity labels. Both are set when
	// Resolve returns no error.
	Service, Instance Value

	// Extra holds what the consulted sources offered beyond the two
	// values: "cluster", "container" and "availability_zone" from ECS,
	// "namespace" from Kubernetes. Callers may add them as labels; Labels
	// does not.
	Extra []Value

	// Tried lists every source consulted, in order, and what it said.
	Tried []string
}

// Labels returns the service and instance labels sorted by name, ready to
// append to every series.
func (id *Identity) Labels() []wire.Label {
	ls := make([]wire.Label, 0, 2)
	for _, v := range []Value{id.Service, id.Instance} {
		if v.Value != "" {
			ls = append(ls, wire.Label{Name: v.Label, Value: v.Value})
		}
	}
	slices.SortFunc(ls, wire.CompareLabels)
	return ls
}

// Extras returns the Extra value for label and whether there is one.
func (id *Identity) Extras(label string) (Value, bool) {
	for _, v := range id.Extra {
		if v.Label == label {
			return v, true
		}
	}
	return Value{}, false
}

// String reads like `service="auth" (env RWKIT_SERVICE), instance="0123"
// (ECS task metadata (task ARN))`.
func (id *Identity) String() string {
	var b strings.Builder
	for i, v := range []Value{id.Service, id.Instance} {
		if i > 0 {
			b.WriteString(", ")
		}
		if v.Value == "" {
			fmt.Fprintf(&b, "%s unresolved", v.Label)
			continue
		}
		fmt.Fprintf(&b, "%s=%q (%s)", v.Label, v.Value, v.Source)
	}
	return b.String()
}

// Resolve finds the service and instance, each from the first source that
// has it, in this order: explicit Options, environment (RWKIT_*, then
// OpenTelemetry's), ECS task metadata v4, Kubernetes, os.Hostname (instance
// only). See the package documentation for the full table.
//
// Sources that need I/O (ECS, Kubernetes, hostname) are consulted only
// while a value is missing; a failing one is recorded in Tried and the next
// one is asked. Resolve fails with an *UnresolvedError when a value is still
// missing after the last source, with a plain error naming the field when
// opts or an RWKIT_/OTEL_ variable is invalid, and with ctx's error when ctx
// ends.
func Resolve(ctx context.Context, opts Options) (*Identity, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	r := &resolver{o: o, id: &Identity{
		Service:  Value{Label: o.ServiceLabel},
		Instance: Value{Label: o.InstanceLabel},
	}}
	r.fromOptions()
	if err := r.fromEnv(); err != nil {
		return nil, err
	}
	steps := []struct {
		disabled bool
		name     string
		run      func(context.Context)
	}{
		{o.DisableECS, sourceECS, r.fromECS},
		{o.DisableKubernetes, sourceKubernetes, r.fromKubernetes},
		{o.DisableHostname, sourceHostname, r.fromHostname},
	}
	for _, s := range steps {
		if r.done() {
			break
		}
		if s.disabled {
			r.note(s.name, "disabled")
			continue
		}
		s.run(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("identity: resolving %s: %w", s.name, err)
		}
	}
	if !r.done() {
		return nil, r.unresolved()
	}
	return r.id, nil
}

const (
	sourceOption     = "option"
	sourceECS        = "ECS task metadata"
	sourceKubernetes = "Kubernetes"
	sourceHostname   = "hostname"
)

type resolver struct {
	o  Options
	id *Identity
}

func (r *resolver) done() bool {
	return r.id.Service.Value != "" && r.id.Instance.Value != ""
}

func (r *resolver) note(source, format string, args ...any) {
	r.id.Tried = append(r.id.Tried, source+": "+fmt.Sprintf(format, args...))
}

// offer sets *dst to v unless an earlier source already set it, and says
// which happened, for Tried.
func offer(dst *Value, v, source string) string {
	what := dst.Label
	if dst.Value != "" {
		return fmt.Sprintf("%s %q (not used: %s from %s)", what, v, what, dst.Source)
	}
	dst.Value, dst.Source = v, source
	return fmt.Sprintf("%s %q", what, v)
}

func (r *resolver) addExtra(label, value, source string) {
	if label == r.o.ServiceLabel || label == r.o.InstanceLabel {
		return // never offer a second value for an identity label
	}
	if _, ok := r.id.Extras(label); ok {
		return
	}
	r.id.Extra = append(r.id.Extra, Value{Label: label, Value: value, Source: source})
}

func (r *resolver) fromOptions() {
	var said []string
	if r.o.Service != "" {
		said = append(said, offer(&r.id.Service, r.o.Service, sourceOption))
	}
	if r.o.Instance != "" {
		said = append(said, offer(&r.id.Instance, r.o.Instance, sourceOption))
	}
	if len(said) == 0 {
		said = append(said, "neither Service nor Instance set")
	}
	r.note(sourceOption, "%s", strings.Join(said, ", "))
}

func (r *resolver) fromHostname(context.Context) {
	h, err := r.o.Hostname()
	if err != nil {
		r.note(sourceHostname, "%v", err)
		return
	}
	v, why := clean(h)
	if v == "" {
		r.note(sourceHostname, "%s", why)
		return
	}
	r.note(sourceHostname, "%s", offer(&r.id.Instance, v, sourceHostname))
}
