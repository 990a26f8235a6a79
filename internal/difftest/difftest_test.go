package difftest_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rwkit/rwkit/internal/cortextest"
	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
	"github.com/rwkit/rwkit/workspace"
	"github.com/rwkit/rwkit/workspace/workspacetest"
)

// An env is one Cortex and one workspace configured with the same limits.
type env struct {
	cortex *cortextest.Cortex
	srv    *httptest.Server
	reg    *prometheus.Registry
}

// The two environments: Cortex's defaults (but the launcher's high
// ingestion rate), and small overrides for the limits that are off or too
// large to reach by default.
const (
	envDefault   = "default"
	envOverrides = "overrides"
)

// highRate is cortextest's ingestion rate and burst: tests are never rate
// limited.
const highRate = 100000000

// overrides are the Cortex limits of envOverrides; overrideLimits applies
// the same to the workspace's.
var overrides = map[string]string{
	"max_series_per_metric":        "3",
	"max_series_per_user":          "5",
	"reject_old_samples":           "true",
	"reject_old_samples_max_age":   "1h",
	"enable_native_histograms":     "true",
	"max_native_histogram_buckets": "4",
	"max_labels_size_bytes":        "200",
}

func overrideLimits(l *validate.Limits) {
	l.MaxSeriesPerMetric = 3
	l.MaxSeriesPerUser = 5
	l.RejectOldSamples = true
	l.RejectOldSamplesMaxAge = time.Hour
	l.EnableNativeHistograms = true
	l.MaxNativeHistogramBuckets = 4
	l.MaxLabelsSizeBytes = 200
}

func startEnv(t *testing.T, cortexLimits map[string]string, tweak func(*validate.Limits)) *env {
	t.Helper()
	c := cortextest.StartWith(t, cortextest.Options{Limits: cortexLimits})
	lim, err := validate.Profile("cortex")
	if err != nil {
		t.Fatal(err)
	}
	lim.IngestionRate, lim.IngestionBurstSize = highRate, highRate
	if tweak != nil {
		tweak(&lim)
	}
	ws := workspacetest.Start(t, workspace.WithLimits(lim))
	return &env{cortex: c, srv: ws.HTTP, reg: ws.Workspace.Registry()}
}

// A request is one remote write, sent identically to both.
type request struct {
	// series are encoded as RW 1.0 (RW 2.0 with rw2) and Snappy-compressed,
	// unless body is set: then body is sent as is.
	series   []wire.TimeSeries
	metadata []wire.Metadata
	rw2      bool
	body     []byte
	// headers override the defaults (name, value pairs; "" deletes).
	headers []string
}

func (r request) encode() []byte {
	if r.body != nil {
		return r.body
	}
	w := &wire.WriteRequest{Series: r.series, Metadata: r.metadata}
	if r.rw2 {
		return wire.Compress(nil, wire.AppendRequestV2(nil, w))
	}
	return wire.Compress(nil, wire.AppendWriteRequest(nil, w))
}

// observation is what one side did with a scenario; it is what is compared.
type observation struct {
	// Statuses: "2xx", "5xx", or the exact code of a 4xx, per request.
	Statuses []string
	// Samples by series (labels sorted, name=value,...): "t+Nms=value", N
	// relative to the scenario's base time.
	Samples map[string][]string
	// Discards by reason for the scenario's tenant; zeros are left out.
	Discards map[string]float64
}

// A known difference: patch turns Cortex's observation into the one
// expected from the workspace.
type known struct {
	why   string
	patch func(o *observation)
	// bodies: the refusal texts differ (asserted: the workspace's first
	// line does not contain Cortex's text for some request). A nil patch
	// means the observations agree.
	bodies bool
	// normalize, if set, is applied to both observations before they are
	// compared (e.g. to summarize histograms).
	normalize func(o *observation)
}

type scenario struct {
	name string
	env  string // envDefault when empty
	// reqs builds the requests from the base time (ms).
	reqs  func(base int64) []request
	known *known
	// dropped is what the workspace counts in rwkit_dropped_samples_total
	// by reason: samples Cortex answers 2xx for and drops without a word.
	// Asserted for every scenario (nil: none).
	dropped map[string]float64
}

