package store

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/fileutil"
	"github.com/prometheus/prometheus/util/compression"

	"github.com/rwkit/rwkit/internal/promreg"
)

// Defaults applied when an Options field is zero.
const (
	DefaultRetention = 15 * 24 * time.Hour
	// maxTenantIDLength is the longest tenant id accepted, as Cortex's
	// tenant.ValidTenantID allows.
	maxTenantIDLength = 150
)

// Options configures a Store. The zero value is usable.
type Options struct {
	// OutOfOrderWindow is the TSDB OutOfOrderTimeWindow. 0 (Cortex's and
	// AMP's default) disables out-of-order ingestion: a sample older than
	// its series' newest is refused with SampleOutOfOrder, and one older
	// than the head's lower bound with SampleOutOfBounds. With a window,
	// older samples inside it are accepted and ones before it are refused
	// with SampleTooOld.
	OutOfOrderWindow time.Duration

	// Retention is how long blocks are kept; 0 means DefaultRetention.
	Retention time.Duration

	// MaxExemplars is the size of each tenant's circular exemplar buffer.
	// 0 (Cortex's default) disables exemplar storage; AppendExemplar then
	// accepts and drops exemplars.
	MaxExemplars int64

	// Logger receives the TSDB's and the query engine's logs; nil discards.
	Logger *slog.Logger

	// Registerer receives the TSDB metrics of every tenant whose TSDB is
	// open (labelled workspace="<id>") and the query engine's metrics;
	// nil registers nothing. Close unregisters them, so a store can be
	// opened again on the same registry.
	Registerer prometheus.Registerer

	// QueryTimeout bounds a query's time, waiting for a slot included
	// (Prometheus's --query.timeout); 0 means DefaultQueryTimeout. A
	// request's timeout parameter can only shorten it.
	QueryTimeout time.Duration

	// QueryMaxSamples bounds the samples one query holds in memory
	// (Prometheus's --query.max-samples); 0 means DefaultQueryMaxSamples.
	QueryMaxSamples int

	// QueryMaxConcurrency bounds the queries parsed or evaluated at once
	// (Prometheus's --query.max-concurrency); one more waits for a slot,
	// within QueryTimeout. 0 means DefaultQueryMaxConcurrency.
	QueryMaxConcurrency int

	// QueryMaxLength bounds a PromQL expression in bytes; a longer one is
	// refused (400) before it is parsed. 0 means DefaultQueryMaxLength.
	QueryMaxLength int

	// LimitNames names the settings of the query limits in the errors of
	// queries over one; an empty field names the Options field.
	LimitNames LimitNames

	// DiskReserve is the room, in bytes, kept on the store's file system
	// for the TSDB's own writes (reserve.go): a file of that size, capped
	// at a twentieth of the file system, is allocated in the directory
	// (ReserveFile); writes are refused (ErrCannotWrite) once the free
	// space outside it falls under half of it, and the file is deleted so
	// that the TSDB can finish its writes instead of panicking on a full
	// disk; they are taken again once twice the reserve is free. 0 keeps
	// no reserve. Linux only (elsewhere it is logged and ignored).
	DiskReserve int64

	// Now is the clock for query defaults ("time" of an instant query);
	// nil means time.Now.
	Now func() time.Time
}

// Store keeps one Prometheus TSDB per tenant under a directory and answers
// PromQL over them. All methods are safe for concurrent use.
type Store struct {
	dir    string
	opts   Options
	logger *slog.Logger
	engine *promql.Engine
	parser parser.Parser
	reg    *promreg.Tracking // the engine's metrics; nil without Options.Registerer
	limits queryLimits       // limits.go
	lock   fileutil.Releaser // lock.go
	// started is when Open opened the store (status/runtimeinfo).
	started time.Time

	// recoverEvery bounds the recovery attempts of a failed tenant
	// (health.go); tests shorten it.
	recoverEvery time.Duration

	reserve   *diskReserve  // nil: Options.DiskReserve 0
	stopWatch chan struct{} // ends watchDisk
	watching  sync.WaitGroup

	mu      sync.RWMutex
	tenants map[string]*Tenant
	closed  bool
}

// ErrClosed is returned by Tenant after Close.
var ErrClosed = errors.New("store: closed")

