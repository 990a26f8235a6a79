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
	db  *tsdb.DB
	reg *promreg.Tracking // nil without Options.Registerer

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
func (t *Tenant) NumSeries() uint64 { return t.db.Head().NumSeries() }

// Appender starts a batch of appends. It must end with Commit or Rollback.
// An Appender is not safe for concurrent use; use one per goroutine.
func (t *Tenant) Appender(ctx context.Context) *Appender {
	return newAppender(t, t.db.AppenderV2(ctx))
}

// Querier returns a storage.Querier over [mint, maxt] in milliseconds.
// Callers must Close it.
func (t *Tenant) Querier(mint, maxt int64) (storage.Querier, error) {
	return t.db.Querier(mint, maxt)
}

func (t *Tenant) close() error {
	err := t.db.Close()
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
