package wire

import (
	"math"
	"testing"
)

func TestSeriesString(t *testing.T) {
	for _, tc := range []struct {
		ls   []Label
		want string
	}{
		{[]Label{{"__name__", "up"}, {"job", "a"}, {"instance", `x"y`}}, `up{job="a",instance="x\"y"}`},
		{[]Label{{"job", "a"}}, `{job="a"}`},
		{[]Label{{"__name__", "up"}, {"__name__", "down"}}, `up{__name__="down"}`},
		{nil, `{}`},
	} {
		if got := SeriesString(tc.ls); got != tc.want {
			t.Errorf("SeriesString(%v) = %s, want %s", tc.ls, got, tc.want)
		}
	}
}

func TestMetricName(t *testing.T) {
	for _, tc := range []struct {
		ls   []Label
		name string
		ok   bool
	}{
		{[]Label{{"__name__", "up"}, {"job", "a"}}, "up", true},
		{[]Label{{"job", "a"}, {"__name__", "up"}, {"__name__", "down"}}, "up", true},
		{[]Label{{"__name__", ""}}, "", true},
		{[]Label{{"job", "a"}}, "", false},
		{nil, "", false},
	} {
		if name, ok := MetricName(tc.ls); name != tc.name || ok != tc.ok {
			t.Errorf("MetricName(%v) = %q, %v; want %q, %v", tc.ls, name, ok, tc.name, tc.ok)
		}
	}
}

func TestIsStaleNaN(t *testing.T) {
	if !IsStaleNaN(math.Float64frombits(StaleNaN)) {
		t.Error("IsStaleNaN(StaleNaN) = false")
	}
	for _, v := range []float64{math.NaN(), 0, math.Inf(1)} {
		if IsStaleNaN(v) {
			t.Errorf("IsStaleNaN(%v) = true", v)
		}
	}
}
