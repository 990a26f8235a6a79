package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rwkit/rwkit/collide"
	"github.com/rwkit/rwkit/wire"
)

func init() {
	register("collide", "list series that more than one writer would write, and the label that tells them apart", func(s stdio) command { return &collideCommand{stdio: s} })
	jsonCommands["collide"] = true
}

type collideCommand struct {
	stdio
	writers      listFlag
	labels       labelsFlag
	writerLabels writerLabelsFlag
	output       outputFlag
	limit        int
	timeout      time.Duration
}

const collideExample = `  # six services' /metrics, saved or live, before pointing them all at one workspace:
  rwkit collide auth=auth.txt actor=actor.txt bff=http://10.0.1.23:8080/q/metrics \
    document=document.txt notification=notification.txt audit=audit.txt --label env=prod
  # two replicas of auth (NAME is SERVICE/INSTANCE) and the fix checked before deploying:
  rwkit collide auth/1=auth-1.txt auth/2=auth-2.txt \
    --writer-label auth/1:instance=task-1 --writer-label auth/2:instance=task-2`

func (c *collideCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("collide [flags] [NAME=]SOURCE...",
		"Reads one exposition per writer (a file, - for stdin, or a /metrics URL to scrape), converts each into\n"+
			"exactly the series rwkit push would send, and lists the series that more than one writer would send,\n"+
			"grouped by metric, with the writers and the identity label that would tell them apart. A backend\n"+
			"stores one writer's sample per timestamp of such a series and refuses the others'\n"+
			"(new-value-for-timestamp, \"duplicate sample for timestamp\"). A writer whose own exposition yields\n"+
			"a series twice is flagged too.\n"+
			"NAME names the writer (default: the file or URL); NAME may be SERVICE/INSTANCE, and writers with\n"+
			"the same SERVICE are taken as replicas of one service (they need instance, not only service).\n"+
			"A URL's user:password@ is sent as basic auth and shown as user:xxxxx@ (secret query parameters too).\n"+
			"Exit codes: 0 nothing shared, 1 error, 2 usage, 3 collisions or duplicates found.",
		collideExample, c.err)
	fs.Var(&c.writers, "writer", "[NAME=]SOURCE of one writer, as the arguments; repeatable (env: comma-separated)")
	fs.Var(&c.labels, "label", "add name=value to every writer's series, as push --label would; repeatable (env: comma-separated)")
	fs.Var(&c.writerLabels, "writer-label", "NAME:name=value adds a label to one writer's series (wins over --label); repeatable, e.g. auth:service=auth")
	c.output = "text"
	fs.Var(&c.output, "output", "report format: text or json (the library's collide.Report)")
	fs.IntVar(&c.limit, "limit", 20, "text output: list at most this many colliding series (-1: all); JSON lists all")
	fs.DurationVar(&c.timeout, "timeout", time.Minute, "time limit for reading and scraping every source")
	fs.Init("collide", flag.ContinueOnError) // errors say "collide: ...", not the synopsis
	flagArgs, positional := splitPositional(fs, args)
	if err := parseFlags(fs, flagArgs, c.getenv); err != nil {
		return err
	}
	if err := checkPositive("collide", durationFlag{"--timeout", c.timeout}); err != nil {
		return err
	}
	if err := checkAtLeast("collide", "--limit", c.limit, -1); err != nil {
		return err
	}
	specs := append(append([]string(nil), c.writers...), positional...)
	sources, err := c.sources(specs)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	// One exposition in memory at a time, not every writer's series, and
	// the report printed from its compact form, never held whole.
	found, err := collide.FindSourcesCompact(ctx, nil, sources)
	if err != nil {
		return err
	}
	// What finding took (the finder's index and entries) is garbage now:
	// collected and handed back before printing, so that printing's own
	// garbage (--output json's, a collision at a time) reuses none of it and
	// does not add to the peak (issue 18: 224 MB peak for a JSON report of
	// 271,300 collisions without this, 170 to 190 with it).
	debug.FreeOSMemory()
	rep := found.Summary()
	if c.output == "json" {
		c.setResult(found) // writeEnvelope streams it (Found.WriteJSON)
	} else {
		writeCollideText(c.out, found, c.limit)
	}
	switch rep.Result {
	case collide.ResultCollisions:
		return reportedError(exitFound, fmt.Errorf("collide: %d series in %d metrics would be written by more than one writer; add %s",
			found.NumCollisions(), len(rep.ByMetric), strings.Join(rep.Suggest, " and ")))
	case collide.ResultDuplicates:
		return reportedError(exitFound, fmt.Errorf("collide: %d series repeated within one writer's own exposition", len(rep.Duplicates)))
	}
	return nil
}

