package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	dto "github.com/prometheus/client_model/go"

	"github.com/rwkit/rwkit/cloudwatch"
	"github.com/rwkit/rwkit/internal/redact"
	"github.com/rwkit/rwkit/internal/version"
	"github.com/rwkit/rwkit/remotewrite/sigv4"
	"github.com/rwkit/rwkit/scrape"
	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/verify"
	"github.com/rwkit/rwkit/workspace"
)

func init() {
	register("discards", "samples a backend discarded, by reason: AMP's CloudWatch DiscardedSamples, or a local workspace", func(s stdio) command { return &discardsCommand{stdio: s} })
	jsonCommands["discards"] = true
}

type discardsCommand struct {
	stdio
	workspaceID    string
	region         string
	since          time.Duration
	period         time.Duration
	endpointURL    string
	from           string
	auth           authFlags
	failOnDiscards bool
	maxRows        int
	timeout        time.Duration
	output         outputFlag

	now     func() time.Time                                             // tests may replace it
	loadAWS func(ctx context.Context, region string) (aws.Config, error) // tests may replace it
}

const discardsExample = `  # why AMP answered 400 (often with an empty body): discards by reason over the last 3 hours
  rwkit discards --workspace-id ws-a1b2c3d4-5678-90ab-cdef-EXAMPLE11111 --region us-west-2
  rwkit discards --workspace-id https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-a1b2c3d4-... --since 24h --period 1h
  # in CI after a deploy: fail when anything was discarded in the last 15 minutes
  rwkit discards --workspace-id ws-... --since 15m --period 1m --fail-on-discards
  # rwkit's local workspace (rwkit serve): counters by reason, and the collisions naming the writers
  rwkit discards --from http://127.0.0.1:9095 --workspace-id ws-1`

