// Command upstream measures what `rwkit serve --upstream` costs a sender
// (issue 20, item 3), in one run:
//
//   - latency: writers each send a service's 1,000 series (RW 1.0, Snappy,
//     a new timestamp per request, keep-alive connections) to a real
//     Prometheus on loopback, in turn directly (a) and through a
//     pass-through workspace in front of the same Prometheus (b); it
//     prints the median and p99 of each, the added latency (b-a) and the
//     ratio (b/a), against the targets of 1 ms and 5 ms; and, to tell the
//     hop from the analysis, (c): through the same workspace for a
//     tenant id it cannot name (ws~unnamed), which it forwards without
//     analysing;
//
//   - memory: a second pass-through workspace (nothing stored locally, in
//     front of a sink that answers 204) gets ever-new series, 1,000 a
//     request, and its resident set is read every tenth of the run.
//
//     go run ./bench/cmd/upstream
//     go run ./bench/cmd/upstream -requests 100 -mem-series 200000   # quicker
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type options struct {
	prometheus, rwkit, out       string
	cpuprofile                   string
	writers, series, requests    int
	burst                        int
	warmup, memSeries, memWriter int
	pause                        time.Duration
	keep                         bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "upstream:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	var o options
	fs := flag.NewFlagSet("upstream", flag.ContinueOnError)
	fs.StringVar(&o.prometheus, "prometheus", defaultPrometheus(), "Prometheus binary, the upstream of the latency phase")
	fs.StringVar(&o.rwkit, "rwkit", "", "rwkit binary (default: go build ./cmd/rwkit of this tree)")
	fs.StringVar(&o.out, "out", "", "also write the report to this file")
	fs.IntVar(&o.writers, "writers", 3, "writers (instances of the service), sending at once")
	fs.IntVar(&o.series, "series", 1000, "series per request")
	fs.IntVar(&o.requests, "rounds", 150, "measured rounds per writer: in each, -burst requests on each path (0: skip the latency phase)")
	fs.IntVar(&o.warmup, "warmup", 15, "rounds per writer before the measured ones")
	fs.IntVar(&o.burst, "burst", 2, "requests sent back to back on one connection, per path and round")
	fs.DurationVar(&o.pause, "pause", 20*time.Millisecond, "pause of each writer after each burst (0: none)")
	fs.IntVar(&o.memSeries, "mem-series", 1000000, "distinct series sent in the memory phase (0: skip it)")
	fs.IntVar(&o.memWriter, "mem-writers", 4, "writers of the memory phase")
	fs.BoolVar(&o.keep, "keep", false, "keep the work directory (logs, data)")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "serve the latency phase's workspace from this process, not rwkit serve, and write a CPU profile of the phase here")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "rwkit-upstream-bench-")
	if err != nil {
		return err
	}
	if !o.keep {
		defer os.RemoveAll(dir)
	}
	if o.rwkit == "" {
		if o.rwkit, err = build(ctx, dir); err != nil {
			return err
		}
	}
	var report strings.Builder
	w := io.MultiWriter(stdout, &report)
	header(w, o)
	if o.requests > 0 {
		if err := latencyPhase(ctx, o, dir, w); err != nil {
			return err
		}
	}
	if o.memSeries > 0 {
		if err := memoryPhase(ctx, o, dir, w); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "load average at the end: %s\n", loadavg())
	if o.out != "" {
		return os.WriteFile(o.out, []byte(report.String()), 0o644)
	}
	return nil
}

func defaultPrometheus() string {
	home, _ := os.UserHomeDir()
	if m, _ := filepath.Glob(filepath.Join(home, ".cache/rwkit/prometheus3-*/prometheus3")); len(m) > 0 {
		return m[0]
	}
	return "/usr/bin/prometheus"
}

func build(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "rwkit")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/rwkit")
	cmd.Dir = moduleRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/rwkit: %v\n%s", err, out)
	}
	return bin, nil
}

func moduleRoot() string {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "."
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

func header(w io.Writer, o options) {
	rev, _ := exec.Command("git", "-C", moduleRoot(), "describe", "--always", "--dirty").Output()
	pv, _ := exec.Command(o.prometheus, "--version").CombinedOutput()
	fmt.Fprintf(w, "go run ./bench/cmd/upstream %s\n", strings.Join(os.Args[1:], " "))
	fmt.Fprintf(w, "date %s, rwkit %s, %s\n", time.Now().UTC().Format(time.RFC3339), strings.TrimSpace(string(rev)), machine())
	fmt.Fprintf(w, "upstream: %s (%s), loopback; load average at the start: %s\n\n", o.prometheus, firstLine(string(pv)), loadavg())
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return strings.TrimSpace(l)
}

func machine() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	model, cpus := "", 0
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			cpus++
			_, model, _ = strings.Cut(l, ":")
		}
	}
	return fmt.Sprintf("%d CPUs (%s)", cpus, strings.TrimSpace(model))
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }

func latencyPhase(ctx context.Context, o options, dir string, w io.Writer) error {
	prom, promURL, err := startPrometheus(ctx, o.prometheus, dir)
	if err != nil {
		return err
	}
	defer prom.stop()
	throughURL, stopWorkspace, err := latencyWorkspace(ctx, o, dir, promURL)
	if err != nil {
		return err
	}
	defer stopWorkspace()
	r := latencyRun{writers: o.writers, series: o.series, requests: o.requests, warmup: o.warmup, pause: o.pause, inBurst: o.burst,
		url: [paths]string{promURL, throughURL, strings.Replace(throughURL, "/workspaces/ws-1/", "/workspaces/ws~unnamed/", 1)}}
	var l *latencies
	measure := func() (err error) { l, err = r.run(ctx); return err }
	if o.cpuprofile != "" {
		err = profiled(o.cpuprofile, measure)
	} else {
		err = measure()
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "latency: %d writers at once, each %d rounds after %d of warm-up; a round: %d requests back to back on one keep-alive connection\n",
		o.writers, o.requests, o.warmup, o.burst)
	fmt.Fprintf(w, "per path, then a pause of %s; %d series per request (RW 1.0, Snappy), a new timestamp each; %d requests per path measured\n",
		o.pause, o.series, len(l.path[direct]))
	printLatency(w, l, o.cpuprofile != "")
	return nil
}

