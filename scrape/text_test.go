package scrape

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/protobuf/proto"

	"github.com/rwkit/rwkit/wire"
)

// The current path: expfmt's TextParser, as Parse (legacy names) and
// gather.ParseText (UTF-8 names) run it.
func referenceParse(body []byte, scheme model.ValidationScheme) (fams map[string]*dto.MetricFamily, err error) {
	p := expfmt.NewTextParser(scheme)
	return p.TextToMetricFamilies(bytes.NewReader(body))
}

// streamTree parses body with TextParser and groups its samples into the
// tree expfmt builds: a histogram's or summary's lines with the same labels
// (less le and quantile) are one metric, other lines one metric each.
func streamTree(p *TextParser) (map[string]*dto.MetricFamily, error) {
	fams := map[string]*dto.MetricFamily{}
	groups := map[string]*dto.Metric{}
	var famOf []*TextFamily
	for p.Next() {
		s := p.Sample()
		f := s.Family
		if sorted := slices.IsSortedFunc(s.Labels, func(a, b wire.Label) int { return strings.Compare(a.Name, b.Name) }); s.Sorted != sorted {
			return nil, fmt.Errorf("line %d: Sorted = %v for labels %v", s.Line, s.Sorted, s.Labels)
		}
		mf := fams[f.Name]
		if mf == nil {
			mf = &dto.MetricFamily{Name: proto.String(f.Name)}
			fams[f.Name] = mf
			famOf = append(famOf, f)
		}
		labels := make([]*dto.LabelPair, 0, len(s.Labels))
		for _, l := range s.Labels {
			labels = append(labels, &dto.LabelPair{Name: proto.String(strings.Clone(l.Name)), Value: proto.String(strings.Clone(l.Value))})
		}
		var m *dto.Metric
		if s.Kind == KindValue {
			m = &dto.Metric{Label: labels}
			mf.Metric = append(mf.Metric, m)
		} else {
			key := f.Name + "\xff" + signature(labels)
			if m = groups[key]; m == nil {
				m = &dto.Metric{Label: labels}
				groups[key] = m
				mf.Metric = append(mf.Metric, m)
			}
		}
		if s.HasTimestamp {
			m.TimestampMs = proto.Int64(s.Timestamp)
		}
		v := s.Value
		switch f.Type {
		case dto.MetricType_COUNTER:
			m.Counter = &dto.Counter{Value: proto.Float64(v)}
		case dto.MetricType_GAUGE:
			m.Gauge = &dto.Gauge{Value: proto.Float64(v)}
		case dto.MetricType_UNTYPED:
			m.Untyped = &dto.Untyped{Value: proto.Float64(v)}
		case dto.MetricType_SUMMARY:
			if m.Summary == nil {
				m.Summary = &dto.Summary{}
			}
			switch s.Kind {
			case KindCount:
				m.Summary.SampleCount = proto.Uint64(uint64(v))
			case KindSum:
				m.Summary.SampleSum = proto.Float64(v)
			case KindQuantile:
				m.Summary.Quantile = append(m.Summary.Quantile, &dto.Quantile{Quantile: proto.Float64(s.Bound), Value: proto.Float64(v)})
			}
		default:
			if m.Histogram == nil {
				m.Histogram = &dto.Histogram{}
			}
			h := m.Histogram
			switch s.Kind {
			case KindCount:
				if u := uint64(v); v == float64(u) {
					h.SampleCount = proto.Uint64(u)
				} else {
					h.SampleCountFloat = proto.Float64(v)
				}
			case KindSum:
				h.SampleSum = proto.Float64(v)
			case KindBucket:
				b := &dto.Bucket{UpperBound: proto.Float64(s.Bound)}
				if u := uint64(v); v == float64(u) {
					b.CumulativeCount = proto.Uint64(u)
				} else {
					b.CumulativeCountFloat = proto.Float64(v)
				}
				h.Bucket = append(h.Bucket, b)
			}
		}
	}
	for _, f := range famOf {
		mf := fams[f.Name]
		mf.Type = f.Type.Enum()
		if f.HasHelp {
			mf.Help = proto.String(f.Help)
		}
	}
	return fams, p.Err()
}

func signature(labels []*dto.LabelPair) string {
	parts := make([]string, 0, len(labels))
	for _, l := range labels {
		parts = append(parts, l.GetName()+"\xfe"+l.GetValue())
	}
	slices.Sort(parts)
	return strings.Join(parts, "\xff")
}