func TestWorkspaceMatchesCortex(t *testing.T) {
	start := time.Now()
	envs := map[string]*env{
		envDefault:   startEnv(t, nil, nil),
		envOverrides: startEnv(t, overrides, overrideLimits),
	}
	t.Logf("two Cortexes and workspaces ready in %v", time.Since(start).Round(time.Millisecond))
	ctx := context.Background()
	for i, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			e := envs[sc.env]
			if sc.env == "" {
				e = envs[envDefault]
			}
			tenant := fmt.Sprintf("dt-%02d-%s", i, sc.name)
			if len(tenant) > 100 {
				tenant = tenant[:100]
			}
			base := time.Now().Add(-time.Minute).Truncate(time.Second).UnixMilli()
			reqs := sc.reqs(base)
			bodiesDiffer := false
			co := observation{Discards: map[string]float64{}}
			wo := observation{Discards: map[string]float64{}}
			for j, r := range reqs {
				body := r.encode()
				cs, cb := post(t, ctx, e.cortex.PushURL, tenant, body, r)
				ws, wb := post(t, ctx, e.srv.URL+"/api/v1/push", tenant, body, r)
				t.Logf("request %d: cortex %d %q", j, cs, firstLine(cb))
				t.Logf("request %d: workspace %d %q", j, ws, firstLine(wb))
				co.Statuses = append(co.Statuses, statusClass(cs))
				wo.Statuses = append(wo.Statuses, statusClass(ws))
				if cs/100 == 4 && ws/100 == 4 {
					core := cortexCore(cb)
					switch {
					case strings.Contains(firstLine(wb), core):
					case sc.known != nil && sc.known.bodies:
						bodiesDiffer = true
					default:
						t.Errorf("request %d: the workspace's first line does not contain Cortex's text\ncortex:    %q\nworkspace: %q", j, core, firstLine(wb))
					}
				}
			}
			at := time.UnixMilli(base).Add(15 * time.Minute)
			co.Samples = stored(t, ctx, e.cortex.QueryURL, tenant, at, base)
			wo.Samples = stored(t, ctx, e.srv.URL+"/prometheus", tenant, at, base)
			co.Discards = cortexDiscards(t, ctx, e.cortex, tenant)
			wo.Discards = workspaceDiscards(t, e.reg, tenant)
			t.Logf("cortex: statuses %v, discards %v, stored %v", co.Statuses, co.Discards, co.Samples)
			if d := cmp.Diff(sc.dropped, workspaceCounter(t, e.reg, "rwkit_dropped_samples_total", tenant), cmpopts.EquateEmpty()); d != "" {
				t.Errorf("rwkit_dropped_samples_total by reason (-want +got):\n%s", d)
			}

			if sc.known == nil {
				if d := cmp.Diff(co, wo); d != "" {
					t.Errorf("the workspace differs from Cortex (-cortex +workspace):\n%s", d)
				}
				return
			}
			t.Logf("known difference: %s", sc.known.why)
			if sc.known.normalize != nil {
				sc.known.normalize(&co)
				sc.known.normalize(&wo)
			}
			if sc.known.bodies && !bodiesDiffer {
				t.Errorf("known difference (%s) did not show: the workspace's texts now contain Cortex's; remove the marker", sc.known.why)
			}
			if sc.known.patch == nil {
				if d := cmp.Diff(co, wo); d != "" {
					t.Errorf("the workspace differs from Cortex (-cortex +workspace):\n%s", d)
				}
				return
			}
			if cmp.Equal(co, wo) {
				t.Errorf("known difference (%s) did not show: the workspace now agrees with Cortex; remove the marker", sc.known.why)
				return
			}
			want := clone(co)
			sc.known.patch(&want)
			if d := cmp.Diff(want, wo); d != "" {
				t.Errorf("the workspace differs from Cortex beyond the known difference (%s) (-cortex with the known difference applied +workspace):\n%s\nunpatched (-cortex +workspace):\n%s",
					sc.known.why, d, cmp.Diff(co, wo))
			}
		})
	}
	t.Logf("total %v", time.Since(start).Round(time.Millisecond))
}

func clone(o observation) observation {
	c := observation{Statuses: slices.Clone(o.Statuses), Samples: map[string][]string{}, Discards: map[string]float64{}}
	for k, v := range o.Samples {
		c.Samples[k] = slices.Clone(v)
	}
	for k, v := range o.Discards {
		c.Discards[k] = v
	}
	return c
}

func statusClass(code int) string {
	if code/100 == 4 {
		return strconv.Itoa(code)
	}
	return fmt.Sprintf("%dxx", code/100)
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return strings.TrimSpace(l)
}

// cortexCore strips the gRPC wrapping of an ingester error
// ("maxFailure (quorum) on a given error family, rpc error: code =
// Code(400) desc = ").
func cortexCore(body string) string {
	s := strings.TrimSpace(body)
	if i := strings.LastIndex(s, "desc = "); i >= 0 {
		s = s[i+len("desc = "):]
	}
	return firstLine(s)
}

// post sends a remote write with Cortex's default headers (those of
// cortextest's Push), overridden by r.headers (postWritten).
func post(t *testing.T, ctx context.Context, u, tenant string, body []byte, r request) (int, string) {
	t.Helper()
	status, text, _ := postWritten(t, ctx, u, tenant, body, r)
	return status, text
}

