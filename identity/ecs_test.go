package identity

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestECSRecordedResponses(t *testing.T) {
	tests := []struct {
		dir          string
		wantService  Value
		wantInstance Value
		wantExtra    []Value
	}{{
		dir:          "fargate",
		wantService:  Value{"service", "auth", "ECS task metadata (ServiceName)"},
		wantInstance: Value{"instance", "0123456789abcdef0123456789abcdef", "ECS task metadata (task ARN)"},
		wantExtra: []Value{
			{"cluster", "forge-int", "ECS task metadata (Cluster)"},
			{"container", "auth", "ECS container metadata (Name)"},
			{"availability_zone", "us-west-2b", "ECS task metadata (AvailabilityZone)"},
		},
	}, {
		dir:          "ec2",
		wantService:  Value{"service", "document", "ECS task metadata (task definition family)"},
		wantInstance: Value{"instance", "9f2b7c1e04d84a6bb3f5e8d27a61c0e4", "ECS task metadata (task ARN)"},
		wantExtra: []Value{
			{"cluster", "default", "ECS task metadata (Cluster)"},
			{"container", "document", "ECS container metadata (Name)"},
			{"availability_zone", "us-west-2a", "ECS task metadata (AvailabilityZone)"},
		},
	}, {
		dir:          "ec2-legacy-arn",
		wantService:  Value{"service", "notification", "ECS task metadata (task definition family)"},
		wantInstance: Value{"instance", "5e7f9a1b-3c2d-4e6f-8a0b-1c2d3e4f5a6b", "ECS task metadata (task ARN)"},
		wantExtra: []Value{
			{"cluster", "default", "ECS task metadata (Cluster)"},
			{"container", "notification", "ECS container metadata (Name)"},
		},
	}, {
		// Three application containers (api, worker, log_router) and the
		// pause container, which does not count: worker's instance names it.
		dir:          "multi-container",
		wantService:  Value{"service", "billing", "ECS task metadata (ServiceName)"},
		wantInstance: Value{"instance", "3c6f1e8a9b2d4c7e8f0a1b2c3d4e5f60/worker", "ECS task metadata (task ARN and container Name: the task has 3 application containers)"},
		wantExtra: []Value{
			{"cluster", "billing", "ECS task metadata (Cluster)"},
			{"container", "worker", "ECS container metadata (Name)"},
			{"availability_zone", "eu-central-1c", "ECS task metadata (AvailabilityZone)"},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			s := newECSServer(t, tt.dir)
			id, err := Resolve(context.Background(), Options{
				Getenv:   env(map[string]string{EnvECSMetadataURI: s.URI}),
				Hostname: noHostname,
			})
			if err != nil {
				t.Fatal(err)
			}
			checkValues(t, id, tt.wantService, tt.wantInstance, tt.wantExtra)
			if n := s.Requests.Load(); n != 2 {
				t.Errorf("%d requests, want 2 (task and container)", n)
			}
			if line := triedLine(id.Tried, "ECS task metadata: "); strings.Contains(line, "may collide") {
				t.Errorf("ECS line of Tried warns of a collision:\n%s", line)
			}
		})
	}
}

// multiContainerServer serves testdata/ecs/multi-container with the
// container response edited by edit (nil: the container request fails).
func multiContainerServer(t *testing.T, edit func(map[string]any)) string {
	t.Helper()
	task := readTestdata(t, "ecs/multi-container/task.json")
	var ctr []byte
	if edit != nil {
		var m map[string]any
		if err := json.Unmarshal(readTestdata(t, "ecs/multi-container/container.json"), &m); err != nil {
			t.Fatal(err)
		}
		edit(m)
		var err error
		if ctr, err = json.Marshal(m); err != nil {
			t.Fatal(err)
		}
	}
	return handlerServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/task"):
			w.Write(task)
		case ctr == nil:
			http.Error(w, "internal error", http.StatusInternalServerError)
		default:
			w.Write(ctr)
		}
	})
}

