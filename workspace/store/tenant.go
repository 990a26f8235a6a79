package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"

	"github.com/rwkit/rwkit/internal/promreg"
)

// metadataFile holds a tenant's metric metadata next to its TSDB: the TSDB
// keeps metadata only in WAL records and offers no way to read it back.
const metadataFile = "rwkit-metadata.json"

// maxMetadataPerFamily bounds the distinct metadata kept per metric family
// (writers that disagree on help text each add one).
const maxMetadataPerFamily = 10

// Tenant is one tenant's TSDB (an AMP workspace, a Cortex org).
type Tenant struct {
	id  string
	dir string
	s   *Store

	// dbMu guards db, reg and gen: appenders (from Appender to Commit or
	// Rollback) and queriers (until Close) hold it for reading while they
	// use db; reopening db after a storage failure takes it for writing,
	// with TryLock, so that it never waits behind a long query. db is nil
	// only after a reopen failed. gen counts the opens, so that a Ref
	// resolved on a DB since closed is looked up again by its labels.
	dbMu sync.RWMutex
	db   *tsdb.DB
	reg  *promreg.Tracking // nil without Options.Registerer
	gen  uint64
	head atomic.Pointer[tsdb.Head] // db's head, for NumSeries
	shut bool                      // closed with the store: never reopened

	// commitMu orders commits with the failure of one: once a commit has
	// failed, no later commit may reach the same WAL (health.go).
	commitMu sync.Mutex
	health   health

	// pending holds samples of uncommitted batches; outOfOrderAllowed is
	// Options.OutOfOrderWindow > 0.
	pending           pendingSet
	outOfOrderAllowed bool

	metaMu sync.RWMutex
	meta   map[string][]metricMetadata // by metric family name
}

// metricMetadata is one family's metadata as /api/v1/metadata shows it.
type metricMetadata struct {
	Type string `json:"type"`
	Help string `json:"help"`
	Unit string `json:"unit"`
}

// ID returns the tenant id.
func (t *Tenant) ID() string { return t.id }

// NumSeries returns the number of series in the head (the in-memory block
// holding the last 2-3 hours), which is what Cortex counts for per-user and
// per-metric series limits.
//
// It takes no lock (a caller holding an Appender asks it), and reads the
// head of the TSDB open last: a closed head's count is still a number.
func (t *Tenant) NumSeries() uint64 {
	if h := t.head.Load(); h != nil {
		return h.NumSeries()
	}
	return 0
}

// Appender starts a batch of appends. It must end with Commit or Rollback.
// An Appender is not safe for concurrent use; use one per goroutine.
//
// While the tenant cannot write to its disk, the Appender refuses
// everything with an error wrapping ErrCannotWrite. It does not try to
// recover (that may replay the WAL, which a caller holding its own locks
// should not wait for): Writable does.
func (t *Tenant) Appender(ctx context.Context) *Appender {
	if t.health.failure() == nil {
		t.dbMu.RLock()
		// Checked again under the lock: another commit may have failed
		// since (one that fails later is caught at Commit).
		if t.db != nil && t.health.failure() == nil {
			return newAppender(t, t.db, t.gen, t.db.AppenderV2(ctx))
		}
		t.dbMu.RUnlock()
	}
	err := t.health.refuse(t.id)
	if err == nil { // recovered in between: the writer retries
		err = cannotWrite(t.id, errors.New("its TSDB was being reopened"))
	}
	return &Appender{t: t, err: err}
}

// Writable returns nil when the tenant takes writes, else an error
// wrapping ErrCannotWrite. A tenant stops taking writes when a commit
// fails to write its WAL; Writable then tries, at most once a second, to
// recover: it checks that the disk takes writes again, then closes and
// reopens the TSDB (which repairs the WAL and starts a new segment; the
// call that does it waits for the replay). Call it before a write, outside
// locks of your own (the workspace does, and its /-/ready through
// Store.Unwritable). The failure and the recovery are logged once each,
// with the count of writes refused in between.
func (t *Tenant) Writable() error {
	if t.health.failure() == nil {
		return nil
	}
	if t.health.dueForRecovery(t.s.opts.Now(), t.s.recoverEvery) {
		t.reopen()
	}
	if err := t.health.failure(); err != nil {
		return cannotWrite(t.id, err)
	}
	return nil
}

// fail stops the tenant's writes after a failed commit; the caller holds
// commitMu.
func (t *Tenant) fail(err error) {
	if t.health.fail(err, t.s.opts.Now(), walEndOf(filepath.Join(t.dir, "wal"))) {
		t.s.logger.Error("workspace cannot write to its disk; its writes are refused (5xx, nothing stored) until it can again",
			"workspace", t.id, "dir", t.dir, "err", err)
	}
}

