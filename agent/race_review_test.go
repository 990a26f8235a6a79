package agent

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/value"

	"github.com/rwkit/rwkit/internal/waitfor"
	"github.com/rwkit/rwkit/wire"
)

// The default sink and a receiver that fails some requests: Shutdown at
// different moments of the scrape cycle delivers every point once, the
// shutdown stale marker last, and nothing after Shutdown returned.
func TestShutdownRacingScrapesDeliversOnce(t *testing.T) {
	for seed := range 4 {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			var (
				mu     sync.Mutex
				n      int
				points = map[string][]wire.Sample{}
				closed bool
				late   int
			)
			rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				raw, err := wire.Decompress(nil, body, 64<<20)
				var req wire.WriteRequest
				if err == nil {
					err = wire.DecodeWriteRequest(raw, &req)
				}
				if err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if closed {
					late++
				}
				n++
				if (n+seed)%4 == 0 {
					http.Error(w, "busy", http.StatusServiceUnavailable)
					return
				}
				for _, ts := range req.Series {
					points[key(ts.Labels)] = append(points[key(ts.Labels)], ts.Samples...)
				}
				w.WriteHeader(http.StatusNoContent)
			}))
			defer rcv.Close()
			tg := newTarget(t, "a 1\nb 2\n")
			cfg := mustLoad(t, fmt.Sprintf(`
global:
  scrape_interval: 50ms
  scrape_timeout: 40ms
scrape_configs:
  - job_name: j
    static_configs:
      - targets: [%q]
remote_write:
  - url: %s/write
    queue_config: {min_backoff: 1ms, max_backoff: 5ms}
`, tg.host(), rcv.URL))
			a, err := New(cfg, Options{StaleMarkersOnShutdown: true})
			if err != nil {
				t.Fatal(err)
			}
			runDone := make(chan error, 1)
			go func() { runDone <- a.Run(context.Background()) }()
			waitfor.True(t, "scrapes", func() bool { return tg.scrapes.Load() >= int64(3+seed) })
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := a.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			if err := <-runDone; err != nil {
				t.Errorf("Run: %v", err)
			}
			mu.Lock()
			closed = true
			mu.Unlock()
			// Give a request that would still be sent a chance to arrive.
			rcv.Client().Get(rcv.URL) // a round trip, not a sleep
			mu.Lock()
			defer mu.Unlock()
			if late > 0 {
				t.Errorf("%d requests after Shutdown returned", late)
			}
			if len(points) == 0 {
				t.Fatal("nothing delivered")
			}
			for k, ps := range points {
				seen := map[int64]bool{}
				for i, p := range ps {
					if seen[p.Timestamp] {
						t.Errorf("%s: timestamp %d delivered twice", k, p.Timestamp)
					}
					seen[p.Timestamp] = true
					if i > 0 && p.Timestamp <= ps[i-1].Timestamp {
						t.Errorf("%s: timestamp %d after %d", k, p.Timestamp, ps[i-1].Timestamp)
					}
				}
				if last := ps[len(ps)-1]; math.Float64bits(last.Value) != value.StaleNaN {
					t.Errorf("%s: last point %v, want the shutdown stale marker", k, last.Value)
				}
			}
		})
	}
}
