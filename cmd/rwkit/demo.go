package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rwkit/rwkit/cmd/rwkit/internal/demo"
	"github.com/rwkit/rwkit/verify"
	"github.com/rwkit/rwkit/workspace"
)

func init() {
	register("demo", "the seed incident replayed locally: six services, one workspace, 400s and collisions; then fixed",
		func(s stdio) command { return &demoCommand{stdio: s} })
	jsonCommands["demo"] = true
}

type demoCommand struct {
	stdio
	rounds   int
	interval time.Duration
	output   outputFlag
	keep     bool

	// Tests set these.
	phase1Identity bool          // replay nothing: the story must then fail
	kept           chan<- string // receives the workspace URL once --keep serves it
}

const demoExample = `  rwkit demo                         # about 10s; exit 0 when the story holds
  rwkit demo --rounds 5 --output json
  rwkit demo --keep                  # then query it, e.g.:
  rwkit verify --query-url http://127.0.0.1:<port>/workspaces/ws-demo --query 'count by (service) (jvm_threads_live_threads)'`

// maxCollisionRows bounds the collisions table of the text report.
const maxCollisionRows = 5

func (c *demoCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("demo [--rounds N] [--interval D] [--keep]",
		"Replays the incident rwkit exists for, in one process: a workspace with AMP's limits on a free loopback port,\n"+
			"and six services (auth, actor, document, notification, audit, bff), each with its own registry (Go and\n"+
			"process collectors, jvm_threads_live_threads, jvm_memory_used_bytes, http_server_requests_seconds, push's\n"+
			"self-metrics), pushing through the push library to the workspace's AMP-shaped URL, all at once each round.\n"+
			"Phase 1, as the seed's team did: push.WithoutIdentity() and push.WithAlignedTimestamps(): every service\n"+
			"stamps the same millisecond on the same series: 400s, new-value-for-timestamp discards, collisions naming\n"+
			"both writers. Phase 2: the default identity (service, instance), same schedule, same timestamps: no\n"+
			"discards, and PromQL count by (service) shows six services. Phase 3, the right way to run two writers of\n"+
			"one series: auth pushed by an HA pair (cluster and __replica__ labels, the same series from both), which\n"+
			"the workspace deduplicates as AMP does: one replica stored without __replica__, the other answered 202.\n"+
			"Exit codes: 0 every phase behaved as described, 1 one did not (the checks say which) or the demo could\n"+
			"not run, 2 usage.",
		demoExample, c.err)
	fs.IntVar(&c.rounds, "rounds", demo.DefaultRounds, "pushes per service in each phase")
	fs.DurationVar(&c.interval, "interval", demo.DefaultInterval, "push interval the timestamps are aligned to; one round per interval")
	c.output = "text"
	fs.Var(&c.output, "output", "report format: text or json")
	fs.BoolVar(&c.keep, "keep", false, "keep serving the workspace after the demo, until interrupted, to query it")
	if err := parseFlags(fs, args, c.getenv); err != nil {
		return err
	}
	switch {
	case c.rounds < 1 || c.rounds > 100:
		return flagUsagef("--rounds", "demo: --rounds: want 1 to 100, got %d", c.rounds)
	case c.interval < 100*time.Millisecond || c.interval > time.Minute || c.interval%time.Millisecond != 0:
		return flagUsagef("--interval", "demo: --interval: want whole milliseconds from 100ms to 1m, got %s", c.interval)
	}

	d, err := demo.Start(ctx, demo.Options{Rounds: c.rounds, Interval: c.interval, Phase1Identity: c.phase1Identity})
	if err != nil {
		return err
	}
	rep, runErr := d.Run(ctx)
	if runErr != nil {
		_ = d.Close()
		if errors.Is(runErr, context.Canceled) {
			return fmt.Errorf("demo: interrupted")
		}
		return runErr
	}
	outcome := storyOutcome(rep)
	if c.output == "json" {
		c.setResult(rep)
	} else {
		writeDemoText(c.out, rep)
	}
	if c.keep {
		w := c.out
		if c.output == "json" {
			// The report is complete: print it now rather than when
			// interrupted, and keep stdout one JSON document.
			if c.json != nil {
				writeEnvelope(c.out, rep, outcome, exitCode(stdio{err: io.Discard}, outcome))
				c.json.printed = true
			}
			w = c.err
		}
		fmt.Fprintf(w, "\nworkspace still serving (--keep) until interrupted:\n  page       %s/\n  query API  %s\n  metrics    %s/metrics\n  collisions %s/api/v1/collisions\n",
			d.QueryURL(), d.QueryURL(), d.BaseURL(), d.QueryURL())
		if c.kept != nil {
			c.kept <- d.QueryURL()
		}
		<-ctx.Done()
		// The outcome is printed and decides the exit code; a failure to
		// close after it is only logged.
		if err := d.Close(); err != nil {
			fmt.Fprintf(c.err, "rwkit: demo: closing the workspace: %v\n", err)
		}
		return outcome
	}
	if err := d.Close(); err != nil {
		return err
	}
	return outcome
}

