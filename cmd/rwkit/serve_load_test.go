package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/wire"
)

// restartWriter writes one sample to each of its series per round, at
// increasing timestamps, and moves to the next round only once the round
// is acknowledged (2xx): a failed round is resent as it was (same
// timestamps, same values), as a remote-write client with a WAL does.
type restartWriter struct {
	service string
	client  *remotewrite.Client
	series  int
	every   time.Duration // one round per every

	mu  sync.Mutex
	ts  []int64 // timestamp of round r
	err error   // an answer the test did not expect

	acked     atomic.Int64 // rounds 0..acked-1 got a 2xx
	failures  atomic.Int64 // attempts without a 2xx
	duringOK  atomic.Int64 // writes in flight when the stop began, answered 2xx
	duringErr atomic.Int64 // ... answered with an error
}

func (w *restartWriter) roundTs(r int) int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ts[r]
}

func (w *restartWriter) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = err
	}
}

func (w *restartWriter) run(ctx context.Context, stopping *atomic.Bool) {
	req := &wire.WriteRequest{Series: make([]wire.TimeSeries, w.series)}
	samples := make([]wire.Sample, w.series)
	for j := range req.Series {
		req.Series[j] = wire.TimeSeries{
			Labels: []wire.Label{
				{Name: "__name__", Value: "load_restart"},
				{Name: "instance", Value: w.service + ":9100"},
				{Name: "series", Value: strconv.Itoa(j)},
				{Name: "service", Value: w.service},
			},
			Samples: samples[j : j+1 : j+1],
		}
	}
	var last int64
	next := time.Now()
	for r := 0; ctx.Err() == nil; r++ {
		// Paced under AMP's ingestion rate (a 429 stores nothing and is
		// resent, but this test is about stopping, not throttling).
		time.Sleep(time.Until(next))
		next = next.Add(w.every)
		ts := max(time.Now().UnixMilli(), last+1)
		last = ts
		w.mu.Lock()
		w.ts = append(w.ts, ts)
		w.mu.Unlock()
		for j := range samples {
			samples[j] = wire.Sample{Value: float64(r), Timestamp: ts}
		}
		for {
			before := stopping.Load()
			res, err := w.client.Write(context.Background(), req)
			during := !before && stopping.Load()
			if err == nil {
				if u := res.Unconfirmed; u.Samples != 0 {
					w.fail(fmt.Errorf("round %d: 2xx without %d of its samples written (RW %s)", r, u.Samples, res.Version))
					return
				}
				if during {
					w.duringOK.Add(1)
				}
				w.acked.Store(int64(r + 1))
				break
			}
			if during {
				w.duringErr.Add(1)
			}
			w.failures.Add(1)
			// No answer (the server is down), a 5xx or a 429: resend. Any
			// other 4xx is a refusal this test never plants.
			var rwErr *remotewrite.Error
			if errors.As(err, &rwErr) && rwErr.StatusCode >= 400 && !rwErr.Retryable() {
				w.fail(fmt.Errorf("round %d: %w", r, err))
				return
			}
			if ctx.Err() != nil {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// countValues runs count_values("n", q) at ts (ms) on base and returns
// series count by value.
func countValues(t *testing.T, base, q string, ts int64) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, r := range instantQuery(t, base, `count_values("n", `+q+`)`, ts) {
		got[r.Metric["n"]] = r.Value[1].(string)
	}
	return got
}

// checkAcked checks that every series of every writer holds exactly the
// rounds the writer had acknowledged when snapshot was taken: queried at
// the timestamp of the last acknowledged round, count_over_time counts
// rounds 0..n-1, and only those (later rounds have later timestamps).
func checkAcked(t *testing.T, base, when string, writers []*restartWriter, snapshot []int64) {
	t.Helper()
	for i, w := range writers {
		n := snapshot[i]
		if n == 0 {
			continue
		}
		q := fmt.Sprintf(`count_over_time(load_restart{service=%q}[1h])`, w.service)
		got := countValues(t, base, q, w.roundTs(int(n-1)))
		want := map[string]string{strconv.FormatInt(n, 10): strconv.Itoa(w.series)}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s, %s: series by samples stored = %v, want %v (%d acknowledged rounds x %d series)", when, w.service, got, want, n, w.series)
		}
	}
}

func snapshotAcked(writers []*restartWriter) []int64 {
	s := make([]int64, len(writers))
	for i, w := range writers {
		s[i] = w.acked.Load()
	}
	return s
}

// waitAcked waits until every writer has more than floor[i] acknowledged
// rounds.
func waitAcked(t *testing.T, writers []*restartWriter, floor []int64, what string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for i, w := range writers {
		for w.acked.Load() <= floor[i] {
			if time.Now().After(deadline) {
				t.Fatalf("%s: writer %s has %d acknowledged rounds after 60s, want more than %d", what, w.service, w.acked.Load(), floor[i])
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// TestLoadServeRestart stops `rwkit serve` (as SIGTERM does) while writers
// push to it, restarts it on the same --data and address, and checks that
// every write answered 2xx, before or during the stop, is there after the
// restart, and that the writers carry on against the restarted server.
func TestLoadServeRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: skipped with -short")
	}
	const (
		writers  = 16
		series   = 100
		every    = 50 * time.Millisecond // 16 x 100 x 20/s = 32,000 samples/s, under AMP's 70,000
		phase    = time.Second
		restarts = 3
	)
	data := t.TempDir()
	addr, stop := startServe(t, "--data", data, "--limits", "amp")
	base := "http://" + addr + "/workspaces/load"

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stopping atomic.Bool
	ws := make([]*restartWriter, writers)
	var wg sync.WaitGroup
	for i := range ws {
		version := wire.V1
		if i%2 == 1 {
			version = wire.V2
		}
		w := &restartWriter{service: fmt.Sprintf("w%02d", i), series: series, every: every}
		// One attempt per Write: the writer resends failed rounds itself,
		// after the restart too.
		c, err := remotewrite.New(base+"/api/v1/remote_write",
			remotewrite.WithVersion(version),
			remotewrite.WithRetry(time.Millisecond, time.Millisecond, 1),
			remotewrite.WithHTTPClient(&http.Client{Timeout: 20 * time.Second, Transport: http.DefaultTransport.(*http.Transport).Clone()}))
		if err != nil {
			t.Fatal(err)
		}
		w.client = c
		ws[i] = w
		wg.Add(1)
		go func() { defer wg.Done(); w.run(ctx, &stopping) }()
	}
	stopWriters := sync.OnceFunc(func() {
		cancel()
		wg.Wait()
		for _, w := range ws {
			if w.err != nil {
				t.Errorf("writer %s: %v", w.service, w.err)
			}
		}
	})
	defer stopWriters()

	var stopTook, ackedAtStop []string
	floor := make([]int64, writers)
	for cycle := 1; cycle <= restarts; cycle++ {
		time.Sleep(phase)
		waitAcked(t, ws, floor, fmt.Sprintf("before stop %d", cycle))
		stopping.Store(true)
		began := time.Now()
		stop()
		stopTook = append(stopTook, time.Since(began).Round(time.Millisecond).String())
		acked := snapshotAcked(ws)
		var n int64
		for _, a := range acked {
			n += a
		}
		ackedAtStop = append(ackedAtStop, strconv.FormatInt(n, 10))
		time.Sleep(300 * time.Millisecond) // the writers meet a closed port

		var addr2 string
		addr2, stop = startServe(t, "--data", data, "--limits", "amp", "--listen", addr)
		if addr2 != addr {
			t.Fatalf("restart %d on %s, want %s", cycle, addr2, addr)
		}
		stopping.Store(false)
		checkAcked(t, base, fmt.Sprintf("after restart %d", cycle), ws, acked)
		// The writers carry on against the restarted server.
		floor = snapshotAcked(ws)
		waitAcked(t, ws, floor, fmt.Sprintf("after restart %d", cycle))
	}
	time.Sleep(phase)
	stopWriters()
	final := snapshotAcked(ws)
	checkAcked(t, base, "at the end", ws, final)

	// Resending a round that was stored but not acknowledged writes the same
	// values at the same timestamps: a duplicate, not a discard.
	_, metrics := get(t, "http://"+addr+"/metrics")
	for _, line := range strings.Split(metrics, "\n") {
		if strings.HasPrefix(line, "rwkit_discarded_samples_total{") {
			t.Errorf("after the last restart: %s", line)
		}
	}

	var rounds, failures, duringOK, duringErr int64
	for i, w := range ws {
		rounds += final[i]
		failures += w.failures.Load()
		duringOK += w.duringOK.Load()
		duringErr += w.duringErr.Load()
	}
	t.Logf("restart: %d writers (RW 1.0 and 2.0) x %d series, a round every %s each; %d stops (took %s), each checked after its restart",
		writers, series, every, restarts, strings.Join(stopTook, ", "))
	t.Logf("restart: rounds acknowledged when each stop ended: %s, all found after its restart; %d in all (%d samples), all found at the end",
		strings.Join(ackedAtStop, ", "), rounds, rounds*series)
	t.Logf("restart: writes in flight when a stop began: %d answered 2xx (stored), %d failed (resent); %d failed attempts in all, resent",
		duringOK, duringErr, failures)
}
