// Package expo renders the exposition of the agents benchmark
// (bench/cmd/agents) so that in-process benchmarks scrape the very same
// bytes.
package expo

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
)

// The benchmark's exposition: the shape of issue 18's measurement, 200
// metric names with 4 labels each (plus the agents' own job and
// instance), n/200 series per name, about 85 bytes of Prometheus text per
// series. The same n always renders the same bytes.

// MetricNames is how many metric names an exposition has.
const MetricNames = 200

var (
	benchMethods = []string{"GET", "POST", "PUT", "DELETE", "PATCH"}
	benchCodes   = []string{"200", "201", "204", "400", "404", "429", "500", "503"}
)

// Variant changes some series of an exposition: the second writer of the
// collide measurement shares the first half of the metric names' series
// with the first writer and has series of its own under the other half.
type Variant int

const (
	WriterA Variant = iota
	WriterB
)

// Render writes n series (n rounded up to a multiple of
// MetricNames) in the Prometheus text format and returns how many it wrote.
// Series k of a name has labels method, code and route from k's low digits
// in a mixed radix (5, 8, 50) and pod from the rest, so no two series of a
// name share their labels.
func Render(w io.Writer, n int, v Variant) (int, error) {
	per := (n + MetricNames - 1) / MetricNames
	bw := bufio.NewWriterSize(w, 1<<16)
	var line []byte
	for i := range MetricNames {
		name := fmt.Sprintf("bench_metric_%03d", i)
		typ := "gauge"
		if i%2 == 0 {
			name += "_total"
			typ = "counter"
		}
		fmt.Fprintf(bw, "# HELP %s Generated series of the agents benchmark.\n# TYPE %s %s\n", name, name, typ)
		podPrefix := "pod-"
		if v == WriterB && i >= MetricNames/2 {
			podPrefix = "pod-b-"
		}
		for k := range per {
			line = append(line[:0], name...)
			line = append(line, `{code="`...)
			line = append(line, benchCodes[(k/5)%len(benchCodes)]...)
			line = append(line, `",method="`...)
			line = append(line, benchMethods[k%len(benchMethods)]...)
			line = append(line, `",pod="`...)
			line = append(line, podPrefix...)
			line = strconv.AppendInt(line, int64(k/2000), 10)
			line = append(line, `",route="/api/v1/route-`...)
			line = strconv.AppendInt(line, int64((k/40)%50), 10)
			line = append(line, `"} `...)
			line = strconv.AppendInt(line, int64((i*7919+k*31)%100000), 10)
			line = append(line, ".5\n"...)
			if _, err := bw.Write(line); err != nil {
				return 0, err
			}
		}
	}
	return per * MetricNames, bw.Flush()
}
