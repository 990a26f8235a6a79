package stream_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"

	"github.com/rwkit/rwkit/agent"
	"github.com/rwkit/rwkit/agent/stream"
	"github.com/rwkit/rwkit/bench/expo"
	"github.com/rwkit/rwkit/wire"
)

// usage is the process' CPU time and allocations so far.
type usage struct {
	cpu     time.Duration
	mallocs uint64
	bytes   uint64
}

func readUsage() usage {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return usage{
		cpu:     time.Duration(ru.Utime.Nano() + ru.Stime.Nano()),
		mallocs: ms.Mallocs,
		bytes:   ms.TotalAlloc,
	}
}

func (u usage) sub(o usage) usage {
	return usage{u.cpu - o.cpu, u.mallocs - o.mallocs, u.bytes - o.bytes}
}

// heldHeap is the live heap after a collection.
func heldHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// perScrape is what one side of the benchmark measured.
type perScrape struct {
	use     usage  // over the measured scrapes
	scrapes int    // measured scrapes
	held    uint64 // live heap the side holds after its scrapes
	body    int    // bytes of one scrape's encoded request
	bodyCap int    // of held, the stream loop's request buffer
}

func (p perScrape) per(series int) (ns, allocs, allocBytes, held float64) {
	n := float64(p.scrapes * series)
	return float64(p.use.cpu.Nanoseconds()) / n, float64(p.use.mallocs) / n, float64(p.use.bytes) / n, float64(p.held) / float64(series)
}

const benchScrapes = 4

// BenchmarkScrape100k scrapes the 100k-series exposition of
// bench/cmd/agents, in process, with the stream loop and with rwkit's
// agent as it runs today (Prometheus' scrape loop appending into the
// agent's storage, its sink encoding each scrape as a RW 1.0 request,
// as push.Queue does before compressing), and prints the CPU time and
// allocations per scraped series of each and their ratio. Each side is
// measured over benchScrapes scrapes after a first one that fills its
// caches; both include serving the body from an in-process target.
//
//	go test ./agent/stream -run '^$' -bench Scrape100k -benchtime 1x
func BenchmarkScrape100k(b *testing.B) {
	var buf bytes.Buffer
	series, err := expo.Render(&buf, 100_000, expo.WriterA)
	if err != nil {
		b.Fatal(err)
	}
	body := buf.Bytes()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		w.Write(body)
	}))
	defer srv.Close()
	yml := fmt.Sprintf(`
global:
  scrape_interval: 5s
  scrape_timeout: 5s
scrape_configs:
  - job_name: bench
    static_configs:
      - targets: [%q]
remote_write:
  - url: http://127.0.0.1:1/write
`, strings.TrimPrefix(srv.URL, "http://"))
	cfg, err := agent.Load([]byte(yml), "bench.yml")
	if err != nil {
		b.Fatal(err)
	}
	for range b.N {
		st := measureStream(b, cfg)
		pr := measureAgent(b, cfg)
		sNs, sAllocs, sBytes, sHeld := st.per(series)
		pNs, pAllocs, pBytes, pHeld := pr.per(series)
		b.ReportMetric(sNs, "stream-ns/series")
		b.ReportMetric(pNs, "prom-ns/series")
		b.ReportMetric(pNs/sNs, "cpu-ratio")
		b.ReportMetric(sAllocs, "stream-allocs/series")
		b.ReportMetric(pAllocs, "prom-allocs/series")
		b.ReportMetric(sHeld, "stream-heldB/series")
		cacheB := sHeld - float64(st.bodyCap)/float64(series)
		b.ReportMetric(cacheB, "stream-cacheB/series")
		b.ReportMetric(pHeld, "prom-heldB/series")
		b.Logf("%d series, %d scrapes each: stream loop %.0f ns, %.3f allocs, %.0f B allocated, %.0f B held per series (its cache %.0f B, its request buffer the rest; a request is %.1f B/series); "+
			"Prometheus' scrape loop + agent storage %.0f ns, %.2f allocs, %.0f B allocated, %.0f B held per series: CPU %.2fx, allocations %.0fx, held heap %.2fx",
			series, benchScrapes, sNs, sAllocs, sBytes, sHeld, cacheB, float64(st.body)/float64(series),
			pNs, pAllocs, pBytes, pHeld, pNs/sNs, pAllocs/max(sAllocs, 1e-9), pHeld/sHeld)
	}
}

