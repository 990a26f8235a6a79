package identity

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// env returns a Getenv over m.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func hostname(h string) func() (string, error) {
	return func() (string, error) { return h, nil }
}

func noHostname() (string, error) { return "", errors.New("no hostname in this test") }

// ecsServer serves testdata/ecs/<dir>/task.json at /v4/<id>/task and
// container.json at /v4/<id>, as the ECS agent does, and counts requests.
type ecsServer struct {
	*httptest.Server
	URI      string // the ECS_CONTAINER_METADATA_URI_V4 value
	Requests atomic.Int32
}

func newECSServer(t *testing.T, dir string) *ecsServer {
	t.Helper()
	task := readTestdata(t, filepath.Join("ecs", dir, "task.json"))
	ctr := readTestdata(t, filepath.Join("ecs", dir, "container.json"))
	s := &ecsServer{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v4/4a1b2c3d-task/task", func(w http.ResponseWriter, r *http.Request) {
		s.Requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write(task)
	})
	mux.HandleFunc("GET /v4/4a1b2c3d-task", func(w http.ResponseWriter, r *http.Request) {
		s.Requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write(ctr)
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	s.URI = s.URL + "/v4/4a1b2c3d-task"
	return s
}

// handlerServer serves every request with h.
func handlerServer(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s.URL + "/v4/4a1b2c3d-task"
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func shortClient() *http.Client { return &http.Client{Timeout: 200 * time.Millisecond} }

// nsFile writes a Kubernetes namespace file and returns its path.
func nsFile(t *testing.T, ns string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "namespace")
	if err := os.WriteFile(p, []byte(ns), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkValues reports how id's service, instance and extra values differ
// from the wanted ones, each as a cmp diff.
func checkValues(t *testing.T, id *Identity, service, instance Value, extra []Value) {
	t.Helper()
	if diff := cmp.Diff(service, id.Service); diff != "" {
		t.Errorf("Service (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(instance, id.Instance); diff != "" {
		t.Errorf("Instance (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(extra, id.Extra); diff != "" {
		t.Errorf("Extra (-want +got):\n%s", diff)
	}
}
