package difftest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rwkit/rwkit/internal/cortextest"
	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
	"github.com/rwkit/rwkit/workspace"
	"github.com/rwkit/rwkit/workspace/workspacetest"
)

// The differential test of a profile against the server it models, for
// the servers started by internal/backendtest (prometheus3_test.go,
// mimir_test.go): the same shape as TestWorkspaceMatchesCortex, with the
// RW 2.0 Written headers among what is compared.

// A server is one real backend as the runner sees it.
type server struct {
	name string
	// pushURL and queryURL (the Prometheus API base) for a scenario;
	// single-tenant servers start one per scenario.
	pushURL, queryURL string
	// discards returns the server's per-reason discard counts for a
	// tenant in rwkit's reason names, or nil when it has no counter.
	discards func(t *testing.T, ctx context.Context, tenant string) map[string]float64
	// core is the part of a refusal body the workspace's first line must
	// contain.
	core func(body string) string
	// wholeBody: the workspace's body must also begin with every line of
	// the server's (Prometheus 3 answers RW 2.0 with a line per refusal).
	wholeBody bool
}

// backendObservation is what one side did with a scenario.
type backendObservation struct {
	// Statuses: "2xx", "5xx", or the exact code of a 4xx, per request.
	Statuses []string
	// Written: the RW 2.0 X-Prometheus-Remote-Write-*-Written headers,
	// "samples/histograms/exemplars", per request ("" for RW 1.0 or when
	// absent).
	Written []string
	// Samples by series, as in observation.
	Samples map[string][]string
	// Discards by reason; nil for a server without a discard counter.
	Discards map[string]float64
}

func (o backendObservation) clone() backendObservation {
	c := backendObservation{Statuses: slices.Clone(o.Statuses), Written: slices.Clone(o.Written), Samples: map[string][]string{}}
	for k, v := range o.Samples {
		c.Samples[k] = slices.Clone(v)
	}
	if o.Discards != nil {
		c.Discards = map[string]float64{}
		for k, v := range o.Discards {
			c.Discards[k] = v
		}
	}
	return c
}

// A backendKnown difference: patch turns the server's observation into
// the one expected from the workspace; bodies marks refusal texts that
// differ (asserted), as in known.
type backendKnown struct {
	why    string
	patch  func(o *backendObservation)
	bodies bool
}

type backendScenario struct {
	name  string
	reqs  func(base int64) []request
	known *backendKnown
}

// runBackend runs every scenario against a server (start gives the one
// for a scenario) and a workspace with profile lim.
func runBackend(t *testing.T, lim validate.Limits, start func(t *testing.T) *server, scenarios []backendScenario) {
	ctx := context.Background()
	ws := workspacetest.Start(t, workspace.WithLimits(lim))
	reg := ws.Workspace.Registry()
	for i, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			s := start(t)
			tenant := fmt.Sprintf("dt-%02d-%s", i, sc.name)
			base := time.Now().Add(-time.Minute).Truncate(time.Second).UnixMilli()
			so := backendObservation{}
			wo := backendObservation{}
			bodiesDiffer := false
			for j, r := range sc.reqs(base) {
				body := r.encode()
				ss, sb, sw := postWritten(t, ctx, s.pushURL, tenant, body, r)
				wst, wb, ww := postWritten(t, ctx, ws.HTTP.URL+"/api/v1/push", tenant, body, r)
				t.Logf("request %d: %s %d %q %s", j, s.name, ss, firstLine(sb), sw)
				t.Logf("request %d: workspace %d %q %s", j, wst, firstLine(wb), ww)
				so.Statuses, wo.Statuses = append(so.Statuses, statusClass(ss)), append(wo.Statuses, statusClass(wst))
				so.Written, wo.Written = append(so.Written, sw), append(wo.Written, ww)
				if ss/100 == 4 && wst/100 == 4 {
					core := s.core(sb)
					switch {
					case s.wholeBody && strings.Contains(firstLine(wb), core) && !strings.HasPrefix(wb, strings.TrimSpace(sb)+"\n"):
						t.Errorf("request %d: the workspace's body does not begin with %s's lines\n%s: %q\nworkspace: %q", j, s.name, s.name, sb, wb)
					case strings.Contains(firstLine(wb), core):
					case sc.known != nil && sc.known.bodies:
						bodiesDiffer = true
					default:
						t.Errorf("request %d: the workspace's first line does not contain %s's text\n%s: %q\nworkspace: %q", j, s.name, s.name, core, firstLine(wb))
					}
				}
			}
			at := time.UnixMilli(base).Add(15 * time.Minute)
			so.Samples = stored(t, ctx, s.queryURL, tenant, at, base)
			wo.Samples = stored(t, ctx, ws.HTTP.URL+"/prometheus", tenant, at, base)
			if s.discards != nil {
				so.Discards = s.discards(t, ctx, tenant)
				wo.Discards = workspaceDiscards(t, reg, tenant)
			}
			t.Logf("%s: statuses %v, written %v, discards %v, stored %v", s.name, so.Statuses, so.Written, so.Discards, so.Samples)
			compareBackend(t, s.name, sc.known, so, wo, bodiesDiffer)
		})
	}
}

