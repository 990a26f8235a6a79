package workspace

import (
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/workspace/store"
)

// The workspace's page: GET / lists the workspaces, GET /workspaces/{id}/
// shows one. Both are one static page (ui/index.html, embedded) whose
// script reads the JSON endpoints below and the query API; nothing is
// fetched from elsewhere, so it works offline.
//
//	GET /ui/api/workspaces       the workspaces and their sample counts
//	GET /ui/api/workspaces/{id}  one workspace: counts, discards and drops
//	                             by reason with their hints, the history of
//	                             discards, the writers; in pass-through mode
//	                             the upstream's state and its refusals by
//	                             reason (the refusals themselves are the
//	                             collisions endpoint's upstream-refused)
//	GET /workspaces/{id}/api/v1/writers  the writers alone

//go:embed ui
var uiFiles embed.FS

// historyEvery is how often the page's history samples the discard
// counters, and historyLen how many samples it keeps (30 minutes).
const (
	historyEvery = 5 * time.Second
	historyLen   = 360
)

// WriterStats is one writer of a workspace as the page shows it: who, when
// it last wrote a sample the workspace tracks, and how many tracked series
// it wrote last.
type WriterStats struct {
	Writer
	// LastSeen is when a request of this writer last had a sample accepted
	// (zero when none was, or when WithMaxTrackedSeries is 0). It stays
	// when the series it wrote are taken over by another writer or leave
	// the series table.
	LastSeen time.Time `json:"last_seen"`
	// Series is the number of tracked series whose newest sample this
	// writer wrote (the series table is bounded; see WithMaxTrackedSeries).
	Series int `json:"series"`
}

// Writers returns tenant id's writers, most recently seen first (what GET
// /workspaces/{id}/api/v1/writers serves).
func (w *Workspace) Writers(id string) []WriterStats {
	w.mu.Lock()
	t, ok := w.tenants[id]
	w.mu.Unlock()
	if !ok {
		return []WriterStats{}
	}
	// The figures are kept as writes arrive (writerTable.saw,
	// seriesTable.held): the lock, which writes wait for, is held only to
	// copy the writer table, never to walk the series.
	t.mu.Lock()
	out := make([]WriterStats, 0, t.writers.len())
	for id, wr := range t.writers.writers {
		s := WriterStats{Writer: wr, Series: t.series.held(id)}
		if at := t.writers.seen[id]; at != 0 {
			s.LastSeen = time.Unix(0, at).UTC()
		}
		out = append(out, s)
	}
	t.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].LastSeen.Equal(out[j].LastSeen) {
			return out[i].LastSeen.After(out[j].LastSeen)
		}
		return out[i].key() < out[j].key()
	})
	return out
}

// pageCounts are one workspace's sample counters.
type pageCounts struct {
	ID        string  `json:"id"`
	Received  float64 `json:"received"`
	Accepted  float64 `json:"accepted"`
	Discarded float64 `json:"discarded"`
	Dropped   float64 `json:"dropped"`
}

// pageReason is a discard or drop reason's count and its hint.
type pageReason struct {
	Reason string  `json:"reason"`
	Count  float64 `json:"count"`
	Hint   string  `json:"hint,omitempty"`
}

// historyPoint is the discards by reason in the interval that ends at T,
// with the drops and the upstream's refusals (droppedKey, upstreamKey and
// the reason).
type historyPoint struct {
	T      time.Time          `json:"t"`
	Counts map[string]float64 `json:"counts"`
}

// pageUpstream is the upstream's state for one workspace (pass-through
// mode): upstreamStateOf, and the refusals by reason.
type pageUpstream struct {
	// URL is the upstream's URL, its secrets hidden (redact.URL).
	URL string `json:"url"`
	// Stored: the forwarded samples are stored locally too
	// (Upstream.Store); without, the workspace's accepted count stays 0.
	Stored bool `json:"stored"`
	// State is accepting, refusing and the reason, failing (5xx) or
	// unreachable; empty before the workspace's first forwarded write.
	State string `json:"state"`
	// Since is when State began; Writes counts the writes answered in it.
	Since  time.Time `json:"since,omitzero"`
	Writes int       `json:"writes_in_state"`
	// LastAnswer is when the upstream last answered, or failed to, a write
	// of this workspace: LastStatus its status, or LastError why there was
	// none (the sender got 502).
	LastAnswer time.Time `json:"last_answer,omitzero"`
	LastStatus int       `json:"last_status,omitempty"`
	LastError  string    `json:"last_error,omitempty"`
	// Reachable: the last write got an answer from the upstream.
	Reachable bool `json:"reachable"`
	// Refusals are the writes it refused (4xx) since the start, by reason
	// (rwkit_upstream_refusals_total), Refused their sum, and Groups the
	// upstream-refused entries of the collisions endpoint.
	Refusals []pageReason `json:"refusals"`
	Refused  float64      `json:"refused"`
	Groups   int          `json:"groups"`
}