// Open opens (creating it if needed) the store in dir. Each tenant lives in
// dir/<tenant>/; the TSDBs of tenants already on disk with data are opened
// now, so their WAL is replayed before Open returns. A directory another
// Store has open (this process or another) is refused with ErrInUse before
// anything in it is opened.
func Open(dir string, opts Options) (*Store, error) {
	if dir == "" {
		return nil, errors.New("store: open: empty directory; pass the folder that holds the tenants' TSDBs")
	}
	if opts.Retention < 0 || opts.OutOfOrderWindow < 0 || opts.MaxExemplars < 0 || opts.DiskReserve < 0 {
		return nil, fmt.Errorf("store: open: Retention (%s), OutOfOrderWindow (%s), MaxExemplars (%d) and DiskReserve (%d) must not be negative",
			opts.Retention, opts.OutOfOrderWindow, opts.MaxExemplars, opts.DiskReserve)
	}
	limits, err := opts.queryLimits()
	if err != nil {
		return nil, err
	}
	if opts.Retention == 0 {
		opts.Retention = DefaultRetention
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	// Before anything in dir is opened, created or replayed.
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	reserve, err := newDiskReserve(dir, opts.DiskReserve, logger)
	if err != nil {
		_ = lock.Release()
		return nil, err
	}
	p := parser.NewParser(parser.Options{})
	reg := promreg.New(opts.Registerer).TolerateDuplicates(logger)
	engine, err := newEngine(dir, limits, p, logger, reg)
	if err != nil {
		_ = lock.Release()
		return nil, err
	}
	s := &Store{
		reg:     reg,
		dir:     dir,
		opts:    opts,
		logger:  logger,
		parser:  p,
		limits:  limits,
		lock:    lock,
		tenants: map[string]*Tenant{},
		engine:  engine,
		started: opts.Now().UTC(),

		recoverEvery: recoverEvery,
		reserve:      reserve,
		stopWatch:    make(chan struct{}),
	}
	if reserve != nil {
		s.watching.Go(s.watchDisk)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("store: open: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() || ValidateTenantID(e.Name()) != nil {
			continue
		}
		if err := s.openFromDisk(e.Name()); err != nil {
			_ = s.Close()
			return nil, err
		}
	}
	return s, nil
}

// openFromDisk adds the tenant whose directory Open found, and opens its
// TSDB (replaying its WAL) if the directory holds data.
func (s *Store) openFromDisk(id string) error {
	t, err := s.Tenant(id)
	if err != nil {
		return err
	}
	data, err := holdsData(t.dir)
	if err != nil {
		return fmt.Errorf("store: open tenant %q: %w", id, err)
	}
	if data {
		_, err = t.open() // its errors name the tenant
	}
	return err
}

// ValidateTenantID reports whether id can name a tenant: 1 to 150 of
// [A-Za-z0-9_.-], not "." and without "..". AMP workspace ids and Cortex
// X-Scope-OrgID values fit; the rule also keeps ids safe as directory names.
func ValidateTenantID(id string) error {
	if id == "" {
		return errors.New("tenant id is empty")
	}
	if len(id) > maxTenantIDLength {
		return fmt.Errorf("tenant id %.20q... is %d characters long; the limit is %d", id, len(id), maxTenantIDLength)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return fmt.Errorf("tenant id %q contains %q; only letters, digits, '_', '.' and '-' are allowed", id, c)
		}
	}
	if id == "." || strings.Contains(id, "..") {
		return fmt.Errorf("tenant id %q must not be '.' or contain '..'", id)
	}
	return nil
}

// Tenant returns the tenant id. A tenant costs a few KiB and no open file
// until its first accepted sample: that opens (creating it if needed) its
// TSDB in dir/<id>/. Until then its queries answer as an empty TSDB would.
func (s *Store) Tenant(id string) (*Tenant, error) {
	if err := ValidateTenantID(id); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	s.mu.RLock()
	t, ok := s.tenants[id]
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return nil, ErrClosed
	}
	if ok {
		return t, nil
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if t, ok := s.tenants[id]; ok {
		return t, nil
	}
	t, err := s.newTenant(id)
	if err != nil {
		return nil, err
	}
	s.tenants[id] = t
	return t, nil
}

// lookup returns a known tenant (nil for another), so that queries for
// unknown tenants answer empty results without adding one.
func (s *Store) lookup(id string) (*Tenant, error) {
	if err := ValidateTenantID(id); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	return s.tenants[id], nil
}

// newTenant is a tenant without its TSDB: its metadata, if any, is read
// now; the TSDB is opened by Tenant.open.
func (s *Store) newTenant(id string) (*Tenant, error) {
	t := &Tenant{id: id, dir: filepath.Join(s.dir, id), s: s, outOfOrderAllowed: s.opts.OutOfOrderWindow > 0}
	if err := t.loadMetadata(); err != nil {
		return nil, fmt.Errorf("store: open tenant %q: %w", id, err)
	}
	return t, nil
}

// openDB opens (creating it if needed) tenant id's TSDB in dir, with its
// metrics on Options.Registerer labelled workspace="<id>". It is the one
// place a tenant's TSDB is opened: by the tenant's first accepted sample
// (Tenant.open), by Open for a tenant with data on disk, and again after a
// storage failure (Tenant.reopen). It replays the WAL, repairs it if a
// write tore its last record, and starts a new segment. The caller closes
// the DB and then unregisters the metrics (Tenant.closeDB).
func (s *Store) openDB(id, dir string) (*tsdb.DB, *promreg.Tracking, error) {
	restored, err := restoreInterruptedRepair(filepath.Join(dir, "wal"))
	for _, seg := range restored {
		s.logger.Warn("restored a WAL segment from a repair that was interrupted; it is repaired again now", "workspace", id, "segment", seg)
	}
	if err != nil {
		return nil, nil, err
	}
	var reg *promreg.Tracking
	if s.opts.Registerer != nil {
		reg = promreg.New(prometheus.WrapRegistererWith(prometheus.Labels{"workspace": id}, s.opts.Registerer)).TolerateDuplicates(s.logger)
	}
	db, err := tsdb.Open(dir, s.logger.With("workspace", id), reg.Registerer(), s.tsdbOptions(), nil)
	if err != nil {
		reg.UnregisterAll()
		return nil, nil, fmt.Errorf("open TSDB in %s: %w", dir, err)
	}
	return db, reg, nil
}

