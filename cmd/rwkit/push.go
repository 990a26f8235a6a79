package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/rwkit/rwkit/gather"
	"github.com/rwkit/rwkit/identity"
	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/remotewrite/sigv4"
	"github.com/rwkit/rwkit/scrape"
	"github.com/rwkit/rwkit/wire"
)

func init() {
	register("push", "push one exposition (file or scrape) to a remote-write URL and report", func(s stdio) command { return &pushCommand{stdio: s} })
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
	auth             authFlags

	now func() time.Time // tests may replace it
}

const pushExample = `  # capture /metrics from a task and push it to AMP, as one more writer would:
  rwkit push --url https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-1234/api/v1/remote_write \
    --scrape http://10.0.1.23:8080/q/metrics --label service=auth --label instance=task-1
  # push a saved exposition to a local Prometheus at a fixed timestamp:
  rwkit push --url http://127.0.0.1:9090/api/v1/write --file metrics.txt --timestamp 1700000000000`

func (c *pushCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("push --url URL (--file F | --scrape URL) [--label k=v]...",
		"Pushes one exposition (a file, or a scrape of /metrics) by remote write, every sample stamped with one\n"+
			"batch timestamp, and prints a report: requests, series, samples, bytes, duration and, for a refusal,\n"+
			"the status, the whole body, the classified reason and how to fix it.\n"+
			"Exit codes: 0 delivered, 1 refused or failed, 2 usage.",
		pushExample, c.err)
	fs.StringVar(&c.url, "url", "", "remote-write URL (required)")
	fs.StringVar(&c.file, "file", "", "exposition file to push (Prometheus text, OpenMetrics or delimited protobuf; - for stdin)")
	fs.StringVar(&c.scrapeURL, "scrape", "", "scrape this /metrics URL and push what it serves")
	fs.Var(&c.labels, "label", "add name=value to every series; repeatable (env: comma-separated)")
	fs.Int64Var(&c.timestamp, "timestamp", 0, "batch timestamp in ms since the epoch for every sample (default now)")
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
	if c.getenv(identity.EnvService) != "" || c.getenv(identity.EnvInstance) != "" {
		c.withIdentity = true
	}
	switch {
	case c.url == "":
		return usagef("push: --url is required (or RWKIT_URL)")
	case (c.file == "") == (c.scrapeURL == ""):
		return usagef("push: give exactly one of --file and --scrape")
	case c.rwVersion != 1 && c.rwVersion != 2:
		return usagef("push: --rw-version %d: want 1 or 2", c.rwVersion)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.timestamp == 0 {
		c.timestamp = c.now().UnixMilli()
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	rep := &pushReport{URL: redactURL(c.url), Timestamp: c.timestamp, Labels: c.labels}
	fams, err := c.load(ctx, rep)
	if err != nil {
		return err
	}
	extra := make([]wire.Label, 0, len(c.labels)+2)
	for k, v := range c.labels {
		extra = append(extra, wire.Label{Name: k, Value: v})
	}
	if c.withIdentity || c.service != "" || c.instance != "" {
		id, err := identity.Resolve(ctx, identity.Options{Service: c.service, Instance: c.instance, Getenv: c.getenv})
		if err != nil {
			return err
		}
		for _, l := range id.Labels() {
			if _, dup := c.labels[l.Name]; dup {
				return usagef("push: --label %s and the identity both set %s", l.Name, l.Name)
			}
			extra = append(extra, l)
		}
		rep.Identity = id.String()
	} else if c.labels["service"] == "" || c.labels["instance"] == "" {
		rep.Notes = append(rep.Notes, "no service/instance labels: several writers pushing these series will collide (new-value-for-timestamp); add --identity, or --service/--instance")
	}
	sort.Slice(extra, func(i, j int) bool { return extra[i].Name < extra[j].Name })
	req, conv, err := gather.Convert(fams, gather.Options{
		Timestamp:        c.timestamp,
		ExtraLabels:      extra,
		NativeHistograms: c.nativeHistograms,
		HonorTimestamps:  c.honorTimestamps,
	})
	if err != nil {
		return fmt.Errorf("convert %s: %w", rep.Source, err)
	}
	rep.Families, rep.Series, rep.Samples, rep.Histograms = conv.Families, conv.Series, conv.Samples, conv.Histograms
	for _, n := range conv.Notes {
		rep.Notes = append(rep.Notes, n.String())
	}

	opts := []remotewrite.Option{
		remotewrite.WithVersion(wire.Version(c.rwVersion)),
		remotewrite.WithMaxRequestBytes(c.maxRequestBytes),
	}
	rep.Signing = "none"
	authRT, err := c.auth.transport()
	if err != nil {
		return err
	}
	region, sign, err := sigv4.Signing(c.url, c.sigv4Region, c.sigv4)
	if err != nil {
		return usagef("push: --sigv4-region: %v", err)
	}
	if sign && c.auth.usesAuthorization() {
		return usagef("push: SigV4 signing and --bearer-token-file / --basic-auth-username both set Authorization: give one (an AMP URL is always signed)")
	}
	opts = append(opts, remotewrite.WithTransport(authRT))
	if sign {
		tr, err := sigv4.NewDefault(ctx, region, sigv4.WithNext(authRT))
		if err != nil {
			return err
		}
		rep.Signing = "sigv4 " + tr.Region()
		opts = append(opts, remotewrite.WithTransport(tr))
	}
	client, err := remotewrite.New(c.url, opts...)
	if err != nil {
		return usagef("push: %v", err)
	}
	res, werr := client.Write(ctx, req)
	rep.fill(res, werr)
	if c.output == "json" {
		enc := json.NewEncoder(c.out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		rep.writeText(c.out)
	}
	if werr != nil {
		return &exitError{code: exitFailed, err: errReported}
	}
	return nil
}

func (c *pushCommand) load(ctx context.Context, rep *pushReport) ([]*dto.MetricFamily, error) {
	if c.scrapeURL != "" {
		rep.Source = c.scrapeURL
		return scrape.Fetch(ctx, &http.Client{Timeout: 30 * time.Second}, c.scrapeURL)
	}
	rep.Source = c.file
	var r io.Reader = c.in
	if c.file != "-" {
		f, err := os.Open(c.file)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	fams, err := scrape.Parse(r, "")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.file, err)
	}
	return fams, nil
}

// pushReport is what `rwkit push` prints, as text or JSON.
type pushReport struct {
	Result    string     `json:"result"` // delivered, refused, failed
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

	Requests          int     `json:"requests"`
	Delivered         int     `json:"requests_delivered"`
	BytesCompressed   int     `json:"bytes_compressed"`
	BytesUncompressed int     `json:"bytes_uncompressed"`
	Attempts          int     `json:"attempts"`
	DurationSeconds   float64 `json:"duration_seconds"`

	Refusal *refusal `json:"refusal,omitempty"`
}

type refusal struct {
	Status            int    `json:"status"`
	StatusText        string `json:"status_text,omitempty"`
	Reason            string `json:"reason,omitempty"`
	Hint              string `json:"hint,omitempty"`
	Body              string `json:"body"`
	BodyTruncated     bool   `json:"body_truncated,omitempty"`
	Request           int    `json:"request"`
	Requests          int    `json:"requests"`
	Series            int    `json:"series"`
	Samples           int    `json:"samples"`
	Histograms        int    `json:"histograms"`
	Exemplars         int    `json:"exemplars"`
	BytesCompressed   int    `json:"bytes_compressed"`
	BytesUncompressed int    `json:"bytes_uncompressed"`
	Attempts          int    `json:"attempts"`
	RetryAfterSeconds int    `json:"retry_after_seconds,omitempty"`
	Error             string `json:"error"`
}

func (r *pushReport) fill(res *remotewrite.Result, err error) {
	r.Result = "delivered"
	if res != nil {
		r.Version = res.Version.String()
		r.Requests = res.Requests
		r.Delivered = res.Requests
		r.BytesCompressed = res.BytesCompressed
		r.BytesUncompressed = res.BytesUncompressed
		r.Attempts = res.Attempts
		r.DurationSeconds = res.Duration.Seconds()
	}
	if err == nil {
		return
	}
	r.Result = "failed"
	var rwErr *remotewrite.Error
	if !errors.As(err, &rwErr) {
		r.Refusal = &refusal{Error: err.Error()}
		return
	}
	if rwErr.StatusCode >= 400 && !rwErr.Retryable() {
		r.Result = "refused"
	}
	r.Version = rwErr.Version.String()
	r.Requests = rwErr.Requests
	r.Refusal = &refusal{
		Status: rwErr.StatusCode, StatusText: rwErr.Status, Reason: string(rwErr.Reason), Hint: rwErr.Hint,
		Body: rwErr.Body, BodyTruncated: rwErr.BodyTruncated, Request: rwErr.Request, Requests: rwErr.Requests,
		Series: rwErr.Series, Samples: rwErr.Samples, Histograms: rwErr.Histograms, Exemplars: rwErr.Exemplars,
		BytesCompressed: rwErr.BytesCompressed, BytesUncompressed: rwErr.BytesUncompressed,
		Attempts: rwErr.Attempts, RetryAfterSeconds: int(rwErr.RetryAfter.Seconds()), Error: err.Error(),
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
	row("delivered", "%d of %d requests, %s snappy (%s raw)", r.Delivered, max(r.Requests, r.Delivered), byteSize(r.BytesCompressed), byteSize(r.BytesUncompressed))
	row("attempts", "%d", r.Attempts)
	row("duration", "%s", time.Duration(r.DurationSeconds*float64(time.Second)).Round(time.Millisecond))
	for _, n := range r.Notes {
		row("note", "%s", n)
	}
	if f := r.Refusal; f != nil {
		if f.Status != 0 {
			row("status", "%s", orDefault(f.StatusText, fmt.Sprint(f.Status)))
			row("request", "%d of %d: %d series, %d samples, %d histograms, %d exemplars, %s snappy (%s raw), %d attempts",
				f.Request, f.Requests, f.Series, f.Samples, f.Histograms, f.Exemplars, byteSize(f.BytesCompressed), byteSize(f.BytesUncompressed), f.Attempts)
			row("reason", "%s", orDefault(f.Reason, "(not named by the body)"))
			if f.Hint != "" {
				row("hint", "%s", f.Hint)
			}
			body := f.Body
			if body == "" {
				body = "(empty)"
			}
			if f.BodyTruncated {
				body += " [truncated at 1 MiB]"
			}
			row("body", "%s", strings.TrimRight(body, "\n"))
		} else {
			row("error", "%s", f.Error)
		}
	}
	tw.Flush()
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
