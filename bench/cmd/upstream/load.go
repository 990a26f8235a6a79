package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/rwkit/rwkit/wire"
)

// serviceSeries are the n series one instance of a service exposes: 40
// metric names, each with route and code labels, the instance's own
// instance label (sorted by name, as senders send them).
func serviceSeries(instance string, n int) []wire.TimeSeries {
	out := make([]wire.TimeSeries, n)
	for i := range out {
		out[i] = wire.TimeSeries{Labels: []wire.Label{
			{Name: "__name__", Value: fmt.Sprintf("checkout_metric_%02d_total", i%40)},
			{Name: "code", Value: strconv.Itoa(200 + (i/40)%5*100)},
			{Name: "instance", Value: instance},
			{Name: "job", Value: "checkout"},
			{Name: "namespace", Value: "shop"},
			{Name: "route", Value: fmt.Sprintf("/api/route/%d", i/200)},
		}, Samples: make([]wire.Sample, 1)}
	}
	return out
}

// freshSeries are n series never sent before: each has its own id label.
func freshSeries(first, n int) []wire.TimeSeries {
	out := make([]wire.TimeSeries, n)
	for i := range out {
		out[i] = wire.TimeSeries{Labels: []wire.Label{
			{Name: "__name__", Value: fmt.Sprintf("fresh_metric_%02d", i%40)},
			{Name: "id", Value: strconv.Itoa(first + i)},
			{Name: "job", Value: "churn"},
		}, Samples: make([]wire.Sample, 1)}
	}
	return out
}

// body is series with one sample each at ts, as one RW 1.0 Snappy body.
func body(series []wire.TimeSeries, ts int64, k int) []byte {
	for i := range series {
		series[i].Samples[0] = wire.Sample{Timestamp: ts, Value: float64(k * (i%7 + 1))}
	}
	return wire.Compress(nil, wire.AppendWriteRequest(nil, &wire.WriteRequest{Series: series}))
}

// client is one writer's connection to one URL: keep-alive, as
// remote-write senders keep theirs.
func client() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 4
	tr.DisableCompression = true
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// send posts one write and reads the whole answer; it returns the time
// the sender waited, from the request to the answer's last byte.
func send(ctx context.Context, c *http.Client, url, agent string, b []byte) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	req.Header.Set("User-Agent", agent)
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	answer, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode/100 != 2 {
		return 0, fmt.Errorf("%s answered %d: %.200s", url, resp.StatusCode, answer)
	}
	return d, nil
}

// Paths of the latency phase: directly to the upstream (a), through the
// pass-through (b), and through it for a workspace it cannot name (c: a
// tenant id it refuses, so the write is forwarded and not analysed),
// which shows what the hop alone costs.
const (
	direct = iota
	through
	hopOnly
	paths
)

// latencies are the waits of the requests sent on each path.
type latencies struct {
	mu   sync.Mutex
	path [paths][]time.Duration
}

func (l *latencies) add(path int, d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.path[path] = append(l.path[path], d)
}

// quantile is the nearest-rank q-quantile of ds.
func quantile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	i := int(q*float64(len(s))+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// latencyRun is the latency phase's settings.
type latencyRun struct {
	writers, series, requests, warmup int
	inBurst                           int
	pause                             time.Duration
	url                               [paths]string
}

// run has each writer send its series, one request at a time, in
// rounds: on each path, in turn first, each request with a new
// timestamp.
func (r latencyRun) run(ctx context.Context) (*latencies, error) {
	l := &latencies{}
	errs := make(chan error, r.writers)
	var wg sync.WaitGroup
	for w := 0; w < r.writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- r.writer(ctx, w, l)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return l, nil
}

func (r latencyRun) writer(ctx context.Context, w int, l *latencies) error {
	series := serviceSeries(fmt.Sprintf("10.0.1.%d:8080", w+1), r.series)
	var clients [paths]*http.Client
	for p := range clients {
		clients[p] = client()
	}
	var last int64
	for k := 0; k < r.warmup+r.requests; k++ {
		for j := 0; j < paths; j++ {
			p := (k + j + w) % paths
			if err := r.burst(ctx, clients[p], w, p, k, series, &last, l); err != nil {
				return err
			}
			time.Sleep(r.pause)
		}
	}
	return nil
}

// burst sends r.inBurst requests of round k on path p back to back, on one
// keep-alive connection as a sender's shard does, so that a request the
// workspace is still busy with delays the next.
func (r latencyRun) burst(ctx context.Context, c *http.Client, w, p, k int, series []wire.TimeSeries, last *int64, l *latencies) error {
	agent := fmt.Sprintf("checkout-%d (upstream bench)", w+1)
	for range r.inBurst {
		*last = max(time.Now().UnixMilli(), *last+1)
		d, err := send(ctx, c, r.url[p], agent, body(series, *last, k))
		if err != nil {
			return fmt.Errorf("writer %d, round %d: %w", w+1, k, err)
		}
		if k >= r.warmup {
			l.add(p, d)
		}
	}
	return nil
}
