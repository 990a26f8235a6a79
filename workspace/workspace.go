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

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/workspace/store"
)

// Workspace is the local remote-write receiver. Create it with Open (or
// New, on a store the caller shares), serve Handler, and Close it. Safe
// for concurrent use.
type Workspace struct {
	cfg       config // the options, with LimitNames filled in
	db        *store.Store
	ownsStore bool   // opened by Open: Close closes it
	policy    policy // rules.go: how the limits' backend treats a request
	metrics   *metrics
	seed      maphash.Seed
	handler   http.Handler
	writes    writeLimiter // limits.go
	history   *history     // page.go: discards by reason over time

	// tenantLimitLogged: the first write refused by WithMaxTenants is
	// logged at Warn, the others at Debug (any writer can send them).
	tenantLimitLogged atomic.Bool

	mu      sync.Mutex
	tenants map[string]*tenant
	closed  bool

	// upstreamStates: the upstream's state per workspace, logged when it
	// changes (upstream_refusals.go).
	upstreamMu     sync.Mutex
	upstreamStates map[string]upstreamStateEntry
	// analyses: the analysis of forwarded writes, off the request path
	// (upstream_analysis.go); nil without an upstream.
	analyses *analysisQueue
}

// ErrClosed is returned for requests after Close.
var ErrClosed = errors.New("workspace: closed")

// configure applies opts to the defaults.
func configure(opts []Option) (config, error) {
	c := defaultConfig()
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o.apply(&c); err != nil {
			return c, err
		}
	}
	if c.registry == nil {
		c.registry = prometheus.NewRegistry()
	}
	c.limitNames = c.limitNames.orOptions()
	if err := checkHA(&c.limits, c.limitNames); err != nil {
		return c, err
	}
	return c, nil
}

func newWorkspace(db *store.Store, c config) (*Workspace, error) {
	w := &Workspace{
		cfg:     c,
		db:      db,
		policy:  policyFor(c.limits.Backend, c.strict),
		seed:    maphash.MakeSeed(),
		tenants: map[string]*tenant{},
		writes:  newWriteLimiter(c.maxConcurrent),
	}
	m, err := newMetrics(c.registry)
	if err != nil {
		return nil, err
	}
	w.metrics = m
	w.history = newHistory()
	go w.history.run(w.discardCounts, c.now)
	if c.upstream != nil {
		w.analyses = newAnalysisQueue()
		go w.runAnalyses()
	}
	w.handler = w.routes()
	if c.auth != nil {
		h, err := newAuthHandler(w.handler, c.auth, c.registry, c.maxBody, c.limitNames.MaxRequestBytes, c.now)
		if err != nil {
			w.history.close()
			w.stopAnalyses()
			return nil, err
		}
		w.handler = h
	}
	return w, nil
}

// Handler serves the workspace's HTTP API (see doc.go for the table).
func (w *Workspace) Handler() http.Handler { return w.handler }

// Registry is the registry GET /metrics serves.
func (w *Workspace) Registry() *prometheus.Registry { return w.cfg.registry }

// Limits are the rules and limits the workspace applies.
func (w *Workspace) Limits() validate.Limits { return w.cfg.limits }

// Close stops accepting writes and, for a workspace Open opened, closes
// its store; call it after http.Server.Shutdown. A store given to New is
// the caller's to close, after Close. Closing again does nothing.
func (w *Workspace) Close() error {
	w.mu.Lock()
	closed := w.closed
	w.closed = true
	w.mu.Unlock()
	w.history.close()
	w.stopAnalyses()
	if closed || !w.ownsStore {
		return nil
	}
	return w.db.Close()
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
	droppedTotal      *prometheus.CounterVec
	refusedWhole      prometheus.Counter
	collisionsTotal   prometheus.Counter
	alternationsTotal prometheus.Counter

	// HA deduplication (hatracker.go).
	ha             *haTracker
	haDeduplicated *prometheus.CounterVec
	haElected      *prometheus.GaugeVec
	haChanges      *prometheus.CounterVec
}

func (t *tenant) countDiscard(r validate.Reason, n int) {
	if n > 0 && r != validate.Unknown {
		t.discarded.WithLabelValues(t.id, string(r)).Add(float64(n))
	}
}

func (t *tenant) countDropped(r validate.Reason, n int) {
	if n > 0 {
		t.droppedTotal.WithLabelValues(t.id, string(r)).Add(float64(n))
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
	w.cfg.logger.Log(context.Background(), level, "refused a write for a new workspace: the limit on workspaces is reached (refusals after the first are logged at debug level)",
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
	if len(w.tenants) >= w.cfg.maxTenants {
		return nil, &tooManyTenants{id: id, limit: w.cfg.maxTenants, setting: w.cfg.limitNames.MaxTenants}
	}
	db, err := w.db.Tenant(id)
	if err != nil {
		return nil, err
	}
	t := &tenant{
		id:                id,
		db:                db,
		limiter:           validate.NewRateLimiterFor(&w.cfg.limits),
		writers:           newWriterTable(),
		series:            newSeriesTable(w.cfg.maxTracked),
		collisions:        newCollisionLog(w.cfg.maxCollisions),
		known:             map[uint64]struct{}{},
		perMetric:         map[string]int{},
		received:          w.metrics.received.WithLabelValues(id),
		accepted:          w.metrics.accepted.WithLabelValues(id),
		discarded:         w.metrics.discarded,
		droppedTotal:      w.metrics.dropped,
		refusedWhole:      w.metrics.refusedWhole.WithLabelValues(id),
		collisionsTotal:   w.metrics.collisions.WithLabelValues(id, KindNewValueForTimestamp),
		alternationsTotal: w.metrics.collisions.WithLabelValues(id, KindAlternatingWriters),
		ha:                newHATracker(),
		haDeduplicated:    w.metrics.haDeduplicated,
		haElected:         w.metrics.haElected,
		haChanges:         w.metrics.haChanges,
	}
	w.tenants[id] = t
	return t, nil
}
