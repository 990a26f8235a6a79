package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rwkit/rwkit/internal/redact"
	"github.com/rwkit/rwkit/internal/version"
	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/remotewrite/sigv4"
	"github.com/rwkit/rwkit/wire"
)

func init() {
	register("doctor", "check a remote-write URL step by step: shape, DNS, TLS, credentials, an empty write", func(s stdio) command { return &doctorCommand{stdio: s} })
}

type doctorCommand struct {
	stdio
	url          string
	sigv4Region  string
	sigv4        bool
	timeout      time.Duration
	auth         authFlags
	authConf     remotewrite.Auth // the auth flags, read once
	authErr      error            // why they cannot be used; the auth step reports it
	authRT       http.RoundTripper
	rwVersion    int
	loadAWSCreds func(ctx context.Context, region string) (aws.Config, error) // tests may replace it
}

const doctorExample = `  rwkit doctor --url https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-1234/api/v1/remote_write
  rwkit doctor --url http://127.0.0.1:9090/api/v1/write`

// step is one check's outcome.
type step struct {
	name   string
	status string // ok, FAIL, warn, skip
	detail string
	fix    string
}

func (c *doctorCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("doctor --url URL [--sigv4-region R]",
		"Checks a remote-write URL the way a push would use it, step by step: URL shape, DNS, TCP/TLS,\n"+
			"AWS credentials and region (for AMP or with --sigv4-region), then an empty signed write.\n"+
			"Stops at the first failing step and says how to fix it. A malformed --url is the first step's failure.\n"+
			"Exit codes: 0 every step passed, 1 a step failed, 2 usage.",
		doctorExample, c.err)
	fs.StringVar(&c.url, "url", "", "remote-write URL to check (required)")
	fs.StringVar(&c.sigv4Region, "sigv4-region", "", "sign with AWS SigV4 for this region (default: the region of an AMP URL)")
	fs.BoolVar(&c.sigv4, "sigv4", false, "sign with AWS SigV4 even when the URL is not an AMP URL (region from --sigv4-region or the AWS config)")
	c.auth.register(fs)
	fs.DurationVar(&c.timeout, "timeout", 10*time.Second, "time limit for each network step")
	fs.IntVar(&c.rwVersion, "rw-version", 1, "protocol of the empty write: 1 or 2")
	if err := parseFlags(fs, args, c.getenv); err != nil {
		return err
	}
	if c.url == "" {
		return flagUsagef("--url", "doctor: --url is required (or RWKIT_URL)")
	}
	if c.rwVersion != 1 && c.rwVersion != 2 {
		return flagUsagef("--rw-version", "doctor: --rw-version: want 1 or 2, got %d", c.rwVersion)
	}
	// A malformed --url is not a usage error here: checking it is the
	// doctor's first step, which says what is wrong and how to fix it.
	if err := checkPositive("doctor", durationFlag{"--timeout", c.timeout}); err != nil {
		return err
	}
	// Flags that contradict each other are usage errors; the files they
	// name are read, and reported on, by the auth step.
	if _, err := c.auth.headers(); err != nil {
		return err
	}
	if c.loadAWSCreds == nil {
		c.loadAWSCreds = loadAWSConfig
	}
	fmt.Fprintf(c.out, "rwkit doctor %s\n", redact.URL(c.url))
	failed := false
	report := func(s step) bool {
		fmt.Fprintf(c.out, "  %-5s %-12s %s\n", s.status, s.name, redact.Text(s.detail))
		if s.fix != "" {
			fmt.Fprintf(c.out, "        %-12s fix: %s\n", "", s.fix)
		}
		if s.status == "FAIL" {
			failed = true
		}
		return !failed
	}
	u, s := checkURLShape(c.url, c.sigv4Region)
	if !report(s) {
		return doctorFailed(c.out, s)
	}
	// The TLS flags shape the connection step; the auth step reports
	// on all of them.
	c.authConf, c.authErr = c.auth.remote()
	for _, check := range []func(context.Context, *url.URL) step{c.checkDNS, c.checkConnect} {
		cctx, cancel := context.WithTimeout(ctx, c.timeout)
		s := check(cctx, u)
		cancel()
		if !report(s) {
			return doctorFailed(c.out, s)
		}
	}
	if s := c.checkAuth(); !report(s) {
		return doctorFailed(c.out, s)
	}
	tr, s := c.checkCredentials(ctx, u)
	if !report(s) {
		return doctorFailed(c.out, s)
	}
	wctx, cancel := context.WithTimeout(ctx, c.timeout)
	s = c.checkEmptyWrite(wctx, u, tr)
	cancel()
	if !report(s) {
		return doctorFailed(c.out, s)
	}
	fmt.Fprintln(c.out, "all steps passed")
	return nil
}

