package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/rwkit/rwkit/collide"
	"github.com/rwkit/rwkit/gather"
	"github.com/rwkit/rwkit/scrape"
	"github.com/rwkit/rwkit/wire"
)

func init() {
	register("collide", "list series that more than one writer would write, and the label that tells them apart", func(s stdio) command { return &collideCommand{stdio: s} })
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
			"Exit codes: 0 nothing shared, 1 error, 2 usage, 3 collisions or duplicates found.",
		collideExample, c.err)
	fs.Var(&c.writers, "writer", "[NAME=]SOURCE of one writer, as the arguments; repeatable (env: comma-separated)")
	fs.Var(&c.labels, "label", "add name=value to every writer's series, as push --label would; repeatable (env: comma-separated)")
	fs.Var(&c.writerLabels, "writer-label", "NAME:name=value adds a label to one writer's series (wins over --label); repeatable, e.g. auth:service=auth")
	c.output = "text"
	fs.Var(&c.output, "output", "report format: text or json")
	fs.IntVar(&c.limit, "limit", 20, "text output: list at most this many colliding series (-1: all); JSON lists all")
	fs.DurationVar(&c.timeout, "timeout", time.Minute, "time limit for reading and scraping every source")
	fs.Init("collide", flag.ContinueOnError) // errors say "collide: ...", not the synopsis
	flagArgs, positional := splitPositional(fs, args)
	if err := parseFlags(fs, flagArgs, c.getenv); err != nil {
		return err
	}
	specs := append(append([]string(nil), c.writers...), positional...)
	ws, err := c.parseWriters(specs)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if err := c.load(ctx, ws); err != nil {
		return err
	}

	in := make([]collide.Writer, len(ws))
	for i, w := range ws {
		in[i] = collide.Writer{Name: w.name, Service: w.service, Series: w.series}
	}
	rep := collide.Find(in)
	view := newCollideView(rep, ws)
	if c.output == "json" {
		enc := json.NewEncoder(c.out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(view); err != nil {
			return err
		}
	} else {
		view.writeText(c.out, c.limit)
	}
	if len(rep.Collisions) > 0 || len(rep.Duplicates) > 0 {
		return &exitError{code: exitFound, err: errReported}
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

// collideWriter is one writer: where its exposition comes from and the
// series it would send.
type collideWriter struct {
	name, service, source string
	labels                []wire.Label
	families              int
	series                []wire.TimeSeries
	note                  string
}

func (c *collideCommand) parseWriters(specs []string) ([]*collideWriter, error) {
	if len(specs) == 0 {
		return nil, usagef("collide: give at least one writer: [NAME=]FILE or [NAME=]URL (or --writer, RWKIT_WRITER)")
	}
	byName := map[string]*collideWriter{}
	var ws []*collideWriter
	stdin := false
	for _, spec := range specs {
		w := parseWriterSpec(spec)
		if w.source == "" || w.name == "" {
			return nil, usagef("collide: writer %q: want [NAME=]SOURCE", spec)
		}
		if _, dup := byName[w.name]; dup {
			return nil, usagef("collide: writer name %q given twice; name each writer: NAME=SOURCE", w.name)
		}
		if w.source == "-" {
			if stdin {
				return nil, usagef("collide: only one writer can read stdin (-)")
			}
			stdin = true
		}
		byName[w.name] = w
		ws = append(ws, w)
	}
	for name := range c.writerLabels {
		if byName[name] == nil {
			return nil, usagef("collide: --writer-label %s:...: no writer is named %q", name, name)
		}
	}
	for _, w := range ws {
		merged := map[string]string{}
		for k, v := range c.labels {
			merged[k] = v
		}
		for k, v := range c.writerLabels[w.name] {
			merged[k] = v
		}
		for k, v := range merged {
			w.labels = append(w.labels, wire.Label{Name: k, Value: v})
		}
		sort.Slice(w.labels, func(i, j int) bool { return w.labels[i].Name < w.labels[j].Name })
	}
	return ws, nil
}

// parseWriterSpec reads [NAME=]SOURCE. An argument that is a URL or an
// existing file is a source even if it contains "=".
func parseWriterSpec(spec string) *collideWriter {
	w := &collideWriter{name: spec, source: spec}
	if isScrapeURL(spec) {
		return w
	}
	if _, err := os.Stat(spec); err == nil {
		return w
	}
	name, source, ok := strings.Cut(spec, "=")
	if !ok || strings.Contains(name, "://") {
		return w
	}
	w.name, w.source = name, source
	if svc, _, ok := strings.Cut(name, "/"); ok {
		w.service = svc
	}
	return w
}

func isScrapeURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// load reads and converts every writer's exposition, scraping URLs
// concurrently.
func (c *collideCommand) load(ctx context.Context, ws []*collideWriter) error {
	client := &http.Client{Timeout: 30 * time.Second}
	errs := make([]error, len(ws))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = c.loadOne(ctx, client, w)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (c *collideCommand) loadOne(ctx context.Context, client *http.Client, w *collideWriter) error {
	var fams []*dto.MetricFamily
	var err error
	switch {
	case isScrapeURL(w.source):
		fams, err = scrape.Fetch(ctx, client, w.source)
	case w.source == "-":
		fams, err = scrape.Parse(c.in, "")
	default:
		var f *os.File
		if f, err = os.Open(w.source); err != nil {
			return fmt.Errorf("writer %s: %w", w.name, err)
		}
		defer f.Close()
		fams, err = scrape.Parse(f, "")
	}
	if err != nil {
		return fmt.Errorf("writer %s: %s: %w", w.name, w.source, err)
	}
	w.families = len(fams)
	// The timestamp does not change which series are sent; Convert needs one.
	opts := gather.Options{Timestamp: 1, ExtraLabels: w.labels}
	req, _, err := gather.Convert(fams, opts)
	if err == nil {
		w.series = req.Series
		return nil
	}
	if !errors.Is(err, gather.ErrDuplicateSeries) {
		return fmt.Errorf("writer %s: %w", w.name, err)
	}
	// The writer repeats a series: push would refuse its whole request.
	// Convert it metric by metric so that collide.Find sees and reports every
	// repeat, and its collisions with other writers too.
	w.note = err.Error()
	w.series, err = convertEach(fams, opts)
	if err != nil {
		return fmt.Errorf("writer %s: %w", w.name, err)
	}
	return nil
}

// convertEach converts families one metric at a time, so that series that
// repeat across metrics are all kept rather than refused.
func convertEach(fams []*dto.MetricFamily, opts gather.Options) ([]wire.TimeSeries, error) {
	var out []wire.TimeSeries
	for _, fam := range fams {
		for _, m := range fam.GetMetric() {
			one := &dto.MetricFamily{Name: fam.Name, Help: fam.Help, Type: fam.Type, Unit: fam.Unit, Metric: []*dto.Metric{m}}
			req, _, err := gather.Convert([]*dto.MetricFamily{one}, opts)
			if err != nil {
				return nil, err
			}
			out = append(out, req.Series...)
		}
	}
	return out, nil
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

// collideView is what `rwkit collide` prints, as text or JSON.
type collideView struct {
	Result           string              `json:"result"` // collisions, duplicates or none
	Writers          []collideWriterView `json:"writers"`
	Series           int                 `json:"series"`
	Distinct         int                 `json:"distinct"`
	CollidingSeries  int                 `json:"colliding_series"`
	CollidingMetrics int                 `json:"colliding_metrics"`
	ExcessSamples    int                 `json:"excess_samples"`
	Suggest          []string            `json:"suggest"`
	Advice           string              `json:"advice,omitempty"`
	ByMetric         []collide.Metric    `json:"by_metric"`
	Collisions       []collisionView     `json:"collisions"`
	Duplicates       []duplicateView     `json:"duplicates"`
}

type collideWriterView struct {
	Name       string            `json:"name"`
	Source     string            `json:"source"`
	Service    string            `json:"service,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
	Families   int               `json:"families"`
	Series     int               `json:"series"`
	Colliding  int               `json:"colliding"`
	Duplicates int               `json:"duplicates"`
	Note       string            `json:"note,omitempty"`
}

type collisionView struct {
	Series  string            `json:"series"`
	Metric  string            `json:"metric"`
	Labels  map[string]string `json:"labels"`
	Writers []string          `json:"writers"`
}

type duplicateView struct {
	Writer string `json:"writer"`
	Series string `json:"series"`
	Count  int    `json:"count"`
}

func newCollideView(rep *collide.Report, ws []*collideWriter) *collideView {
	v := &collideView{
		Result:           "none",
		Series:           rep.Series,
		Distinct:         rep.Distinct,
		CollidingSeries:  len(rep.Collisions),
		CollidingMetrics: len(rep.ByMetric),
		ExcessSamples:    rep.Excess,
		Suggest:          rep.Suggest,
		Advice:           rep.Advice,
		ByMetric:         rep.ByMetric,
		Collisions:       make([]collisionView, len(rep.Collisions)),
		Duplicates:       make([]duplicateView, len(rep.Duplicates)),
	}
	switch {
	case len(rep.Collisions) > 0:
		v.Result = "collisions"
	case len(rep.Duplicates) > 0:
		v.Result = "duplicates"
	}
	for i, w := range rep.Writers {
		wv := collideWriterView{
			Name: w.Name, Source: ws[i].source, Service: w.Service, Families: ws[i].families,
			Series: w.Series, Colliding: w.Colliding, Duplicates: w.Duplicates, Note: ws[i].note,
		}
		if len(ws[i].labels) > 0 {
			wv.Labels = labelMap(ws[i].labels)
		}
		v.Writers = append(v.Writers, wv)
	}
	for i, c := range rep.Collisions {
		v.Collisions[i] = collisionView{Series: formatSeries(c.Labels), Metric: c.Metric, Labels: labelMap(c.Labels), Writers: c.Writers}
	}
	for i, d := range rep.Duplicates {
		v.Duplicates[i] = duplicateView{Writer: d.Writer, Series: formatSeries(d.Labels), Count: d.Count}
	}
	return v
}

func (v *collideView) writeText(w io.Writer, limit int) {
	switch v.Result {
	case "collisions":
		fmt.Fprintf(w, "rwkit collide: %d series in %d metrics would be written by more than one writer\n", v.CollidingSeries, v.CollidingMetrics)
		fmt.Fprintln(w, "  A backend keeps one writer's sample per timestamp of each and refuses the others'")
		fmt.Fprintln(w, "  (AMP/Cortex: new-value-for-timestamp; Prometheus: duplicate sample for timestamp).")
	case "duplicates":
		fmt.Fprintln(w, "rwkit collide: no series is shared between writers, but a writer repeats its own series")
	default:
		fmt.Fprintln(w, "rwkit collide: no series would be written by more than one writer")
	}

	if len(v.ByMetric) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "METRIC\tSERIES\tWRITERS\tADD")
		for _, m := range v.ByMetric {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", m.Name, m.Series, writerList(m.Writers), strings.Join(m.Suggest, "+"))
		}
		tw.Flush()

		n := len(v.Collisions)
		if limit >= 0 && limit < n {
			n = limit
		}
		if n > 0 {
			fmt.Fprintln(w)
			tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			head := "COLLIDING SERIES"
			if n < len(v.Collisions) {
				head = fmt.Sprintf("COLLIDING SERIES (first %d of %d; --limit -1 or --output json for all)", n, len(v.Collisions))
			}
			fmt.Fprintf(tw, "%s\tWRITERS\n", head)
			for _, c := range v.Collisions[:n] {
				fmt.Fprintf(tw, "%s\t%s\n", c.Series, writerList(c.Writers))
			}
			tw.Flush()
		}
	}

	if len(v.Duplicates) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "A writer's own exposition yields these series more than once, so push refuses its whole request")
		fmt.Fprintln(w, "(gather: duplicate series): two meters registered under one name and labels, or a metric named like")
		fmt.Fprintln(w, "a histogram's or summary's _sum/_count/_bucket. Rename or drop one.")
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "WRITER\tDUPLICATE SERIES\tTIMES")
		for _, d := range v.Duplicates {
			fmt.Fprintf(tw, "%s\t%s\t%d\n", d.Writer, d.Series, d.Count)
		}
		tw.Flush()
	}

	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WRITER\tSOURCE\tSERIES\tCOLLIDING\tDUPLICATES\tLABELS")
	for _, wr := range v.Writers {
		labels := ""
		if len(wr.Labels) > 0 {
			l := labelsFlag(wr.Labels)
			labels = l.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\n", wr.Name, wr.Source, wr.Series, wr.Colliding, wr.Duplicates, labels)
	}
	tw.Flush()

	if v.Advice != "" {
		fmt.Fprintf(w, "\nfix: add %s: %s\n", strings.Join(v.Suggest, " and "), v.Advice)
	}
	fmt.Fprintf(w, "\nsummary: %d writers, %d series sent (%d distinct), %d colliding series in %d metrics, up to %d samples refused per round of pushes, %d duplicate series\n",
		len(v.Writers), v.Series, v.Distinct, v.CollidingSeries, v.CollidingMetrics, v.ExcessSamples, len(v.Duplicates))
}

// writerList shows up to four writer names and how many more there are.
func writerList(names []string) string {
	const show = 4
	if len(names) <= show {
		return fmt.Sprintf("%d: %s", len(names), strings.Join(names, ", "))
	}
	return fmt.Sprintf("%d: %s, ... (+%d)", len(names), strings.Join(names[:show], ", "), len(names)-show)
}
