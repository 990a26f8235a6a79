package identity

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rwkit/rwkit/wire"
)

const (
	fargateTaskID = "0123456789abcdef0123456789abcdef"
	podName       = "api-7d4b9c8f6d-x2k9p"
)

// TestPrecedence checks that each level beats the next: every case sets
// the level under test and everything below it.
func TestPrecedence(t *testing.T) {
	ecs := newECSServer(t, "fargate")
	k8s := map[string]string{EnvKubernetesServiceHost: "10.96.0.1", EnvPodName: podName}
	with := func(ms ...map[string]string) map[string]string {
		out := map[string]string{}
		for _, m := range ms {
			for k, v := range m {
				out[k] = v
			}
		}
		return out
	}
	ecsEnv := map[string]string{EnvECSMetadataURI: ecs.URI}
	otelAttrs := map[string]string{EnvOTelResourceAttributes: "service.name=attr-svc,service.instance.id=attr-inst"}
	otelName := map[string]string{EnvOTelServiceName: "otel-svc"}
	rwkit := map[string]string{EnvService: "env-svc", EnvInstance: "env-inst"}

	tests := []struct {
		name         string
		opts         Options
		env          map[string]string
		wantService  Value
		wantInstance Value
	}{{
		name:         "option beats env",
		opts:         Options{Service: "opt-svc", Instance: "opt-inst"},
		env:          with(rwkit, otelName, otelAttrs, ecsEnv, k8s),
		wantService:  Value{"service", "opt-svc", "option"},
		wantInstance: Value{"instance", "opt-inst", "option"},
	}, {
		name:         "RWKIT_ beats OTEL_",
		env:          with(rwkit, otelName, otelAttrs, ecsEnv, k8s),
		wantService:  Value{"service", "env-svc", "env RWKIT_SERVICE"},
		wantInstance: Value{"instance", "env-inst", "env RWKIT_INSTANCE"},
	}, {
		name:         "OTEL_SERVICE_NAME beats service.name",
		env:          with(otelName, otelAttrs, ecsEnv, k8s),
		wantService:  Value{"service", "otel-svc", "env OTEL_SERVICE_NAME"},
		wantInstance: Value{"instance", "attr-inst", "env OTEL_RESOURCE_ATTRIBUTES service.instance.id"},
	}, {
		name:         "OTEL_RESOURCE_ATTRIBUTES beats ECS",
		env:          with(otelAttrs, ecsEnv, k8s),
		wantService:  Value{"service", "attr-svc", "env OTEL_RESOURCE_ATTRIBUTES service.name"},
		wantInstance: Value{"instance", "attr-inst", "env OTEL_RESOURCE_ATTRIBUTES service.instance.id"},
	}, {
		name:         "ECS beats Kubernetes",
		env:          with(ecsEnv, k8s),
		wantService:  Value{"service", "auth", "ECS task metadata (ServiceName)"},
		wantInstance: Value{"instance", fargateTaskID, "ECS task metadata (task ARN)"},
	}, {
		name:         "Kubernetes beats hostname",
		env:          k8s,
		wantService:  Value{"service", "api", "Kubernetes POD_NAME (Deployment name)"},
		wantInstance: Value{"instance", podName, "Kubernetes POD_NAME"},
	}, {
		name:         "hostname for the instance",
		env:          map[string]string{EnvService: "env-svc"},
		wantService:  Value{"service", "env-svc", "env RWKIT_SERVICE"},
		wantInstance: Value{"instance", "host-1", "hostname"},
	}, {
		name:         "levels mix: service from env, instance from ECS",
		env:          with(map[string]string{EnvService: "env-svc"}, ecsEnv, k8s),
		wantService:  Value{"service", "env-svc", "env RWKIT_SERVICE"},
		wantInstance: Value{"instance", fargateTaskID, "ECS task metadata (task ARN)"},
	}, {
		name:         "levels mix: option instance, OTel service",
		opts:         Options{Instance: "opt-inst"},
		env:          with(otelAttrs, ecsEnv),
		wantService:  Value{"service", "attr-svc", "env OTEL_RESOURCE_ATTRIBUTES service.name"},
		wantInstance: Value{"instance", "opt-inst", "option"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.opts
			o.Getenv = env(tt.env)
			o.Hostname = hostname("host-1")
			o.KubernetesNamespaceFile = nsFile(t, "prod")
			id, err := Resolve(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantService, id.Service); diff != "" {
				t.Errorf("Service (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantInstance, id.Instance); diff != "" {
				t.Errorf("Instance (-want +got):\n%s\nTried:\n%s", diff, strings.Join(id.Tried, "\n"))
			}
		})
	}
}

func TestIOSourcesSkippedOnceResolved(t *testing.T) {
	ecs := newECSServer(t, "fargate")
	id, err := Resolve(context.Background(), Options{
		Getenv: env(map[string]string{EnvService: "a", EnvInstance: "b", EnvECSMetadataURI: ecs.URI}),
		Hostname: func() (string, error) {
			t.Error("hostname consulted although both values were resolved")
			return "", nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := ecs.Requests.Load(); n != 0 {
		t.Errorf("ECS endpoint got %d requests, want 0", n)
	}
	want := []string{
		"option: neither Service nor Instance set",
		`env RWKIT_SERVICE: service "a"`,
		`env RWKIT_INSTANCE: instance "b"`,
		"env OTEL_SERVICE_NAME: not set",
		"env OTEL_RESOURCE_ATTRIBUTES: not set",
	}
	if diff := cmp.Diff(want, id.Tried); diff != "" {
		t.Errorf("Tried (-want +got):\n%s", diff)
	}
}

func TestTriedNotesShadowedValues(t *testing.T) {
	id, err := Resolve(context.Background(), Options{
		Service: "opt",
		Getenv:  env(map[string]string{EnvService: "env", EnvOTelServiceName: "otel"}),
		// instance from hostname
		Hostname:   hostname("h"),
		DisableECS: true, DisableKubernetes: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`option: service "opt"`,
		`env RWKIT_SERVICE: service "env" (not used: service from option)`,
		"env RWKIT_INSTANCE: not set",
		`env OTEL_SERVICE_NAME: service "otel" (not used: service from option)`,
		"env OTEL_RESOURCE_ATTRIBUTES: not set",
		"ECS task metadata: disabled",
		"Kubernetes: disabled",
		`hostname: instance "h"`,
	}
	if diff := cmp.Diff(want, id.Tried); diff != "" {
		t.Errorf("Tried (-want +got):\n%s", diff)
	}
}

func TestCustomLabelNames(t *testing.T) {
	id, err := Resolve(context.Background(), Options{
		ServiceLabel: "job",
		Getenv:       env(map[string]string{EnvService: "auth"}),
		Hostname:     hostname("ip-10-0-12-57"),
		DisableECS:   true, DisableKubernetes: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []wire.Label{{Name: "instance", Value: "ip-10-0-12-57"}, {Name: "job", Value: "auth"}}
	if diff := cmp.Diff(want, id.Labels()); diff != "" {
		t.Errorf("Labels (-want +got):\n%s", diff)
	}
	wantStr := `job="auth" (env RWKIT_SERVICE), instance="ip-10-0-12-57" (hostname)`
	if got := id.String(); got != wantStr {
		t.Errorf("String() = %s\nwant       %s", got, wantStr)
	}
}

func TestLabelsDefault(t *testing.T) {
	id, err := Resolve(context.Background(), Options{Service: "auth", Instance: "a-1"})
	if err != nil {
		t.Fatal(err)
	}
	want := []wire.Label{{Name: "instance", Value: "a-1"}, {Name: "service", Value: "auth"}}
	if diff := cmp.Diff(want, id.Labels()); diff != "" {
		t.Errorf("Labels (-want +got):\n%s", diff)
	}
}

func TestUnresolved(t *testing.T) {
	tests := []struct {
		name        string
		opts        Options
		wantMissing []string
		wantLabels  []string
		wantIn      []string
	}{{
		name:        "nothing anywhere",
		opts:        Options{Getenv: env(nil), Hostname: noHostname},
		wantMissing: []string{"service", "instance"},
		wantLabels:  []string{"service", "instance"},
		wantIn: []string{
			"identity: no service and no instance could be resolved; tried: option: neither Service nor Instance set; env RWKIT_SERVICE: not set;",
			"ECS task metadata: ECS_CONTAINER_METADATA_URI_V4 not set (not on ECS)",
			"Kubernetes: KUBERNETES_SERVICE_HOST not set (not in a Kubernetes pod)",
			"hostname: no hostname in this test",
			`set the service with Options.Service, RWKIT_SERVICE=auth, OTEL_SERVICE_NAME=auth or OTEL_RESOURCE_ATTRIBUTES=service.name=auth`,
			`set the instance with Options.Instance, RWKIT_INSTANCE=auth-1`,
		},
	}, {
		name:        "service only, custom label",
		opts:        Options{ServiceLabel: "job", Getenv: env(nil), Hostname: hostname("h1")},
		wantMissing: []string{"service"},
		wantLabels:  []string{"job"},
		wantIn: []string{
			`identity: no service (label "job") could be resolved; tried: `,
			`hostname: instance "h1"`,
			`Options.Service, RWKIT_SERVICE=auth, OTEL_SERVICE_NAME=auth`,
		},
	}, {
		name:        "instance only, hostname disabled",
		opts:        Options{Service: "auth", Getenv: env(nil), DisableHostname: true},
		wantMissing: []string{"instance"},
		wantLabels:  []string{"instance"},
		wantIn:      []string{"hostname: disabled", "RWKIT_INSTANCE=auth-1"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.KubernetesNamespaceFile = "/nonexistent/namespace"
			id, err := Resolve(context.Background(), tt.opts)
			if id != nil {
				t.Errorf("Resolve returned an identity with an error: %v", id)
			}
			var ue *UnresolvedError
			if !errors.As(err, &ue) {
				t.Fatalf("err = %v, want *UnresolvedError", err)
			}
			if diff := cmp.Diff(tt.wantMissing, ue.Missing); diff != "" {
				t.Errorf("Missing (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantLabels, ue.Labels); diff != "" {
				t.Errorf("Labels (-want +got):\n%s", diff)
			}
			if len(ue.Tried) == 0 || ue.Partial == nil {
				t.Errorf("Tried = %q, Partial = %v", ue.Tried, ue.Partial)
			}
			for _, s := range tt.wantIn {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error lacks %q:\n%s", s, err)
				}
			}
		})
	}
}

func TestInvalidOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"bad service label", Options{ServiceLabel: "service-name"}, `identity: Options.ServiceLabel "service-name" is not a valid Prometheus label name`},
		{"label starts with digit", Options{InstanceLabel: "1nstance"}, `Options.InstanceLabel "1nstance" is not a valid`},
		{"reserved label", Options{ServiceLabel: "__name__"}, `Options.ServiceLabel "__name__": names starting with "__" are reserved`},
		{"same labels", Options{ServiceLabel: "job", InstanceLabel: "job"}, `Options.ServiceLabel and Options.InstanceLabel are both "job"`},
		{"blank service", Options{Service: "  "}, `identity: Options.Service is blank`},
		{"invalid UTF-8 instance", Options{Instance: "a\xffb"}, `Options.Instance "a\xffb" is not valid UTF-8`},
		{"invalid UTF-8 env", Options{Getenv: env(map[string]string{EnvService: "\xc3"})}, `RWKIT_SERVICE "\xc3" is not valid UTF-8`},
		{"invalid UTF-8 after percent-decoding", Options{Getenv: env(map[string]string{EnvOTelResourceAttributes: "service.name=%ff"})}, `OTEL_RESOURCE_ATTRIBUTES service.name "\xff" is not valid UTF-8`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Resolve(context.Background(), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			var ue *UnresolvedError
			if errors.As(err, &ue) {
				t.Errorf("configuration error is an *UnresolvedError: %v", err)
			}
		})
	}
}

func TestValuesTrimmedAndBlankIgnored(t *testing.T) {
	id, err := Resolve(context.Background(), Options{
		Service: " auth\n",
		Getenv:  env(map[string]string{EnvInstance: "   ", EnvOTelResourceAttributes: "service.instance.id=%20i-1%20"}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if id.Service.Value != "auth" || id.Instance.Value != "i-1" {
		t.Errorf("got %v", id)
	}
	if !strings.Contains(strings.Join(id.Tried, "\n"), `env RWKIT_INSTANCE: blank ("   "), ignored`) {
		t.Errorf("Tried does not say RWKIT_INSTANCE was blank:\n%s", strings.Join(id.Tried, "\n"))
	}
}

func TestContextCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Resolve(ctx, Options{
		Getenv:   env(map[string]string{EnvECSMetadataURI: "http://169.254.170.2/v4/x"}),
		Hostname: hostname("h"),
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestDefaultOptionsReadProcess(t *testing.T) {
	t.Setenv(EnvService, "from-process-env")
	t.Setenv(EnvInstance, "")
	t.Setenv(EnvECSMetadataURI, "")
	t.Setenv(EnvKubernetesServiceHost, "")
	id, err := Resolve(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if id.Service.Value != "from-process-env" || id.Instance.Source != "hostname" {
		t.Errorf("got %v", id)
	}
}
