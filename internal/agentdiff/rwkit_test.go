package agentdiff_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rwkit/rwkit/agent"
	"github.com/rwkit/rwkit/internal/agentdiff"
	"github.com/rwkit/rwkit/wire"
)

// rwkitAgent runs package agent as `rwkit agent --config.file` does, but
// without stale markers on shutdown (Prometheus writes none either).
type rwkitAgent struct {
	a      *agent.Agent
	done   chan struct{} // closed when Run has returned runErr
	runErr error
}

func (r *rwkitAgent) Stop(ctx context.Context) error {
	err := r.a.Shutdown(ctx)
	select {
	case <-r.done:
		if err == nil {
			err = r.runErr
		}
	case <-ctx.Done():
		if err == nil {
			err = fmt.Errorf("agent.Run did not return: %w", ctx.Err())
		}
	}
	return err
}

func startRwkit(t *testing.T, cfg string) agentdiff.Scraper {
	return startRwkitWith(t, cfg, agent.Options{StaleMarkersOnShutdown: false})
}

// startRwkitWith runs rwkit's agent with opts on cfg until the test ends.
func startRwkitWith(t *testing.T, cfg string, opts agent.Options) agentdiff.Scraper {
	path := filepath.Join(t.TempDir(), "prometheus.yml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := agent.LoadFile(path)
	if err != nil {
		t.Fatalf("agent.LoadFile: %v\n%s", err, cfg)
	}
	a, err := agent.New(c, opts)
	if err != nil {
		t.Fatalf("agent.New: %v", err)
	}
	r := &rwkitAgent{a: a, done: make(chan struct{})}
	go func() {
		r.runErr = a.Run(context.Background())
		close(r.done)
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = r.Stop(ctx)
	})
	return r
}

func rwkitSide() agentdiff.Side {
	return agentdiff.Side{Name: "rwkit", Start: startRwkit, Edit: editForRwkit}
}

// editForRwkit is the shared prometheus.yml, unchanged but for what 2.42
// cannot take (scrape_native_histograms), plus a second remote_write, the
// same in RW 2.0, to the extra receiver: RW 2.0 carries metadata on each
// series, which rwkit sends in no RW 1.0 request.
func editForRwkit(t *testing.T, cfg string, extra *agentdiff.Receiver) string {
	// Native histograms are scraped when the config says so in Prometheus
	// 3, where 2.42 took --enable-feature=native-histograms (and refuses
	// the key).
	if !strings.Contains(cfg, "\nglobal:\n") {
		t.Fatalf("config has no global section:\n%s", cfg)
	}
	cfg = strings.Replace(cfg, "\nglobal:\n", "\nglobal:\n  scrape_native_histograms: true\n", 1)
	return cfg + "  - url: " + extra.URL + "\n    name: rw2\n    protobuf_message: io.prometheus.write.v2.Request\n" + remoteWrite + "\n"
}

func TestRwkitMatchesPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("a Prometheus agent and rwkit's for ~10 scrapes; skipped with -short")
	}
	out := agentdiff.Run(t, plan(), [2]agentdiff.Side{prometheusSide("prometheus"), rwkitSide()}, runTimeout)
	prom, rw := out[0].Observation, out[1].Observation
	if report := agentdiff.Compare(prom, rw, "prometheus", "rwkit", knownDifferences); report != "" {
		t.Errorf("rwkit agent vs Prometheus 2.42 agent:\n%s", report)
	}

	// rwkit's RW 2.0 remote_write got what its RW 1.0 one got.
	rw2 := out[1].ExtraObservation
	only := func(o agentdiff.Observation) agentdiff.Observation {
		return agentdiff.Observation{Series: o.Series, Metadata: map[string][]string{}, Problems: o.Problems}
	}
	if report := agentdiff.Compare(only(rw), only(rw2), "rwkit RW 1.0", "rwkit RW 2.0", nil); report != "" {
		t.Errorf("rwkit's two remote writes differ:\n%s", report)
	}
	// RW 2.0 carries metadata on each series: compare it with the family
	// metadata Prometheus sent in RW 1.0.
	meta := func(md map[string][]string) agentdiff.Observation {
		return agentdiff.Observation{Series: map[string]agentdiff.Points{}, Metadata: md}
	}
	if report := agentdiff.Compare(meta(agentdiff.SeriesMetadata(prom)), meta(rw2.Metadata), "prometheus", "rwkit RW 2.0", knownMetadataDifferences); report != "" {
		t.Errorf("metadata, rwkit agent (RW 2.0, per series) vs Prometheus 2.42 agent (RW 1.0, per family):\n%s", report)
	}
}