// storyOutcome is nil when every check of the demo held, else an error
// naming the checks that did not.
func storyOutcome(rep *demo.Report) error {
	if rep.Pass {
		return nil
	}
	var failed []string
	for _, ch := range rep.Checks {
		if !ch.Pass {
			failed = append(failed, fmt.Sprintf("%s (got %s)", ch.Name, ch.Got))
		}
	}
	return &exitError{code: exitFailed, err: fmt.Errorf("demo: the story did not hold: %s", strings.Join(failed, "; "))}
}

func writeDemoText(w io.Writer, r *demo.Report) {
	fmt.Fprintln(w, "rwkit demo: six services push the same metrics to one AMP workspace (the seed incident), then the fix")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  workspace\t%s (limits %s; local, in this process)\n", r.Workspace, r.Limits)
	fmt.Fprintf(tw, "  services\t%s: each its own registry and connections, pushing with package push\n", strings.Join(r.Services, ", "))
	fmt.Fprintf(tw, "  schedule\t%d rounds per phase, all six at once each round, timestamps aligned to %s\n", r.Rounds, r.Interval)
	tw.Flush()
	for i := range r.Phases {
		writePhaseText(w, i+1, &r.Phases[i])
	}
	if r.HAPair != nil {
		writeHAText(w, len(r.Phases)+1, r.HAPair)
	}

	fmt.Fprintln(w, "\nchecks")
	writeCheckTable(w, "CHECK", r.Checks, func(ch demo.Check) (string, bool, string) { return ch.Name, ch.Pass, ch.Got })
	verdict := "the story holds: identical series from six writers were refused, identity labels fixed it"
	if !r.Pass {
		verdict = "the story did NOT hold (see FAIL above)"
	}
	fmt.Fprintf(w, "\nrwkit demo: %s (%.1fs)\n", verdict, r.Seconds)
}

func writePhaseText(w io.Writer, n int, p *demo.PhaseReport) {
	fmt.Fprintf(w, "\nphase %d: %s\n", n, p.Name)
	fmt.Fprintf(w, "  %s; batch timestamps %s\n", strings.Join(p.Options, ", "), joinInts(p.Timestamps))
	writePhaseServices(w, p)
	writePhaseDiscards(w, p)
	writePhaseCollisions(w, p)
	if q := p.Query; q != nil {
		writePhaseQuery(w, q, p.Identity)
	}
}

// writeHAText prints the third act: what each replica of the HA pair was
// answered, what the workspace kept, and the series PromQL sees.
func writeHAText(w io.Writer, n int, h *demo.HAReport) {
	fmt.Fprintf(w, "\nphase %d: %s\n", n, h.Name)
	fmt.Fprintf(w, "  %s\n", strings.Join(h.Options, ", "))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  REPLICA\tANSWERS\n")
	for _, r := range h.Replicas {
		role := "deduplicated: answered 202, not stored"
		if r.Replica == h.Elected {
			role = "elected: stored, without __replica__"
		}
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(r.Status)) {
			parts = append(parts, fmt.Sprintf("%d x %s", r.Status[k], k))
		}
		fmt.Fprintf(tw, "  %s\t%s (%s)\n", r.Replica, strings.Join(parts, ", "), role)
	}
	tw.Flush()
	discards := "none"
	if len(h.Discards) > 0 {
		var parts []string
		for _, d := range h.Discards {
			parts = append(parts, fmt.Sprintf("%s=%s", d.Reason, formatSampleValue(d.Samples)))
		}
		discards = strings.Join(parts, ", ")
	}
	fmt.Fprintf(w, "\n  workspace: %s samples received, %s accepted, %s deduplicated (rwkit_ha_deduplicated_samples_total; not discards); discards: %s; collisions: %d\n",
		formatSampleValue(h.Received), formatSampleValue(h.Accepted), formatSampleValue(h.Deduplicated), discards, h.Collisions)
	if q := h.Query; q != nil {
		fmt.Fprintf(w, "\n  PromQL  %s\n", q.Query)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  SERIES\tVALUE\n")
		for _, s := range q.Samples {
			fmt.Fprintf(tw, "  %s\t%s\n", verify.LabelString(s.Labels), formatSampleValue(s.Value))
		}
		tw.Flush()
	}
}

