package workspacetest_test

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rwkit/rwkit/push"
	"github.com/rwkit/rwkit/workspace/workspacetest"
)

// testJobsReachAMP is a service's test, named TestJobsReachAMP in the
// service's own package: its metrics, pushed by the push library, are
// accepted by an in-process AMP workspace (or refused with AMP's text) and
// can be queried back.
func testJobsReachAMP(t *testing.T) {
	ws := workspacetest.Start(t)

	reg := prometheus.NewRegistry()
	jobs := prometheus.NewCounter(prometheus.CounterOpts{Name: "jobs_done_total", Help: "Jobs done."})
	reg.MustRegister(jobs)
	jobs.Add(3)

	p, err := push.New(ws.WriteURL, reg, push.WithService("auth"), push.WithInstance("auth-1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Push(context.Background()); err != nil {
		t.Fatalf("AMP would refuse this push: %v", err)
	}
	got := ws.Query(t, `jobs_done_total{service="auth"}`)
	if len(got) != 1 || got[0].Value != 3 || got[0].Labels["instance"] != "auth-1" {
		t.Fatalf("jobs_done_total in the workspace: %v, want one series of value 3 from auth-1", got)
	}
}

// A service's test pushes to an in-process AMP workspace (testJobsReachAMP
// above) the way its production build pushes to AMP.
func Example() {
	// In the service's tests:
	//
	//	func TestJobsReachAMP(t *testing.T) { ... }
	//
	// with the body of testJobsReachAMP.
	var _ = testJobsReachAMP
}