// TestECSMultiContainerNoName: with several application containers and no
// Name for this one, the instance is the plain task ID and Tried says that
// containers may collide and how to set RWKIT_INSTANCE.
func TestECSMultiContainerNoName(t *testing.T) {
	tests := []struct {
		name string
		edit func(map[string]any)
		want []string // in the ECS line of Tried, besides the collision note
	}{
		{"Name absent", func(m map[string]any) { delete(m, "Name") }, nil},
		{"Name blank", func(m map[string]any) { m["Name"] = "  " }, nil},
		{"container request fails", nil, []string{"status 500 Internal Server Error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := Resolve(context.Background(), Options{
				Getenv:   env(map[string]string{EnvECSMetadataURI: multiContainerServer(t, tt.edit)}),
				Hostname: noHostname,
			})
			if err != nil {
				t.Fatal(err)
			}
			want := Value{"instance", "3c6f1e8a9b2d4c7e8f0a1b2c3d4e5f60", "ECS task metadata (task ARN)"}
			if diff := cmp.Diff(want, id.Instance); diff != "" {
				t.Errorf("Instance (-want +got):\n%s", diff)
			}
			line := triedLine(id.Tried, "ECS task metadata: ")
			for _, w := range append(tt.want,
				"the task has 3 application containers (log_router, api, worker)",
				"containers of this task that push may collide",
				"set RWKIT_INSTANCE per container, e.g. RWKIT_INSTANCE=3c6f1e8a9b2d4c7e8f0a1b2c3d4e5f60/<container name>",
			) {
				if !strings.Contains(line, w) {
					t.Errorf("ECS line of Tried lacks %q:\n%s", w, line)
				}
			}
		})
	}
}

// TestECSMultiContainerInstanceSet: an instance from an earlier source
// wins, and without a collision note: the ECS value is only offered.
func TestECSMultiContainerInstanceSet(t *testing.T) {
	for _, name := range []string{"worker", ""} {
		uri := multiContainerServer(t, func(m map[string]any) { m["Name"] = name })
		id, err := Resolve(context.Background(), Options{
			Getenv:   env(map[string]string{EnvECSMetadataURI: uri, EnvInstance: "billing-worker-1"}),
			Hostname: noHostname,
		})
		if err != nil {
			t.Fatal(err)
		}
		want := Value{"instance", "billing-worker-1", "env RWKIT_INSTANCE"}
		if diff := cmp.Diff(want, id.Instance); diff != "" {
			t.Errorf("Name %q: Instance (-want +got):\n%s", name, diff)
		}
		line := triedLine(id.Tried, "ECS task metadata: ")
		if strings.Contains(line, "may collide") {
			t.Errorf("Name %q: ECS line of Tried warns of a collision:\n%s", name, line)
		}
		if name != "" && !strings.Contains(line, `instance "3c6f1e8a9b2d4c7e8f0a1b2c3d4e5f60/worker" (not used: instance from env RWKIT_INSTANCE)`) {
			t.Errorf("Name %q: ECS line of Tried does not offer the per-container instance:\n%s", name, line)
		}
	}
}

// TestECSMultiContainerOlderAgent: agents that omit Type still count
// containers, minus the "~internal~" ones; the task ARN label stands in for
// a TaskARN the task response lacks.
func TestECSMultiContainerOlderAgent(t *testing.T) {
	const arn = "arn:aws:ecs:us-east-1:111122223333:task/5e7f9a1b-3c2d-4e6f-8a0b-1c2d3e4f5a6b"
	tests := []struct {
		name, task string
		want       Value
	}{{
		name: "no Type, two containers",
		task: `{"TaskARN": "` + arn + `", "Family": "mail", "Containers": [{"Name": "mail"}, {"Name": "bounce"}]}`,
		want: Value{"instance", "5e7f9a1b-3c2d-4e6f-8a0b-1c2d3e4f5a6b/mail", "ECS task metadata (task ARN and container Name: the task has 2 application containers)"},
	}, {
		name: "no Type, one container and the pause container",
		task: `{"TaskARN": "` + arn + `", "Family": "mail", "Containers": [{"Name": "~internal~ecs~pause"}, {"Name": "mail"}]}`,
		want: Value{"instance", "5e7f9a1b-3c2d-4e6f-8a0b-1c2d3e4f5a6b", "ECS task metadata (task ARN)"},
	}, {
		name: "no Containers",
		task: `{"TaskARN": "` + arn + `", "Family": "mail"}`,
		want: Value{"instance", "5e7f9a1b-3c2d-4e6f-8a0b-1c2d3e4f5a6b", "ECS task metadata (task ARN)"},
	}, {
		name: "no TaskARN, label instead",
		task: `{"Family": "mail", "Containers": [{"Name": "mail", "Type": "NORMAL"}, {"Name": "bounce", "Type": "NORMAL"}]}`,
		want: Value{"instance", "5e7f9a1b-3c2d-4e6f-8a0b-1c2d3e4f5a6b/mail", "ECS container metadata (com.amazonaws.ecs.task-arn label and container Name: the task has 2 application containers)"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			uri := handlerServer(t, func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, "/task") {
					w.Write([]byte(tt.task))
					return
				}
				w.Write([]byte(`{"Name": "mail", "Labels": {"com.amazonaws.ecs.task-arn": "` + arn + `"}}`))
			})
			id, err := Resolve(context.Background(), Options{
				Getenv:   env(map[string]string{EnvECSMetadataURI: uri}),
				Hostname: noHostname,
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, id.Instance); diff != "" {
				t.Errorf("Instance (-want +got):\n%s", diff)
			}
		})
	}
}

