// Package depcheck holds a test that keeps the push library's import graph
// small: what a service links in when it imports rwkit must not include the
// Prometheus server (prometheus/prometheus) or gogo protobuf. Only the
// workspace's store may import the former, and only tests may import prompb.
package depcheck

import (
	"os/exec"
	"strings"
	"testing"
)

// library is every package a service may import to push its metrics.
var library = []string{
	"github.com/rwkit/rwkit/wire",
	"github.com/rwkit/rwkit/gather",
	"github.com/rwkit/rwkit/identity",
	"github.com/rwkit/rwkit/remotewrite",
	"github.com/rwkit/rwkit/remotewrite/sigv4",
	"github.com/rwkit/rwkit/scrape",
	"github.com/rwkit/rwkit/validate",
	// collide is what a pre-deploy check imports.
	"github.com/rwkit/rwkit/collide",
}

var forbidden = []string{
	"github.com/prometheus/prometheus",
	"github.com/gogo/protobuf",
	"github.com/golang/protobuf", // the old API; google.golang.org/protobuf comes with client_golang
}

func TestLibraryImportGraph(t *testing.T) {
	pkgs := library
	// push lands with the push library; check it whenever it exists.
	if err := exec.Command("go", "list", "github.com/rwkit/rwkit/push").Run(); err == nil {
		pkgs = append(pkgs, "github.com/rwkit/rwkit/push")
	}
	out, err := exec.Command("go", append([]string{"list", "-deps", "-f", "{{.ImportPath}} {{.Module}}"}, pkgs...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	modules := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, mod, _ := strings.Cut(line, " ")
		for _, f := range forbidden {
			if path == f || strings.HasPrefix(path, f+"/") {
				t.Errorf("the push library imports %s", path)
			}
		}
		if mod != "" && mod != "<nil>" {
			modules[strings.Fields(mod)[0]] = true
		}
	}
	t.Logf("%d modules in the push library's import graph", len(modules))
}
