package workspace

import (
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rwkit/rwkit/validate"
)

// Workspace is the local remote-write receiver. Create it with New, serve
// Handler, and Close it before closing its store. Safe for concurrent use.
type Workspace struct {
	db                database
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
	maxWriters        int
	alternationWindow time.Duration
	now               func() time.Time
	seed              maphash.Seed
	handler           http.Handler
	maxSeries         int          // limits.go
	maxConcurrent     int          // limits.go
	writes            writeLimiter // limits.go

	mu      sync.Mutex
	tenants map[string]*tenant
	closed  bool
}

// ErrClosed is returned for requests after Close.
var ErrClosed = errors.New("workspace: closed")

func newWorkspace(db database, opts ...Option) (*Workspace, error) {
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
		h, err := newAuthHandler(w.handler, c.auth, c.registry, w.maxBody, c.now)
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
	db      tenantDB
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

// errTooManyTenants refuses a new tenant past WithMaxTenants.
var errTooManyTenants = errors.New("too many workspaces")

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
		return nil, fmt.Errorf("%w: this workspace serves at most %d (workspace.WithMaxTenants)", errTooManyTenants, w.maxTenants)
	}
	db, err := w.db.tenant(id)
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