// splitPositional separates writer arguments from flags so that they may be
// mixed (rwkit collide a.txt --label env=prod b.txt); the flag package
// stops at the first argument that is not a flag.
func splitPositional(fs *flag.FlagSet, args []string) (flags, positional []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return flags, append(positional, args[i+1:]...)
		}
		if a == "-" || !strings.HasPrefix(a, "-") {
			positional = append(positional, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			continue // Parse reports it
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			continue
		}
		if i+1 < len(args) {
			flags = append(flags, args[i+1])
			i++
		}
	}
	return flags, positional
}

// sources parses the writer specs and gives each its labels: --label,
// then its --writer-label ones over them.
func (c *collideCommand) sources(specs []string) ([]collide.Source, error) {
	if len(specs) == 0 {
		return nil, flagUsagef("--writer", "collide: give at least one writer: [NAME=]FILE or [NAME=]URL (or --writer, RWKIT_WRITER)")
	}
	named := map[string]bool{}
	var sources []collide.Source
	stdin := false
	for _, spec := range specs {
		s, err := collide.ParseSource(spec)
		if err != nil {
			return nil, flagUsagef("--writer", "collide: %v", err)
		}
		if strings.Contains(s.Location, "://") {
			if err := checkURLFlag("collide", "writer "+s.Name, s.Location); err != nil {
				return nil, flagUsagef("--writer", "%s", errorMessage(err))
			}
		}
		if named[s.Name] {
			return nil, flagUsagef("--writer", "collide: writer name %q given twice; name each writer: NAME=SOURCE", s.Name)
		}
		if s.Location == "-" {
			if stdin {
				return nil, flagUsagef("--writer", "collide: only one writer can read stdin (-)")
			}
			stdin = true
			s.In = c.in
		}
		named[s.Name] = true
		sources = append(sources, s)
	}
	for name := range c.writerLabels {
		if !named[name] {
			return nil, flagUsagef("--writer-label", "collide: --writer-label %s:...: no writer is named %q", name, name)
		}
	}
	for i := range sources {
		merged := map[string]string{}
		for k, v := range c.labels {
			merged[k] = v
		}
		for k, v := range c.writerLabels[sources[i].Name] {
			merged[k] = v
		}
		for k, v := range merged {
			sources[i].Labels = append(sources[i].Labels, wire.Label{Name: k, Value: v})
		}
	}
	return sources, nil
}

// writerLabelsFlag collects repeated --writer-label NAME:label=value flags.
type writerLabelsFlag map[string]labelsFlag

