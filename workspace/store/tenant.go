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

// Tenant is one tenant's TSDB (an AMP workspace, a Cortex org). The TSDB
// is opened on the tenant's first accepted sample (or by Store.Open, for a
// tenant with data on disk): an open TSDB holds its WAL and lock files and
// about 0.5 MiB of memory with no series (see tsdbOptions), which anyone
// who can write could otherwise make the workspace spend per tenant id
// with writes it refuses. Until then the tenant answers as an empty TSDB.
//
// The lock discipline, said once here:
//
//   - dbMu guards db, reg, gen and shut. Appenders hold it for reading from
//     their first use of db to Commit or Rollback, and queriers until
//     Close, so that db is never closed under them. Opening or closing db
//     takes it for writing: the first open (Tenant.open), the recovery
//     after a storage failure (Tenant.reopen, with TryLock, so that it
//     never waits behind a long query; it gives up and is tried again),
//     and Store.Close. Nothing opens a TSDB while holding dbMu for
//     reading: an Appender of a tenant without a TSDB holds no lock until
//     its first accepted sample has opened one.
//   - openMu serializes first opens, so that two batches racing to open
//     the TSDB open it once, and so that the second one, finding it open,
//     does not wait for dbMu's write lock behind the queries of the first.
//     It is taken before dbMu, never after.
//   - commitMu is taken under dbMu's read lock, around a TSDB commit and
//     the failure it may record (health.go).
//
// db is nil before the first open (health.failure() is nil then), after a
// reopen failed (the tenant is failed: health.failure() is not nil), and
// after Store.Close (shut). gen counts the opens (0: never opened), so that
// a Ref resolved on a TSDB since closed is looked up again by its labels.
type Tenant struct {
	id  string
	dir string
	s   *Store // opens the TSDB (Store.openDB)

	openMu sync.Mutex
	dbMu   sync.RWMutex
	db     *tsdb.DB
	reg    *promreg.Tracking // db's metrics; nil without Options.Registerer
	gen    uint64
	shut   bool                      // closed with the store: never opened again
	head   atomic.Pointer[tsdb.Head] // db's head, for NumSeries without dbMu

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
// per-metric series limits; 0 before the TSDB is opened.
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
	if err := t.s.reserve.refusal(t.id); err != nil {
		return &Appender{t: t, err: err}
	}
	if t.health.failure() == nil {
		t.dbMu.RLock()
		// Checked again under the lock: another commit may have failed
		// since (one that fails later is caught at Commit).
		if t.health.failure() == nil {
			if t.db != nil {
				a := newAppender(ctx, t)
				a.start(t.db, t.gen) // the batch keeps the read lock
				return a
			}
			// No TSDB yet (or the store is closed): the batch holds
			// nothing until its first accepted sample (Appender.startTSDB).
			t.dbMu.RUnlock()
			return newAppender(ctx, t)
		}
		t.dbMu.RUnlock()
	}
	err := t.health.refuse(t.id)
	if err == nil { // recovered in between: the writer retries
		err = cannotWrite(t.id, errors.New("its TSDB was being reopened"))
	}
	return &Appender{t: t, err: err}
}

// open returns the tenant's TSDB, opening (creating) it if it has none
// yet. The caller holds none of the tenant's locks; the DB returned is not
// held open for it (an Appender read-locks dbMu after, see startTSDB).
func (t *Tenant) open() (*tsdb.DB, error) {
	t.openMu.Lock()
	defer t.openMu.Unlock()
	t.dbMu.RLock()
	db := t.db
	t.dbMu.RUnlock()
	if db != nil {
		return db, nil
	}
	// Without a TSDB nothing holds dbMu for longer than a look at db, so
	// this waits for no query; under openMu no other open can run.
	t.dbMu.Lock()
	defer t.dbMu.Unlock()
	switch {
	case t.shut:
		return nil, fmt.Errorf("store: tenant %q: %w", t.id, ErrClosed)
	case t.db != nil: // reopened by a recovery in between
		return t.db, nil
	case t.health.failure() != nil: // a reopen failed: Writable retries it
		return nil, t.health.refuse(t.id)
	}
	if err := t.openLocked(); err != nil {
		return nil, fmt.Errorf("store: tenant %q: %w", t.id, err)
	}
	return t.db, nil
}

