// Command pushpath runs the push-path benchmarks of package bench in
// interleaved rounds and prints a summary table (best round of each).
//
//	go run ./bench/cmd/pushpath                 # 5 rounds, raw output in pushpath-bench.txt
//	go run ./bench/cmd/pushpath -rounds 3 -out /tmp/pp.txt
//	benchstat pushpath-bench.txt                # the raw output is benchstat input
//	go run ./bench/cmd/pushpath -in pushpath-bench.txt   # the tables again, from a raw output
//
// Each round runs every BenchmarkPushPathEncode and BenchmarkPushPathCycle
// case once (-count=1) in a fresh test process, so a burst of load from
// other processes hits one round of every contender rather than every
// round of one; the summary keeps each case's best round. The first round
// also runs BenchmarkPushPathRatios, which interleaves the 100k encoders
// within one process, and BenchmarkPushPathCycleRatios, which interleaves
// the push-cycle contenders within one process and compares them by the
// median of 9 rounds (the push-cycle target's verdict).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
)

func main() {
	rounds := flag.Int("rounds", 5, "interleaved rounds; the summary keeps each case's best")
	out := flag.String("out", "pushpath-bench.txt", "file for the raw benchmark output (benchstat input)")
	benchtime := flag.String("benchtime", "1s", "go test -benchtime per case and round")
	in := flag.String("in", "", "summarize this earlier raw output instead of running the benchmarks")
	flag.Parse()
	if *in != "" {
		if err := summarize(*in); err != nil {
			fmt.Fprintln(os.Stderr, "pushpath:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*rounds, *out, *benchtime); err != nil {
		fmt.Fprintln(os.Stderr, "pushpath:", err)
		os.Exit(1)
	}
}

// results maps a benchmark name (without the -GOMAXPROCS suffix) to its
// best value of each unit.
type results map[string]map[string]float64

var lineRE = regexp.MustCompile(`^(Benchmark\S+?)(-\d+)?\s+\d+\s+(.*)$`)

func (r results) parse(line string) {
	m := lineRE.FindStringSubmatch(line)
	if m == nil {
		return
	}
	f := strings.Fields(m[3])
	if r[m[1]] == nil {
		r[m[1]] = map[string]float64{}
	}
	for i := 0; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			continue
		}
		unit := f[i+1]
		old, ok := r[m[1]][unit]
		// Best round: least time; for Ratios' ratios, the value is already
		// a best of rounds.
		if !ok || v < old {
			r[m[1]][unit] = v
		}
	}
}

func run(rounds int, outPath, benchtime string) error {
	tmp, err := os.MkdirTemp("", "pushpath")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "bench.test")
	fmt.Fprintln(os.Stderr, "building the bench test binary ...")
	build := exec.Command("go", "test", "-c", "-o", bin, "github.com/rwkit/rwkit/bench")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("go test -c: %w", err)
	}
	raw, err := os.Create(outPath)
	if err != nil {
		return err
	}
	defer raw.Close()
	res := results{}
	for r := 1; r <= rounds; r++ {
		pattern := "^BenchmarkPushPath(Encode|Cycle)$"
		if r == 1 {
			pattern = "^BenchmarkPushPath(Encode|Cycle|Ratios|CycleRatios)$"
		}
		fmt.Fprintf(os.Stderr, "round %d of %d ...\n", r, rounds)
		cmd := exec.Command(bin, "-test.run=^$", "-test.bench="+pattern, "-test.benchmem", "-test.count=1", "-test.benchtime="+benchtime)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			return err
		}
		sc := bufio.NewScanner(io.TeeReader(stdout, raw))
		for sc.Scan() {
			res.parse(sc.Text())
		}
		if err := cmd.Wait(); err != nil {
			return fmt.Errorf("round %d: %w", r, err)
		}
	}
	fmt.Printf("push path, best of %d interleaved rounds (raw output: %s)\n\n", rounds, outPath)
	printTables(os.Stdout, res)
	return nil
}

// printTables prints every summary table of res.
func printTables(w io.Writer, res results) {
	printEncode(w, res)
	printRatios(w, res)
	printCycle(w, res)
	printCycleRatios(w, res)
}

// summarize prints the tables of an earlier run's raw output (any number
// of rounds or -count), keeping each case's best.
func summarize(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	res := results{}
	rounds := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "BenchmarkPushPathCycle/exp-rw2-writev2/100k") {
			rounds++
		}
		res.parse(sc.Text())
	}
	if err := sc.Err(); err != nil {
		return err
	}
	fmt.Printf("push path, best of %d rounds (raw output: %s)\n\n", rounds, path)
	printTables(os.Stdout, res)
	return nil
}

var encoders = []string{"rwkit-rw1-stable", "rwkit-rw1", "rwkit-rw2", "rwkit-rw2-ids", "push-rw1", "push-rw2", "prompb-alloc", "prompb-reuse", "exp-writev2", "snappy-only"}

func get(res results, name, unit string) float64 {
	if m, ok := res[name]; ok {
		if v, ok := m[unit]; ok {
			return v
		}
	}
	return math.NaN()
}

