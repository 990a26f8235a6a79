package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/rwkit/rwkit/internal/promtest"
	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
	"github.com/rwkit/rwkit/workspace"
	"github.com/rwkit/rwkit/workspace/workspacetest"
)

// TestIngestComparison measures the samples/s that N concurrent writers get
// accepted by the workspace (in-process, over HTTP on loopback) and by a real
// Prometheus remote-write receiver (promtest), on the same pre-encoded
// payloads, in one run, and the memory each holds per series afterwards.
// It takes a minute or two, so it runs only with RWKIT_BENCH=1:
//
//	RWKIT_BENCH=1 go test -run TestIngestComparison -v ./bench
//
// Knobs: RWKIT_BENCH_WRITERS (default 1,4,16), RWKIT_BENCH_SERIES (series
// per writer, 10000), RWKIT_BENCH_PUSHES (pushes per writer, 20),
// RWKIT_BENCH_TARGETS (default prometheus,workspace-prometheus,workspace-amp).
func TestIngestComparison(t *testing.T) {
	if os.Getenv("RWKIT_BENCH") != "1" {
		t.Skip("set RWKIT_BENCH=1 to run the ingest comparison (a minute or two)")
	}
	writers := envInts(t, "RWKIT_BENCH_WRITERS", []int{1, 4, 16})
	series := envInts(t, "RWKIT_BENCH_SERIES", []int{10_000})[0]
	pushes := envInts(t, "RWKIT_BENCH_PUSHES", []int{20})[0]
	targets := strings.Split(envOr("RWKIT_BENCH_TARGETS", "prometheus,workspace-prometheus,workspace-amp"), ",")

	maxW := 0
	for _, n := range writers {
		maxW = max(maxW, n)
	}
	// An hour ago, so that every push is in the past and inside the head.
	ts0 := time.Now().Add(-time.Hour).Truncate(time.Minute).UnixMilli()
	payloads := map[wire.Version][]ingestPayload{
		wire.V1: genIngestPayloads(t, wire.V1, maxW, series, pushes, ts0),
		wire.V2: genIngestPayloads(t, wire.V2, maxW, series, pushes, ts0),
	}

	var rows []ingestRow
	for _, n := range writers {
		for _, target := range targets {
			for _, v := range []wire.Version{wire.V1, wire.V2} {
				if target == "prometheus" && v == wire.V2 {
					continue // Prometheus 2.42 receives RW 1.0 only
				}
				rows = append(rows, runIngest(t, target, v, payloads[v][:n], series))
			}
		}
	}
	printIngestRows(os.Stdout, rows)
}

type ingestRow struct {
	target   string
	version  wire.Version
	writers  int
	series   int
	samples  int
	elapsed  time.Duration
	heapPer  float64 // bytes of heap per series after ingesting (GC'd)
	rssPer   float64 // bytes of RSS per series
	stored   float64 // head samples appended, as the receiver's own metric says
	seriesIn float64 // head series
}

func (r ingestRow) rate() float64 { return float64(r.samples) / r.elapsed.Seconds() }

func printIngestRows(w io.Writer, rows []ingestRow) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "receiver\tRW\twriters\tseries\tsamples\tseconds\tsamples/s\theap B/series\tRSS B/series\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%.2f\t%.0f\t%.0f\t%.0f\t\n",
			r.target, r.version, r.writers, r.series, r.samples, r.elapsed.Seconds(), r.rate(), r.heapPer, r.rssPer)
	}
	tw.Flush()
}

// receiver is a remote-write endpoint under test.
type receiver struct {
	writeURL string
	metrics  func() map[string]float64 // after a GC
	close    func()
}

