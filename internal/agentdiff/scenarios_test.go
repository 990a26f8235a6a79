package agentdiff_test

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/proto"

	"github.com/rwkit/rwkit/internal/agentdiff"
)

// scrapes is how many scrapes of each target are compared.
const scrapes = 8

// remoteWrite is the remote_write entry both scrapers get: samples are sent
// within 200ms of being appended, 20 at most a request, metadata every
// second, and series relabelled on the way out (after the external labels
// are added).
const remoteWrite = `    remote_timeout: 5s
    queue_config:
      batch_send_deadline: 200ms
      max_samples_per_send: 20
      min_backoff: 50ms
      max_backoff: 1s
    send_exemplars: true
    send_native_histograms: true
    metadata_config:
      send: true
      send_interval: 1s
    write_relabel_configs:
      - source_labels: [__name__]
        regex: wr_drop
        action: drop
      - regex: secret
        action: labeldrop
      - source_labels: [cluster]
        regex: drop-me
        action: drop
      - source_labels: [__name__]
        regex: 'wr_.*'
        target_label: wr
        replacement: 'yes'`

// global adds an external label to every series that lacks it.
const global = `  external_labels:
    cluster: diff`

// plan returns the scenarios: every target is scraped by both scrapers,
// each from its own instance of the script. base is the origin of the
// explicit timestamps, a little before the test starts.
func plan() agentdiff.Plan {
	base := time.Now().Add(-time.Minute).Truncate(time.Second).UnixMilli()
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	plain := []agentdiff.TargetSpec{
		// A counter from 0, growing by 1.5 a scrape.
		{"counter", agentdiff.Text(func(n int) string {
			return "# HELP c_total Requests.\n# TYPE c_total counter\nc_total{path=\"/a\"} " + f(1.5*float64(n-1)) + "\n"
		})},
		// A series that is absent at scrapes 3 and 4: stale at 3, back at 5.
		{"churn", agentdiff.Text(func(n int) string {
			body := "# TYPE g_stays gauge\ng_stays 1\n"
			if n != 3 && n != 4 {
				body += fmt.Sprintf("g_churn{k=\"x\"} %d\n", n)
			}
			return body
		})},
		// A target that answers 500 at scrapes 4 and 5.
		{"flaky", func(n int) agentdiff.Response {
			if n == 4 || n == 5 {
				return agentdiff.Response{Status: 500, ContentType: "text/plain", Body: "boom\n"}
			}
			return agentdiff.Response{ContentType: agentdiff.TextType, Body: fmt.Sprintf("# TYPE f_gauge gauge\nf_gauge %d\n", n)}
		}},
		// A body that is empty at scrapes 4 and 5.
		{"empty", agentdiff.Text(func(n int) string {
			if n == 4 || n == 5 {
				return ""
			}
			return fmt.Sprintf("e_gauge %d\n", n)
		})},
		// A body that does not parse at scrape 4.
		{"parse-error", agentdiff.Text(func(n int) string {
			if n == 4 {
				return "pe_ok 1\npe_bad{ 1\n"
			}
			return fmt.Sprintf("pe_ok %d\n", n)
		})},
		// No newline after the last sample.
		{"no-final-newline", agentdiff.Fixed("# TYPE nn gauge\nnn{a=\"1\"} 1\nnn{a=\"2\"} 2")},
		// OpenMetrics: a counter sample without the _total suffix.
		{"om-no-total", func(n int) agentdiff.Response {
			return agentdiff.Response{ContentType: agentdiff.OpenMetricsType,
				Body: fmt.Sprintf("# TYPE om_requests counter\n# HELP om_requests Requests.\nom_requests %d\n# EOF\n", n)}
		}},
		// OpenMetrics: a well-formed counter with its _created sample, and
		// a gauge with a unit.
		{"om-created", func(n int) agentdiff.Response {
			return agentdiff.Response{ContentType: agentdiff.OpenMetricsType,
				Body: fmt.Sprintf("# TYPE om_jobs counter\n# HELP om_jobs Jobs.\nom_jobs_total %d\nom_jobs_created 1700000000.5\n"+
					"# TYPE om_temp_celsius gauge\n# UNIT om_temp_celsius celsius\nom_temp_celsius 21.5\n# EOF\n", n)}
		}},
		// Every OpenMetrics type, with _created samples.
		{"om-types", func(n int) agentdiff.Response {
			return agentdiff.Response{ContentType: agentdiff.OpenMetricsType, Body: `# TYPE om_build info
# HELP om_build Build.
om_build_info{version="1"} 1
# TYPE om_state stateset
om_state{om_state="a"} 1
om_state{om_state="b"} 0
# TYPE om_gh gaugehistogram
om_gh_bucket{le="1"} 1
om_gh_bucket{le="+Inf"} 2
om_gh_gcount 2
om_gh_gsum 3
# TYPE om_hist histogram
om_hist_bucket{le="0.5"} 1
om_hist_bucket{le="+Inf"} 2
om_hist_count 2
om_hist_sum 1.5
om_hist_created 1700000000
# TYPE om_sum summary
om_sum{quantile="0.9"} 1
om_sum_count 2
om_sum_sum 3
om_sum_created 1700000000
# TYPE om_unknown unknown
om_unknown 4
# EOF
`}
		}},
		// OpenMetrics exemplars: one without a timestamp (it takes the
		// scrape's) that changes every scrape; one at a fixed timestamp, on
		// a series absent at scrape 3.
		{"om-exemplars", func(n int) agentdiff.Response {
			body := fmt.Sprintf("# TYPE om_ex counter\nom_ex_total %d # {trace_id=\"t%d\"} %d\n", n, n, n)
			if n != 3 {
				body += fmt.Sprintf("# TYPE om_exfix counter\nom_exfix_total %d # {trace_id=\"fixed\"} 0.5 %.3f\n",
					n, float64(base+(5*time.Minute).Milliseconds())/1000)
			}
			return agentdiff.Response{ContentType: agentdiff.OpenMetricsType, Body: body + "# EOF\n"}
		}},
		// The protobuf format: a native histogram (absent at scrape 5), a
		// classic one, a counter, a gauge and a summary.
		{"protobuf", func(n int) agentdiff.Response {
			return agentdiff.Response{ContentType: string(expfmt.NewFormat(expfmt.TypeProtoDelim)), Body: protobufBody(n)}
		}},
		// Two HELP lines for one family.
		{"help-twice", agentdiff.Fixed("# HELP h2 first\n# HELP h2 second\n# TYPE h2 gauge\nh2 1\n")},
		// A HELP text with \b, which is no escape of the text format.
		{"help-backslash-b", agentdiff.Fixed("# HELP hb has a \\b in it\n# TYPE hb gauge\nhb 1\n")},
		// The same series twice in one body, with different values.
		{"duplicate", agentdiff.Text(func(n int) string {
			return fmt.Sprintf("# TYPE d gauge\nd{a=\"1\"} %d\nd{a=\"1\"} %d\nd{a=\"2\"} 5\n", n, 100+n)
		})},
		// Odd but valid values.
		{"odd-values", agentdiff.Fixed("ov_nan NaN\nov_inf +Inf\nov_ninf -Inf\nov_exp 1.5e-3\nov_big 1e+300\nov_neg -0.25\nov_int 12345678901234567890\n")},
		// Odd but valid label sets.
		{"odd-labels", agentdiff.Fixed("ol_escape{v=\"q\\\" b\\\\ n\\n\"} 1\nol_utf8{v=\"ünï ☃\"} 1\nol_comma{a=\"1\",} 1\nol_empty{a=\"\"} 1\nol_nolabels{} 1\n")},
		// Odd but valid layout: comments, blank lines, tabs, TYPE after HELP
		// of another family, untyped.
		{"odd-layout", agentdiff.Fixed("# just a comment\n\n# HELP lay_a A.\n# TYPE lay_a gauge\nlay_a\t1\n\n# TYPE lay_b untyped\nlay_b 2\nlay_c{x=\"1\"}   3\n")},
		// A classic histogram and a summary whose le and quantile values
		// are integers.
		{"histogram", agentdiff.Text(func(n int) string {
			return fmt.Sprintf("# TYPE hist histogram\nhist_bucket{le=\"0.5\"} %d\nhist_bucket{le=\"1\"} %d\nhist_bucket{le=\"+Inf\"} %d\nhist_sum %d\nhist_count %d\n"+
				"# TYPE summ summary\nsumm{quantile=\"0.5\"} 1\nsumm{quantile=\"1\"} 2\nsumm_sum 3\nsumm_count %d\n", n, 2*n, 3*n, 4*n, 3*n, n)
		})},
		// A metric name only UTF-8 names allow, in the quoted syntax.
		{"utf8-name", agentdiff.Fixed("# TYPE \"un.dotted\" gauge\n{\"un.dotted\",a=\"b\"} 1\nplain_too 2\n")},
		// A target that answers nothing within scrape_timeout at scrape 3.
		{"timeout", func(n int) agentdiff.Response {
			return agentdiff.Response{ContentType: agentdiff.TextType, Body: fmt.Sprintf("to_gauge %d\n", n), Hang: n == 3}
		}},
		// Series for write_relabel_configs and external_labels: dropped by
		// name, a label dropped, dropped by the external label's name
		// carried in the body, the body's own value of the external label.
		{"write-relabel", agentdiff.Fixed("wr_keep{secret=\"s\",a=\"1\"} 1\nwr_drop 2\nwr_ext{cluster=\"drop-me\"} 3\nwr_own{cluster=\"body\"} 4\n")},
		// No Content-Type header at all.
		{"no-content-type", func(int) agentdiff.Response {
			return agentdiff.Response{Body: "nct_gauge 1\n"}
		}},
	}
	labels := agentdiff.Fixed("lj{job=\"body_job\",instance=\"body:1\",x=\"y\"} 1\nlj_job_only{job=\"bj\"} 2\n")
	// Explicit timestamps: 1h ahead (Prometheus's scrape loop refuses
	// samples over 10 minutes ahead), 5 minutes ahead, 1h behind, going
	// back a second a scrape, the same at every scrape (with a value that
	// changes, and with one that does not), none.
	timestamps := agentdiff.Text(func(n int) string {
		at := func(offset time.Duration) int64 { return base + offset.Milliseconds() + int64(n)*1000 }
		fixed := base + (5 * time.Minute).Milliseconds()
		return fmt.Sprintf("ts_far %d %d\nts_soon %d %d\nts_old %d %d\nts_back %d %d\nts_same %d %d\nts_const 7 %d\nts_none %d\n",
			n, at(time.Hour), n, at(5*time.Minute), n, at(-time.Hour),
			n, fixed-int64(n)*1000, n, fixed, fixed, n)
	})
	plain = append(plain,
		agentdiff.TargetSpec{Name: "labels-plain", Script: labels},
		agentdiff.TargetSpec{Name: "timestamps-honored", Script: timestamps},
	)
	return agentdiff.Plan{
		Scrapes:     scrapes,
		Base:        base,
		Global:      global,
		RemoteWrite: remoteWrite,
		// Both retry the first requests they send: nothing is lost.
		Refusals: []int{503, 503, 500},
		Jobs: []agentdiff.Job{
			{Name: "plain", HonorTimestamps: true, Targets: plain},
			{Name: "honor", HonorLabels: true, HonorTimestamps: true, Targets: []agentdiff.TargetSpec{
				{Name: "labels-honored", Script: labels},
			}},
			{Name: "nots", Targets: []agentdiff.TargetSpec{
				{Name: "timestamps-ignored", Script: timestamps},
			}},
			// sample_limit counts what metric_relabel_configs keeps: 2, but
			// 3 at scrapes 3 and 4, which fail.
			{Name: "limited", HonorTimestamps: true, Targets: []agentdiff.TargetSpec{
				{Name: "sample-limit", Script: agentdiff.Text(func(n int) string {
					body := fmt.Sprintf("ml_a %d\nml_b 2\nml_dropped 9\n", n)
					if n == 3 || n == 4 {
						body += "ml_c 3\n"
					}
					return body
				})},
			}, Extra: `    sample_limit: 2
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: ml_dropped
        action: drop`},
		},
	}
}