func TestECSAppContainers(t *testing.T) {
	got := ecsAppContainers([]ecsTaskContainer{
		{Name: "~internal~ecs~pause", Type: "CNI_PAUSE"},
		{Name: "~internal~ecs-emptyvolume-source", Type: "EMPTY_HOST_VOLUME"},
		{Name: "~internal~ecs~pause"}, // an older agent: no Type
		{Name: "some-future-internal", Type: "NAMESPACE_PAUSE"},
		{Name: "api", Type: "NORMAL"},
		{Name: "worker"},
	})
	if diff := cmp.Diff([]string{"api", "worker"}, got); diff != "" {
		t.Errorf("ecsAppContainers (-want +got):\n%s", diff)
	}
}

// TestECSFailuresFallThrough: a broken endpoint is noted in Tried and the
// instance comes from the hostname.
func TestECSFailuresFallThrough(t *testing.T) {
	tests := []struct {
		name string
		uri  func(t *testing.T) string
		want []string // in the ECS line of Tried
	}{{
		name: "connection refused",
		uri: func(t *testing.T) string {
			s := newECSServer(t, "fargate")
			s.Close()
			return s.URI
		},
		want: []string{"/task: dial tcp", "connect: connection refused", "no service", "no instance"},
	}, {
		name: "slow",
		uri: func(t *testing.T) string {
			return handlerServer(t, func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
			})
		},
		want: []string{"/task: context deadline exceeded (Client.Timeout exceeded while awaiting headers)"},
	}, {
		name: "garbage",
		uri: func(t *testing.T) string {
			return handlerServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte("<html>not json</html>"))
			})
		},
		want: []string{`/task: decoding JSON: invalid character '<' looking for beginning of value (body starts "<html>not json</html>")`},
	}, {
		name: "wrong JSON type",
		uri: func(t *testing.T) string {
			return handlerServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(`{"TaskARN": 42}`))
			})
		},
		want: []string{"decoding JSON: json: cannot unmarshal number into Go struct field ecsTask.TaskARN of type string"},
	}, {
		name: "not found",
		uri: func(t *testing.T) string {
			return handlerServer(t, func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "404 page not found", http.StatusNotFound)
			})
		},
		want: []string{`/task: status 404 Not Found: "404 page not found\n"`},
	}, {
		name: "body over 1 MiB",
		uri: func(t *testing.T) string {
			return handlerServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(`{"Family":"`))
				w.Write([]byte(strings.Repeat("x", 2<<20)))
				w.Write([]byte(`"}`))
			})
		},
		want: []string{"/task: body larger than 1048576 bytes"},
	}, {
		name: "not an http URL",
		uri:  func(*testing.T) string { return "169.254.170.2/v4/x" },
		want: []string{`ECS_CONTAINER_METADATA_URI_V4="169.254.170.2/v4/x" is not an http URL`},
	}, {
		name: "not a task ARN",
		uri: func(t *testing.T) string {
			return handlerServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(`{"TaskARN": "arn:aws:ecs:us-west-2:111122223333:service/default/auth"}`))
			})
		},
		want: []string{`ECS task metadata (task ARN): "arn:aws:ecs:us-west-2:111122223333:service/default/auth" is not an ECS task ARN`, "no instance"},
	}, {
		name: "null JSON",
		uri: func(t *testing.T) string {
			return handlerServer(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("null")) })
		},
		want: []string{"no service, no instance"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := Resolve(context.Background(), Options{
				Getenv:     env(map[string]string{EnvService: "auth", EnvECSMetadataURI: tt.uri(t)}),
				HTTPClient: shortClient(),
				Hostname:   hostname("host-1"),
			})
			if err != nil {
				t.Fatal(err)
			}
			if id.Instance.Value != "host-1" || id.Instance.Source != "hostname" {
				t.Errorf("Instance = %+v, want host-1 from hostname", id.Instance)
			}
			line := triedLine(id.Tried, "ECS task metadata: ")
			for _, w := range tt.want {
				if !strings.Contains(line, w) {
					t.Errorf("ECS line of Tried lacks %q:\n%s", w, line)
				}
			}
		})
	}
}

