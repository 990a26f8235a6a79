package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/rwkit/rwkit/internal/promreg"
)

// Query limits. Prometheus bounds queries with --query.timeout,
// --query.max-concurrency and --query.max-samples (cmd/prometheus/main.go);
// the store applies the same three to its engine, the same way, and adds a
// bound on the expression's length, which Prometheus lacks and Mimir has
// (-query-frontend.max-query-expression-size-bytes).
const (
	// DefaultQueryTimeout is Prometheus's --query.timeout. Time spent
	// waiting for a concurrency slot counts, as in Prometheus: a query
	// that waits that long is answered 503 "query timed out in query
	// queue".
	DefaultQueryTimeout = 2 * time.Minute
	// DefaultQueryMaxSamples is Prometheus's --query.max-samples: the
	// samples one query may hold in memory at once (about 16 bytes each).
	DefaultQueryMaxSamples = 50_000_000
	// DefaultQueryMaxConcurrency is lower than Prometheus's 20: a local
	// workspace runs on a laptop or a small CI machine, a PromQL
	// evaluation is one goroutine, and every running query can hold up to
	// DefaultQueryMaxSamples; 16 heavy range queries at once took the
	// process to 1.9 GB. Queries past the limit wait for a slot instead of
	// failing, so a dashboard whose 20 panels query at once still loads,
	// four at a time.
	DefaultQueryMaxConcurrency = 4
	// DefaultQueryMaxLength bounds the PromQL expression in bytes. Real
	// queries are short; the longest honest ones are dashboard variables
	// expanded into a regex (2,000 pod names of 30 bytes are 60 KiB), so
	// 128 KiB is twice that. The engine's cost grows faster than the
	// length: a chain of "a+a+...": 56 KB took 0.8 s of a core to
	// evaluate, 224 KB 9 s, 1 MB 2.7 min and 0.9 GB.
	DefaultQueryMaxLength = 128 << 10
)

// LimitNames are the names that the users of a program built on the
// store set its query limits by, for the errors of queries over one: rwkit
// serve gives its flags ("rwkit serve --query-max-length"), so that its
// users read the setting they know and no Go identifier. An empty field
// names the Options field, for library users.
type LimitNames struct {
	QueryTimeout        string
	QueryMaxSamples     string
	QueryMaxConcurrency string
	QueryMaxLength      string
}

// queryLimits are Options' query fields with the defaults filled in.
type queryLimits struct {
	timeout     time.Duration
	maxSamples  int
	concurrency int
	maxLength   int
	names       LimitNames // the Options fields' names where none was given
}

func (o Options) queryLimits() (queryLimits, error) {
	if o.QueryTimeout < 0 || o.QueryMaxSamples < 0 || o.QueryMaxConcurrency < 0 || o.QueryMaxLength < 0 {
		return queryLimits{}, fmt.Errorf("store: open: QueryTimeout (%s), QueryMaxSamples (%d), QueryMaxConcurrency (%d) and QueryMaxLength (%d) must not be negative; 0 means the default",
			o.QueryTimeout, o.QueryMaxSamples, o.QueryMaxConcurrency, o.QueryMaxLength)
	}
	l := queryLimits{
		timeout:     o.QueryTimeout,
		maxSamples:  o.QueryMaxSamples,
		concurrency: o.QueryMaxConcurrency,
		maxLength:   o.QueryMaxLength,
		names: LimitNames{
			QueryTimeout:        cmp.Or(o.LimitNames.QueryTimeout, "store.Options.QueryTimeout"),
			QueryMaxSamples:     cmp.Or(o.LimitNames.QueryMaxSamples, "store.Options.QueryMaxSamples"),
			QueryMaxConcurrency: cmp.Or(o.LimitNames.QueryMaxConcurrency, "store.Options.QueryMaxConcurrency"),
			QueryMaxLength:      cmp.Or(o.LimitNames.QueryMaxLength, "store.Options.QueryMaxLength"),
		},
	}
	if l.timeout == 0 {
		l.timeout = DefaultQueryTimeout
	}
	if l.maxSamples == 0 {
		l.maxSamples = DefaultQueryMaxSamples
	}
	if l.concurrency == 0 {
		l.concurrency = DefaultQueryMaxConcurrency
	}
	if l.maxLength == 0 {
		l.maxLength = DefaultQueryMaxLength
	}
	return l, nil
}