func doctorFailed(w io.Writer, s step) error {
	fmt.Fprintf(w, "first failing step: %s\n", s.name)
	return reportedError(exitFailed, fmt.Errorf("doctor: step %s failed: %s", s.name, s.detail))
}

var (
	ampPath = regexp.MustCompile(`^/workspaces/ws-[0-9a-zA-Z-]+/api/v1/remote_write$`)
	// Paths by backend, for the shape check. A path not listed is only a
	// warning: proxies and gateways mount receivers anywhere.
	knownPaths = []struct{ suffix, backend string }{
		{"/api/v1/push", "Cortex / Mimir"},
		{"/api/v1/write", "Prometheus / VictoriaMetrics"},
		{"/api/v1/receive", "Thanos Receive"},
		{"/api/v1/remote_write", "AMP-style"},
		{"/insert/0/prometheus/api/v1/write", "VictoriaMetrics cluster"},
	}
)

// checkURLShape checks what can be known without the network.
func checkURLShape(raw, sigv4Region string) (*url.URL, step) {
	s := step{name: "url"}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		s.status, s.detail = "FAIL", fmt.Sprintf("%q is not an absolute http(s) URL", redact.URL(raw))
		s.fix = "give the full URL, e.g. https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-.../api/v1/remote_write"
		return nil, s
	}
	if u.User != nil {
		s.status, s.detail = "warn", "the URL carries credentials (user:password@): they are sent as basic auth and show in process lists"
	}
	if region, ok := sigv4.RegionFromURL(raw); ok {
		if !ampPath.MatchString(u.Path) {
			s.status = "FAIL"
			s.detail = fmt.Sprintf("AMP URL (region %s) with path %q", region, u.Path)
			s.fix = "AMP's remote-write path is /workspaces/<ws-id>/api/v1/remote_write (a path without /api/v1 answers 404)"
			if strings.HasSuffix(u.Path, "/api/v1/query") {
				s.fix = "that is the query endpoint; remote write goes to .../api/v1/remote_write"
			}
			return nil, s
		}
		if u.Scheme != "https" {
			s.status, s.detail, s.fix = "FAIL", "AMP URL over http", "AMP only answers https"
			return nil, s
		}
		if _, _, err := sigv4.Signing(raw, sigv4Region, false); err != nil {
			s.status, s.detail = "FAIL", err.Error()
			s.fix = fmt.Sprintf("use --sigv4-region %s, or drop the flag: rwkit reads the region from the URL", region)
			return nil, s
		}
		if s.status == "" {
			s.status, s.detail = "ok", fmt.Sprintf("Amazon Managed Service for Prometheus, region %s, workspace %s", region, strings.Split(u.Path, "/")[2])
		}
		return u, s
	}
	for _, k := range knownPaths {
		if strings.HasSuffix(u.Path, k.suffix) {
			if s.status == "" {
				s.status, s.detail = "ok", fmt.Sprintf("%s remote-write path %s", k.backend, k.suffix)
			}
			return u, s
		}
	}
	if s.status == "" {
		s.status = "warn"
		s.detail = fmt.Sprintf("path %q is not a known remote-write path (Cortex/Mimir /api/v1/push, Prometheus /api/v1/write, AMP .../api/v1/remote_write)", u.Path)
	}
	return u, s
}

func (c *doctorCommand) checkDNS(ctx context.Context, u *url.URL) step {
	s := step{name: "dns"}
	host := u.Hostname()
	if ip := net.ParseIP(host); ip != nil {
		s.status, s.detail = "ok", fmt.Sprintf("%s is an IP address", host)
		return s
	}
	addrs, err := net.DefaultResolver.LookupHost(ctx, host)
	if err != nil {
		s.status, s.detail = "FAIL", fmt.Sprintf("resolve %s: %v", host, err)
		s.fix = "check the host name; from a private subnet, AMP needs a VPC endpoint (com.amazonaws.<region>.aps-workspaces) or a NAT route"
		return s
	}
	s.status, s.detail = "ok", fmt.Sprintf("%s -> %s", host, strings.Join(addrs, ", "))
	return s
}

