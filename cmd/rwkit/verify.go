package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rwkit/rwkit/internal/redact"
	"github.com/rwkit/rwkit/remotewrite/sigv4"
	"github.com/rwkit/rwkit/verify"
)

func init() {
	register("verify", "run a PromQL query against a query API (AMP, Prometheus, Cortex, the workspace) and check expectations", func(s stdio) command { return &verifyCommand{stdio: s} })
	jsonCommands["verify"] = true
}

type verifyCommand struct {
	stdio
	queryURL    string
	query       string
	at          string
	series      optionalInt
	min         optionalInt
	labels      listFlag
	distinct    listFlag
	auth        authFlags
	sigv4Region string
	sigv4       bool
	timeout     time.Duration
	maxRows     int
	output      outputFlag

	now     func() time.Time                                             // tests may replace it
	loadAWS func(ctx context.Context, region string) (aws.Config, error) // tests may replace it
}

const verifyExample = `  # the seed's bar: six services, each series with service and instance (AMP, SigV4 from the URL's region)
  rwkit verify --query-url https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-1234 \
    --query 'count by (service) (jvm_threads_live_threads)' --expect-distinct service=6
  rwkit verify --query-url https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-1234 \
    --query 'forge_observability_amp_push_success_total' --expect-label service --expect-label instance --expect-min 6
  # a failure counter that must not exist:
  rwkit verify --query-url http://127.0.0.1:9090 --query 'rwkit_push_requests_total{result="failed"} > 0' --expect-series 0
  # Cortex / Mimir, one tenant; rwkit's workspace (serve):
  rwkit verify --query-url http://cortex:9009/prometheus --tenant team-a --query up --expect-min 1
  rwkit verify --query-url http://127.0.0.1:9095/workspaces/ws-1 --query 'count by (service) (up)' --expect-distinct service=6`

func (c *verifyCommand) Run(ctx context.Context, args []string) error {
	if err := parseFlags(c.flagSet(), args, c.getenv); err != nil {
		return err
	}
	if err := c.checkFlags(); err != nil {
		return err
	}
	exps, err := c.expectations()
	if err != nil {
		return err
	}
	if c.now == nil {
		c.now = time.Now
	}
	at, err := parseEvalTime(c.at, c.now())
	if err != nil {
		return flagUsagef("--time", "verify: --time %q: %v", c.at, err)
	}
	if c.loadAWS == nil {
		c.loadAWS = loadAWSConfig
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	endpoint, _ := verify.QueryEndpoint(c.queryURL)
	rep := &verifyReport{Query: c.query, URL: redact.URL(endpoint), Time: at.UTC().Truncate(time.Millisecond), Tenant: c.auth.tenant, Signing: "none"}
	client, err := c.client(ctx, rep)
	if err != nil {
		return err
	}
	res, qerr := verify.Query(ctx, client, c.queryURL, c.query, at, nil)
	rep.fill(res, qerr, exps)
	if c.output == "json" {
		c.setResult(rep)
	} else {
		rep.writeText(c.out, c.maxRows)
	}
	return rep.outcome()
}

// flagSet is verify's command line.
func (c *verifyCommand) flagSet() *flag.FlagSet {
	fs := newFlagSet("verify --query-url URL --query PROMQL [--expect-...]",
		"Runs one instant PromQL query against a Prometheus-compatible query API and checks what came back:\n"+
			"that pushed data was stored, with the labels that keep writers apart. --query-url is the API base,\n"+
			"the part before /api/v1/query. AMP URLs are signed with SigV4 (the AWS default credential chain;\n"+
			"region from the URL unless --sigv4-region). Prints the series (labels, value) and each expectation.\n"+
			"With no expectation, prints the result and exits 0.\n"+
			"Exit codes: 0 every expectation held, 3 one failed, 1 the query failed (unreachable, refused, bad\n"+
			"PromQL: the API's errorType and error are shown), 2 usage.",
		verifyExample, c.err)
	fs.StringVar(&c.queryURL, "query-url", "", "query API base URL, e.g. http://127.0.0.1:9090, http://cortex:9009/prometheus, https://aps-workspaces.<region>.amazonaws.com/workspaces/<ws-id> (required)")
	fs.StringVar(&c.query, "query", "", "PromQL instant query (required)")
	fs.StringVar(&c.at, "time", "", "evaluation time: RFC 3339, Unix seconds, or a negative duration from now such as -5m (default now)")
	fs.Var(&c.series, "expect-series", "expect exactly N series (0: the query returns nothing)")
	fs.Var(&c.min, "expect-min", "expect at least N series")
	fs.Var(&c.labels, "expect-label", "expect every series to have label NAME, non-empty; repeatable (env: comma-separated)")
	fs.Var(&c.distinct, "expect-distinct", "expect LABEL=N: exactly N distinct values of LABEL, e.g. service=6; repeatable (env: comma-separated)")
	c.auth.register(fs)
	fs.StringVar(&c.sigv4Region, "sigv4-region", "", "sign with AWS SigV4 (service aps) for this region (default: the region of an AMP URL)")
	fs.BoolVar(&c.sigv4, "sigv4", false, "sign with SigV4 even when the URL is not an AMP URL (region from --sigv4-region or the AWS config)")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "time limit for the query")
	fs.IntVar(&c.maxRows, "max-rows", 50, "print at most this many series in text output (0: all)")
	c.output = "text"
	fs.Var(&c.output, "output", "report format: text or json")
	return fs
}