// TestRwkitLoadsPrometheusFile: agent.LoadFile takes the very file the
// Prometheus agent runs with (queue_config's batch_send_deadline and
// metadata_config's send_interval included), which is the drop-in promise.
func TestRwkitLoadsPrometheusFile(t *testing.T) {
	p := plan()
	addrs := map[string]string{}
	for _, j := range p.Jobs {
		for _, tg := range j.Targets {
			addrs[tg.Name] = "127.0.0.1:1"
		}
	}
	cfg, err := p.Config("prometheus", addrs, "http://127.0.0.1:1/api/v1/write")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "prometheus.yml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := agent.LoadFile(path); err != nil {
		t.Fatalf("agent.LoadFile refuses the file the Prometheus agent runs:\n%v\n%s", err, cfg)
	}
}

// key is the series key of a sample of target in job: the labels Prometheus
// adds (instance from the target label, job, the external label) and
// labels, name=value pairs.
func key(name, target, job string, labels ...string) string {
	ls := []wire.Label{{Name: "__name__", Value: name}, {Name: "cluster", Value: "diff"}, {Name: "instance", Value: target}, {Name: "job", Value: job}, {Name: agentdiff.TargetLabel, Value: target}}
	for i := 0; i+1 < len(labels); i += 2 {
		ls = append(ls, wire.Label{Name: labels[i], Value: labels[i+1]})
	}
	return agentdiff.SeriesKey(ls)
}

// each is v for every compared scrape.
func each(v string) []string {
	out := make([]string, scrapes)
	for i := range out {
		out[i] = v
	}
	return out
}

// counting is 1, 2, ... for the compared scrapes.
func counting() []string {
	out := make([]string, scrapes)
	for i := range out {
		out[i] = strconv.Itoa(i + 1)
	}
	return out
}

// scrapeSucceeded is what a target's report series show when every
// scrape succeeds: n samples, n series added at scrape 1.
func scrapeSucceeded(target string, n int) func(*agentdiff.Observation) error {
	added := make([]string, scrapes)
	for i := range added {
		added[i] = "0"
	}
	added[0] = strconv.Itoa(n)
	return agentdiff.All(
		agentdiff.SetScrapes(key("up", target, "plain"), 1, each("1")...),
		agentdiff.SetScrapes(key("scrape_samples_scraped", target, "plain"), 1, each(strconv.Itoa(n))...),
		agentdiff.SetScrapes(key("scrape_samples_post_metric_relabeling", target, "plain"), 1, each(strconv.Itoa(n))...),
		agentdiff.SetScrapes(key("scrape_series_added", target, "plain"), 1, added...),
	)
}

