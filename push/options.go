package push

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rwkit/rwkit/identity"
	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/wire"
)

// Defaults. Each option's doc says which one it changes.
const (
	// DefaultInterval is the time between pushes: the scrape interval of
	// Prometheus' example configurations.
	DefaultInterval = 15 * time.Second
	// DefaultJitter is the fraction of the interval over which the
	// schedule's phase is spread (see WithJitter).
	DefaultJitter = 0.1
	// DefaultBufferBytes bounds the snapshots kept during an outage,
	// counted as their Snappy-compressed encoding (see WithBuffer).
	DefaultBufferBytes = 16 << 20
	// DefaultBufferAge drops buffered snapshots older than this. Cortex and
	// AMP refuse samples older than their head block allows (roughly an
	// hour, less right after a head compaction); 15 minutes stays well
	// inside it.
	DefaultBufferAge = 15 * time.Minute
)

// Option configures a Pusher. Options are sealed: only this package can
// implement them. A nil Option is ignored.
type Option interface {
	apply(*config) error
}

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

type config struct {
	service, instance           string
	serviceLabel, instanceLabel string
	identityOpts                identity.Options
	noIdentity                  bool
	labels                      map[string]string

	interval      time.Duration
	timeout       time.Duration // 0: the interval
	remoteTimeout time.Duration // 0: remotewrite.DefaultTimeout
	minBackoff    time.Duration
	maxBackoff    time.Duration
	backoffSet    bool
	jitter        float64
	aligned       bool

	bufBytes int
	bufAge   time.Duration

	sigv4       bool
	sigv4Region string
	noSigV4     bool
	transport   http.RoundTripper
	httpClient  *http.Client
	clientOpts  []remotewrite.Option
	auth        remotewrite.Auth
	version     wire.Version

	logger     *slog.Logger
	registerer prometheus.Registerer

	stale            bool
	honorTimestamps  bool
	batchTS          int64 // Once's batch timestamp; 0: now
	nativeHistograms bool
	exemplars        bool
	rename           bool

	clock clock
	rand  func() float64 // uniform in [0, 1)

	// streamed: OnceText's client sends series whose label strings are
	// reused between writes, which WithLabelCache must not keep.
	streamed bool
}

func defaultConfig() config {
	return config{
		interval: DefaultInterval,
		jitter:   DefaultJitter,
		bufBytes: DefaultBufferBytes,
		bufAge:   DefaultBufferAge,
		version:  wire.V1,

		minBackoff: remotewrite.DefaultMinBackoff,
		maxBackoff: remotewrite.DefaultMaxBackoff,
	}
}

func (c *config) remoteTimeoutOrDefault() time.Duration {
	if c.remoteTimeout > 0 {
		return c.remoteTimeout
	}
	return remotewrite.DefaultTimeout
}

// WithService sets the value of the service label; it beats every other
// source (see package identity). Required unless RWKIT_SERVICE,
// OTEL_SERVICE_NAME, ECS or Kubernetes metadata give one, or
// WithoutIdentity is used.
func WithService(name string) Option {
	return optionFunc(func(c *config) error {
		if name == "" {
			return errors.New("WithService: empty service name")
		}
		c.service = name
		return nil
	})
}

// WithInstance sets the value of the instance label; it beats every other
// source. By default it comes from RWKIT_INSTANCE, OpenTelemetry's
// service.instance.id, the ECS task ID (with the container name when the
// task has several application containers), the pod name or the host name.
func WithInstance(name string) Option {
	return optionFunc(func(c *config) error {
		if name == "" {
			return errors.New("WithInstance: empty instance name")
		}
		c.instance = name
		return nil
	})
}

// WithIdentityLabels names the two identity labels; the defaults are
// "service" and "instance". WithIdentityLabels("job", "instance") follows
// Prometheus' scrape convention.
func WithIdentityLabels(serviceLabel, instanceLabel string) Option {
	return optionFunc(func(c *config) error {
		if serviceLabel == "" || instanceLabel == "" {
			return fmt.Errorf("WithIdentityLabels(%q, %q): both label names are required", serviceLabel, instanceLabel)
		}
		c.serviceLabel, c.instanceLabel = serviceLabel, instanceLabel
		return nil
	})
}

