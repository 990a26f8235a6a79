package workspace_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
	"github.com/rwkit/rwkit/workspace"
)

// Load test knobs (environment). The defaults are the CI variant; the full
// size of the project's issue 7 is
//
//	RWKIT_LOAD_DURATION=60s RWKIT_LOAD_SERIES=10000 go test -run TestLoad -v -timeout 30m ./workspace
const (
	envLoadDuration = "RWKIT_LOAD_DURATION" // default 15s
	envLoadWriters  = "RWKIT_LOAD_WRITERS"  // default 50
	envLoadSeries   = "RWKIT_LOAD_SERIES"   // series per writer, default 1000
)

type loadConfig struct {
	duration time.Duration
	writers  int
	series   int
	// plantEvery is the period of the planted refusals.
	plantEvery time.Duration
}

func loadConfigFromEnv(t *testing.T) loadConfig {
	t.Helper()
	c := loadConfig{duration: 15 * time.Second, writers: 50, series: 1000, plantEvery: 250 * time.Millisecond}
	if v := os.Getenv(envLoadDuration); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("%s=%q: want a positive duration such as 60s", envLoadDuration, v)
		}
		c.duration = d
	}
	for _, e := range []struct {
		name string
		dst  *int
	}{{envLoadWriters, &c.writers}, {envLoadSeries, &c.series}} {
		if v := os.Getenv(e.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				t.Fatalf("%s=%q: want a positive integer", e.name, v)
			}
			*e.dst = n
		}
	}
	return c
}

// attempt is one HTTP attempt as the client saw it.
type attempt struct {
	status int // 0: no answer
	d      time.Duration
}

// timingTransport records every attempt of one client (one connection:
// each client has its own transport, and a client sends one request at a
// time).
type timingTransport struct {
	next http.RoundTripper
	mu   sync.Mutex
	log  []attempt
}

func newTimingTransport() *timingTransport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 4
	return &timingTransport{next: tr}
}

func (tt *timingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := tt.next.RoundTrip(r)
	a := attempt{d: time.Since(start)}
	if err == nil {
		a.status = resp.StatusCode
	}
	tt.mu.Lock()
	tt.log = append(tt.log, a)
	tt.mu.Unlock()
	return resp, err
}

func (tt *timingTransport) attempts() []attempt {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return slices.Clone(tt.log)
}

// loadClient is one writer: its identity, its client and what it was told.
type loadClient struct {
	service  string
	client   *remotewrite.Client
	tr       *timingTransport
	sent     int // samples in answered requests
	accepted int // samples the answers say were stored
	refused  int // samples the answers say were refused (planted)
	writes   int
	lastTs   int64
	// stored: the timestamps of the valid samples of planted writes, by
	// series selector, to name the missing ones on a mismatch.
	stored map[string][]int64
}

func newLoadClient(t *testing.T, e *env, service string) *loadClient {
	t.Helper()
	tr := newTimingTransport()
	// No retries: every attempt is answered exactly once and counted once,
	// so the workspace's counters must equal the clients' tallies.
	c, err := remotewrite.New(e.srv.URL+"/workspaces/load/api/v1/remote_write",
		remotewrite.WithTransport(tr),
		remotewrite.WithRetry(time.Millisecond, time.Millisecond, 1),
		remotewrite.WithUserAgent("rwkit-load/"+service))
	if err != nil {
		t.Fatal(err)
	}
	return &loadClient{service: service, client: c, tr: tr}
}

// nextTs is the wall clock, strictly after the writer's previous
// timestamp (plus gap-1 ms for samples in between).
func (c *loadClient) nextTs(gap int64) int64 {
	ts := max(time.Now().UnixMilli(), c.lastTs+1)
	c.lastTs = ts + gap - 1
	return ts
}

// write sends req; refused is how many of its samples the test planted to
// be refused with reason (Unknown: none). It returns an error for any
// other answer.
func (c *loadClient) write(req *wire.WriteRequest, refused int, reason validate.Reason, discardLine string) error {
	n := 0
	for i := range req.Series {
		n += len(req.Series[i].Samples)
	}
	c.writes++
	res, err := c.client.Write(context.Background(), req)
	if refused == 0 {
		if err != nil {
			return err
		}
		c.sent += res.Samples
		c.accepted += res.Samples
		return nil
	}
	var rwErr *remotewrite.Error
	if !errors.As(err, &rwErr) || rwErr.StatusCode != http.StatusBadRequest || rwErr.Reason != reason ||
		!strings.Contains(rwErr.Body, discardLine) || res.Requests != 0 || rwErr.Requests != 1 {
		return fmt.Errorf("planted %d %s refusals: want one 400 with %q, got %v (result %v)", refused, reason, discardLine, err, res)
	}
	c.sent += n
	c.accepted += n - refused
	c.refused += refused
	return nil
}

