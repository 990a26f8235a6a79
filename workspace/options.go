package workspace

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rwkit/rwkit/validate"
)

// Defaults; each option's doc says where its value comes from.
const (
	// DefaultMaxRequestBytes is Cortex's distributor max_recv_msg_size
	// (100 MiB), applied to the compressed body and to the decoded one.
	DefaultMaxRequestBytes = 100 << 20
	// DefaultMaxTrackedSeries bounds the series whose last writer a
	// tenant remembers (about 100 bytes each: 26 MiB per tenant).
	DefaultMaxTrackedSeries = 1 << 18
	// DefaultMaxCollisions bounds each tenant's collision log.
	DefaultMaxCollisions = 1000
	// DefaultAlternationWindow: a writer coming back to a series within
	// this much sample time after another writer took it over is reported
	// as alternating-writers.
	DefaultAlternationWindow = 5 * time.Minute
	// DefaultMaxTenants bounds the tenants written to since the workspace
	// started. One costs about 25 KiB until its first accepted sample
	// opens its TSDB, and about 0.5 MiB plus its series after.
	DefaultMaxTenants = 256
	// maxWriters bounds each tenant's writer table before it forgets the
	// writers no tracked series refers to.
	maxWriters = 4096
)

// DefaultIdentityLabels are the labels that name a writer, as the push
// library sets them.
var DefaultIdentityLabels = []string{"service", "instance"}

// Option configures a Workspace.
type Option interface{ apply(*config) error }

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

type config struct {
	limits            validate.Limits
	logger            *slog.Logger
	registry          *prometheus.Registry
	identity          []string
	maxBody           int
	maxDecoded        int
	maxTracked        int
	maxCollisions     int
	alternationWindow time.Duration
	maxTenants        int
	limitNames        LimitNames
	now               func() time.Time
	strict            bool
	// limits.go, auth.go
	maxSeries     int
	maxConcurrent int
	auth          *authConfig
	// query bounds the queries of the store Open opens (store.go).
	query QueryLimits
	// diskReserve is store.Options.DiskReserve of the store Open opens.
	diskReserve int64
	// upstream.go: pass-through mode when set.
	upstream *upstream
}

func defaultConfig() config {
	amp, _ := validate.Profile("amp")
	return config{
		limits:            amp,
		logger:            slog.New(slog.DiscardHandler),
		identity:          DefaultIdentityLabels,
		maxBody:           DefaultMaxRequestBytes,
		maxDecoded:        DefaultMaxRequestBytes,
		maxTracked:        DefaultMaxTrackedSeries,
		maxCollisions:     DefaultMaxCollisions,
		alternationWindow: DefaultAlternationWindow,
		maxTenants:        DefaultMaxTenants,
		now:               time.Now,
		maxSeries:         DefaultMaxSeriesPerRequest,
		maxConcurrent:     DefaultMaxConcurrentWrites,
	}
}

// WithLimits sets the rules and limits the workspace applies (default:
// validate.Profile("amp")). Open gives the store its OutOfOrderTimeWindow
// and MaxExemplars, which the TSDB applies; a store given to New must have
// been opened with them.
func WithLimits(l validate.Limits) Option {
	return optionFunc(func(c *config) error {
		c.limits = l
		return nil
	})
}

// WithStrict refuses what the limits' backend accepts and drops without a
// word. Cortex, Mimir and Prometheus 3 answer 2xx to a request holding
// two values for one series and timestamp, or a sample older than an
// earlier one of its series, and keep only the earlier sample; by default
// the workspace does the same, counts the dropped sample in
// rwkit_dropped_samples_total and names it in the X-Rwkit-Dropped header.
// Strict, it answers 400 new-value-for-timestamp or sample-out-of-order
// instead (the prometheus profile rolls the request back, as for any
// refused sample), and counts the sample as a discard. Default false.
func WithStrict(strict bool) Option {
	return optionFunc(func(c *config) error {
		c.strict = strict
		return nil
	})
}

// WithLogger logs refusals at Debug and store failures at Error (and, for
// Open, the store's and the TSDB's lines, with component=store). Default:
// nothing is logged.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) error {
		if l == nil {
			return errors.New("workspace: WithLogger(nil): pass a logger or leave the option out")
		}
		c.logger = l
		return nil
	})
}

