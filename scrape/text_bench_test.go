package scrape

import (
	"bytes"
	"fmt"
	"math"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

// benchExposition is the issue 18 target's shape: names x series gauges
// with 4 labels each, one HELP and TYPE per name.
func benchExposition(names, series int) []byte {
	var b bytes.Buffer
	for n := range names {
		fmt.Fprintf(&b, "# HELP app_metric_%d_value A value of the application, number %d.\n# TYPE app_metric_%d_value gauge\n", n, n, n)
		for s := range series {
			fmt.Fprintf(&b, "app_metric_%d_value{instance=\"10.0.%d.%d:8080\",job=\"service-%d\",region=\"eu-west-1\",pod=\"pod-%06d\"} %d.%03d\n",
				n, s/256, s%256, n%7, s, s*31%1000, s%997)
		}
	}
	return b.Bytes()
}

const benchSamples = 200 * 50

func parseExpfmt(b *testing.B, body []byte) {
	if _, err := Parse(bytes.NewReader(body), "text/plain; version=0.0.4"); err != nil {
		b.Fatal(err)
	}
}

func parseStream(b *testing.B, p *TextParser, r *bytes.Reader, body []byte) {
	r.Reset(body)
	p.Reset(r)
	n := 0
	for p.Next() {
		n++
	}
	if p.Err() != nil || n != benchSamples {
		b.Fatalf("%d samples, err %v", n, p.Err())
	}
}

// BenchmarkTextParse: go test -run '^$' -bench TextParse -benchmem ./scrape
func BenchmarkTextParse(b *testing.B) {
	body := benchExposition(200, 50)
	b.Run("expfmt", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			parseExpfmt(b, body)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchSamples), "ns/sample")
	})
	b.Run("stream", func(b *testing.B) {
		p, r := NewTextParser(nil, model.LegacyValidation), bytes.NewReader(nil)
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			parseStream(b, p, r, body)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchSamples), "ns/sample")
	})
}

var textRatios struct {
	once                       sync.Once
	expfmtNs, streamNs         float64
	expfmtAllocs, streamAllocs float64
	expfmtBytes, streamBytes   float64
}

// measure runs f for about d and returns ns, allocations and bytes
// allocated per call.
func measure(f func(), d time.Duration) (ns, allocs, bytes float64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start, n := time.Now(), 0
	for time.Since(start) < d || n < 2 {
		f()
		n++
	}
	el := time.Since(start)
	runtime.ReadMemStats(&after)
	return float64(el.Nanoseconds()) / float64(n), float64(after.Mallocs-before.Mallocs) / float64(n),
		float64(after.TotalAlloc-before.TotalAlloc) / float64(n)
}

// BenchmarkTextParseRatios interleaves the current path (Parse: expfmt's
// MetricFamily tree) and TextParser on one 10,000-sample exposition in one
// process, 5 rounds, best of each, and reports the ratios per sample.
func BenchmarkTextParseRatios(b *testing.B) {
	textRatios.once.Do(func() {
		body := benchExposition(200, 50)
		p, r := NewTextParser(nil, model.LegacyValidation), bytes.NewReader(nil)
		old := func() { parseExpfmt(b, body) }
		stream := func() { parseStream(b, p, r, body) }
		stream() // the families' storage, once per parser
		x := &textRatios
		x.expfmtNs, x.streamNs = math.Inf(1), math.Inf(1)
		for range 5 {
			ns, a, by := measure(old, 300*time.Millisecond)
			x.expfmtNs, x.expfmtAllocs, x.expfmtBytes = min(x.expfmtNs, ns), a, by
			ns, a, by = measure(stream, 300*time.Millisecond)
			x.streamNs, x.streamAllocs, x.streamBytes = min(x.streamNs, ns), a, by
		}
	})
	for b.Loop() {
	}
	x := &textRatios
	b.ReportMetric(x.expfmtNs/x.streamNs, "x_faster_than_expfmt")
	b.ReportMetric(x.streamNs/benchSamples, "stream_ns/sample")
	b.ReportMetric(x.expfmtNs/benchSamples, "expfmt_ns/sample")
	b.ReportMetric(x.streamAllocs/benchSamples, "stream_allocs/sample")
	b.ReportMetric(x.expfmtAllocs/benchSamples, "expfmt_allocs/sample")
	b.ReportMetric(x.streamBytes/benchSamples, "stream_B/sample")
	b.ReportMetric(x.expfmtBytes/benchSamples, "expfmt_B/sample")
}
