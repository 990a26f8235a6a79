package collide

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportGraph keeps collide out of the Prometheus server, as
// internal/depcheck keeps the push library: a pre-deploy check is a small
// program that imports this package.
func TestImportGraph(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/rwkit/rwkit/collide").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, path := range strings.Fields(string(out)) {
		for _, f := range []string{"github.com/prometheus/prometheus", "github.com/gogo/protobuf"} {
			if path == f || strings.HasPrefix(path, f+"/") {
				t.Errorf("collide imports %s", path)
			}
		}
	}
}