func (c *discardsCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("discards (--workspace-id ID [--region R] | --from URL)",
		"Shows the samples a backend discarded, by reason, largest first, with how to fix each reason.\n"+
			"AMP: reads CloudWatch AWS/Prometheus DiscardedSamples by its Reason dimension for --workspace-id over\n"+
			"--since at --period (statistic Sum): a sparkline per reason and its first and last bucket with discards.\n"+
			"Needs cloudwatch:ListMetrics and cloudwatch:GetMetricData (AWS default credential chain).\n"+
			"Local: --from reads rwkit's workspace (rwkit serve): rwkit_discarded_samples_total{workspace,reason}\n"+
			"from its /metrics (counts since it started) and the collisions it attributed to writers.\n"+
			"With --from, a --workspace-id the workspace has not counted is an error that lists the ones it has.\n"+
			"Exit codes: 0 the discards were read (whether or not there were any), 3 with --fail-on-discards\n"+
			"when there were, 1 an error (credentials, access, network, an unknown workspace, a --from that is\n"+
			"not an rwkit workspace), 2 usage.",
		discardsExample, c.err)
	fs.StringVar(&c.workspaceID, "workspace-id", "", "AMP workspace ID (ws-...) or its URL; with --from, the local workspace to show (default all)")
	fs.StringVar(&c.region, "region", "", "AWS region of the workspace (default: the URL's, else AWS_REGION or the profile's)")
	fs.DurationVar(&c.since, "since", 3*time.Hour, "how far back to look")
	fs.DurationVar(&c.period, "period", 5*time.Minute, "bucket width, a multiple of 1m")
	fs.StringVar(&c.endpointURL, "endpoint-url", "", "CloudWatch endpoint to call instead of the region's (e.g. a VPC endpoint)")
	fs.StringVar(&c.from, "from", "", "read a local rwkit workspace at this URL instead of CloudWatch, e.g. http://127.0.0.1:9095")
	c.auth.register(fs)
	fs.BoolVar(&c.failOnDiscards, "fail-on-discards", false, "exit 3 when any sample was discarded")
	fs.IntVar(&c.maxRows, "max-rows", 20, "show at most this many collisions in text output (0: all)")
	fs.DurationVar(&c.timeout, "timeout", time.Minute, "time limit for all calls")
	c.output = "text"
	fs.Var(&c.output, "output", "report format: text or json")
	if err := parseFlags(fs, args, c.getenv); err != nil {
		return err
	}
	if c.now == nil {
		c.now = time.Now
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	var rep *discardsReport
	var err error
	if c.from == "" && c.auth.any() {
		return flagUsagef("--from", "discards: the auth and TLS flags are for --from; CloudWatch takes the AWS credentials")
	}
	if err := c.checkFlags(); err != nil {
		return err
	}
	if c.from != "" {
		rep, err = c.local(ctx)
	} else {
		rep, err = c.cloudWatch(ctx)
	}
	if err != nil {
		return err
	}
	if c.output == "json" {
		c.setResult(rep)
	} else {
		rep.writeText(c.out, c.maxRows)
	}
	if c.failOnDiscards && rep.Total > 0 {
		return reportedError(exitFound, fmt.Errorf("discards: %s samples discarded (--fail-on-discards)", formatSampleValue(rep.Total)))
	}
	return nil
}

// checkFlags checks the flags before anything is called.
func (c *discardsCommand) checkFlags() error {
	if c.from != "" {
		if err := checkURLFlag("discards", "--from", c.from); err != nil {
			return err
		}
	}
	if c.endpointURL != "" {
		if err := checkURLFlag("discards", "--endpoint-url", c.endpointURL); err != nil {
			return err
		}
	}
	if err := checkPositive("discards", durationFlag{"--since", c.since}, durationFlag{"--period", c.period}, durationFlag{"--timeout", c.timeout}); err != nil {
		return err
	}
	return checkAtLeast("discards", "--max-rows", c.maxRows, 0)
}

// discardsReport is what `rwkit discards` prints, as text or JSON.
type discardsReport struct {
	Source        string       `json:"source"` // cloudwatch or workspace
	WorkspaceID   string       `json:"workspace_id,omitempty"`
	Region        string       `json:"region,omitempty"`
	From          string       `json:"from,omitempty"`
	Start         time.Time    `json:"start,omitzero"`
	End           time.Time    `json:"end,omitzero"`
	PeriodSeconds int          `json:"period_seconds,omitempty"`
	Total         float64      `json:"total"`
	Received      *float64     `json:"received,omitempty"`
	Reasons       []discardRow `json:"reasons"`
	// Dropped are the local workspace's samples dropped within a request,
	// answered 2xx as the modelled backend answers them
	// (rwkit_dropped_samples_total): not discards (AMP's CloudWatch and
	// Cortex's counter never show them), but samples not stored.
	DroppedTotal float64      `json:"dropped_total,omitempty"`
	Dropped      []discardRow `json:"dropped,omitempty"`
	Messages     []string     `json:"messages,omitempty"`
	Note         string       `json:"note,omitempty"`
	// Collisions are the local workspace's, by workspace.
	Collisions []workspaceCollisions `json:"collisions,omitempty"`
}

type discardRow struct {
	Workspace string    `json:"workspace,omitempty"`
	Reason    string    `json:"reason"`
	Total     float64   `json:"total"`
	Values    []float64 `json:"values,omitempty"`
	First     time.Time `json:"first,omitzero"`
	Last      time.Time `json:"last,omitzero"`
	Hint      string    `json:"hint,omitempty"`
}

func (c *discardsCommand) cloudWatch(ctx context.Context) (*discardsReport, error) {
	wsID, region := c.workspaceID, c.region
	if strings.Contains(wsID, "://") {
		id, ok := workspaceFromURL(wsID)
		if !ok {
			return nil, flagUsagef("--workspace-id", "discards: --workspace-id %q: not an AMP workspace URL (https://aps-workspaces.<region>.amazonaws.com/workspaces/ws-...)", wsID)
		}
		if urlRegion, ok := sigv4.RegionFromURL(wsID); ok && region == "" {
			region = urlRegion
		}
		wsID = id
	}
	switch {
	case wsID == "":
		return nil, flagUsagef("--workspace-id", "discards: --workspace-id is required (or RWKIT_WORKSPACE_ID), or --from for a local workspace")
	case c.period < time.Minute || c.period%time.Minute != 0:
		return nil, flagUsagef("--period", "discards: --period %s: AMP's CloudWatch metrics have one-minute resolution; use a multiple of 1m", c.period)
	case c.since < c.period:
		return nil, flagUsagef("--since", "discards: --since %s is shorter than --period %s", c.since, c.period)
	}
	if c.loadAWS == nil {
		c.loadAWS = loadAWSConfig
	}
	cfg, err := c.loadAWS(ctx, region)
	if err != nil {
		return nil, fmt.Errorf("discards: load AWS config: %w", err)
	}
	if cfg.Region == "" {
		return nil, flagUsagef("--region", "discards: no AWS region: pass --region, set AWS_REGION, or give the workspace's URL as --workspace-id")
	}
	client := awscw.NewFromConfig(cfg, func(o *awscw.Options) {
		if c.endpointURL != "" {
			o.BaseEndpoint = aws.String(c.endpointURL)
		}
		o.AppID = "rwkit-" + version.Version()
	})
	end := c.now()
	cwRep, err := cloudwatch.Discards(ctx, client, wsID, cloudwatch.Range{Start: end.Add(-c.since), End: end, Period: c.period})
	if err != nil {
		return nil, redact.Error(err) // the SDK's errors quote --endpoint-url
	}
	rep := &discardsReport{
		Source: "cloudwatch", WorkspaceID: wsID, Region: cfg.Region, Start: cwRep.Start, End: cwRep.End,
		PeriodSeconds: int(c.period / time.Second), Reasons: []discardRow{}, Messages: cwRep.Messages,
	}
	for _, r := range cwRep.Reasons {
		rep.Total += r.Total
		rep.Reasons = append(rep.Reasons, discardRow{Reason: string(r.Name), Total: r.Total, Values: r.Values, First: r.First, Last: r.Last,
			Hint: r.Name.Hint()})
	}
	if len(cwRep.Reasons) == 0 {
		rep.Note = fmt.Sprintf("CloudWatch lists no DiscardedSamples metric for %s in %s: nothing discarded in about the last two weeks, or another workspace or region", wsID, cfg.Region)
	}
	return rep, nil
}

// workspaceFromURL returns the ws-... ID in an AMP workspace URL.
func workspaceFromURL(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", false
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	for i := 0; i+1 < len(parts); i++ {
		if parts[i] == "workspaces" && strings.HasPrefix(parts[i+1], "ws-") {
			return parts[i+1], true
		}
	}
	return "", false
}

// local reads rwkit's workspace: its discard counters and, per workspace,
// the collisions it attributed to writers.
func (c *discardsCommand) local(ctx context.Context) (*discardsReport, error) {
	base := strings.TrimRight(c.from, "/")
	rt, err := c.auth.transport()
	if err != nil {
		return nil, err
	}
	client := &http.Client{Transport: rt}
	fams, err := scrape.Fetch(ctx, client, base+"/metrics")
	if err != nil {
		return nil, fmt.Errorf("discards: read %s/metrics: %w", redact.URL(base), redact.Error(err))
	}
	rep := &discardsReport{Source: "workspace", From: redact.URL(base), WorkspaceID: c.workspaceID, Reasons: []discardRow{}}
	known, rwkitMetrics := rep.addCounters(fams, c.workspaceID)
	rep.sortReasons()
	workspaces := slices.Sorted(maps.Keys(known))
	switch {
	case !rwkitMetrics:
		// A workspace counts a tenant from its first remote write, so a
		// fresh one and another server both lack the counters.
		return nil, fmt.Errorf("discards: %s/metrics has no rwkit_received_samples_total or rwkit_discarded_samples_total: not an rwkit workspace (rwkit serve), or one that has received no remote write since it started", rep.From)
	case c.workspaceID != "" && !known[c.workspaceID]:
		return nil, fmt.Errorf("discards: workspace %q is unknown to %s: its /metrics counts %s (workspaces appear there at their first remote write)",
			c.workspaceID, rep.From, knownList(workspaces))
	case c.workspaceID != "":
		workspaces = []string{c.workspaceID}
	}
	for _, ws := range workspaces {
		wc, err := fetchWorkspaceCollisions(ctx, client, base, ws)
		if err != nil {
			return nil, err
		}
		rep.Collisions = append(rep.Collisions, wc)
	}
	if len(rep.Reasons) == 0 {
		rep.Note = "no discards counted since the workspace started"
	}
	return rep, nil
}

// addCounters adds the workspace's received and discarded samples to
// rep, for workspaceID or, when it is empty, for every workspace. known
// holds every workspace the counters name, whatever was asked: an ID that
// is not among them is a typo or the wrong server, and reporting "0
// discarded" for it would pass a CI gate. rwkitMetrics says whether fams
// hold rwkit's counters at all.
func (rep *discardsReport) addCounters(fams []*dto.MetricFamily, workspaceID string) (known map[string]bool, rwkitMetrics bool) {
	known = map[string]bool{}
	for _, mf := range fams {
		switch mf.GetName() {
		case "rwkit_discarded_samples_total", "rwkit_received_samples_total", "rwkit_dropped_samples_total":
		default:
			continue
		}
		rwkitMetrics = true
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			ws := labels["workspace"]
			if ws != "" {
				known[ws] = true
			}
			if workspaceID != "" && ws != workspaceID {
				continue
			}
			v := m.GetCounter().GetValue()
			if m.GetCounter() == nil {
				v = m.GetUntyped().GetValue()
			}
			rep.addCounter(mf.GetName(), ws, labels["reason"], v)
		}
	}
	return known, rwkitMetrics
}

