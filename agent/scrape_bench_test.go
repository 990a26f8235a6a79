package agent

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// benchExposition renders n series in the shape of bench/cmd/agents'
// target: 200 metric names (half counters, half gauges, HELP and TYPE),
// labels code, method, pod and route, n/200 series per name.
func benchExposition(n int) []byte {
	const names = 200
	methods := []string{"GET", "POST", "PUT", "DELETE", "PATCH"}
	codes := []string{"200", "201", "204", "400", "404", "429", "500", "503"}
	var b bytes.Buffer
	per := (n + names - 1) / names
	for i := range names {
		name, typ := fmt.Sprintf("bench_metric_%03d", i), "gauge"
		if i%2 == 0 {
			name, typ = name+"_total", "counter"
		}
		fmt.Fprintf(&b, "# HELP %s Generated series.\n# TYPE %s %s\n", name, name, typ)
		for k := range per {
			fmt.Fprintf(&b, "%s{code=%q,method=%q,pod=\"pod-%d\",route=\"/api/v1/route-%d\"} %d.5\n",
				name, codes[(k/5)%len(codes)], methods[k%len(methods)], k/2000, (k/40)%50, (i*7919+k*31)%100000)
		}
	}
	return b.Bytes()
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkAgentScrape runs the agent, with its default sink (a
// push.Queue), against a target of 100k series and a receiver that
// discards, and reports the process's CPU per scraped series and its
// live heap per series after the scrapes. b.N is the number of scrapes
// measured, after one to warm up. It is the in-process form of
// `go run ./bench/cmd/agents` for profiling:
//
//	go test ./agent -run '^$' -bench AgentScrape -benchtime 10x -cpuprofile cpu.out
//
// RWKIT_BENCH_CPUPROFILE=FILE profiles the CPU of the measured scrapes
// only (the first one, which makes every series and grows the buffers,
// left out); RWKIT_BENCH_HEAPPROFILE=FILE writes the in-use heap profile
// after the scrapes, with the agent still holding its series;
// RWKIT_BENCH_SERIES sets the target's series (100000),
// RWKIT_BENCH_INTERVAL the scrape interval and timeout (2s).
func BenchmarkAgentScrape(b *testing.B) {
	series := 100_000
	if s := os.Getenv("RWKIT_BENCH_SERIES"); s != "" {
		series, _ = strconv.Atoi(s)
	}
	interval := "2s"
	if s := os.Getenv("RWKIT_BENCH_INTERVAL"); s != "" {
		interval = s
	}
	body := benchExposition(series)
	var scrapes, writes atomic.Int64
	var sent atomic.Int64
	tg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		w.Write(body)
		scrapes.Add(1)
	}))
	defer tg.Close()
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		sent.Add(n)
		writes.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rcv.Close()
	cfg, err := Load([]byte(fmt.Sprintf(`global:
  scrape_interval: %[3]s
  scrape_timeout: %[3]s
scrape_configs:
  - job_name: bench
    static_configs:
      - targets: [%[1]q]
remote_write:
  - url: %[2]q
`, tg.Listener.Addr().String(), rcv.URL, interval)), "bench.yml")
	if err != nil {
		b.Fatal(err)
	}
	a, err := New(cfg, Options{})
	if err != nil {
		b.Fatal(err)
	}
	go a.Run(context.Background())
	defer a.Shutdown(context.Background())

	// waitScrapes waits until the receiver has been quiet for a while
	// after scrape n was served: the scrape's writes are all in.
	waitScrapes := func(n int64) {
		for scrapes.Load() < n {
			time.Sleep(10 * time.Millisecond)
		}
		for last := int64(-1); ; {
			time.Sleep(300 * time.Millisecond)
			if w := writes.Load(); w == last {
				return
			} else {
				last = w
			}
		}
	}
	t0 := time.Now()
	waitScrapes(2)
	b.Logf("first two scrapes sent in %s", time.Since(t0).Round(time.Millisecond))
	if path := os.Getenv("RWKIT_BENCH_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	start, sent0 := cpuTime(), sent.Load()
	waitScrapes(int64(b.N) + 2)
	cpu := cpuTime() - start
	b.StopTimer()
	pprof.StopCPUProfile()
	done := scrapes.Load() - 2
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(done)/float64(series), "cpu-ns/series")
	b.ReportMetric(float64(sent.Load()-sent0)/float64(done)/float64(series), "sent-B/series")
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/float64(series), "heap-B/series")
	if path := os.Getenv("RWKIT_BENCH_HEAPPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
			b.Fatal(err)
		}
	}
}
