package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"

	"github.com/rwkit/rwkit/gather"
	"github.com/rwkit/rwkit/identity"
	"github.com/rwkit/rwkit/internal/redact"
	"github.com/rwkit/rwkit/push"
	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/remotewrite/sigv4"
	"github.com/rwkit/rwkit/scrape"
	"github.com/rwkit/rwkit/wire"
)

func init() {
	register("push", "push one exposition (file or scrape) to a remote-write URL and report", func(s stdio) command { return &pushCommand{stdio: s} })
	jsonCommands["push"] = true
}

type pushCommand struct {
	stdio
	url              string
	file             string
	scrapeURL        string
	labels           labelsFlag
	timestamp        int64
	sigv4Region      string
	sigv4            bool
	rwVersion        int
	output           outputFlag
	timeout          time.Duration
	maxRequestBytes  int
	nativeHistograms bool
	honorTimestamps  bool
	service          string
	instance         string
	withIdentity     bool
	allowEmpty       bool
	auth             authFlags

	now func() time.Time // tests may replace it
}

const pushExample = `  # capture /metrics from a task and push it to AMP, as one more writer would:
  rwkit push --url https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-1234/api/v1/remote_write \
    --scrape http://10.0.1.23:8080/q/metrics --label service=auth --label instance=task-1
  # push a saved exposition to a local Prometheus at a fixed timestamp:
  rwkit push --url http://127.0.0.1:9090/api/v1/write --file metrics.txt --timestamp 1700000000000`