// WithIdentityOptions sets where identity values are looked up: the
// environment reader, the ECS metadata HTTP client, the host name function
// and which sources are disabled. Service, Instance and the label names in
// o are overridden by WithService, WithInstance and WithIdentityLabels.
func WithIdentityOptions(o identity.Options) Option {
	return optionFunc(func(c *config) error {
		c.identityOpts = o
		return nil
	})
}

// WithoutIdentity pushes without service and instance labels. Use it only
// when this process is the only writer of its series in the workspace:
// writers without identity labels that export the same metrics collide
// (Cortex and AMP answer 400 "new-value-for-timestamp").
func WithoutIdentity() Option {
	return optionFunc(func(c *config) error {
		c.noIdentity = true
		return nil
	})
}

// WithLabels adds constant labels to every series, after the identity
// labels. Names must be valid Prometheus label names and differ from the
// identity label names; values must not be empty.
func WithLabels(labels map[string]string) Option {
	return optionFunc(func(c *config) error {
		if c.labels == nil {
			c.labels = make(map[string]string, len(labels))
		}
		for k, v := range labels {
			if v == "" {
				return fmt.Errorf("WithLabels: label %q has an empty value (Prometheus treats it as absent)", k)
			}
			c.labels[k] = v
		}
		return nil
	})
}

// WithInterval sets the time between pushes; the default is
// DefaultInterval (15s).
func WithInterval(d time.Duration) Option {
	return optionFunc(func(c *config) error {
		if d < time.Millisecond {
			return fmt.Errorf("WithInterval(%s): the interval must be at least 1ms", d)
		}
		c.interval = d
		return nil
	})
}

// WithTimeout bounds one push (buffered snapshots and the new one); the
// default is the interval, so a push never runs into the next one by much.
func WithTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("WithTimeout(%s): the timeout must be positive", d)
		}
		c.timeout = d
		return nil
	})
}

// WithRemoteTimeout bounds each HTTP request (one attempt), as
// Prometheus' remote_write remote_timeout does; the default is
// remotewrite.DefaultTimeout (30s). It is separate from a Pusher's
// WithTimeout, which bounds a whole push, and from the interval: a Queue's
// request is never cancelled because newer batches are waiting. Ignored
// with WithHTTPClient, whose Timeout applies.
func WithRemoteTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("WithRemoteTimeout(%s): the timeout must be positive", d)
		}
		c.remoteTimeout = d
		return nil
	})
}

// WithBackoff sets the wait after a failed attempt: min at first, doubled
// after each failure up to max (Prometheus' queue_config min_backoff and
// max_backoff; defaults remotewrite.DefaultMinBackoff, 30ms, and
// remotewrite.DefaultMaxBackoff, 5s). A Queue carries the backoff from one
// batch to the next while the endpoint stays down and waits exactly that
// long; a Pusher's client uses it between the attempts of one push.
func WithBackoff(min, max time.Duration) Option {
	return optionFunc(func(c *config) error {
		switch {
		case min <= 0:
			return fmt.Errorf("WithBackoff(%s, %s): the minimum must be positive", min, max)
		case max < min:
			return fmt.Errorf("WithBackoff(%s, %s): the maximum is below the minimum", min, max)
		}
		c.minBackoff, c.maxBackoff, c.backoffSet = min, max, true
		return nil
	})
}

// WithJitter spreads the schedule of a fleet: the first push waits a
// random fraction of fraction*interval, chosen once per Pusher, and later
// pushes follow every interval from there. The default is DefaultJitter
// (0.1); 0 pushes first right when Run starts. Jitter moves when a push
// happens, never its timestamp under WithAlignedTimestamps.
func WithJitter(fraction float64) Option {
	return optionFunc(func(c *config) error {
		if math.IsNaN(fraction) || fraction < 0 || fraction > 1 {
			return fmt.Errorf("WithJitter(%v): the fraction must be in [0, 1]", fraction)
		}
		c.jitter = fraction
		return nil
	})
}

// WithAlignedTimestamps stamps each push with the start of its interval,
// floor(now/interval)*interval, as Micrometer's step registries do. Every
// writer with the same interval then stamps the same millisecond: with
// identity labels that is harmless, without them it is exactly how the
// seed incident's six services collided. A push whose interval was already
// stamped by this Pusher (Push between ticks, the final push of Shutdown)
// gets the current time instead, so one Pusher never sends two values for a
// series at one timestamp.
func WithAlignedTimestamps() Option {
	return optionFunc(func(c *config) error {
		c.aligned = true
		return nil
	})
}

