package main

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rwkit/rwkit/cmd/rwkit/internal/demo"
	"github.com/rwkit/rwkit/verify"
)

// The demo's timing is not tight: each round starts a tenth of an interval
// after a boundary, and one push's timestamp is taken when it starts, so
// six goroutines have nine tenths of a second to start. Nothing here waits
// on the clock beyond that; the deadlines are generous for a loaded machine.

func TestDemoStoryHolds(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a workspace and six pushers for a few seconds")
	}
	out, stderr, code := runCLI(t, nil, nil, "demo", "--rounds", "2")
	if code != exitOK {
		t.Fatalf("exit code %d, want 0; stderr:\n%s\nstdout:\n%s", code, stderr, out)
	}
	for _, want := range []string{
		"phase 1: without identity labels",
		"push.WithoutIdentity(), push.WithAlignedTimestamps()",
		"REFUSED (400)",
		"HTTP 400, reason new-value-for-timestamp",
		"duplicate sample for timestamp",
		"new-value-for-timestamp  ", // the discards table
		"one series for all six services",
		"phase 2: with the default identity",
		`push.WithService(name), push.WithInstance(name+"-task-1")`,
		"discards by reason (AMP: CloudWatch DiscardedSamples by Reason): none",
		"expect distinct service = 6: pass (6 values: actor, audit, auth, bff, document, notification)",
		"phase 3: an HA pair of auth: two replicas, the same series",
		`push.WithLabels({cluster: "auth-ha", __replica__: replica})`,
		"deduplicated (rwkit_ha_deduplicated_samples_total; not discards); discards: none; collisions: 0",
		`PromQL  count by (cluster, __replica__) (jvm_threads_live_threads{cluster="auth-ha"})`,
		"rwkit demo: the story holds",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	// Tables are aligned to their widest cell: match rows loosely.
	for _, re := range []string{
		`(?m)^  jvm_threads_live_threads +new-value-for-timestamp +6 +\d+ +\w+ wrote \d+, then \w+ sent \d+: refused$`,
		`(?m)^  \{service="notification"\} +1 *$`,
		`(?m)^  total +2 +10 +\d+ new-value-for-timestamp$`, // per round: one write stored first, five refused
		`(?m)^  total +12 +0 +0$`,
		// The HA pair: one replica elected, the other answered 202.
		`(?m)^  replica-[12] +2 x 200 \(elected: stored, without __replica__\)$`,
		`(?m)^  replica-[12] +2 x 202 \(deduplicated: answered 202, not stored\)$`,
		`(?m)^  \{cluster="auth-ha"\} +1$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("report has no line matching %s:\n%s", re, out)
		}
	}
	if strings.Contains(out, "FAIL") {
		t.Errorf("a check failed:\n%s", out)
	}
}

func TestDemoJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a workspace and six pushers for a few seconds")
	}
	out, stderr, code := runCLI(t, nil, nil, "demo", "--rounds", "1", "--output", "json")
	if code != exitOK {
		t.Fatalf("exit code %d, want 0; stderr:\n%s", code, stderr)
	}
	var rep demo.Report
	if err := unmarshalResult([]byte(out), &rep); err != nil {
		t.Fatalf("not one JSON report: %v\n%s", err, out)
	}
	if !rep.Pass || len(rep.Phases) != 2 || len(rep.Checks) != 6 || rep.HAPair == nil {
		t.Fatalf("pass %v, %d phases, %d checks, HA pair %v, want true, 2, 6, one:\n%s", rep.Pass, len(rep.Phases), len(rep.Checks), rep.HAPair != nil, out)
	}
	if h := rep.HAPair; h.Elected == "" || h.Deduplicated == 0 || len(h.Discards) != 0 {
		t.Errorf("HA pair: elected %q, %g deduplicated, %g accepted, discards %v; want one elected, some deduplicated, no discards",
			h.Elected, h.Deduplicated, h.Accepted, h.Discards)
	}
	p1, p2 := rep.Phases[0], rep.Phases[1]
	if p1.Identity || !p2.Identity {
		t.Errorf("identity per phase = %v, %v; want false, true", p1.Identity, p2.Identity)
	}
	// Six writers at one timestamp: one is stored first, the other five
	// are refused (each a partial ingestion).
	if p1.Total.Refused != 5 || p1.Total.Delivered != 1 {
		t.Errorf("phase 1: %d writes ok, %d refused; want 1 and 5", p1.Total.Delivered, p1.Total.Refused)
	}
	if p2.Total.Refused != 0 || p2.Total.Delivered != 6 || len(p2.Discards) != 0 {
		t.Errorf("phase 2: %d ok, %d refused, discards %v; want 6, 0, none", p2.Total.Delivered, p2.Total.Refused, p2.Discards)
	}
	if p1.FirstRefusal == nil || p1.FirstRefusal.Status != http.StatusBadRequest {
		t.Errorf("phase 1 first refusal = %+v, want a 400", p1.FirstRefusal)
	}
	if len(p1.Collisions) == 0 || p1.Collisions[0].Series != "jvm_threads_live_threads" || len(p1.Collisions[0].Services) != 6 {
		t.Errorf("phase 1 top collision = %+v, want jvm_threads_live_threads from six services", p1.Collisions)
	}
}

// TestDemoStoryFails proves the exit code means something: with identity
// labels in the first phase too, nothing collides, and the demo says the
// story did not hold and exits 1.
func TestDemoStoryFails(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a workspace and six pushers for a few seconds")
	}
	s, out, errOut := bufferedStdio(nil)
	cmd := &demoCommand{stdio: s, phase1Identity: true}
	code := exitCode(s, cmd.Run(context.Background(), []string{"--rounds", "1"}))
	if code != exitFailed {
		t.Fatalf("exit code %d, want 1\n%s\n%s", code, errOut, out)
	}
	for _, want := range []string{
		"phase 1: new-value-for-timestamp discards > 0                            FAIL    0",
		"phase 1: a refused collision names two different services                FAIL    none",
		"phase 2: no new discards                                                 pass",
		"phase 3: HA pair: one replica stored, the other 202, no discards         pass",
		"the story did NOT hold",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut.String(), "rwkit: demo: the story did not hold: phase 1: new-value-for-timestamp discards > 0 (got 0)") {
		t.Errorf("stderr does not say what failed:\n%s", errOut)
	}
}

// TestDemoKeep: --keep serves the workspace after the report until the
// context ends, and it answers queries.
func TestDemoKeep(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a workspace and six pushers for a few seconds")
	}
	kept := make(chan string, 1)
	d := start(t, nil, func(s stdio) command { return &demoCommand{stdio: s, kept: kept} }, "--rounds", "1", "--keep")
	base := d.await(t, "demo", kept, 2*time.Minute)
	out := d.out
	qctx, qcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer qcancel()
	res, err := verify.Query(qctx, &http.Client{}, base, demo.Query, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if o := verify.Check(res, []verify.Expectation{verify.ExpectDistinct("service", 6)}); !verify.Passed(o) {
		t.Errorf("kept workspace: %+v", o)
	}
	if !strings.Contains(out.String(), "workspace still serving (--keep)") {
		t.Errorf("no --keep notice:\n%s", out)
	}
	if !strings.Contains(out.String(), "page       "+base+"/\n") {
		t.Errorf("--keep does not print the page's address %s/:\n%s", base, out)
	}
	page, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	page.Body.Close()
	if page.StatusCode != http.StatusOK {
		t.Errorf("the demo workspace's page %s/: %d, want 200", base, page.StatusCode)
	}
	if code := exitCode(d.stdio, d.stop(t, time.Minute)); code != exitOK {
		t.Errorf("exit code %d after interrupt, want 0 (the story held)\n%s", code, d.errOut)
	}
}

func TestDemoUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"demo", "--rounds", "0"}, "--rounds: want 1 to 100, got 0"},
		{[]string{"demo", "--interval", "50ms"}, "--interval: want whole milliseconds from 100ms to 1m, got 50ms"},
		{[]string{"demo", "--interval", "1500us"}, "whole milliseconds"},
		{[]string{"demo", "--output", "yaml"}, `output "yaml"`},
		{[]string{"demo", "extra"}, `unexpected argument "extra"`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, stderr, code := runCLI(t, nil, nil, tc.args...)
			if code != exitUsage || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tc.want)
			}
		})
	}
	if _, stderr, code := runCLI(t, nil, nil, "demo", "-h"); code != exitOK || !strings.Contains(stderr, "Example:") {
		t.Errorf("demo -h: exit %d, want 0 and an example:\n%s", code, stderr)
	}
}

// With --keep and --output json, the envelope is on stdout once the report
// is ready, while the workspace still serves, and nothing follows it.
func TestDemoKeepJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a workspace and six pushers")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	kept := make(chan string, 1)
	s, out, errOut := bufferedStdio(nil)
	done := make(chan int, 1)
	go func() {
		done <- runCommand(ctx, s, "demo", func(s stdio) command { return &demoCommand{stdio: s, kept: kept} },
			[]string{"--rounds", "1", "--interval", "100ms", "--keep", "--output", "json"})
	}()
	select {
	case <-kept:
	case code := <-done:
		t.Fatalf("demo ended (exit %d) before serving\n%s\n%s", code, errOut, out)
	case <-time.After(2 * time.Minute):
		t.Fatal("demo not serving after 2 minutes")
	}
	var rep demo.Report
	if err := unmarshalResult([]byte(out.String()), &rep); err != nil || !rep.Pass {
		t.Fatalf("stdout while serving: %v, pass %v\n%s", err, rep.Pass, out)
	}
	printed := out.String()
	cancel()
	select {
	case code := <-done:
		if code != exitOK || out.String() != printed {
			t.Errorf("exit %d after interrupt; stdout grew:\n%s", code, strings.TrimPrefix(out.String(), printed))
		}
	case <-time.After(time.Minute):
		t.Fatal("demo did not stop after its context ended")
	}
	if !strings.Contains(errOut.String(), "workspace still serving (--keep)") {
		t.Errorf("no --keep notice on stderr:\n%s", errOut)
	}
}
