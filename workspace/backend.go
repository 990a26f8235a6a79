package workspace

import (
	"context"
	"net/http"

	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
)

// The workspace reaches storage only through these interfaces; store.go
// adapts workspace/store to them, so the store's API touches one file.

// database holds every tenant's data.
type database interface {
	// tenant returns the data of one tenant. It is cheap: the storage
	// of a tenant is opened by its first accepted sample.
	tenant(id string) (tenantDB, error)
	// queryAPI serves the Prometheus HTTP API (.../api/v1/query, ...) for
	// the tenant a /workspaces/{id}/ path or X-Scope-OrgID names.
	queryAPI() http.Handler
	// validTenant reports whether id can name a tenant.
	validTenant(id string) error
	// unwritable lists the tenants that cannot write to their disk
	// (/-/ready answers 503 while there is one), after letting them try
	// to recover.
	unwritable() []string
}

type tenantDB interface {
	// writable returns a *diskError while the tenant cannot write to its
	// disk, after trying to recover (at most once a second; a recovery
	// replays the tenant's WAL, so it is called outside the tenant's lock).
	writable() error
	appender(ctx context.Context) appender
	numSeries() int
	// resolve appends to dst, for each series, what appendRef needs:
	// the series' storage labels looked up in the head (store.Tenant.Resolve).
	// It is safe for concurrent use: the workspace calls it before taking
	// the tenant's lock.
	resolve(ctx context.Context, series []wire.TimeSeries, dst []seriesRef) []seriesRef
}

// appender appends to one tenant in one transaction. Append methods return
// an *appendFailure for a sample the TSDB refuses (the request goes on) and
// any other error for a failure of the store (the request is rolled back
// and answered 500).
type appender interface {
	append(ls []wire.Label, ts int64, v float64) error
	appendHistogram(ls []wire.Label, h *wire.Histogram) error
	// appendRef and appendHistogramRef are append and appendHistogram for a
	// series resolved by tenantDB.resolve.
	appendRef(r *seriesRef, ts int64, v float64) error
	appendHistogramRef(r *seriesRef, h *wire.Histogram) error
	appendExemplar(ls []wire.Label, e *wire.Exemplar) error
	appendMetadata(ls []wire.Label, md *wire.Metadata) error
	commit() error
	rollback() error
}

// diskError is a write refused because the tenant cannot write to its
// disk: nothing of it was stored. The store logs the failure and the
// recovery; the writer gets cannotWriteText, without the server's paths.
type diskError struct{ err error }

func (e *diskError) Error() string { return e.err.Error() }
func (e *diskError) Unwrap() error { return e.err }

const cannotWriteText = "the workspace cannot write to its disk; nothing of this request was stored, retry it"

// appendFailure is a sample the TSDB refused, with Cortex's reason.
type appendFailure struct {
	reason      validate.Reason
	existing    float64 // the stored value, for new-value-for-timestamp
	hasExisting bool
	err         error // the TSDB's error, whose text Cortex and Prometheus put in the body
}

func (f *appendFailure) Error() string { return f.err.Error() }
func (f *appendFailure) Unwrap() error { return f.err }
