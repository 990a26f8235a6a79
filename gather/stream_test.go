package gather

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rwkit/rwkit/scrape"
	"github.com/rwkit/rwkit/wire"
)

const textType = "text/plain; version=0.0.4"

// streamBodies are well-formed expositions the stream must convert itself
// (no fallback to the tree), and odd ones it may hand to the tree.
var streamBodies = map[string]string{
	"counters":        "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\"} 1\na_total{x=\"2\"} 2\n# TYPE b gauge\nb 3\nc 4\n",
	"unsorted":        "z 1\n# TYPE a counter\na{x=\"1\"} 1\nm{b=\"2\",a=\"1\"} 3\n",
	"split counter":   "# TYPE a counter\na{x=\"1\"} 1\n# TYPE b gauge\nb 2\na{x=\"2\"} 3\n",
	"histogram":       "# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"0.5\",p=\"/a\"} 1\nh_bucket{p=\"/a\",le=\"1\"} 2\nh_bucket{le=\"+Inf\",p=\"/a\"} 3\nh_sum{p=\"/a\"} 4\nh_count{p=\"/a\"} 3\nh_bucket{le=\"1\",p=\"/b\"} 1\nh_count{p=\"/b\"} 1\nh_sum{p=\"/b\"} 0.5\nafter 1\n",
	"histogram mixed": "# TYPE h histogram\nh_bucket{le=\"1\",x=\"a\"} 1\nh_bucket{le=\"1\",x=\"b\"} 1.5\nh_bucket{x=\"a\",le=\"+Inf\"} 2\nh_sum{x=\"a\"} 3\nh_count{x=\"a\"} 2\nh_count{x=\"b\"} 2.5\nh 7\nh_bucket 3\n",
	"histogram nan":   "# TYPE h histogram\nh_bucket{le=\"1\"} NaN\nh_bucket{le=\"2\"} +Inf\nh_count 1e30\nh_sum -0\n",
	"gauge histogram": "# TYPE h gaugehistogram\nh_bucket{le=\"1\"} 1\nh_count 1\n",
	"summary":         "# TYPE s summary\ns{quantile=\"0.5\"} 1\ns{quantile=\"0.9\"} 2\ns_sum 3\ns_count 4.7\ns 9\n# TYPE t summary\nt_count 3\nt{quantile=\"1\",a=\"x\"} 5\n",
	"timestamps":      "a 1 1700000000000\n# TYPE h histogram\nh_bucket{le=\"1\"} 1 5\nh_bucket{le=\"2\"} 2 6\nh_sum 1 7\nh_count 2\n",
	"empty labels":    "a{x=\"\",y=\"1\"} 1\nb{x=\"\"} 2\n",
	"escapes":         "up{ instance = \"x\" , job=\"a\\\"b\\n\" } 1 1700000000000\nup{job=\"a\\\"b\\n\",instance=\"y\"} NaN\n",
	"only comments":   "# HELP a A.\n# TYPE a counter\n# just a comment\n",
	"empty":           "",
	"le in a summary": "# TYPE h histogram\nh_bucket{le=\"1\",a=\"1\"} 1\n# TYPE s summary\ns{quantile=\"0.5\",le=\"x\"} 1\n",
	"values":          "a NaN\nb +Inf\nc -Inf\nd -0\ne 1e308\nf 0x1p3\n",
}

// treeOnly are bodies the stream hands to the tree (see StreamText).
var treeOnly = map[string]string{
	"split histogram": "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nother 1\nh_bucket{le=\"+Inf\"} 2\nh_count 2\nh_sum 1\n",
	"repeat":          "a 1\na 1\n",
	"repeat empty":    "a{x=\"\"} 1\na 2\n",
	"repeat bucket":   "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_sum 2\n",
	"parse error":     "a 1\nb{ 2\n",
	"brace name":      "# TYPE s summary\ns{quantile=\"0.5\"} 1\nx 2\n{\"s_sum\"} 3\n",
	"bad name":        "a{\"b.c\"=\"x\"} 1\n",
}

// streamSeries is a series as the tests compare it: labels, samples with
// their value bits, metadata.
func streamSeries(s *wire.TimeSeries) string {
	var b strings.Builder
	b.WriteString(wire.SeriesString(s.Labels))
	for _, x := range s.Samples {
		fmt.Fprintf(&b, " %x@%d/%d", math.Float64bits(x.Value), x.Timestamp, x.StartTimestamp)
	}
	fmt.Fprintf(&b, " h%d e%d %+v", len(s.Histograms), len(s.Exemplars), s.Metadata)
	return b.String()
}

