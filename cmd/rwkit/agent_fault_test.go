package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rwkit/rwkit/internal/agentdiff"
	"github.com/rwkit/rwkit/internal/faultproxy"
)

// runAgentFor runs the agent in flag mode against target, writing through
// a fault proxy to rc, applies fault for the run's middle, and returns
// after the agent stopped.
func runAgentFor(t *testing.T, rc *agentdiff.Receiver, fault faultproxy.Fault, faultFor time.Duration, extra ...string) (stdout, stderr string) {
	t.Helper()
	reg := prometheus.NewRegistry()
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "app_temperature", Help: "A gauge."})
	g.Set(21)
	reg.MustRegister(g)
	targetURL := serveHTTP(t, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	px, err := faultproxy.New(strings.TrimSuffix(rc.URL, "/api/v1/write"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { px.Close() })

	args := append([]string{"--url", px.URL() + "/api/v1/write", "--scrape", "app=" + targetURL, "--instance", "i-1",
		"--interval", "200ms", "--stale-markers=false", "--shutdown-timeout", "20s"}, extra...)
	agent := start(t, nil, func(s stdio) command { return &agentCommand{stdio: s} }, args...)
	time.Sleep(600 * time.Millisecond)
	if err := px.Set(fault); err != nil {
		t.Fatal(err)
	}
	time.Sleep(faultFor)
	if fault.Mode != faultproxy.Delay || faultFor < 3*time.Second {
		px.Clear()
		time.Sleep(600 * time.Millisecond)
	}
	// A long Delay is still on: a request is in flight as the agent stops.
	if err := agent.stop(t, 60*time.Second); err != nil {
		t.Fatalf("agent exited with %v\n%s", err, agent.errOut)
	}
	return agent.out.String(), agent.errOut.String()
}

// upTimestamps returns the timestamps of every up sample received, and
// fails on a sample received twice.
func upTimestamps(t *testing.T, rc *agentdiff.Receiver) []int64 {
	t.Helper()
	seen := map[string]bool{}
	var up []int64
	for _, s := range rc.Samples() {
		k := fmt.Sprintf("%s@%d", s.Key, s.Timestamp)
		if seen[k] {
			t.Errorf("received twice: %s", k)
		}
		seen[k] = true
		if strings.HasPrefix(s.Key, "up{") {
			up = append(up, s.Timestamp)
		}
	}
	slices.Sort(up)
	return up
}

// noGaps fails when consecutive scrapes are further apart than the
// interval allows: a scrape held up behind a slow push (the old agent
// skipped every tick a slow push overran: 1s gaps at 200ms) shows; a
// scheduling hiccup of a loaded machine does not.
func noGaps(t *testing.T, ts []int64, interval time.Duration) {
	t.Helper()
	for i := 1; i < len(ts); i++ {
		if gap := time.Duration(ts[i]-ts[i-1]) * time.Millisecond; gap > interval*5/2 {
			t.Errorf("scrapes at %d and %d: %s apart, want about %s (a scrape is missing)", ts[i-1], ts[i], gap, interval)
		}
	}
}

// A receiver slower than the scrape interval (every answer held 1s, the
// interval 200ms): every scrape is delivered, once; no request is cancelled
// and sent again, none is skipped.
func TestAgentSlowReceiverNoDuplicates(t *testing.T) {
	rc := agentdiff.NewReceiver(t)
	runAgentFor(t, rc, faultproxy.Fault{Mode: faultproxy.Delay, Delay: time.Second}, 2*time.Second)
	up := upTimestamps(t, rc)
	if len(up) < 10 {
		t.Fatalf("%d scrapes received, want at least 10 in 3.2s at 200ms", len(up))
	}
	noGaps(t, up, 200*time.Millisecond)
}

// The receiver down (503) for 10 intervals: the queue backs off, keeps
// every scrape, and delivers them all, once, in order, when it is back.
func TestAgentReceiverDownTenIntervals(t *testing.T) {
	rc := agentdiff.NewReceiver(t)
	_, stderr := runAgentFor(t, rc, faultproxy.Fault{Mode: faultproxy.Status, Status: 503}, 2*time.Second)
	up := upTimestamps(t, rc)
	if len(up) < 12 {
		t.Fatalf("%d scrapes received, want at least 12 in 3.2s at 200ms", len(up))
	}
	noGaps(t, up, 200*time.Millisecond)
	if got := strings.Count(stderr, "cannot deliver to the backend"); got != 1 {
		t.Errorf("the outage was logged %d times, want once:\n%s", got, stderr)
	}
	if !strings.Contains(stderr, "backend reachable again") {
		t.Errorf("the recovery was not logged:\n%s", stderr)
	}
	// Oldest first: the receiver got the scrapes in time order.
	var arrival []int64
	for _, s := range rc.Samples() {
		if strings.HasPrefix(s.Key, "up{") {
			arrival = append(arrival, s.Timestamp)
		}
	}
	if !slices.IsSorted(arrival) {
		t.Errorf("scrapes arrived out of order: %v", arrival)
	}
}

// Stopped while a slow request is in flight: shutdown lets it finish
// rather than aborting it (the receiver would store it, and the retry
// would store it again), then delivers the rest.
func TestAgentStopDuringSlowRequest(t *testing.T) {
	rc := agentdiff.NewReceiver(t)
	stdout, _ := runAgentFor(t, rc, faultproxy.Fault{Mode: faultproxy.Delay, Delay: 700 * time.Millisecond}, 3*time.Second)
	up := upTimestamps(t, rc)
	if len(up) < 12 {
		t.Fatalf("%d scrapes received, want at least 12", len(up))
	}
	noGaps(t, up, 200*time.Millisecond)
	if !strings.Contains(stdout, "stopped after delivering everything queued") {
		t.Errorf("stdout:\n%s", stdout)
	}
}