// TestLoad pushes from many writers at once for a while, with refusals
// planted at known places, and then checks that the workspace stored every
// sample the answers said it stored, and counted exactly the planted
// discards. It logs the throughput and the request latency the clients saw.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: skipped with -short")
	}
	cfg := loadConfigFromEnv(t)
	lim, err := validate.Profile("amp")
	if err != nil {
		t.Fatal(err)
	}
	// Measure the workspace, not AMP's 70,000 samples/s rate limit (its
	// 429s are covered by the limits tests).
	lim.IngestionRate = 0
	// Each writer has at most one request in flight, so none is shed (503):
	// every attempt is decoded and counted exactly once.
	const planters = 4
	// Every series stays tracked, so every collision names both writers:
	// past WithMaxTrackedSeries (default 262144) the least recently written
	// are forgotten, and at 500k series load_shared is forgotten between
	// collider-a's write and collider-c's, less than a second apart.
	e := newEnvLimits(t, lim, workspace.WithMaxConcurrentWrites(cfg.writers+planters),
		workspace.WithMaxTrackedSeries(max(262144, 2*cfg.writers*cfg.series)))

	ctx, cancel := context.WithTimeout(context.Background(), cfg.duration)
	defer cancel()
	start := time.Now()

	// The load: writer i owns series load_m{j%10}{service="svc-i",
	// instance="host-i:9100", series="j"} and writes one sample to each per
	// round, at increasing timestamps, until the duration is up. The last
	// write is not cut short.
	writers := make([]*loadClient, cfg.writers)
	rounds := make([]int, cfg.writers)
	errs := make(chan error, cfg.writers+planters)
	var wg sync.WaitGroup
	for i := range writers {
		w := newLoadClient(t, e, fmt.Sprintf("svc-%02d", i))
		writers[i] = w
		req := &wire.WriteRequest{Series: make([]wire.TimeSeries, cfg.series)}
		samples := make([]wire.Sample, cfg.series)
		for j := range req.Series {
			req.Series[j] = wire.TimeSeries{
				Labels: []wire.Label{
					{Name: "__name__", Value: "load_m" + strconv.Itoa(j%10)},
					{Name: "instance", Value: fmt.Sprintf("host-%02d:9100", i)},
					{Name: "series", Value: strconv.Itoa(j)},
					{Name: "service", Value: w.service},
				},
				Samples: samples[j : j+1 : j+1],
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; ctx.Err() == nil; r++ {
				ts := w.nextTs(1)
				for j := range samples {
					samples[j] = wire.Sample{Value: float64(r*cfg.series + j), Timestamp: ts}
				}
				if err := w.write(req, 0, validate.Unknown, ""); err != nil {
					errs <- fmt.Errorf("writer %s round %d: %w", w.service, r, err)
					return
				}
				rounds[i] = r + 1
			}
		}()
	}

	// Planted new-value-for-timestamp: collider-a writes load_shared at a
	// timestamp, then collider-b and collider-c write other values at the
	// same timestamp, each with a valid sample of its own first (partial
	// ingestion: the request is answered 400 and its valid sample stored).
	// One goroutine drives the three, so who is first is never in doubt.
	colliders := []*loadClient{newLoadClient(t, e, "collider-a"), newLoadClient(t, e, "collider-b"), newLoadClient(t, e, "collider-c")}
	// Planted label_value_too_long: two series with a 2049-byte label value
	// (AMP's limit is 2048), one with one sample and one with two, next to
	// a valid series. Cortex counts a series refused for its labels once,
	// whatever its samples; the answer counts the samples.
	bad := newLoadClient(t, e, "badlabels")
	var collisions, badWrites atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(cfg.plantEvery)
		defer tick.Stop()
		long := strings.Repeat("x", lim.MaxLabelValueLength+1)
		for k := 0; ; k++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			ts := colliders[0].nextTs(1)
			for ci, c := range colliders {
				req := &wire.WriteRequest{Series: []wire.TimeSeries{
					series(float64(k), ts, "__name__", "load_collider", "service", c.service),
					series(float64(k)+float64(ci)/4, ts, "__name__", "load_shared", "series", "shared"),
				}}
				refused, reason := 0, validate.Unknown
				if ci > 0 {
					refused, reason = 1, validate.NewValueForTimestamp
				}
				if err := c.write(req, refused, reason, "rwkit: discarded 1 samples: new-value-for-timestamp=1"); err != nil {
					errs <- fmt.Errorf("collider %s planting %d: %w", c.service, k, err)
					return
				}
				c.keep(fmt.Sprintf(`load_collider{service=%q}`, c.service), ts)
				if ci == 0 {
					c.keep(`load_shared`, ts)
				}
			}
			collisions.Add(1)

			ts = bad.nextTs(2)
			two := series(1, ts, "__name__", "load_bad", "path", long, "samples", "2", "service", bad.service)
			two.Samples = append(two.Samples, wire.Sample{Value: 2, Timestamp: ts + 1})
			req := &wire.WriteRequest{Series: []wire.TimeSeries{
				series(float64(k), ts, "__name__", "load_bad", "path", "/ok", "service", bad.service),
				series(1, ts, "__name__", "load_bad", "path", long, "samples", "1", "service", bad.service),
				two,
			}}
			if err := bad.write(req, 3, validate.LabelValueTooLong, "rwkit: discarded 3 samples: label_value_too_long=3"); err != nil {
				errs <- fmt.Errorf("badlabels planting %d: %w", k, err)
				return
			}
			bad.keep(`load_bad{path="/ok"}`, ts)
			badWrites.Add(1)
		}
	}()
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	all := append(append(slices.Clone(writers), colliders...), bad)
	// Queries run at or after every timestamp written: a writer's
	// timestamps may run a millisecond or two ahead of the wall clock
	// (nextTs keeps them strictly increasing), e.g. when a late tick plants
	// twice within a millisecond once the load writers have stopped.
	end := time.Now().UnixMilli()
	for _, c := range all {
		end = max(end, c.lastTs)
	}

	// What the clients were told.
	var sent, accepted, refused, loadAccepted int
	for _, c := range all {
		sent += c.sent
		accepted += c.accepted
		refused += c.refused
	}
	for _, w := range writers {
		loadAccepted += w.accepted
	}
	P, Q := int(collisions.Load()), int(badWrites.Load())
	if P == 0 || Q == 0 {
		t.Fatalf("no refusal planted in %s (collisions %d, bad labels %d)", cfg.duration, P, Q)
	}

	// Every attempt got an answer: 200, or 400 where planted.
	var lat, lat200, lat400 []time.Duration
	codes := map[int]int{}
	for _, c := range all {
		for _, a := range c.tr.attempts() {
			codes[a.status]++
			lat = append(lat, a.d)
			switch a.status {
			case http.StatusOK:
				lat200 = append(lat200, a.d)
			case http.StatusBadRequest:
				lat400 = append(lat400, a.d)
			}
		}
	}
	if want := map[int]int{http.StatusOK: len(lat) - 2*P - Q, http.StatusBadRequest: 2*P + Q}; !maps.Equal(codes, want) {
		t.Errorf("answers by status = %v, want %v (no 503, no network error)", codes, want)
	}

	// The workspace's own counters against the clients' knowledge.
	for _, c := range []struct {
		name string
		want int
	}{
		{"rwkit_received_samples_total", sent},
		{"rwkit_accepted_samples_total", accepted},
	} {
		if got := metric(t, e, c.name, "workspace", "load"); got != float64(c.want) {
			t.Errorf("%s = %v, want %d", c.name, got, c.want)
		}
	}
	if sent-accepted != refused || refused != 2*P+3*Q {
		t.Errorf("clients: sent %d, accepted %d, refused %d; want refused = 2x%d collisions + 3x%d bad-label samples", sent, accepted, refused, P, Q)
	}
	for code, want := range map[string]int{"200": codes[http.StatusOK], "400": codes[http.StatusBadRequest]} {
		if got := metric(t, e, "rwkit_remote_write_requests_total", "code", code, "workspace", "load"); got != float64(want) {
			t.Errorf("rwkit_remote_write_requests_total{code=%q} = %v, want %d", code, got, want)
		}
	}
	// Discards are exactly the planted ones: 1 per refused collision
	// sample, 1 per series refused for its labels (Cortex's count).
	wantDiscards := fmt.Sprintf(`
# HELP rwkit_discarded_samples_total Samples refused, by Cortex's reason (the Reason dimension of AMP's DiscardedSamples).
# TYPE rwkit_discarded_samples_total counter
rwkit_discarded_samples_total{reason="label_value_too_long",workspace="load"} %d
rwkit_discarded_samples_total{reason="new-value-for-timestamp",workspace="load"} %d
`, 2*Q, 2*P)
	if err := testutil.GatherAndCompare(e.reg, strings.NewReader(wantDiscards), "rwkit_discarded_samples_total"); err != nil {
		t.Errorf("discards: %v", err)
	}
	if got := metric(t, e, "rwkit_collisions_total", "kind", workspace.KindNewValueForTimestamp, "workspace", "load"); got != float64(2*P) {
		t.Errorf("rwkit_collisions_total{kind=new-value-for-timestamp} = %v, want %d", got, 2*P)
	}
	if got := metric(t, e, "rwkit_collisions_total", "kind", workspace.KindAlternatingWriters, "workspace", "load"); got != 0 {
		t.Errorf("rwkit_collisions_total{kind=alternating-writers} = %v, want 0", got)
	}
	groups := map[string]int64{}
	for _, c := range e.collisions(t, "load") {
		if c.ExistingWriter == nil {
			t.Errorf("collision without the existing writer: %+v", c)
			continue
		}
		groups[c.Kind+" "+c.Series["__name__"]+" "+c.ExistingWriter.Labels["service"]+"->"+c.NewWriter.Labels["service"]] = c.Count
	}
	wantGroups := map[string]int64{
		"new-value-for-timestamp load_shared collider-a->collider-b": int64(P),
		"new-value-for-timestamp load_shared collider-a->collider-c": int64(P),
	}
	if !maps.Equal(groups, wantGroups) {
		t.Errorf("collision groups = %v, want %v", groups, wantGroups)
	}

	// Every accepted sample is queryable: per writer, and in total.
	for _, c := range all {
		q := fmt.Sprintf(`sum(count_over_time({__name__=~"load_.*",service=%q}[2h]))`, c.service)
		want := c.accepted
		if c.service == "collider-a" { // and load_shared, which carries no service
			q = fmt.Sprintf(`sum(count_over_time({__name__=~"load_.*",service=%q}[2h])) + sum(count_over_time(load_shared[2h]))`, c.service)
		}
		if got := e.query(t, "/workspaces/load", q, end)[""]; got != strconv.Itoa(want) {
			t.Errorf("%s: %s = %s, want %d (the samples its answers said were stored)", c.service, q, got, want)
			for sel, tss := range c.stored {
				t.Errorf("%s: %s: missing samples at %v (of %d written)", c.service, sel, missingTimestamps(t, e, sel, tss, end), len(tss))
			}
		}
	}
	// The engine loads the whole range at once; past its 50M samples the
	// per-writer sums above are the check.
	const engineMaxSamples = 50_000_000
	if accepted < engineMaxSamples {
		q := `sum(count_over_time({__name__=~"load_.*"}[2h]))`
		if got := e.query(t, "/workspaces/load", q, end)[""]; got != strconv.Itoa(accepted) {
			t.Errorf("%s = %s, want %d", q, got, accepted)
		}
	}

	totalRounds := 0
	for _, r := range rounds {
		totalRounds += r
	}
	t.Logf("load: %d writers x %d series for %s (%s with the last writes), %d rounds, RW 1.0, at most %d samples per request",
		cfg.writers, cfg.series, cfg.duration, elapsed.Round(time.Millisecond), totalRounds, min(cfg.series, remotewrite.DefaultMaxSamplesPerRequest))
	t.Logf("load: %d samples sent, %d accepted (%.0f samples/s sustained by the load writers), %d refused as planted (%d collisions x 2, %d bad-label writes x 3)",
		sent, accepted, float64(loadAccepted)/elapsed.Seconds(), refused, P, Q)
	t.Logf("load: queried %d samples back, discards %d new-value-for-timestamp + %d label_value_too_long: all as planted", accepted, 2*P, 2*Q)
	t.Logf("load: %-8s %8s %9s %9s %9s %9s", "answer", "requests", "p50", "p90", "p99", "max")
	for _, row := range []struct {
		name string
		d    []time.Duration
	}{{"all", lat}, {"200", lat200}, {"400", lat400}} {
		p := percentiles(row.d, 0.50, 0.90, 0.99, 1)
		t.Logf("load: %-8s %8d %9s %9s %9s %9s", row.name, len(row.d), p[0], p[1], p[2], p[3])
	}
}

