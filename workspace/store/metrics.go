package store

import (
	"errors"
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// trackingRegisterer registers on the user's Registerer and remembers what
// it registered, so that closing a tenant (or the store) unregisters its
// metrics and a store can be opened again on the same registry. A
// collector that is already registered (two stores open on one registry)
// is logged and left unregistered instead of panicking, as the TSDB's and
// the engine's MustRegister calls would.
type trackingRegisterer struct {
	inner  prometheus.Registerer
	logger *slog.Logger

	mu sync.Mutex
	cs []prometheus.Collector
}

func newTrackingRegisterer(inner prometheus.Registerer, logger *slog.Logger) *trackingRegisterer {
	if inner == nil {
		return nil
	}
	return &trackingRegisterer{inner: inner, logger: logger}
}

func (r *trackingRegisterer) Register(c prometheus.Collector) error {
	if err := r.inner.Register(c); err != nil {
		return err
	}
	r.mu.Lock()
	r.cs = append(r.cs, c)
	r.mu.Unlock()
	return nil
}

func (r *trackingRegisterer) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			if are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
				r.logger.Warn("metrics already registered by another store on this registry; not exported", "err", are)
				continue
			}
			panic(err)
		}
	}
}

func (r *trackingRegisterer) Unregister(c prometheus.Collector) bool {
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

// unregisterAll removes everything registered through r.
func (r *trackingRegisterer) unregisterAll() {
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

// registerer returns r as a prometheus.Registerer, nil when there is none
// (a typed nil would not compare equal to nil inside the TSDB).
func (r *trackingRegisterer) registerer() prometheus.Registerer {
	if r == nil {
		return nil
	}
	return r
}
