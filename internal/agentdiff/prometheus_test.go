package agentdiff_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rwkit/rwkit/internal/agentdiff"
	"github.com/rwkit/rwkit/internal/promtest"
)

var update = flag.Bool("update", false, "rewrite testdata/prometheus-2.42.golden from this run")

// runTimeout bounds the wait for the compared scrapes to arrive.
const runTimeout = 40 * time.Second

type promAgent struct{ s *promtest.Server }

func (p promAgent) Stop(ctx context.Context) error { return p.s.Stop(ctx, 20*time.Second) }

// prometheusSide runs Debian's Prometheus in agent mode, scraping native
// histograms (a feature flag in 2.42).
func prometheusSide(name string) agentdiff.Side {
	return agentdiff.Side{Name: name, Start: func(t *testing.T, cfg string) agentdiff.Scraper {
		return promAgent{promtest.StartAgent(t, cfg, "--enable-feature=native-histograms")}
	}}
}

// TestPrometheusAgainstItself validates the harness: two Prometheus agents
// given the same plan must deliver the same observation, and that
// observation must be Prometheus 2.42's as recorded in the golden file (so
// that a harness that observes nothing, or the wrong thing, fails).
func TestPrometheusAgainstItself(t *testing.T) {
	if testing.Short() {
		t.Skip("two Prometheus agents for ~10 scrapes; skipped with -short")
	}
	out := agentdiff.Run(t, plan(), [2]agentdiff.Side{prometheusSide("prometheus-a"), prometheusSide("prometheus-b")}, runTimeout)
	a, b := out[0].Observation, out[1].Observation
	if report := agentdiff.Compare(a, b, "prometheus-a", "prometheus-b", nil); report != "" {
		t.Errorf("two Prometheus agents disagree:\n%s", report)
	}
	checkGolden(t, "prometheus-2.42.golden", agentdiff.Render(a))
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if d := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(got, "\n")); d != "" {
		t.Errorf("observation differs from %s (-want +got):\n%s", path, d)
	}
}