func printEncode(w io.Writer, res results) {
	fmt.Fprintln(w, "Encode + compress one snapshot (BenchmarkPushPathEncode)")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "series\tencoder\tms/push\tns/sample\tprompb-alloc/this\tthis/snappy-only\tB/op\tallocs/op\traw B/sample\tcomp B/sample\t")
	for _, size := range []string{"1k", "10k", "100k"} {
		base := get(res, "BenchmarkPushPathEncode/prompb-alloc/"+size, "ns/op")
		floor := get(res, "BenchmarkPushPathEncode/snappy-only/"+size, "ns/op")
		for _, e := range encoders {
			name := "BenchmarkPushPathEncode/" + e + "/" + size
			ns := get(res, name, "ns/op")
			if math.IsNaN(ns) {
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%.2f\t%.1f\t%.1fx\t%.2fx\t%.0f\t%.0f\t%.1f\t%.1f\t\n", size, e, ns/1e6,
				get(res, name, "ns/sample"), base/ns, ns/floor,
				get(res, name, "B/op"), get(res, name, "allocs/op"), get(res, name, "raw-B/sample"), get(res, name, "comp-B/sample"))
		}
	}
	tw.Flush()
	fmt.Fprintln(w)
}

func printRatios(w io.Writer, res results) {
	m, ok := res["BenchmarkPushPathRatios"]
	if !ok {
		return
	}
	fmt.Fprintln(w, "Targets at 100k series, interleaved in one process (BenchmarkPushPathRatios, best of 9 rounds)")
	fmt.Fprintf(w, "  push-rw1 / snappy-only          = %.2fx  (target <= 1.3)\n", m["push_rw1_x_vs_snappy"])
	fmt.Fprintf(w, "  push-rw2 / exp-writev2          = %.2fx  (target <= 1.0)\n", m["push_rw2_x_vs_exp"])
	fmt.Fprintf(w, "  prompb-alloc / rwkit-rw1-stable = %.1fx   (target >= 3)\n", m["stable_x_vs_prompb"])
	fmt.Fprintf(w, "  rwkit-rw1-stable / snappy-only  = %.2fx\n", m["stable_x_vs_snappy"])
	fmt.Fprintf(w, "  prompb-reuse / rwkit-rw1-stable = %.1fx;  rwkit-rw1 (re-copy labels) / snappy-only = %.2fx;  rwkit-rw2-ids / exp-writev2 = %.2fx\n",
		m["stable_x_vs_prompb-reuse"], m["rw1_x_vs_snappy"], m["rw2_ids_x_vs_exp"])
	var units []string
	for u := range m {
		if strings.HasSuffix(u, "_ms") {
			units = append(units, u)
		}
	}
	sort.Strings(units)
	fmt.Fprint(w, "  best ms/push:")
	for _, u := range units {
		fmt.Fprintf(w, " %s %.2f", strings.TrimSuffix(u, "_ms"), m[u])
	}
	fmt.Fprint(w, "\n\n")
}

func printCycle(w io.Writer, res results) {
	fmt.Fprintln(w, "Full push cycle: Gather + convert + encode + compress + POST to loopback (BenchmarkPushPathCycle)")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "series\tcontender\twall ms/push\tCPU ms/push\tCPU ns/sample\tCPU vs best exp\tB/op\tallocs/op\t")
	for _, size := range []string{"10k", "100k"} {
		bestExp := math.Min(get(res, "BenchmarkPushPathCycle/exp-rw1-prompb/"+size, "cpu-ns/op"),
			get(res, "BenchmarkPushPathCycle/exp-rw2-writev2/"+size, "cpu-ns/op"))
		for _, c := range []string{"push-rw1", "push-rw2", "exp-rw1-prompb", "exp-rw2-writev2"} {
			name := "BenchmarkPushPathCycle/" + c + "/" + size
			cpu := get(res, name, "cpu-ns/op")
			if math.IsNaN(cpu) {
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%.1f\t%.1f\t%.0f\t%.2fx\t%.0f\t%.0f\t\n", size, c, get(res, name, "ns/op")/1e6, cpu/1e6,
				get(res, name, "cpu-ns/sample"), cpu/bestExp, get(res, name, "B/op"), get(res, name, "allocs/op"))
		}
	}
	tw.Flush()
}

func printCycleRatios(w io.Writer, res results) {
	m, ok := res["BenchmarkPushPathCycleRatios"]
	if !ok {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Full push cycle, contenders interleaved in one process, median of 9 rounds (BenchmarkPushPathCycleRatios)")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "series\tcontender\tmedian CPU ms/push\tbest CPU ms/push\tmedian vs better exp\t")
	for _, size := range []string{"10k", "100k"} {
		bestExp := math.Min(m["exp-rw1-prompb_"+size+"_median_cpu_ms"], m["exp-rw2-writev2_"+size+"_median_cpu_ms"])
		for _, c := range []string{"push-rw1", "push-rw2", "exp-rw1-prompb", "exp-rw2-writev2"} {
			med, ok := m[c+"_"+size+"_median_cpu_ms"]
			if !ok {
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%.1f\t%.1f\t%.2fx\t\n", size, c, med, m[c+"_"+size+"_best_cpu_ms"], med/bestExp)
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "  target: push CPU per push below the better exp/api/remote assembly's (< 1.00x): rw1 %.2fx / %.2fx, rw2 %.2fx / %.2fx (10k / 100k)\n",
		m["rw1_cpu_x_vs_exp_10k"], m["rw1_cpu_x_vs_exp_100k"], m["rw2_cpu_x_vs_exp_10k"], m["rw2_cpu_x_vs_exp_100k"])
}