func (c *pushCommand) Run(ctx context.Context, args []string) error {
	if err := c.parse(args); err != nil {
		return err
	}
	if err := c.checkFlags(); err != nil {
		return err
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.timestamp == 0 {
		c.timestamp = c.now().UnixMilli()
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	rep := &pushReport{URL: redact.URL(c.url), Timestamp: c.timestamp, Labels: c.labels}
	opts, err := c.options(ctx)
	if err != nil {
		return err
	}
	if err := c.checkIdentity(ctx); err != nil {
		return err
	}
	x, err := c.load(ctx, rep)
	if err != nil {
		return err
	}
	defer x.close()
	if x.empty() && !c.allowEmpty {
		return c.nothingToPush(rep, x.fams)
	}
	c.noteMissingIdentity(rep)
	return c.send(ctx, rep, x, opts)
}

// parse parses the command line and the environment into c; the
// identity variables, or --service or --instance, turn on --identity.
func (c *pushCommand) parse(args []string) error {
	fs := newFlagSet("push --url URL (--file F | --scrape URL) [--label k=v]...",
		"Pushes one exposition (a file, or a scrape of /metrics) by remote write, every sample stamped with one\n"+
			"batch timestamp, and prints a report: requests, series, samples, bytes, duration and, for a refusal,\n"+
			"the status, the whole body, the classified reason and how to fix it.\n"+
			"An exposition without a single sample (empty, or only comments) is not sent: \"nothing to push\",\n"+
			"exit 1, unless --allow-empty.\n"+
			"Exit codes: 0 delivered, 1 refused, failed or nothing to push, 2 usage.",
		pushExample, c.err)
	fs.StringVar(&c.url, "url", "", "remote-write URL (required)")
	fs.StringVar(&c.file, "file", "", "exposition file to push (Prometheus text, OpenMetrics or delimited protobuf; - for stdin)")
	fs.StringVar(&c.scrapeURL, "scrape", "", "scrape this /metrics URL and push what it serves")
	fs.Var(&c.labels, "label", "add name=value to every series; repeatable (env: comma-separated)")
	fs.Int64Var(&c.timestamp, "timestamp", 0, "batch timestamp in ms since the epoch for every sample (default 0: now)")
	fs.StringVar(&c.sigv4Region, "sigv4-region", "", "sign with AWS SigV4 for this region (default: the region of an AMP URL)")
	fs.BoolVar(&c.sigv4, "sigv4", false, "sign with SigV4 even when the URL is not an AMP URL (region from --sigv4-region or the AWS config)")
	fs.IntVar(&c.rwVersion, "rw-version", 1, "remote-write protocol: 1 or 2 (2 falls back to 1 on 415)")
	c.output = "text"
	fs.Var(&c.output, "output", "report format: text or json")
	fs.DurationVar(&c.timeout, "timeout", 2*time.Minute, "time limit for the whole push, retries included")
	fs.IntVar(&c.maxRequestBytes, "max-request-bytes", remotewrite.DefaultMaxRequestBytes, "split into requests of at most this many uncompressed bytes")
	fs.BoolVar(&c.nativeHistograms, "native-histograms", false, "send native histograms as such (the backend must accept them); else as classic buckets")
	fs.BoolVar(&c.honorTimestamps, "honor-timestamps", false, "keep timestamps written in the exposition instead of the batch timestamp")
	fs.StringVar(&c.service, "service", "", "add service=VALUE to every series (implies --identity for the instance)")
	fs.StringVar(&c.instance, "instance", "", "add instance=VALUE to every series (implies --identity for the service)")
	fs.BoolVar(&c.allowEmpty, "allow-empty", false, "send an empty write when the exposition has no samples, instead of failing with nothing to push")
	c.auth.register(fs)
	fs.BoolVar(&c.withIdentity, "identity", false, "add service and instance labels resolved as the push library does (RWKIT_SERVICE/INSTANCE, OTEL_*, ECS, Kubernetes, hostname)")
	// RWKIT_SERVICE and RWKIT_INSTANCE are left to the identity package,
	// which reads them itself and reports them as their source; either one
	// turns on --identity.
	hideIdentityEnv := func(k string) string {
		if k == identity.EnvService || k == identity.EnvInstance {
			return ""
		}
		return c.getenv(k)
	}
	if err := parseFlags(fs, args, hideIdentityEnv); err != nil {
		return err
	}
	if c.getenv(identity.EnvService) != "" || c.getenv(identity.EnvInstance) != "" || c.service != "" || c.instance != "" {
		c.withIdentity = true
	}
	return nil
}

// checkIdentity resolves the identity, when one is asked for, before
// anything is read or sent, so that a missing service is a usage error in
// flag words; push.Once resolves it again from the same options.
func (c *pushCommand) checkIdentity(ctx context.Context) error {
	if !c.withIdentity {
		return nil
	}
	if _, err := identity.Resolve(ctx, identity.Options{Service: c.service, Instance: c.instance, Getenv: c.getenv}); err != nil {
		return identityUsage("push", "--service", err)
	}
	return nil
}

// noteMissingIdentity warns, in the report, of series that name no writer:
// several writers pushing them collide.
func (c *pushCommand) noteMissingIdentity(rep *pushReport) {
	if c.withIdentity {
		return
	}
	var missing []string
	for _, name := range []string{identity.DefaultServiceLabel, identity.DefaultInstanceLabel} {
		if c.labels[name] == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("no %s label: several writers pushing these series will collide (new-value-for-timestamp); add --identity, or --service/--instance",
			strings.Join(missing, " or ")))
	}
}

// send pushes the exposition once and prints the report: a text
// exposition in a stream (push.OnceText), another format's families
// through push.Once.
func (c *pushCommand) send(ctx context.Context, rep *pushReport, x *exposition, opts []push.Option) error {
	var res *push.Result
	var err error
	if x.open != nil {
		res, err = push.OnceText(ctx, c.url, x.open, x.contentType, opts...)
	} else {
		gatherer := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return x.fams, nil })
		res, err = push.Once(ctx, c.url, gatherer, opts...)
	}
	var pe *gather.ParseError
	switch {
	case errors.As(err, &pe):
		return x.parseError(pe.Err)
	case err != nil:
		return fmt.Errorf("push %s: %w", rep.Source, err)
	}
	rep.fill(res)
	if x.empty() {
		rep.Notes = append(rep.Notes, "the exposition has no samples: an empty write was sent (--allow-empty)")
	}
	c.print(rep)
	if !res.OK() {
		return reportedError(exitFailed, pushOutcome(res))
	}
	return nil
}

// pushOutcome is the error of a write that did not deliver everything,
// wrapping the library's error of the failed request, else of the first
// refused one (the JSON envelope shows it as error.remote_write).
func pushOutcome(res *push.Result) error {
	if res.Failed != nil {
		return fmt.Errorf("push: not delivered: %w", res.Failed)
	}
	return fmt.Errorf("push: %d of %d requests refused; the first: %w", len(res.Refused), res.Requests, res.Refused[0])
}