type pageWorkspace struct {
	pageCounts
	Discards []pageReason   `json:"discards"`
	Drops    []pageReason   `json:"drops"`
	History  []historyPoint `json:"history"`
	Writers  []WriterStats  `json:"writers"`
	Interval float64        `json:"interval_seconds"`
	// Collision counts the collision groups but the upstream's refusals,
	// which Upstream counts (nil without an upstream).
	Collision int           `json:"collisions"`
	Upstream  *pageUpstream `json:"upstream,omitempty"`
}

// counterValues reads a counter vector's children: value by the value of
// label key, then of label sub ("" when sub is "").
func counterValues(c prometheus.Collector, key, sub string) map[string]map[string]float64 {
	ch := make(chan prometheus.Metric, 64)
	go func() { c.Collect(ch); close(ch) }()
	out := map[string]map[string]float64{}
	for m := range ch {
		var d dto.Metric
		if m.Write(&d) != nil || d.Counter == nil {
			continue
		}
		var k, s string
		for _, lp := range d.Label {
			switch lp.GetName() {
			case key:
				k = lp.GetValue()
			case sub:
				s = lp.GetValue()
			}
		}
		if out[k] == nil {
			out[k] = map[string]float64{}
		}
		out[k][s] += d.Counter.GetValue()
	}
	return out
}

// Prefixes of the history's keys for drops and the upstream's refusals;
// a discard's key is its reason.
const (
	droppedKey  = "dropped:"
	upstreamKey = "upstream:"
)

// discardCounts are the discard and drop counters by workspace, then by
// reason, drops under droppedKey and their reason, and the writes the
// upstream refused under upstreamKey and theirs.
func (w *Workspace) discardCounts() map[string]map[string]float64 {
	all := counterValues(w.metrics.discarded, "workspace", "reason")
	for prefix, c := range map[string]*prometheus.CounterVec{droppedKey: w.metrics.dropped, upstreamKey: w.metrics.upstreamRefusals} {
		for id, rs := range counterValues(c, "workspace", "reason") {
			if all[id] == nil {
				all[id] = map[string]float64{}
			}
			for r, v := range rs {
				all[id][prefix+r] = v
			}
		}
	}
	return all
}

// pageCountsAll are every known workspace's counts, sorted by id: those
// written to since the start and those found on disk.
func (w *Workspace) pageCountsAll() []pageCounts {
	recv := counterValues(w.metrics.received, "workspace", "")
	acc := counterValues(w.metrics.accepted, "workspace", "")
	disc := counterValues(w.metrics.discarded, "workspace", "")
	drop := counterValues(w.metrics.dropped, "workspace", "")
	ids := w.db.Tenants()
	w.mu.Lock()
	for id := range w.tenants {
		ids = append(ids, id)
	}
	w.mu.Unlock()
	slices.Sort(ids)
	ids = slices.Compact(ids)
	out := make([]pageCounts, 0, len(ids))
	for _, id := range ids {
		out = append(out, pageCounts{
			ID: id, Received: recv[id][""], Accepted: acc[id][""],
			Discarded: disc[id][""], Dropped: drop[id][""],
		})
	}
	return out
}

// history keeps the discards by workspace and reason per historyEvery, as
// differences of the counters: an idle workspace costs nothing.
type history struct {
	mu     sync.Mutex
	last   map[string]map[string]float64 // the counters at the last sample
	points []historySample               // a ring, oldest first once full
	next   int
	stop   chan struct{}
	once   sync.Once
}

type historySample struct {
	t      time.Time
	deltas map[string]map[string]float64 // workspace -> reason -> count
}

func newHistory() *history {
	return &history{last: map[string]map[string]float64{}, stop: make(chan struct{})}
}

// run samples counts every historyEvery until close.
func (h *history) run(counts func() map[string]map[string]float64, now func() time.Time) {
	tk := time.NewTicker(historyEvery)
	defer tk.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-tk.C:
			h.sample(counts(), now())
		}
	}
}

func (h *history) close() { h.once.Do(func() { close(h.stop) }) }

// deltas are cur minus h.last, only what changed.
func (h *history) deltas(cur map[string]map[string]float64) map[string]map[string]float64 {
	d := map[string]map[string]float64{}
	for id, rs := range cur {
		for r, v := range rs {
			if dv := v - h.last[id][r]; dv > 0 {
				if d[id] == nil {
					d[id] = map[string]float64{}
				}
				d[id][r] = dv
			}
		}
	}
	return d
}

