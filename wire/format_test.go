package wire

import "testing"

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