// holdsData reports whether a tenant's directory holds anything a TSDB
// would read back: a non-empty file other than the metadata file (which
// the tenant reads itself) and the TSDB's lock. The empty WAL segment of a
// TSDB opened but never written to (every tenant written to got one before
// TSDBs were opened on the first sample) is not data: such a tenant costs
// nothing until its first sample.
func holdsData(dir string) (bool, error) {
	found := false
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || found || d.IsDir() {
			return err
		}
		if rel, _ := filepath.Rel(dir, path); rel == metadataFile || rel == tsdbLockFile {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Size() > 0 {
			found = true
			return filepath.SkipAll
		}
		return nil
	})
	return found, err
}

// tsdbLockFile is the lock file tsdb.Open creates in its directory.
const tsdbLockFile = "lock"

// tsdbOptions follows what cmd/prometheus sets, with the store's options.
func (s *Store) tsdbOptions() *tsdb.Options {
	o := tsdb.DefaultOptions()
	o.RetentionDuration = s.opts.Retention.Milliseconds()
	// cmd/prometheus: max block duration is 10% of retention, capped at 31d.
	maxBlock := min(s.opts.Retention/10, 31*24*time.Hour)
	o.MaxBlockDuration = max(maxBlock.Milliseconds(), o.MinBlockDuration)
	o.OutOfOrderTimeWindow = s.opts.OutOfOrderWindow.Milliseconds()
	// cmd/prometheus compresses the WAL with Snappy by default.
	o.WALCompression = compression.Snappy
	// Memory that Prometheus sizes for one big TSDB per process and the
	// store pays per tenant. Measured per tenant with one series
	// (runtime.ReadMemStats after GC): 4.3 MB with Prometheus's defaults,
	// 8.5 MB once the series' first chunk is written to chunks_head; 0.53
	// and 0.80 MB with these two.
	//
	// StripeSize (default 16384) is the number of locks and maps the
	// head's series are spread over; they are allocated at Open (3.8 MB)
	// and only lessen lock contention between concurrent appenders, whose
	// number the workspace bounds (16 writes at once, appends serialized
	// per tenant). The series themselves take the same memory either way.
	o.StripeSize = 1024
	// HeadChunksWriteBufferSize (default 4 MiB) is the buffer of the
	// chunks_head file writer, allocated when the first full chunk is
	// written. A smaller one means more, smaller write calls for the same
	// bytes; chunks are read from the buffer until it is flushed, and the
	// WAL, not this file, is what makes a sample durable.
	o.HeadChunksWriteBufferSize = 256 << 10
	o.EnableExemplarStorage = s.opts.MaxExemplars > 0
	o.MaxExemplars = s.opts.MaxExemplars
	return o
}

// Tenants lists the tenants the store knows, sorted: those found on disk
// by Open and those returned by Tenant since, with data or not.
func (s *Store) Tenants() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids := make([]string, 0, len(s.tenants))
	for id := range s.tenants {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Unwritable lists the tenants that cannot write to their disk (see
// Tenant.Writable), sorted, after letting each try to recover. The
// workspace's /-/ready answers 503 while it is not empty.
func (s *Store) Unwritable() []string {
	s.mu.RLock()
	ts := slices.Collect(maps.Values(s.tenants))
	s.mu.RUnlock()
	var ids []string
	for _, t := range ts {
		if t.Writable() != nil {
			ids = append(ids, t.id)
		}
	}
	slices.Sort(ids)
	return ids
}

// watchDisk looks at the free space every reserveCheckEvery, between
// the writes that also do: the TSDB writes in the background whether or
// not the store is written to.
func (s *Store) watchDisk() {
	tick := time.NewTicker(reserveCheckEvery)
	defer tick.Stop()
	for {
		select {
		case <-s.stopWatch:
			return
		case <-tick.C:
			s.reserve.check()
		}
	}
}

// Close closes every tenant's TSDB: committed samples are in the WAL and
// are there when the store is opened again. Close is safe to call twice.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	close(s.stopWatch)
	s.watching.Wait()
	// A last look, so that a disk that filled since the last one gives the
	// TSDBs the reserve to close with (they write their head chunks).
	s.reserve.check()
	var errs []error
	for _, id := range slices.Sorted(maps.Keys(s.tenants)) {
		if err := s.tenants[id].close(); err != nil {
			errs = append(errs, fmt.Errorf("store: close tenant %q: %w", id, err))
		}
	}
	if err := s.engine.Close(); err != nil {
		errs = append(errs, fmt.Errorf("store: close query engine: %w", err))
	}
	s.reg.UnregisterAll()
	if err := s.lock.Release(); err != nil {
		errs = append(errs, fmt.Errorf("store: release %s: %w", LockFile, err))
	}
	return errors.Join(errs...)
}