func (f *writerLabelsFlag) String() string {
	if f == nil || len(*f) == 0 {
		return ""
	}
	var parts []string
	for name, ls := range *f {
		for k, v := range ls {
			parts = append(parts, name+":"+k+"="+v)
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func (f *writerLabelsFlag) Set(s string) error {
	left, value, ok := strings.Cut(s, "=")
	// Label names have no ':', writer names (URLs) may: split at the last.
	i := strings.LastIndexByte(left, ':')
	if !ok || i <= 0 || i == len(left)-1 {
		return fmt.Errorf("writer label %q: want WRITER:name=value", s)
	}
	if *f == nil {
		*f = map[string]labelsFlag{}
	}
	ls := (*f)[left[:i]]
	if err := ls.Set(left[i+1:] + "=" + value); err != nil {
		return err
	}
	(*f)[left[:i]] = ls
	return nil
}

// writeCollideText prints what was found for people; --output json prints
// its Report.
func writeCollideText(w io.Writer, found *collide.Found, limit int) {
	rep := found.Summary()
	total := found.NumCollisions()
	switch rep.Result {
	case collide.ResultCollisions:
		fmt.Fprintf(w, "rwkit collide: %d series in %d metrics would be written by more than one writer\n", total, len(rep.ByMetric))
		fmt.Fprintln(w, "  A backend keeps one writer's sample per timestamp of each and refuses the others'")
		fmt.Fprintln(w, "  (AMP/Cortex: new-value-for-timestamp; Prometheus: duplicate sample for timestamp).")
	case collide.ResultDuplicates:
		fmt.Fprintln(w, "rwkit collide: no series is shared between writers, but a writer repeats its own series")
	default:
		fmt.Fprintln(w, "rwkit collide: no series would be written by more than one writer")
	}

	if len(rep.ByMetric) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "METRIC\tSERIES\tWRITERS\tADD")
		for _, m := range rep.ByMetric {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", m.Name, m.Series, writerList(m.Writers), strings.Join(m.Suggest, "+"))
		}
		tw.Flush()

		n := total
		if limit >= 0 && limit < n {
			n = limit
		}
		if n > 0 {
			fmt.Fprintln(w)
			tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			head := "COLLIDING SERIES"
			if n < total {
				head = fmt.Sprintf("COLLIDING SERIES (first %d of %d; --limit -1 or --output json for all)", n, total)
			}
			fmt.Fprintf(tw, "%s\tWRITERS\n", head)
			for i := range n {
				c := found.Collision(i)
				fmt.Fprintf(tw, "%s\t%s\n", wire.SeriesString(c.Labels), writerList(c.Writers))
			}
			tw.Flush()
		}
	}

	if len(rep.Duplicates) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "A writer's own exposition yields these series more than once, so push refuses its whole request")
		fmt.Fprintln(w, "(gather: duplicate series): two meters registered under one name and labels, or a metric named like")
		fmt.Fprintln(w, "a histogram's or summary's _sum/_count/_bucket. Rename or drop one.")
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "WRITER\tDUPLICATE SERIES\tTIMES")
		for _, d := range rep.Duplicates {
			fmt.Fprintf(tw, "%s\t%s\t%d\n", d.Writer, wire.SeriesString(d.Labels), d.Count)
		}
		tw.Flush()
	}

	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WRITER\tSOURCE\tSERIES\tCOLLIDING\tDUPLICATES\tLABELS")
	for _, wr := range rep.Writers {
		labels := make([]string, len(wr.Labels))
		for i, l := range wr.Labels {
			labels[i] = l.Name + "=" + l.Value
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\n", wr.Name, wr.Source, wr.Series, wr.Colliding, wr.Duplicates, strings.Join(labels, ","))
	}
	tw.Flush()

	if rep.Advice != "" {
		fmt.Fprintf(w, "\nfix: add %s: %s\n", strings.Join(rep.Suggest, " and "), rep.Advice)
	}
	fmt.Fprintf(w, "\nsummary: %d writers, %d series sent (%d distinct), %d colliding series in %d metrics, up to %d samples refused per round of pushes, %d duplicate series\n",
		len(rep.Writers), rep.Series, rep.Distinct, total, len(rep.ByMetric), rep.Excess, len(rep.Duplicates))
}

// writerList shows up to four writer names and how many more there are.
func writerList(names []string) string {
	const show = 4
	if len(names) <= show {
		return fmt.Sprintf("%d: %s", len(names), strings.Join(names, ", "))
	}
	return fmt.Sprintf("%d: %s, ... (+%d)", len(names), strings.Join(names[:show], ", "), len(names)-show)
}