// addCounter adds one workspace's counter metric: of received samples,
// or of samples discarded or dropped for reason (a row, unless none were).
func (rep *discardsReport) addCounter(metric, ws, reason string, v float64) {
	row := discardRow{Workspace: ws, Reason: reason, Total: v, Hint: validate.Reason(reason).Hint()}
	switch {
	case metric == "rwkit_received_samples_total":
		if rep.Received == nil {
			rep.Received = new(float64)
		}
		*rep.Received += v
	case v == 0:
	case metric == "rwkit_dropped_samples_total":
		rep.DroppedTotal += v
		rep.Dropped = append(rep.Dropped, row)
	default:
		rep.Total += v
		rep.Reasons = append(rep.Reasons, row)
	}
}

// sortReasons puts the most discarded (and dropped) first, then by reason
// and workspace.
func (rep *discardsReport) sortReasons() {
	sortRows(rep.Reasons)
	sortRows(rep.Dropped)
}

func sortRows(rows []discardRow) {
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.Total != b.Total {
			return a.Total > b.Total
		}
		if a.Reason != b.Reason {
			return a.Reason < b.Reason
		}
		return a.Workspace < b.Workspace
	})
}

// knownList names the workspaces for an error: all of them, or the first
// ten and how many more.
func knownList(workspaces []string) string {
	const show = 10
	switch {
	case len(workspaces) == 0:
		return "no workspace by name"
	case len(workspaces) > show:
		return fmt.Sprintf("%s and %d more", strings.Join(workspaces[:show], ", "), len(workspaces)-show)
	}
	return strings.Join(workspaces, ", ")
}