// writePhaseServices prints the services' own view, from each pusher's
// self-metrics. A refused write's samples are all counted by its reason:
// the client cannot know that the backend kept the valid rest (the
// workspace's counts, writePhaseDiscards).
func writePhaseServices(w io.Writer, p *demo.PhaseReport) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  SERVICE\tWRITES OK\tREFUSED (400)\tSAMPLES IN REFUSED WRITES\n")
	for _, s := range append(p.Services, p.Total) {
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%s\n", s.Service, s.Delivered, s.Refused, reasonCounts(s.RefusedSamples))
	}
	tw.Flush()
	if p.Total.Failed > 0 {
		fmt.Fprintf(w, "  %d writes failed or were retried (not refusals)\n", p.Total.Failed)
	}
	for _, e := range p.Errors {
		fmt.Fprintf(w, "  error: %s\n", e)
	}
	if f := p.FirstRefusal; f != nil {
		fmt.Fprintf(w, "  a refusal as %s saw it: HTTP %d, reason %s\n", f.Service, f.Status, orDefault(f.Reason, "-"))
		for i, line := range strings.Split(strings.TrimSpace(f.Body), "\n") {
			if i == 3 {
				break
			}
			fmt.Fprintf(w, "    %s\n", truncate(line, 220))
		}
	}
}

// writePhaseDiscards prints what the workspace received, accepted and
// discarded, by reason.
func writePhaseDiscards(w io.Writer, p *demo.PhaseReport) {
	fmt.Fprintf(w, "\n  workspace: %s samples received, %s accepted; discards by reason (AMP: CloudWatch DiscardedSamples by Reason):",
		formatSampleValue(p.Received), formatSampleValue(p.Accepted))
	if len(p.Discards) == 0 {
		fmt.Fprintln(w, " none")
		return
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  REASON\tSAMPLES\tHINT\n")
	for _, d := range p.Discards {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", d.Reason, formatSampleValue(d.Samples), orDefault(d.Hint, "-"))
	}
	tw.Flush()
}

// writePhaseCollisions prints the collisions the workspace attributed to
// writers, by kind, and the top series.
func writePhaseCollisions(w io.Writer, p *demo.PhaseReport) {
	if len(p.Collisions) == 0 {
		fmt.Fprintln(w, "  collisions: none")
		return
	}
	var kinds []string
	if n := p.CollisionsByKind[workspace.KindNewValueForTimestamp]; n > 0 {
		kinds = append(kinds, fmt.Sprintf("%d refused (%s)", n, workspace.KindNewValueForTimestamp))
	}
	if n := p.CollisionsByKind[workspace.KindAlternatingWriters]; n > 0 {
		kinds = append(kinds, fmt.Sprintf("%d accepted, the stored series zig-zagging between writers (%s)", n, workspace.KindAlternatingWriters))
	}
	fmt.Fprintf(w, "\n  collisions, attributed to writers (AMP names none); pairs of writers on one series: %s. Top series:\n", strings.Join(kinds, ", "))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  SERIES\tKIND\tSERVICES\tPAIRS\tLATEST\n")
	for i, c := range p.Collisions {
		if i == maxCollisionRows {
			break
		}
		then := "refused"
		if c.Kind == workspace.KindAlternatingWriters {
			then = "accepted"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%d\t%s wrote %s, then %s sent %s: %s\n", c.Series, c.Kind, len(c.Services), c.Pairs,
			orDefault(c.ExistingService, "?"), c.ExistingValue, orDefault(c.NewService, "?"), c.NewValue, then)
	}
	tw.Flush()
	if c := p.Collisions[0]; c.ExistingWriter != "" {
		fmt.Fprintf(w, "  writers as the workspace names them: %s, then %s\n", c.ExistingWriter, c.NewWriter)
	}
}

// writePhaseQuery prints the phase's PromQL query, its series sorted, a
// note on each series without a service label, and its expectations.
// identity says whether the phase pushed with identity labels.
func writePhaseQuery(w io.Writer, q *demo.QueryProof, identity bool) {
	fmt.Fprintf(w, "\n  PromQL  %s\n", q.Query)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  SERIES\tVALUE\n")
	samples := append([]verify.Sample(nil), q.Samples...)
	sort.Slice(samples, func(i, j int) bool {
		return verify.LabelString(samples[i].Labels) < verify.LabelString(samples[j].Labels)
	})
	for _, s := range samples {
		note := ""
		if s.Labels["service"] == "" {
			note = "\tone series for all six services: no service label"
			if identity {
				note = "\tphase 1's series (no service label), still within the 5m lookback"
			}
		}
		fmt.Fprintf(tw, "  %s\t%s%s\n", verify.LabelString(s.Labels), formatSampleValue(s.Value), note)
	}
	tw.Flush()
	for _, o := range q.Checks {
		fmt.Fprintf(w, "  expect %s: %s (%s)\n", o.Expectation, passText(o.Pass), o.Got)
	}
}

func reasonCounts(m map[string]float64) string {
	if len(m) == 0 {
		return "0"
	}
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = formatSampleValue(m[k]) + " " + k
	}
	return strings.Join(parts, ", ")
}

func joinInts(v []int64) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