// newEngine builds the PromQL engine as cmd/prometheus does: the timeout,
// the samples limit and Prometheus's active query tracker, which bounds
// the queries evaluated at once (one more waits, within its timeout, for a
// slot) and keeps them in dir/queries.active, so that the queries running
// when the process died (out of memory, say) are logged at the next start.
func newEngine(dir string, l queryLimits, p parser.Parser, logger *slog.Logger, reg *promreg.Tracking) (*promql.Engine, error) {
	tracker, err := promql.NewActiveQueryTracker(dir, l.concurrency, logger.With("component", "active query tracker"))
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	return promql.NewEngine(promql.EngineOpts{
		Logger:             logger.With("component", "query engine"),
		Reg:                reg.Registerer(),
		MaxSamples:         l.maxSamples,
		Timeout:            l.timeout,
		ActiveQueryTracker: queryTracker{tracker},
		// LookbackDelta 0 means promql's default of 5m.
		EnableAtModifier:     true,
		EnableNegativeOffset: true,
		// stats=all's per-step sample counts (Prometheus's
		// promql-per-step-stats feature); off unless a query asks.
		EnablePerStepStats: true,
		Parser:             p,
	}), nil
}

// queryTracker is Prometheus's tracker with typed errors for a query whose
// time ran out while it waited for a slot. The tracker returns the
// context's bare error, which the engine passes on unless its experimental
// query-cost feature is on (promql.Engine.queueActive), and Prometheus's
// API then answers 400 bad_data (waiting to parse) or 422 execution
// (waiting to evaluate). With the feature on, Prometheus answers what the
// store answers always: ErrQueryTimeout("query queue"), 503 timeout.
type queryTracker struct{ *promql.ActiveQueryTracker }

func (t queryTracker) Insert(ctx context.Context, query string) (int, error) {
	// Out of time before waiting (parsing a long expression took it): not
	// the queue's doing. The tracker would pick at random between a free
	// slot and the closed context.
	if err := ctx.Err(); err != nil {
		return 0, ctxError(err, "query preparation")
	}
	i, err := t.ActiveQueryTracker.Insert(ctx, query)
	if err != nil {
		return 0, ctxError(err, "query queue")
	}
	return i, nil
}

// ctxError is promql's contextErr.
func ctxError(err error, env string) error {
	switch {
	case errors.Is(err, context.Canceled):
		return promql.ErrQueryCanceled(env)
	case errors.Is(err, context.DeadlineExceeded):
		return promql.ErrQueryTimeout(env)
	}
	return err
}

// The texts rwkit adds to the engine's errors, which name what ran out but
// not the limit or where it is set.
func (l queryLimits) explain(err error) error {
	var tms promql.ErrTooManySamples
	var eqt promql.ErrQueryTimeout
	switch {
	case errors.As(err, &tms):
		return fmt.Errorf("%w (limit %d samples in memory at once, set by %s)", err, l.maxSamples, l.names.QueryMaxSamples)
	case errors.As(err, &eqt) && string(eqt) == "query queue":
		return fmt.Errorf("%w (all %d query slots stayed taken until the query's time ran out: %s, or the request's timeout parameter if shorter; the slots are set by %s, the time by %s)",
			err, l.concurrency, l.timeout, l.names.QueryMaxConcurrency, l.names.QueryTimeout)
	case errors.As(err, &eqt), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w (limit %s, set by %s, or the request's timeout parameter if shorter)", err, l.timeout, l.names.QueryTimeout)
	}
	return err
}

// checkLength refuses an expression over the length limit before it is
// parsed.
func (l queryLimits) checkLength(qs string) *apiError {
	if len(qs) <= l.maxLength {
		return nil
	}
	return invalidParam(fmt.Errorf("the expression is %d bytes long; the limit is %d (set by %s)", len(qs), l.maxLength, l.names.QueryMaxLength), "query")
}
