package workspace

import (
	"cmp"
	"errors"

	"github.com/rwkit/rwkit/workspace/store"
)

// Open opens (creating it if needed) the store in dir and returns a
// workspace that owns it: Close closes both. The store's settings come
// from the options: the limits' OutOfOrderTimeWindow and MaxExemplars (the
// TSDB applies them), WithQueryLimits and the query names of
// WithLimitNames, the registry (which then serves the TSDB's metrics too)
// and the logger. A directory another store has open is refused with an
// error that wraps store.ErrInUse.
func Open(dir string, opts ...Option) (*Workspace, error) {
	c, err := configure(opts)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(dir, c.storeOptions())
	if err != nil {
		return nil, err
	}
	w, err := newWorkspace(st, c)
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	w.ownsStore = true
	return w, nil
}

// New returns a workspace that stores what it accepts in st, a store the
// caller shares: the caller opened st (with the limits' OutOfOrderTimeWindow
// as store.Options.OutOfOrderWindow and MaxExemplars as
// store.Options.MaxExemplars) and closes it after the workspace. Open
// derives those settings itself.
func New(st *store.Store, opts ...Option) (*Workspace, error) {
	if st == nil {
		return nil, errors.New("workspace: New(nil store): open one with store.Open(dir, store.Options{...}), or use workspace.Open(dir)")
	}
	c, err := configure(opts)
	if err != nil {
		return nil, err
	}
	return newWorkspace(st, c)
}

// storeOptions are the settings of the store Open opens, from the
// workspace's.
func (c *config) storeOptions() store.Options {
	const option = "workspace.WithQueryLimits"
	n := c.limitNames
	return store.Options{
		OutOfOrderWindow: c.limits.OutOfOrderTimeWindow,
		MaxExemplars:     int64(c.limits.MaxExemplars),
		Logger:           c.logger.With("component", "store"),
		Registerer:       c.registry,
		DiskReserve:      c.diskReserve,

		QueryTimeout:        c.query.Timeout,
		QueryMaxSamples:     c.query.MaxSamples,
		QueryMaxConcurrency: c.query.MaxConcurrency,
		QueryMaxLength:      c.query.MaxLength,
		LimitNames: store.LimitNames{
			QueryTimeout:        cmp.Or(n.QueryTimeout, option),
			QueryMaxSamples:     cmp.Or(n.QueryMaxSamples, option),
			QueryMaxConcurrency: cmp.Or(n.QueryMaxConcurrency, option),
			QueryMaxLength:      cmp.Or(n.QueryMaxLength, option),
		},
	}
}
