package workspace

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
)

// Collision kinds.
const (
	// KindNewValueForTimestamp: a writer sent a different value for a
	// series and timestamp another writer had already written; refused
	// (Cortex's new-value-for-timestamp).
	KindNewValueForTimestamp = "new-value-for-timestamp"
	// KindAlternatingWriters: two writers take turns on one series at
	// different timestamps (A, then B, then A again within the window). Every
	// sample is accepted, so no backend reports it, but the stored series
	// zig-zags between the writers' values.
	KindAlternatingWriters = "alternating-writers"
	// KindDroppedWithinRequest: one request held a second value for a
	// series and timestamp, or a sample older than an earlier one of its
	// series (Reason says which). The backend answers 2xx and drops it
	// without a word (Cortex keeps the earlier sample); the one writer is
	// the request's, both ExistingWriter and NewWriter.
	KindDroppedWithinRequest = "dropped-within-request"
)

// Collision is one entry of GET /workspaces/{id}/api/v1/collisions: a
// series that two writers wrote, grouped by series, writer pair and kind.
// Timestamp and the values are those of the latest occurrence.
type Collision struct {
	Kind           string            `json:"kind"`
	Series         map[string]string `json:"series"`
	Timestamp      int64             `json:"timestamp"`
	ExistingValue  string            `json:"existing_value"`
	NewValue       string            `json:"new_value"`
	ExistingWriter *Writer           `json:"existing_writer"`
	NewWriter      Writer            `json:"new_writer"`
	// Reason and Note are set for KindDroppedWithinRequest: the reason the
	// sample would have had (new-value-for-timestamp, sample-out-of-order)
	// and what happened, in words.
	Reason string `json:"reason,omitempty"`
	Note   string `json:"note,omitempty"`
	// UpstreamStatus and UpstreamBody are the upstream's answer
	// (KindUpstreamRefused; the body's first KiB).
	UpstreamStatus int       `json:"upstream_status,omitempty"`
	UpstreamBody   string    `json:"upstream_body,omitempty"`
	Count          int64     `json:"count"`
	FirstSeen      time.Time `json:"first_seen"`
	LastSeen       time.Time `json:"last_seen"`
}

type collisionKey struct {
	series           uint64
	existing, newer  uint32
	alternatingWrite bool
	dropped          validate.Reason // KindDroppedWithinRequest
	upstream         string          // KindUpstreamRefused: the reason
}

// collisionLog keeps the latest max collision groups of a tenant; when
// full, the group seen least recently is dropped.
type collisionLog struct {
	max     int
	groups  map[collisionKey]*Collision
	dropped int64
}

func newCollisionLog(max int) *collisionLog {
	return &collisionLog{max: max, groups: map[collisionKey]*Collision{}}
}

// record adds an occurrence to k's group and returns the group (nil when
// the log keeps nothing).
func (l *collisionLog) record(k collisionKey, kind string, ls []wire.Label, ts int64, existing, newValue float64,
	existingWriter *Writer, newWriter Writer, now time.Time) *Collision {
	if l.max <= 0 {
		return nil
	}
	if c, ok := l.groups[k]; ok {
		c.Count++
		c.LastSeen = now
		c.Timestamp = ts
		c.ExistingValue, c.NewValue = formatValue(existing), formatValue(newValue)
		return c
	}
	if len(l.groups) >= l.max {
		var oldest collisionKey
		var at time.Time
		first := true
		for k, c := range l.groups {
			if first || c.LastSeen.Before(at) {
				oldest, at, first = k, c.LastSeen, false
			}
		}
		delete(l.groups, oldest)
		l.dropped++
	}
	series := make(map[string]string, len(ls))
	for _, lb := range ls {
		// Cloned: ls may be a view of the request buffer.
		series[strings.Clone(lb.Name)] = strings.Clone(lb.Value)
	}
	c := &Collision{
		Kind: kind, Series: series, Timestamp: ts,
		ExistingValue: formatValue(existing), NewValue: formatValue(newValue),
		ExistingWriter: existingWriter, NewWriter: newWriter,
		Count: 1, FirstSeen: now, LastSeen: now,
	}
	l.groups[k] = c
	return c
}

// list returns copies of the groups, most recently seen first.
func (l *collisionLog) list() []Collision {
	out := make([]Collision, 0, len(l.groups))
	for _, c := range l.groups {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].LastSeen.Equal(out[j].LastSeen) {
			return out[i].LastSeen.After(out[j].LastSeen)
		}
		return out[i].FirstSeen.After(out[j].FirstSeen)
	})
	return out
}

// formatValue prints a sample value as the Prometheus API does.
func formatValue(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