// TestECSTaskFailsContainerServes: when /task fails, the container's Docker
// labels still give the family and the task ARN.
func TestECSTaskFailsContainerServes(t *testing.T) {
	ctr := readTestdata(t, "ecs/ec2/container.json")
	uri := handlerServer(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/task") {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		w.Write(ctr)
	})
	id, err := Resolve(context.Background(), Options{
		Getenv:   env(map[string]string{EnvECSMetadataURI: uri}),
		Hostname: noHostname,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := Value{"service", "document", "ECS container metadata (com.amazonaws.ecs.task-definition-family label)"}
	if diff := cmp.Diff(want, id.Service); diff != "" {
		t.Errorf("Service (-want +got):\n%s", diff)
	}
	want = Value{"instance", "9f2b7c1e04d84a6bb3f5e8d27a61c0e4", "ECS container metadata (com.amazonaws.ecs.task-arn label)"}
	if diff := cmp.Diff(want, id.Instance); diff != "" {
		t.Errorf("Instance (-want +got):\n%s", diff)
	}
	if v, ok := id.Extras("cluster"); !ok || v.Value != "default" {
		t.Errorf("cluster = %+v, %v", v, ok)
	}
	if line := triedLine(id.Tried, "ECS task metadata: "); !strings.Contains(line, "status 500 Internal Server Error") {
		t.Errorf("Tried does not report the 500: %s", line)
	}
}

func TestTaskIDFromARN(t *testing.T) {
	tests := []struct {
		arn, want, err string
	}{
		{"arn:aws:ecs:us-west-2:111122223333:task/cluster-name/0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef", ""},
		{"arn:aws:ecs:us-east-1:111122223333:task/5e7f9a1b-3c2d-4e6f-8a0b-1c2d3e4f5a6b", "5e7f9a1b-3c2d-4e6f-8a0b-1c2d3e4f5a6b", ""},
		{"arn:aws-cn:ecs:cn-north-1:111122223333:task/c/abc", "abc", ""},
		{"arn:aws:ecs:us-west-2:111122223333:container/abc", "", "is not an ECS task ARN"},
		{"arn:aws:s3:::bucket/task/x", "", "is not an ECS ARN"},
		{"task/cluster/abc", "", "is not an ECS ARN"},
		{"arn:aws:ecs:us-west-2:111122223333:task/cluster/", "", "want task/<id> or task/<cluster>/<id>"},
		{"arn:aws:ecs:us-west-2:111122223333:task/a/b/c", "", "want task/<id> or task/<cluster>/<id>"},
		{"", "", "is not an ECS ARN"},
	}
	for _, tt := range tests {
		got, err := taskIDFromARN(tt.arn)
		if got != tt.want || (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("taskIDFromARN(%q) = %q, %v; want %q, error containing %q", tt.arn, got, err, tt.want, tt.err)
		}
	}
}

func TestClusterName(t *testing.T) {
	for in, want := range map[string]string{
		"default": "default",
		"arn:aws:ecs:us-west-2:111122223333:cluster/forge-int": "forge-int",
		"": "",
	} {
		if got := clusterName(in); got != want {
			t.Errorf("clusterName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDefaultHTTPClientIgnoresProxy(t *testing.T) {
	c := defaultHTTPClient()
	if c.Timeout != DefaultECSTimeout {
		t.Errorf("Timeout = %v", c.Timeout)
	}
	if tr, ok := c.Transport.(*http.Transport); !ok || tr.Proxy != nil {
		t.Errorf("Transport = %#v, want an *http.Transport without Proxy", c.Transport)
	}
}

func triedLine(tried []string, prefix string) string {
	for _, l := range tried {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}
