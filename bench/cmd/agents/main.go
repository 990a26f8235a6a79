// Command agents puts scraping agents side by side on one machine in one
// run: vmagent (VictoriaMetrics v1.151.0, built by scripts/backend),
// Prometheus in agent mode (Debian's /usr/bin/prometheus) and `rwkit
// agent` (built from this tree), each alone, scraping one generated
// target every 5 s and remote-writing RW 1.0 with Snappy to a receiver
// that counts and discards the bodies; then `rwkit push --file` and
// `rwkit collide` on generated 50 MB expositions.
//
//	go run ./bench/cmd/agents                      # 10k, 100k, 1M series; 20 s warm-up, 60 s window each
//	go run ./bench/cmd/agents -sizes 10k,100k -out bench/results/agents-DATE.txt
//	go run ./bench/cmd/agents -quick               # smoke run: 10k series, 6 s + 10 s, 5 MB files
//
// Per agent and size it prints CPU time per scraped series (utime+stime
// from /proc/PID/stat over the window, over the series of the scrapes the
// target served in it), peak RSS (VmHWM from /proc/PID/status), bytes and
// requests received, and the ratios to vmagent. An agent that scraped or
// sent nothing (or less than 1 byte per scraped sample, or not Snappy) gets
// FAILED and a reason instead of figures, and the command exits 1.
// bench/README.md ("Agents side by side") has the recorded runs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

type options struct {
	sizes                    []int
	interval, warmup, window time.Duration
	fileBytes                int64
	agents                   []string
	vmagent, prometheus      string
	rwkit                    string
	workdir                  string
	targetBase, writeBase    string
}

func main() {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "agents:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("agents", flag.ContinueOnError)
	sizes := fs.String("sizes", "10k,100k,1M", "target sizes in series, comma-separated (k and M suffixes)")
	interval := fs.Duration("interval", 5*time.Second, "scrape interval (and timeout) of every agent")
	warmup := fs.Duration("warmup", 20*time.Second, "time each agent runs before the window")
	window := fs.Duration("window", 60*time.Second, "measured time of each agent")
	fileMB := fs.Int("file-mb", 50, "size in MB of the expositions for rwkit push --file and collide (0: skip them)")
	agentList := fs.String("agents", "vmagent,prometheus-agent,rwkit-agent", "agents to run, in this order")
	quick := fs.Bool("quick", false, "smoke run: -sizes 10k -warmup 6s -window 10s -file-mb 5, unless given")
	vmagentBin := fs.String("vmagent", os.Getenv("RWKIT_VMAGENT_BIN"), "vmagent binary (default: $RWKIT_VMAGENT_BIN, else ./scripts/backend build vmagent)")
	promBin := fs.String("prometheus", "/usr/bin/prometheus", "Prometheus 2.x binary, run with --enable-feature=agent")
	rwkitBin := fs.String("rwkit", "", "rwkit binary (default: go build ./cmd/rwkit of this tree)")
	out := fs.String("out", "", "also write the report to this file")
	keep := fs.Bool("keep", false, "keep the work directory (agents' logs, configurations, expositions)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *quick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for name, v := range map[string]string{"sizes": "10k", "warmup": "6s", "window": "10s", "file-mb": "5"} {
			if !set[name] {
				fs.Set(name, v)
			}
		}
	}
	o := options{interval: *interval, warmup: *warmup, window: *window, fileBytes: int64(*fileMB) * 1e6,
		vmagent: *vmagentBin, prometheus: *promBin, rwkit: *rwkitBin}
	var err error
	if o.sizes, err = parseSizes(*sizes); err != nil {
		return fmt.Errorf("-sizes: %w", err)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"-interval", o.interval}, {"-warmup", o.warmup}, {"-window", o.window}} {
		if d.v <= 0 {
			return fmt.Errorf("%s %s: want a positive duration", d.name, d.v)
		}
	}
	if o.window < 2*o.interval {
		return fmt.Errorf("-window %s: want at least two -interval (%s) so that every agent scrapes in it", o.window, o.interval)
	}
	if *fileMB < 0 {
		return fmt.Errorf("-file-mb %d: want 0 (skip) or more", *fileMB)
	}
	for a := range strings.SplitSeq(*agentList, ",") {
		switch a {
		case "vmagent", "prometheus-agent", "rwkit-agent":
			o.agents = append(o.agents, a)
		default:
			return fmt.Errorf("-agents: unknown agent %q (want vmagent, prometheus-agent, rwkit-agent)", a)
		}
	}

	root, err := moduleRoot()
	if err != nil {
		return err
	}
	if o.workdir, err = os.MkdirTemp("", "rwkit-agents-bench-"); err != nil {
		return err
	}
	if *keep {
		fmt.Fprintln(os.Stderr, "agents: work directory", o.workdir)
	}
	err = o.findBinaries(ctx, root)
	if err == nil {
		err = o.report(ctx, root, *out, stdout)
	}
	switch {
	case errors.Is(err, errAgents) && !*keep:
		fmt.Fprintln(os.Stderr, "agents: kept the work directory for the failed agents' logs:", o.workdir)
	case !*keep:
		os.RemoveAll(o.workdir)
	}
	return err
}