// WithBuffer bounds the snapshots kept while the backend cannot be
// reached: at most maxBytes of Snappy-compressed encoding, none older than
// maxAge; the oldest go first. Defaults DefaultBufferBytes (16 MiB) and
// DefaultBufferAge (15 minutes). maxBytes 0 turns buffering off.
func WithBuffer(maxBytes int, maxAge time.Duration) Option {
	return optionFunc(func(c *config) error {
		switch {
		case maxBytes < 0:
			return fmt.Errorf("WithBuffer(%d, %s): maxBytes must not be negative (0 turns buffering off)", maxBytes, maxAge)
		case maxBytes > 0 && maxAge <= 0:
			return fmt.Errorf("WithBuffer(%d, %s): maxAge must be positive", maxBytes, maxAge)
		}
		c.bufBytes, c.bufAge = maxBytes, maxAge
		return nil
	})
}

// WithSigV4 signs requests with AWS Signature Version 4 for Amazon Managed
// Service for Prometheus, with credentials from the AWS SDK's default chain
// (see package remotewrite/sigv4). An empty region is read from the AMP
// URL, else from AWS_REGION or the profile.
//
// An AMP URL (https://aps-workspaces.<region>.amazonaws.com/workspaces/...)
// is signed without this option, with the URL's region: AMP refuses
// anything else. WithSigV4 is for other SigV4 endpoints (a VPC endpoint
// name, a proxy) and to choose the region.
func WithSigV4(region string) Option {
	return optionFunc(func(c *config) error {
		if c.noSigV4 {
			return errors.New("push: WithSigV4 and WithoutSigV4 both given")
		}
		c.sigv4, c.sigv4Region = true, region
		return nil
	})
}

// WithoutSigV4 turns off the signing of AMP URLs, for a transport (see
// WithTransport) that signs requests itself.
func WithoutSigV4() Option {
	return optionFunc(func(c *config) error {
		if c.sigv4 {
			return errors.New("push: WithSigV4 and WithoutSigV4 both given")
		}
		c.noSigV4 = true
		return nil
	})
}

// WithTransport sends requests through rt (under the SigV4 signer when
// the URL is AMP's or WithSigV4 is given).
func WithTransport(rt http.RoundTripper) Option {
	return optionFunc(func(c *config) error {
		c.transport = rt
		return nil
	})
}

// WithHTTPClient sends requests with hc; its Timeout bounds each attempt.
// The default is remotewrite's client (30s per attempt).
func WithHTTPClient(hc *http.Client) Option {
	return optionFunc(func(c *config) error {
		c.httpClient = hc
		return nil
	})
}

// WithClientOptions passes options to the remotewrite.Client, e.g.
// remotewrite.WithHeader("X-Scope-OrgID", "tenant") for Cortex and Mimir,
// WithMaxRequestBytes or WithRetry. They apply after push's own.
func WithClientOptions(opts ...remotewrite.Option) Option {
	return optionFunc(func(c *config) error {
		c.clientOpts = append(c.clientOpts, opts...)
		return nil
	})
}

// WithTenant sends X-Scope-OrgID: tenant with every request: the tenant
// of a multi-tenant Cortex or Mimir (which answer 401 "no org id"
// without it) and the workspace of rwkit's own workspace.
func WithTenant(tenant string) Option {
	return optionFunc(func(c *config) error {
		if tenant == "" {
			return errors.New("WithTenant: empty tenant")
		}
		return WithHeader("X-Scope-OrgID", tenant).apply(c)
	})
}

// WithHeader sends a header with every request. The protocol's own
// headers are refused, and so is Authorization: use WithBearerTokenFile
// or WithBasicAuth, whose secrets are read from files and never printed.
func WithHeader(name, value string) Option {
	return optionFunc(func(c *config) error {
		if strings.EqualFold(name, "Authorization") {
			return errors.New("WithHeader: Authorization comes from WithBearerTokenFile or WithBasicAuth")
		}
		c.clientOpts = append(c.clientOpts, remotewrite.WithHeader(name, value))
		return nil
	})
}

// WithBearerTokenFile sends "Authorization: Bearer <token>" with the token
// in path, read at every request, so that a rotated token is used as soon
// as it is written. New fails when the file cannot be read or is empty.
func WithBearerTokenFile(path string) Option {
	return optionFunc(func(c *config) error {
		if path == "" {
			return errors.New("WithBearerTokenFile: empty path")
		}
		c.auth.BearerTokenFile = path
		return nil
	})
}