// discard is the stream loop's Output: the body is already what a queue
// compresses and sends.
type discard struct{ n int }

func (d *discard) Write(body []byte, _ int) error { d.n = len(body); return nil }

func measureStream(b *testing.B, cfg *config.Config) perScrape {
	base := heldHeap()
	out := &discard{}
	l := newLoop(b, cfg, out)
	now := time.Now()
	scrape := func(i int) {
		r, err := l.Scrape(context.Background(), now.Add(time.Duration(i)*time.Second))
		if err != nil || r.Written < 100_000 {
			b.Fatalf("stream scrape %d: %v (%d samples written)", i, err, r.Written)
		}
	}
	scrape(0)
	before := readUsage()
	for i := range benchScrapes {
		scrape(i + 1)
	}
	p := perScrape{use: readUsage().sub(before), scrapes: benchScrapes, body: out.n}
	p.held = heldHeap() - base
	p.bodyCap = stream.BodyCap(l)
	runtime.KeepAlive(l)
	return p
}

// encodingSink encodes each scrape as push.Queue does before compressing
// it, and samples the process' usage at chosen commits.
type encodingSink struct {
	mu      sync.Mutex
	buf     []byte
	commits int
	marks   map[int]chan usage
}

func (s *encodingSink) Append(req *wire.WriteRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = wire.AppendWriteRequest(s.buf[:0], req)
	if len(req.Series) < 1000 {
		return nil // a shutdown's markers
	}
	s.commits++
	if ch, ok := s.marks[s.commits]; ok {
		ch <- readUsage()
	}
	return nil
}

func (s *encodingSink) Run(ctx context.Context) error  { <-ctx.Done(); return nil }
func (s *encodingSink) Shutdown(context.Context) error { return nil }

func measureAgent(b *testing.B, cfg *config.Config) perScrape {
	base := heldHeap()
	first, last := make(chan usage, 1), make(chan usage, 1)
	sink := &encodingSink{marks: map[int]chan usage{1: first, 1 + benchScrapes: last}}
	a, err := agent.New(cfg, agent.Options{NewSink: func(*config.RemoteWriteConfig, string) (agent.Sink, error) { return sink, nil }})
	if err != nil {
		b.Fatal(err)
	}
	go a.Run(context.Background())
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		a.Shutdown(ctx)
	}()
	timeout := time.After(time.Duration(benchScrapes+3) * 15 * time.Second)
	var u [2]usage
	for i, ch := range []chan usage{first, last} {
		select {
		case u[i] = <-ch:
		case <-timeout:
			b.Fatalf("the agent committed %d scrapes of the 100k series in time, want %d", sink.commits, 1+benchScrapes)
		}
	}
	p := perScrape{use: u[1].sub(u[0]), scrapes: benchScrapes, body: len(sink.buf)}
	p.held = heldHeap() - base
	return p
}

// BenchmarkStreamLoop100k is the stream loop alone on the same
// exposition, one scrape per iteration, for profiling.
//
//	go test ./agent/stream -run '^$' -bench StreamLoop100k -cpuprofile cpu.out
func BenchmarkStreamLoop100k(b *testing.B) {
	var buf bytes.Buffer
	series, err := expo.Render(&buf, 100_000, expo.WriterA)
	if err != nil {
		b.Fatal(err)
	}
	body := buf.Bytes()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		w.Write(body)
	}))
	defer srv.Close()
	tg := &target{Server: srv}
	cfg := loadConfig(b, tg, "", "", "")
	cfg.ScrapeConfigs[0].ScrapeInterval, cfg.ScrapeConfigs[0].ScrapeTimeout = model.Duration(10*time.Second), model.Duration(10*time.Second)
	l := newLoop(b, cfg, &discard{})
	now := time.Now()
	if _, err := l.Scrape(context.Background(), now); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := l.Scrape(context.Background(), now.Add(time.Duration(i+1)*time.Second)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*series), "ns/series")
	heldLoop = l
}

// heldLoop keeps BenchmarkStreamLoop100k's loop reachable when the test
// binary writes -memprofile, whose in-use figures then show what the loop
// holds between scrapes:
//
//	go test ./agent/stream -run '^$' -bench StreamLoop100k -memprofile mem.out -o stream.test
//	go tool pprof -sample_index=inuse_space -top stream.test mem.out
var heldLoop *stream.Loop
