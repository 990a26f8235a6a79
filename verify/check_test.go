package verify

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCheck(t *testing.T) {
	six := &Result{Type: TypeVector}
	for _, s := range []string{"auth", "actor", "document", "notification", "audit", "bff"} {
		six.Samples = append(six.Samples, Sample{Labels: map[string]string{"service": s, "instance": s + "-1"}, Value: 1})
	}
	collided := &Result{Type: TypeVector, Samples: []Sample{
		{Labels: map[string]string{"__name__": "jvm_threads_live_threads"}, Value: 21},
		{Labels: map[string]string{"__name__": "jvm_threads_live_threads", "service": "auth", "instance": ""}, Value: 14},
	}}
	for _, tc := range []struct {
		name string
		res  *Result
		exps []Expectation
		want []Outcome
	}{
		{"six services pass", six,
			[]Expectation{ExpectSeries(6), ExpectMin(1), ExpectLabel("service"), ExpectDistinct("service", 6)},
			[]Outcome{
				{"series = 6", true, "6 series"},
				{"series >= 1", true, "6 series"},
				{"every series has service", true, "6 series, all with service"},
				{"distinct service = 6", true, "6 values: actor, audit, auth, bff, document, notification"},
			}},
		{"six services, seven expected", six,
			[]Expectation{ExpectDistinct("service", 7), ExpectSeries(7), ExpectMin(7)},
			[]Outcome{
				{"distinct service = 7", false, "6 values: actor, audit, auth, bff, document, notification"},
				{"series = 7", false, "6 series"},
				{"series >= 7", false, "6 series"},
			}},
		{"missing labels named", collided,
			[]Expectation{ExpectLabel("service"), ExpectLabel("instance"), ExpectDistinct("instance", 1)},
			[]Outcome{
				{"every series has service", false, "1 of 2 series without service: jvm_threads_live_threads"},
				{"every series has instance", false, `2 of 2 series without instance: jvm_threads_live_threads, jvm_threads_live_threads{instance="", service="auth"}`},
				{"distinct instance = 1", false, "0 values"},
			}},
		{"empty result", nil,
			[]Expectation{ExpectSeries(0), ExpectLabel("service"), ExpectMin(1)},
			[]Outcome{
				{"series = 0", true, "0 series"},
				{"every series has service", true, "0 series, all with service"},
				{"series >= 1", false, "0 series"},
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Check(tc.res, tc.exps)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Check (-want +got):\n%s", diff)
			}
			wantPass := true
			for _, o := range tc.want {
				wantPass = wantPass && o.Pass
			}
			if Passed(got) != wantPass {
				t.Errorf("Passed = %v, want %v", Passed(got), wantPass)
			}
		})
	}
}

func TestCheckListsAtMostTen(t *testing.T) {
	r := &Result{}
	for i := 0; i < 12; i++ {
		r.Samples = append(r.Samples, Sample{Labels: map[string]string{"pod": string(rune('a' + i))}})
	}
	got := Check(r, []Expectation{ExpectDistinct("pod", 12)})[0].Got
	if want := "12 values: a, b, c, d, e, f, g, h, i, j, ... (2 more)"; got != want {
		t.Errorf("Got = %q, want %q", got, want)
	}
}
