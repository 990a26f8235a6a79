package difftest_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rwkit/rwkit/internal/backendtest"
	"github.com/rwkit/rwkit/internal/cortextest"
	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
)

// TestWorkspaceMatchesMimir holds `--limits mimir` against a real Grafana
// Mimir (one process, its defaults; internal/backendtest.StartMimir):
// statuses, RW 2.0 Written headers, stored samples and discard counts
// (Mimir's cortex_discarded_samples_total, whose reason labels are its
// error IDs, read back as rwkit's reasons through validate.MimirReason).
func TestWorkspaceMatchesMimir(t *testing.T) {
	lim, err := validate.Profile("mimir")
	if err != nil {
		t.Fatal(err)
	}
	s := backendtest.StartMimir(t)
	metricsURL := strings.TrimSuffix(s.QueryURL, "/prometheus") + "/metrics"
	srv := &server{
		name:     "mimir",
		pushURL:  s.WriteURL,
		queryURL: s.QueryURL,
		core:     mimirCore,
		discards: func(t *testing.T, ctx context.Context, tenant string) map[string]float64 {
			return mimirDiscards(t, ctx, metricsURL, tenant)
		},
	}
	runBackend(t, lim, func(*testing.T) *server { return srv }, mimirScenarios())
}

// mimirCore drops the distributor's "send data to ingesters: failed
// pushing to ingester NAME: " (NAME is the host's) in front of the
// ingester's "user=T: ...", and the " (sampled 1/10)" its log sampler adds
// to the errors it samples.
func mimirCore(body string) string {
	s := strings.TrimSuffix(firstLine(body), " (sampled 1/10)")
	if i := strings.Index(s, "user="); i >= 0 {
		return s[i:]
	}
	return s
}

