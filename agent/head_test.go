package agent

import (
	"fmt"
	"testing"
	"time"

	"github.com/rwkit/rwkit/internal/waitfor"
)

// A series whose sample the head rules refused stays remembered: with
// honor_timestamps, a body timestamp that goes back on every scrape is
// sent once (the first), never every other scrape; one repeated with a
// changing value is sent once; a series that goes stale and comes back
// with an exemplar already sent does not send it again.
func TestRefusedAndStaleSeriesStayRemembered(t *testing.T) {
	t0 := time.Now().Add(5 * time.Minute).UnixMilli()
	tg := newTarget(t, "")
	tg.mu.Lock()
	tg.contentType = "application/openmetrics-text; version=1.0.0; charset=utf-8"
	tg.bodyOf = func(n int64) string {
		body := fmt.Sprintf("# TYPE back gauge\nback %d %.3f\n# TYPE same gauge\nsame %d %.3f\n", n, float64(t0-n*1000)/1000, n, float64(t0)/1000)
		if n%4 != 2 { // absent (stale) at scrapes 2, 6, ...
			body += fmt.Sprintf("# TYPE ex counter\nex_total %d # {trace_id=\"fixed\"} 0.5 %.3f\n", n, float64(t0)/1000)
		}
		return body + "# EOF\n"
	}
	tg.mu.Unlock()
	r := startAgent(t, mustLoad(t, oneJob(tg, "    honor_timestamps: true")+"    send_exemplars: true\n"), Options{})
	s := r.sink(t)
	waitfor.True(t, "7 scrapes", func() bool { return tg.scrapes.Load() >= 7 })
	inst := fmt.Sprintf("instance=%q, job=\"j\"}", tg.host())
	ps := s.series()
	for _, name := range []string{"back", "same"} {
		got := ps[fmt.Sprintf("{__name__=%q, %s", name, inst)]
		if len(got) != 1 || got[0].v != 1 {
			t.Errorf("%s: sent %d samples (%v), want the first scrape's only", name, len(got), got)
		}
	}
	s.mu.Lock()
	exemplars := 0
	for _, b := range s.batches {
		for _, ts := range b.Series {
			exemplars += len(ts.Exemplars)
		}
	}
	s.mu.Unlock()
	if exemplars != 1 {
		t.Errorf("the fixed exemplar was sent %d times, want once (its series went stale and came back)", exemplars)
	}
}