// workspaceCollisions is what GET /workspaces/{id}/api/v1/collisions said:
// the workspace's own workspace.Collision values.
type workspaceCollisions struct {
	Workspace string                `json:"workspace"`
	Served    bool                  `json:"served"` // false: the endpoint answered 404
	Entries   []workspace.Collision `json:"entries"`
}

func fetchWorkspaceCollisions(ctx context.Context, client *http.Client, base, ws string) (workspaceCollisions, error) {
	wc := workspaceCollisions{Workspace: ws, Entries: []workspace.Collision{}}
	endpoint := base + "/workspaces/" + url.PathEscape(ws) + "/api/v1/collisions"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return wc, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", version.UserAgent())
	resp, err := client.Do(req)
	if err != nil {
		return wc, fmt.Errorf("discards: %w", redact.Error(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return wc, fmt.Errorf("discards: read %s: %w", redact.URL(endpoint), redact.Error(err))
	}
	if resp.StatusCode == http.StatusNotFound {
		return wc, nil // an older workspace: counters only
	}
	if resp.StatusCode/100 != 2 {
		return wc, fmt.Errorf("discards: GET %s: %s: %s", redact.URL(endpoint), resp.Status, firstLine(strings.TrimSpace(string(body))))
	}
	if err := json.Unmarshal(body, &wc.Entries); err != nil {
		return wc, fmt.Errorf("discards: GET %s: not the workspace's collisions list: %w", redact.URL(endpoint), err)
	}
	if wc.Entries == nil {
		wc.Entries = []workspace.Collision{}
	}
	wc.Served = true
	return wc, nil
}

// collisionRow is a collision as the table shows it: the series, when,
// the values and the writers.
func collisionRow(c workspace.Collision) (series, when, values, writers string) {
	series = verify.LabelString(c.Series)
	if c.Kind != "" {
		series += " [" + c.Kind + "]"
	}
	when = "-"
	if c.Timestamp != 0 {
		when = time.UnixMilli(c.Timestamp).UTC().Format(time.RFC3339Nano)
	}
	values = c.ExistingValue + " vs " + c.NewValue
	who := []string{}
	if c.ExistingWriter != nil {
		who = append(who, c.ExistingWriter.String())
	}
	who = append(who, c.NewWriter.String())
	return series, when, values, strings.Join(who, "; ")
}

func (r *discardsReport) writeText(w io.Writer, maxRows int) {
	switch r.Source {
	case "cloudwatch":
		fmt.Fprintf(w, "rwkit discards: %s samples discarded by AMP workspace %s (%s)\n", formatSampleValue(r.Total), r.WorkspaceID, r.Region)
		fmt.Fprintf(w, "  CloudWatch %s/%s, Sum per %s, %s to %s UTC\n", cloudwatch.Namespace, cloudwatch.MetricName,
			shortDuration(time.Duration(r.PeriodSeconds)*time.Second), r.Start.Format("2006-01-02 15:04"), r.End.Format("2006-01-02 15:04"))
	default:
		fmt.Fprintf(w, "rwkit discards: %s samples discarded by the workspace at %s", formatSampleValue(r.Total), r.From)
		if r.WorkspaceID != "" {
			fmt.Fprintf(w, ", workspace %s", r.WorkspaceID)
		}
		fmt.Fprintln(w)
		fmt.Fprint(w, "  counters since the workspace started")
		if r.Received != nil {
			fmt.Fprintf(w, "; %s samples received", formatSampleValue(*r.Received))
		}
		fmt.Fprintln(w)
	}
	if r.Note != "" {
		fmt.Fprintf(w, "  %s\n", r.Note)
	}
	if len(r.Reasons) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		if r.Source == "cloudwatch" {
			sameDay := r.Start.Truncate(24 * time.Hour).Equal(r.End.Add(-time.Nanosecond).Truncate(24 * time.Hour))
			layout := "01-02 15:04"
			if sameDay {
				layout = "15:04"
			}
			fmt.Fprintf(tw, "  REASON\tTOTAL\t%s\tFIRST\tLAST\tHINT\n", sparkHeader(r.Start, r.End, layout))
			for _, row := range r.Reasons {
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", row.Reason, formatSampleValue(row.Total), sparkline(row.Values, maxSparkWidth),
					timeOrDash(row.First, layout), timeOrDash(row.Last, layout), orDefault(row.Hint, "-"))
			}
		} else {
			fmt.Fprintf(tw, "  WORKSPACE\tREASON\tTOTAL\tHINT\n")
			for _, row := range r.Reasons {
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", orDefault(row.Workspace, "-"), row.Reason, formatSampleValue(row.Total), orDefault(row.Hint, "-"))
			}
		}
		tw.Flush()
	}
	r.writeDropped(w)
	for _, m := range r.Messages {
		fmt.Fprintf(w, "  note: %s\n", m)
	}
	for _, wc := range r.Collisions {
		fmt.Fprintln(w)
		if !wc.Served {
			fmt.Fprintf(w, "collisions in %s: not served by this workspace (counters only)\n", wc.Workspace)
			continue
		}
		fmt.Fprintf(w, "collisions in %s: %d\n", wc.Workspace, len(wc.Entries))
		if len(wc.Entries) == 0 {
			continue
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  SERIES\tTIME\tVALUES\tWRITERS\n")
		for i, e := range wc.Entries {
			if maxRows > 0 && i == maxRows {
				fmt.Fprintf(tw, "  ... %d more (--max-rows, or --output json for all)\t\t\t\n", len(wc.Entries)-maxRows)
				break
			}
			series, when, values, writers := collisionRow(e)
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", series, when, values, writers)
		}
		tw.Flush()
	}
}

// writeDropped lists the samples the workspace dropped within requests
// (rwkit_dropped_samples_total), apart from the discards: the backend
// answers them 2xx and counts them nowhere.
func (r *discardsReport) writeDropped(w io.Writer) {
	if len(r.Dropped) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s more samples dropped within requests, answered 2xx as the backend answers them (not discards: AMP shows them nowhere; the writes carried X-Rwkit-Dropped)\n",
		formatSampleValue(r.DroppedTotal))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  WORKSPACE\tREASON\tTOTAL\tHINT\n")
	for _, row := range r.Dropped {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", orDefault(row.Workspace, "-"), row.Reason, formatSampleValue(row.Total), orDefault(row.Hint, "-"))
	}
	tw.Flush()
}