// WithRegistry puts the workspace's metrics on reg, which GET /metrics
// serves. Open puts the store's TSDB metrics on it too; with New, pass the
// registry given to the store (store.Options.Registerer) to serve them.
// Default: a new registry of its own.
func WithRegistry(reg *prometheus.Registry) Option {
	return optionFunc(func(c *config) error {
		if reg == nil {
			return errors.New("workspace: WithRegistry(nil): pass a registry or leave the option out")
		}
		c.registry = reg
		return nil
	})
}

// WithIdentityLabels names the labels whose values identify a writer
// (default service and instance; e.g. job). No names: writers are told
// apart by User-Agent and remote address only.
func WithIdentityLabels(names ...string) Option {
	return optionFunc(func(c *config) error {
		c.identity = append([]string(nil), names...)
		return nil
	})
}

// WithMaxRequestBytes bounds the compressed body (413 past it, read no
// further) and the decoded body (a Snappy block declaring more is refused
// before it is decoded). Default DefaultMaxRequestBytes for both.
func WithMaxRequestBytes(compressed, decoded int) Option {
	return optionFunc(func(c *config) error {
		if compressed <= 0 || decoded <= 0 {
			return fmt.Errorf("workspace: WithMaxRequestBytes(%d, %d): both must be positive", compressed, decoded)
		}
		c.maxBody, c.maxDecoded = compressed, decoded
		return nil
	})
}

// WithMaxTrackedSeries bounds the series per tenant whose last writer is
// remembered (default DefaultMaxTrackedSeries, about 100 bytes each). 0
// turns writer attribution off.
func WithMaxTrackedSeries(n int) Option {
	return optionFunc(func(c *config) error {
		if n < 0 {
			return fmt.Errorf("workspace: WithMaxTrackedSeries(%d): must not be negative", n)
		}
		c.maxTracked = n
		return nil
	})
}

// WithMaxCollisions bounds each tenant's collision log (default
// DefaultMaxCollisions groups); the group seen least recently goes first.
func WithMaxCollisions(n int) Option {
	return optionFunc(func(c *config) error {
		if n < 0 {
			return fmt.Errorf("workspace: WithMaxCollisions(%d): must not be negative", n)
		}
		c.maxCollisions = n
		return nil
	})
}

// WithAlternationWindow sets how soon (in sample time) a writer must come
// back to a series another writer took over for the pair to be reported
// as alternating-writers. Default DefaultAlternationWindow.
func WithAlternationWindow(d time.Duration) Option {
	return optionFunc(func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("workspace: WithAlternationWindow(%s): must be positive", d)
		}
		c.alternationWindow = d
		return nil
	})
}

// WithMaxTenants bounds the tenants (workspaces) written to since the
// workspace started, whether their samples were accepted or not; a write
// for one more is refused with 400, naming the limit (see WithLimitNames).
// Queries and collision lookups add none. Default DefaultMaxTenants.
func WithMaxTenants(n int) Option {
	return optionFunc(func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("workspace: WithMaxTenants(%d): must be positive", n)
		}
		c.maxTenants = n
		return nil
	})
}

// LimitNames are the names that the users of a program built on the
// workspace set its limits by, for the answers and logs that refuse a
// request over one: rwkit serve gives its flags ("rwkit serve
// --max-workspaces"), so that its users read the setting they know and no
// Go identifier. An empty field names the Option, for library users. The
// query names reach the store Open opens; a store given to New is named by
// its own store.Options.LimitNames.
type LimitNames struct {
	MaxTenants          string // WithMaxTenants
	MaxRequestBytes     string // WithMaxRequestBytes, the compressed body
	MaxDecodedBytes     string // WithMaxRequestBytes, the decoded body
	MaxSeriesPerRequest string // WithMaxSeriesPerRequest
	MaxConcurrentWrites string // WithMaxConcurrentWrites

	HAMaxClusters     string // validate.Limits.HAMaxClusters
	HAUpdateTimeout   string // validate.Limits.HAUpdateTimeout
	HAFailoverTimeout string // validate.Limits.HAFailoverTimeout

	QueryTimeout        string // WithQueryLimits, QueryLimits.Timeout
	QueryMaxSamples     string // WithQueryLimits, QueryLimits.MaxSamples
	QueryMaxConcurrency string // WithQueryLimits, QueryLimits.MaxConcurrency
	QueryMaxLength      string // WithQueryLimits, QueryLimits.MaxLength
}