func (c *doctorCommand) checkConnect(ctx context.Context, u *url.URL) step {
	s := step{name: "connect"}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	addr := net.JoinHostPort(u.Hostname(), port)
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		s.status, s.detail = "FAIL", fmt.Sprintf("tcp %s: %v", addr, err)
		s.fix = "nothing answers there: check the port, security groups / firewalls, and that the receiver runs"
		return s
	}
	defer conn.Close()
	if u.Scheme != "https" {
		s.status, s.detail = "ok", fmt.Sprintf("tcp %s (plain http)", addr)
		return s
	}
	conf := &tls.Config{ServerName: u.Hostname()}
	if c.authConf.TLS != nil {
		conf = c.authConf.TLS.Clone()
		if conf.ServerName == "" {
			conf.ServerName = u.Hostname()
		}
	}
	tc := tls.Client(conn, conf)
	if err := tc.HandshakeContext(ctx); err != nil {
		s.status, s.detail = "FAIL", fmt.Sprintf("tls %s: %v", addr, err)
		s.fix = "the server's certificate is not trusted for this host name: check the URL's host, or the CA bundle (SSL_CERT_FILE)"
		return s
	}
	st := tc.ConnectionState()
	leaf := st.PeerCertificates[0]
	s.status = "ok"
	s.detail = fmt.Sprintf("tls %s, %s, certificate %q valid until %s", addr, tls.VersionName(st.Version), leaf.Subject.CommonName, leaf.NotAfter.Format("2006-01-02"))
	if time.Until(leaf.NotAfter) < 14*24*time.Hour {
		s.status = "warn"
		s.detail += " (expires within 14 days)"
	}
	return s
}

// loadAWSConfig is the AWS default configuration of verify, doctor and
// discards: the SDK prints nothing on stderr, and missing credentials fail
// with a *sigv4.CredentialsError that lists the chain.
func loadAWSConfig(ctx context.Context, region string) (aws.Config, error) {
	return sigv4.LoadDefaultConfig(ctx, region, nil)
}

// checkCredentials resolves AWS credentials when the write will be signed,
// and returns the transport the empty write goes through.
func (c *doctorCommand) checkCredentials(ctx context.Context, u *url.URL) (http.RoundTripper, step) {
	s := step{name: "credentials"}
	region, sign, err := sigv4.Signing(u.String(), c.sigv4Region, c.sigv4)
	switch {
	case err != nil:
		s.status, s.detail = "FAIL", err.Error()
		s.fix = "drop --sigv4-region, or give the region in the URL's host"
		return nil, s
	case !sign:
		s.status, s.detail = "skip", "not an AMP URL and no --sigv4-region: the write is not signed"
		return c.authRT, s
	case c.auth.usesAuthorization():
		s.status, s.detail = "FAIL", "SigV4 signing and --bearer-token-file / --basic-auth-username both set Authorization"
		s.fix = "an AMP URL is always signed: drop the bearer or basic auth flags"
		return nil, s
	}
	cctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	cfg, err := c.loadAWSCreds(cctx, region)
	if err != nil {
		s.status, s.detail = "FAIL", fmt.Sprintf("load AWS config: %v", err)
		s.fix = "check AWS_PROFILE / AWS_CONFIG_FILE and the shared config file's syntax"
		return nil, s
	}
	if cfg.Region == "" {
		s.status, s.detail = "FAIL", "no AWS region"
		s.fix = "pass --sigv4-region, set AWS_REGION, or use the AMP URL (its host names the region)"
		return nil, s
	}
	if cfg.Credentials == nil {
		s.status, s.detail = "FAIL", "the AWS config has no credentials provider"
		s.fix = "set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or run with a task/instance role"
		return nil, s
	}
	creds, err := cfg.Credentials.Retrieve(cctx)
	if err != nil {
		s.status, s.detail, s.fix = "FAIL", fmt.Sprintf("no AWS credentials found: %s", firstLine(err.Error())), sigv4.ChainHint
		if ce := (*sigv4.CredentialsError)(nil); errors.As(err, &ce) {
			s.detail = "no AWS credentials found: " + firstLine(ce.Reason())
		}
		return nil, s
	}
	tr, err := sigv4.New(cfg.Region, cfg.Credentials, sigv4.WithNext(c.authRT))
	if err != nil {
		s.status, s.detail = "FAIL", err.Error()
		return nil, s
	}
	s.status = "ok"
	s.detail = fmt.Sprintf("region %s, access key %s from %s", cfg.Region, maskKey(creds.AccessKeyID), creds.Source)
	if creds.CanExpire {
		s.detail += fmt.Sprintf(", expires %s", creds.Expires.UTC().Format(time.RFC3339))
	}
	return tr, s
}