// report runs the benchmark and prints its report to stdout and the file
// out (when given).
func (o options) report(ctx context.Context, root, out string, stdout io.Writer) error {
	w := stdout
	if out != "" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = io.MultiWriter(stdout, f)
	}
	return bench(ctx, o, root, w)
}

// findBinaries builds or checks the three agents' binaries.
func (o *options) findBinaries(ctx context.Context, root string) error {
	needs := map[string]bool{}
	for _, a := range o.agents {
		needs[a] = true
	}
	if needs["vmagent"] && o.vmagent == "" {
		progress("building vmagent (./scripts/backend build vmagent; cached after the first time)")
		cmd := exec.CommandContext(ctx, filepath.Join(root, "scripts", "backend"), "build", "vmagent")
		cmd.Dir, cmd.Stderr = root, os.Stderr
		b, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("./scripts/backend build vmagent: %w", err)
		}
		lines := strings.Fields(string(b))
		if len(lines) == 0 {
			return errors.New("./scripts/backend build vmagent printed no path")
		}
		o.vmagent = lines[len(lines)-1]
	}
	if o.rwkit == "" {
		progress("building rwkit from this tree (go build ./cmd/rwkit)")
		o.rwkit = filepath.Join(o.workdir, "rwkit")
		cmd := exec.CommandContext(ctx, "go", "build", "-o", o.rwkit, "./cmd/rwkit")
		cmd.Dir, cmd.Stdout, cmd.Stderr = root, os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go build ./cmd/rwkit: %w", err)
		}
	}
	for flagName, bin := range map[string]string{"-vmagent": o.vmagent, "-prometheus": o.prometheus, "-rwkit": o.rwkit} {
		if bin == "" || (flagName == "-vmagent" && !needs["vmagent"]) || (flagName == "-prometheus" && !needs["prometheus-agent"]) {
			continue
		}
		if st, err := os.Stat(bin); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			return fmt.Errorf("%s %s: not an executable file", flagName, bin)
		}
	}
	return nil
}

func bench(ctx context.Context, o options, root string, w io.Writer) error {
	rg := &rig{}
	var stop func()
	var err error
	if o.targetBase, o.writeBase, stop, err = rg.listen(); err != nil {
		return err
	}
	defer stop()

	agents := map[string]agent{"vmagent": vmagentAgent(o.vmagent), "prometheus-agent": prometheusAgent(o.prometheus), "rwkit-agent": rwkitAgent(o.rwkit)}
	fmt.Fprintf(w, "Agents side by side (go run ./bench/cmd/agents %s)\n", strings.Join(os.Args[1:], " "))
	fmt.Fprintf(w, "  %s; %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"), machine())
	fmt.Fprintf(w, "  rwkit %s; vmagent %s; %s\n", revision(root), o.vmagentVersion(), firstLine(o.prometheus, "--version"))
	fmt.Fprintf(w, "  scrape interval and timeout %s; each agent alone: %s warm-up, then a %s window; RW 1.0 + Snappy to a discarding receiver\n\n",
		o.interval, o.warmup, o.window)

	var results []agentResult
	for _, n := range o.sizes {
		body, series := exposition(n)
		for _, name := range o.agents {
			progress(fmt.Sprintf("%s, %d series (%.1f MB), %s + %s", name, series, mb(int64(len(body))), o.warmup, o.window))
			r := measure(ctx, rg, agents[name], body, series, o)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if r.err != nil {
				progress(fmt.Sprintf("%s FAILED: %v", name, r.err))
			}
			results = append(results, r)
		}
	}
	failed := printAgents(w, results, o)
	fmt.Fprintf(w, "  load average at the end: %s\n", loadavg())

	if o.fileBytes > 0 {
		progress(fmt.Sprintf("rwkit push --file and collide on %d MB expositions", o.fileBytes/1e6))
		cmds, err := measureFiles(ctx, rg, o.rwkit, o.fileBytes, o)
		if err != nil {
			return err
		}
		failed = printCommands(w, cmds) || failed
	}
	if failed {
		return errAgents
	}
	return nil
}

