package workspace

import (
	"github.com/rwkit/rwkit/workspace/store"

	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// defaultTenant is the tenant of /api/v1/write and of /api/v1/push without
// X-Scope-OrgID (as store.DefaultTenant).
const defaultTenant = "default"

func (w *Workspace) routes() http.Handler {
	mux := http.NewServeMux()
	// Writes check their method themselves, to answer 405 rather than
	// fall through to the query API's subtree.
	mux.HandleFunc("/workspaces/{id}/api/v1/remote_write", func(rw http.ResponseWriter, r *http.Request) {
		w.serveWrite(rw, r, r.PathValue("id"))
	})
	mux.HandleFunc("/api/v1/push", func(rw http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Scope-OrgID")
		if id == "" {
			id = defaultTenant
		}
		w.serveWrite(rw, r, id)
	})
	mux.HandleFunc("/api/v1/write", func(rw http.ResponseWriter, r *http.Request) {
		w.serveWrite(rw, r, defaultTenant)
	})

	// The store routes on what follows /api/v1/ and finds the tenant in a
	// /workspaces/{id}/ path, else in X-Scope-OrgID, else "default": the
	// API bases of AMP, Cortex and Prometheus (the last one is what a
	// Grafana data source pointed at the server's root calls).
	query := w.db.APIHandler(store.TenantFromRequest)
	mux.Handle("/workspaces/{id}/api/v1/", query)
	mux.Handle("/prometheus/api/v1/", query)
	mux.Handle("/api/v1/", query)
	mux.HandleFunc("GET /workspaces/{id}/api/v1/collisions", w.serveCollisions)
	mux.HandleFunc("GET /workspaces/{id}/api/v1/ha", w.serveHA)
	w.pageRoutes(mux) // page.go: / and /workspaces/{id}/

	mux.Handle("GET /metrics", promhttp.HandlerFor(w.cfg.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /-/ready", w.serveReady)
	mux.HandleFunc("GET /-/healthy", func(rw http.ResponseWriter, _ *http.Request) {
		rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = rw.Write([]byte("rwkit workspace is Healthy.\n"))
	})
	return mux
}

func (w *Workspace) serveReady(rw http.ResponseWriter, _ *http.Request) {
	w.mu.Lock()
	closed := w.closed
	w.mu.Unlock()
	if closed {
		http.Error(rw, "rwkit workspace is shutting down.", http.StatusServiceUnavailable)
		return
	}
	if ids := w.db.Unwritable(); len(ids) > 0 {
		http.Error(rw, fmt.Sprintf("rwkit workspace is not ready: %s cannot write to disk; its writes are refused until it can (the server's log says why).",
			joinIDs(ids)), http.StatusServiceUnavailable)
		return
	}
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = rw.Write([]byte("rwkit workspace is Ready.\n"))
}

// serveCollisions answers GET /workspaces/{id}/api/v1/collisions with the
// tenant's collision log as a JSON list, most recently seen first.
func (w *Workspace) serveCollisions(rw http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := store.ValidateTenantID(id); err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	list := w.Collisions(id)
	rw.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(rw)
	enc.SetIndent("", "  ")
	if err := enc.Encode(list); err != nil && !errors.Is(err, http.ErrHandlerTimeout) {
		w.cfg.logger.Debug("writing collisions", "workspace", id, "err", err)
	}
}

// serveHA answers GET /workspaces/{id}/api/v1/ha with the tenant's HA
// deduplication state (Workspace.HA) as JSON.
func (w *Workspace) serveHA(rw http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := store.ValidateTenantID(id); err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	rw.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(rw)
	enc.SetIndent("", "  ")
	if err := enc.Encode(w.HA(id)); err != nil && !errors.Is(err, http.ErrHandlerTimeout) {
		w.cfg.logger.Debug("writing HA status", "workspace", id, "err", err)
	}
}

// joinIDs names tenants for a sentence, at most ten of them.
func joinIDs(ids []string) string {
	const show = 10
	if len(ids) == 1 {
		return "workspace " + ids[0]
	}
	if len(ids) > show {
		return fmt.Sprintf("workspaces %s and %d more", strings.Join(ids[:show], ", "), len(ids)-show)
	}
	return "workspaces " + strings.Join(ids, ", ")
}
