package difftest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/rwkit/rwkit/internal/backendtest"
	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
)

// TestWorkspaceMatchesPrometheus3 holds `--limits prometheus` against a
// real Prometheus 3 (v3.16, module v0.316.0) remote-write receiver, RW 1.0
// and RW 2.0: statuses, the RW 2.0 Written headers and the stored samples
// (Prometheus counts no discards by reason). Prometheus has one tenant, so
// every scenario gets a Prometheus of its own.
func TestWorkspaceMatchesPrometheus3(t *testing.T) {
	lim, err := validate.Profile("prometheus")
	if err != nil {
		t.Fatal(err)
	}
	start := func(t *testing.T) *server {
		s := backendtest.StartPrometheus3(t)
		return &server{name: "prometheus", pushURL: s.WriteURL, queryURL: s.QueryURL, core: firstLine, wholeBody: true}
	}
	runBackend(t, lim, start, prometheus3Scenarios())
}

func prometheus3Scenarios() []backendScenario {
	const m = int64(time.Minute / time.Millisecond)
	job := func(name string, kv ...string) []string {
		return append(ls("__name__", name, "job", "difftest"), kv...)
	}
	withMetadataOnly := func(b int64) wire.TimeSeries {
		s := ser(job("dt_meta_only"))
		s.Metadata = wire.Metadata{Type: wire.MetricTypeGauge, Help: "h"}
		return s
	}
	withExemplarOnly := func(b int64) wire.TimeSeries {
		s := ser(job("dt_ex_only"))
		s.Exemplars = []wire.Exemplar{{Labels: []wire.Label{{Name: "trace_id", Value: "abc"}}, Value: 1, Timestamp: b}}
		return s
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
			// RW 1.0: the first refused sample rolls the request back.
			return []request{
				rw1(ser(job("dt_nvft"), at(b, 21))),
				rw1(ser(job("dt_nvft_other"), at(b, 1)), ser(job("dt_nvft"), at(b, 14))),
			}
		}},
		{name: "same-series-twice-in-request", reqs: func(b int64) []request {
			return []request{rw1(ser(job("dt_twice"), at(b, 1)), ser(job("dt_twice"), at(b, 2)))}
		}},
		{name: "out-of-order", reqs: func(b int64) []request {
			return []request{rw1(ser(job("dt_ooo"), at(b+1000, 1))), rw1(ser(job("dt_ooo"), at(b, 2)))}
		}},
		{name: "out-of-order-in-request", reqs: func(b int64) []request {
			return []request{rw1(ser(job("dt_ooo_req"), at(b+1000, 1), at(b, 2)))}
		}},
		{name: "too-old", reqs: func(b int64) []request {
			return []request{rw1(ser(job("dt_old"), at(b, 1))), rw1(ser(job("dt_old2"), at(b-3*60*m, 2)))}
		}},
		{name: "too-far-in-future", reqs: func(b int64) []request {
			now := time.Now().UnixMilli()
			return []request{rw1(ser(job("dt_future"), at(b, 1)), ser(job("dt_future2"), at(now+30*m, 2)))}
		}},
		{name: "label-names-and-values", reqs: func(b int64) []request {
			// UTF-8 names are valid in Prometheus 3; invalid UTF-8 values
			// and a missing name are skipped without an error.
			return []request{rw1(
				ser(job("dt_labels", "bad-label", "x"), at(b, 1)),
				ser(job("dt_utf8", "v", "a\xffb"), at(b, 2)),
				ser(ls("job", "difftest"), at(b, 3)),
				ser(job("dt.dotted"), at(b, 4)),
			)}
		}},
		{name: "series-without-labels", reqs: func(b int64) []request {
			return []request{rw1(ser(job("dt_nolabels_ok"), at(b, 1)), ser(nil, at(b, 3)))}
		}},
		{name: "duplicate-label-names", reqs: func(b int64) []request {
			return []request{rw1(ser(job("dt_duplabel", "a", "1", "a", "2"), at(b, 1)), ser(job("dt_duplabel_ok"), at(b, 2)))}
		}},
		{name: "many-labels-long-values", reqs: func(b int64) []request {
			// No label limits in Prometheus.
			return []request{rw1(
				ser(manyLabels("dt_many", 40), at(b, 1)),
				ser(job("dt_long", "v", strings.Repeat("x", 3000)), at(b, 2)),
			)}
		}},
		{name: "exemplar-and-metadata", reqs: func(b int64) []request {
			s := ser(job("dt_exemplar"), at(b, 1))
			s.Exemplars = []wire.Exemplar{{Labels: []wire.Label{{Name: "trace_id", Value: "abc"}}, Value: 1, Timestamp: b}}
			return []request{{series: []wire.TimeSeries{s},
				metadata: []wire.Metadata{{Type: wire.MetricTypeGauge, FamilyName: "dt_exemplar", Help: strings.Repeat("h", 2000)}}}}
		}},
		{name: "native-histogram", reqs: func(b int64) []request {
			return []request{rw1(hist(job("dt_nh"), b, 2, 0)), rw1(hist(job("dt_nh"), b+1000, 3, 0))}
		}},

		// RW 2.0: every problem is a 400 line; the rest is written.
		{name: "rw2-accepted", reqs: func(b int64) []request {
			s := ser(job("dt_rw2"), at(b, 1), at(b+1000, 2))
			s.Exemplars = []wire.Exemplar{{Labels: []wire.Label{{Name: "trace_id", Value: "abc"}}, Value: 1, Timestamp: b}}
			s.Metadata = wire.Metadata{Type: wire.MetricTypeCounter, Help: "a counter"}
			return []request{rw2(s, hist(job("dt_rw2_nh"), b, 2, 0))}
		}},
		{name: "rw2-new-value-for-timestamp", reqs: func(b int64) []request {
			return []request{
				rw2(ser(job("dt_rw2_nvft"), at(b, 21))),
				rw2(ser(job("dt_rw2_other"), at(b, 1)), ser(job("dt_rw2_nvft"), at(b, 14), at(b+1000, 15))),
			}
		}},
		{name: "rw2-same-series-twice-in-request", reqs: func(b int64) []request {
			return []request{rw2(ser(job("dt_rw2_twice"), at(b, 1)), ser(job("dt_rw2_twice"), at(b, 2)), ser(job("dt_rw2_ooo_req"), at(b+1000, 1), at(b, 2)))}
		}, known: &backendKnown{
			why: "samples the TSDB drops at commit in one RW 2.0 request: both answer 204 and store the same 2, but Prometheus 3 counts the dropped ones " +
				"in X-Prometheus-Remote-Write-Samples-Written (4 written, 2 stored); the workspace says 2 written and names the other 2 in X-Rwkit-Dropped",
			patch: func(o *backendObservation) {
				o.Written[0] = "2/0/0"
			},
		}},
		{name: "rw2-out-of-order-and-too-old", reqs: func(b int64) []request {
			return []request{
				rw2(ser(job("dt_rw2_ooo"), at(b+1000, 1))),
				rw2(ser(job("dt_rw2_ooo"), at(b, 2)), ser(job("dt_rw2_old"), at(b-3*60*m, 3)), ser(job("dt_rw2_ok"), at(b, 4))),
			}
		}},
		{name: "rw2-without-name", reqs: func(b int64) []request {
			return []request{rw2(ser(ls("job", "difftest"), at(b, 1)), ser(job("dt_rw2_named"), at(b, 2)))}
		}},
		{name: "rw2-empty-labels", reqs: func(b int64) []request {
			return []request{rw2(ser(nil, at(b, 1)), ser(job("dt_rw2_labelled"), at(b, 2)))}
		}},
		{name: "rw2-invalid-utf8-and-duplicate-label", reqs: func(b int64) []request {
			return []request{rw2(
				ser(job("dt_rw2_utf8", "v", "a\xffb"), at(b, 1)),
				ser(job("dt_rw2_dup", "a", "1", "a", "2"), at(b, 2)),
				ser(job("dt_rw2_fine"), at(b, 3)),
			)}
		}},
		{name: "rw2-exemplar-only", reqs: func(b int64) []request {
			return []request{rw2(withExemplarOnly(b), ser(job("dt_rw2_withsamples"), at(b, 1)))}
		}},
		{name: "rw2-metadata-only", reqs: func(b int64) []request {
			return []request{rw2(withMetadataOnly(b), ser(job("dt_rw2_withsamples2"), at(b, 1)))}
		}},
		{name: "rw2-too-far-in-future", reqs: func(b int64) []request {
			now := time.Now().UnixMilli()
			return []request{rw2(ser(job("dt_rw2_future"), at(b, 1), at(now+30*m, 2)), ser(job("dt_rw2_now"), at(b, 3)))}
		}},
	}
}