func (c *loadClient) keep(selector string, ts int64) {
	if c.stored == nil {
		c.stored = map[string][]int64{}
	}
	c.stored[selector] = append(c.stored[selector], ts)
}

// missingTimestamps returns those of want that selector has no sample at.
func missingTimestamps(t *testing.T, e *env, selector string, want []int64, end int64) []int64 {
	t.Helper()
	resp, err := e.srv.Client().Get(e.srv.URL + "/workspaces/load/api/v1/query?" + url.Values{
		"query": {selector + "[2h]"}, "time": {formatSeconds(end)}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Data struct {
			Result []struct{ Values [][]any }
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	have := map[int64]bool{}
	for _, r := range out.Data.Result {
		for _, v := range r.Values {
			have[int64(math.Round(v[0].(float64)*1000))] = true
		}
	}
	var missing []int64
	for _, ts := range want {
		if !have[ts] {
			missing = append(missing, ts)
		}
	}
	return missing
}

// percentiles returns the nearest-rank percentiles of ds, rounded to 0.1 ms.
func percentiles(ds []time.Duration, ps ...float64) []time.Duration {
	out := make([]time.Duration, len(ps))
	if len(ds) == 0 {
		return out
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	for i, p := range ps {
		k := int(float64(len(s))*p+0.999999) - 1
		out[i] = s[min(max(k, 0), len(s)-1)].Round(100 * time.Microsecond)
	}
	return out
}
