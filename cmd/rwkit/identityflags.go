package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/rwkit/rwkit/identity"
)

// identityUsage says, in CLI words, how to give the identity values that
// no source gave: the library's errors name Go options (identity's
// Options.Service, push's WithService), which a CLI user cannot set. Other errors (a value
// that is not UTF-8, a bad label name) pass through as usage errors too:
// they are all configuration. serviceFlag is how this command takes a
// service (agent also takes SERVICE=URL per target).
func identityUsage(cmd, serviceFlag string, err error) error {
	var ue *identity.UnresolvedError
	if !errors.As(err, &ue) {
		return &usageError{msg: fmt.Sprintf("%s: identity: %s", cmd, strings.TrimPrefix(err.Error(), "identity: ")), err: err}
	}
	var fixes []string
	flag := ""
	for _, m := range ue.Missing {
		switch m {
		case "service":
			flag = "--service"
			fixes = append(fixes, fmt.Sprintf("no service: set %s or RWKIT_SERVICE (or OTEL_SERVICE_NAME, or service.name in OTEL_RESOURCE_ATTRIBUTES; "+
				"on ECS the task's service or family gives it, on Kubernetes a controller-made pod name)", serviceFlag))
		case "instance":
			if flag == "" {
				flag = "--instance"
			}
			fixes = append(fixes, "no instance: set --instance or RWKIT_INSTANCE (or service.instance.id in OTEL_RESOURCE_ATTRIBUTES; "+
				"on ECS the task ID gives it, on Kubernetes the pod name, else the host name)")
		}
	}
	return &usageError{flag: flag, err: err, msg: fmt.Sprintf(
		"%s: %s; writers without both labels overwrite each other's series in a shared workspace (sources tried: %s)",
		cmd, strings.Join(fixes, "; "), strings.Join(ue.Tried, "; "))}
}
