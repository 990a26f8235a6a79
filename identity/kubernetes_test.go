package identity

import (
	"context"
	"strings"
	"testing"
)

func TestKubernetes(t *testing.T) {
	tests := []struct {
		name         string
		env          map[string]string
		nsFile       string // contents; "" means no file
		wantService  Value
		wantInstance Value
		wantExtra    []Value
		wantTried    string
	}{{
		name:         "POD_NAME of a Deployment, namespace file",
		env:          map[string]string{EnvPodName: "auth-7d4b9c8f6d-x2k9p", EnvHostname: "ignored"},
		nsFile:       "forge-int\n",
		wantService:  Value{"service", "auth", "Kubernetes POD_NAME (Deployment name)"},
		wantInstance: Value{"instance", "auth-7d4b9c8f6d-x2k9p", "Kubernetes POD_NAME"},
		wantExtra:    []Value{{"namespace", "forge-int", "Kubernetes NSFILE"}},
		wantTried:    `Kubernetes: service "auth" from Kubernetes POD_NAME (Deployment name), instance "auth-7d4b9c8f6d-x2k9p" from Kubernetes POD_NAME, namespace "forge-int" from NSFILE`,
	}, {
		name:         "HOSTNAME of a StatefulSet, POD_NAMESPACE beats the file",
		env:          map[string]string{EnvHostname: "kafka-2", EnvPodNamespace: "data"},
		nsFile:       "other",
		wantService:  Value{"service", "kafka", "Kubernetes HOSTNAME (StatefulSet name)"},
		wantInstance: Value{"instance", "kafka-2", "Kubernetes HOSTNAME"},
		wantExtra:    []Value{{"namespace", "data", "Kubernetes POD_NAMESPACE"}},
	}, {
		name:         "hand-named pod: instance only",
		env:          map[string]string{EnvPodName: "debug"},
		wantInstance: Value{"instance", "debug", "Kubernetes POD_NAME"},
		wantService:  Value{Label: "service"},
		wantTried:    `Kubernetes: no service: pod name "debug" has no controller suffix, instance "debug" from Kubernetes POD_NAME, no namespace: open NSFILE: no such file or directory`,
	}, {
		name:         "no pod name at all",
		env:          map[string]string{},
		nsFile:       "ns",
		wantService:  Value{Label: "service"},
		wantInstance: Value{Label: "instance"},
		wantExtra:    []Value{{"namespace", "ns", "Kubernetes NSFILE"}},
		wantTried:    `Kubernetes: neither POD_NAME nor HOSTNAME set, namespace "ns" from NSFILE`,
	}, {
		name:         "blank namespace file",
		env:          map[string]string{EnvPodName: "web-0"},
		nsFile:       " \n",
		wantService:  Value{"service", "web", "Kubernetes POD_NAME (StatefulSet name)"},
		wantInstance: Value{"instance", "web-0", "Kubernetes POD_NAME"},
		wantTried:    `no namespace: NSFILE: empty`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := t.TempDir() + "/namespace"
			if tt.nsFile != "" {
				path = nsFile(t, tt.nsFile)
			}
			e := map[string]string{EnvKubernetesServiceHost: "10.96.0.1"}
			for k, v := range tt.env {
				e[k] = v
			}
			// Resolve would fail without a service; read the partial identity.
			id, err := Resolve(context.Background(), Options{
				Getenv:                  env(e),
				KubernetesNamespaceFile: path,
				DisableECS:              true, DisableHostname: true,
			})
			if err != nil {
				ue, ok := err.(*UnresolvedError)
				if !ok {
					t.Fatal(err)
				}
				id = ue.Partial
			}
			for i := range tt.wantExtra {
				tt.wantExtra[i].Source = strings.ReplaceAll(tt.wantExtra[i].Source, "NSFILE", path)
			}
			checkValues(t, id, tt.wantService, tt.wantInstance, tt.wantExtra)
			line := triedLine(id.Tried, "Kubernetes: ")
			if want := strings.ReplaceAll(tt.wantTried, "NSFILE", path); !strings.Contains(line, want) {
				t.Errorf("Tried line\n got %s\nwant it to contain %s", line, want)
			}
		})
	}
}

func TestKubernetesNotInPod(t *testing.T) {
	id, err := Resolve(context.Background(), Options{
		Service:  "auth",
		Getenv:   env(map[string]string{EnvHostname: "laptop", EnvPodName: "x-0"}),
		Hostname: hostname("laptop"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if id.Instance.Source != "hostname" {
		t.Errorf("Instance = %+v: POD_NAME used without KUBERNETES_SERVICE_HOST", id.Instance)
	}
}

func TestWorkloadName(t *testing.T) {
	tests := []struct{ pod, name, kind string }{
		{"auth-7d4b9c8f6d-x2k9p", "auth", "Deployment"},
		{"api-v2-5c6b7d8f9-bq4zt", "api-v2", "Deployment"},
		{"api-2-7d4b9c8f6-x2k9p", "api-2", "Deployment"},
		{"coredns-5d78c9869d-4xkqv", "coredns", "Deployment"},
		{"backup-28394850-x7k2p", "backup", "CronJob"},
		{"node-exporter-x7k2p", "node-exporter", "DaemonSet/Job/ReplicaSet"},
		{"kube-dns-x7k2p", "kube-dns", "DaemonSet/Job/ReplicaSet"}, // "dns" is too short for a hash
		{"kafka-2", "kafka", "StatefulSet"},
		{"web-10", "web", "StatefulSet"},
		{"debug", "", ""},
		{"my-app", "", ""},       // "app" has a vowel: not a suffix
		{"my-app-abcde", "", ""}, // vowels: not a generated suffix
		{"x7k2p", "", ""},
		{"-x7k2p", "", "DaemonSet/Job/ReplicaSet"},
		{"", "", ""},
	}
	for _, tt := range tests {
		name, kind := workloadName(tt.pod)
		if tt.pod == "-x7k2p" {
			// an empty workload name is no name: fromKubernetes would offer ""
			if name != "" {
				t.Errorf("workloadName(%q) = %q", tt.pod, name)
			}
			continue
		}
		if name != tt.name || kind != tt.kind {
			t.Errorf("workloadName(%q) = %q, %q; want %q, %q", tt.pod, name, kind, tt.name, tt.kind)
		}
	}
}
