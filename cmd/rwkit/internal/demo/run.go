package demo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rwkit/rwkit/internal/version"
	"github.com/rwkit/rwkit/push"
	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/verify"
)

// Query is the seed's proof that every service's series arrived apart.
const Query = `count by (service) (jvm_threads_live_threads)`

// pushTimeout bounds one push. It is far longer than the interval on
// purpose: on a loaded machine a slow push should land late (and be seen
// as such), not be cancelled and buffered.
const pushTimeout = 30 * time.Second

// Run plays both phases on the running workspace, then the HA pair, and
// checks the story. An
// error means the demo could not run (a pusher could not be made, the query
// API failed); a story that did not hold is a Report with Pass false.
func (d *Demo) Run(ctx context.Context) (*Report, error) {
	start := time.Now()
	rep := &Report{
		Workspace: d.QueryURL(), WriteURL: d.WriteURL(), Limits: d.ws.Limits().Name,
		Services: Services, Rounds: d.opts.Rounds, Interval: d.opts.Interval.String(),
	}
	services := make([]*service, len(Services))
	for i, name := range Services {
		services[i] = newService(i, name)
	}
	phases := []struct {
		name     string
		identity bool
	}{
		{"without identity labels, as the seed's team pushed", d.opts.Phase1Identity},
		{"with the default identity (service, instance)", true},
	}
	round := 0
	for _, ph := range phases {
		pr, err := d.phase(ctx, services, ph.name, ph.identity, &round)
		if err != nil {
			return nil, err
		}
		rep.Phases = append(rep.Phases, *pr)
	}
	hr, err := d.haPair(ctx, &round) // ha.go
	if err != nil {
		return nil, err
	}
	rep.HAPair = hr
	rep.Checks = append(check(rep.Phases), haChecks(hr, d.opts.Rounds)...)
	rep.Pass = true
	for _, c := range rep.Checks {
		rep.Pass = rep.Pass && c.Pass
	}
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
}

// pusher is one service's Pusher in one phase, with its own self-metrics
// registry and its own connections, as a separate process would have.
type pusher struct {
	svc  *service
	p    *push.Pusher
	self *prometheus.Registry
	tr   *http.Transport
	err  error // the first error Push returned
}

func (d *Demo) phase(ctx context.Context, services []*service, name string, identity bool, round *int) (*PhaseReport, error) {
	pr := &PhaseReport{Name: name, Identity: identity, Options: d.phaseOptions(identity)}
	pushers := make([]*pusher, len(services))
	defer func() {
		for _, p := range pushers {
			if p != nil {
				p.tr.CloseIdleConnections()
			}
		}
	}()
	for i, s := range services {
		p, err := d.newPusher(s, identity)
		if err != nil {
			return nil, err
		}
		pushers[i] = p
	}
	before := d.workspaceCounts()
	seen := collisionCounts(d.ws.Collisions(WorkspaceID))
	for r := 0; r < d.opts.Rounds; r++ {
		for _, s := range services {
			s.work(*round)
		}
		*round++
		ts, err := waitForInterval(ctx, d.opts.Interval)
		if err != nil {
			return nil, err
		}
		pr.Timestamps = append(pr.Timestamps, ts)
		if err := pushAll(ctx, pushers); err != nil {
			return nil, err
		}
	}
	d.recordWorkspace(pr, before, seen)
	recordPushers(pr, pushers)
	q, err := d.queryProof(ctx, identity)
	if err != nil {
		return nil, err
	}
	pr.Query = q
	return pr, nil
}

// phaseOptions are the push options a phase's services use, as the report
// names them.
func (d *Demo) phaseOptions(identity bool) []string {
	opts := []string{"push.WithoutIdentity()"}
	if identity {
		opts = []string{`push.WithService(name)`, `push.WithInstance(name+"-task-1")`}
	}
	return append(opts, "push.WithAlignedTimestamps()", fmt.Sprintf("push.WithInterval(%s)", d.opts.Interval))
}

// pushAll pushes every service's metrics at once, as a fleet on one
// schedule does: which one the workspace hears first at a timestamp is up
// to the network. A pusher keeps its first error.
func pushAll(ctx context.Context, pushers []*pusher) error {
	var wg sync.WaitGroup
	for _, p := range pushers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.p.Push(ctx); err != nil && p.err == nil {
				p.err = err
			}
		}()
	}
	wg.Wait()
	return ctx.Err()
}