// maxSparkWidth bounds a sparkline: wider ranges sum adjacent buckets.
const maxSparkWidth = 48

var sparkChars = []rune("▁▂▃▄▅▆▇█")

// sparkline draws values scaled to their own maximum. A bucket without
// discards is ▁; any discard draws at least ▂, so a flat floor means none.
func sparkline(values []float64, width int) string {
	if len(values) == 0 {
		return ""
	}
	group := (len(values) + width - 1) / width
	var sums []float64
	for i := 0; i < len(values); i += group {
		s := 0.0
		for _, v := range values[i:min(i+group, len(values))] {
			s += v
		}
		sums = append(sums, s)
	}
	peak := 0.0
	for _, s := range sums {
		peak = math.Max(peak, s)
	}
	var b strings.Builder
	for _, s := range sums {
		if s <= 0 || peak == 0 {
			b.WriteRune(sparkChars[0])
			continue
		}
		level := 1 + int(math.Round(s/peak*float64(len(sparkChars)-2)))
		b.WriteRune(sparkChars[min(level, len(sparkChars)-1)])
	}
	return b.String()
}

func sparkHeader(start, end time.Time, layout string) string {
	return start.Format(layout) + " .. " + end.Format(layout)
}

func timeOrDash(t time.Time, layout string) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(layout)
}

// shortDuration prints 5m rather than 5m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