// stored returns every raw sample of the tenant in the 4h before at, read
// with PromQL from a Prometheus API base (the part before /api/v1/query).
func stored(t *testing.T, ctx context.Context, base, tenant string, at time.Time, t0 int64) map[string][]string {
	t.Helper()
	raw, err := cortextest.QueryAPI(ctx, base, tenant, `{__name__=~".+"}[4h]`, at)
	if err != nil {
		t.Fatalf("query %s: %v", base, err)
	}
	var out struct {
		Status string
		Data   struct {
			ResultType string
			Result     []struct {
				Metric     map[string]string
				Values     [][2]json.RawMessage
				Histograms [][2]json.RawMessage
			}
		}
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.Status != "success" {
		t.Fatalf("query %s: %s (%v)", base, raw, err)
	}
	got := map[string][]string{}
	for _, r := range out.Data.Result {
		var pts []string
		for _, p := range r.Values {
			pts = append(pts, point(t, t0, p[0], p[1]))
		}
		for _, p := range r.Histograms {
			pts = append(pts, point(t, t0, p[0], p[1]))
		}
		got[metricKey(r.Metric)] = pts
	}
	return got
}

func point(t *testing.T, t0 int64, ts, v json.RawMessage) string {
	sec, err := strconv.ParseFloat(string(ts), 64)
	if err != nil {
		t.Fatalf("timestamp %s: %v", ts, err)
	}
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		t.Fatalf("value %s: %v", v, err)
	}
	return fmt.Sprintf("t%+dms=%s", int64(sec*1000+0.5)-t0, strings.Trim(b.String(), `"`))
}

func metricKey(m map[string]string) string {
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(keys))
	for i, k := range keys {
		v := m[k]
		if len(v) > 40 {
			v = fmt.Sprintf("%s...(%d bytes)", v[:20], len(v))
		}
		parts[i] = k + "=" + v
	}
	return strings.Join(parts, ",")
}

var reasonRE = regexp.MustCompile(`reason="([^"]*)"`)

// cortexDiscards reads cortex_discarded_samples_total of tenant from both
// processes, summed by reason.
func cortexDiscards(t *testing.T, ctx context.Context, c *cortextest.Cortex, tenant string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, p := range []*cortextest.Process{c.Ingester, c.Distributor} {
		text, err := p.Metrics(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range cortextest.MetricLines(text, "cortex_discarded_samples_total") {
			if !strings.Contains(l, `user="`+tenant+`"`) {
				continue
			}
			m := reasonRE.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("%s: no reason in %q", p.Name, l)
			}
			v, err := strconv.ParseFloat(l[strings.LastIndexByte(l, ' ')+1:], 64)
			if err != nil {
				t.Fatalf("%s: %q: %v", p.Name, l, err)
			}
			if v != 0 {
				out[m[1]] += v
			}
		}
	}
	return out
}

// workspaceDiscards reads rwkit_discarded_samples_total{workspace=tenant}.
func workspaceDiscards(t *testing.T, reg *prometheus.Registry, tenant string) map[string]float64 {
	t.Helper()
	return workspaceCounter(t, reg, "rwkit_discarded_samples_total", tenant)
}

// workspaceCounter reads the counter name{workspace=tenant} by reason,
// zeros left out.
func workspaceCounter(t *testing.T, reg *prometheus.Registry, name, tenant string) map[string]float64 {
	t.Helper()
	return workspaceCounterBy(t, reg, name, "reason", tenant)
}

// workspaceCounterBy reads the counter name{workspace=tenant} by the
// label by, zeros left out.
func workspaceCounterBy(t *testing.T, reg *prometheus.Registry, name, by, tenant string) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			var ws, key string
			for _, lp := range m.GetLabel() {
				switch lp.GetName() {
				case "workspace":
					ws = lp.GetValue()
				case by:
					key = lp.GetValue()
				}
			}
			if ws == tenant && m.GetCounter().GetValue() != 0 {
				out[key] += m.GetCounter().GetValue()
			}
		}
	}
	return out
}

// ---- building requests ----

// ser is one float series: labels as name, value pairs, then samples.
func ser(labels []string, samples ...wire.Sample) wire.TimeSeries {
	s := wire.TimeSeries{Samples: samples}
	for i := 0; i+1 < len(labels); i += 2 {
		s.Labels = append(s.Labels, wire.Label{Name: labels[i], Value: labels[i+1]})
	}
	return s
}

func ls(kv ...string) []string { return kv }

func at(ts int64, v float64) wire.Sample { return wire.Sample{Timestamp: ts, Value: v} }