type streamOut struct {
	series  []string // in order
	meta    []wire.Metadata
	batches int
	rep     Report
	why     string
	err     string
}

func runStream(t testing.TB, body []byte, opts Options, batch int) streamOut {
	var out streamOut
	opens := 0
	open := func() (io.Reader, error) { opens++; return bytes.NewReader(body), nil }
	rep, why, err := streamText(open, textType, opts, batch, func(req *wire.WriteRequest) error {
		if len(req.Series) > batch {
			t.Errorf("a batch of %d series, over %d", len(req.Series), batch)
		}
		if out.batches > 0 && len(req.Metadata) > 0 {
			t.Errorf("batch %d carries metadata", out.batches+1)
		}
		if out.batches > 0 && len(req.Series) == 0 {
			t.Errorf("batch %d is empty", out.batches+1)
		}
		out.batches++
		out.meta = append(out.meta, req.Metadata...)
		for i := range req.Series {
			out.series = append(out.series, streamSeries(&req.Series[i]))
		}
		return nil
	})
	out.rep, out.why = rep, why
	if err != nil {
		out.err = err.Error()
		var pe *ParseError
		if strings.Contains(out.err, "parse exposition") && !errors.As(err, &pe) {
			t.Errorf("a parse error that is not a *ParseError: %v", err)
		}
	}
	if opens > 3 {
		t.Errorf("open called %d times", opens)
	}
	return out
}

func runTree(body []byte, opts Options) streamOut {
	fams, err := scrape.Parse(bytes.NewReader(body), textType)
	if err != nil {
		return streamOut{err: err.Error()}
	}
	req, rep, err := Convert(fams, opts)
	if err != nil {
		return streamOut{err: err.Error()}
	}
	out := streamOut{meta: req.Metadata, rep: rep}
	for i := range req.Series {
		out.series = append(out.series, streamSeries(&req.Series[i]))
	}
	return out
}

// compareStream reports how StreamText differs from scrape.Parse and
// Convert on body: the same series (in any order), metadata, Report and
// error.
func compareStream(t testing.TB, body []byte, opts Options, batch int) streamOut {
	t.Helper()
	got, want := runStream(t, body, opts, batch), runTree(body, opts)
	if got.err != want.err {
		t.Fatalf("error: stream %q, tree %q", got.err, want.err)
	}
	if want.err != "" {
		if got.batches != 0 {
			t.Fatalf("%d batches emitted before the error", got.batches)
		}
		return got
	}
	if got.batches == 0 {
		t.Fatal("emit never called")
	}
	if diff := cmp.Diff(want.meta, got.meta); diff != "" {
		t.Fatalf("metadata (-tree +stream):\n%s", diff)
	}
	if diff := cmp.Diff(want.rep, got.rep); diff != "" {
		t.Fatalf("report (-tree +stream):\n%s", diff)
	}
	w, g := slices.Clone(want.series), slices.Clone(got.series)
	slices.Sort(w)
	slices.Sort(g)
	if diff := cmp.Diff(w, g); diff != "" {
		t.Fatalf("series (-tree +stream):\n%s", diff)
	}
	return got
}

var streamOptions = map[string]Options{
	"default":  {Timestamp: 1700000000123},
	"labels":   {Timestamp: 5, ExtraLabels: []wire.Label{{Name: "instance", Value: "i-1"}, {Name: "x", Value: "extra"}}},
	"rename":   {Timestamp: 5, ExtraLabels: []wire.Label{{Name: "x", Value: "extra"}}, ConflictPolicy: ConflictRename},
	"honor":    {Timestamp: 5, HonorTimestamps: true},
	"utf8":     {Timestamp: 5, UTF8Names: true},
	"starts":   {Timestamp: 5, StartTimestamps: true, NativeHistograms: true, Exemplars: true},
	"instance": {Timestamp: 5, ExtraLabels: []wire.Label{{Name: "instance", Value: "i-1"}}},
}