// checkFlags checks the flags that need no parsing beyond the flag
// package's before anything is sent.
func (c *verifyCommand) checkFlags() error {
	if c.queryURL == "" {
		return flagUsagef("--query-url", "verify: --query-url is required (or RWKIT_QUERY_URL)")
	}
	if c.query == "" {
		return flagUsagef("--query", "verify: --query is required (or RWKIT_QUERY)")
	}
	if err := checkURLFlag("verify", "--query-url", c.queryURL); err != nil {
		return err
	}
	if err := checkPositive("verify", durationFlag{"--timeout", c.timeout}); err != nil {
		return err
	}
	return checkAtLeast("verify", "--max-rows", c.maxRows, 0)
}

// client is the HTTP client of the query: the auth flags' transport,
// signed with SigV4 when the URL or the flags ask for it (rep says which).
func (c *verifyCommand) client(ctx context.Context, rep *verifyReport) (*http.Client, error) {
	authRT, err := c.auth.transport()
	if err != nil {
		return nil, err
	}
	client := &http.Client{Transport: authRT}
	region, sign, err := sigv4.Signing(c.queryURL, c.sigv4Region, c.sigv4)
	if err != nil {
		return nil, flagUsagef("--sigv4-region", "verify: --sigv4-region: %s", strings.TrimPrefix(err.Error(), "sigv4: "))
	}
	if sign && c.auth.usesAuthorization() {
		return nil, flagUsagef("--bearer-token-file", "verify: SigV4 signing and --bearer-token-file / --basic-auth-username both set Authorization: give one (an AMP URL is always signed)")
	}
	if !sign {
		return client, nil
	}
	cfg, err := c.loadAWS(ctx, region)
	if err != nil {
		return nil, fmt.Errorf("verify: load AWS config: %w", err)
	}
	tr, err := sigv4.New(cfg.Region, cfg.Credentials, sigv4.WithNext(authRT))
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	client.Transport = tr
	rep.Signing = "sigv4 " + tr.Region()
	return client, nil
}

// fill records the query's answer, or its error, and the expectations
// checked against it: Result is ok with no expectation, else pass or fail.
func (rep *verifyReport) fill(res *verify.Result, qerr error, exps []verify.Expectation) {
	if qerr != nil {
		rep.fillError(qerr)
		return
	}
	rep.Type, rep.Warnings = res.Type, res.Warnings
	rep.Series = res.Samples
	rep.Checks = verify.Check(res, exps)
	rep.Result = "ok"
	if len(exps) > 0 {
		rep.Result = "pass"
		if !verify.Passed(rep.Checks) {
			rep.Result = "fail"
		}
	}
}

// outcome is the command's error for a report already printed: exit 1
// for a failed query, 3 for a failed expectation.
func (rep *verifyReport) outcome() error {
	switch rep.Result {
	case "error":
		return reportedError(exitFailed, fmt.Errorf("verify: the query failed: %s", rep.Error.Message))
	case "fail":
		var failed []string
		for _, o := range rep.Checks {
			if !o.Pass {
				failed = append(failed, fmt.Sprintf("%s (got %s)", o.Expectation, o.Got))
			}
		}
		return reportedError(exitFound, fmt.Errorf("verify: expectation failed: %s", strings.Join(failed, "; ")))
	}
	return nil
}

func (c *verifyCommand) expectations() ([]verify.Expectation, error) {
	var exps []verify.Expectation
	if c.series.set {
		exps = append(exps, verify.ExpectSeries(c.series.v))
	}
	if c.min.set {
		exps = append(exps, verify.ExpectMin(c.min.v))
	}
	for _, l := range c.labels {
		exps = append(exps, verify.ExpectLabel(l))
	}
	for _, d := range c.distinct {
		label, n, ok := strings.Cut(d, "=")
		count, err := strconv.Atoi(n)
		if !ok || label == "" || err != nil || count < 0 {
			return nil, flagUsagef("--expect-distinct", "verify: --expect-distinct %q: want LABEL=N, e.g. service=6", d)
		}
		exps = append(exps, verify.ExpectDistinct(label, count))
	}
	return exps, nil
}

// parseEvalTime reads --time: empty or "now", RFC 3339, Unix seconds (with
// a fraction), or a negative duration from now.
func parseEvalTime(s string, now time.Time) (time.Time, error) {
	switch {
	case s == "" || s == "now":
		return now, nil
	case strings.HasPrefix(s, "-"):
		if d, err := time.ParseDuration(s); err == nil {
			return now.Add(d), nil
		}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f > 0 {
		return time.UnixMilli(int64(math.Round(f * 1000))), nil
	}
	return time.Time{}, errors.New("want RFC 3339 (2025-05-01T12:00:00Z), Unix seconds, or a negative duration such as -5m")
}

// optionalInt is an int flag that knows whether it was given.
type optionalInt struct {
	v   int
	set bool
}

func (o *optionalInt) String() string {
	if o == nil || !o.set {
		return ""
	}
	return strconv.Itoa(o.v)
}

func (o *optionalInt) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return fmt.Errorf("%q: want a whole number >= 0", s)
	}
	o.v, o.set = n, true
	return nil
}

