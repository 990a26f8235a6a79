package workspace

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/workspace/store"
)

// Workspace is the local remote-write receiver. Create it with New, serve
// Handler, and Close it before closing its store. Safe for concurrent use.
type Workspace struct {
	db                *store.Store
	limits            validate.Limits
	log               *slog.Logger
	registry          *prometheus.Registry
	metrics           *metrics
	identity          []string
	maxBody           int
	maxDecoded        int
	maxTracked        int
	maxCollisions     int
	maxTenants        int
	limitNames        LimitNames // the Options' names where the program gave none
	maxWriters        int
	alternationWindow time.Duration
	now               func() time.Time
	seed              maphash.Seed
	handler           http.Handler
	maxSeries         int          // limits.go
	maxConcurrent     int          // limits.go
	writes            writeLimiter // limits.go

	// tenantLimitLogged: the first write refused by WithMaxTenants is
	// logged at Warn, the others at Debug (any writer can send them).
	tenantLimitLogged atomic.Bool

	mu      sync.Mutex
	tenants map[string]*tenant
	closed  bool
}

// ErrClosed is returned for requests after Close.
var ErrClosed = errors.New("workspace: closed")

func newWorkspace(db *store.Store, opts ...Option) (*Workspace, error) {
	c := defaultConfig()
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o.apply(&c); err != nil {
			return nil, err
		}
	}
	if c.registry == nil {
		c.registry = prometheus.NewRegistry()
	}
	w := &Workspace{
		db:                db,
		limits:            c.limits,
		log:               c.logger,
		registry:          c.registry,
		identity:          c.identity,
		maxBody:           c.maxBody,
		maxDecoded:        c.maxDecoded,
		maxTracked:        c.maxTracked,
		maxCollisions:     c.maxCollisions,
		maxTenants:        c.maxTenants,
		limitNames:        c.limitNames.orOptions(),
		maxWriters:        maxWriters,
		alternationWindow: c.alternationWindow,
		now:               c.now,
		seed:              maphash.MakeSeed(),
		tenants:           map[string]*tenant{},
		maxSeries:         c.maxSeries,
		maxConcurrent:     c.maxConcurrent,
		writes:            newWriteLimiter(c.maxConcurrent),
	}
	m, err := newMetrics(c.registry)
	if err != nil {
		return nil, err
	}
	w.metrics = m
	w.handler = w.routes()
	if c.auth != nil {
		h, err := newAuthHandler(w.handler, c.auth, c.registry, w.maxBody, w.limitNames.MaxRequestBytes, c.now)
		if err != nil {
			return nil, err
		}
		w.handler = h
	}
	return w, nil
}

// Handler serves the workspace's HTTP API (see doc.go for the table).
func (w *Workspace) Handler() http.Handler { return w.handler }

// Registry is the registry GET /metrics serves.
func (w *Workspace) Registry() *prometheus.Registry { return w.registry }

// Limits are the rules and limits the workspace applies.
func (w *Workspace) Limits() validate.Limits { return w.limits }

// Close stops accepting writes. It does not close the store: the caller
// opened it and closes it after Close (and after http.Server.Shutdown).
func (w *Workspace) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	return nil
}

// Collisions returns tenant id's collision log, most recently seen first
// (what GET /workspaces/{id}/api/v1/collisions serves).
func (w *Workspace) Collisions(id string) []Collision {
	w.mu.Lock()
	t, ok := w.tenants[id]
	w.mu.Unlock()
	if !ok {
		return []Collision{}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.collisions.list()
}

// tenant is one workspace (a Cortex tenant): its data and what rwkit
// remembers about its writers. mu serializes appends: the writer of a
// stored value is only known for sure when one request appends at a time,
// and a TSDB appender commits samples that conflict with another open
// appender's without telling anyone.
type tenant struct {
	id      string
	db      *store.Tenant
	limiter *validate.RateLimiter

	mu         sync.Mutex
	writers    *writerTable
	series     *seriesTable
	collisions *collisionLog
	// known and perMetric serve the series limits: the series this
	// workspace admitted since it started (8 bytes plus map overhead each)
	// and how many per metric name.
	known     map[uint64]struct{}
	perMetric map[string]int

	received          prometheus.Counter
	accepted          prometheus.Counter
	discarded         *prometheus.CounterVec
	collisionsTotal   prometheus.Counter
	alternationsTotal prometheus.Counter
}

func (t *tenant) countDiscard(r validate.Reason, n int) {
	if n > 0 && r != validate.Unknown {
		t.discarded.WithLabelValues(t.id, string(r)).Add(float64(n))
	}
}

func (t *tenant) countAccepted(n int) { t.accepted.Add(float64(n)) }

// tooManyTenants refuses a new tenant past WithMaxTenants.
type tooManyTenants struct {
	id      string
	limit   int
	setting string // LimitNames.MaxTenants or the option's name
}

func (e *tooManyTenants) Error() string {
	return fmt.Sprintf("too many workspaces: workspace %q would be one more than the limit of %d", e.id, e.limit)
}

// hint is rwkit's line after the refusal.
func (e *tooManyTenants) hint() string {
	return fmt.Sprintf("rwkit: the limit (%d) is set by %s; every workspace written to since the server started counts, even one whose samples were all refused", e.limit, e.setting)
}

// logTenantLimit logs a write refused by WithMaxTenants.
func (w *Workspace) logTenantLimit(e *tooManyTenants) {
	level := slog.LevelDebug
	if w.tenantLimitLogged.CompareAndSwap(false, true) {
		level = slog.LevelWarn
	}
	w.log.Log(context.Background(), level, "refused a write for a new workspace: the limit on workspaces is reached (refusals after the first are logged at debug level)",
		"workspace", e.id, "limit", e.limit, "setting", e.setting)
}

// tenant returns the tenant id, opening it on first use.
func (w *Workspace) tenant(id string) (*tenant, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil, ErrClosed
	}
	if t, ok := w.tenants[id]; ok {
		return t, nil
	}
	if len(w.tenants) >= w.maxTenants {
		return nil, &tooManyTenants{id: id, limit: w.maxTenants, setting: w.limitNames.MaxTenants}
	}
	db, err := w.db.Tenant(id)
	if err != nil {
		return nil, err
	}
	t := &tenant{
		id:                id,
		db:                db,
		limiter:           validate.NewRateLimiterFor(&w.limits),
		writers:           newWriterTable(),
		series:            newSeriesTable(w.maxTracked),
		collisions:        newCollisionLog(w.maxCollisions),
		known:             map[uint64]struct{}{},
		perMetric:         map[string]int{},
		received:          w.metrics.received.WithLabelValues(id),
		accepted:          w.metrics.accepted.WithLabelValues(id),
		discarded:         w.metrics.discarded,
		collisionsTotal:   w.metrics.collisions.WithLabelValues(id, KindNewValueForTimestamp),
		alternationsTotal: w.metrics.collisions.WithLabelValues(id, KindAlternatingWriters),
	}
	w.tenants[id] = t
	return t, nil
}