// mimirDiscards reads cortex_discarded_samples_total of tenant from
// Mimir's /metrics, by rwkit reason.
func mimirDiscards(t *testing.T, ctx context.Context, u, tenant string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, l := range cortextest.MetricLines(metricsText(t, ctx, u), "cortex_discarded_samples_total") {
		if !strings.Contains(l, `user="`+tenant+`"`) {
			continue
		}
		m := reasonRE.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("no reason in %q", l)
		}
		v, err := strconv.ParseFloat(l[strings.LastIndexByte(l, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		if v != 0 {
			out[string(validate.MimirReason(m[1]))] += v
		}
	}
	return out
}

// mimirWrittenWhy: Mimir's RW 2.0 Written headers.
const mimirWrittenWhy = "RW 2.0 Written headers of a refused request: Mimir counts every sample it received (refused ones too); " +
	"the workspace counts what it stored"

func mimirScenarios() []backendScenario {
	const m = int64(time.Minute / time.Millisecond)
	job := func(name string, kv ...string) []string {
		return append(ls("__name__", name, "job", "difftest"), kv...)
	}
	return []backendScenario{
		{name: "accepted", reqs: func(b int64) []request {
			return []request{rw1(
				ser(job("dt_up"), at(b, 1), at(b+15_000, 2)),
				ser(job("dt_up", "instance", "b"), at(b, 4)),
			)}
		}},
		{name: "identical-duplicate", reqs: func(b int64) []request {
			return []request{rw1(ser(job("dt_dup"), at(b, 1))), rw1(ser(job("dt_dup"), at(b, 1)))}
		}},
		{name: "new-value-for-timestamp", reqs: func(b int64) []request {
			return []request{
				rw1(ser(job("dt_nvft"), at(b, 21))),
				rw1(ser(job("dt_nvft_other"), at(b, 1)), ser(job("dt_nvft"), at(b, 14))),
			}
		}},
		{name: "same-timestamp-twice-in-series", reqs: func(b int64) []request {
			return []request{rw1(ser(job("dt_twice_series"), at(b, 1), at(b, 2), at(b+1000, 3)))}
		}},
		{name: "same-series-twice-in-request", reqs: func(b int64) []request {
			return []request{rw1(ser(job("dt_twice"), at(b, 1)), ser(job("dt_twice"), at(b, 2)))}
		}},
		{name: "out-of-order", reqs: func(b int64) []request {
			return []request{rw1(ser(job("dt_ooo"), at(b+1000, 1))), rw1(ser(job("dt_ooo"), at(b, 2)), ser(job("dt_ooo_ok"), at(b, 3)))}
		}},
		{name: "out-of-order-in-request", reqs: func(b int64) []request {
			return []request{rw1(ser(job("dt_ooo_req"), at(b+1000, 1), at(b, 2)))}
		}},
		{name: "too-old", reqs: func(b int64) []request {
			return []request{rw1(ser(job("dt_old"), at(b, 1))), rw1(ser(job("dt_old2"), at(b-3*60*m, 2)))}
		}},
		{name: "too-far-in-future", reqs: func(b int64) []request {
			now := time.Now().UnixMilli()
			return []request{rw1(ser(job("dt_future_ok"), at(b, 1)), ser(job("dt_future"), at(b, 2), at(now+30*m, 3)))}
		}},
		{name: "invalid-label-name", reqs: func(b int64) []request {
			return []request{rw1(ser(job("dt_badlabel", "bad-label", "x"), at(b, 1), at(b+1000, 2)), ser(job("dt_badlabel_ok"), at(b, 3)))}
		}},
		{name: "invalid-label-value", reqs: func(b int64) []request {
			return []request{rw1(ser(job("dt_utf8", "v", "a\xffb"), at(b, 1)), ser(job("dt_utf8_ok"), at(b, 2)))}
		}},
		{name: "invalid-metric-name", reqs: func(b int64) []request {
			return []request{rw1(ser(job("dt.dotted"), at(b, 1)), ser(job("dt_dotted_ok"), at(b, 2)))}
		}},
		{name: "missing-metric-name", reqs: func(b int64) []request {
			return []request{rw1(ser(ls("job", "difftest"), at(b, 1), at(b+1000, 2)), ser(job("dt_named"), at(b, 3)))}
		}},
		{name: "series-without-labels", reqs: func(b int64) []request {
			return []request{rw1(ser(job("dt_nolabels_ok"), at(b, 1)), ser(nil, at(b, 3)))}
		}},
		{name: "empty-label-values-dropped", reqs: func(b int64) []request {
			return []request{rw1(ser(ls("__name__", "dt_empty", "a", "", "job", "difftest", "z", ""), at(b, 1)))}
		}},
		{name: "duplicate-label-names", reqs: func(b int64) []request {
			return []request{rw1(ser(job("dt_duplabel", "a", "1", "a", "2"), at(b, 1)), ser(job("dt_duplabel_ok"), at(b, 2)))}
		}},
		{name: "too-many-labels", reqs: func(b int64) []request {
			return []request{rw1(ser(manyLabels("dt_many", 31), at(b, 1)), ser(manyLabels("dt_many_info", 31), at(b, 2)), ser(manyLabels("dt_thirty", 30), at(b, 3)))}
		}},
		{name: "label-name-and-value-too-long", reqs: func(b int64) []request {
			return []request{rw1(
				ser(job("dt_longvalue", "v", strings.Repeat("x", 2049)), at(b, 1)),
				ser(job("dt_longname", strings.Repeat("n", 1025), "x"), at(b, 2)),
				ser(job("dt_long_ok", "v", strings.Repeat("x", 2048)), at(b, 3)),
			)}
		}},
		{name: "exemplar", reqs: func(b int64) []request {
			s := ser(job("dt_exemplar"), at(b, 1))
			s.Exemplars = []wire.Exemplar{{Labels: []wire.Label{{Name: "trace_id", Value: "abc"}}, Value: 1, Timestamp: b}}
			bad := ser(job("dt_exemplar_bad"), at(b, 2))
			bad.Exemplars = []wire.Exemplar{{Value: 1, Timestamp: b}}
			return []request{rw1(s, bad)}
		}},
		{name: "metadata", reqs: func(b int64) []request {
			return []request{{
				series: []wire.TimeSeries{ser(job("dt_meta"), at(b, 1))},
				metadata: []wire.Metadata{
					{Type: wire.MetricTypeGauge, FamilyName: "dt_meta", Help: strings.Repeat("h", 1025)},
					{Type: wire.MetricTypeGauge, FamilyName: "dt_meta_unit", Unit: strings.Repeat("u", 1025)},
				},
			}}
		}},
		{name: "native-histogram", reqs: func(b int64) []request {
			return []request{rw1(hist(job("dt_nh"), b, 2, 0)), rw1(hist(job("dt_nh"), b, 3, 0)), rw1(hist(job("dt_nh_schema"), b, 2, 9), ser(job("dt_nh_float"), at(b, 1)))}
		}},

		{name: "rw2-accepted", reqs: func(b int64) []request {
			s := ser(job("dt_rw2"), at(b, 1), at(b+1000, 2))
			s.Metadata = wire.Metadata{Type: wire.MetricTypeCounter, Help: "a counter"}
			return []request{rw2(s)}
		}},
		{name: "rw2-new-value-for-timestamp", reqs: func(b int64) []request {
			return []request{
				rw2(ser(job("dt_rw2_nvft"), at(b, 21))),
				rw2(ser(job("dt_rw2_other"), at(b, 1)), ser(job("dt_rw2_nvft"), at(b, 14))),
			}
		}, known: &backendKnown{why: mimirWrittenWhy, patch: written(1, "1/0/0")}},
		{name: "rw2-without-name", reqs: func(b int64) []request {
			return []request{rw2(ser(ls("job", "difftest"), at(b, 1)), ser(job("dt_rw2_named"), at(b, 2)))}
		}, known: &backendKnown{why: mimirWrittenWhy, patch: written(0, "1/0/0")}},
		{name: "rw2-metadata-only", reqs: func(b int64) []request {
			s := ser(job("dt_rw2_meta_only"))
			s.Metadata = wire.Metadata{Type: wire.MetricTypeGauge, Help: "h"}
			return []request{rw2(s, ser(job("dt_rw2_withsamples"), at(b, 1)))}
		}},
	}
}