func rw1(series ...wire.TimeSeries) request { return request{series: series} }

func hist(labels []string, ts int64, count uint64, schema int32) wire.TimeSeries {
	s := ser(labels)
	s.Histograms = []wire.Histogram{{
		CountInt:       count,
		Sum:            float64(count),
		Schema:         schema,
		ZeroThreshold:  1e-128,
		PositiveSpans:  []wire.BucketSpan{{Offset: 0, Length: 1}},
		PositiveDeltas: []int64{int64(count)},
		Timestamp:      ts,
	}}
	return s
}

// manyLabels is a series with __name__ and n-1 more labels.
func manyLabels(name string, n int) []string {
	l := ls("__name__", name)
	for i := 1; i < n; i++ {
		l = append(l, fmt.Sprintf("l%02d", i), "v")
	}
	return l
}

// snappyDeclaring is a Snappy block whose header declares n decoded bytes
// and that holds a few bytes only.
func snappyDeclaring(n uint64) []byte {
	b := binary.AppendUvarint(nil, n)
	return append(b, 0x0c, 'a', 'b', 'c', 'd') // a 4-byte literal
}

// setStatus patches the status of request i for a known difference.
func setStatus(i int, s string) func(*observation) {
	return func(o *observation) { o.Statuses[i] = s }
}

