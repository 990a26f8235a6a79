package validate

import (
	"fmt"
	"math"
	"sync"
	"time"
)

// RateLimiter is one tenant's token bucket, with the semantics Cortex gets
// from golang.org/x/time/rate (pkg/util/limiter/rate_limiter.go): it starts
// full at burst tokens, refills at rate tokens per second up to burst, and
// refuses a request of n tokens, taking nothing, when fewer than n are
// left (so n > burst is always refused). Time is passed in. It is safe for
// concurrent use.
type RateLimiter struct {
	mu     sync.Mutex
	rate   float64
	burst  int
	tokens float64
	last   time.Time
}

// NewRateLimiter returns a full bucket. A rate of 0 or less, or +Inf,
// never limits.
func NewRateLimiter(rate float64, burst int) *RateLimiter {
	return &RateLimiter{rate: rate, burst: burst, tokens: float64(burst)}
}

// NewRateLimiterFor returns the bucket l's IngestionRate and
// IngestionBurstSize describe.
func NewRateLimiterFor(l *Limits) *RateLimiter {
	return NewRateLimiter(l.IngestionRate, l.IngestionBurstSize)
}

// Limit is the rate Cortex prints in its 429 text.
func (r *RateLimiter) Limit() float64 { return r.rate }

func (r *RateLimiter) unlimited() bool { return r.rate <= 0 || math.IsInf(r.rate, 1) }

// Allow takes n tokens at now and reports whether they were there.
func (r *RateLimiter) Allow(now time.Time, n int) bool {
	if r.unlimited() || n <= 0 {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.last.IsZero() && now.After(r.last) {
		r.tokens = math.Min(float64(r.burst), r.tokens+now.Sub(r.last).Seconds()*r.rate)
	}
	if r.last.IsZero() || now.After(r.last) {
		r.last = now
	}
	if float64(n) > r.tokens {
		return false
	}
	r.tokens -= float64(n)
	return true
}

// RateLimitedMessage is Cortex's 429 text for a tenant over its ingestion
// rate (Distributor.Push): the limit printed with %v, then the samples
// (floats and histograms) and metadata of the refused request.
func RateLimitedMessage(limit float64, samples, metadata int) string {
	return fmt.Sprintf("ingestion rate limit (%v) exceeded while adding %d samples and %d metadata", limit, samples, metadata)
}