// reopen is the recovery: probe the disk, close the TSDB, open it again.
// It gives up quietly (the tenant stays failed, to try again later) when
// an appender or a querier holds the TSDB or the disk is still full.
func (t *Tenant) reopen() {
	if !t.dbMu.TryLock() {
		// Not an attempt: the next write or readiness check tries.
		t.health.retrySoon()
		return
	}
	defer t.dbMu.Unlock()
	if t.shut {
		return
	}
	if err := probeDisk(t.dir); err != nil {
		t.s.logger.Debug("workspace disk still refuses writes", "workspace", t.id, "err", err)
		return
	}
	if t.db != nil {
		if err := t.closeDB(); err != nil {
			t.s.logger.Debug("closing the failed TSDB", "workspace", t.id, "err", err)
		}
	}
	if dropped, err := cutWAL(filepath.Join(t.dir, "wal"), t.health.end()); err != nil {
		t.s.logger.Warn("cutting the failed write out of the WAL; the repair at open drops it", "workspace", t.id, "err", err)
	} else if dropped > 0 {
		t.s.logger.Debug("cut the failed write out of the WAL", "workspace", t.id, "bytes", dropped)
	}
	db, reg, err := t.s.openDB(t.id, t.dir)
	if err != nil {
		t.s.logger.Warn("reopening the workspace's TSDB failed; trying again later", "workspace", t.id, "err", err)
		return
	}
	t.db, t.reg = db, reg
	t.head.Store(db.Head())
	t.gen++
	refused, down := t.health.recovered(t.s.opts.Now())
	t.s.logger.Info("workspace writes to its disk again: its TSDB was reopened, the WAL repaired and a new segment started",
		"workspace", t.id, "failed_writes", refused, "down", down.Round(time.Millisecond))
}

// Querier returns a storage.Querier over [mint, maxt] in milliseconds.
// Callers must Close it.
func (t *Tenant) Querier(mint, maxt int64) (storage.Querier, error) {
	t.dbMu.RLock()
	if t.db == nil {
		t.dbMu.RUnlock()
		return nil, fmt.Errorf("store: tenant %q: its TSDB could not be reopened after a disk failure; it is tried again at the next write", t.id)
	}
	q, err := t.db.Querier(mint, maxt)
	if err != nil {
		t.dbMu.RUnlock()
		return nil, err
	}
	return &heldQuerier{Querier: q, release: t.dbMu.RUnlock}, nil
}

// heldQuerier keeps the tenant's TSDB open (dbMu read-locked) until it is
// closed.
type heldQuerier struct {
	storage.Querier
	release func()
	once    sync.Once
}

func (q *heldQuerier) Close() error {
	err := q.Querier.Close()
	q.once.Do(q.release)
	return err
}

// closeDB closes db; the caller holds dbMu for writing.
func (t *Tenant) closeDB() error {
	err := t.db.Close()
	t.reg.UnregisterAll()
	t.db, t.reg = nil, nil
	return err
}

func (t *Tenant) close() error {
	t.dbMu.Lock()
	defer t.dbMu.Unlock()
	t.shut = true
	if t.db == nil {
		return nil
	}
	err := t.closeDB()
	// Closed while failed: the failed commit's record is cut here too,
	// for the next Open.
	if _, cerr := cutWAL(filepath.Join(t.dir, "wal"), t.health.end()); cerr != nil {
		err = errors.Join(err, fmt.Errorf("cut the failed write out of the WAL: %w", cerr))
	}
	return err
}

func (t *Tenant) loadMetadata() error {
	t.meta = map[string][]metricMetadata{}
	b, err := os.ReadFile(filepath.Join(t.dir, metadataFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &t.meta); err != nil {
		return fmt.Errorf("read %s: %w", metadataFile, err)
	}
	return nil
}

// mergeMetadata records metadata committed by an Appender and persists the
// set when it changed.
func (t *Tenant) mergeMetadata(pending []pendingMetadata) error {
	t.metaMu.Lock()
	defer t.metaMu.Unlock()
	changed := false
	for _, p := range pending {
		ms := t.meta[p.family]
		found := false
		for _, m := range ms {
			if m == p.m {
				found = true
				break
			}
		}
		if found {
			continue
		}
		if len(ms) >= maxMetadataPerFamily {
			ms = ms[1:]
		}
		t.meta[p.family] = append(ms, p.m)
		changed = true
	}
	if !changed {
		return nil
	}
	b, err := json.Marshal(t.meta)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(t.dir, metadataFile), b); err != nil {
		// The samples are committed: failing the write here would tell
		// the writer that nothing was stored. The metadata stays served
		// from memory and is written with the next change.
		t.s.logger.Warn("persisting metric metadata failed; it is kept in memory", "workspace", t.id, "err", err)
	}
	return nil
}

// metadata returns a copy of the metadata, optionally for one family.
func (t *Tenant) metadata(family string) map[string][]metricMetadata {
	t.metaMu.RLock()
	defer t.metaMu.RUnlock()
	out := make(map[string][]metricMetadata, len(t.meta))
	for f, ms := range t.meta {
		if family != "" && f != family {
			continue
		}
		out[f] = append([]metricMetadata(nil), ms...)
	}
	return out
}

func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