// flatten renders a tree as the samples it stands for, families sorted by
// name (as Parse returns them), metrics in order, values as bits.
func flatten(fams map[string]*dto.MetricFamily) []string {
	names := make([]string, 0, len(fams))
	for n := range fams {
		names = append(names, n)
	}
	slices.Sort(names)
	var out []string
	for _, n := range names {
		mf := fams[n]
		help := "-"
		if mf.Help != nil {
			help = fmt.Sprintf("%q", mf.GetHelp())
		}
		out = append(out, fmt.Sprintf("# %s %s %s", n, mf.GetType(), help))
		for _, m := range mf.GetMetric() {
			labels := make([]string, 0, len(m.GetLabel()))
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			slices.Sort(labels)
			ts := "-"
			if m.TimestampMs != nil {
				ts = fmt.Sprint(m.GetTimestampMs())
			}
			add := func(suffix, extra string, v float64) {
				out = append(out, fmt.Sprintf("%s%s{%s%s} %016x %s", n, suffix, strings.Join(labels, ","), extra, math.Float64bits(v), ts))
			}
			switch {
			case m.Counter != nil:
				add("", "", m.Counter.GetValue())
			case m.Gauge != nil:
				add("", "", m.Gauge.GetValue())
			case m.Untyped != nil:
				add("", "", m.Untyped.GetValue())
			case m.Summary != nil:
				for _, q := range m.Summary.GetQuantile() {
					add("", fmt.Sprintf(" quantile=%016x", math.Float64bits(q.GetQuantile())), q.GetValue())
				}
				add("_sum", "", m.Summary.GetSampleSum())
				add("_count", "", float64(m.Summary.GetSampleCount()))
			case m.Histogram != nil:
				h := m.Histogram
				for _, b := range h.GetBucket() {
					c := float64(b.GetCumulativeCount())
					if b.CumulativeCountFloat != nil {
						c = b.GetCumulativeCountFloat()
					}
					add("_bucket", fmt.Sprintf(" le=%016x", math.Float64bits(b.GetUpperBound())), c)
				}
				add("_sum", "", h.GetSampleSum())
				c := float64(h.GetSampleCount())
				if h.SampleCountFloat != nil {
					c = h.GetSampleCountFloat()
				}
				add("_count", "", c)
			default:
				out = append(out, fmt.Sprintf("%s{%s} (no value) %s", n, strings.Join(labels, ","), ts))
			}
		}
	}
	return out
}

// normalizeFloats does to a stream-built tree what expfmt does at the end
// of a parse: a histogram with any float count has all counts float.
func normalizeFloats(fams map[string]*dto.MetricFamily) {
	for _, mf := range fams {
		for _, m := range mf.GetMetric() {
			h := m.GetHistogram()
			if h == nil {
				continue
			}
			any := h.GetSampleCountFloat() != 0
			for _, b := range h.GetBucket() {
				any = any || b.GetCumulativeCountFloat() != 0
			}
			if !any {
				continue
			}
			if h.GetSampleCountFloat() == 0 {
				h.SampleCountFloat, h.SampleCount = proto.Float64(float64(h.GetSampleCount())), nil
			}
			for _, b := range h.GetBucket() {
				if b.GetCumulativeCountFloat() == 0 {
					b.CumulativeCountFloat, b.CumulativeCount = proto.Float64(float64(b.GetCumulativeCount())), nil
				}
			}
		}
	}
}

