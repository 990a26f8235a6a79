package stream_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/rwkit/rwkit/agent"
	"github.com/rwkit/rwkit/agent/stream"
	"github.com/rwkit/rwkit/wire"
)

// server answers with handler and records the last request's headers.
func server(t *testing.T, handler func(w http.ResponseWriter)) (*target, *atomic.Pointer[http.Header]) {
	var hdr atomic.Pointer[http.Header]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Clone()
		hdr.Store(&h)
		handler(w)
	}))
	t.Cleanup(srv.Close)
	return &target{Server: srv}, &hdr
}

func TestGzipBodyAndRequestHeaders(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	fmt.Fprint(zw, "a 1\nb 2")
	zw.Close()
	tg, hdr := server(t, func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(gz.Bytes())
	})
	out := &lastBody{}
	l := newLoop(t, loadConfig(t, tg, "", "", ""), out)
	for i := range 2 { // the second time with the gzip reader reused
		r, err := l.Scrape(context.Background(), time.UnixMilli(int64(1000*(i+1))))
		if err != nil {
			t.Fatal(err)
		}
		if r.Scraped != 2 || r.BodyBytes != int64(len("a 1\nb 2")) {
			t.Errorf("scrape %d: %d samples, %d bytes; want 2 and the decompressed size", i, r.Scraped, r.BodyBytes)
		}
	}
	h := *hdr.Load()
	if got := h.Get("Accept-Encoding"); got != "gzip" {
		t.Errorf("Accept-Encoding %q, want gzip", got)
	}
	if got, want := h.Get("Accept"), "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.3"; got != want {
		t.Errorf("Accept %q, want %q: the text formats of Prometheus 3's default scrape_protocols, with its weights", got, want)
	}
	if got := h.Get("X-Prometheus-Scrape-Timeout-Seconds"); got != "0.25" {
		t.Errorf("X-Prometheus-Scrape-Timeout-Seconds %q, want 0.25", got)
	}
}

// A scrape that fails writes up 0, the report series and stale markers,
// with an error that says why.
func TestFailedScrapes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		global string
		handle func(w http.ResponseWriter)
		want   string
		stale  int // a's stale markers
	}{
		// Not the text format: Prometheus' parser reads it, and fails it
		// as Prometheus does.
		{"OpenMetrics without # EOF", "", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/openmetrics-text; version=1.0.0")
			fmt.Fprint(w, "b 1\n")
		}, `data does not end with # EOF`, 1},
		{"timeout", "", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprint(w, "a 1\n")
			w.(http.Flusher).Flush()
			time.Sleep(400 * time.Millisecond)
			fmt.Fprint(w, "b 1\n")
		}, "context deadline exceeded", 1},
		{"body_size_limit", "  body_size_limit: 10B", func(w http.ResponseWriter) {
			fmt.Fprint(w, "a 1\nb 2\nc 3\n")
		}, "body size limit exceeded", 1},
		// As in Prometheus, a series read before the line that fails
		// gets no stale marker this time.
		{"parse error", "", func(w http.ResponseWriter) {
			fmt.Fprint(w, "a 1\nb{x=1} 2\n")
		}, `expected label value, got "1"`, 0}, // Prometheus' parser's words: the stream parser's failure sends the body to it
	} {
		t.Run(tc.name, func(t *testing.T) {
			fail := atomic.Bool{}
			tg, _ := server(t, func(w http.ResponseWriter) {
				if !fail.Load() {
					fmt.Fprint(w, "a 1\n")
					return
				}
				tc.handle(w)
			})
			out := &lastBody{}
			l := newLoop(t, loadConfig(t, tg, tc.global, "", ""), out)
			if _, err := l.Scrape(context.Background(), time.UnixMilli(1000)); err != nil {
				t.Fatal(err)
			}
			fail.Store(true)
			r, err := l.Scrape(context.Background(), time.UnixMilli(2000))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "scrape "+tg.URL) {
				t.Fatalf("error %v, want one naming the target and saying %q", err, tc.want)
			}
			got := map[string]string{}
			for _, ts := range out.req.Series {
				got[ts.Labels[0].Value] = value(ts.Samples[0].Value)
			}
			wantA := map[int]string{0: "", 1: "stale"}[tc.stale]
			if got["up"] != "0" || got["a"] != wantA || r.StaleMarkers != tc.stale {
				t.Errorf("up %s, a %q, %d stale markers; want up 0 and %d for a", got["up"], got["a"], r.StaleMarkers, tc.stale)
			}
		})
	}
}