// orOptions fills the empty names with the Options'.
func (n LimitNames) orOptions() LimitNames {
	return LimitNames{
		MaxTenants:          cmp.Or(n.MaxTenants, "workspace.WithMaxTenants"),
		MaxRequestBytes:     cmp.Or(n.MaxRequestBytes, "workspace.WithMaxRequestBytes"),
		MaxDecodedBytes:     cmp.Or(n.MaxDecodedBytes, "workspace.WithMaxRequestBytes"),
		MaxSeriesPerRequest: cmp.Or(n.MaxSeriesPerRequest, "workspace.WithMaxSeriesPerRequest"),
		MaxConcurrentWrites: cmp.Or(n.MaxConcurrentWrites, "workspace.WithMaxConcurrentWrites"),
		HAMaxClusters:       cmp.Or(n.HAMaxClusters, "validate.Limits.HAMaxClusters"),
		HAUpdateTimeout:     cmp.Or(n.HAUpdateTimeout, "validate.Limits.HAUpdateTimeout"),
		HAFailoverTimeout:   cmp.Or(n.HAFailoverTimeout, "validate.Limits.HAFailoverTimeout"),
		// The store Open opens fills these (config.storeOptions).
		QueryTimeout:        n.QueryTimeout,
		QueryMaxSamples:     n.QueryMaxSamples,
		QueryMaxConcurrency: n.QueryMaxConcurrency,
		QueryMaxLength:      n.QueryMaxLength,
	}
}

// WithLimitNames names the settings of the limits in refusals and logs.
// Default: the Options' names ("workspace.WithMaxTenants").
func WithLimitNames(n LimitNames) Option {
	return optionFunc(func(c *config) error {
		c.limitNames = n
		return nil
	})
}

// WithClock sets the clock for validation (too old, too far in the
// future), the rate limiter and collision times. Default time.Now.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(c *config) error {
		if now == nil {
			return errors.New("workspace: WithClock(nil)")
		}
		c.now = now
		return nil
	})
}

// QueryLimits bound the PromQL queries of the store Open opens (the
// store.Options fields of the same names, Prometheus' --query.* flags); a
// zero field means the store's default (store.DefaultQueryTimeout, ...).
type QueryLimits struct {
	Timeout        time.Duration // store.Options.QueryTimeout
	MaxSamples     int           // store.Options.QueryMaxSamples
	MaxConcurrency int           // store.Options.QueryMaxConcurrency
	MaxLength      int           // store.Options.QueryMaxLength
}

// WithDiskReserve keeps bytes of the store's file system (at most a
// twentieth of it) for the TSDB's own writes (store.Options.DiskReserve):
// while the free space outside the reserve is under half of it, writes
// are answered 503 (nothing stored) and /-/ready 503, and the reserve is
// released, so that a full disk never stops the process. 0 (the default
// of Open) keeps none; rwkit serve keeps 64 MiB. It does nothing for New:
// a shared store has the reserve it was opened with.
func WithDiskReserve(bytes int64) Option {
	return optionFunc(func(c *config) error {
		if bytes < 0 {
			return fmt.Errorf("workspace: WithDiskReserve(%d): must not be negative; 0 keeps no reserve", bytes)
		}
		c.diskReserve = bytes
		return nil
	})
}

// WithQueryLimits bounds the queries of the store Open opens. It does
// nothing for New: a shared store has the limits it was opened with.
func WithQueryLimits(q QueryLimits) Option {
	return optionFunc(func(c *config) error {
		if q.Timeout < 0 || q.MaxSamples < 0 || q.MaxConcurrency < 0 || q.MaxLength < 0 {
			return fmt.Errorf("workspace: WithQueryLimits(%+v): no field may be negative; 0 means the store's default", q)
		}
		c.query = q
		return nil
	})
}
