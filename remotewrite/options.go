package remotewrite

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/rwkit/rwkit/internal/version"
	"github.com/rwkit/rwkit/wire"
)

// Defaults. Each names where it comes from.
const (
	// DefaultMaxRequestBytes bounds the uncompressed protobuf of one request.
	// Amazon Managed Service for Prometheus limits a remote-write request to
	// 1 MB (AMP user guide, "Amazon Managed Service for Prometheus service
	// quotas"); 768 KiB leaves room below it whichever way the megabyte is
	// counted and whether the limit applies before or after Snappy (Snappy
	// never makes metrics bigger than that margin allows).
	DefaultMaxRequestBytes = 768 << 10
	// DefaultMaxSamplesPerRequest is Prometheus' queue_config
	// max_samples_per_send default (2000, config.DefaultQueueConfig);
	// samples, histogram samples and exemplars all count.
	DefaultMaxSamplesPerRequest = 2000
	// DefaultMinBackoff and DefaultMaxBackoff are Prometheus' queue_config
	// min_backoff and max_backoff defaults.
	DefaultMinBackoff = 30 * time.Millisecond
	DefaultMaxBackoff = 5 * time.Second
	// DefaultMaxAttempts bounds attempts per request (first try included).
	// Prometheus retries 5xx forever from its WAL; a push client without a
	// WAL gives up sooner and lets its caller buffer (push does).
	DefaultMaxAttempts = 5
	// DefaultTimeout is the per-attempt timeout of the default HTTP client,
	// Prometheus' remote_write remote_timeout default.
	DefaultTimeout = 30 * time.Second
)

// Option configures a Client. Options are sealed: only this package can
// implement them.
type Option interface {
	apply(*config) error
}

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

type config struct {
	httpClient  *http.Client
	transport   http.RoundTripper
	version     wire.Version
	maxBytes    int
	maxSamples  int
	minBackoff  time.Duration
	maxBackoff  time.Duration
	maxAttempts int
	userAgent   string
	headers     http.Header
	logger      *slog.Logger
	now         func() time.Time
	sleep       func(ctx context.Context, d time.Duration) error
	jitter      func(d time.Duration) time.Duration
	labelCache  bool
}

func defaultConfig() config {
	return config{
		version:     wire.V1,
		maxBytes:    DefaultMaxRequestBytes,
		maxSamples:  DefaultMaxSamplesPerRequest,
		minBackoff:  DefaultMinBackoff,
		maxBackoff:  DefaultMaxBackoff,
		maxAttempts: DefaultMaxAttempts,
		userAgent:   version.UserAgent(),
		headers:     http.Header{},
		logger:      slog.New(slog.DiscardHandler),
		now:         time.Now,
		sleep:       sleepContext,
		jitter:      equalJitter,
	}
}

// WithHTTPClient sends requests with c instead of a client with
// DefaultTimeout. Its Transport is replaced when WithTransport is also given.
func WithHTTPClient(c *http.Client) Option {
	return optionFunc(func(cfg *config) error {
		if c == nil {
			return errors.New("WithHTTPClient: client is nil")
		}
		cfg.httpClient = c
		return nil
	})
}

// WithTransport sends requests through rt, for example a
// sigv4.Transport for Amazon Managed Service for Prometheus.
func WithTransport(rt http.RoundTripper) Option {
	return optionFunc(func(cfg *config) error {
		if rt == nil {
			return errors.New("WithTransport: transport is nil")
		}
		cfg.transport = rt
		return nil
	})
}

// WithVersion selects the protocol: wire.V1 (the default: every backend
// takes it, AMP included) or wire.V2. A client on wire.V2 falls back to
// wire.V1 for good when the receiver answers 415, or answers 2xx without
// the Written headers (see Client.Write).
func WithVersion(v wire.Version) Option {
	return optionFunc(func(cfg *config) error {
		if v != wire.V1 && v != wire.V2 {
			return fmt.Errorf("WithVersion: unknown version %d; use wire.V1 or wire.V2", v)
		}
		cfg.version = v
		return nil
	})
}

// WithMaxRequestBytes bounds the uncompressed body of one request; the
// default is DefaultMaxRequestBytes. A single series (or series chunk)
// larger than n is still sent, alone in its request.
func WithMaxRequestBytes(n int) Option {
	return optionFunc(func(cfg *config) error {
		if n < 1024 {
			return fmt.Errorf("WithMaxRequestBytes: %d is below 1024 bytes", n)
		}
		cfg.maxBytes = n
		return nil
	})
}