func runIngest(t *testing.T, target string, v wire.Version, ps []ingestPayload, series int) ingestRow {
	t.Helper()
	rec := startReceiver(t, target)
	defer rec.close()
	before := rec.metrics()

	clients := make([]*http.Client, len(ps))
	for i := range clients {
		// One connection per writer, as one Prometheus shard has.
		clients[i] = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}}
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(ps))
	start := time.Now()
	for i := range ps {
		wg.Add(1)
		go func(c *http.Client, p *ingestPayload) {
			defer wg.Done()
			for _, body := range p.bodies {
				if err := push(c, rec.writeURL, v, body); err != nil {
					errs <- fmt.Errorf("%s writer %d: %w", target, p.writer, err)
					return
				}
			}
		}(clients[i], &ps[i])
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	after := rec.metrics()
	for _, c := range clients {
		c.CloseIdleConnections()
	}

	r := ingestRow{target: target, version: v, writers: len(ps), series: len(ps) * series, elapsed: elapsed}
	for _, p := range ps {
		r.samples += len(p.bodies) * series
	}
	r.stored = after["prometheus_tsdb_head_samples_appended_total"] - before["prometheus_tsdb_head_samples_appended_total"]
	r.seriesIn = after["prometheus_tsdb_head_series"]
	if r.stored != float64(r.samples) || r.seriesIn != float64(r.series) {
		t.Fatalf("%s: head has %v series and %v samples appended, want %d and %d", target, r.seriesIn, r.stored, r.series, r.samples)
	}
	r.heapPer = (after["heap"] - before["heap"]) / float64(r.series)
	r.rssPer = (after["rss"] - before["rss"]) / float64(r.series)
	t.Logf("%-20s RW %s writers=%2d  %9.0f samples/s  heap %5.0f B/series", target, v, r.writers, r.rate(), r.heapPer)
	return r
}

func push(c *http.Client, url string, v wire.Version, body []byte) error {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", v.ContentType())
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("User-Agent", "rwkit-ingest-bench")
	if v == wire.V1 {
		req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	} else {
		req.Header.Set("X-Prometheus-Remote-Write-Version", "2.0.0")
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %s", resp.Status, msg)
	}
	return nil
}

func startReceiver(t *testing.T, target string) *receiver {
	t.Helper()
	switch target {
	case "prometheus":
		s := promtest.Start(t)
		return &receiver{
			writeURL: s.WriteURL,
			metrics: func() map[string]float64 {
				// The heap profile endpoint runs a GC first; twice, as
				// for the workspace, so that sync.Pools are emptied.
				for range 2 {
					if resp, err := http.Get(s.URL + "/debug/pprof/heap?gc=1"); err == nil {
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
				}
				m := scrape(t, s.URL+"/metrics")
				m["heap"] = m["go_memstats_heap_alloc_bytes"]
				m["rss"] = m["process_resident_memory_bytes"]
				return m
			},
			close: func() {},
		}
	case "workspace-prometheus", "workspace-amp":
		lim, err := validate.Profile(strings.TrimPrefix(target, "workspace-"))
		if err != nil {
			t.Fatal(err)
		}
		// AMP's 70,000 samples/s quota would measure the rate limiter.
		lim.IngestionRate, lim.IngestionBurstSize = math.MaxInt32, math.MaxInt32
		ws := workspacetest.Start(t, workspace.WithLimits(lim))
		srv := ws.HTTP
		return &receiver{
			writeURL: srv.URL + "/api/v1/write",
			metrics: func() map[string]float64 {
				m := scrape(t, srv.URL+"/metrics")
				runtime.GC()
				runtime.GC() // the second empties sync.Pools' victim caches
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				m["heap"] = float64(ms.HeapAlloc)
				m["rss"] = selfRSS()
				return m
			},
			close: func() { _ = ws.Close() },
		}
	}
	t.Fatalf("unknown target %q: use prometheus, workspace-prometheus or workspace-amp", target)
	return nil
}

// scrape sums the samples of each metric name in a text exposition.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 {
			continue
		}
		name := line[:sp]
		if i := strings.IndexByte(name, '{'); i >= 0 {
			name = name[:i]
		}
		if f, err := strconv.ParseFloat(line[sp+1:], 64); err == nil {
			m[strings.TrimSpace(name)] += f
		}
	}
	return m
}

func selfRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(f), "kB")), 64)
			return kb * 1024
		}
	}
	return 0
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func envInts(t *testing.T, name string, def []int) []int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			t.Fatalf("%s=%q: want positive integers separated by commas", name, v)
		}
		out = append(out, n)
	}
	return out
}