// knownDifferences turn the Prometheus 2.42 agent's observation into the
// rwkit agent's: each is legitimate (Prometheus 3, whose scrape code rwkit
// embeds, differs from 2.42; or rwkit chose otherwise, saying why) unless
// its reason starts with BUG.
var knownDifferences = []agentdiff.Known{
	{
		Why: "Prometheus 3 writes le and quantile values of classic histograms and summaries as floats (le=\"1\" -> \"1.0\", model/textparse normalizeFloatsInLabelValues); 2.42 keeps the exposition's text",
		Patch: agentdiff.All(
			agentdiff.Rename(key("hist_bucket", "histogram", "plain", "le", "1"), key("hist_bucket", "histogram", "plain", "le", "1.0")),
			agentdiff.Rename(key("summ", "histogram", "plain", "quantile", "1"), key("summ", "histogram", "plain", "quantile", "1.0")),
		),
	},
	{
		Why: "Prometheus 3 takes quoted UTF-8 metric names ({\"un.dotted\"}); 2.42's parser fails the whole scrape on them",
		Patch: agentdiff.All(
			scrapeSucceeded("utf8-name", 2),
			agentdiff.SetScrapes(key("un.dotted", "utf8-name", "plain", "a", "b"), 1, each("1")...),
			agentdiff.SetScrapes(key("plain_too", "utf8-name", "plain"), 1, each("2")...),
		),
	},
	{
		Why:   "a series exposed twice in one scrape: rwkit keeps the first sample, as Prometheus's head does, counting the other in rwkit_agent_duplicate_samples_total; Prometheus agents (2.42, and 3.16: tsdb/agent checks lastTs at Commit) send both, which AMP/Cortex drop silently in one request and refuse across two",
		Patch: agentdiff.SetScrapes(key("d", "duplicate", "plain", "a", "1"), 1, counting()...),
	},
	{
		Why: "Prometheus's WAL watcher (tsdb/wlog/watcher.go, 2.42 and 3.16) sends no sample older than its own start, so a body's own timestamps from before the agent started are never sent; rwkit sends what the scrape appends",
		Patch: func(o *agentdiff.Observation) error {
			k := key("ts_old", "timestamps-honored", "plain")
			var pts []string
			for n := 1; n <= scrapes; n++ {
				pts = append(pts, fmt.Sprintf("@%+dms=%d", -time.Hour.Milliseconds()+int64(n)*1000, n))
			}
			return agentdiff.All(agentdiff.SetScrapes(k, 1, make([]string, scrapes)...), agentdiff.SetExplicit(k, pts...))(o)
		},
	},
	{
		Why:   "Prometheus 2.42 writes a stale marker at scrape 5 for ml_c, a series seen only in scrape 4 that sample_limit failed (it tracked staleness before the limit refused the scrape); Prometheus 3 tracks only samples it appended",
		Patch: agentdiff.Delete(`ml_c{cluster="diff",instance="sample-limit",job="limited",target="sample-limit"}`),
	},
	{
		Why: "a body timestamp repeated scrape after scrape (same value or not): rwkit sends the sample once, as Prometheus' head refuses a second sample at a timestamp (and ignores the same one again), so a backend never sees duplicates; the 2.42 agent sends it at every scrape",
		Patch: func(o *agentdiff.Observation) error {
			k := func(name string) string { return key(name, "timestamps-honored", "plain") }
			return agentdiff.All(
				agentdiff.SetExplicit(k("ts_same"), "@+300000ms=1"),
				agentdiff.SetExplicit(k("ts_const"), "@+300000ms=7"),
			)(o)
		},
	},
	{
		Why: "rwkit sends no RW 1.0 metadata requests (metadata travels on each series in RW 2.0 only; compared separately)",
		Patch: func(o *agentdiff.Observation) error {
			if len(o.Metadata) == 0 {
				return fmt.Errorf("no metadata to take away")
			}
			o.Metadata = map[string][]string{}
			return nil
		},
	},
}

// knownMetadataDifferences turn the metadata Prometheus 2.42 sent per family
// in RW 1.0, spread over the series of each family, into what rwkit sends
// on each series in RW 2.0.
var knownMetadataDifferences = []agentdiff.Known{
	{
		Why: "Prometheus 3 gives up and the scrape_* series their own metadata (scrape/scrape.go); 2.42 sends none for them",
		Patch: agentdiff.All(
			agentdiff.SetMetadata("up", `type=gauge help="Health of the scrape target. 1 means the target is healthy, 0 if the scrape failed." unit="targets"`),
			agentdiff.SetMetadata("scrape_duration_seconds", `type=gauge help="Duration of the last scrape in seconds." unit="seconds"`),
			agentdiff.SetMetadata("scrape_samples_scraped", `type=gauge help="Number of samples last scraped." unit="samples"`),
			agentdiff.SetMetadata("scrape_samples_post_metric_relabeling", `type=gauge help="Number of samples remaining after metric relabeling was applied." unit="samples"`),
			agentdiff.SetMetadata("scrape_series_added", `type=gauge help="Number of series in the last scrape." unit="series"`),
		),
	},
	{
		Why:   "only Prometheus 3 scrapes the UTF-8 name (see the series differences)",
		Patch: agentdiff.SetMetadata("un.dotted", `type=gauge help="" unit=""`),
	},
	{
		Why:   "an untyped or unknown family without HELP or UNIT has RW 2.0 metadata of all-default fields, which encodes as none",
		Patch: agentdiff.All(agentdiff.SetMetadata("lay_b"), agentdiff.SetMetadata("om_unknown")),
	},
	{
		Why:   "Prometheus 3's scrape loop gives the _created series of OpenMetrics counters and histograms no metadata (scrape.isSeriesPartOfFamily knows only _total, _bucket, _sum, _count); RW 1.0 metadata is per family, so 2.42's covers them",
		Patch: agentdiff.All(agentdiff.SetMetadata("om_jobs_created"), agentdiff.SetMetadata("om_hist_created")),
	},
	{
		Why:   "Prometheus 3's scrape loop drops the metadata of a summary family whose name ends in _sum or _count (om_sum{quantile} is cut to om, not its family, and isSeriesPartOfFamily then passes none for the rest of the family): an upstream quirk rwkit inherits",
		Patch: agentdiff.All(agentdiff.SetMetadata("om_sum"), agentdiff.SetMetadata("om_sum_count"), agentdiff.SetMetadata("om_sum_sum"), agentdiff.SetMetadata("om_sum_created")),
	},
}