// openLocked opens the TSDB (Store.openDB) and makes it the tenant's; the
// caller holds dbMu for writing and db is nil.
func (t *Tenant) openLocked() error {
	db, reg, err := t.s.openDB(t.id, t.dir)
	if err != nil {
		return err
	}
	t.db, t.reg = db, reg
	t.gen++
	t.head.Store(db.Head())
	return nil
}

// Writable returns nil when the tenant takes writes, else an error
// wrapping ErrCannotWrite. A tenant stops taking writes when a commit
// fails to write its WAL; Writable then tries, at most once a second, to
// recover: it checks that the disk takes writes again, then closes and
// reopens the TSDB (which repairs the WAL and starts a new segment; the
// call that does it waits for the replay). Call it before a write, outside
// locks of your own (the workspace does, and its /-/ready through
// Store.Unwritable). The failure and the recovery are logged once each,
// with the count of writes refused in between. A tenant without a TSDB
// has written nothing yet and is writable. With Options.DiskReserve, every
// tenant is unwritable while the disk is low on space (reserve.go).
func (t *Tenant) Writable() error {
	if t.health.failure() != nil && t.health.dueForRecovery(t.s.opts.Now(), t.s.recoverEvery) {
		t.reopen()
	}
	if err := t.health.failure(); err != nil {
		return cannotWrite(t.id, err)
	}
	if err := t.s.reserve.err(); err != nil {
		return cannotWrite(t.id, err)
	}
	return nil
}

// fail stops the tenant's writes after a failed commit; the caller holds
// commitMu.
func (t *Tenant) fail(err error) {
	t.s.reserve.release(err)
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
	if err := t.openLocked(); err != nil {
		t.s.logger.Warn("reopening the workspace's TSDB failed; trying again later", "workspace", t.id, "err", err)
		return
	}
	refused, down := t.health.recovered(t.s.opts.Now())
	t.s.logger.Info("workspace writes to its disk again: its TSDB was reopened, the WAL repaired and a new segment started",
		"workspace", t.id, "failed_writes", refused, "down", down.Round(time.Millisecond))
}

// Querier returns a storage.Querier over [mint, maxt] in milliseconds.
// Callers must Close it. A tenant without a TSDB yet answers as an empty
// one, and its querier holds nothing.
func (t *Tenant) Querier(mint, maxt int64) (storage.Querier, error) {
	t.dbMu.RLock()
	if t.db == nil {
		// A failure cannot be cleared while dbMu is held (reopen takes it).
		failed := t.health.failure() != nil
		t.dbMu.RUnlock()
		if failed {
			return nil, fmt.Errorf("store: tenant %q: its TSDB could not be reopened after a disk failure; it is tried again at the next write", t.id)
		}
		return storage.NoopQuerier(), nil
	}
	q, err := t.db.Querier(mint, maxt)
	if err != nil {
		t.dbMu.RUnlock()
		return nil, err
	}
	return &heldQuerier{Querier: q, release: t.dbMu.RUnlock}, nil
}

// emptyQueryable answers the queries of a tenant the store does not know.
var emptyQueryable = storage.QueryableFunc(func(int64, int64) (storage.Querier, error) {
	return storage.NoopQuerier(), nil
})

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

// close closes the TSDB if it was opened; the tenant opens no other after.
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
	// Metadata can come before the first sample (Prometheus sends it in
	// requests of its own), when the TSDB has not made the directory yet.
	err = os.MkdirAll(t.dir, 0o755)
	if err == nil {
		err = writeFileAtomic(filepath.Join(t.dir, metadataFile), b)
	}
	if err != nil {
		// The batch is committed: failing here would tell the writer
		// that nothing was stored. The metadata stays served from memory
		// and is written with the next change.
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
