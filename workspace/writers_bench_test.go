package workspace_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
)

// BenchmarkWritesWhileWritersIsCalled measures what the page's writers
// table costs the writes: a tenant tracking 200,000 series from 40
// writers takes writes of 200 series, alone (the baseline, measured in
// the same run) and while another goroutine calls Writers in a loop, as
// viewers of the page poll it. The two are timed in interleaved rounds,
// each one's best round kept; it reports with-writers/alone and the cost
// of one Writers call. Its own ns/op is meaningless.
func BenchmarkWritesWhileWritersIsCalled(b *testing.B) {
	const tracked, writers, perWrite = 200_000, 40, 200
	lim, _ := validate.Profile("amp")
	lim.IngestionRate = 0
	e := newEnvLimits(b, lim)
	h := e.ws.Handler()
	ts := time.Now().UnixMilli() - 60_000
	body := func(service string, from, n int, ts int64) []byte {
		s := make([]wire.TimeSeries, n)
		for i := range s {
			k := from + i
			s[i] = series(float64(k), ts, "__name__", fmt.Sprintf("bench_metric_%d", k%10), "instance", fmt.Sprintf("i-%06d", k), "service", service)
		}
		return rw1Body(s...)
	}
	per := tracked / writers
	for w := range writers {
		if err := write(h, body(fmt.Sprint("svc-", w), w*per, per, ts), 200); err != nil {
			b.Fatal(err)
		}
	}
	if n := len(e.ws.Writers("bench")); n != writers {
		b.Fatalf("%d writers after the fill, want %d", n, writers)
	}

	var alone, with time.Duration
	var calls atomic.Int64
	var callTime atomic.Int64
	for round := range 5 {
		for _, poll := range []bool{false, true} {
			stop := make(chan struct{})
			var wg sync.WaitGroup
			if poll {
				wg.Go(func() {
					for {
						select {
						case <-stop:
							return
						default:
						}
						start := time.Now()
						e.ws.Writers("bench")
						callTime.Add(int64(time.Since(start)))
						calls.Add(1)
					}
				})
			}
			n, start := 0, time.Now()
			for time.Since(start) < 300*time.Millisecond {
				ts++
				if err := write(h, body("svc-0", 0, perWrite, ts), 200); err != nil {
					b.Fatal(err)
				}
				n++
			}
			d := time.Since(start) / time.Duration(n)
			close(stop)
			wg.Wait()
			best := &alone
			if poll {
				best = &with
			}
			if round == 0 || d < *best {
				*best = d
			}
		}
	}
	for b.Loop() {
	}
	b.ReportMetric(float64(with)/float64(alone), "with-writers/alone")
	b.ReportMetric(float64(callTime.Load())/float64(max(calls.Load(), 1)), "ns/Writers")
	b.Logf("best per write of %d series: alone %v, while Writers is called %v; %d Writers calls, %v each",
		perWrite, alone, with, calls.Load(), time.Duration(callTime.Load()/max(calls.Load(), 1)))
}
