package wire

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLabelMap(t *testing.T) {
	for _, tc := range []struct {
		name string
		ls   []Label
		want map[string]string
	}{
		{"none", nil, map[string]string{}},
		{"distinct", []Label{{"__name__", "up"}, {"job", "j"}}, map[string]string{"__name__": "up", "job": "j"}},
		{"repeated name: the last wins", []Label{{"job", "a"}, {"job", "b"}}, map[string]string{"job": "b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, LabelMap(tc.ls)); diff != "" {
				t.Errorf("LabelMap(%v) (-want +got):\n%s", tc.ls, diff)
			}
		})
	}
}
