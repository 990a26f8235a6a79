package identity_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/rwkit/rwkit/identity"
)

func ExampleResolve() {
	// In production leave Getenv and Hostname nil: the process environment
	// and os.Hostname. Here they are fixed so the output is too.
	environ := map[string]string{
		"OTEL_SERVICE_NAME":        "auth",
		"OTEL_RESOURCE_ATTRIBUTES": "service.name=ignored,service.instance.id=auth-7f9c,deployment.environment=int",
	}
	id, err := identity.Resolve(context.Background(), identity.Options{
		Getenv:   func(k string) string { return environ[k] },
		Hostname: func() (string, error) { return "ip-10-0-12-57", nil },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(id)
	for _, l := range id.Labels() {
		fmt.Printf("%s=%q\n", l.Name, l.Value)
	}
	// Output:
	// service="auth" (env OTEL_SERVICE_NAME), instance="auth-7f9c" (env OTEL_RESOURCE_ATTRIBUTES service.instance.id)
	// instance="auth-7f9c"
	// service="auth"
}

func ExampleUnresolvedError() {
	_, err := identity.Resolve(context.Background(), identity.Options{
		ServiceLabel: "job",
		Getenv:       func(string) string { return "" },
		Hostname:     func() (string, error) { return "ip-10-0-12-57", nil },
	})
	var ue *identity.UnresolvedError
	if errors.As(err, &ue) {
		fmt.Println("missing:", ue.Missing, "labels:", ue.Labels)
		fmt.Println("instance:", ue.Partial.Instance.Value, "from", ue.Partial.Instance.Source)
		for _, s := range ue.Tried {
			fmt.Println(" ", s)
		}
	}
	// Output:
	// missing: [service] labels: [job]
	// instance: ip-10-0-12-57 from hostname
	//   option: neither Service nor Instance set
	//   env RWKIT_SERVICE: not set
	//   env RWKIT_INSTANCE: not set
	//   env OTEL_SERVICE_NAME: not set
	//   env OTEL_RESOURCE_ATTRIBUTES: not set
	//   ECS task metadata: ECS_CONTAINER_METADATA_URI_V4 not set (not on ECS)
	//   Kubernetes: KUBERNETES_SERVICE_HOST not set (not in a Kubernetes pod)
	//   hostname: instance "ip-10-0-12-57"
}
