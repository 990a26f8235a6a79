package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
)

// The benchmark's exposition: the shape of issue 18's measurement, 200
// metric names with 4 labels each (plus the agents' own job and
// instance), n/200 series per name, about 85 bytes of Prometheus text per
// series. The same n always renders the same bytes.

// metricNames is how many metric names an exposition has.
const metricNames = 200

var (
	benchMethods = []string{"GET", "POST", "PUT", "DELETE", "PATCH"}
	benchCodes   = []string{"200", "201", "204", "400", "404", "429", "500", "503"}
)

// variant changes some series of an exposition: the second writer of the
// collide measurement shares the first half of the metric names' series
// with the first writer and has series of its own under the other half.
type variant int

const (
	writerA variant = iota
	writerB
)

// renderExposition writes n series (n rounded up to a multiple of
// metricNames) in the Prometheus text format and returns how many it wrote.
// Series k of a name has labels method, code and route from k's low digits
// in a mixed radix (5, 8, 50) and pod from the rest, so no two series of a
// name share their labels.
func renderExposition(w io.Writer, n int, v variant) (int, error) {
	per := (n + metricNames - 1) / metricNames
	bw := bufio.NewWriterSize(w, 1<<16)
	var line []byte
	for i := range metricNames {
		name := fmt.Sprintf("bench_metric_%03d", i)
		typ := "gauge"
		if i%2 == 0 {
			name += "_total"
			typ = "counter"
		}
		fmt.Fprintf(bw, "# HELP %s Generated series of the agents benchmark.\n# TYPE %s %s\n", name, name, typ)
		podPrefix := "pod-"
		if v == writerB && i >= metricNames/2 {
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
	return per * metricNames, bw.Flush()
}

// exposition renders n series into memory.
func exposition(n int) ([]byte, int) {
	var buf bytes.Buffer
	got, _ := renderExposition(&buf, n, writerA) // a bytes.Buffer does not fail
	return buf.Bytes(), got
}

// seriesForBytes is about how many series make an exposition of size
// bytes, from the size of a rendered sample.
func seriesForBytes(size int64) int {
	const sample = 10000
	body, n := exposition(sample)
	per := float64(len(body)) / float64(n)
	return int(float64(size)/per) / metricNames * metricNames
}

// writeExposition renders n series of variant v into the file path and
// returns its size.
func writeExposition(path string, n int, v variant) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	if _, err := renderExposition(f, n, v); err != nil {
		f.Close()
		return 0, fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}