func TestStreamTextMatchesTree(t *testing.T) {
	for name, body := range streamBodies {
		for oname, opts := range streamOptions {
			for _, batch := range []int{1, 2, 1000} {
				t.Run(fmt.Sprintf("%s/%s/%d", name, oname, batch), func(t *testing.T) {
					got := compareStream(t, []byte(body), opts, batch)
					if got.err == "" && got.why != "" {
						t.Errorf("converted through the tree (%s), want the stream", got.why)
					}
				})
			}
		}
	}
	for name, body := range treeOnly {
		t.Run(name, func(t *testing.T) {
			got := compareStream(t, []byte(body), streamOptions["default"], 2)
			if got.why == "" {
				t.Errorf("streamed; want the tree")
			}
		})
	}
}

// TestStreamTextOrder: the stream keeps the exposition's order, which is
// the tree's when families come sorted by name, as client_golang writes
// them.
func TestStreamTextOrder(t *testing.T) {
	body := []byte("a 1\nb{x=\"2\"} 2\nb{x=\"1\"} 1\n" + streamBodies["histogram mixed"] + streamBodies["summary"] + "z 1\n")
	got, want := runStream(t, body, streamOptions["default"], 3), runTree(body, streamOptions["default"])
	if diff := cmp.Diff(want.series, got.series); diff != "" {
		t.Fatalf("series order (-tree +stream):\n%s", diff)
	}
}