// WithBasicAuth sends basic auth with username and the password in
// passwordFile, read at every request (a rotated password is picked up).
// New fails when the file cannot be read or is empty.
func WithBasicAuth(username, passwordFile string) Option {
	return optionFunc(func(c *config) error {
		if username == "" || passwordFile == "" {
			return fmt.Errorf("WithBasicAuth(%q, %q): both the user name and the password file are required", username, passwordFile)
		}
		c.auth.BasicAuthUsername, c.auth.BasicAuthPasswordFile = username, passwordFile
		return nil
	})
}

// WithTLSConfig sets the TLS configuration of the connections: RootCAs to
// verify the backend with, Certificates for mutual TLS, ServerName. It
// applies to the default transport or one given with WithTransport that
// is an *http.Transport.
func WithTLSConfig(tc *tls.Config) Option {
	return optionFunc(func(c *config) error {
		if tc == nil {
			return errors.New("WithTLSConfig: nil config")
		}
		c.auth.TLS = tc
		return nil
	})
}

// WithRWVersion selects the remote-write protocol: wire.V1 (the default,
// taken by every backend, AMP included) or wire.V2, which falls back to
// wire.V1 for good when the receiver does not take it.
func WithRWVersion(v wire.Version) Option {
	return optionFunc(func(c *config) error {
		if v != wire.V1 && v != wire.V2 {
			return fmt.Errorf("WithRWVersion(%d): want wire.V1 or wire.V2", int(v))
		}
		c.version = v
		return nil
	})
}

// WithLogger logs state changes to l: the identity at start, the first
// delivered push, refusals, outages and their end, buffer drops. Nothing is
// logged without it. Credentials are never logged.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) error {
		c.logger = l
		return nil
	})
}

// WithRegisterer registers the self-metrics (see the package
// documentation) on r. Without it there are none. Registering a second
// Pusher on one registry fails in New; wrap r with
// prometheus.WrapRegistererWith to tell them apart.
func WithRegisterer(r prometheus.Registerer) Option {
	return optionFunc(func(c *config) error {
		c.registerer = r
		return nil
	})
}

// WithStaleMarkersOnShutdown makes Shutdown send, after the final push, a
// Prometheus stale marker for every series of the last snapshot, so that
// queries stop showing this instance right away instead of for the
// 5-minute lookback.
func WithStaleMarkersOnShutdown() Option {
	return optionFunc(func(c *config) error {
		c.stale = true
		return nil
	})
}

// WithNativeHistograms sends native histograms as native histograms (the
// backend must accept them); otherwise their classic buckets are sent.
func WithNativeHistograms() Option {
	return optionFunc(func(c *config) error {
		c.nativeHistograms = true
		return nil
	})
}

// WithExemplars sends the exemplars of counters and histograms.
func WithExemplars() Option {
	return optionFunc(func(c *config) error {
		c.exemplars = true
		return nil
	})
}

// WithHonorTimestamps keeps a metric's own timestamp (an exposition
// line's, or TimestampMs of a collector's metric) instead of the batch
// timestamp.
func WithHonorTimestamps() Option {
	return optionFunc(func(c *config) error {
		c.honorTimestamps = true
		return nil
	})
}

// WithBatchTimestamp stamps Once's samples with t instead of the current
// time: replaying a capture at the time it was taken, or writing the same
// millisecond from two writers to see a backend refuse one of them. A
// Pusher refuses it (each of its pushes is stamped when it happens).
func WithBatchTimestamp(t time.Time) Option {
	return optionFunc(func(c *config) error {
		if t.UnixMilli() <= 0 {
			return fmt.Errorf("WithBatchTimestamp(%s): before the epoch", t)
		}
		c.batchTS = t.UnixMilli()
		return nil
	})
}

// WithRenameConflictingLabels keeps a metric whose own label has the name
// of a label push adds (identity or WithLabels) by renaming the metric's
// label to exported_<name>, as Prometheus does with honor_labels: false.
// Without it such a snapshot is not sent (see the package documentation):
// a silently resolved collision is how writers end up sharing a series.
func WithRenameConflictingLabels() Option {
	return optionFunc(func(c *config) error {
		c.rename = true
		return nil
	})
}

// withClock replaces the clock and the random source; for tests.
func withClock(cl clock, rnd func() float64) Option {
	return optionFunc(func(c *config) error {
		c.clock, c.rand = cl, rnd
		return nil
	})
}
