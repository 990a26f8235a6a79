package stream_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The corpus of the differential test: each case is a target's answers,
// scrape after scrape, and the configuration it is scraped with.
var diffCases = []struct {
	name                string
	global, job, remote string
	answers             []answer
}{
	{
		name: "types, vanishing series, failing target",
		answers: []answer{
			{body: typesBody},
			// rpc_seconds' 0.5 quantile, the histogram's +Inf bucket and
			// temperature vanish; a counter grows.
			{body: typesBody2},
			{status: http.StatusInternalServerError, body: "down for maintenance\n"},
			{body: typesBody2},
			{body: typesBody},
		},
	},
	{
		name: "odd but valid bodies",
		answers: []answer{
			{body: oddBody + "last_line_without_newline 12"},
			{body: oddBody + "late_metric 1\n"},
			{body: ""},
			{body: oddBody + "last_line_without_newline 12"},
		},
	},
	{
		name: "exported labels, external labels, relabelling",
		global: `  external_labels:
    region: eu
    cluster: c1`,
		job: `    metric_relabel_configs:
      - source_labels: [__name__]
        regex: dropped_.*
        action: drop
      - regex: secret
        action: labeldrop
      - source_labels: [__name__]
        regex: renamed_(.*)
        target_label: __name__
        replacement: new_$1`,
		remote: `    write_relabel_configs:
      - source_labels: [__name__]
        regex: not_sent
        action: drop`,
		answers: []answer{
			{body: labelsBody},
			{body: labelsBody},
			{body: "# nothing left\n"},
			{body: labelsBody},
		},
	},
	{
		name: "honor_labels, honor_timestamps false",
		job: `    honor_labels: true
    honor_timestamps: false`,
		answers: []answer{
			{body: labelsBody + "stamped 1 1700000000000\nempty_job{job=\"\"} 1\n"},
			{body: labelsBody + "stamped 2 1700000001000\n"},
		},
	},
	{
		name: "track_timestamps_staleness",
		job:  "    track_timestamps_staleness: true",
		answers: []answer{
			{body: "stamped 1 1700000000000\nplain 2\n"},
			{body: "plain 2\n"},
			{body: "stamped 3 1700000002000\nplain 2\n"},
		},
	},
	{
		name: "a body that fails to parse",
		answers: []answer{
			{body: "a 1\nb 2\nc 3\n"},
			{body: "a 1\nb 2\nd 4\n!!bad line\nc 3\n"},
			{body: "a 2\n"},
		},
	},
	{
		// The stream parser fails these bodies and Prometheus' parser
		// takes them: the loop parses them again with it, from the
		// first body it fails on, with the series of the bodies before.
		name: "bodies only Prometheus' parser takes",
		answers: []answer{
			{body: "a 1\nb{x=\"1\"} 2\n"},
			{body: "a 1\nb{x=\"1\"} 2\n# TYPE a gauge\n"},
			{body: "# HELP a x\n# HELP a y\na 3\nb{x=\"1\"} 4 \nc{x=\"1\",x=\"2\"} 1\n"},
			{body: "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"x\"} 2\nh_count -1\na 5\na 6\n"},
			{body: "a 7\n"},
		},
	},
	{
		name: "sample_limit",
		job:  "    sample_limit: 3",
		answers: []answer{
			{body: "a 1\nb 2\n"},
			{body: "a 1\nb 2\nc 3\nd 4\ne 5\n"},
			{body: "a 1\nc 2\n"},
		},
	},
	{
		name:   "label limits",
		global: "  label_limit: 4\n  label_value_length_limit: 10",
		answers: []answer{
			{body: "a 1\n"},
			{body: "a 1\nb{x=\"1\",y=\"2\"} 2\n"},
			{body: "a 1\nb{x=\"1\"} 2\n"},
			{body: "a 1\nb{x=\"0123456789ab\"} 2\n"},
			{body: "a 1\n"},
		},
	},
	{
		name:   "body_size_limit",
		global: "  body_size_limit: 64B",
		answers: []answer{
			{body: "a 1\n"},
			{body: "a 1\n# " + strings.Repeat("x", 100) + "\n"},
			{body: "a 1\nb 2\n"},
		},
	},
}