// compareParsers parses body both ways; it returns a description of the
// first difference, "" when they agree.
func compareParsers(body []byte, scheme model.ValidationScheme, p *TextParser) string {
	want, werr := referenceParse(body, scheme)
	if p == nil {
		p = NewTextParser(bytes.NewReader(body), scheme)
	} else {
		p.Reset(bytes.NewReader(body))
	}
	got, gerr := streamTree(p)
	if (werr == nil) != (gerr == nil) {
		return fmt.Sprintf("expfmt err = %v, stream err = %v", werr, gerr)
	}
	if werr != nil {
		_, serr := streamTree(NewTextParser(iotest.OneByteReader(bytes.NewReader(body)), scheme))
		if fmt.Sprint(serr) != fmt.Sprint(gerr) {
			return fmt.Sprintf("one byte at a time: err %v, at once: %v", serr, gerr)
		}
		var wp, gp expfmt.ParseError
		if errors.As(werr, &wp) != errors.As(gerr, &gp) || wp != gp {
			return fmt.Sprintf("errors differ: expfmt %v, stream %v", werr, gerr)
		}
		return ""
	}
	normalizeFloats(got)
	if diff := cmp.Diff(flatten(want), flatten(got)); diff != "" && !braceNameGrouping(body, want) {
		return "samples differ (-expfmt +stream):\n" + diff
	}
	// The fast paths read from the buffer; a reader that hands out one
	// byte at a time takes the slow ones at every step.
	slow, serr := streamTree(NewTextParser(iotest.OneByteReader(bytes.NewReader(body)), scheme))
	if serr != nil {
		return fmt.Sprintf("one byte at a time: err %v", serr)
	}
	normalizeFloats(slow)
	if diff := cmp.Diff(flatten(got), flatten(slow)); diff != "" {
		return "one byte at a time, samples differ (-expfmt +stream):\n" + diff
	}
	return ""
}

// braceNameGrouping reports the one known difference between the trees:
// for a histogram or summary line whose name is inside the braces
// ({"s_sum"} 1), expfmt groups by the label set left in its state by the
// last histogram or summary line that started with its name (and panics
// when there was none), where the stream hands out the line's own labels
// and the test groups by those. The sample comparison is skipped (the
// accept/refuse and error comparison is not) for a body with a line that
// starts with '{' and a histogram or summary family.
func braceNameGrouping(body []byte, fams map[string]*dto.MetricFamily) bool {
	brace := false
	for line := range bytes.SplitSeq(body, []byte("\n")) {
		if t := bytes.TrimLeft(line, " \t"); len(t) > 0 && t[0] == '{' {
			brace = true
			break
		}
	}
	if !brace {
		return false
	}
	for _, mf := range fams {
		if t := mf.GetType(); t == dto.MetricType_SUMMARY || t == dto.MetricType_HISTOGRAM || t == dto.MetricType_GAUGE_HISTOGRAM {
			return true
		}
	}
	return false
}

var schemes = []struct {
	name   string
	scheme model.ValidationScheme
}{{"legacy", model.LegacyValidation}, {"utf8", model.UTF8Validation}}