// protobufBody is the n-th body of the protobuf target, built by hand (no
// created timestamps: they would differ between the two targets).
func protobufBody(n int) string {
	counter, gauge, histogram, summary := dto.MetricType_COUNTER.Enum(), dto.MetricType_GAUGE.Enum(), dto.MetricType_HISTOGRAM.Enum(), dto.MetricType_SUMMARY.Enum()
	mfs := []*dto.MetricFamily{
		{Name: proto.String("pb_requests_total"), Help: proto.String("Requests."), Type: counter,
			Metric: []*dto.Metric{{Label: []*dto.LabelPair{{Name: proto.String("code"), Value: proto.String("200")}}, Counter: &dto.Counter{Value: proto.Float64(float64(n))}}}},
		{Name: proto.String("pb_temp"), Type: gauge, Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: proto.Float64(-1.5)}}}},
		{Name: proto.String("pb_classic"), Type: histogram, Metric: []*dto.Metric{{Histogram: &dto.Histogram{
			SampleCount: proto.Uint64(uint64(2 * n)), SampleSum: proto.Float64(float64(n)),
			Bucket: []*dto.Bucket{
				{UpperBound: proto.Float64(1), CumulativeCount: proto.Uint64(uint64(n))},
				{UpperBound: proto.Float64(2.5), CumulativeCount: proto.Uint64(uint64(2 * n))},
			},
		}}}},
		{Name: proto.String("pb_summary"), Type: summary, Metric: []*dto.Metric{{Summary: &dto.Summary{
			SampleCount: proto.Uint64(3), SampleSum: proto.Float64(6),
			Quantile: []*dto.Quantile{{Quantile: proto.Float64(0.5), Value: proto.Float64(2)}, {Quantile: proto.Float64(1), Value: proto.Float64(3)}},
		}}}},
	}
	if n != 5 {
		mfs = append(mfs, &dto.MetricFamily{Name: proto.String("pb_native"), Help: proto.String("Native."), Type: histogram,
			Metric: []*dto.Metric{{Histogram: &dto.Histogram{
				SampleCount: proto.Uint64(uint64(2*n + 1)), SampleSum: proto.Float64(float64(n) * 1.25),
				Schema: proto.Int32(0), ZeroThreshold: proto.Float64(0.001), ZeroCount: proto.Uint64(1),
				PositiveSpan:  []*dto.BucketSpan{{Offset: proto.Int32(0), Length: proto.Uint32(2)}},
				PositiveDelta: []int64{int64(n), -int64(n - 1)},
				NegativeSpan:  []*dto.BucketSpan{{Offset: proto.Int32(1), Length: proto.Uint32(1)}},
				NegativeDelta: []int64{int64(n - 1)},
			}}}})
	}
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeProtoDelim))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			panic(err)
		}
	}
	return b.String()
}
