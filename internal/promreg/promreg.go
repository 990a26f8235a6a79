// Package promreg holds a prometheus.Registerer that remembers what was
// registered through it, so that a component closing (a workspace tenant,
// the store, an agent) unregisters its metrics and can be built again on
// the same registry.
package promreg

import (
	"errors"
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Tracking registers on an inner Registerer and remembers what it
// registered. The nil *Tracking does nothing (see Registerer).
type Tracking struct {
	inner prometheus.Registerer
	// dupLog, when set, makes MustRegister log an AlreadyRegisteredError
	// and go on instead of panicking.
	dupLog *slog.Logger

	mu sync.Mutex
	cs []prometheus.Collector
}

// New returns a Tracking over inner, or nil when inner is nil.
func New(inner prometheus.Registerer) *Tracking {
	if inner == nil {
		return nil
	}
	return &Tracking{inner: inner}
}

// TolerateDuplicates makes MustRegister log a collector that is already
// registered (two stores open on one registry) to log and leave it
// unregistered, instead of panicking as the TSDB's and the PromQL
// engine's MustRegister calls would. It returns r.
func (r *Tracking) TolerateDuplicates(log *slog.Logger) *Tracking {
	if r != nil {
		r.dupLog = log
	}
	return r
}

// Register implements prometheus.Registerer.
func (r *Tracking) Register(c prometheus.Collector) error {
	if err := r.inner.Register(c); err != nil {
		return err
	}
	r.mu.Lock()
	r.cs = append(r.cs, c)
	r.mu.Unlock()
	return nil
}

// MustRegister implements prometheus.Registerer.
func (r *Tracking) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			if are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok && r.dupLog != nil {
				r.dupLog.Warn("metrics already registered by another component on this registry; not exported", "err", are)
				continue
			}
			panic(err)
		}
	}
}

// Unregister implements prometheus.Registerer.
func (r *Tracking) Unregister(c prometheus.Collector) bool {
	r.mu.Lock()
	for i, rc := range r.cs {
		if rc == c {
			r.cs = append(r.cs[:i], r.cs[i+1:]...)
			break
		}
	}
	r.mu.Unlock()
	return r.inner.Unregister(c)
}

// UnregisterAll removes everything registered through r; nil does nothing.
func (r *Tracking) UnregisterAll() {
	if r == nil {
		return
	}
	r.mu.Lock()
	cs := r.cs
	r.cs = nil
	r.mu.Unlock()
	for _, c := range cs {
		r.inner.Unregister(c)
	}
}

// Registerer returns r as a prometheus.Registerer, nil when r is nil (a
// typed nil would not compare equal to nil in code that checks).
func (r *Tracking) Registerer() prometheus.Registerer {
	if r == nil {
		return nil
	}
	return r
}