func TestSecretInURLIsNotInErrors(t *testing.T) {
	tg, _ := server(t, func(w http.ResponseWriter) { w.WriteHeader(http.StatusForbidden) })
	cfg := loadConfig(t, tg, "", "    params:\n      token: [s3cret]", "")
	l := newLoop(t, cfg, &lastBody{})
	_, err := l.Scrape(context.Background(), time.UnixMilli(1000))
	if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "403") {
		t.Fatalf("error %v: want the status, without the token", err)
	}
	// A target that cannot be reached: Go's client names the URL, query
	// and all, in its error.
	tg.Close()
	l = newLoop(t, cfg, &lastBody{})
	if _, err = l.Scrape(context.Background(), time.UnixMilli(2000)); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("error %v: want one, without the token", err)
	}
}

// A target whose series churn does not grow the cache forever: a line
// text not read for 10 minutes of scrape time is forgotten.
func TestCacheIsBounded(t *testing.T) {
	var n atomic.Int64
	tg, _ := server(t, func(w http.ResponseWriter) {
		k := n.Add(1)
		for i := range 10 {
			fmt.Fprintf(w, "churn{scrape=\"%d\",i=\"%d\"} 1\n", k, i)
		}
	})
	l := newLoop(t, loadConfig(t, tg, "", "", ""), &lastBody{})
	const every = 30 * time.Second
	most := 0
	for i := range 80 { // 40 minutes
		r, err := l.Scrape(context.Background(), time.UnixMilli(0).Add(time.Duration(i+1)*every))
		if err != nil {
			t.Fatal(err)
		}
		most = max(most, r.Cached)
		if r.SeriesAdded != 10 || r.StaleMarkers != min(i, 1)*10 {
			t.Fatalf("scrape %d: %d series added, %d stale markers; want 10 and 10", i, r.SeriesAdded, r.StaleMarkers)
		}
	}
	// 10 minutes of scrapes, plus the sweep's minute, plus this one.
	if limit := 10 * (int(10*time.Minute/every) + 3); most > limit || most < 10*int(10*time.Minute/every) {
		t.Errorf("the cache held up to %d line texts; want about 10 minutes' worth, at most %d", most, limit)
	}
}

func TestNewRefusesProtocolsWithoutText(t *testing.T) {
	tg, _ := server(t, func(http.ResponseWriter) {})
	cfg := loadConfig(t, tg, "", "    scrape_protocols: [PrometheusProto, OpenMetricsText1.0.0]", "")
	targets, err := stream.Targets(cfg.ScrapeConfigs[0])
	if err != nil {
		t.Fatal(err)
	}
	_, err = stream.New(cfg.ScrapeConfigs[0], targets[0], &lastBody{})
	if err == nil || !strings.Contains(err.Error(), "scrape_protocols") || !strings.Contains(err.Error(), `job "j"`) {
		t.Fatalf("New: %v; want an error naming the job and scrape_protocols", err)
	}
}

type failingOutput struct{}

func (failingOutput) Write([]byte, int) error { return errors.New("queue full") }

