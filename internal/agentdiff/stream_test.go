package agentdiff_test

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rwkit/rwkit/agent"
	"github.com/rwkit/rwkit/internal/agentdiff"
	"github.com/rwkit/rwkit/internal/syncbuf"
)

// TestRwkitStreamLoopMatchesPrometheus is TestRwkitMatchesPrometheus with
// every job on agent/stream's loop: the shared file without what keeps a
// job on Prometheus' scrape loop (send_exemplars, send_native_histograms;
// no RW 2.0 remote_write).
func TestRwkitStreamLoopMatchesPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("a Prometheus agent and rwkit's for ~10 scrapes; skipped with -short")
	}
	var logs syncbuf.Buffer
	side := agentdiff.Side{Name: "rwkit-stream", Edit: editForStream, Start: func(t *testing.T, cfg string) agentdiff.Scraper {
		return startRwkitLogged(t, cfg, &logs)
	}}
	out := agentdiff.Run(t, plan(), [2]agentdiff.Side{prometheusSide("prometheus"), side}, runTimeout)
	if !strings.Contains(logs.String(), `msg="agent scrape loops" stream=plain,honor,nots`) || !strings.Contains(logs.String(), `prometheus=""`) {
		t.Fatalf("not every job on the stream loop:\n%s", logs.String())
	}
	if report := agentdiff.Compare(out[0].Observation, out[1].Observation, "prometheus", "rwkit-stream", streamKnownDifferences()); report != "" {
		t.Errorf("rwkit agent on the stream loop vs Prometheus 2.42 agent:\n%s", report)
	}
}

func editForStream(t *testing.T, cfg string, _ *agentdiff.Receiver) string {
	for _, k := range []string{"    send_exemplars: true\n", "    send_native_histograms: true\n"} {
		if !strings.Contains(cfg, k) {
			t.Fatalf("config lacks %q:\n%s", k, cfg)
		}
		cfg = strings.ReplaceAll(cfg, k, "")
	}
	return cfg
}

func startRwkitLogged(t *testing.T, cfg string, logs *syncbuf.Buffer) agentdiff.Scraper {
	return startRwkitWith(t, cfg, agent.Options{Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
}

// streamKnownDifferences are rwkit's known differences with Prometheus
// 2.42, and two of the stream side's file, which lacks what would keep
// its jobs on Prometheus' scrape loop.
func streamKnownDifferences() []agentdiff.Known {
	return append(slices.Clone(knownDifferences),
		agentdiff.Known{
			Why: "the stream side's file has no send_exemplars (a job with it stays on Prometheus' scrape loop): no exemplars sent",
			Patch: func(o *agentdiff.Observation) error {
				n := 0
				for k := range o.Series {
					if strings.Contains(k, " # {") {
						delete(o.Series, k)
						n++
					}
				}
				if n == 0 {
					return errors.New("no exemplars")
				}
				return nil
			},
		},
		agentdiff.Known{
			Why:   "the stream side scrapes no native histograms (a job with scrape_native_histograms stays on Prometheus' scrape loop; the 2.42 side runs with them): the protobuf target's native-only histogram comes as its classic +Inf bucket, count and sum, 3 samples for 1",
			Patch: nativeAsClassic,
		},
	)
}

// nativeAsClassic turns the protobuf target's native histogram pb_native
// into the classic series Prometheus' parser gives for it when native
// histograms are not scraped, from its count and sum.
func nativeAsClassic(o *agentdiff.Observation) error {
	k := key("pb_native", "protobuf", "plain")
	p, ok := o.Series[k]
	if !ok {
		return errors.New("no pb_native")
	}
	delete(o.Series, k)
	count, sum := make([]string, len(p.ByScrape)), make([]string, len(p.ByScrape))
	for i, h := range p.ByScrape {
		if h == "stale" || h == "" {
			count[i], sum[i] = h, h
			continue
		}
		c, _, _ := strings.Cut(strings.TrimPrefix(h, "hist{count="), "/")
		_, rest, _ := strings.Cut(h, " sum=")
		sv, _, _ := strings.Cut(rest, " ")
		count[i], sum[i] = c, sv
	}
	fix := []func(*agentdiff.Observation) error{
		agentdiff.SetScrapes(key("pb_native_bucket", "protobuf", "plain", "le", "+Inf"), 1, count...),
		agentdiff.SetScrapes(key("pb_native_count", "protobuf", "plain"), 1, count...),
		agentdiff.SetScrapes(key("pb_native_sum", "protobuf", "plain"), 1, sum...),
	}
	// Two more samples a scrape where the histogram was, and two more
	// series added where it first came.
	for _, name := range []string{"scrape_samples_scraped", "scrape_samples_post_metric_relabeling", "scrape_series_added"} {
		rk := key(name, "protobuf", "plain")
		vs := slices.Clone(o.Series[rk].ByScrape)
		for i := range vs {
			n, err := strconv.Atoi(vs[i])
			if err != nil {
				return fmt.Errorf("%s: %w", rk, err)
			}
			hadHist := p.ByScrape[i] != "stale" && p.ByScrape[i] != ""
			if name != "scrape_series_added" && hadHist || name == "scrape_series_added" && n > 0 && hadHist {
				n += 2
			}
			vs[i] = strconv.Itoa(n)
		}
		fix = append(fix, agentdiff.SetScrapes(rk, 1, vs...))
	}
	return agentdiff.All(fix...)(o)
}