// checkAuth reads every secret file the auth flags name (readable, not
// empty) and the TLS files, naming the one that fails; the empty write
// then shows whether the backend takes them.
func (c *doctorCommand) checkAuth() step {
	s := step{name: "auth"}
	auth, err := c.authConf, c.authErr
	if err != nil {
		s.status, s.detail = "FAIL", strings.TrimPrefix(err.Error(), "auth: ")
		s.fix = "check the file named and its permissions; secrets are read from files, never from flags"
		return s
	}
	if c.authRT, err = auth.Transport(nil); err != nil {
		s.status, s.detail = "FAIL", err.Error()
		return s
	}
	var parts []string
	if t := c.auth.tenant; t != "" {
		parts = append(parts, "tenant "+t)
	}
	if n := len(auth.Headers) - min(len(c.auth.tenant), 1); n > 0 {
		parts = append(parts, fmt.Sprintf("%d header(s)", n))
	}
	if c.auth.bearerTokenFile != "" {
		parts = append(parts, "bearer token from "+c.auth.bearerTokenFile)
	}
	if c.auth.basicUser != "" {
		parts = append(parts, "basic auth as "+c.auth.basicUser)
	}
	if auth.TLS != nil {
		switch {
		case len(auth.TLS.Certificates) > 0:
			parts = append(parts, "mTLS client certificate "+c.auth.tlsCert)
		default:
			parts = append(parts, "TLS settings")
		}
	}
	if len(parts) == 0 {
		s.status, s.detail = "skip", "no tenant, header, token, basic auth or TLS flags"
		return s
	}
	s.status, s.detail = "ok", strings.Join(parts, ", ")
	return s
}

// authFix says what to do about a 401 or 403, by what the write carried.
func (c *doctorCommand) authFix(status int, tr http.RoundTripper) string {
	_, signed := tr.(*sigv4.Transport)
	switch {
	case signed && status == http.StatusForbidden:
		return "the signature was checked and refused: the identity needs aps:RemoteWrite on this workspace, the region must match the URL, and the clock must be right (SigV4 allows 5 minutes of skew)"
	case signed:
		return "the receiver does not take SigV4: give its own credentials (--bearer-token-file, --basic-auth-username with --basic-auth-password-file) or --tenant"
	case c.auth.any():
		return "the receiver refused the credentials given (see the auth step): check the token or password in the file, the user name and the tenant"
	}
	return "the receiver wants credentials: --tenant for Cortex or Mimir (401 \"no org id\"), --bearer-token-file or --basic-auth-username with --basic-auth-password-file, SigV4 (--sigv4-region) for AMP"
}

// checkEmptyWrite sends a remote write with no series: every backend
// accepts one, so any refusal is about the URL, the auth or the protocol.
func (c *doctorCommand) checkEmptyWrite(ctx context.Context, u *url.URL, tr http.RoundTripper) step {
	s := step{name: "empty write"}
	v := wire.Version(c.rwVersion)
	var raw []byte
	if v == wire.V2 {
		raw = wire.AppendRequestV2(nil, &wire.WriteRequest{})
	} else {
		raw = wire.AppendWriteRequest(nil, &wire.WriteRequest{})
	}
	body := wire.Compress(nil, raw)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(string(body)))
	if err != nil {
		s.status, s.detail = "FAIL", err.Error()
		return s
	}
	req.Header.Set("Content-Encoding", wire.ContentEncoding)
	req.Header.Set("Content-Type", v.ContentType())
	req.Header.Set(wire.HeaderVersion, v.HeaderValue())
	req.Header.Set("User-Agent", version.UserAgent())
	start := time.Now()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		s.status, s.detail = "FAIL", fmt.Sprintf("POST: %v", err)
		s.fix = "the connection worked a moment ago: check proxies (HTTPS_PROXY) and the credentials provider"
		return s
	}
	defer resp.Body.Close()
	respBody, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	detail := fmt.Sprintf("POST RW %s -> %s in %s", v, resp.Status, time.Since(start).Round(time.Millisecond))
	if b := strings.TrimSpace(string(respBody)); b != "" {
		detail += fmt.Sprintf(": %q", firstLine(b))
	}
	s.detail = detail
	if resp.StatusCode/100 == 2 {
		s.status = "ok"
		return s
	}
	s.status = "FAIL"
	reason, hint := remotewrite.Classify(resp.StatusCode, string(respBody))
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		s.fix = c.authFix(resp.StatusCode, tr)
	case http.StatusNotFound:
		if strings.Contains(string(respBody), "remote-write-receiver") {
			s.fix = "this Prometheus does not receive remote write: start it with --web.enable-remote-write-receiver"
			break
		}
		s.fix = "nothing receives remote write at this path: check the path (AMP .../api/v1/remote_write, Cortex/Mimir /api/v1/push, Prometheus /api/v1/write) and the workspace ID"
	case http.StatusMethodNotAllowed:
		s.fix = "this path does not take POST: it is likely a query or UI path"
	case http.StatusUnsupportedMediaType:
		s.fix = "the receiver does not speak this protocol version: try --rw-version 1"
	default:
		if hint != "" {
			s.fix = strings.TrimSpace(fmt.Sprintf("%s %s", reason, hint))
		}
	}
	return s
}

func maskKey(id string) string {
	if len(id) <= 8 {
		return "****"
	}
	return id[:4] + strings.Repeat("*", len(id)-8) + id[len(id)-4:]
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}