// TestStreamTextOnCorpus runs every exposition kept in the repository's
// testdata (goldens, examples, fuzz corpora) through both paths.
func TestStreamTextOnCorpus(t *testing.T) {
	bodies := map[string][]byte{}
	err := filepath.WalkDir("..", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.Contains(path, "testdata") {
			return err
		}
		ext := filepath.Ext(path)
		fuzz := strings.Contains(path, "/fuzz/")
		if ext != ".txt" && ext != ".prom" && ext != ".om" && !fuzz {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if fuzz {
			if b = fuzzArg(b); b == nil {
				return nil
			}
		}
		bodies[path] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		bodies[fmt.Sprintf("generated/%02d", i)] = genText(i)
	}
	if len(bodies) < 50 {
		t.Fatalf("only %d expositions found in testdata", len(bodies))
	}
	streamed := 0
	for path, body := range bodies {
		t.Run(path, func(t *testing.T) {
			for _, oname := range []string{"default", "instance", "honor"} {
				if got := compareStream(t, body, streamOptions[oname], 7); got.why == "" && got.err == "" {
					streamed++
				}
			}
		})
	}
	t.Logf("%d expositions, %d runs streamed", len(bodies), streamed)
	if streamed == 0 {
		t.Fatal("every run fell back to the tree")
	}
}

// fuzzArg is the one []byte or string argument of a "go test fuzz v1" file.
func fuzzArg(file []byte) []byte {
	lines := strings.Split(strings.TrimSpace(string(file)), "\n")
	if len(lines) < 2 || lines[0] != "go test fuzz v1" {
		return nil
	}
	arg := lines[1]
	for _, pre := range []string{"[]byte(", "string("} {
		if strings.HasPrefix(arg, pre) && strings.HasSuffix(arg, ")") {
			var s string
			if _, err := fmt.Sscanf(arg[len(pre):len(arg)-1], "%q", &s); err == nil {
				return []byte(s)
			}
		}
	}
	return nil
}

// TestStreamTextEmitError: emit's error stops the stream and is returned.
func TestStreamTextEmitError(t *testing.T) {
	stop := errors.New("stop")
	calls := 0
	open := func() (io.Reader, error) { return strings.NewReader("a 1\nb 2\nc 3\nd 4\n"), nil }
	_, err := StreamText(open, textType, Options{Timestamp: 1}, 1, func(*wire.WriteRequest) error {
		calls++
		if calls == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 2 {
		t.Fatalf("err %v after %d calls; want stop after 2", err, calls)
	}
}

// TestStreamTextChangedBetweenReads: a body that differs on the second
// read is an error, after what was emitted.
func TestStreamTextChangedBetweenReads(t *testing.T) {
	bodies := []string{"a 1\nb 2\n", "a 1\nb{ 2\n"}
	n := 0
	open := func() (io.Reader, error) { n++; return strings.NewReader(bodies[min(n-1, 1)]), nil }
	_, err := StreamText(open, textType, Options{Timestamp: 1}, 1, func(*wire.WriteRequest) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "changed between its two reads") {
		t.Fatalf("err %v", err)
	}
}

func TestStreamTextSteadyStateAllocs(t *testing.T) {
	var b bytes.Buffer
	for i := range 5000 {
		fmt.Fprintf(&b, "http_requests_total{code=\"200\",path=\"/p%d\",method=\"GET\"} %d\n", i, i)
	}
	body := b.Bytes()
	conv, err := newTextStream(Options{Timestamp: 1}, 1000, func(*wire.WriteRequest) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	open := func() (io.Reader, error) { return bytes.NewReader(body), nil }
	conv.run(open)
	allocs := testing.AllocsPerRun(3, func() {
		conv.emitted = false
		if _, why, err := conv.run(open); why != "" || err != nil {
			t.Fatal(why, err)
		}
	})
	// A parser, its families and the batch's arena chunks per read; none
	// per series.
	if perSeries := allocs / 5000; perSeries > 0.05 {
		t.Fatalf("%.0f allocations per read of 5000 series (%.3f per series)", allocs, perSeries)
	}
}

func FuzzStreamText(f *testing.F) {
	for _, b := range streamBodies {
		f.Add([]byte(b), uint8(2), false)
	}
	for _, b := range treeOnly {
		f.Add([]byte(b), uint8(1), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, batch uint8, honor bool) {
		opts := Options{Timestamp: 9, HonorTimestamps: honor, ExtraLabels: []wire.Label{{Name: "instance", Value: "i"}}}
		compareStream(t, body, opts, int(batch)+1)
	})
}

// genText writes a deterministic exposition: every family type, several
// metrics per histogram and summary (their lines sometimes interleaved),
// escapes, empty label values, timestamps, families in no particular
// order and some split by another family's lines.
func genText(seed int) []byte {
	rng := rand.New(rand.NewPCG(uint64(seed), 7))
	var b bytes.Buffer
	vals := []string{"0", "1", "2.5", "-1", "NaN", "+Inf", "1e+06", "3"}
	lvs := []string{"a", "", "x y", `q\"t`, `n\nl`, "ü"}
	labels := func() string {
		var ls []string
		for i := range rng.IntN(3) {
			ls = append(ls, fmt.Sprintf("l%d=%q", (i+rng.IntN(2))%3, lvs[rng.IntN(len(lvs))]))
		}
		return strings.Join(ls, ",")
	}
	join := func(a, b string) string {
		if a == "" || b == "" {
			return a + b
		}
		return a + "," + b
	}
	ts := func() string {
		if rng.IntN(6) == 0 {
			return fmt.Sprintf(" %d", 1700000000000+rng.IntN(1000))
		}
		return ""
	}
	types := []string{"counter", "gauge", "untyped", "histogram", "summary"}
	for f := range 6 + rng.IntN(10) {
		name := fmt.Sprintf("f%d_%d", rng.IntN(100), f)
		kind := rng.IntN(len(types))
		if rng.IntN(2) == 0 {
			fmt.Fprintf(&b, "# HELP %s Help \\ %d\n", name, f)
		}
		fmt.Fprintf(&b, "# TYPE %s %s\n", name, types[kind])
		var lines []string
		for range 1 + rng.IntN(3) {
			ls := labels()
			v := func() string { return vals[rng.IntN(len(vals))] }
			switch kind {
			case 3:
				for _, le := range []string{"0.1", "1", "+Inf"} {
					if rng.IntN(5) > 0 {
						lines = append(lines, fmt.Sprintf("%s_bucket{%s} %s%s", name, join(ls, "le=\""+le+"\""), v(), ts()))
					}
				}
				lines = append(lines, fmt.Sprintf("%s_sum{%s} %s", name, ls, v()), fmt.Sprintf("%s_count{%s} %d%s", name, ls, rng.IntN(9), ts()))
			case 4:
				lines = append(lines, fmt.Sprintf("%s{%s} %s", name, join("quantile=\"0.5\"", ls), v()),
					fmt.Sprintf("%s_sum{%s} %s", name, ls, v()), fmt.Sprintf("%s_count{%s} %d", name, ls, rng.IntN(9)))
			default:
				lines = append(lines, fmt.Sprintf("%s{%s} %s%s", name, ls, v(), ts()))
			}
		}
		if rng.IntN(4) == 0 {
			rng.Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
		}
		if rng.IntN(8) == 0 && len(lines) > 1 {
			lines = slices.Insert(lines, 1, fmt.Sprintf("between_%d 1", f))
		}
		b.WriteString(strings.Join(lines, "\n") + "\n")
	}
	return b.Bytes()
}