func compareBackend(t *testing.T, name string, k *backendKnown, so, wo backendObservation, bodiesDiffer bool) {
	t.Helper()
	if k == nil {
		if d := cmp.Diff(so, wo); d != "" {
			t.Errorf("the workspace differs from %s (-%s +workspace):\n%s", name, name, d)
		}
		return
	}
	t.Logf("known difference: %s", k.why)
	if k.bodies && !bodiesDiffer {
		t.Errorf("known difference (%s) did not show: the workspace's texts now contain %s's; remove the marker", k.why, name)
	}
	if k.patch == nil {
		if d := cmp.Diff(so, wo); d != "" {
			t.Errorf("the workspace differs from %s (-%s +workspace):\n%s", name, name, d)
		}
		return
	}
	if cmp.Equal(so, wo) {
		t.Errorf("known difference (%s) did not show: the workspace now agrees with %s; remove the marker", k.why, name)
		return
	}
	want := so.clone()
	k.patch(&want)
	if d := cmp.Diff(want, wo); d != "" {
		t.Errorf("the workspace differs from %s beyond the known difference (%s) (-%s with the known difference applied +workspace):\n%s\nunpatched:\n%s",
			name, k.why, name, d, cmp.Diff(so, wo))
	}
}

// postWritten sends a remote write as post does and also returns the RW
// 2.0 Written headers, "samples/histograms/exemplars" ("" when absent).
func postWritten(t *testing.T, ctx context.Context, u, tenant string, body []byte, r request) (int, string, string) {
	t.Helper()
	req, err := cortextest.NewPushRequest(ctx, u, tenant, body, r.rw2)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", "rwkit-difftest")
	for i := 0; i+1 < len(r.headers); i += 2 {
		if r.headers[i+1] == "" {
			req.Header.Del(r.headers[i])
			continue
		}
		req.Header.Set(r.headers[i], r.headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	written := ""
	if h := resp.Header; h.Get(wire.HeaderSamplesWritten) != "" || h.Get(wire.HeaderHistogramsWritten) != "" || h.Get(wire.HeaderExemplarsWritten) != "" {
		written = h.Get(wire.HeaderSamplesWritten) + "/" + h.Get(wire.HeaderHistogramsWritten) + "/" + h.Get(wire.HeaderExemplarsWritten)
	}
	return resp.StatusCode, string(b), written
}

// metricsText fetches a Prometheus text exposition.
func metricsText(t *testing.T, ctx context.Context, u string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", u, resp.StatusCode, err)
	}
	return string(b)
}

// rw2 is an RW 2.0 request of series.
func rw2(series ...wire.TimeSeries) request { return request{rw2: true, series: series} }

// written patches the Written header of request i.
func written(i int, w string) func(*backendObservation) {
	return func(o *backendObservation) { o.Written[i] = w }
}
