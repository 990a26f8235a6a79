package main

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/rwkit/rwkit/bench/expo"
)

// The benchmark's exposition is bench/expo's, which in-process
// benchmarks (agent/stream) render too.

const metricNames = expo.MetricNames

type variant = expo.Variant

const (
	writerA = expo.WriterA
	writerB = expo.WriterB
)

func renderExposition(w io.Writer, n int, v variant) (int, error) { return expo.Render(w, n, v) }

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