// oddBodies are valid and invalid bodies at the edges of what expfmt takes.
var oddBodies = []string{
	"",
	"\n\n  \n",
	"# just a comment\n# TYPE\n# HELP x\n",
	"# TYPE up gauge\nup 1\n",
	"up 1",
	"up 1 \n",
	"up 1 123\n",
	"up 1 123 \n",
	"up 1 12x\n",
	"up\t1\t-5\n",
	"  up{a=\"1\" , b = \"2\" , } 3\n",
	"up{} 1\n",
	"up{a=\"\\\\ \\\" \\n\"} 1\n",
	"up{a=\"\\t\"} 1\n",
	"up{a=\"x\nb\"} 1\n",
	"up{a=\"1\",a=\"2\"} 1\n",
	"up{__name__=\"x\"} 1\n",
	"up{1a=\"x\"} 1\n",
	"up{a=1} 1\n",
	"up{a=\"1\"\n",
	"up{a=\"1\"} \n",
	"a NaN\nb +Inf\nc -Inf\nd -0\ne 1e308\nf 0x1p3\ng 1_000\nh 0x10\ni inf\nj nan\n",
	"# HELP h help with \\\\ and \\n and \\\" in it\n# HELP h again\nh 1\n",
	"# HELP h bad \\t escape\n",
	"# TYPE h histogram\nh_bucket{le=\"0.5\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n",
	"# TYPE h histogram\nh_bucket{le=\"1\",x=\"a\"} 1\nh_bucket{x=\"a\",le=\"+Inf\"} 2\nh_sum{x=\"a\"} 3\nh_count{x=\"a\"} 2\nh_count{x=\"b\"} 2.5\n",
	"# TYPE h histogram\nh_bucket{le=\"1\"} -1\n",
	"# TYPE h histogram\nh_count -2\n",
	"# TYPE h histogram\nh_bucket{le=\"1\"} 1.5\nh_count 2\nh 7\nh_bucket 3\n",
	"# TYPE h histogram\nh_bucket{le=\"x\"} 1\n",
	"# TYPE h gaugehistogram\nh_bucket{le=\"1\"} 1\n",
	"# TYPE h gauge_histogram\nh_bucket{le=\"1\"} 1\nh_gcount 1\n",
	"# TYPE s summary\ns{quantile=\"0.5\"} 1\ns{quantile=\"0.9\"} 2\ns_sum 3\ns_count 4.7\ns 9\n",
	"# TYPE s summary\ns{quantile=\"0.5\",quantile=\"0.9\"} 1\n",
	"# TYPE s summary\ns{quantile=\"a\"} 1\n",
	"# TYPE s summary\ns_bucket{le=\"1\"} 1\n",
	"# TYPE s summary\ns_count -1\ns_count NaN\n",
	"# TYPE s summary\n# HELP s_count h\n# TYPE s_sum counter\n",
	"# TYPE a counter\na{x=\"1\"} 1\n# TYPE b gauge\nb 2\na{x=\"2\"} 3\n",
	"# TYPE h histogram\nh_bucket{le=\"1\"} 1\nother 1\nh_bucket{le=\"+Inf\"} 2\nh_count 2\nh_sum 1\n",
	"a 1\n# TYPE a counter\n",
	"# TYPE a counter\n# TYPE a gauge\n",
	"# TYPE a bogus\n",
	"# TYPE a COUNTER\na 1\n",
	"# HELP a\n# HELP a x\na 1\n",
	"# HELP  a  spaced help \n a 1\n",
	"# TYPE 1a counter\n",
	"#TYPE a counter\na 1\n",
	"{\"quoted.name\",a=\"1\"} 1\n",
	"{\"quoted.name\"} 1\n",
	"{a=\"1\"} 1\n",
	"{} 1\n",
	"{\"a\",\"b\"} 1\n",
	"{a} 1\n",
	"{a=\"1\",\"n\"} 1\n",
	"\"quoted.name\"{a=\"1\"} 1\n",
	"{\"esc\\\"aped\\n\"} 1\n",
	"{\"bad\\tesc\"} 1\n",
	"up{\"quoted.label\"=\"v\"} 1\n",
	"up{\"q\\x\"=\"v\"} 1\n",
	"up \xff\n",
	"up{a=\"\xff\"} 1\n",
	"\xc3\xa9t\xc3\xa9 1\n",
	"\"\xc3\xa9t\xc3\xa9\" 1\n",
	"up{a=\"1\"}1\n",
	"up 1\r\n",
	"up 1 9223372036854775808\n",
	"a:b:c 1\n:x 1\n",
	"a_count 1\na_sum 2\na_bucket 3\n",
	"# TYPE s summary\nx 1\n{\"s_sum\"} 2\n",
	"# TYPE s summary\ns{quantile=\"0.5\"} 1\nx 2\n{\"s\"} 3\n",
	"up 1 # {trace_id=\"a\"} 1\n",
	"# UNIT up seconds\nup 1\n# EOF\n",
	"# TYPE h histogram\n# HELP h_bucket x\nh_bucket{le=\"1\"} 1\n",
	"# TYPE h histogram\nh_bucket{le=\"1\"} 1 5\nh_bucket{le=\"2\"} 2 6\nh_sum 1 7\n",
	"# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_sum 2\n",
	"a 1\na 1\n",
	// Label values past the parser's 8-byte words: UTF-8, invalid UTF-8,
	// escapes and a newline after the first words.
	"up{a=\"abcdefghijklmnop\xc3\xa9qrstuvwx\",b=\"0123456789abcdef\"} 1\n",
	"up{a=\"abcdefghijklmnop\xffqrstuvwx\"} 1\n",
	"up{a=\"abcdefghijklmnopqrstuvw\xff\"} 1\n",
	"up{a=\"abcdefghijklmnop\\\\qr\\\"stuvwx\\n\"} 1\n",
	"up{a=\"abcdefghijklmnop\nqrstuvwx\"} 1\n",
	"up{a=\"abcdefghijklmnop\\tqrstuvwx\"} 1\n",
	// Names read in one run and not: digits, colons, non-ASCII.
	"up{\xc3\xa9=\"v\"} 1\n",
	"up{a\xc3\xa9=\"v\"} 1\n",
	"up{a:b=\"1\"} 1\n",
	"up\xc3\xa9 1\n",
	"up1{a1_B=\"1\"} 1\n_u:p 2\n",
	"{abc,a=\"1\"} 1\n{abc} 2\n{a:b} 3\n",
	// A name resolved again after its family changed type.
	"# HELP x h\nx_count 1\n# TYPE x summary\nx_count 2\nx_sum 3\nx_sum 4\n",
	"# TYPE x summary\nx_count 1\nx_count 2\n# HELP x_count h\nx_count 3\n",
	"x_bucket 1\n# TYPE x histogram\nx_bucket{le=\"1\"} 2\nx_bucket{le=\"2\"} 3\n",
	"x 1\nx_count 2\nx_count 3\n# TYPE x counter\n",
	"up{ab=\"1\",aa=\"2\"} 1\nup{aa=\"1\",ab=\"2\",b=\"3\",_=\"4\"} 2\nup{Z=\"1\",a=\"2\",a_b=\"3\",ab=\"4\"} 3\n",
}

