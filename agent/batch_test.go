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

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rwkit/rwkit/internal/waitfor"
	"github.com/rwkit/rwkit/wire"
)

// With no external labels and no write_relabel_configs, the default sink
// on RW 1.0 takes each scrape as encoded series (push.Batch), their
// labels encoded once: the receiver gets every series with its target
// labels, a vanished series' stale marker, and the shutdown stale
// markers, as through a wire.WriteRequest.
func TestQueueSinkTakesEncodedSeries(t *testing.T) {
	var (
		mu   sync.Mutex
		got  = map[string][]float64{}
		errs []error
	)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		raw, err := wire.Decompress(nil, body, 64<<20)
		var req wire.WriteRequest
		if err == nil {
			err = wire.DecodeWriteRequest(raw, &req)
		}
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs = append(errs, err)
		}
		for _, ts := range req.Series {
			for _, s := range ts.Samples {
				got[key(ts.Labels)] = append(got[key(ts.Labels)], s.Value)
			}
		}
	}))
	defer rcv.Close()
	tg := newTarget(t, "a 1\nb 2\n")
	cfg := mustLoad(t, fmt.Sprintf(`
global:
  scrape_interval: 100ms
scrape_configs:
  - job_name: j
    static_configs:
      - targets: [%q]
remote_write:
  - url: %s/api/v1/push
    queue_config: {max_samples_per_send: 2}
`, tg.host(), rcv.URL))
	a, err := New(cfg, Options{Registerer: prometheus.NewRegistry(), StaleMarkersOnShutdown: true})
	if err != nil {
		t.Fatal(err)
	}
	if !a.app.plain || !a.app.blocks || a.app.wireLabels {
		t.Fatalf("plain %v, blocks %v, wireLabels %v: want the encoded path alone", a.app.plain, a.app.blocks, a.app.wireLabels)
	}
	go a.Run(context.Background())
	ka, kb := jobKey("a", tg.host()), jobKey("b", tg.host())
	values := func(k string) []float64 {
		mu.Lock()
		defer mu.Unlock()
		return append([]float64(nil), got[k]...)
	}
	waitfor.True(t, "a and b sent", func() bool { return len(values(ka)) > 0 && len(values(kb)) > 0 })
	tg.set("a 3\n")
	waitfor.True(t, "b's stale marker", func() bool {
		v := values(kb)
		return len(v) > 0 && wire.IsStaleNaN(v[len(v)-1])
	})
	waitfor.True(t, "a's new value", func() bool {
		v := values(ka)
		return len(v) > 0 && v[len(v)-1] == 3
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if v := values(ka); !wire.IsStaleNaN(v[len(v)-1]) {
		t.Errorf("a's last value %v, want its shutdown stale marker", v[len(v)-1])
	}
	for _, v := range values(ka) {
		if v != 1 && v != 3 && !math.IsNaN(v) {
			t.Errorf("a got %v", v)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(errs) > 0 {
		t.Errorf("receiver: %v", errs)
	}
}
