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
type Tenant struct {
	id  string
	dir string
	s   *Store // opens the TSDB (Store.openDB)

	// db is nil until open; openMu serializes open and close.
	db     atomic.Pointer[tsdb.DB]
	openMu sync.Mutex
	reg    *promreg.Tracking // the TSDB's metrics; nil without Options.Registerer
	closed bool

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
func (t *Tenant) NumSeries() uint64 {
	db := t.db.Load()
	if db == nil {
		return 0
	}
	return db.Head().NumSeries()
}

// Appender starts a batch of appends. It must end with Commit or Rollback.
// An Appender is not safe for concurrent use; use one per goroutine.
func (t *Tenant) Appender(ctx context.Context) *Appender {
	return newAppender(ctx, t)
}

// Querier returns a storage.Querier over [mint, maxt] in milliseconds.
// Callers must Close it.
func (t *Tenant) Querier(mint, maxt int64) (storage.Querier, error) {
	return t.queryable().Querier(mint, maxt)
}

// queryable is the TSDB, or an empty one before the first sample.
func (t *Tenant) queryable() storage.Queryable {
	if db := t.db.Load(); db != nil {
		return db
	}
	return emptyQueryable
}

var emptyQueryable = storage.QueryableFunc(func(int64, int64) (storage.Querier, error) {
	return storage.NoopQuerier(), nil
})

// open returns the tenant's TSDB, opening (creating) it if needed.
func (t *Tenant) open() (*tsdb.DB, error) {
	if db := t.db.Load(); db != nil {
		return db, nil
	}
	t.openMu.Lock()
	defer t.openMu.Unlock()
	if db := t.db.Load(); db != nil {
		return db, nil
	}
	if t.closed {
		return nil, ErrClosed
	}
	db, reg, err := t.s.openDB(t.id, t.dir)
	if err != nil {
		return nil, err
	}
	t.reg = reg
	t.db.Store(db)
	return db, nil
}

// close closes the TSDB if it was opened; the tenant opens no other after.
func (t *Tenant) close() error {
	t.openMu.Lock()
	defer t.openMu.Unlock()
	t.closed = true
	db := t.db.Load()
	if db == nil {
		return nil
	}
	err := db.Close()
	t.reg.UnregisterAll()
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
	if err := os.MkdirAll(t.dir, 0o755); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(t.dir, metadataFile), b)
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