// minRequestBytes is the least --max-request-bytes the remotewrite client
// takes (WithMaxRequestBytes refuses less).
const minRequestBytes = 1024

// checkFlags checks every flag before anything is read, scraped or sent.
func (c *pushCommand) checkFlags() error {
	switch {
	case c.url == "":
		return flagUsagef("--url", "push: --url is required (or RWKIT_URL)")
	case (c.file == "") == (c.scrapeURL == ""):
		return flagUsagef("--file", "push: give exactly one of --file and --scrape")
	case c.rwVersion != 1 && c.rwVersion != 2:
		return flagUsagef("--rw-version", "push: --rw-version: want 1 or 2, got %d", c.rwVersion)
	case c.timestamp < 0:
		return flagUsagef("--timestamp", "push: --timestamp: want milliseconds since the epoch (0: now), got %d", c.timestamp)
	}
	if err := checkURLFlag("push", "--url", c.url); err != nil {
		return err
	}
	if c.scrapeURL != "" {
		if err := checkURLFlag("push", "--scrape", c.scrapeURL); err != nil {
			return err
		}
	}
	if err := checkPositive("push", durationFlag{"--timeout", c.timeout}); err != nil {
		return err
	}
	return checkAtLeast("push", "--max-request-bytes", c.maxRequestBytes, minRequestBytes)
}

// print shows rep as text, or hands it to run for the JSON envelope.
func (c *pushCommand) print(rep *pushReport) {
	if c.output == "json" {
		c.setResult(rep)
		return
	}
	rep.writeText(c.out)
}

// empty reports whether fams hold no sample at all: no family, or families
// with only HELP and TYPE. Sending them would be a write of nothing that
// every backend answers 2xx, and the push would look delivered.
func empty(fams []*dto.MetricFamily) bool {
	for _, mf := range fams {
		if len(mf.GetMetric()) > 0 {
			return false
		}
	}
	return true
}

// nothingToPush reports an empty exposition without sending it: the JSON
// report (result "empty") for scripts, the reason on stderr, exit 1.
func (c *pushCommand) nothingToPush(rep *pushReport, fams []*dto.MetricFamily) error {
	source := rep.Source
	if source == "-" {
		source = "stdin"
	}
	err := fmt.Errorf("push: nothing to push: %s has no samples (it is empty, or only comments, HELP and TYPE); nothing was sent (--allow-empty sends an empty write)", source)
	rep.Result, rep.Families, rep.Error = "empty", len(fams), err.Error()
	if c.output == "json" {
		c.print(rep)
	}
	return err
}

// options are the push library's options for the flags: the same path a
// Pusher takes, stamped at --timestamp, without buffering.
func (c *pushCommand) options(ctx context.Context) ([]push.Option, error) {
	opts := []push.Option{
		push.WithBatchTimestamp(time.UnixMilli(c.timestamp)),
		push.WithRWVersion(wire.Version(c.rwVersion)),
		push.WithClientOptions(remotewrite.WithMaxRequestBytes(c.maxRequestBytes)),
	}
	if c.withIdentity {
		for _, name := range []string{identity.DefaultServiceLabel, identity.DefaultInstanceLabel} {
			if _, dup := c.labels[name]; dup {
				return nil, flagUsagef("--label", "push: --label %s and the identity both set %s", name, name)
			}
		}
		opts = append(opts, push.WithIdentityOptions(identity.Options{Getenv: c.getenv}))
		if c.service != "" {
			opts = append(opts, push.WithService(c.service))
		}
		if c.instance != "" {
			opts = append(opts, push.WithInstance(c.instance))
		}
	} else {
		opts = append(opts, push.WithoutIdentity())
	}
	if len(c.labels) > 0 {
		opts = append(opts, push.WithLabels(c.labels))
	}
	if c.nativeHistograms {
		opts = append(opts, push.WithNativeHistograms())
	}
	if c.honorTimestamps {
		opts = append(opts, push.WithHonorTimestamps())
	}
	_, sign, err := sigv4.Signing(c.url, c.sigv4Region, c.sigv4)
	switch {
	case err != nil:
		return nil, flagUsagef("--sigv4-region", "push: --sigv4-region: %s", strings.TrimPrefix(err.Error(), "sigv4: "))
	case sign && c.auth.usesAuthorization():
		return nil, flagUsagef("--bearer-token-file", "push: SigV4 signing and --bearer-token-file / --basic-auth-username both set Authorization: give one (an AMP URL is always signed)")
	case c.sigv4 || c.sigv4Region != "":
		opts = append(opts, push.WithSigV4(c.sigv4Region))
	}
	authOpts, err := c.auth.pushOptions()
	if err != nil {
		return nil, err
	}
	return append(opts, authOpts...), nil
}

