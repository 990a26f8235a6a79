package workspace

import (
	"context"
	"errors"
	"net/http"

	"github.com/rwkit/rwkit/wire"
	"github.com/rwkit/rwkit/workspace/store"
)

// New returns a workspace that stores what it accepts in st. The caller
// opened st (with the limits' OutOfOrderTimeWindow as
// store.Options.OutOfOrderWindow) and closes it after the workspace.
func New(st *store.Store, opts ...Option) (*Workspace, error) {
	if st == nil {
		return nil, errors.New("workspace: New(nil store): open one with store.Open(dir, store.Options{...})")
	}
	return newWorkspace(storeDB{st}, opts...)
}

// storeDB adapts *store.Store to database: the only place that knows the
// store's API.
type storeDB struct{ s *store.Store }

func (d storeDB) tenant(id string) (tenantDB, error) {
	t, err := d.s.Tenant(id)
	if err != nil {
		return nil, err
	}
	return storeTenant{t}, nil
}

func (d storeDB) queryAPI() http.Handler {
	// The store routes on what follows /api/v1/ and finds the tenant in a
	// /workspaces/{id}/ path, else in X-Scope-OrgID, else "default".
	return d.s.APIHandler(store.TenantFromRequest)
}

func (d storeDB) validTenant(id string) error { return store.ValidateTenantID(id) }

func (d storeDB) unwritable() []string { return d.s.Unwritable() }

type storeTenant struct{ t *store.Tenant }

func (t storeTenant) appender(ctx context.Context) appender { return storeAppender{t.t.Appender(ctx)} }
func (t storeTenant) writable() error                       { return failure(t.t.Writable()) }
func (t storeTenant) numSeries() int                        { return int(t.t.NumSeries()) }

// seriesRef is a series resolved ahead of the tenant's lock.
type seriesRef = store.Ref

func (t storeTenant) resolve(ctx context.Context, series []wire.TimeSeries, dst []seriesRef) []seriesRef {
	return t.t.Resolve(ctx, series, dst)
}

type storeAppender struct{ a *store.Appender }

func (a storeAppender) append(ls []wire.Label, ts int64, v float64) error {
	return failure(a.a.Append(ls, ts, v))
}

func (a storeAppender) appendRef(r *seriesRef, ts int64, v float64) error {
	return failure(a.a.AppendRef(r, ts, v))
}

func (a storeAppender) appendHistogramRef(r *seriesRef, h *wire.Histogram) error {
	return failure(a.a.AppendHistogramRef(r, h))
}

func (a storeAppender) appendHistogram(ls []wire.Label, h *wire.Histogram) error {
	return failure(a.a.AppendHistogram(ls, h))
}

func (a storeAppender) appendExemplar(ls []wire.Label, e *wire.Exemplar) error {
	return a.a.AppendExemplar(ls, e)
}

func (a storeAppender) appendMetadata(ls []wire.Label, md *wire.Metadata) error {
	return a.a.UpdateMetadata(ls, *md)
}

func (a storeAppender) commit() error   { return failure(a.a.Commit()) }
func (a storeAppender) rollback() error { return a.a.Rollback() }

// failure turns the store's *AppendError into an *appendFailure and its
// ErrCannotWrite into a *diskError; other errors pass through (they fail
// the request with 500).
func failure(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, store.ErrCannotWrite) {
		return &diskError{err}
	}
	var ae *store.AppendError
	if errors.As(err, &ae) {
		return &appendFailure{reason: ae.Reason, existing: ae.Existing, hasExisting: ae.HasExisting, err: ae.Err}
	}
	return err
}
