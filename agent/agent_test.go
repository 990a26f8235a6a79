package agent

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rwkit/rwkit/internal/syncbuf"
	"github.com/rwkit/rwkit/internal/waitfor"
)

func TestFirstScrapeIsSent(t *testing.T) {
	tg := newTarget(t, "# TYPE requests_total counter\nrequests_total 0\n")
	r := startAgent(t, mustLoad(t, withMetadata(oneJob(tg, ""))), Options{})
	s := r.sink(t)
	inst := fmt.Sprintf("instance=%q, job=\"j\"}", tg.host())
	want := map[string]float64{
		"{__name__=\"requests_total\", " + inst:                        0,
		"{__name__=\"up\", " + inst:                                    1,
		"{__name__=\"scrape_samples_scraped\", " + inst:                1,
		"{__name__=\"scrape_samples_post_metric_relabeling\", " + inst: 1,
		"{__name__=\"scrape_series_added\", " + inst:                   1,
	}
	waitfor.True(t, "the first scrape", func() bool {
		for k, v := range want {
			if !hasValue(s, k, v) {
				return false
			}
		}
		_, ok := last(s, "{__name__=\"scrape_duration_seconds\", "+inst)
		return ok
	})
	// The counter's first point is the first scrape's: its timestamp is
	// up's first.
	ps := s.series()
	if got, want := ps["{__name__=\"requests_total\", "+inst][0].t, ps["{__name__=\"up\", "+inst][0].t; got != want {
		t.Errorf("first requests_total at %d, first up at %d: the first scrape was not sent", got, want)
	}
	if m := ps["{__name__=\"requests_total\", "+inst][0].meta; m.Type != 1 {
		t.Errorf("metadata %+v, want counter", m)
	}
}

func TestVanishedSeriesGetsStaleMarker(t *testing.T) {
	tg := newTarget(t, "a 1\nb 2\n")
	r := startAgent(t, mustLoad(t, oneJob(tg, "")), Options{})
	s := r.sink(t)
	kb := jobKey("b", tg.host())
	ka := jobKey("a", tg.host())
	waitfor.True(t, "b", func() bool { return hasValue(s, kb, 2) })
	tg.set("a 1\n")
	waitfor.True(t, "b's stale marker", func() bool { p, ok := last(s, kb); return ok && p.stale() })
	p, _ := last(s, kb)
	// The marker comes with the next scrape of a (same timestamp).
	found := false
	for _, q := range s.series()[ka] {
		if q.t == p.t && q.v == 1 {
			found = true
		}
	}
	if !found {
		t.Errorf("b's stale marker at %d is not at a scrape of a", p.t)
	}
	// Later scrapes send nothing more for b.
	n := len(s.series()[kb])
	start := tg.scrapes.Load()
	waitfor.True(t, "two more scrapes", func() bool { return tg.scrapes.Load() >= start+2 })
	waitfor.True(t, "their commits", func() bool { p, _ := last(s, ka); return p.t > 0 })
	if got := len(s.series()[kb]); got != n {
		t.Errorf("b got %d more points after its stale marker", got-n)
	}
}