// printAgents prints the agents' table and reports whether any failed.
func printAgents(w io.Writer, results []agentResult, o options) (failed bool) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "series\tagent\tscrapes\tCPU s\tCPU us/series\tpeak RSS MB\tsent MB\trequests\tB/sample\tCPU/series vs vmagent\tRSS vs vmagent\tsent vs vmagent\t")
	base := map[int]agentResult{}
	for _, r := range results {
		if r.agent == "vmagent" && r.err == nil {
			base[r.series] = r
		}
	}
	var reasons []string
	for _, r := range results {
		if r.err != nil {
			failed = true
			fmt.Fprintf(tw, "%s\t%s\tFAILED\t\t\t\t\t\t\t\t\t\t\n", count(r.series), r.agent)
			reasons = append(reasons, fmt.Sprintf("  FAILED %s at %s series: %v", r.agent, count(r.series), r.err))
			continue
		}
		ratios := "-\t-\t-"
		var vm *agentResult
		if b, ok := base[r.series]; ok {
			vm = &b
			ratios = fmt.Sprintf("%.2fx\t%.2fx\t%.2fx", r.cpuPerSeries()/b.cpuPerSeries(), float64(r.peak)/float64(b.peak),
				float64(r.sent.bytes)/float64(b.sent.bytes))
		}
		name := r.agent
		if notes := behind(r, vm, o.interval); len(notes) > 0 {
			name += " *"
			reasons = append(reasons, fmt.Sprintf("  * %s at %s series: %s", r.agent, count(r.series), strings.Join(notes, "; ")))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.2f\t%.2f\t%.0f\t%.1f\t%d\t%.1f\t%s\t\n", count(r.series), name, r.sent.scrapes,
			r.cpu.Seconds(), r.cpuPerSeries()/1e3, mb(r.peak), mb(r.sent.bytes), r.sent.requests, r.bytesPerSample(), ratios)
	}
	tw.Flush()
	fmt.Fprintf(w, "  scrapes: complete scrapes the target served in the window (%d expected); B/sample: bytes received per scraped series\n",
		int(o.window/o.interval))
	for _, s := range reasons {
		fmt.Fprintln(w, s)
	}
	return failed
}

// printCommands prints the whole-command table and reports whether any
// failed.
func printCommands(w io.Writer, cmds []commandResult) (failed bool) {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "command\tinput\twall s\tCPU s\tpeak RSS MB\ttarget MB\tvs target\t")
	var reasons []string
	for _, c := range cmds {
		if c.err != nil {
			failed = true
			fmt.Fprintf(tw, "%s\t%s\tFAILED\t\t\t\t\t\n", c.name, c.input)
			reasons = append(reasons, fmt.Sprintf("  %s: %v", c.name, c.err))
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%.1f\t%.0f\t%.0f (%s)\t%.2fx\t\n", c.name, c.input, c.wall.Seconds(), c.cpu.Seconds(),
			mb(c.peak), mb(c.target), c.targetF, float64(c.peak)/float64(c.target))
	}
	tw.Flush()
	fmt.Fprintln(w, "  peak RSS and CPU: the kernel's accounting of the reaped process (wait4 rusage, as /usr/bin/time -v); target: issue 18's")
	for _, s := range reasons {
		fmt.Fprintln(w, s)
	}
	return failed
}

func progress(s string) {
	fmt.Fprintf(os.Stderr, "agents: %s %s\n", time.Now().Format("15:04:05"), s)
}

// parseSizes reads "10k,100k,1M".
func parseSizes(s string) ([]int, error) {
	var sizes []int
	for f := range strings.SplitSeq(s, ",") {
		mult := 1
		num := strings.TrimSpace(f)
		switch {
		case strings.HasSuffix(num, "k"):
			mult, num = 1000, strings.TrimSuffix(num, "k")
		case strings.HasSuffix(num, "M"):
			mult, num = 1000000, strings.TrimSuffix(num, "M")
		}
		v, err := strconv.Atoi(num)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("%q: want a positive number of series, e.g. 10k, 100k or 1M", f)
		}
		if v*mult < metricNames {
			return nil, fmt.Errorf("%q: want at least %d series (one per metric name)", f, metricNames)
		}
		sizes = append(sizes, v*mult)
	}
	return sizes, nil
}

// count prints 10000 as 10k, 1000000 as 1M.
func count(n int) string {
	switch {
	case n >= 1e6 && n%1e6 == 0:
		return strconv.Itoa(n/1e6) + "M"
	case n >= 1e3 && n%1e3 == 0:
		return strconv.Itoa(n/1e3) + "k"
	}
	return strconv.Itoa(n)
}

func moduleRoot() (string, error) {
	b, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(b))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run from inside the rwkit module (go run ./bench/cmd/agents)")
	}
	return filepath.Dir(mod), nil
}

// machine describes the machine: CPUs, model, load.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for l := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%d CPUs (%s), %s/%s, %s; load average at the start %s", runtime.NumCPU(), model, runtime.GOOS, runtime.GOARCH,
		runtime.Version(), loadavg())
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// revision is the tree's commit, "+dirty" when it has changes.
func revision(root string) string {
	b, err := exec.Command("git", "-C", root, "describe", "--always", "--dirty=+dirty").Output()
	if err != nil {
		return "(no git revision)"
	}
	return strings.TrimSpace(string(b))
}

// vmagentVersion is the version in scripts/backend's cache path
// (vmagent-VERSION-HASH/vmagent); the binary is built without one.
func (o options) vmagentVersion() string {
	d := filepath.Base(filepath.Dir(o.vmagent))
	if v, ok := strings.CutPrefix(d, "vmagent-"); ok {
		if i := strings.LastIndexByte(v, '-'); i > 0 {
			return v[:i]
		}
	}
	return o.vmagent
}

func firstLine(bin string, args ...string) string {
	b, _ := exec.Command(bin, args...).CombinedOutput()
	l, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimSpace(l)
}