// WithLabelCache makes the client keep, from its second write on, each
// series position's labels with their encoding (an RW 1.0 label block, RW
// 2.0 symbol ids), so that a series whose labels are those of its position
// in the last write is encoded without walking or hashing its label
// strings: for a sender that writes the same series write after write
// (package push sets it). The cache holds at most 64 MiB, about 400 bytes
// per series; series beyond it are encoded as without it. On RW 1.0 the
// client then encodes and compresses each request while planning the
// write, and holds the write compressed until it is sent (about 20 bytes
// per series of a pusher's registry, where it held one request). The
// bodies are those a client without the cache sends.
//
// The client then keeps the label strings it was given after Write
// returns, so they must not change: strings that view a reused buffer
// (wire.DecodeWriteRequestView) must be cloned before Write. Label slices
// may be reused with other strings; they are compared, not trusted.
func WithLabelCache() Option {
	return optionFunc(func(cfg *config) error {
		cfg.labelCache = true
		return nil
	})
}

// WithMaxSamplesPerRequest bounds samples + histogram samples + exemplars
// per request; the default is DefaultMaxSamplesPerRequest.
func WithMaxSamplesPerRequest(n int) Option {
	return optionFunc(func(cfg *config) error {
		if n < 1 {
			return fmt.Errorf("WithMaxSamplesPerRequest: %d is below 1", n)
		}
		cfg.maxSamples = n
		return nil
	})
}

// WithRetry sets the backoff between attempts (exponential from minBackoff,
// capped at maxBackoff, with equal jitter, never below minBackoff) and the attempts per request,
// first try included; maxAttempts 1 disables retries.
func WithRetry(minBackoff, maxBackoff time.Duration, maxAttempts int) Option {
	return optionFunc(func(cfg *config) error {
		switch {
		case minBackoff <= 0:
			return fmt.Errorf("WithRetry: minBackoff %s must be positive", minBackoff)
		case maxBackoff < minBackoff:
			return fmt.Errorf("WithRetry: maxBackoff %s is below minBackoff %s", maxBackoff, minBackoff)
		case maxAttempts < 1:
			return fmt.Errorf("WithRetry: maxAttempts %d is below 1", maxAttempts)
		}
		cfg.minBackoff, cfg.maxBackoff, cfg.maxAttempts = minBackoff, maxBackoff, maxAttempts
		return nil
	})
}

// WithUserAgent sets the User-Agent; the default is "rwkit/<version>".
func WithUserAgent(ua string) Option {
	return optionFunc(func(cfg *config) error {
		if strings.TrimSpace(ua) == "" {
			return errors.New("WithUserAgent: empty; the remote-write spec requires a User-Agent")
		}
		cfg.userAgent = ua
		return nil
	})
}

// reserved are the headers the remote-write 2.0 spec says senders MUST NOT
// let users set ("Protocol": Content-Encoding, Content-Type,
// X-Prometheus-Remote-Write-Version, User-Agent); Content-Length and Host
// belong to the HTTP client.
var reserved = []string{"Content-Encoding", "Content-Type", wire.HeaderVersion, "User-Agent", "Content-Length", "Host"}

// WithHeader adds a header to every request, e.g. X-Scope-OrgID for Cortex
// and Mimir tenants. Reserved headers are refused (use WithUserAgent for
// the User-Agent).
func WithHeader(key, value string) Option {
	return optionFunc(func(cfg *config) error {
		for _, r := range reserved {
			if strings.EqualFold(key, r) {
				return fmt.Errorf("WithHeader: %s is reserved by the remote-write spec and set by the client", r)
			}
		}
		if key == "" {
			return errors.New("WithHeader: empty header name")
		}
		cfg.headers.Add(key, value)
		return nil
	})
}

// WithLogger logs requests (debug), retries (warn) and fallbacks (warn) to
// l; nil keeps the default, which discards. Credentials, header values and
// URL userinfo are never logged.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(cfg *config) error {
		if l != nil {
			cfg.logger = l
		}
		return nil
	})
}

// WithClock sets the clock used for Result.Duration and HTTP-date
// Retry-After values; nil keeps time.Now.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(cfg *config) error {
		if now != nil {
			cfg.now = now
		}
		return nil
	})
}

// WithSleep sets how the client waits between attempts; it must return
// ctx.Err() promptly when ctx ends. nil keeps the default timer.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return optionFunc(func(cfg *config) error {
		if sleep != nil {
			cfg.sleep = sleep
		}
		return nil
	})
}

// WithJitter sets how a backoff d becomes the actual wait (never below
// minBackoff); nil keeps equal jitter (a uniform random wait in [d/2, d]).
// Tests pass the identity.
func WithJitter(jitter func(d time.Duration) time.Duration) Option {
	return optionFunc(func(cfg *config) error {
		if jitter != nil {
			cfg.jitter = jitter
		}
		return nil
	})
}

func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// equalJitter is "Equal Jitter" from the AWS Architecture Blog's
// "Exponential Backoff And Jitter": a uniform wait in [d/2, d]. It spreads
// a fleet's retries like full jitter while the waits still grow with the
// backoff; full jitter's [0, d] lets two attempts come a millisecond apart.
func equalJitter(d time.Duration) time.Duration {
	if d <= 1 {
		return max(d, 0)
	}
	return d/2 + rand.N(d-d/2+1)
}