func TestFailingTargetGoesStaleAndRecovers(t *testing.T) {
	tg := newTarget(t, "a 1\n")
	logs := &syncbuf.Buffer{}
	r := startAgent(t, mustLoad(t, oneJob(tg, "")), Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	s := r.sink(t)
	ka := jobKey("a", tg.host())
	kup := jobKey("up", tg.host())
	waitfor.True(t, "a", func() bool { return hasValue(s, ka, 1) })

	tg.setStatus(http.StatusInternalServerError)
	waitfor.True(t, "up 0", func() bool { p, ok := last(s, kup); return ok && p.v == 0 })
	waitfor.True(t, "a's stale marker", func() bool { p, ok := last(s, ka); return ok && p.stale() })

	tg.setStatus(http.StatusOK)
	tg.set("a 2\n")
	waitfor.True(t, "up 1 again", func() bool { p, ok := last(s, kup); return ok && p.v == 1 })
	waitfor.True(t, "a again", func() bool { p, ok := last(s, ka); return ok && p.v == 2 })
	// One line when the target went down, one when it came back: not one
	// per failed scrape.
	if down, back := strings.Count(logs.String(), "target down"), strings.Count(logs.String(), "target up again"); down != 1 || back != 1 {
		t.Errorf("logged %d 'target down' and %d 'target up again' lines, want 1 and 1:\n%s", down, back, logs)
	}
}

func TestUnreachableTargetIsUpZero(t *testing.T) {
	tg := newTarget(t, "")
	addr := tg.host()
	tg.Close() // nothing listens there any more
	r := startAgent(t, mustLoad(t, strings.Replace(oneJob(tg, ""), tg.host(), addr, 1)), Options{})
	s := r.sink(t)
	kup := jobKey("up", addr)
	waitfor.True(t, "up 0", func() bool { p, ok := last(s, kup); return ok && p.v == 0 })
}

// Bodies Prometheus scrapes although prometheus/common's text decoder
// (expfmt.TextParser) refuses them.
func TestBodiesPrometheusAccepts(t *testing.T) {
	for _, tc := range []struct {
		name, contentType, body, series string
		value                           float64
	}{
		{"no final newline", "text/plain; version=0.0.4", "other 1\ntest_metric 42", "test_metric", 42},
		{"OpenMetrics counter sample without _total", "application/openmetrics-text; version=1.0.0; charset=utf-8",
			"# TYPE foo counter\nfoo 7\n# EOF\n", "foo", 7},
		{"two HELP lines for one family", "text/plain; version=0.0.4",
			"# HELP m first\n# HELP m second\n# TYPE m gauge\nm 3\n", "m", 3},
		{`\b in a HELP text`, "text/plain; version=0.0.4",
			"# HELP m a \\b in help\n# TYPE m gauge\nm 5\n", "m", 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := newTarget(t, tc.body)
			tg.contentType = tc.contentType
			r := startAgent(t, mustLoad(t, oneJob(tg, "")), Options{})
			s := r.sink(t)
			k := jobKey(tc.series, tg.host())
			kup := jobKey("up", tg.host())
			waitfor.True(t, k, func() bool { return hasValue(s, k, tc.value) })
			if p, _ := last(s, kup); p.v != 1 {
				t.Errorf("up = %v, want 1", p.v)
			}
		})
	}
}

func TestDuplicateSeriesKeepTheFirst(t *testing.T) {
	// The same series twice: byte for byte (the scrape loop's cache
	// refuses the second), and with its labels in another order (the
	// appender refuses it).
	tg := newTarget(t, "n 1\nn 2\nm{a=\"1\",b=\"2\"} 10\nm{b=\"2\",a=\"1\"} 20\nlast 1\n")
	r := startAgent(t, mustLoad(t, oneJob(tg, "")), Options{})
	s := r.sink(t)
	kn := jobKey("n", tg.host())
	km := fmt.Sprintf("{__name__=\"m\", a=\"1\", b=\"2\", instance=%q, job=\"j\"}", tg.host())
	kl := jobKey("last", tg.host())
	kadded := jobKey("scrape_samples_post_metric_relabeling", tg.host())
	waitfor.True(t, "two scrapes", func() bool { return len(s.series()[kl]) >= 2 })
	for _, k := range []string{kn, km} {
		for _, p := range s.series()[k] {
			if p.v != 1 && p.v != 10 {
				t.Errorf("%s = %v: the duplicate replaced the first", k, p.v)
			}
		}
	}
	// The scrape goes on after a duplicate: the series after it arrive,
	// and the report counts every line.
	if !hasValue(s, kadded, 5) {
		t.Errorf("scrape_samples_post_metric_relabeling: %v, want 5", s.series()[kadded])
	}
	if got := counterValue(t, r.reg, "rwkit_agent_duplicate_samples_total", map[string]string{"job": "j"}); got < 1 {
		t.Errorf("rwkit_agent_duplicate_samples_total{job=\"j\"} = %v, want >= 1", got)
	}
	if got := counterValue(t, r.reg, "prometheus_target_scrapes_sample_duplicate_timestamp_total", nil); got < 2 {
		t.Errorf("prometheus_target_scrapes_sample_duplicate_timestamp_total = %v, want >= 2", got)
	}
}