// exposition is what push sends: a text exposition, read in a stream
// through open (twice: see push.OnceText), or another format's families.
type exposition struct {
	open        func() (io.Reader, error)
	contentType string
	fams        []*dto.MetricFamily
	parseError  func(error) error // a parse error as load would have returned it
	close       func()
}

// empty reports whether the exposition has no sample: for a text
// exposition, the parser finds none before the end (a parse error is not
// empty: OnceText reports it).
func (x *exposition) empty() bool {
	if x.open == nil {
		return empty(x.fams)
	}
	r, err := x.open()
	if err != nil {
		return false
	}
	p := scrape.NewTextParser(r, model.LegacyValidation)
	return !p.Next() && p.Err() == nil
}

func (c *pushCommand) load(ctx context.Context, rep *pushReport) (*exposition, error) {
	var body *scrape.Body
	var parseError func(error) error
	if c.scrapeURL != "" {
		rep.Source = redact.URL(c.scrapeURL)
		data, ct, err := scrape.FetchBody(ctx, &http.Client{Timeout: 30 * time.Second}, c.scrapeURL)
		if err != nil {
			return nil, redact.Error(err) // its errors quote the URL
		}
		body = scrape.NewBody(data, ct)
		parseError = func(err error) error { return redact.Error(fmt.Errorf("scrape %s: %w", c.scrapeURL, err)) }
	} else {
		rep.Source = c.file
		parseError = func(err error) error { return fmt.Errorf("%s: %w", c.file, err) }
		var err error
		if c.file == "-" {
			body, err = scrape.ReadBody(c.in)
		} else if body, err = scrape.OpenFile(c.file); err != nil {
			return nil, fmt.Errorf("push: --file: %w", err)
		}
		if err != nil {
			return nil, parseError(err)
		}
	}
	x := &exposition{contentType: body.ContentType, parseError: parseError, close: func() { body.Close() }}
	text, err := body.IsText()
	if err == nil && text {
		x.open = body.Open
		return x, nil
	}
	if err == nil {
		x.fams, err = body.Parse()
	}
	if err != nil {
		body.Close()
		return nil, parseError(err)
	}
	return x, nil
}

// pushReport is what `rwkit push` prints, as text or JSON.
type pushReport struct {
	Result    string     `json:"result"` // delivered, refused, failed, empty (nothing sent)
	URL       string     `json:"url"`
	Source    string     `json:"source"`
	Signing   string     `json:"signing"`
	Version   string     `json:"version,omitempty"`
	Timestamp int64      `json:"timestamp_ms"`
	Labels    labelsFlag `json:"labels,omitempty"`
	Identity  string     `json:"identity,omitempty"`

	Families   int      `json:"families"`
	Series     int      `json:"series"`
	Samples    int      `json:"samples"`
	Histograms int      `json:"histograms"`
	Notes      []string `json:"notes,omitempty"`

	Requests           int     `json:"requests"`
	Delivered          int     `json:"requests_delivered"`
	AcceptedSeries     int     `json:"accepted_series"`
	AcceptedSamples    int     `json:"accepted_samples"`
	AcceptedHistograms int     `json:"accepted_histograms"`
	BytesCompressed    int     `json:"bytes_compressed"`
	BytesUncompressed  int     `json:"bytes_uncompressed"`
	Attempts           int     `json:"attempts"`
	DurationSeconds    float64 `json:"duration_seconds"`

	// Refusals are the refused requests, each reported; the others were
	// sent all the same. Failure is the request that stopped the write
	// (network, 5xx, 429 after retries, the timeout): it and the rest were
	// not delivered.
	Refusals []*remotewrite.Error `json:"refusals,omitempty"`
	Failure  *remotewrite.Error   `json:"failure,omitempty"`
	Error    string               `json:"error,omitempty"`
}