// corpus returns every exposition kept in the repository's testdata, the
// committed fuzz inputs of the parsers, and the hostile bodies.
func corpus(t testing.TB) map[string][]byte {
	out := map[string][]byte{}
	for i, b := range oddBodies {
		out[fmt.Sprintf("odd/%02d", i)] = []byte(b)
	}
	root := filepath.Join("..")
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" || d.Name() == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.Contains(path, "testdata") {
			return nil
		}
		ext := filepath.Ext(path)
		fuzz := strings.Contains(path, string(filepath.Separator)+"fuzz"+string(filepath.Separator))
		if ext != ".txt" && ext != ".prom" && ext != ".om" && !(ext == ".bin" && strings.Contains(path, "hostile")) && !fuzz {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if fuzz {
			b = fuzzInput(b)
			if b == nil {
				return nil
			}
		}
		out[path] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// fuzzInput extracts the []byte or string of a one-argument "go test fuzz
// v1" file, nil for other files.
func fuzzInput(file []byte) []byte {
	lines := strings.Split(strings.TrimSpace(string(file)), "\n")
	if len(lines) != 2 || lines[0] != "go test fuzz v1" {
		return nil
	}
	arg := lines[1]
	for _, pre := range []string{"[]byte(", "string("} {
		if strings.HasPrefix(arg, pre) && strings.HasSuffix(arg, ")") {
			var s string
			if _, err := fmt.Sscanf(arg[len(pre):len(arg)-1], "%q", &s); err != nil {
				return nil
			}
			return []byte(s)
		}
	}
	return nil
}

func TestTextParserMatchesExpfmtOnCorpus(t *testing.T) {
	bodies := corpus(t)
	if len(bodies) < len(oddBodies)+10 {
		t.Fatalf("corpus has %d bodies, expected the repository's testdata too", len(bodies))
	}
	accepted := 0
	for _, sc := range schemes {
		p := NewTextParser(nil, sc.scheme) // one parser, Reset between bodies
		for name, body := range bodies {
			if msg := compareParsers(body, sc.scheme, p); msg != "" {
				t.Errorf("%s (%s): %s\nbody: %q", name, sc.name, msg, body)
			}
			if _, err := referenceParse(body, sc.scheme); err == nil {
				accepted++
			}
		}
	}
	if accepted < len(bodies)/2 {
		t.Errorf("only %d of %d bodies parse: the corpus is mostly refusals", accepted, 2*len(bodies))
	}
}

func TestTextParserMatchesExpfmtOnGenerated(t *testing.T) {
	for seed := range int64(40) {
		body := genExposition(seed, 50)
		if _, err := referenceParse(body, model.LegacyValidation); err != nil {
			t.Fatalf("seed %d: the generator wrote a body expfmt refuses: %v", seed, err)
		}
		for _, sc := range schemes {
			if msg := compareParsers(body, sc.scheme, nil); msg != "" {
				t.Fatalf("seed %d (%s): %s", seed, sc.name, msg)
			}
		}
	}
}

// TestTextParserResetForgetsFamilies parses bodies in turn with one parser,
// each naming families the one before typed otherwise: what a name resolved
// to in one body does not carry over to the next.
func TestTextParserResetForgetsFamilies(t *testing.T) {
	bodies := []string{
		"# TYPE h histogram\nh_count 1\nh_bucket{le=\"1\"} 1\n",
		"h_count 1\nh_bucket{le=\"1\"} 1\n",
		"# TYPE h summary\nh_count 1\nh_bucket{le=\"1\"} 1\n",
		"# TYPE h histogram\nh_count 1\nh_bucket{le=\"1\"} 1\n",
		"# TYPE h_count gauge\nh_count 1\n",
		"# TYPE h histogram\nh_count 1\n",
	}
	for _, sc := range schemes {
		p := NewTextParser(nil, sc.scheme)
		for round := range 3 {
			for i, body := range bodies {
				if msg := compareParsers([]byte(body), sc.scheme, p); msg != "" {
					t.Fatalf("%s, round %d, body %d: %s", sc.name, round, i, msg)
				}
			}
		}
	}
}

// TestTextParserTruncated cuts a valid body at every byte: each prefix is
// accepted or refused by both parsers alike, with the same line.
func TestTextParserTruncated(t *testing.T) {
	body := genExposition(7, 6)
	p := NewTextParser(nil, model.LegacyValidation)
	for i := range len(body) {
		if msg := compareParsers(body[:i], model.LegacyValidation, p); msg != "" {
			t.Fatalf("prefix of %d bytes: %s", i, msg)
		}
	}
}

func TestTextParserSample(t *testing.T) {
	body := "# HELP rpc_seconds RPC \\\"latency\\\".\n# TYPE rpc_seconds histogram\n" +
		"rpc_seconds_bucket{svc=\"a\",le=\"0.5\"} 3 1700000000000\nrpc_seconds_sum{svc=\"a\"} 1.5\n"
	p := NewTextParser(strings.NewReader(body), model.LegacyValidation)
	if !p.Next() {
		t.Fatalf("no sample: %v", p.Err())
	}
	s := p.Sample()
	if s.Family.Name != "rpc_seconds" || s.Family.Type != dto.MetricType_HISTOGRAM || s.Family.Help != `RPC "latency".` {
		t.Errorf("family = %+v", *s.Family)
	}
	if s.Name != "rpc_seconds_bucket" || s.Kind != KindBucket || s.Bound != 0.5 || s.Value != 3 ||
		!s.HasTimestamp || s.Timestamp != 1700000000000 || s.Line != 3 || !s.Sorted {
		t.Errorf("sample = %+v", *s)
	}
	if len(s.Labels) != 1 || s.Labels[0].Name != "svc" || s.Labels[0].Value != "a" {
		t.Errorf("labels = %v, want only svc=a (le is Bound)", s.Labels)
	}
	if !p.Next() || p.Sample().Kind != KindSum || p.Sample().HasTimestamp {
		t.Errorf("second sample = %+v", *p.Sample())
	}
	if p.Next() || p.Err() != nil {
		t.Errorf("want a clean end, got err %v", p.Err())
	}
}

// TestTextParserWhereExpfmtPanics: expfmt (and so Parse and
// gather.ParseText) panics on a summary's _sum named inside the braces
// after another family's line (its label map is still nil); TextParser
// reads it as that summary's _sum.
func TestTextParserWhereExpfmtPanics(t *testing.T) {
	p := NewTextParser(strings.NewReader("# TYPE s summary\nx 1\n{\"s_sum\",a=\"1\"} 1\n"), model.LegacyValidation)
	var got []string
	for p.Next() {
		s := p.Sample()
		got = append(got, fmt.Sprintf("%s %s %v %d", s.Family.Name, s.Name, s.Labels, s.Kind))
	}
	want := []string{"x x [] 0", `s s_sum [{a 1}] 3`}
	if p.Err() != nil || !slices.Equal(got, want) {
		t.Fatalf("got %q, err %v; want %q", got, p.Err(), want)
	}
}

func TestTextParserErrorNamesLine(t *testing.T) {
	p := NewTextParser(strings.NewReader("ok 1\nbad{a=\"1\" 2\n"), model.LegacyValidation)
	for p.Next() {
	}
	var pe expfmt.ParseError
	if !errors.As(p.Err(), &pe) || pe.Line != 2 || !strings.Contains(pe.Msg, "unexpected end of label value") {
		t.Fatalf("err = %v, want a ParseError on line 2", p.Err())
	}
	if p.Next() {
		t.Error("Next after an error returned true")
	}
}

type failingReader struct{ r io.Reader }

func (f failingReader) Read(b []byte) (int, error) {
	n, err := f.r.Read(b)
	if err == io.EOF {
		return n, errors.New("connection reset")
	}
	return n, err
}

func TestTextParserReadError(t *testing.T) {
	p := NewTextParser(failingReader{strings.NewReader("ok 1\n")}, model.LegacyValidation)
	n := 0
	for p.Next() {
		n++
	}
	if n != 1 || p.Err() == nil || !strings.Contains(p.Err().Error(), "connection reset") {
		t.Fatalf("samples %d, err %v: want 1 and the read error", n, p.Err())
	}
}

func TestTextParserSteadyStateAllocs(t *testing.T) {
	body := genExposition(3, 200)
	p := NewTextParser(bytes.NewReader(body), model.LegacyValidation)
	for p.Next() { // first pass: families, help strings and buffers
	}
	r := bytes.NewReader(body)
	allocs := testing.AllocsPerRun(20, func() {
		r.Reset(body)
		p.Reset(r)
		for p.Next() {
		}
		if p.Err() != nil {
			t.Fatal(p.Err())
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per parse of %d bytes after the first, want 0", allocs, len(body))
	}
}

func TestTextParserDropsFamiliesGone(t *testing.T) {
	p := NewTextParser(nil, model.LegacyValidation)
	for round := range 50 {
		var b strings.Builder
		for i := range 20 {
			fmt.Fprintf(&b, "m_%d_%d 1\n", round, i) // new names every body
		}
		p.Reset(strings.NewReader(b.String()))
		n := 0
		for p.Next() {
			n++
		}
		if n != 20 || p.Err() != nil {
			t.Fatalf("round %d: %d samples, err %v", round, n, p.Err())
		}
	}
	if len(p.fams) > 2*20+64+20 {
		t.Errorf("%d families kept after 50 bodies of 20 new ones", len(p.fams))
	}
}

func FuzzParseText(f *testing.F) {
	for _, b := range oddBodies {
		f.Add([]byte(b))
	}
	f.Add(genExposition(1, 3))
	p := NewTextParser(nil, model.LegacyValidation)
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, sc := range schemes {
			var refPanic any
			func() {
				defer func() { refPanic = recover() }()
				_, _ = referenceParse(body, sc.scheme)
			}()
			if refPanic != nil {
				// expfmt itself panics on some bodies; the stream parser
				// must not.
				s := NewTextParser(bytes.NewReader(body), sc.scheme)
				for s.Next() {
				}
				continue
			}
			q := p
			if sc.scheme != model.LegacyValidation {
				q = nil
			}
			if msg := compareParsers(body, sc.scheme, q); msg != "" {
				t.Fatalf("%s: %s", sc.name, msg)
			}
		}
	})
}

// TestShortDecimal holds the value fast path to strconv.ParseFloat, bit for
// bit, on the shapes it takes and the ones it must leave to strconv.
func TestShortDecimal(t *testing.T) {
	for _, s := range []string{
		"0", "-0", "+0", "1", "-1", "+7", "0.1", "0.3", "1.5", "-2.25", ".5", "5.", "-.5", "007",
		"123456789012345", "0.00000000000001", "999999999999999", "99999999999999.9", "9007199254740993",
		"1234567890123456", "0.000000000000001", ".9484611666145821", "16589616287.113937", "8740681563247782.73", "5.263531936693774911", ".", "-", "+", "", "1..2", "1.2.3", "1e3", "--1", "1_0", "0x1", "Inf", "NaN",
	} {
		checkShortDecimal(t, s)
	}
}

func FuzzShortDecimal(f *testing.F) {
	for _, s := range []string{"0", "-0", "1.5", ".5", "5.", "123456789012345", "0.00000000000001", "1e3"} {
		f.Add(s)
	}
	f.Fuzz(checkShortDecimal)
}

func checkShortDecimal(t *testing.T, s string) {
	got, ok := shortDecimal(s)
	if !ok {
		return
	}
	want, err := strconv.ParseFloat(s, 64)
	if err != nil || math.Float64bits(got) != math.Float64bits(want) {
		t.Errorf("shortDecimal(%q) = %v (%#x), strconv.ParseFloat = %v (%#x), %v", s, got, math.Float64bits(got), want, math.Float64bits(want), err)
	}
}