func TestHonorLabels(t *testing.T) {
	body := "m{job=\"body-job\",instance=\"body-inst\"} 1\n"
	for _, tc := range []struct {
		honor string
		want  string
	}{
		{"false", `{__name__="m", exported_instance="body-inst", exported_job="body-job", instance=%q, job="j"}`},
		{"true", `{__name__="m", instance="body-inst", job="body-job"}`},
	} {
		t.Run("honor_labels="+tc.honor, func(t *testing.T) {
			tg := newTarget(t, body)
			r := startAgent(t, mustLoad(t, oneJob(tg, "    honor_labels: "+tc.honor)), Options{})
			s := r.sink(t)
			k := tc.want
			if strings.Contains(k, "%q") {
				k = fmt.Sprintf(k, tg.host())
			}
			waitfor.True(t, k, func() bool { return hasValue(s, k, 1) })
		})
	}
}

func TestHonorTimestamps(t *testing.T) {
	ts := time.Now().Add(-time.Minute).UnixMilli()
	body := fmt.Sprintf("m 1 %d\nother 2\n", ts)
	for _, tc := range []struct {
		honor string
		same  bool
	}{{"true", true}, {"false", false}} {
		t.Run("honor_timestamps="+tc.honor, func(t *testing.T) {
			tg := newTarget(t, body)
			r := startAgent(t, mustLoad(t, oneJob(tg, "    honor_timestamps: "+tc.honor)), Options{})
			s := r.sink(t)
			k := jobKey("m", tg.host())
			ko := jobKey("other", tg.host())
			waitfor.True(t, "two scrapes", func() bool { return len(s.series()[ko]) >= 2 })
			ps := s.series()[k]
			if tc.same {
				// The body's timestamp, sent once: the same sample again is
				// not sent again.
				if len(ps) != 1 || ps[0].t != ts {
					t.Errorf("m: %+v, want one point at %d", ps, ts)
				}
				return
			}
			if len(ps) < 2 || ps[0].t == ts || ps[0].t != s.series()[ko][0].t {
				t.Errorf("m: %+v, want points at the scrape times", ps)
			}
		})
	}
}

func TestRelabelling(t *testing.T) {
	tg := newTarget(t, "keep_me 1\ndrop_me 2\nother 3\n")
	cfg := mustLoad(t, fmt.Sprintf(`
global:
  scrape_interval: 200ms
  external_labels:
    cluster: c1
    job: not-this-one
scrape_configs:
  - job_name: j
    static_configs:
      - targets: [%q]
        labels: {team: a}
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: drop_me
        action: drop
remote_write:
  - url: http://127.0.0.1:1/all
    name: all
  - url: http://127.0.0.1:1/some
    name: some
    write_relabel_configs:
      - source_labels: [__name__]
        regex: keep_me|up
        action: keep
      - regex: team
        action: labeldrop
`, tg.host()))
	r := startAgent(t, cfg, Options{})
	all, some := r.sinks["all"], r.sinks["some"]
	inst := fmt.Sprintf("cluster=\"c1\", instance=%q, job=\"j\"", tg.host())
	kkeep := "{__name__=\"keep_me\", " + inst + ", team=\"a\"}"
	waitfor.True(t, "keep_me in all", func() bool { return hasValue(all, kkeep, 1) })
	waitfor.True(t, "keep_me in some", func() bool { return hasValue(some, "{__name__=\"keep_me\", "+inst+"}", 1) })
	for _, ls := range all.labelSets() {
		if key(ls) == "{__name__=\"drop_me\", "+inst+", team=\"a\"}" {
			t.Errorf("metric_relabel_configs did not drop drop_me")
		}
	}
	for _, ls := range some.labelSets() {
		k := key(ls)
		if !strings.HasPrefix(k, "{__name__=\"keep_me\"") && !strings.HasPrefix(k, "{__name__=\"up\"") {
			t.Errorf("write_relabel_configs let %s through", k)
		}
		if strings.Contains(k, "team") {
			t.Errorf("write_relabel_configs did not drop team: %s", k)
		}
	}
}
