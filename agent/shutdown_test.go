package agent

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/config"

	"github.com/rwkit/rwkit/internal/waitfor"
)

func TestShutdownStaleMarkers(t *testing.T) {
	ts := time.Now().Add(-time.Minute).UnixMilli()
	for _, on := range []bool{true, false} {
		t.Run(fmt.Sprintf("StaleMarkersOnShutdown=%v", on), func(t *testing.T) {
			tg := newTarget(t, fmt.Sprintf("a 1\nb 2\nwith_ts 3 %d\n", ts))
			r := startAgent(t, mustLoad(t, oneJob(tg, "")), Options{StaleMarkersOnShutdown: on})
			s := r.sink(t)
			inst := fmt.Sprintf("instance=%q, job=\"j\"}", tg.host())
			waitfor.True(t, "a scrape", func() bool { return hasValue(s, "{__name__=\"b\", "+inst, 2) })

			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := r.a.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			if err := <-r.done; err != nil {
				t.Errorf("Run: %v", err)
			}
			if err := r.a.Shutdown(ctx); err != nil {
				t.Errorf("second Shutdown: %v", err)
			}
			if n := s.shutdown.Load(); n != 1 {
				t.Errorf("sink shut down %d times, want 1", n)
			}

			stale := 0
			for k, ps := range s.series() {
				last := ps[len(ps)-1]
				switch {
				case strings.HasPrefix(k, "{__name__=\"with_ts\""):
					// Prometheus tracks no staleness for a series with
					// its own timestamps.
					if last.stale() {
						t.Errorf("%s got a stale marker", k)
					}
				case on && !last.stale():
					t.Errorf("%s: last point %v, want a stale marker", k, last.v)
				case !on && last.stale():
					t.Errorf("%s got a stale marker without StaleMarkersOnShutdown", k)
				}
				if last.stale() {
					stale++
					if len(ps) > 1 && last.t <= ps[len(ps)-2].t {
						t.Errorf("%s: stale marker at %d, not after the last sample at %d", k, last.t, ps[len(ps)-2].t)
					}
				}
			}
			// a, b, up and the four scrape_* series.
			if on && stale != 7 {
				t.Errorf("%d stale markers, want 7", stale)
			}

			// Nothing arrives after Shutdown.
			n := len(s.labelSets())
			start := tg.scrapes.Load()
			time.Sleep(500 * time.Millisecond)
			if tg.scrapes.Load() != start {
				t.Errorf("the target was scraped after Shutdown")
			}
			if len(s.labelSets()) != n {
				t.Errorf("series sent after Shutdown")
			}
		})
	}
}

func TestShutdownWithoutRun(t *testing.T) {
	tg := newTarget(t, "a 1\n")
	s := &recordingSink{}
	a, err := New(mustLoad(t, oneJob(tg, "")), Options{NewSink: func(*config.RemoteWriteConfig, string) (Sink, error) { return s, nil }})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := s.shutdown.Load(); n != 1 {
		t.Errorf("sink shut down %d times, want 1", n)
	}
	// Run after Shutdown returns at once and scrapes nothing.
	if err := a.Run(context.Background()); err != nil {
		t.Errorf("Run after Shutdown: %v", err)
	}
	if n := tg.scrapes.Load(); n != 0 {
		t.Errorf("%d scrapes", n)
	}
}