func TestRunScrapesUntilItsContextEnds(t *testing.T) {
	var n atomic.Int64
	tg, _ := server(t, func(w http.ResponseWriter) { n.Add(1); fmt.Fprint(w, "a 1\n") })
	cfg := loadConfig(t, tg, "", "", "")
	sc := cfg.ScrapeConfigs[0]
	sc.ScrapeInterval, sc.ScrapeTimeout = model.Duration(100*time.Millisecond), model.Duration(100*time.Millisecond)
	l := newLoop(t, cfg, &lastBody{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	for n.Load() < 3 {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	// An Output that refuses ends Run with its error.
	l = newLoop(t, cfg, failingOutput{})
	if err := l.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "queue full") {
		t.Fatalf("Run with a failing output: %v", err)
	}
}

// Samples Prometheus' head would refuse are refused and counted, the
// first of a series at a timestamp kept.
func TestRefusedSamplesAreCounted(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	body := fmt.Sprintf("a 1\na 2\nr{a=\"1\",b=\"2\"} 1\nr{b=\"2\",a=\"1\"} 2\nfuture 1 %d\ny 1 1000\ny 2 500\n", now.Add(11*time.Minute).UnixMilli())
	tg := newTarget(t, []answer{{body: body}})
	out := &lastBody{}
	l := newLoop(t, loadConfig(t, tg, "", "", ""), out)
	r, err := l.Scrape(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	got := stream.Report{Scraped: r.Scraped, PostRelabel: r.PostRelabel, SeriesAdded: r.SeriesAdded, Written: r.Written,
		Duplicates: r.Duplicates, OutOfOrder: r.OutOfOrder, OutOfBounds: r.OutOfBounds}
	want := stream.Report{Scraped: 7, PostRelabel: 7, SeriesAdded: 3, Written: 3 + 5, Duplicates: 2, OutOfOrder: 1, OutOfBounds: 1}
	if got != want {
		t.Errorf("report %+v, want %+v", got, want)
	}
	values := map[string]string{}
	for _, ts := range out.req.Series {
		values[ts.Labels[0].Value] += value(ts.Samples[0].Value) + " "
	}
	if values["a"] != "1 " || values["r"] != "1 " || values["y"] != "1 " || values["future"] != "" {
		t.Errorf("written %v; want the first sample of a, r and y, and nothing of future", values)
	}
}

func TestStaleAll(t *testing.T) {
	tg := newTarget(t, []answer{{body: "a 1\nb 2\nstamped 3 1700000000000\n"}})
	out := &lastBody{}
	l := newLoop(t, loadConfig(t, tg, "", "", ""), out)
	if _, err := l.Scrape(context.Background(), time.UnixMilli(5000)); err != nil {
		t.Fatal(err)
	}
	// At the last scrape's very millisecond: the markers come just after.
	if err := l.StaleAll(time.UnixMilli(5000)); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, ts := range out.req.Series {
		got[ts.Labels[0].Value] = fmt.Sprintf("%s@%d", value(ts.Samples[0].Value), ts.Samples[0].Timestamp)
	}
	want := map[string]string{"a": "stale@5001", "b": "stale@5001"}
	for _, n := range []string{"up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling", "scrape_series_added"} {
		want[n] = "stale@5001" // the report series, as the agent's storage marks them
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("StaleAll wrote %v, want %v (no marker for the series with its own timestamp)", got, want)
	}
	// Nothing more to mark; a later scrape starts the series again.
	out.samples = -1
	if err := l.StaleAll(time.UnixMilli(6000)); err != nil || out.samples != -1 {
		t.Fatalf("a second StaleAll: %v, wrote %d samples", err, out.samples)
	}
	r, err := l.Scrape(context.Background(), time.UnixMilli(7000))
	if err != nil || r.StaleMarkers != 0 || r.Written != 2+5 {
		t.Fatalf("scrape after StaleAll: %v, %+v", err, r)
	}
}

// A body the stream parser fails is fetched a second time for Prometheus'
// parser in that one scrape (the loop keeps no copy of a body while its
// target's bodies parse). Once Prometheus' parser took one, the target's
// bodies are fetched once, for it alone; while they fail both parsers,
// each is kept as read and parsed again from the copy, so the target is
// asked once a scrape, as Prometheus asks it; a body that parses ends the
// copying. A failing body larger than the parser's buffer is read to its
// end for the copy.
func TestAFailedBodyIsFetchedAgainOnce(t *testing.T) {
	var big strings.Builder
	big.WriteString("# HELP a x\n# HELP a y\na 1\n") // two HELP lines: the stream parser's error, not Prometheus'
	for i := range 5000 {
		fmt.Fprintf(&big, "m{i=\"%04d\",pad=\"%s\"} %d\n", i, strings.Repeat("p", 20), i)
	}
	for _, tc := range []struct {
		name     string
		answers  []answer
		requests []int64
		scraped  []int
		prom     []bool
	}{
		{"Prometheus' parser takes it", []answer{{body: "a 1\nb{x=\"1\"} 2\n# TYPE a gauge\n"}}, []int64{2, 1, 1}, []int{2, 2, 2}, []bool{true, true, true}},
		{"a large body Prometheus' parser takes", []answer{{body: big.String()}}, []int64{2, 1}, []int{5001, 5001}, []bool{true, true}},
		{"bodies both parsers fail, then one that parses", []answer{{body: "a 1\n!!\n"}, {body: "a 2\n!!\n"}, {body: "a 3\n!!\n"}, {body: "a 4\n"}, {body: "a 5\n"}},
			[]int64{2, 1, 1, 1, 1}, []int{1, 1, 1, 1, 1}, []bool{true, true, true, false, false}},
		{"a large body after one both parsers fail", []answer{{body: "a 1\n!!\n"}, {body: big.String()}}, []int64{2, 1}, []int{1, 5001}, []bool{true, true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := newTarget(t, tc.answers)
			l := newLoop(t, loadConfig(t, tg, "", "", ""), &recorder{})
			for i, want := range tc.requests {
				tg.pinned.Store(int64(i + 1))
				before := tg.requests.Load()
				r, _ := l.Scrape(context.Background(), time.UnixMilli(int64(1000*(i+1))))
				if got := tg.requests.Load() - before; got != want || r.Scraped != tc.scraped[i] || r.PromParsed != tc.prom[i] {
					t.Errorf("scrape %d: %d requests, %d samples, Prometheus' parser %v (error %v); want %d, %d, %v",
						i+1, got, r.Scraped, r.PromParsed, r.Err, want, tc.scraped[i], tc.prom[i])
				}
			}
		})
	}
}

// seriesOrder is an Output that keeps the size of each Write and the
// names of the series written, in order.
type seriesOrder struct {
	writes []int
	names  []string
}

func (o *seriesOrder) Write(body []byte, samples int) error {
	var req wire.WriteRequest
	if err := wire.DecodeWriteRequest(body, &req); err != nil {
		return err
	}
	if len(req.Series) != samples {
		return fmt.Errorf("Write says %d samples, the body has %d series of one", samples, len(req.Series))
	}
	o.writes = append(o.writes, samples)
	for _, ts := range req.Series {
		o.names = append(o.names, ts.Labels[0].Value)
	}
	return nil
}

// A scrape's samples reach the Output after the scrape, cut into writes
// of at most WithWriteSeries series, in the order scraped, stale markers
// and report series last; a scrape whose body fails writes none of its
// samples.
func TestWritesAreCutAtWriteSeries(t *testing.T) {
	var body, fewer strings.Builder
	var want []string
	for i := range 23 {
		fmt.Fprintf(&body, "m%02d 1\n", i)
		want = append(want, fmt.Sprintf("m%02d", i))
		if i < 20 {
			fmt.Fprintf(&fewer, "m%02d 1\n", i)
		}
	}
	tg := newTarget(t, []answer{{body: body.String()}, {body: fewer.String()}, {body: body.String() + "!!bad\n"}})
	cfg := loadConfig(t, tg, "", "", "")
	targets, err := stream.Targets(cfg.ScrapeConfigs[0])
	if err != nil {
		t.Fatal(err)
	}
	out := &seriesOrder{}
	l, err := stream.New(cfg.ScrapeConfigs[0], targets[0], out, stream.WithWriteSeries(10))
	if err != nil {
		t.Fatal(err)
	}
	report := []string{"up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling", "scrape_series_added"}
	for i, tc := range []struct {
		writes []int
		names  []string
	}{
		{[]int{10, 10, 8}, append(slices.Clone(want), report...)},
		// m20-m22 vanish: their stale markers after the body's series.
		{[]int{10, 10, 8}, append(append(slices.Clone(want[:20]), want[20:]...), report...)},
		// The body fails on its last line: none of its samples are
		// written, and, as in Prometheus, the series read before the
		// failure are not marked stale: the report alone.
		{[]int{5}, report},
	} {
		out.writes, out.names = nil, nil
		tg.pinned.Store(int64(i + 1))
		l.Scrape(context.Background(), time.UnixMilli(int64(1000*(i+1))))
		if !slices.Equal(out.writes, tc.writes) || !slices.Equal(out.names, tc.names) {
			t.Errorf("scrape %d: writes of %v series, series %v; want %v and %v", i+1, out.writes, out.names, tc.writes, tc.names)
		}
	}
}

// A target's scrapes fall at a point of the interval of its own: Offset
// is the time to it, from any now; targets spread over the interval, and
// another seed moves them.
func TestOffsetsSpreadTargets(t *testing.T) {
	const iv = 10 * time.Second
	phase := func(l *stream.Loop, now time.Time) time.Duration {
		d := l.Offset(now)
		if d < 0 || d > iv {
			t.Fatalf("Offset %v, want within [0, %v]", d, iv)
		}
		return time.Duration(now.Add(d).UnixNano() % int64(iv))
	}
	loops := func(seed uint64) []*stream.Loop {
		var ls []*stream.Loop
		for i := range 200 {
			yml := fmt.Sprintf("scrape_configs:\n  - job_name: j\n    scrape_interval: 10s\n    static_configs:\n      - targets: ['10.0.%d.%d:8080']\nremote_write:\n  - url: http://127.0.0.1:1/w\n", i/250, i%250)
			cfg, err := agent.Load([]byte(yml), "t.yml")
			if err != nil {
				t.Fatal(err)
			}
			ts, err := stream.Targets(cfg.ScrapeConfigs[0])
			if err != nil {
				t.Fatal(err)
			}
			l, err := stream.New(cfg.ScrapeConfigs[0], ts[0], &lastBody{}, stream.WithOffsetSeed(seed))
			if err != nil {
				t.Fatal(err)
			}
			ls = append(ls, l)
		}
		return ls
	}
	now := time.Unix(1_700_000_000, 123_456_789)
	seed := stream.OffsetSeed("host-a", labels.FromStrings("cluster", "c1"))
	var tenths [10]int
	moved := 0
	other := loops(stream.OffsetSeed("host-b", labels.FromStrings("cluster", "c1")))
	for i, l := range loops(seed) {
		p := phase(l, now)
		if later := phase(l, now.Add(3700*time.Millisecond)); later != p {
			t.Fatalf("target %d: its point in the interval moved from %v to %v with now", i, p, later)
		}
		tenths[p*10/iv]++
		if phase(other[i], now) != p {
			moved++
		}
	}
	for i, n := range tenths {
		if n < 5 {
			t.Errorf("tenth %d of the interval has %d of 200 targets' scrapes (all: %v); want them spread", i, n, tenths)
		}
	}
	if moved < 190 {
		t.Errorf("another host's seed moved %d of 200 targets' scrape times; want nearly all", moved)
	}
}