// recordWorkspace reports what the workspace counted during the phase:
// samples received and accepted and discards since before, and the
// collisions new since seen.
func (d *Demo) recordWorkspace(pr *PhaseReport, before counts, seen map[string]int64) {
	after := d.workspaceCounts()
	pr.Received = after.received - before.received
	pr.Accepted = after.accepted - before.accepted
	pr.Discards = discardDeltas(before.discarded, after.discarded)
	rows, byKind := newCollisions(seen, d.ws.Collisions(WorkspaceID))
	pr.CollisionsByKind, pr.Collisions = byKind, bySeries(rows)
	// The merged rows come in the report's order (the seed's metric first);
	// any writer pair of two services would do.
	if pr.TwoServices = twoServices(pr.Collisions); pr.TwoServices == "" {
		pr.TwoServices = twoServices(rows)
	}
	pr.Collisions = pr.Collisions[:min(len(pr.Collisions), MaxCollisions)]
}

// recordPushers reports each service's own view, the total, the first
// refusal a service saw and every error that was not a refusal.
func recordPushers(pr *PhaseReport, pushers []*pusher) {
	for _, p := range pushers {
		sp := p.counts()
		pr.Services = append(pr.Services, sp)
		pr.Total.add(sp)
		if pr.FirstRefusal == nil {
			var rwErr *remotewrite.Error
			if errors.As(p.err, &rwErr) && rwErr.StatusCode != 0 {
				pr.FirstRefusal = &Refusal{Service: p.svc.name, Status: rwErr.StatusCode, Reason: string(rwErr.Reason), Body: rwErr.Body}
			}
		}
		if p.err != nil && !isRefusal(p.err) {
			pr.Errors = append(pr.Errors, fmt.Sprintf("%s: %v", p.svc.name, p.err))
		}
	}
	pr.Total.Service = "total"
}

// queryProof runs the story's query on the workspace; with identity
// labels, it expects one series per service.
func (d *Demo) queryProof(ctx context.Context, identity bool) (*QueryProof, error) {
	qctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := verify.Query(qctx, &http.Client{}, d.QueryURL(), Query, time.Now(), nil)
	if err != nil {
		return nil, fmt.Errorf("demo: query %s: %w", Query, err)
	}
	q := &QueryProof{Query: Query, Samples: res.Samples}
	if identity {
		q.Checks = verify.Check(res, []verify.Expectation{verify.ExpectDistinct("service", len(Services))})
	}
	return q, nil
}

// userAgent is how a service's requests name it. Without identity labels
// the User-Agent and the connection's address are all that tell writers
// apart, and AMP reports neither; the workspace's collisions do.
func userAgent(service string) string { return service + "/demo " + version.UserAgent() }

func (d *Demo) newPusher(s *service, identity bool) (*pusher, error) {
	self := prometheus.NewRegistry()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	opts := []push.Option{
		push.WithInterval(d.opts.Interval),
		push.WithAlignedTimestamps(),
		push.WithTimeout(pushTimeout),
		// The self-metrics go out with the rest, as the seed's
		// forge_observability_amp_push_* counters did: they collide too.
		push.WithRegisterer(self),
		push.WithHTTPClient(&http.Client{Transport: tr}),
		push.WithClientOptions(remotewrite.WithUserAgent(userAgent(s.name))),
	}
	if identity {
		// Distinct ECS tasks, simulated: all six run on one host here, so
		// the host name would not tell them apart.
		opts = append(opts, push.WithService(s.name), push.WithInstance(s.name+"-task-1"))
	} else {
		opts = append(opts, push.WithoutIdentity())
	}
	p, err := push.New(d.WriteURL(), prometheus.Gatherers{s.reg, self}, opts...)
	if err != nil {
		return nil, fmt.Errorf("demo: %s: %w", s.name, err)
	}
	return &pusher{svc: s, p: p, self: self, tr: tr}, nil
}

// waitForInterval waits until just after the next interval boundary and
// returns that boundary in Unix milliseconds: the timestamp
// WithAlignedTimestamps gives every push of the round. Starting a tenth of
// an interval in leaves the rest of it for six pushes to land in the same
// interval, even on a slow machine.
func waitForInterval(ctx context.Context, interval time.Duration) (int64, error) {
	iv := interval.Milliseconds()
	now := time.Now()
	next := (now.UnixMilli()/iv + 1) * iv
	t := time.NewTimer(time.UnixMilli(next).Add(interval / 10).Sub(now))
	defer t.Stop()
	select {
	case <-t.C:
		return next, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func isRefusal(err error) bool {
	var rwErr *remotewrite.Error
	return errors.As(err, &rwErr) && rwErr.StatusCode/100 == 4 && rwErr.StatusCode != http.StatusTooManyRequests
}