func (h *history) sample(cur map[string]map[string]float64, t time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := historySample{t: t, deltas: h.deltas(cur)}
	if len(h.points) < historyLen {
		h.points = append(h.points, s)
	} else {
		h.points[h.next] = s
		h.next = (h.next + 1) % historyLen
	}
	h.last = cur
}

// of returns workspace id's points, oldest first, and a last one for the
// interval since the last sample (cur are the counters now).
func (h *history) of(id string, cur map[string]map[string]float64, now time.Time) []historyPoint {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]historyPoint, 0, len(h.points)+1)
	for i := range h.points {
		s := h.points[(h.next+i)%len(h.points)]
		out = append(out, historyPoint{T: s.t, Counts: nonNil(s.deltas[id])})
	}
	out = append(out, historyPoint{T: now, Counts: nonNil(h.deltas(cur)[id])})
	return out
}

func nonNil(m map[string]float64) map[string]float64 {
	if m == nil {
		return map[string]float64{}
	}
	return m
}

// reasonList is rs sorted by count, largest first, with their hints.
func reasonList(rs map[string]float64) []pageReason {
	out := make([]pageReason, 0, len(rs))
	for r, v := range rs {
		out = append(out, pageReason{Reason: r, Count: v, Hint: validate.Reason(r).Hint()})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Reason < out[j].Reason
	})
	return out
}

// pageRoutes adds the page and its endpoints to mux.
func (w *Workspace) pageRoutes(mux *http.ServeMux) {
	static, err := fs.Sub(uiFiles, "ui")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	index, err := fs.ReadFile(static, "index.html")
	if err != nil {
		panic(err)
	}
	page := func(rw http.ResponseWriter, _ *http.Request) {
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		rw.Header().Set("Cache-Control", "no-cache")
		_, _ = rw.Write(index)
	}
	mux.HandleFunc("GET /{$}", page)
	mux.HandleFunc("GET /workspaces/{id}/{$}", func(rw http.ResponseWriter, r *http.Request) {
		if err := store.ValidateTenantID(r.PathValue("id")); err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		page(rw, r)
	})
	mux.HandleFunc("GET /workspaces/{id}", func(rw http.ResponseWriter, r *http.Request) {
		if err := store.ValidateTenantID(r.PathValue("id")); err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		http.Redirect(rw, r, "/workspaces/"+r.PathValue("id")+"/", http.StatusMovedPermanently)
	})
	mux.Handle("GET /ui/", http.StripPrefix("/ui/", http.FileServerFS(static)))
	mux.HandleFunc("GET /ui/api/workspaces", func(rw http.ResponseWriter, _ *http.Request) {
		w.writePageJSON(rw, w.pageCountsAll())
	})
	mux.HandleFunc("GET /ui/api/workspaces/{id}", w.servePageWorkspace)
	mux.HandleFunc("GET /workspaces/{id}/api/v1/writers", func(rw http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if err := store.ValidateTenantID(id); err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		w.writePageJSON(rw, w.Writers(id))
	})
}

func (w *Workspace) servePageWorkspace(rw http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := store.ValidateTenantID(id); err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	p := pageWorkspace{pageCounts: pageCounts{ID: id}, Interval: historyEvery.Seconds()}
	for _, c := range w.pageCountsAll() {
		if c.ID == id {
			p.pageCounts = c
		}
	}
	cur := w.discardCounts()
	discards, drops, refusals := map[string]float64{}, map[string]float64{}, map[string]float64{}
	for r, v := range cur[id] {
		if d, ok := strings.CutPrefix(r, droppedKey); ok {
			drops[d] = v
		} else if u, ok := strings.CutPrefix(r, upstreamKey); ok {
			refusals[u] = v
		} else {
			discards[r] = v
		}
	}
	p.Discards, p.Drops = reasonList(discards), reasonList(drops)
	p.History = w.history.of(id, cur, w.cfg.now())
	p.Writers = w.Writers(id)
	collisions := w.Collisions(id)
	refusedGroups := 0
	for _, c := range collisions {
		if c.Kind == KindUpstreamRefused {
			refusedGroups++
		}
	}
	p.Collision = len(collisions) - refusedGroups
	if p.Upstream = w.upstreamStateOf(id); p.Upstream != nil {
		p.Upstream.Refusals, p.Upstream.Groups = reasonList(refusals), refusedGroups
		for _, v := range refusals {
			p.Upstream.Refused += v
		}
	}
	w.writePageJSON(rw, p)
}

func (w *Workspace) writePageJSON(rw http.ResponseWriter, v any) {
	rw.Header().Set("Content-Type", "application/json")
	rw.Header().Set("Cache-Control", "no-cache")
	if err := json.NewEncoder(rw).Encode(v); err != nil && !errors.Is(err, http.ErrHandlerTimeout) {
		w.cfg.logger.Debug("writing the page's data", "err", err)
	}
}