const typesBody = `# HELP requests_total Requests served.
# TYPE requests_total counter
requests_total{code="200",method="GET"} 1027
requests_total{method="POST",code="500"} 3
# TYPE temperature gauge
temperature{room="a"} -4.5
temperature{room="b"} NaN
# HELP rpc_seconds RPC latency.
# TYPE rpc_seconds summary
rpc_seconds{service="x",quantile="0.5"} 0.05
rpc_seconds{service="x",quantile="0.99"} 0.3
rpc_seconds_sum{service="x"} 17.5
rpc_seconds_count{service="x"} 250
# TYPE http_seconds histogram
http_seconds_bucket{le="0.1"} 10
http_seconds_bucket{le="1"} 20
http_seconds_bucket{le="+Inf"} 22
http_seconds_sum 13.5
http_seconds_count 22
untyped_thing 42
big +Inf
small -Inf
exported_at_ms 7 1700000000000
`

const typesBody2 = `# HELP requests_total Requests served.
# TYPE requests_total counter
requests_total{code="200",method="GET"} 1100
requests_total{method="POST",code="500"} 3
# TYPE rpc_seconds summary
rpc_seconds{service="x",quantile="0.99"} 0.3
rpc_seconds_sum{service="x"} 18
rpc_seconds_count{service="x"} 260
# TYPE http_seconds histogram
http_seconds_bucket{le="0.1"} 11
http_seconds_bucket{le="1"} 21
http_seconds_sum 14
http_seconds_count 23
untyped_thing 43
big +Inf
small -Inf
exported_at_ms 8 1700000001000
`

// oddBody is valid for both parsers although unusual: tabs and spaces,
// comments, a trailing comma, escapes, an empty label value, a quoted
// UTF-8 name, a repeated line and a series written twice in another
// label order (the first kept), an explicit timestamp repeated; the
// case adds a last line without a newline.
const oddBody = "# just a comment\n\n" +
	"# HELP spaced Help before TYPE.\n" +
	"# TYPE spaced gauge\n" +
	"spaced \t 1\n" +
	"# HELP escaped Help with \\\\ and \\n in it.\n" +
	"escaped{path=\"C:\\\\dir\",quote=\"say \\\"hi\\\"\",nl=\"a\\nb\"} 2\n" +
	"empty_value{a=\"\",b=\"x\"} 3\n" +
	"trailing_comma{a=\"1\",} 4\n" +
	"{\"my.dotted.metric\",\"label.with.dots\"=\"v\"} 5\n" +
	"dup_line 6\n" +
	"dup_line 7\n" +
	"reordered{a=\"1\",b=\"2\"} 8\n" +
	"reordered{b=\"2\",a=\"1\"} 9\n" +
	"same_ts 10 1700000000000\n" +
	"same_ts 11 1700000000000\n" +
	"float_forms 1e3\n"

const labelsBody = `up_exposed{job="theirs",instance="their-host",exported_job="older"} 1
kept{secret="s",region="us"} 2
dropped_metric 3
renamed_thing{a="b"} 4
not_sent 5
up 6
`

// TestDifferentialAgainstPrometheusScrapeLoop scrapes the same answers
// with rwkit's agent as it runs today (Prometheus' scrape loop appending
// into the agent's storage) and with the stream loop, and wants the same
// series, labels, values, timestamps and stale markers (the values of
// scrape_duration_seconds aside).
func TestDifferentialAgainstPrometheusScrapeLoop(t *testing.T) {
	for _, tc := range diffCases {
		t.Run(tc.name, func(t *testing.T) {
			tg := newTarget(t, tc.answers)
			cfg := loadConfig(t, tg, tc.global, tc.job, tc.remote)
			agentRec := runAgent(t, cfg, tg)
			tg.n.Store(0)
			streamRec, _ := runStream(t, cfg, tg)
			n := len(tc.answers) + 1
			want, got := agentRec.points(n), streamRec.points(n)
			if len(want) == 0 {
				t.Fatal("the agent sent nothing")
			}
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(point{})); diff != "" {
				t.Errorf("stream loop differs from Prometheus' scrape loop (-agent +stream):\n%s", diff)
			}
		})
	}
}