func printLatency(w io.Writer, l *latencies, inProcess bool) {
	var q50, q99 [paths]time.Duration
	for p := range paths {
		q50[p], q99[p] = quantile(l.path[p], 0.5), quantile(l.path[p], 0.99)
	}
	names := [paths]string{"(a) direct to Prometheus", "(b) through rwkit serve", "(c) through, not analysed"}
	if inProcess {
		names[through], names[hopOnly] = "(b) through (in-process)", "(c) through (in-process), not analysed"
	}
	fmt.Fprintf(w, "  %-40s %10s %10s\n", "", "median", "p99")
	for p := range paths {
		fmt.Fprintf(w, "  %-40s %10s %10s\n", names[p], ms(q50[p]), ms(q99[p]))
	}
	a50, a99, b50, b99 := q50[direct], q99[direct], q50[through], q99[through]
	fmt.Fprintf(w, "  %-40s %10s %10s   target <= 1 ms, <= 5 ms: %s, %s\n", "added (b-a)", ms(b50-a50), ms(b99-a99),
		verdict(b50-a50, time.Millisecond), verdict(b99-a99, 5*time.Millisecond))
	fmt.Fprintf(w, "  %-40s %9.2fx %9.2fx\n", "ratio (b/a)", float64(b50)/float64(a50), float64(b99)/float64(a99))
	fmt.Fprintf(w, "  %-40s %10s %10s\n\n", "the hop alone (c-a)", ms(q50[hopOnly]-a50), ms(q99[hopOnly]-a99))
}

// latencyWorkspace starts the latency phase's pass-through: rwkit serve,
// or, with -cpuprofile, a workspace in this process.
func latencyWorkspace(ctx context.Context, o options, dir, promURL string) (string, func(), error) {
	if o.cpuprofile != "" {
		return startInProcess(dir, promURL)
	}
	ws, url, _, err := startPassThrough(ctx, o.rwkit, dir, "latency-workspace", promURL)
	if err != nil {
		return "", nil, err
	}
	return url, ws.stop, nil
}

func verdict(d, target time.Duration) string {
	if d <= target {
		return "met"
	}
	return "MISSED by " + ms(d-target)
}

// memoryPhase sends o.memSeries distinct series through a pass-through
// workspace that stores nothing, and reads its resident set as it goes.
func memoryPhase(ctx context.Context, o options, dir string, w io.Writer) error {
	sinkURL, stopSink, err := sink()
	if err != nil {
		return err
	}
	defer stopSink()
	ws, url, base, err := startPassThrough(ctx, o.rwkit, dir, "memory-workspace", sinkURL)
	if err != nil {
		return err
	}
	defer ws.stop()
	fmt.Fprintf(w, "memory: %d distinct series through a pass-through workspace without --upstream-store (upstream: a sink answering 204),\n", o.memSeries)
	fmt.Fprintf(w, "%d series per request, %d writers at once; resident set after each tenth, once the workspace has read what was sent\n", o.series, o.memWriter)
	fmt.Fprintf(w, "  %12s %10s %10s %14s %16s\n", "series sent", "RSS MB", "peak MB", "samples read", "analyses skipped")
	var next atomic.Int64
	step := max(o.memSeries/10/o.series, 1)
	for target := step; target*o.series <= o.memSeries; target += step {
		if err := churn(ctx, url, &next, int64(target), o); err != nil {
			return err
		}
		read, skipped := caughtUp(ctx, base, int64(target*o.series), o.series)
		rss, hwm, err := memory(ws.pid())
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  %12d %10.1f %10.1f %14.0f %16.0f\n", target*o.series, float64(rss)/1e6, float64(hwm)/1e6, read, skipped)
	}
	fmt.Fprintln(w)
	return nil
}

// churn sends requests numbered from next up to target, each of new series.
func churn(ctx context.Context, url string, next *atomic.Int64, target int64, o options) error {
	var wg sync.WaitGroup
	errs := make(chan error, o.memWriter)
	for i := 0; i < o.memWriter; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := client()
			for k := next.Add(1) - 1; k < target; k = next.Add(1) - 1 {
				b := body(freshSeries(int(k)*o.series, o.series), time.Now().UnixMilli(), int(k))
				if _, err := send(ctx, c, url, fmt.Sprintf("churn-%d", i), b); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	next.Store(target) // each writer took one number past target
	close(errs)
	return <-errs
}

// caughtUp waits (up to 30 s) until the workspace has read sent samples,
// or skipped the analysis of the rest, and returns both counts.
func caughtUp(ctx context.Context, base string, sent int64, perRequest int) (read, skipped float64) {
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		read, _ = metricSum(ctx, base, "rwkit_received_samples_total", "")
		skipped, _ = metricSum(ctx, base, "rwkit_upstream_analyses_skipped_total", "")
		if int64(read)+int64(skipped)*int64(perRequest) >= sent {
			break
		}
	}
	return read, skipped
}

// sink is a remote-write receiver on loopback that reads each body and
// answers 204.
func sink() (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		rw.WriteHeader(http.StatusNoContent)
	})}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String() + "/api/v1/write", func() { _ = srv.Close() }, nil
}