// verifyReport is what `rwkit verify` prints, as text or JSON.
type verifyReport struct {
	Result   string           `json:"result"` // pass, fail, ok (no expectations), error
	Query    string           `json:"query"`
	URL      string           `json:"url"`
	Time     time.Time        `json:"time"`
	Tenant   string           `json:"tenant,omitempty"`
	Signing  string           `json:"signing"`
	Type     string           `json:"type,omitempty"`
	Warnings []string         `json:"warnings,omitempty"`
	Series   []verify.Sample  `json:"series"`
	Checks   []verify.Outcome `json:"checks"`
	Error    *verifyError     `json:"error,omitempty"`
}

type verifyError struct {
	Status    int    `json:"status,omitempty"`
	ErrorType string `json:"error_type,omitempty"`
	Message   string `json:"message"`
	Hint      string `json:"hint,omitempty"`
}

func (r *verifyReport) fillError(err error) {
	r.Result = "error"
	r.Series, r.Checks = []verify.Sample{}, []verify.Outcome{}
	e := &verifyError{Message: redact.Text(err.Error())}
	var ae *verify.APIError
	if errors.As(err, &ae) {
		e.Status, e.ErrorType = ae.StatusCode, ae.ErrorType
		switch {
		case ae.StatusCode == http.StatusUnauthorized || ae.StatusCode == http.StatusForbidden:
			e.Hint = "check credentials: AMP needs SigV4 with aps:QueryMetrics on the workspace and the region of the URL; Cortex/Mimir may need --tenant"
		case ae.StatusCode == http.StatusNotFound:
			e.Hint = "nothing serves the query API there: --query-url is the part before /api/v1/query (Cortex: .../prometheus; AMP: .../workspaces/<ws-id>)"
		case ae.ErrorType == "bad_data":
			e.Hint = "the PromQL does not parse or is invalid; try it in the Prometheus UI or with promtool"
		}
	} else if errors.Is(err, verify.ErrRangeVector) {
		e.Message = verify.ErrRangeVector.Error()
	}
	r.Error = e
}

func (r *verifyReport) writeText(w io.Writer, maxRows int) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "  %s\t%s\n", k, fmt.Sprintf(format, args...)) }
	status := map[string]string{"pass": "pass", "fail": "FAIL", "ok": "ok (no expectations)", "error": "ERROR"}[r.Result]
	fmt.Fprintf(tw, "rwkit verify: %s\n", status)
	row("query", "%s", r.Query)
	row("url", "%s", r.URL)
	row("time", "%s", r.Time.Format(time.RFC3339Nano))
	if r.Tenant != "" {
		row("tenant", "%s", r.Tenant)
	}
	row("signing", "%s", r.Signing)
	if e := r.Error; e != nil {
		row("error", "%s", e.Message)
		if e.Hint != "" {
			row("hint", "%s", e.Hint)
		}
		tw.Flush()
		return
	}
	row("result", "%s, %s", r.Type, seriesCountText(len(r.Series)))
	for _, wn := range r.Warnings {
		row("warning", "%s", wn)
	}
	tw.Flush()

	if len(r.Series) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  SERIES\tVALUE\n")
		for i, s := range r.Series {
			if maxRows > 0 && i == maxRows {
				fmt.Fprintf(tw, "  ... %d more (--max-rows, or --output json for all)\t\n", len(r.Series)-maxRows)
				break
			}
			fmt.Fprintf(tw, "  %s\t%s\n", verify.LabelString(s.Labels), formatSampleValue(s.Value))
		}
		tw.Flush()
	}
	if len(r.Checks) > 0 {
		fmt.Fprintln(w)
		writeCheckTable(w, "EXPECTATION", r.Checks, func(o verify.Outcome) (string, bool, string) { return o.Expectation, o.Pass, o.Got })
	}
}

// writeCheckTable prints checks (verify's expectations, the demo's story)
// as one table: what was checked under heading, pass or FAIL, what was got.
func writeCheckTable[T any](w io.Writer, heading string, checks []T, row func(T) (name string, pass bool, got string)) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  %s\tRESULT\tGOT\n", heading)
	for _, c := range checks {
		name, pass, got := row(c)
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", name, passText(pass), got)
	}
	tw.Flush()
}

// passText is how a check's result reads in text output.
func passText(pass bool) string {
	if pass {
		return "pass"
	}
	return "FAIL"
}

func seriesCountText(n int) string {
	if n == 1 {
		return "1 series"
	}
	return fmt.Sprintf("%d series", n)
}

// formatSampleValue prints whole numbers without an exponent (counters read
// better as 1700000000 than 1.7e+09) and everything else as Prometheus does.
func formatSampleValue(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