func (r *pushReport) fill(res *push.Result) {
	r.Version = res.Version.String()
	if res.Identity != nil {
		r.Identity = res.Identity.String()
	}
	r.Signing = "none"
	if res.SignedFor != "" {
		r.Signing = "sigv4 " + res.SignedFor
	}
	c := res.Converted
	r.Families, r.Series, r.Samples, r.Histograms = c.Families, c.Series, c.Samples, c.Histograms
	for _, n := range c.Notes {
		r.Notes = append(r.Notes, n.String())
	}
	r.Requests = res.Requests
	r.Delivered = res.Requests - len(res.Refused)
	r.AcceptedSeries, r.AcceptedSamples, r.AcceptedHistograms = res.Stored.Series, res.Stored.Samples, res.Stored.Histograms
	r.BytesCompressed, r.BytesUncompressed = res.BytesCompressed, res.BytesUncompressed
	r.Attempts = res.Attempts
	r.DurationSeconds = res.Duration.Seconds()
	r.Result = "delivered"
	if len(res.Refused) > 0 {
		r.Result = "refused"
	}
	r.Refusals = res.Refused
	if res.Failed != nil {
		r.Result = "failed"
		r.Delivered--
		r.Error = res.Failed.Error()
		var e *remotewrite.Error
		if errors.As(res.Failed, &e) {
			r.Failure = e
		}
	}
}

func (r *pushReport) writeText(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "  %s\t%s\n", k, fmt.Sprintf(format, args...)) }
	fmt.Fprintf(tw, "rwkit push: %s\n", r.Result)
	row("url", "%s", r.URL)
	row("source", "%s", r.Source)
	row("signing", "%s", r.Signing)
	if r.Version != "" {
		row("protocol", "remote write %s", r.Version)
	}
	row("timestamp", "%d (%s)", r.Timestamp, time.UnixMilli(r.Timestamp).UTC().Format(time.RFC3339Nano))
	if len(r.Labels) > 0 {
		row("labels", "%s", (&r.Labels).String())
	}
	if r.Identity != "" {
		row("identity", "%s", r.Identity)
	}
	row("converted", "%d families, %d series, %d samples, %d histograms", r.Families, r.Series, r.Samples, r.Histograms)
	row("delivered", "%d of %d requests; %s snappy (%s raw) sent", r.Delivered, max(r.Requests, r.Delivered), byteSize(r.BytesCompressed), byteSize(r.BytesUncompressed))
	row("accepted", "%d series, %d samples, %d histograms in the accepted requests (a refused request's valid series may be stored too: Cortex and AMP keep them)", r.AcceptedSeries, r.AcceptedSamples, r.AcceptedHistograms)
	row("attempts", "%d", r.Attempts)
	row("duration", "%s", time.Duration(r.DurationSeconds*float64(time.Second)).Round(time.Millisecond))
	for _, n := range r.Notes {
		row("note", "%s", n)
	}
	for _, e := range r.Refusals {
		writeRefusal(row, e)
	}
	if r.Error != "" {
		row("failed", "%s", "the write stopped here; this request and the ones after it were not delivered")
		if r.Failure != nil {
			writeRefusal(row, r.Failure)
		} else {
			row("error", "%s", r.Error)
		}
	}
	tw.Flush()
}

// writeRefusal prints one refused or failed request.
func writeRefusal(row func(k, format string, args ...any), e *remotewrite.Error) {
	if e.StatusCode == 0 {
		row("error", "%s", e.Error())
		return
	}
	row("status", "%s", orDefault(e.Status, fmt.Sprint(e.StatusCode)))
	row("request", "%d of %d: %d series, %d samples, %d histograms, %d exemplars, %s snappy (%s raw), %d attempts",
		e.Request, e.Requests, e.Series, e.Samples, e.Histograms, e.Exemplars, byteSize(e.BytesCompressed), byteSize(e.BytesUncompressed), e.Attempts)
	row("reason", "%s", orDefault(string(e.Reason), "(not named by the body)"))
	if e.Hint != "" {
		row("hint", "%s", e.Hint)
	}
	body := e.Body
	if body == "" {
		body = "(empty)"
	}
	if e.BodyTruncated {
		body += " [truncated at 1 MiB]"
	}
	row("body", "%s", strings.TrimRight(body, "\n"))
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