func scenarios() []scenario {
	const m = int64(time.Minute / time.Millisecond)
	job := func(name string, kv ...string) []string {
		return append(ls("__name__", name, "job", "difftest"), kv...)
	}
	return []scenario{
		{name: "accepted", reqs: func(b int64) []request {
			return []request{rw1(
				ser(job("dt_up"), at(b, 1), at(b+15_000, 2), at(b+30_000, 3)),
				ser(job("dt_up", "instance", "b"), at(b, 4)),
			)}
		}},
		{name: "identical-duplicate", reqs: func(b int64) []request {
			return []request{rw1(ser(job("dt_dup"), at(b, 1))), rw1(ser(job("dt_dup"), at(b, 1)))}
		}},
		{name: "new-value-for-timestamp", reqs: func(b int64) []request {
			return []request{
				{series: []wire.TimeSeries{ser(job("dt_nvft"), at(b, 21))}, headers: []string{"User-Agent", "writer-a/1.0"}},
				{series: []wire.TimeSeries{ser(job("dt_nvft"), at(b, 14))}, headers: []string{"User-Agent", "writer-b/1.0"}},
			}
		}},
		{name: "new-value-for-timestamp-nan", reqs: func(b int64) []request {
			// NaN then NaN again: the same bits, a duplicate; then 1: a new value.
			nan := wire.Sample{Timestamp: b, Value: math.NaN()}
			return []request{rw1(ser(job("dt_nan"), nan)), rw1(ser(job("dt_nan"), nan)), rw1(ser(job("dt_nan"), at(b, 1)))}
		}},
		{name: "sample-out-of-order", reqs: func(b int64) []request {
			return []request{rw1(ser(job("dt_ooo"), at(b, 1))), rw1(ser(job("dt_ooo"), at(b-m, 2)))}
		}},
		{name: "out-of-order-within-request", reqs: func(b int64) []request {
			// Cortex answers 200 and its TSDB drops the older sample at
			// commit, uncounted; the workspace too, and says so.
			return []request{rw1(ser(job("dt_ooo_req"), at(b, 1), at(b-10_000, 2), at(b+10_000, 3)))}
		}, dropped: map[string]float64{"sample-out-of-order": 1}},
		{name: "sample-out-of-bounds-new-series", reqs: func(b int64) []request {
			// The head's lower bound is its max time minus half the 2h block
			// range: a new series more than 1h older than the head is out of
			// bounds, one 59m older is not.
			return []request{
				rw1(ser(job("dt_oob_a"), at(b, 1))),
				rw1(ser(job("dt_oob_b"), at(b-2*60*m, 2))),
				rw1(ser(job("dt_oob_c"), at(b-59*m, 3))),
			}
		}},
		{name: "sample-out-of-bounds-same-series", reqs: func(b int64) []request {
			return []request{rw1(ser(job("dt_oob"), at(b, 1))), rw1(ser(job("dt_oob"), at(b-90*m, 2)))}
		}},
		{name: "missing-metric-name", reqs: func(b int64) []request {
			return []request{rw1(ser(ls("job", "difftest"), at(b, 1)))}
		}},
		{name: "empty-metric-name", reqs: func(b int64) []request {
			return []request{rw1(ser(ls("__name__", "", "job", "difftest"), at(b, 1)))}
		}},
		{name: "metric-name-invalid", reqs: func(b int64) []request {
			return []request{rw1(ser(job("1dt-bad.name"), at(b, 1)))}
		}},
		{name: "label-invalid", reqs: func(b int64) []request {
			return []request{rw1(ser(job("dt_label", "bad-name", "x"), at(b, 1)))}
		}},
		{name: "label-name-too-long", reqs: func(b int64) []request {
			return []request{rw1(
				ser(job("dt_lname", strings.Repeat("n", 1024), "ok"), at(b, 1)),
				ser(job("dt_lname", strings.Repeat("n", 1025), "x"), at(b, 2)),
			)}
		}},
		{name: "label-value-too-long", reqs: func(b int64) []request {
			return []request{rw1(
				ser(job("dt_lvalue", "a", strings.Repeat("v", 2048)), at(b, 1)),
				ser(job("dt_lvalue", "a", strings.Repeat("v", 2049)), at(b, 2)),
			)}
		}},
		{name: "duplicate-label-names", reqs: func(b int64) []request {
			return []request{rw1(ser(ls("__name__", "dt_duplabel", "job", "a", "job", "b"), at(b, 1)))}
		}},
		{name: "max-label-names-per-series", reqs: func(b int64) []request {
			return []request{
				rw1(ser(manyLabels("dt_labels30", 30), at(b, 1))),
				rw1(ser(manyLabels("dt_labels31", 31), at(b, 2), at(b+1000, 3))),
			}
		}},
		{name: "too-far-in-future", reqs: func(b int64) []request {
			now := time.Now().UnixMilli()
			return []request{
				rw1(ser(job("dt_future", "when", "5m"), at(now+5*m, 1))),
				rw1(ser(job("dt_future", "when", "30m"), at(now+30*m, 2), at(now+31*m, 3))),
			}
		}},
		{name: "too-far-in-future-one-of-two-samples", reqs: func(b int64) []request {
			now := time.Now().UnixMilli()
			return []request{rw1(ser(job("dt_future2"), at(b, 1), at(now+30*m, 2)))}
		}},
		{name: "partial-distributor", reqs: func(b int64) []request {
			return []request{rw1(
				ser(job("dt_partial_ok"), at(b, 7)),
				ser(ls("job", "difftest"), at(b, 1)),
				ser(job("dt_partial_ok2"), at(b, 8)),
			)}
		}},
		{name: "partial-ingester", reqs: func(b int64) []request {
			return []request{
				rw1(ser(job("dt_conflict"), at(b, 1))),
				rw1(ser(job("dt_partial_new"), at(b, 7)), ser(job("dt_conflict"), at(b, 3))),
			}
		}},
		{name: "distributor-and-ingester-errors", reqs: func(b int64) []request {
			// Cortex answers with the ingester's error when there is one.
			return []request{
				rw1(ser(job("dt_mix"), at(b, 1))),
				rw1(
					ser(job("dt_mix_bad", "bad-label", "x"), at(b, 1)),
					ser(job("dt_mix"), at(b, 2)),
					ser(job("dt_mix_ok"), at(b, 3)),
				),
			}
		}},
		{name: "empty-label-values-dropped", reqs: func(b int64) []request {
			return []request{rw1(ser(ls("__name__", "dt_empty", "a", "", "job", "difftest", "z", ""), at(b, 1)))}
		}},
		{name: "unsorted-labels", reqs: func(b int64) []request {
			return []request{
				rw1(ser(ls("job", "difftest", "__name__", "dt_unsorted", "a", "1"), at(b, 1))),
				rw1(ser(ls("__name__", "dt_unsorted", "a", "1", "job", "difftest"), at(b+1000, 2))),
			}
		}},
		{name: "series-without-samples", reqs: func(b int64) []request {
			return []request{rw1(ser(job("dt_nosamples")), ser(job("dt_withsamples"), at(b, 1)))}
		}},
		{name: "exemplar", reqs: func(b int64) []request {
			s := ser(job("dt_exemplar"), at(b, 1))
			s.Exemplars = []wire.Exemplar{{Labels: []wire.Label{{Name: "trace_id", Value: "abc"}}, Value: 1, Timestamp: b}}
			return []request{rw1(s)}
		}},
		{name: "native-histogram-disabled", reqs: func(b int64) []request {
			return []request{rw1(hist(job("dt_hist"), b, 2, 0), ser(job("dt_float"), at(b, 1)))}
		}},
		{name: "empty-request", reqs: func(b int64) []request {
			return []request{rw1()}
		}},
		{name: "not-snappy", reqs: func(b int64) []request {
			return []request{{body: wire.AppendWriteRequest(nil, &wire.WriteRequest{Series: []wire.TimeSeries{ser(job("dt_raw"), at(b, 1))}})}}
		}},
		{name: "snappy-not-protobuf", reqs: func(b int64) []request {
			return []request{{body: wire.Compress(nil, []byte("dt_metric{job=\"difftest\"} 1\n"))}}
		}, known: &known{
			why:    "a body that is not protobuf: both answer 400, but the text is the decoder's own (rwkit's wire package, not gogo/protobuf's)",
			bodies: true,
		}},
		{name: "snappy-not-protobuf-text", reqs: func(b int64) []request {
			// A truncated field: both refuse with 400, in their own words.
			return []request{{body: wire.Compress(nil, []byte{0x0a, 0x10, 0x0a})}}
		}, known: &known{
			why:    "a body that is not protobuf: both answer 400, but the text is the decoder's own (rwkit's wire package, not gogo/protobuf's)",
			bodies: true,
		}},
		{name: "wrong-content-type", reqs: func(b int64) []request {
			return []request{{series: []wire.TimeSeries{ser(job("dt_ct"), at(b, 1))}, headers: []string{"Content-Type", "text/plain"}}}
		}},
		{name: "unknown-proto-message", reqs: func(b int64) []request {
			return []request{{series: []wire.TimeSeries{ser(job("dt_proto"), at(b, 1))}, headers: []string{"Content-Type", "application/x-protobuf;proto=foo.Bar"}}}
		}},
		{name: "no-content-type", reqs: func(b int64) []request {
			return []request{{series: []wire.TimeSeries{ser(job("dt_noct"), at(b, 1))}, headers: []string{"Content-Type", ""}}}
		}},
		{name: "gzip-encoding", reqs: func(b int64) []request {
			return []request{{series: []wire.TimeSeries{ser(job("dt_gzip"), at(b, 1))}, headers: []string{"Content-Encoding", "gzip"}}}
		}},
		{name: "snappy-declares-too-much", reqs: func(b int64) []request {
			return []request{{body: snappyDeclaring(200 << 20)}}
		}, known: &known{
			why:   "a body over the size limit: the workspace answers 413 Request Entity Too Large, Cortex 400 with the same text",
			patch: setStatus(0, "413"),
		}},
		{name: "rw2", reqs: func(b int64) []request {
			return []request{{rw2: true, series: []wire.TimeSeries{ser(job("dt_rw2"), at(b, 1))}}}
		}, known: &known{
			why: "RW 2.0: Cortex v1.21 refuses it with 415 unless -distributor.remote-writev2-enabled (off by default, not set by cortextest); the workspace accepts it with 204, as AMP does",
			patch: func(o *observation) {
				o.Statuses[0] = "2xx"
				o.Samples[`__name__=dt_rw2,job=difftest`] = []string{"t+0ms=1"}
			},
		}},

		{name: "series-without-labels", reqs: func(b int64) []request {
			// Cortex refuses the whole request ("empty labels found") and
			// counts no discard at all.
			return []request{rw1(ser(job("dt_nolabels_ok"), at(b, 1), at(b+1000, 2)), ser(nil, at(b, 3)))}
		}},
		{name: "multiple-distributor-errors", reqs: func(b int64) []request {
			// The first refused series names the error.
			return []request{rw1(
				ser(job("dt_multi_ok"), at(b, 1)),
				ser(job("dt_multi", "bad-label", "x"), at(b, 2)),
				ser(ls("job", "difftest"), at(b, 3)),
			)}
		}},
		{name: "same-series-twice-in-request", reqs: func(b int64) []request {
			// Two values for one series and timestamp in one request:
			// Cortex answers 200, keeps the first and drops the second at
			// commit, uncounted; the workspace too, and says so.
			return []request{
				rw1(ser(job("dt_twice"), at(b, 1)), ser(job("dt_twice"), at(b, 1))),
				rw1(ser(job("dt_twice"), at(b+1000, 1)), ser(job("dt_twice"), at(b+1000, 2))),
			}
		}, dropped: map[string]float64{"new-value-for-timestamp": 1}},
		{name: "same-series-twice-in-request-after-stored", reqs: func(b int64) []request {
			// The first value is already stored: Cortex's ingester refuses
			// the second at append, against the stored one (400, counted).
			return []request{
				rw1(ser(job("dt_twice_stored"), at(b, 1))),
				rw1(ser(job("dt_twice_stored"), at(b, 1)), ser(job("dt_twice_stored"), at(b, 2))),
			}
		}},
		{name: "stale-marker-then-value", reqs: func(b int64) []request {
			stale := wire.Sample{Timestamp: b, Value: math.Float64frombits(0x7ff0000000000002)}
			return []request{rw1(ser(job("dt_stale"), at(b-1000, 1), stale)), rw1(ser(job("dt_stale"), at(b, 2)))}
		}},
		{name: "invalid-utf8-label-value", reqs: func(b int64) []request {
			return []request{rw1(ser(job("dt_utf8", "v", "a\xffb"), at(b, 1)), ser(job("dt_utf8_ok"), at(b, 2)))}
		}},
		{name: "exemplar-labels-missing", reqs: func(b int64) []request {
			s := ser(job("dt_ex_nolabels"), at(b, 1))
			s.Exemplars = []wire.Exemplar{{Value: 1, Timestamp: b}}
			return []request{rw1(s, ser(job("dt_ex_ok"), at(b, 2)))}
		}},
		{name: "exemplar-timestamp-invalid", reqs: func(b int64) []request {
			s := ser(job("dt_ex_nots"), at(b, 1))
			s.Exemplars = []wire.Exemplar{{Labels: []wire.Label{{Name: "trace_id", Value: "abc"}}, Value: 1}}
			return []request{rw1(s, ser(job("dt_ex_ok"), at(b, 2)))}
		}},
		{name: "metadata-help-too-long", reqs: func(b int64) []request {
			return []request{{
				series:   []wire.TimeSeries{ser(job("dt_meta"), at(b, 1))},
				metadata: []wire.Metadata{{Type: wire.MetricTypeGauge, FamilyName: "dt_meta", Help: strings.Repeat("h", 1025)}},
			}}
		}},
		{name: "missing-tenant", reqs: func(b int64) []request {
			return []request{{series: []wire.TimeSeries{ser(job("dt_notenant"), at(b, 1))}, headers: []string{"X-Scope-OrgID", ""}}}
		}, known: &known{
			why:   "no X-Scope-OrgID: Cortex (auth_enabled, as AMP) answers 401 \"no org id\"; the workspace writes to tenant \"default\" (DESIGN.md: Workspace HTTP API)",
			patch: setStatus(0, "2xx"),
		}},
		{name: "invalid-tenant", reqs: func(b int64) []request {
			return []request{{series: []wire.TimeSeries{ser(job("dt_badtenant"), at(b, 1))}, headers: []string{"X-Scope-OrgID", "a/b"}}}
		}, known: &known{
			why:   "an invalid tenant id: Cortex answers 500 (tenant validation error not mapped to a 4xx), the workspace 400 so that clients do not retry it",
			patch: setStatus(0, "400"),
		}},

		// envOverrides: small series limits, reject_old_samples (1h),
		// native histograms on.
		{name: "per-metric-series-limit", env: envOverrides, reqs: func(b int64) []request {
			return []request{
				rw1(
					ser(job("dt_pm", "i", "1"), at(b, 1)),
					ser(job("dt_pm", "i", "2"), at(b, 2)),
					ser(job("dt_pm", "i", "3"), at(b, 3)),
					ser(job("dt_pm", "i", "4"), at(b, 4), at(b+1000, 4)),
				),
				// A known series is still accepted.
				rw1(ser(job("dt_pm", "i", "1"), at(b+1000, 5))),
			}
		}},
		{name: "per-user-series-limit", env: envOverrides, reqs: func(b int64) []request {
			var s []wire.TimeSeries
			for i := range 6 {
				s = append(s, ser(job(fmt.Sprintf("dt_pu_%d", i)), at(b, float64(i))))
			}
			return []request{rw1(s...), rw1(ser(job("dt_pu_0"), at(b+1000, 9)))}
		}},
		{name: "greater-than-max-sample-age", env: envOverrides, reqs: func(b int64) []request {
			now := time.Now().UnixMilli()
			return []request{rw1(
				ser(job("dt_old", "age", "2h"), at(now-2*60*m, 1)),
				ser(job("dt_old", "age", "50m"), at(now-50*m, 2)),
			)}
		}},
		{name: "native-histogram-enabled", env: envOverrides, reqs: func(b int64) []request {
			return []request{
				rw1(hist(job("dt_nh"), b, 2, 0)),
				rw1(hist(job("dt_nh"), b, 2, 0)),
				rw1(hist(job("dt_nh"), b, 5, 0)),
			}
		}},
		{name: "native-histogram-twice-in-request", env: envOverrides, reqs: func(b int64) []request {
			// As floats: the first kept, the second dropped at commit.
			return []request{rw1(hist(job("dt_nh_twice"), b, 2, 0), hist(job("dt_nh_twice"), b, 5, 0))}
		}, dropped: map[string]float64{"new-value-for-timestamp": 1}},
		{name: "native-histogram-invalid-schema", env: envOverrides, reqs: func(b int64) []request {
			return []request{rw1(hist(job("dt_nh_schema"), b, 2, 9), ser(job("dt_nh_float"), at(b, 1)))}
		}},
		{name: "native-histogram-invalid", env: envOverrides, reqs: func(b int64) []request {
			h := hist(job("dt_nh_invalid"), b, 2, 0)
			h.Histograms[0].PositiveSpans[0].Length = 2 // two buckets, one delta
			return []request{rw1(h, ser(job("dt_nh_float2"), at(b, 1)))}
		}},
		{name: "native-histogram-invalid-kinds", env: envOverrides, reqs: func(b int64) []request {
			// One request each: a negative bucket, a count that is not the
			// buckets' sum, a negative span offset, a negative float zero
			// bucket; each next to a valid float series.
			negBucket := hist(job("dt_nh_negbucket"), b, 1, 0)
			negBucket.Histograms[0].PositiveSpans[0].Length = 2
			negBucket.Histograms[0].PositiveDeltas = []int64{1, -2}
			badCount := hist(job("dt_nh_badcount"), b, 3, 0)
			badCount.Histograms[0].PositiveDeltas = []int64{2}
			negOffset := hist(job("dt_nh_negoffset"), b, 2, 0)
			negOffset.Histograms[0].PositiveSpans = []wire.BucketSpan{{Offset: 3, Length: 1}, {Offset: -2, Length: 1}}
			negOffset.Histograms[0].PositiveDeltas = []int64{1, 0}
			negZero := ser(job("dt_nh_negzero"))
			negZero.Histograms = []wire.Histogram{{IsFloat: true, CountFloat: 1, Sum: 1, ZeroThreshold: 1e-128, ZeroCountFloat: -0.5,
				PositiveSpans: []wire.BucketSpan{{Offset: 0, Length: 1}}, PositiveCounts: []float64{1.5}, Timestamp: b}}
			var reqs []request
			for i, h := range []wire.TimeSeries{negBucket, badCount, negOffset, negZero} {
				reqs = append(reqs, rw1(h, ser(job("dt_nh_kinds_ok"), at(b+int64(i)*1000, float64(i)))))
			}
			return reqs
		}},
		{name: "native-histogram-buckets-reduced", env: envOverrides, reqs: func(b int64) []request {
			// 8 buckets at schema 2 over a limit of 4: Cortex lowers the
			// resolution until it fits (3 buckets at schema 0) and stores
			// that.
			h := hist(job("dt_nh_many"), b, 8, 2)
			h.Histograms[0].PositiveSpans = []wire.BucketSpan{{Offset: 0, Length: 8}}
			h.Histograms[0].PositiveDeltas = []int64{1, 0, 0, 0, 0, 0, 0, 0}
			return []request{rw1(h)}
		}},
		{name: "native-histogram-buckets-reduced-float", env: envOverrides, reqs: func(b int64) []request {
			// A float histogram with both sides, 7 buckets at schema 3 in
			// spans with gaps: 5 at schema 2, 4 at schema 1.
			s := ser(job("dt_nh_many_float"))
			s.Histograms = []wire.Histogram{{IsFloat: true, CountFloat: 13.5, Sum: -2.25, Schema: 3, ZeroThreshold: 1e-128, ZeroCountFloat: 1,
				PositiveSpans: []wire.BucketSpan{{Offset: -1, Length: 2}, {Offset: 2, Length: 2}}, PositiveCounts: []float64{0.5, 1.5, 2, 3},
				NegativeSpans: []wire.BucketSpan{{Offset: 2, Length: 1}, {Offset: 1, Length: 2}}, NegativeCounts: []float64{1.25, 2.25, 2},
				ResetHint: wire.ResetHintGauge, Timestamp: b}}
			return []request{rw1(s)}
		}},
		{name: "native-histogram-buckets-exceeded", env: envOverrides, reqs: func(b int64) []request {
			// Buckets far apart stay more than 4 even at schema -4.
			h := hist(job("dt_nh_wide"), b, 6, 0)
			h.Histograms[0].PositiveSpans = []wire.BucketSpan{{Offset: 0, Length: 1}, {Offset: 100, Length: 1}, {Offset: 100, Length: 1}, {Offset: 100, Length: 1}, {Offset: 100, Length: 1}, {Offset: 100, Length: 1}}
			h.Histograms[0].PositiveDeltas = []int64{1, 0, 0, 0, 0, 0}
			return []request{rw1(h, ser(job("dt_nh_float3"), at(b, 1)))}
		}},
		{name: "labels-size-bytes-exceeded", env: envOverrides, reqs: func(b int64) []request {
			return []request{rw1(
				ser(job("dt_lsize", "v", strings.Repeat("x", 250)), at(b, 1)),
				ser(job("dt_lsize_ok"), at(b, 2)),
			)}
		}},
	}
}
